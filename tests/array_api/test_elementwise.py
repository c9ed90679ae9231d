"""Every elementwise function against NumPy, table-driven (one kernel per function and
dtype; shapes and values vary freely since they are kernel arguments)."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

RNG = np.random.default_rng(7)
X = RNG.uniform(-3, 3, (3, 5)).astype(np.float32)
POS = RNG.uniform(0.1, 3, (3, 5)).astype(np.float32)
UNIT = RNG.uniform(-0.9, 0.9, (3, 5)).astype(np.float32)
Y = RNG.uniform(-3, 3, (5,)).astype(np.float32)    # broadcasts against X
I = RNG.integers(-20, 20, (4, 6)).astype(np.int32)
J = RNG.integers(1, 7, (6,)).astype(np.int32)
S = RNG.integers(0, 5, (6,)).astype(np.int32)

# name -> (numpy function, inputs)
UNARY_FLOAT = {
    "abs": (np.abs, X), "negative": (np.negative, X), "positive": (np.positive, X),
    "sqrt": (np.sqrt, POS), "exp": (np.exp, X), "expm1": (np.expm1, X), "log": (np.log, POS),
    "log1p": (np.log1p, POS), "log2": (np.log2, POS), "log10": (np.log10, POS),
    "sin": (np.sin, X), "cos": (np.cos, X), "tan": (np.tan, UNIT), "asin": (np.arcsin, UNIT),
    "acos": (np.arccos, UNIT), "atan": (np.arctan, X), "sinh": (np.sinh, X),
    "cosh": (np.cosh, X), "tanh": (np.tanh, X), "asinh": (np.arcsinh, X),
    "acosh": (np.arccosh, POS + 1), "atanh": (np.arctanh, UNIT), "ceil": (np.ceil, X),
    "floor": (np.floor, X), "trunc": (np.trunc, X), "round": (np.round, X * 2),
    "sign": (np.sign, X), "square": (np.square, X), "reciprocal": (np.reciprocal, POS),
    "signbit": (np.signbit, X), "isnan": (np.isnan, X), "isinf": (np.isinf, X),
    "isfinite": (np.isfinite, X),
}
BINARY_FLOAT = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "maximum": np.maximum, "minimum": np.minimum, "atan2": np.arctan2,
    "copysign": np.copysign, "hypot": np.hypot, "logaddexp": np.logaddexp,
    "floor_divide": np.floor_divide, "remainder": np.remainder, "equal": np.equal,
    "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
}
BINARY_INT = {
    "add": np.add, "multiply": np.multiply, "floor_divide": np.floor_divide,
    "remainder": np.remainder, "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor, "maximum": np.maximum,
}


def _close(got, want):
    assert got.dtype == want.dtype or (got.dtype, want.dtype) == (np.float32, np.float64)
    np.testing.assert_allclose(got, want.astype(got.dtype), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
def test_unary_float32(backend, name):
    fn, data = UNARY_FLOAT[name]
    _close(np.asarray(getattr(xp, name)(xp.asarray(data))), fn(data))


@pytest.mark.parametrize("name", sorted(BINARY_FLOAT))
def test_binary_float32_broadcast(backend, name):
    fn = BINARY_FLOAT[name]
    y = np.where(np.abs(Y) < 0.2, 0.5, Y).astype(np.float32)
    got = np.asarray(getattr(xp, name)(xp.asarray(X), xp.asarray(y)))
    _close(got, fn(X, y))


@pytest.mark.parametrize("name", sorted(BINARY_INT))
def test_binary_int32(backend, name):
    fn = BINARY_INT[name]
    np.testing.assert_array_equal(np.asarray(getattr(xp, name)(xp.asarray(I), xp.asarray(J))),
                                  fn(I, J))


def test_integer_specials(backend):
    i, s = xp.asarray(I), xp.asarray(S)
    np.testing.assert_array_equal(np.asarray(xp.bitwise_left_shift(i, s)), I << S)
    np.testing.assert_array_equal(np.asarray(xp.bitwise_right_shift(i, s)), I >> S)
    np.testing.assert_array_equal(np.asarray(xp.bitwise_invert(i)), ~I)
    np.testing.assert_array_equal(np.asarray(xp.abs(i)), np.abs(I))
    np.testing.assert_array_equal(np.asarray(xp.sign(i)), np.sign(I))
    np.testing.assert_array_equal(np.asarray(i // 0), np.zeros_like(I))
    np.testing.assert_array_equal(np.asarray(xp.pow(i, 2)), I ** 2)
    wide = xp.asarray(np.array([1, -1, 7, -7], dtype=np.int64))
    narrow = xp.asarray(np.array([-2, 2, -2, 0], dtype=np.int32))
    np.testing.assert_array_equal(np.asarray(wide // narrow), [-1, -1, -4, 0])
    np.testing.assert_array_equal(np.asarray(wide % narrow), [-1, 1, -1, 0])


def test_logical_functions(backend):
    a, b = X > 0, Y > 1
    xa, xb = xp.asarray(a), xp.asarray(b)
    for name, fn in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                     ("logical_xor", np.logical_xor)):
        np.testing.assert_array_equal(np.asarray(getattr(xp, name)(xa, xb)), fn(a, b))
    np.testing.assert_array_equal(np.asarray(xp.logical_not(xa)), ~a)
    np.testing.assert_array_equal(np.asarray(xa & xb), a & b)


def test_nan_and_inf_cases(backend):
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5], dtype=np.float32)
    x = xp.asarray(v)
    np.testing.assert_array_equal(np.asarray(xp.isnan(x)), np.isnan(v))
    np.testing.assert_array_equal(np.asarray(xp.isinf(x)), np.isinf(v))
    np.testing.assert_array_equal(np.asarray(xp.signbit(x)), np.signbit(v))
    np.testing.assert_array_equal(np.asarray(xp.maximum(x, 1.0)), np.maximum(v, 1.0))
    np.testing.assert_array_equal(np.asarray(xp.sign(x)), np.sign(v))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_expm1_and_log1p_of_tiny_arguments(backend, dtype):
    # exp(x) - 1 and log(1 + x) lose tiny x entirely; on Vulkan the old Kahan formulas
    # were folded back into them (log1p(1e-7) came out 19% high in float32)
    if dtype is np.float64 and not vd.get_context().device.float64:
        pytest.skip("no float64 on this device")
    v = np.array([1e-7, -3e-8, 2.5e-12, -1e-20, 4.17e-16, 0.0, -0.0, 0.3, -0.45, 2.0, -1.0,
                  np.inf, np.nan], dtype)
    rtol = 1e-6 if dtype is np.float32 else 1e-14
    with np.errstate(divide="ignore"):
        for name, fn in (("expm1", np.expm1), ("log1p", np.log1p)):
            got = np.asarray(getattr(xp, name)(xp.asarray(v)))
            np.testing.assert_allclose(got, fn(v), rtol=rtol, atol=0, err_msg=name)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(fn(v)), err_msg=name)


def test_hypot_of_nan_is_nan_unless_the_other_is_infinite(backend):
    # max/min drop a NaN operand on GPUs: hypot(nan, 3) came out 3 * sqrt(2)
    a = np.array([np.nan, 3.0, np.nan, np.inf, np.nan, -np.inf, 0.0, 3.0], np.float32)
    b = np.array([3.0, np.nan, np.nan, np.nan, -np.inf, np.nan, 0.0, -4.0], np.float32)
    np.testing.assert_array_equal(np.asarray(xp.hypot(xp.asarray(a), xp.asarray(b))),
                                  np.hypot(a, b))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_abs_of_complex_extremes(backend, dtype):
    # x^2 + y^2 overflowed float32 near 1.2e19 (and float64 near 1e154) on Vulkan, and
    # underflowed to 0 below 1e-19; an infinite part makes |z| infinite even beside a NaN
    if dtype is np.complex128 and not vd.get_context().device.float64:
        pytest.skip("no float64 on this device")
    big = 1.2e19 if dtype is np.complex64 else 1e200
    z = np.array([big + 1.5j * big, -big * 1j, 3 + 4j, 1e-30 + 1e-30j, complex(np.nan, np.inf),
                  complex(-np.inf, np.nan), complex(np.nan, 1.0), 0j], dtype)
    got = np.asarray(xp.abs(xp.asarray(z)))
    np.testing.assert_allclose(got, np.abs(z), rtol=1e-6 if dtype is np.complex64 else 1e-15)
    np.testing.assert_allclose(np.asarray(xp.log(xp.asarray(z[:1]))), np.log(z[:1]),
                               rtol=1e-6 if dtype is np.complex64 else 1e-15)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_inverse_functions_of_huge_arguments(backend, dtype):
    # asinh squared z (inf for complex64 past 1.8e19) and asin/acos come through it
    if dtype is np.complex128 and not vd.get_context().device.float64:
        pytest.skip("no float64 on this device")
    big = 4.29e9 if dtype is np.complex64 else 1e200
    z = np.array([1 + big * 1j, big + 1j, -big - big * 1j, 3000 + 5000j, 0.5 + 0.2j], dtype)
    for name, fn in (("asinh", np.arcsinh), ("asin", np.arcsin), ("acos", np.arccos),
                     ("acosh", np.arccosh), ("atan", np.arctan)):
        np.testing.assert_allclose(np.asarray(getattr(xp, name)(xp.asarray(z))), fn(z),
                                   rtol=1e-5 if dtype is np.complex64 else 1e-14,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_tan_and_tanh_where_cosh_overflows(backend, dtype):
    # tan was sin z / cos z: inf / inf = NaN once |Im z| passed ~89 (complex64); the
    # limit is +-i (tanh: +-1)
    if dtype is np.complex128 and not vd.get_context().device.float64:
        pytest.skip("no float64 on this device")
    big = 100.0 if dtype is np.complex64 else 800.0
    z = np.array([0.5 + big * 1j, -0.25 - big * 1j, 1.0 + 3.0j, 1e3j, -2.0 + 0.5j], dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype is np.complex64 else dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.asarray(xp.tan(xp.asarray(z))), np.tan(z), **tol)
    np.testing.assert_allclose(np.asarray(xp.tanh(xp.asarray(z * 1j))), np.tanh(z * 1j),
                               **tol)


def test_where_clip_and_mixed_dtypes(backend):
    x, y = xp.asarray(X), xp.asarray(Y)
    np.testing.assert_array_equal(np.asarray(xp.where(x > y, x, y)), np.where(X > Y, X, Y))
    np.testing.assert_array_equal(np.asarray(xp.where(x > 0, x, 0.0)), np.where(X > 0, X, 0))
    np.testing.assert_array_equal(np.asarray(xp.clip(x, -1.0, 1.0)), np.clip(X, -1, 1))
    np.testing.assert_array_equal(np.asarray(xp.clip(x, max=0.5)), np.minimum(X, 0.5))
    i8 = xp.asarray(np.array([1, -2, 3], dtype=np.int8))
    u8 = xp.asarray(np.array([200, 1, 0], dtype=np.uint8))
    out = i8 + u8
    assert out.dtype == xp.int16
    np.testing.assert_array_equal(np.asarray(out), np.array([201, -1, 3], dtype=np.int16))


def test_complex_arithmetic(backend):
    a = (X + 1j * POS).astype(np.complex64)
    b = (POS - 2j * X).astype(np.complex64)
    xa, xb = xp.asarray(a), xp.asarray(b)
    for got, want in ((xa + xb, a + b), (xa * xb, a * b), (xa / xb, a / b),
                      (xp.conj(xa), np.conj(a)), (xp.real(xa), a.real), (xp.imag(xa), a.imag),
                      (xp.abs(xa), np.abs(a))):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)


def test_operators_and_reflected_scalars(backend):
    x = xp.asarray(X)
    np.testing.assert_allclose(np.asarray(2 - x), 2 - X, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(1 / (x * x + 1)), 1 / (X * X + 1), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(x ** 2), X ** 2, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(-x), -X)
    np.testing.assert_array_equal(np.asarray(x >= 1), X >= 1)
    np.testing.assert_array_equal(np.asarray(x != x), X != X)


def test_errors_follow_the_standard(backend):
    x = xp.asarray(X)
    i = xp.asarray(I)
    with pytest.raises(TypeError, match="int32"):
        x + i                         # no mixed-kind promotion
    with pytest.raises(TypeError, match="floating-point"):
        xp.divide(i, i)
    with pytest.raises(TypeError, match="float"):
        i + 1.5                       # a float scalar with an integer array
    with pytest.raises(TypeError, match="bool"):
        xp.logical_and(x, x)
    with pytest.raises(OverflowError):
        xp.asarray(np.array([1], dtype=np.int8)) + 300
    with pytest.raises(ValueError, match="broadcast"):
        x + xp.asarray(np.ones(4, dtype=np.float32))


COMPLEX_UNARY = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
                 "tan": np.tan, "tanh": np.tanh, "asin": np.arcsin, "acos": np.arccos,
                 "atan": np.arctan, "asinh": np.arcsinh, "acosh": np.arccosh,
                 "atanh": np.arctanh, "log1p": np.log1p, "sign": lambda v: v / np.abs(v)}


def test_complex_math(backend):
    z = (X + 1j * Y).astype(np.complex64).reshape(-1)[:12]
    x = xp.asarray(z)
    for name, fn in COMPLEX_UNARY.items():
        np.testing.assert_allclose(np.asarray(getattr(xp, name)(x)), fn(z), rtol=2e-4,
                                   atol=2e-5, err_msg=name)


def test_complex_division_of_extreme_magnitudes(backend):
    """|b|^2 overflows (or underflows) float32 long before a / b does (Smith's division)."""
    a = np.array([1e30 + 1e30j, 3 + 4j, 1e-30 + 2e-30j, 1 + 1j, 2e-20 - 1e-20j], np.complex64)
    b = np.array([2e30 - 1e30j, 1 - 2j, 3e-30 + 1e-30j, 1e-25 + 0j, 1e-20 + 3e-20j],
                 np.complex64)
    got = np.asarray(xp.asarray(a) / xp.asarray(b))
    np.testing.assert_allclose(got, a / b, rtol=1e-6)


@pytest.mark.parametrize("t", [np.float32, np.float64])
def test_nextafter_steps_one_bit_pattern(backend, t):
    """Bit-exact against NumPy: signed zeros, the smallest subnormal, infinities, NaNs,
    equal arguments, both directions."""
    if t is np.float64 and not vd.get_context().device.float64:
        pytest.skip("the device has no float64")
    tiny = np.finfo(t).smallest_subnormal
    a = np.array([0., -0., 1., -1., tiny, -tiny, np.inf, -np.inf, np.nan, 3., 3., 2.5, -2.5,
                  0., np.finfo(t).max], t)
    b = np.array([1., -1., 2., -2., 0., 0., 0., 0., 1., np.nan, 3., -np.inf, np.inf, -0.,
                  np.inf], t)
    got = np.asarray(xp.nextafter(xp.asarray(a), xp.asarray(b)))
    with np.errstate(over="ignore"):     # max toward inf is inf, as it should be
        want = np.nextafter(a, b)
    bits = np.uint32 if t is np.float32 else np.uint64
    same = (got.view(bits) == want.view(bits)) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (a[~same], got[~same], want[~same])


def test_a_row_needing_a_device_feature_names_it(dummy):
    """float64 nextafter steps int64 bit patterns: a device with float64 and no int64
    refuses it at the call, naming the function, dtype, feature and device; float32
    (no such need) is still recorded."""
    vd.set_dummy_context_params(int64=False)
    x = xp.zeros((3,), dtype=xp.float64)
    with pytest.raises(TypeError, match=r"nextafter of float64 needs int64 .*dummy device"):
        xp.nextafter(x, x)
    with pytest.raises(TypeError, match="nextafter of float64 needs int64"):
        xp.nextafter(x, 1.0)
    y = xp.zeros((3,), dtype=xp.float32)
    assert xp.nextafter(y, y).dtype == xp.float32


def test_pow_at_zero_bases_and_unit_bases(backend):
    """C99's pow where GLSL leaves it undefined: 0 to a negative power is an infinity
    (signed by -0 and an odd exponent; lavapipe gave 0), 1 to any power is 1."""
    x = np.array([0., -0., 0., -0., -0., -0., -2., 1., 1.], np.float32)
    y = np.array([-1., -1., -2., -3., -0.5, 3., 3., np.nan, np.inf], np.float32)
    with np.errstate(divide="ignore"):
        want = np.power(x, y)
    got = np.asarray(xp.pow(xp.asarray(x), xp.asarray(y)))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
