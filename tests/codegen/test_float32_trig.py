"""float32 sin, cos and tan of every magnitude within a few ulps of NumPy's float64 on
every backend. GLSL reduces the argument mod pi/2 itself (Cody-Waite below 1e5,
Payne-Hanek above, see vkdispatch/codegen/emit/_glsl_f32_trig.py) because drivers lose
it: lavapipe's sin(1e8) was anything in [-1, 1], its sin(3.1416352) 17500 ulps off.
CUDA and OpenCL call their own (accurate) math libraries."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32, v4

# The float32 nearest a multiple of pi/2 in its binade, for the binades where that
# remainder is smallest (2^-24 .. 2^-29.2 of pi/2; 7.729179e+28 = 16367173 * 2^72 is the
# closest of all floats), found by an exhaustive search: a reduction with fewer than
# ~55 bits of pi/2 (or 2/pi) gets sin or cos of these wrong in every digit.
NEAR_PIO2_MULTIPLES = [
    4.712389, 9.424778, 252.89821, 505.79642, 1011.59283, 2023.1857, 52516.434, 2.7096755e+06,
    4.2781604e+07, 8.556321e+07, 6.2004666e+08, 2.1999385e+10, 4.399877e+10, 8.799754e+10,
    1.7599508e+11, 1.522789e+12, 3.045578e+12, 6.091156e+12, 1.528269e+17, 3.056538e+17,
    1.2841009e+22, 8.117627e+22, 1.6235253e+23, 2.435288e+23, 4.6381834e+25, 9.276367e+25,
    1.8552734e+26, 1.0341292e+27, 2.0682584e+27, 7.729179e+28, 1.5458358e+29, 3.0916716e+29,
    6.183343e+29, 1.2366686e+30, 3.7955707e+30, 4.386558e+33, 8.773116e+33, 1.2614588e+38]

# sin and cos: the remainder is rounded once (<= 0.51 ulp) and the driver's sin or cos of
# it adds its own error (lavapipe: at most 1.41 ulps in all). tan: tan r magnifies r's
# rounding by 2r / sin 2r <= pi/2 only (|r| <= pi/4), poles included (there tan x is
# -1 / tan r, r tiny); measured 2.97 ulps on lavapipe.
MAX_ULPS = {"sin": 2.0, "cos": 2.0, "tan": 4.0}


def _arguments() -> np.ndarray:
    """1e-3 .. FLT_MAX spaced logarithmically, the near multiples of pi/2 and their upper
    neighbours, both signs."""
    x = np.concatenate([np.geomspace(1e-3, 3.4e38, 3001).astype(np.float32),
                        np.array(NEAR_PIO2_MULTIPLES, np.float32)])
    x = np.concatenate([x, np.nextafter(x[-len(NEAR_PIO2_MULTIPLES):], np.float32(np.inf))])
    return np.concatenate([x, -x])


def _ulps(got, want) -> np.ndarray:
    """|got - want| in float32 ulps of want (want in float64)."""
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return np.abs(np.asarray(got, np.float64) - want) / spacing


def _assert_ulps(got, want, x, name):
    err = _ulps(got, want)
    i = int(np.argmax(err))
    assert err[i] <= MAX_ULPS[name], (f"{name}({x[i]!r}) = {got[i]!r}, NumPy {want[i]!r}: "
                                      f"{err[i]:.2f} ulps")


@pytest.mark.parametrize("name", ["sin", "cos", "tan"])
def test_every_magnitude_within_a_few_ulps(backend, name):
    x = _arguments()
    want = getattr(np, name)(x.astype(np.float64))
    got = np.asarray(getattr(xp, name)(xp.asarray(x)))
    _assert_ulps(got, want, x, name)


def test_special_values(backend):
    """-0 stays -0 (sin, tan), tiny values stay themselves, infinities and NaN give NaN."""
    x = np.array([-0.0, 0.0, 1e-30, -1e-30, 1e-3, np.inf, -np.inf, np.nan], np.float32)
    for name in ("sin", "cos", "tan"):
        with np.errstate(invalid="ignore"):
            want = getattr(np, name)(x.astype(np.float64))
        got = np.asarray(getattr(xp, name)(xp.asarray(x))).astype(np.float64)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        finite = ~np.isnan(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=2.5e-7, atol=0, err_msg=name)
        np.testing.assert_array_equal(np.signbit(got[:2]), np.signbit(want[:2]), err_msg=name)


def test_vector_components_reduce_each(backend):
    @vd.shader("a.size")
    def trig(a: Buff[v4], s: Buff[v4], c: Buff[v4]):
        i = vc.global_invocation_id().x
        s[i] = vc.sin(a[i])
        c[i] = vc.cos(a[i])

    x = np.array(NEAR_PIO2_MULTIPLES[:36], np.float32).reshape(9, 4)
    x[::2] *= -1
    a, s, c = (vd.Buffer((9,), v4) for _ in range(3))
    a.write(x)
    trig(a, s, c)
    flat = x.ravel()
    _assert_ulps(s.read(0).ravel(), np.sin(flat.astype(np.float64)), flat, "sin")
    _assert_ulps(c.read(0).ravel(), np.cos(flat.astype(np.float64)), flat, "cos")


@pytest.mark.parametrize("name", ["exp", "sin", "cos", "sinh", "cosh", "tan", "tanh"])
def test_complex64_functions_of_huge_parts(backend, name):
    """complex64 exp, sin, cos, ... take sin and cos (tan, tanh: tan) of one part: huge
    ones (the Array API suite draws up to 1e38) reduce like real arguments, and tanh no
    longer doubles one (2y overflowed past 1.7e38). The other part stays in [0.5, 2]."""
    rng = np.random.default_rng(7)
    big = (np.geomspace(1e3, 3e38, 200) * rng.choice([-1, 1], 200)).astype(np.float32)
    small = rng.uniform(0.5, 2.0, 200).astype(np.float32)
    hyperbolic_of_real = name in ("exp", "sinh", "cosh", "tanh")   # trig of the imaginary part
    z = (small + 1j * big if hyperbolic_of_real else big + 1j * small).astype(np.complex64)
    want = getattr(np, name)(z.astype(np.complex128))
    got = np.asarray(getattr(xp, name)(xp.asarray(z))).astype(np.complex128)
    err = np.abs(got - want) / (np.abs(want) * 2.0 ** -24)
    i = int(np.argmax(err))
    assert err[i] <= 8, f"{name}({z[i]!r}) = {got[i]!r}, NumPy {want[i]!r}: {err[i]:.1f} ulps"



@pytest.mark.parametrize("name", ["tan", "tanh"])
def test_complex64_tanh_near_its_poles(backend, name):
    """Near tanh's poles (x = 0, y = pi/2 + k pi) the denominator of (sinh 2x + i sin 2y) /
    (cosh 2x + cos 2y) cancelled (10^4 ulps off); Kahan's form (1 + b s^2) cannot."""
    rng = np.random.default_rng(8)
    near_zero = rng.uniform(-1e-2, 1e-2, 500)
    near_pole = np.pi / 2 + np.pi * rng.integers(-20, 20, 500) + rng.uniform(-1e-2, 1e-2, 500)
    if name == "tanh":
        z = (near_zero + 1j * near_pole).astype(np.complex64)
    else:                                    # tan z = -i tanh(i z): the parts swap
        z = (near_pole + 1j * near_zero).astype(np.complex64)
    want = getattr(np, name)(z.astype(np.complex128))
    got = np.asarray(getattr(xp, name)(xp.asarray(z))).astype(np.complex128)
    err = np.abs(got - want) / (np.abs(want) * 2.0 ** -24)
    i = int(np.argmax(err))
    assert err[i] <= 8, f"{name}({z[i]!r}) = {got[i]!r}, NumPy {want[i]!r}: {err[i]:.1f} ulps"

def test_the_reduction_needs_no_int64(backend):
    """32-bit halves (umulExtended) make the products, so a kernel with sin runs on devices
    without shaderInt64: the emitter does not know the device it compiles for."""
    if backend != "vulkan":
        pytest.skip("GLSL only")

    @vd.shader("a.size")
    def sine(a: Buff[f32]):
        i = vc.global_invocation_id().x
        a[i] = vc.sin(a[i])

    src = str(sine.get_src())
    assert "vkd_rem_pio2_large" in src and "umulExtended" in src
    assert "int64" not in src
