"""Reductions through vd.reduce, all/any and diff against NumPy."""
import numpy as np
import pytest

import vkdispatch.array_api as xp

A = np.random.default_rng(5).uniform(-2, 2, (3, 4, 5)).astype(np.float32)


@pytest.mark.parametrize("axis", [None, 0, (0, 2), -1])
def test_float_reductions(backend, axis):
    a = xp.asarray(A)
    for name, fn in (("sum", np.sum), ("max", np.max), ("min", np.min), ("mean", np.mean)):
        got = np.asarray(getattr(xp, name)(a, axis=axis))
        np.testing.assert_allclose(got, fn(A, axis=axis), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.var(a, axis=axis, correction=1)),
                               np.var(A, axis=axis, ddof=1), rtol=1e-4)


def test_keepdims_strided_pending_and_integer_sums(backend):
    a = xp.asarray(A)
    got = xp.sum(a.mT * 2, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(got), np.sum(np.swapaxes(A, -1, -2) * 2, axis=1,
                                                        keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.std(a)), np.std(A), rtol=1e-4)
    i = xp.asarray(np.arange(1, 7, dtype=np.int32))
    s = xp.sum(i)
    assert s.dtype == xp.__array_namespace_info__().default_dtypes()["integral"]
    assert int(s) == 21 and int(xp.prod(i)) == 720
    assert float(xp.sum(xp.zeros((0, 3)))) == 0.0
    with pytest.raises(ValueError, match="empty"):
        xp.max(xp.zeros((0,)))
    with pytest.raises(TypeError):
        xp.mean(i)


def test_all_any_diff(backend):
    a = xp.asarray(A)
    assert bool(xp.all(a > -3)) and not bool(xp.any(a > 3))
    np.testing.assert_array_equal(np.asarray(xp.any(a > 1.5, axis=1)), np.any(A > 1.5, axis=1))
    np.testing.assert_array_equal(np.asarray(xp.all(a > -1.5, axis=(0, 2))),
                                  np.all(A > -1.5, axis=(0, 2)))
    np.testing.assert_allclose(np.asarray(xp.diff(a, axis=1, n=2)), np.diff(A, axis=1, n=2),
                               rtol=1e-5, atol=1e-6)
    p = xp.asarray(A[:, :, :1])
    np.testing.assert_allclose(np.asarray(xp.diff(a, prepend=p)), np.diff(A, prepend=A[:, :, :1]),
                               rtol=1e-5, atol=1e-6)


def test_cumulative(backend):
    a = xp.asarray(A)
    np.testing.assert_allclose(np.asarray(xp.cumulative_sum(a, axis=1)), np.cumsum(A, axis=1),
                               rtol=1e-5, atol=1e-5)
    got = xp.cumulative_sum(a.mT, axis=-1, include_initial=True)
    want = np.cumsum(np.swapaxes(A, 1, 2), axis=-1)
    np.testing.assert_allclose(np.asarray(got)[..., 1:], want, rtol=1e-5, atol=1e-5)
    assert not np.asarray(got)[..., 0].any()
    i = xp.asarray(np.arange(1, 6, dtype=np.int32))
    np.testing.assert_array_equal(np.asarray(xp.cumulative_prod(i)), np.cumprod(np.arange(1, 6)))
    with pytest.raises(ValueError, match="axis"):
        xp.cumulative_sum(a)


@pytest.mark.parametrize("axis", [None, 1])
def test_searching(backend, axis):
    h = np.random.default_rng(1).integers(0, 4, (3, 4, 5)).astype(np.float32)
    h[0, 0, 0] = np.nan
    a = xp.asarray(h)
    np.testing.assert_array_equal(np.asarray(xp.argmax(a, axis=axis)), np.argmax(h, axis=axis))
    np.testing.assert_array_equal(np.asarray(xp.argmin(a, axis=axis)), np.argmin(h, axis=axis))
    np.testing.assert_array_equal(np.asarray(xp.count_nonzero(a, axis=axis)),
                                  np.count_nonzero(h, axis=axis))


def test_reduction_reads_its_elementwise_producer_in_one_pass(backend):
    import vkdispatch as vd
    b = np.random.default_rng(2).random(A.shape, dtype=np.float32)
    x, y = xp.asarray(A), xp.asarray(b)
    np.asarray(xp.sum(x * y))
    before = vd.stats()
    total = xp.sum(x * y)
    assert float(total) == pytest.approx(float(np.sum(A * b)), rel=1e-5)
    assert (vd.stats() - before).dispatches_recorded == 1     # no product in memory
    np.testing.assert_allclose(np.asarray(xp.sum(x[1:] * y[:-1] + 2, axis=1)),
                               np.sum(A[1:] * b[:-1] + 2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.sum(x.mT * 2, axis=0)),
                               np.sum(np.swapaxes(A, 1, 2) * 2, axis=0), rtol=1e-5)



def test_reduction_into_a_strided_place_reads_its_producer_through_the_map(backend):
    """A reduction given a strided place before the flush (the lazy layer may) records
    itself, not a prepared launch: its mapped inputs (an array, a scalar, a bool
    scalar) are read as in a prepared launch, the result lands in the place."""
    from vkdispatch.execution import lazy
    x, home = xp.asarray(A), xp.asarray(np.zeros(9, np.float32))
    sums = xp.sum(xp.where(xp.logical_and(x > 0, True), x * 2.0, 0.5), axis=(0, 2))
    lazy.assign_target(sums._node, lazy.View(home._placed().storage, 1, (2,)))
    want = np.sum(np.where(A > 0, A * 2, 0.5), axis=(0, 2))
    np.testing.assert_allclose(np.asarray(sums), want, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(home)[1::2], want, rtol=1e-5)


def test_float64_extremes(backend):
    """float64 min/max start from infinities the kernel writes as float64 constants (on
    Vulkan once a 64-bit hex literal that needed the int64 extension: no kernel)."""
    if "float64" not in xp.__array_namespace_info__().dtypes():
        pytest.skip("this device has no float64")
    h = np.array([3.0, -1.5, np.inf, 2.0, -np.inf, 1e300], np.float64)
    a = xp.asarray(h)
    assert float(xp.min(a)) == -np.inf and float(xp.max(a)) == np.inf
    assert int(xp.argmin(a[:4])) == 1 and int(xp.argmax(a[:4])) == 2
    assert np.isnan(float(xp.max(xp.asarray(np.array([1.0, np.nan, 2.0])))))
