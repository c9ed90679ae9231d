"""Float64 math on Vulkan: GLSL has exp, log, sin, pow, ... for 32-bit floats only, so the
emitter adds its own double-precision helpers (vkdispatch/codegen/emit/_glsl_f64.py).
Compared with NumPy in ulps over wide ranges and the IEEE special values, through
`@vd.shader` and through `vkdispatch.array_api`; huge trig arguments against an exact
reduction. CUDA and OpenCL use their native float64 math (the math_f64 case covers it)."""
import decimal
from fractions import Fraction

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, dv3, f64
from vkdispatch.codegen.emit import _f64_constants as K
from vkdispatch.codegen.emit import emit

from .cases import trace

# measured on lavapipe: at most 2 ulps from NumPy (1 for exp, log, sin, cos, atan, pow, atan2)
MAX_ULP = 3

UNARY = {"exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
         "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
         "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
         "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh}
MAX = np.finfo(np.float64).max
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
                    -1e-310, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300, -1e300, MAX, -MAX, 1e-9, -1e-20,
                    np.nextafter(1.0, 0.0), np.nextafter(1.0, 2.0), 709.782712893384, 709.79,
                    710.47, -745.13, -745.14, 1e3, 22.0, 2.0 ** 19, 2.0 ** 28, 1e22])


