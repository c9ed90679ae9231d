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

