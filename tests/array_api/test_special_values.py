"""Special values (signed zeros, infinities, NaNs) of the elementwise functions against
NumPy, bit-exact in what the Array API standard (2024.12) specifies; where NumPy
differs from the standard, the standard's value is the one checked (said at the case)."""
import warnings

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

INF, NAN = np.inf, np.nan
REAL_VALUES = [0.0, -0.0, 1.5, -1.5, 4.0, -4.0, 2.0, -2.0, 0.5, INF, -INF, NAN]
PART_VALUES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 30.0, -30.0, INF, -INF, NAN]


def _needs(dtype):
    if np.dtype(dtype) in (np.float64, np.complex128) and not vd.get_context().device.float64:
        pytest.skip("no float64 on this device")


def _same(got, want, rtol):
    """Equal as the standard asks: NaN where NaN, infinities and zeros with their sign,
    finite values within rtol."""
    if np.isnan(want):
        return bool(np.isnan(got))
    if np.isinf(want) or want == 0:
        return bool(got == want and np.signbit(got) == np.signbit(want))
    return bool(abs(got - want) <= rtol * abs(want))


def _pairs(dtype, reference):
    """(x1, x2, reference(x1, x2)): every pair of REAL_VALUES (NumPy's warnings off)."""
    n = len(REAL_VALUES)
    x1 = np.repeat(REAL_VALUES, n).astype(dtype)
    x2 = np.tile(REAL_VALUES, n).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x1, x2, reference(x1, x2)


def _assert_same(x1, x2, got, want, rtol):
    bad = [(a, b, g, w) for a, b, g, w in zip(x1, x2, got, want) if not _same(g, w, rtol)]
    assert not bad, bad


def _grid(dtype):
    """Every (real, imaginary) pair of PART_VALUES, parts set exactly."""
    n = len(PART_VALUES)
    z = np.empty(n * n, dtype)
    z.real = np.repeat(PART_VALUES, n)
    z.imag = np.tile(PART_VALUES, n)
    return z


