"""GLSL kernels declare SPIR-V's SignedZeroInfNanPreserve for each float width they use
where the device supports it, so NVIDIA's Vulkan compiler keeps infinities, NaNs and
signed zeros in float32 math as CUDA and OpenCL do (it took x != x for false, and
tan(30j) came out with a -0 real part)."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32, i32


def test_float32_kernels_declare_their_specials_kept(backend):
    if backend != "vulkan":
        pytest.skip("GLSL only")

    @vd.shader("a.size")
    def halve(a: Buff[f32]):
        i = vc.global_invocation_id().x
        a[i] = a[i] * 0.5

    @vd.shader("a.size")
    def bump(a: Buff[i32]):
        i = vc.global_invocation_id().x
        a[i] = a[i] + 1

    kept = vd.get_context().device.extra.get("inf_nan_preserve_float32")
    assert ("4461, 32" in str(halve.get_src())) == bool(kept)
    assert "4461" not in str(bump.get_src())      # no float math: nothing to declare
    buf = vd.asbuffer(np.array([np.inf, -0.0, np.nan, 3.0], np.float32))
    halve(buf)
    got = buf.read(0)
    np.testing.assert_array_equal(got[[0, 3]], [np.inf, 1.5])
    assert np.signbit(got[1]) and np.isnan(got[2])


def test_float32_trig_reduces_its_argument(backend):
    """sin, cos and tan of float32 from 1 to 1e5 within a few ulps of float64 NumPy on
    every backend (NVIDIA's Vulkan sin(30) was off by 2e-5; GLSL now reduces by 2pi
    first), and -0, tiny values, infinities and NaNs as NumPy gives them."""
    import vkdispatch.array_api as xp
    x = np.array([0.5, 1.0, 30.0, -30.0, 1000.5, -12345.678, 99999.0, -0.0, 1e-30,
                  np.inf, np.nan], np.float32)
    for name in ("sin", "cos", "tan"):
        with np.errstate(invalid="ignore"):
            want = getattr(np, name)(x.astype(np.float64))
        got = np.asarray(getattr(xp, name)(xp.asarray(x))).astype(np.float64)
        # tan amplifies the remainder's float32 rounding by 1 + tan^2 (10 ulps at 1000.5)
        rtol = 4e-6 if name == "tan" else 1e-6
        np.testing.assert_allclose(got, want, rtol=rtol, atol=2e-7, err_msg=name)
        assert np.signbit(got[7]) == np.signbit(want[7])
