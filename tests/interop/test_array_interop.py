"""vkdispatch.array_api Arrays with DLPack, NumPy's dispatch protocols and producers, on
every backend here."""
import gc
import weakref

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.interop import _capsule


class HostProducer:
    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kw):
        return self.array.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


@pytest.fixture
def data():
    return np.arange(12, dtype=np.float32).reshape(3, 4)


def test_numpy_reads_arrays_and_their_views(backend, data):
    x = xp.asarray(data)
    for arr, ref in ((x, data), (x.T, data.T), (x[1:, ::2], data[1:, ::2]),
                     (xp.flip(x, axis=1), data[:, ::-1]), (x * 2 + 1, data * 2 + 1)):
        for out in (np.from_dlpack(arr, device="cpu"), np.from_dlpack(arr, device="cpu", copy=True)):
            np.testing.assert_array_equal(out, ref)
    assert x.__dlpack_device__() == vd.asbuffer(data).__dlpack_device__()
    assert 'dltensor_versioned' in repr(x.__dlpack__(max_version=(1, 0), dl_device=(1, 0)))


def test_from_dlpack_and_asarray_of_producers(backend, data):
    for src in (data, HostProducer(data)):
        y = xp.from_dlpack(src)
        assert isinstance(y, xp.Array) and y.dtype == xp.float32
        np.testing.assert_array_equal(np.asarray(y), data)
    z = xp.asarray(HostProducer(data), dtype=xp.float64)
    assert z.dtype == xp.float64
    np.testing.assert_array_equal(np.asarray(z), data)
    with pytest.raises(BufferError, match="copy=False"):
        xp.from_dlpack(data, copy=False)
    with pytest.raises(TypeError, match="DLPack producer"):
        xp.from_dlpack([1, 2])


def test_from_dlpack_of_this_context_shares(backend, data):
    x = xp.asarray(data)
    assert xp.from_dlpack(x) is x
    assert xp.from_dlpack(x, copy=True) is not x
    buf = vd.asbuffer(np.zeros(4, np.float32))
    view = xp.from_dlpack(buf)
    buf.write(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(view), np.arange(4))
    also = xp.asarray(vd.from_dlpack(buf))      # a Buffer view of the same memory
    np.testing.assert_array_equal(np.asarray(also), np.arange(4))


def test_ufuncs_run_on_the_device(backend, data):
    x = xp.asarray(data)
    for fn, ref in ((np.sin(x), np.sin(data)), (np.add(x, np.ones(4, np.float32)), data + 1),
                    (np.multiply(x, np.float32(2)), data * 2), (np.arctan2(x, x + 1),
                                                                np.arctan2(data, data + 1)),
                    (np.power(x, 2), data ** 2), (np.ones(4, np.float32) + x, data + 1),
                    (np.matmul(x, x.T), data @ data.T)):
        assert isinstance(fn, xp.Array)
        np.testing.assert_allclose(np.asarray(fn), ref, rtol=1e-5)
    out = xp.zeros((3, 4), dtype=xp.float32)
    assert np.negative(x, out=out) is out
    np.testing.assert_array_equal(np.asarray(out), -data)


def test_numpy_functions_run_on_the_device(backend, data):
    x = xp.asarray(data)
    y = xp.asarray(data + 100)
    cases = [
        (np.concatenate([x, y]), np.concatenate([data, data + 100])),
        (np.concatenate([x, data], axis=1), np.concatenate([data, data], axis=1)),
        (np.stack([x, y]), np.stack([data, data + 100])),
        (np.reshape(x, (4, 3)), data.reshape(4, 3)),
        (np.transpose(x), data.T),
        (np.where(x > 5, x, y), np.where(data > 5, data, data + 100)),
        (np.clip(x, 2, 7), np.clip(data, 2, 7)),
        (np.zeros_like(x), np.zeros_like(data)),
        (np.expand_dims(x, 0), data[None]),
    ]
    for got, ref in cases:
        assert isinstance(got, xp.Array)
        np.testing.assert_array_equal(np.asarray(got), ref)
    np.testing.assert_allclose(np.asarray(np.sum(x, axis=0)), data.sum(axis=0))


