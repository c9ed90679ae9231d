"""unique_values, unique_counts, unique_inverse and unique_all against NumPy's on every
backend: duplicates, NaNs (each its own value), signed zeros (one value), integers,
bools, 0-d, empty, views and pending inputs, a long input, and bad arguments."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

RNG = np.random.default_rng(3)
DATA = {
    "floats with NaNs and signed zeros": np.array([[3., 1., np.nan, 1.], [-0., 0., 7., np.nan]],
                                                  np.float32),
    "int32 with many repeats": RNG.integers(-5, 6, size=(7, 9)).astype(np.int32),
    "uint8": RNG.integers(0, 4, size=40).astype(np.uint8),
    "bool": np.array([True, False, True, True]),
    "0-d": np.float32(2.5),
    "complex64": np.array([1 + 2j, 1 - 2j, 1 + 2j, -3j, 0j, -0j, 1 - 2j], np.complex64),
    "empty": np.zeros((0, 3), np.float32),
    "long": RNG.integers(0, 3000, size=20000).astype(np.int32),
}


def _same(got, want):
    got = np.asarray(got)
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)


def _numpy_unique(data):
    """NumPy's sorted unique values (NaNs each their own, as the standard says), first
    indices, inverse in the input's shape, and counts."""
    values, indices, inverse, counts = np.unique(data, return_index=True,
                                                 return_inverse=True, return_counts=True,
                                                 equal_nan=False)
    return values, indices, inverse.reshape(np.shape(data)), counts


@pytest.mark.parametrize("case", DATA)
def test_unique_all_matches_numpy(backend, case):
    """(The standard leaves the values' order open; vkdispatch's are sorted.)"""
    data = DATA[case]
    x = xp.asarray(data)
    want = _numpy_unique(data)
    got = xp.unique_all(x)
    for field, expected in zip(("values", "indices", "inverse_indices", "counts"), want):
        _same(getattr(got, field), expected)
    _same(xp.unique_values(x), want[0])
    values, counts = xp.unique_counts(x)
    _same(values, want[0])
    _same(counts, want[3])
    values, inverse = xp.unique_inverse(x)
    _same(inverse, want[2])
    assert got.indices.dtype == got.counts.dtype == got.inverse_indices.dtype


def test_views_and_pending_inputs(backend):
    data = RNG.integers(0, 5, size=(6, 8)).astype(np.float32)
    x = xp.asarray(data)
    _same(xp.unique_values(x[1:, ::3]), _numpy_unique(data[1:, ::3])[0])
    _same(xp.unique_inverse(x * 2 - 1).inverse_indices, _numpy_unique(data * 2 - 1)[2])


def test_bad_arguments(backend):
    with pytest.raises(TypeError, match="unique_values takes an array"):
        xp.unique_values([1, 2])


def test_a_repeated_call_compiles_nothing(backend):
    x = xp.asarray(DATA["int32 with many repeats"])
    np.asarray(xp.unique_all(x).inverse_indices)
    before = vd.stats()
    for _ in range(2):
        np.asarray(xp.unique_all(x).counts)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta


def test_unique_values_reads_back_only_its_count(backend):
    """The sort's order and the groups' starts are in range by construction: taking
    through them reads nothing back (no min/max check); the one sync is the count."""
    a = np.array([5, -2, 5, 7, -2, 0, 9, 9, 9, 1], np.int32)
    x = xp.asarray(a)
    np.asarray(xp.unique_values(x))
    before = vd.stats()
    u = xp.unique_values(x)
    spent = vd.stats() - before
    assert spent.submits == 1 and spent.bytes_from_device <= 8, spent
    np.testing.assert_array_equal(np.asarray(u), np.unique(a))