def _ulps(got, want):
    """|got - want| in units of the last place of `want`; 0 where both are NaN or equal
    (zeros of the same sign), inf where one is NaN or a zero has the wrong sign."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got - want) / np.spacing(np.maximum(np.abs(want), np.finfo(float).tiny))
    same = ((got == want) & (np.signbit(got) == np.signbit(want))) | (np.isnan(got) & np.isnan(want))
    err[same] = 0
    err[np.isnan(err) | ((got == want) & ~same)] = np.inf
    return err


def _assert_ulps(got, want, inputs, what, limit=MAX_ULP):
    err = _ulps(got, want)
    worst = np.argsort(-err)[:3]
    assert err.max() <= limit, (f"{what}: {err.max()} ulps; worst inputs {inputs[worst]!r} gave "
                                f"{np.asarray(got)[worst]!r}, NumPy {np.asarray(want)[worst]!r}")


def _unary_inputs():
    rng = np.random.default_rng(11)
    n = 1500
    k = np.concatenate([np.arange(-300, 300), rng.integers(-70000, 70000, 300)])
    near_pio2 = k * (np.pi / 2)            # the doubles nearest multiples of pi/2
    return np.concatenate([
        SPECIAL, rng.uniform(-10, 10, n), rng.uniform(-1, 1, n),
        rng.standard_normal(n) * 10.0 ** rng.uniform(-300, 300, n),      # every magnitude
        1 + rng.uniform(-1e-3, 1e-3, n), rng.uniform(-746, 710, n), near_pio2,
        np.nextafter(near_pio2, np.inf), np.nextafter(near_pio2, -np.inf)])


@pytest.fixture
def vulkan_f64(backend):
    if backend != "vulkan":
        pytest.skip(f"{backend} has native float64 math (the math_f64 case covers it)")
    if not vd.get_context().device.float64:
        pytest.skip("the device has no float64")


def _run_table(fns, *inputs):
    """out[i, j] = fns[j](*inputs[:, i]) computed by one @vd.shader kernel."""
    n = len(inputs[0])

    @vd.shader("a.size")
    def table(a: Buff[f64], b: Buff[f64], out: Buff[f64]):
        i = vc.global_invocation_id().x
        for j, fn in enumerate(fns):
            out[i * len(fns) + j] = fn(a[i], b[i])

    bufs = [vd.asbuffer(np.ascontiguousarray(x, np.float64)) for x in inputs]
    if len(bufs) == 1:
        bufs.append(bufs[0])
    out = vd.Buffer((n * len(fns),), vd.float64)
    table(*bufs, out)
    return out.read(0).reshape(n, len(fns))


def test_shader_unary_functions_match_numpy(vulkan_f64):
    x = _unary_inputs()
    names = sorted(UNARY)
    got = _run_table([lambda a, b, f=getattr(vc, name): f(a) for name in names], x)
    with np.errstate(all="ignore"):
        for j, name in enumerate(names):
            _assert_ulps(got[:, j], UNARY[name](x), x, name)


def _binary_inputs():
    rng = np.random.default_rng(12)
    edge = np.concatenate([SPECIAL, [3.0, -3.0, 2.5, -2.5, 9007199254740993.0, 2.0 ** 60, -7.0]])
    a, b = (v.ravel() for v in np.meshgrid(edge, edge))       # every pair of special values
    n = 3000
    x = np.concatenate([a, rng.uniform(0, 10, n), np.exp(rng.uniform(-700, 700, n)),
                        1 + rng.uniform(-1e-6, 1e-6, n), -rng.integers(1, 60, n).astype(float),
                        rng.uniform(-1e3, 1e3, n)])
    y = np.concatenate([b, rng.uniform(-40, 40, n), rng.uniform(-1, 1, n),
                        rng.uniform(-1e8, 1e8, n),                  # large y: x near 1
                        rng.integers(-200, 200, n).astype(float), rng.uniform(-1e3, 1e3, n)])
    return x, y


def test_shader_pow_and_atan2_match_numpy(vulkan_f64):
    x, y = _binary_inputs()
    got = _run_table([vc.pow, vc.atan2], x, y)
    with np.errstate(all="ignore"):
        _assert_ulps(got[:, 0], np.power(x, y), np.stack([x, y], 1), "pow")
        _assert_ulps(got[:, 1], np.arctan2(x, y), np.stack([x, y], 1), "atan2")


def _exact_sin_cos(x: float):
    """(sin x, cos x) rounded from an exact reduction mod pi/2 and exact series."""
    pi = Fraction(K.pi_fixed(), 1 << 1400)
    q = round(Fraction(x) / (pi / 2))
    r = Fraction(x) - q * (pi / 2)
    r = Fraction(round(r * 2 ** 200), 2 ** 200)
    sums = []
    for start in (r, Fraction(1)):                     # sin and cos series
        total, term, n = Fraction(0), start, 1 if start is r else 0
        while abs(term) > Fraction(1, 2 ** 140):
            total += term
            term = -term * r * r / ((n + 1) * (n + 2))
            n += 2
        sums.append(total)
    s, c = sums
    return float([s, c, -s, -c][q % 4]), float([c, -s, -c, s][q % 4])


def test_huge_trig_arguments_reduce_exactly(vulkan_f64):
    # Payne-Hanek above 2^19; 6381956970095103 * 2^797 is the double closest to a multiple
    # of pi/2, where a short pi loses every digit (NumPy's cos is 8 ulps off there)
    rng = np.random.default_rng(13)
    x = np.concatenate([[6381956970095103 * 2.0 ** 797, 2.0 ** 19, -2.0 ** 19,
                         np.nextafter(2.0 ** 19, 0), MAX, -MAX, 2.0 ** 1023, 1e22],
                        rng.standard_normal(60) * 10.0 ** rng.uniform(5, 308, 60)])
    got = _run_table([lambda a, b: vc.sin(a), lambda a, b: vc.cos(a), lambda a, b: vc.tan(a)],
                     x)
    ref = np.array([_exact_sin_cos(v) for v in x])
    _assert_ulps(got[:, 0], ref[:, 0], x, "sin", 1)
    _assert_ulps(got[:, 1], ref[:, 1], x, "cos", 1)
    _assert_ulps(got[:, 2], ref[:, 0] / ref[:, 1], x, "tan", 3)


def test_vector_arguments_apply_per_component(vulkan_f64):
    @vd.shader("a.size")
    def vec(a: Buff[dv3], out: Buff[dv3]):
        i = vc.global_invocation_id().x
        out[3 * i] = vc.sin(a[i])
        out[3 * i + 1] = vc.pow(a[i], a[i] * 0.5)
        out[3 * i + 2] = vc.atan2(a[i], a[i] - 1.0)

    v = np.random.default_rng(14).uniform(0.1, 5, (64, 3))
    a = vd.Buffer((64,), dv3)
    a.write(v)
    out = vd.Buffer((3 * 64,), dv3)
    vec(a, out)
    got = out.read(0).reshape(64, 3, 3)
    np.testing.assert_allclose(got[:, 0], np.sin(v), rtol=1e-15, atol=0)
    np.testing.assert_allclose(got[:, 1], v ** (v * 0.5), rtol=1e-15, atol=0)
    np.testing.assert_allclose(got[:, 2], np.arctan2(v, v - 1.0), rtol=1e-15, atol=0)


ARRAY_UNARY = dict(UNARY, log10=np.log10)
ARRAY_UNARY.update(asin=np.arcsin, acos=np.arccos, atan=np.arctan)
del ARRAY_UNARY["exp2"]     # not in the standard


def test_array_api_float64_functions_match_numpy(vulkan_f64):
    x = _unary_inputs()
    a = xp.asarray(x)
    with np.errstate(all="ignore"):
        for name, fn in sorted(ARRAY_UNARY.items()):
            _assert_ulps(np.asarray(getattr(xp, name)(a)), fn(x), x, f"xp.{name}")
        u, w = _binary_inputs()
        for name, fn in (("pow", np.power), ("atan2", np.arctan2), ("hypot", np.hypot)):
            got = np.asarray(getattr(xp, name)(xp.asarray(u), xp.asarray(w)))
            _assert_ulps(got, fn(u, w), np.stack([u, w], 1), f"xp.{name}")
        # logaddexp cancels where its result is near 0 (NumPy's too): an absolute bound
        finite = np.isfinite(u) & np.isfinite(w)
        u, w = u[finite], w[finite]
        got = np.asarray(xp.logaddexp(xp.asarray(u), xp.asarray(w)))
        bound = 4 * np.spacing(np.maximum(np.abs(u), np.abs(w)).clip(1.0))
        np.testing.assert_array_less(np.abs(got - np.logaddexp(u, w)), bound)


def test_array_api_complex128_functions(vulkan_f64):
    rng = np.random.default_rng(15)
    z = rng.uniform(-3, 3, 500) + 1j * rng.uniform(-3, 3, 500)
    a = xp.asarray(z)
    for name, fn in (("exp", np.exp), ("log", np.log), ("sin", np.sin), ("cosh", np.cosh),
                     ("tanh", np.tanh), ("sqrt", np.sqrt), ("asinh", np.arcsinh)):
        np.testing.assert_allclose(np.asarray(getattr(xp, name)(a)), fn(z), rtol=1e-13,
                                   err_msg=name)
    np.testing.assert_allclose(np.asarray(a ** (0.5 + 1j)), z ** (0.5 + 1j), rtol=1e-13)


# ----------------------------------------------------------------------------- source

def _source(dummy, body, t=f64):
    @vd.shader("a.size")
    def k(a: Buff[t]):
        i = vc.global_invocation_id().x
        a[i] = body(a[i])

    return emit(trace(k, dummy), "glsl", "main").source


def test_helpers_are_defined_once_and_only_when_used(dummy):
    src = _source(dummy, lambda v: vc.sin(v) + vc.cos(v) * vc.tan(v))
    assert src.count("int vkd_rem_pio2_f64(") == 1
    assert src.count("dvec2 vkd_two_sum_f64(") == 1
    assert "vkd_log" not in src and "vkd_exp" not in src
    plain = _source(dummy, lambda v: v * 2.0 + 1.0)
    assert [ln for ln in src.split("\n") if ln.startswith("#extension")] == \
        [ln for ln in plain.split("\n") if ln.startswith("#extension")]
    vec = _source(dummy, lambda v: vc.exp(v), dv3)
    assert "dvec3 vkd_exp_f64(dvec3 a)" in vec and "double vkd_exp_f64(double x)" in vec


def test_constants_are_exact_splits():
    c = K.constants()
    assert K.two_over_pi_words()[:3] == (0xA2F9836E, 0x4E441529, 0xFC2757D1)
    pio2 = Fraction(K.pi_fixed(), 1 << 1400) / 2
    parts = [Fraction(c[f"PIO2_{i}"]) for i in (1, 2, 3, 4)]
    assert abs(sum(parts) - pio2) < Fraction(1, 2 ** 150)
    # k * part is exact for k < 2^19: at most 34 significant bits
    assert all(p.numerator.bit_length() <= 34 for p in parts[:3])
    ln2_hi = Fraction(c["LN2_HI"])
    assert ln2_hi.numerator.bit_length() <= 42      # k * LN2_HI exact for |k| < 2^11
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        ln2 = Fraction(decimal.Decimal(2).ln())
    assert abs(ln2_hi + Fraction(c["LN2_LO"]) - ln2) < Fraction(1, 2 ** 100)


def test_float64_arithmetic_keeps_infinities_and_nans(vulkan_f64):
    """NVIDIA's Vulkan compiler took x * inf for 0 (and 0 * inf too) until kernels
    declared SignedZeroInfNanPreserve for 64-bit floats, where the device supports it."""
    x = np.array([-1.0, 1.0, 0.5, 0.0, -0.0, np.inf], np.float64)
    got = _run_table([lambda a, b: a * vc.inf_f64(), lambda a, b: vc.inf_f64() * a,
                      lambda a, b: a / b], x, np.zeros_like(x))
    with np.errstate(all="ignore"):
        want = np.stack([x * np.inf, np.inf * x, x / 0.0], 1)
    np.testing.assert_array_equal(got, want)
    if vd.get_context().device.extra.get("inf_nan_preserve_float64"):
        @vd.shader("a.size")
        def mul(a: Buff[f64]):
            a[vc.global_invocation_id().x] *= 2.0
        assert "4461, 64" in str(mul.get_src())