# NumPy's signatures where the standard's differ: positional axis, ddof, axis=None as
# "flatten" or "every length-1 axis", dtype given as a NumPy type
NUMPY_CONVENTIONS = {
    "squeeze": lambda np_, a: np_.squeeze(a),
    "var ddof": lambda np_, a: np_.var(a, ddof=1),
    "var axis ddof": lambda np_, a: np_.var(a, 2, ddof=1),
    "std correction": lambda np_, a: np_.std(a, correction=1),
    "sum keepdims": lambda np_, a: np_.sum(a, 1, keepdims=True),
    "amax": lambda np_, a: np_.amax(a, 2),
    "cumsum flat": lambda np_, a: np_.cumsum(a),
    "cumsum axis": lambda np_, a: np_.cumsum(a, 2),
    "cumprod": lambda np_, a: np_.cumprod(a[0, 0]),
    "argmax axis": lambda np_, a: np_.argmax(a, 2),
    "argmin flat": lambda np_, a: np_.argmin(a),
    "dot matrices": lambda np_, a: np_.dot(a[0], a[0].T),
    "dot vectors": lambda np_, a: np_.dot(a[0, 0], a[0, 1]),
    "dot n-d": lambda np_, a: np_.dot(a, np.ones((2, 4, 5), np.float32)),
    "flip axis": lambda np_, a: np_.flip(a, 2),
    "roll axis": lambda np_, a: np_.roll(a, 1, 2),
    "repeat flat": lambda np_, a: np_.repeat(a, 2),
    "diff": lambda np_, a: np_.diff(a, 1, 1),
    "tril": lambda np_, a: np_.tril(a[0], 1),
    "count_nonzero": lambda np_, a: np_.count_nonzero(a, 2),
    "zeros_like dtype": lambda np_, a: np_.zeros_like(a, np.int32),
    "full_like shape": lambda np_, a: np_.full_like(a, 3.0, shape=(2, 2)),
    "concatenate flat": lambda np_, a: np_.concatenate([a, a], axis=None),
    "stack dtype": lambda np_, a: np_.stack([a.astype(np.int16)] * 2, 1, dtype=np.int32),
    "clip keywords": lambda np_, a: np_.clip(a, min=2, max=7),
    "where": lambda np_, a: np_.where(a > 3, a, 0),
    "cumulative_sum": lambda np_, a: np_.cumulative_sum(a, axis=2),
    "matrix_transpose": lambda np_, a: np_.matrix_transpose(a),
    "permute_dims": lambda np_, a: np_.permute_dims(a, (2, 0, 1)),
    "sort axis": lambda np_, a: np_.sort(-a, 1),
    "sort flat": lambda np_, a: np_.sort(-a, axis=None),
    "argsort kind": lambda np_, a: np_.argsort(-a, kind="stable"),
    "take flat": lambda np_, a: np_.take(a, [0, 5, 11]),
    "take axis": lambda np_, a: np_.take(a, np.array([3, 0]), 2),
    "take_along_axis": lambda np_, a: np_.take_along_axis(a, np_.argsort(-a, 2), 2),
    "nonzero": lambda np_, a: np_.nonzero(a > 5)[1],
    "where one argument": lambda np_, a: np_.where(a > 5)[2],
    "searchsorted": lambda np_, a: np_.searchsorted(a[0, 0], a[0, 1], "right"),
    "fft.fft": lambda np_, a: np_.fft.fft(a, 6, 1, "ortho"),
    "fft.rfft2": lambda np_, a: np_.fft.rfft2(a),
    "fft.irfftn": lambda np_, a: np_.fft.irfftn(a, axes=(2,)),
    "fft.fftshift": lambda np_, a: np_.fft.fftshift(a),
}


@pytest.mark.parametrize("case", NUMPY_CONVENTIONS)
def test_numpy_functions_take_numpy_conventions(backend, case):
    data = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)
    call = NUMPY_CONVENTIONS[case]
    got, want = call(np, xp.asarray(data)), call(np, data)
    assert isinstance(got, xp.Array)
    assert got.shape == np.shape(want) and got.dtype.numpy_dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


def test_numpy_only_options_name_themselves(backend, data):
    x = xp.asarray(data)
    with pytest.raises(TypeError, match="numpy.sum on vkdispatch arrays takes no where="):
        np.sum(x, where=data > 2)
    with pytest.raises(TypeError, match="numpy.min on vkdispatch arrays takes no initial="):
        np.min(x, initial=0.0)
    with pytest.raises(TypeError, match="order='C' only"):
        np.reshape(x, (12,), order="F")
    with pytest.raises(TypeError, match="numpy.cumsum on vkdispatch arrays takes no out="):
        np.cumsum(x, out=x)
    with pytest.raises(TypeError, match="numpy.stack: cannot cast float32 to int32"):
        np.stack([x, x], dtype=np.int32)
    with pytest.raises(TypeError, match="numpy.var: give ddof or correction, not both"):
        np.var(x, ddof=1, correction=1)


def test_numpy_without_a_device_implementation_raises(backend, data):
    x = xp.asarray(data)
    with pytest.raises(TypeError, match="numpy.exp2 has no vkdispatch device"):
        np.exp2(x)
    with pytest.raises(TypeError, match="numpy.add.reduce has no vkdispatch device"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match="numpy.median has no vkdispatch device"):
        np.median(x)
    with pytest.raises(TypeError, match="numpy.fftfreq has no|numpy.polyval has no"):
        np.polyval(x, x)
    with pytest.raises(TypeError, match=r"takes no \['where'\]"):
        np.sin(x, where=np.ones((3, 4), bool))


def test_array_exchanges_release_everything(backend, data):
    gc.collect()
    base = _capsule.live_count()
    x = xp.asarray(data)
    held = [np.from_dlpack(x, device="cpu") for _ in range(100)]
    for _ in range(200):
        x.__dlpack__(max_version=(1, 0), dl_device=(1, 0))
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None
    np.testing.assert_array_equal(held[0], data)
    del held
    gc.collect()
    assert _capsule.live_count() == base
