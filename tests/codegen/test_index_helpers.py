"""vc.ravel_index / vc.unravel_index: NumPy's meanings and vkdispatch 0.1's (the names
the other way round) both work, told apart by the first argument, and agree with NumPy."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, u32, uv2, uv3

SHAPE2, SHAPE3 = (5, 7), (3, 4, 6)


def test_numpy_forms(backend):
    @vd.shader("flat.size")
    def k(flat: Buff[u32], back: Buff[u32], axes: Buff[u32]):
        i = vc.global_invocation_id().x
        a, b, c = vc.unravel_index(i, SHAPE3)
        axes[3 * i] = a
        axes[3 * i + 1] = b
        axes[3 * i + 2] = c
        back[i] = vc.ravel_index((a, b, c), SHAPE3)
        flat[i] = i

    n = int(np.prod(SHAPE3))
    flat, back, axes = (vd.Buffer((m,), vd.uint32) for m in (n, n, 3 * n))
    k(flat, back, axes)
    want = np.stack(np.unravel_index(np.arange(n), SHAPE3), 1).reshape(-1)
    np.testing.assert_array_equal(axes.read(0), want)
    np.testing.assert_array_equal(back.read(0), np.arange(n))


def test_vkdispatch_0_1_forms(backend):
    @vd.shader("out2.size")
    def k(out2: Buff[uv2], out3: Buff[uv3], flat2: Buff[u32], flat3: Buff[u32]):
        i = vc.global_invocation_id().x
        ij = vc.ravel_index(i, SHAPE2)            # 0.1: flat -> uvec2
        out2[i] = ij
        flat2[i] = vc.unravel_index(ij, SHAPE2)   # 0.1: uvec2 -> flat
        ijk = vc.ravel_index(i % 72, SHAPE3)
        out3[i] = ijk
        flat3[i] = vc.unravel_index((ijk.x, ijk.y, ijk.z), SHAPE3)

    n = int(np.prod(SHAPE2))
    out2, out3 = vd.Buffer((n,), vd.uvec2), vd.Buffer((n,), vd.uvec3)
    flat2, flat3 = vd.Buffer((n,), vd.uint32), vd.Buffer((n,), vd.uint32)
    k(out2, out3, flat2, flat3)
    idx = np.arange(n)
    np.testing.assert_array_equal(out2.read(0), np.stack(np.unravel_index(idx, SHAPE2), 1))
    np.testing.assert_array_equal(flat2.read(0), idx)
    np.testing.assert_array_equal(out3.read(0), np.stack(np.unravel_index(idx % 72, SHAPE3), 1))
    np.testing.assert_array_equal(flat3.read(0), idx % 72)
