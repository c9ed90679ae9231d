"""NumPy's reduction and conversion methods on Array (x.sum(axis=, dtype=, keepdims=),
x.var(ddof=), x.astype(np.float64), ...) against NumPy's own, result dtypes included;
the x ** 2 fast path; NumPy's loop dtypes for ufuncs of mixed kinds."""
import numpy as np
import pytest

import vkdispatch.array_api as xp

A = np.random.default_rng(11).uniform(-2, 2, (3, 4, 5)).astype(np.float32)
I = np.arange(-6, 54, dtype=np.int32).reshape(3, 4, 5)


def _f64(backend):
    if not xp.asarray(A).device.info.float64:
        pytest.skip("the device has no float64")


def _same(got, ref, rtol=1e-5, atol=1e-5):
    assert isinstance(got, xp.Array)
    got = np.asarray(got)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("axis", [None, 0, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_methods_match_numpy(backend, axis, keepdims):
    a = xp.asarray(A)
    for name in ("sum", "prod", "min", "max", "mean", "var", "std"):
        ref = getattr(A, name)(axis=axis, keepdims=keepdims)
        _same(getattr(a, name)(axis=axis, keepdims=keepdims), np.asarray(ref), rtol=1e-4)
    for name in ("any", "all"):
        ref = getattr(A > 0, name)(axis=axis, keepdims=keepdims)
        _same(getattr(a > 0, name)(axis=axis, keepdims=keepdims), np.asarray(ref))


def test_ddof_dtype_and_integer_data(backend):
    _f64(backend)
    a, i = xp.asarray(A), xp.asarray(I)
    _same(a.var(axis=1, ddof=1), A.var(axis=1, ddof=1), rtol=1e-4)
    _same(a.std(ddof=2), np.asarray(A.std(ddof=2)), rtol=1e-4)
    _same(a.sum(axis=0, dtype=np.float64), A.sum(axis=0, dtype=np.float64))
    _same(a.mean(axis=2, dtype="f8"), A.mean(axis=2, dtype="f8"))
    # integer data: sums in int64, averages in float64, as NumPy does
    _same(i.sum(axis=1), I.sum(axis=1))
    _same(i.prod(axis=2, keepdims=True), I.prod(axis=2, keepdims=True))
    _same(i.mean(axis=0), I.mean(axis=0))
    _same(i.var(axis=(1, 2)), I.var(axis=(1, 2)))
    _same(i.std(), np.asarray(I.std()))
    _same(i.min(axis=1), I.min(axis=1))
    _same(i.max(), np.asarray(I.max()))
    b = I % 3 == 0
    _same(xp.asarray(b).max(axis=0), b.max(axis=0))    # bool min/max: any/all
    _same(xp.asarray(b).min(axis=2), b.min(axis=2))
    _same(xp.asarray(b).sum(axis=1), b.sum(axis=1))


def test_astype_takes_numpy_dtypes(backend):
    _f64(backend)
    a = xp.asarray(A)
    _same(a.astype(np.float64), A.astype(np.float64))
    _same(a.astype("int32"), A.astype("int32"))
    assert a.astype(xp.float32, copy=False) is a
    with pytest.raises(TypeError, match="no vkdispatch equivalent"):
        a.astype("U4")


def test_methods_refuse_out_and_bad_arguments(backend):
    a = xp.asarray(A)
    out = xp.zeros((4, 5))
    for name in ("sum", "prod", "min", "max", "mean", "var", "std", "any", "all"):
        with pytest.raises(TypeError, match=rf"Array.{name}: out= must be None"):
            getattr(a, name)(axis=0, out=out)
    with pytest.raises(TypeError, match="ddof must be a number"):
        a.var(ddof="1")
    with pytest.raises(TypeError, match="dtype 'U4' has no vkdispatch equivalent"):
        a.sum(dtype="U4")
    with pytest.raises(TypeError, match="unexpected keyword"):
        a.sum(initial=1.0)


def test_square_needs_no_pow(backend):
    _f64(backend)
    d = xp.asarray(A.astype(np.float64))     # GLSL has pow for 32-bit floats only
    _same(d ** 2, A.astype(np.float64) ** 2)
    _same(d ** 2.0, A.astype(np.float64) ** 2.0)
    _same(xp.asarray(I) ** 2, I ** 2)
    _same(xp.asarray(A) ** 3, A ** 3, rtol=1e-5)


def test_ufuncs_of_mixed_kinds_run_numpys_loop(backend):
    _f64(backend)
    a, n = xp.asarray(A), np.arange(1, 6, dtype=np.int64)
    _same(np.divide(a, n), np.divide(A, n))              # float32 / int64: float64
    _same(np.multiply(n, a), np.multiply(n, A))
    _same(np.add(xp.asarray(I), 1.5), np.add(I, 1.5))   # int32 + weak float: float64
    _same(np.sqrt(xp.asarray(abs(I))), np.sqrt(abs(I)))   # of ints: float64
    _same(np.multiply(a, np.float32(2)), A * np.float32(2))   # stays float32
    _same(np.less(a, n), np.less(A, n))