# ----------------------------------------------------------------------------- real

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_remainder_special_values(backend, dtype):
    # Python's %: x1 % ±inf is x1 (same signs) or x2; a zero result has x2's sign
    _needs(dtype)
    a, b, want = _pairs(dtype, np.remainder)
    for got in (xp.remainder(xp.asarray(a), xp.asarray(b)), xp.asarray(a) % xp.asarray(b)):
        _assert_same(a, b, np.asarray(got), want, 0)
    x = xp.asarray(a)
    x %= xp.asarray(b)
    _assert_same(a, b, np.asarray(x), want, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_signbit_of_negative_nan(backend, dtype):
    _needs(dtype)
    bits = np.uint64 if dtype is np.float64 else np.uint32
    top = bits(1) << bits(63 if dtype is np.float64 else 31)
    v = np.array([NAN, NAN, 0.0, -0.0, INF, -INF, 1.0, -1.0], dtype)
    raw = v.view(bits)
    raw[1] |= top                       # -NaN: NaN with the sign bit set
    np.testing.assert_array_equal(np.asarray(xp.signbit(xp.asarray(v))), np.signbit(v))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_of_zero_is_plus_zero(backend, dtype):
    _needs(dtype)
    v = np.array([0.0, -0.0, 2.0, -2.0, INF, -INF, NAN], dtype)
    got = np.asarray(xp.sign(xp.asarray(v)))
    assert all(_same(g, w, 0) for g, w in zip(got, np.sign(v))), got   # NumPy: +0


SMALL_VALUES = [0.0, -0.0, 1e-30, -1e-30, 3e-6, -3e-6, 0.01, -0.01, 0.3, -0.3, 0.7, -0.7,
                2.5, -2.5, 30.0, -30.0, INF, -INF, NAN]
NUMPY_NAMES = {"asinh": np.arcsinh, "atanh": np.arctanh, "atan": np.arctan}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sinh", "tanh", "asinh", "atanh", "atan"])
def test_odd_functions_keep_small_arguments(backend, name, dtype):
    # lavapipe's float32 sinh(1e-30) was 3e-8 and sinh(-0) +0; its atan(NaN) was 0
    _needs(dtype)
    v = np.array(SMALL_VALUES, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = NUMPY_NAMES.get(name, getattr(np, name, None))(v)
    got = np.asarray(getattr(xp, name)(xp.asarray(v)))
    rtol = 3e-5 if dtype is np.float32 else 1e-14    # lavapipe's float32 atan: 2e-5
    bad = [(x, g, w) for x, g, w in zip(v, got, want) if not _same(g, w, rtol)]
    assert not bad, bad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_atan2_special_values(backend, dtype):
    # C's atan2 at zeros, infinities and NaNs (GLSL leaves atan(y, x) open there)
    _needs(dtype)
    y, x, want = _pairs(dtype, np.arctan2)
    got = np.asarray(xp.atan2(xp.asarray(y), xp.asarray(x)))
    _assert_same(y, x, got, want, 3e-5 if dtype is np.float32 else 1e-14)


# ----------------------------------------------------------------------------- complex

def _parts(z):
    return z.real, z.imag


def _np_tanh(z):
    # the standard: tanh(±inf + yj) = ±1 + 0j for finite y, the zero with y's sign
    # (conj symmetry); NumPy gives the zero sin(2y)'s sign
    out = np.tanh(z)
    x, y = _parts(z)
    fix = np.isinf(x) & np.isfinite(y)
    out.imag = np.where(fix, np.copysign(0.0, y), out.imag)
    return out


def _times_i(z):          # i z with the parts moved, so signed zeros stay exact
    out = np.empty_like(z)
    out.real, out.imag = -z.imag, z.real
    return out


def _times_minus_i(z):    # -i z
    out = np.empty_like(z)
    out.real, out.imag = z.imag, -z.real
    return out


def _np_expm1(z):
    # NumPy's complex expm1 gives NaN parts at infinities; the standard's values are
    # exp's minus 1 (the imaginary part, zeros included, as exp's)
    e = np.exp(z)
    out = np.empty_like(z)
    out.real, out.imag = e.real - 1, e.imag
    return out


def _free(cond_re, cond_im):
    return lambda x, y: (cond_re(x, y), cond_im(x, y))


def _never(x, y):
    return np.zeros(np.shape(x), bool)


def _wild(v):
    return ~np.isfinite(v)


# function -> (reference, where the standard leaves the sign of (real, imaginary) open)
COMPLEX = {
    "exp": (np.exp, _free(lambda x, y: np.isinf(x) & _wild(y),
                          lambda x, y: (x == -INF) & _wild(y))),
    "expm1": (_np_expm1, _free(lambda x, y: (x == INF) & _wild(y),
                               lambda x, y: (x == -INF) & _wild(y))),
    "sinh": (np.sinh, _free(lambda x, y: ((x == 0) | np.isinf(x)) & _wild(y), _never)),
    "cosh": (np.cosh, _free(lambda x, y: np.isinf(x) & np.isinf(y),
                            lambda x, y: ((x == 0) & _wild(y)) | (np.isnan(x) & (y == 0)))),
    "tanh": (_np_tanh, _free(_never, lambda x, y: np.isinf(x) & _wild(y))),
    "sin": (np.sin, _free(_never, lambda x, y: ((y == 0) | np.isinf(y)) & _wild(x))),
    "cos": (np.cos, _free(lambda x, y: np.isinf(x) & np.isinf(y),
                          lambda x, y: ((y == 0) & _wild(x)) | (np.isnan(y) & (x == 0)))),
    "tan": (lambda z: _times_minus_i(_np_tanh(_times_i(z))),
            _free(lambda x, y: np.isinf(y) & _wild(x), _never)),
    "asinh": (np.arcsinh, _free(lambda x, y: np.isnan(x) & np.isinf(y), _never)),
    "acosh": (np.arccosh, _free(_never, lambda x, y: (x == 0) & np.isnan(y))),
    "atanh": (np.arctanh, _free(lambda x, y: np.isnan(x) & np.isinf(y), _never)),
    "asin": (np.arcsin, _free(_never, lambda x, y: np.isinf(x) & np.isnan(y))),
    "acos": (np.arccos, _free(_never, lambda x, y: np.isinf(x) & np.isnan(y))),
    "atan": (np.arctan, _free(_never, lambda x, y: np.isinf(x) & np.isnan(y))),
    "sqrt": (np.sqrt, _free(_never, lambda x, y: (x == -INF) & np.isnan(y))),
    "log": (np.log, _free(_never, _never)),
    "log1p": (np.log1p, _free(_never, _never)),
}


def _agree(got, want, free, rtol, atol):
    """As `_same`, but a zero may be off by atol when not exactly zero (the formulas'
    rounding), and a free sign compares magnitudes."""
    if free:
        got, want = abs(got), abs(want)
    if want == 0 and np.isfinite(got) and got != 0:
        return bool(abs(got) <= atol)
    if np.isfinite(want) and want != 0:
        return bool(abs(got - want) <= rtol * abs(want) + atol)
    return _same(got, want, rtol)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_special_values(backend, name, dtype):
    _needs(dtype)
    ref, free = COMPLEX[name]
    z = _grid(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = ref(z)
    got = np.asarray(getattr(xp, name)(xp.asarray(z)))
    free_re, free_im = free(z.real, z.imag)
    single = dtype is np.complex64
    rtol, atol = (2e-5, 2e-6) if single else (1e-12, 1e-14)
    bad = [(complex(v), complex(g), complex(w)) for v, g, w, fr, fi
           in zip(z, got, want, free_re, free_im)
           if not (_agree(g.real, w.real, fr, rtol, atol)
                   and _agree(g.imag, w.imag, fi, rtol, atol))]
    assert not bad, f"{name}: {len(bad)} of {len(z)} differ (z, got, want): {bad[:8]}"
