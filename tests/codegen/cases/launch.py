"""Launch geometry (builtins, 2-D exec sizes, index helpers) and uniforms."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import N, case, flat, gid


H, W = 37, 53
LS2 = (8, 4, 1)


def _builtins_ref(v, dev):
    y, x = np.mgrid[0:H, 0:W]
    ly, lx = y % LS2[1], x % LS2[0]
    groups = (-(-W // LS2[0]), -(-H // LS2[1]))
    cols = [x, y, lx, ly, x // LS2[0], y // LS2[1], np.full_like(x, groups[0]),
            np.full_like(x, groups[1]), np.full_like(x, LS2[0]), np.full_like(x, LS2[1]),
            ly * LS2[0] + lx]
    return dict(out=np.stack(cols, -1).reshape(-1).astype(np.uint32))


@case("builtins_2d",
      inputs=lambda rng: dict(img=np.zeros((H, W), np.float32), out=np.zeros(H * W * 11,
                                                                               np.uint32)),
      reference=_builtins_ref)
def _builtins_2d():
    @vd.shader("(img.shape[1], img.shape[0])", local_size=LS2)
    def builtins_2d(img: Buff[f32], out: Buff[u32]):
        g = vc.global_invocation_id()
        loc = vc.local_invocation_id()
        wg = vc.workgroup_id()
        nwg = vc.num_workgroups()
        size = vc.workgroup_size()
        base = (g.y * W + g.x) * 11
        vals = [g.x, g.y, loc.x, loc.y, wg.x, wg.y, nwg.x, nwg.y, size.x, size.y,
                vc.local_invocation_index()]
        for k, val in enumerate(vals):
            out[base + k] = val
    return builtins_2d


U_SHAPE = (26, 7, 11)


def _index_ref(v, dev):
    flat_idx = np.arange(H * W)
    y, x = np.unravel_index(flat_idx, (H, W))
    coords = np.stack(np.unravel_index(flat_idx, U_SHAPE), 1).reshape(-1)
    return dict(out=(v["a"] * 2 + y.reshape(H, W)).astype(np.float32),
                coords=coords.astype(np.uint32))


@case("index_helpers_2d",
      inputs=lambda rng: dict(a=rng.uniform(-1, 1, (H, W)).astype(np.float32),
                              out=np.zeros((H, W), np.float32),
                              coords=np.zeros(3 * H * W, np.uint32)),
      reference=_index_ref, rtol=0)
def _index_helpers_2d():
    @vd.shader(exec_size=lambda args: (args.a.shape[1], args.a.shape[0]))
    def index_helpers_2d(a: Buff[f32], out: Buff[f32], coords: Buff[u32]):
        g = vc.global_invocation_id()
        k = vc.ravel_index((g.y, g.x), (H, W))
        out[k] = a[k] * 2.0 + g.y.cast(f32)
        for d, c in enumerate(vc.unravel_index(k, U_SHAPE)):
            coords[3 * k + d] = c
    return index_helpers_2d


def _uniform_inputs(rng):
    return dict(x=rng.uniform(-5, 5, N).astype(np.float32), out=np.zeros(9 * N, np.float32),
                s=np.float32(1.25), n=-3, u=7, v=np.array([0.5, -2.0, 4.0], np.float32),
                flag=True, c=np.complex64(0.5 - 2j), w=2.5, iv=np.array([10, -4], np.int32),
                off=False)


def _uniform_ref(v, dev):
    x = v["x"]
    return dict(out=flat(x * 1.25, x - 3, x + 7, x * 0.5 - 2.0 - 4.0, x, -2.0 * x, x * 2.5,
                         x + 14, -x))


@case("uniforms", inputs=_uniform_inputs, reference=_uniform_ref, rtol=1e-6, atol=1e-6)
def _uniforms():
    @vd.shader("x.size")
    def uniforms(x: Buff[f32], out: Buff[f32], s: Const[f32], n: Const[i32], u: Const[u32],
                 v: Const[v3], flag: Const[b1], c: Const[c64], w: Var[f32], iv: Var[iv2],
                 off: Var[b1]):
        i = gid()
        a = x[i]
        vals = [a * s, a + n, a + u, a * v.x + v.y - v.z, vc.select(flag, a, -a),
                (c * a).imag, a * w, a + iv.x - iv.y, vc.select(off, a, -a)]
        for k, val in enumerate(vals):
            out[9 * i + k] = val
    return uniforms


@case("uniforms_f64",
      inputs=lambda rng: dict(x=rng.uniform(-5, 5, N), out=np.zeros(4 * N), d=1.0 + 2 ** -40,
                              k=np.int64(2 ** 40 + 3)),
      reference=lambda v, dev: dict(out=flat(v["x"] * (1.0 + 2 ** -40), 2.0 ** -40, 3.0,
                                             v["x"] + (2.0 ** 40 + 3))),
      rtol=1e-15, needs=frozenset({"float64", "int64"}),
      columns={"out": ["x_times_d", "d_minus_1", "k_low_bits", "x_plus_k"]})
def _uniforms_f64():
    # d - 1 and k - 2**40 are exact only if the uniforms arrive with all their bits
    @vd.shader("x.size")
    def uniforms_f64(x: Buff[f64], out: Buff[f64], d: Const[f64], k: Const[i64]):
        i = gid()
        out[4 * i] = x[i] * d
        out[4 * i + 1] = d - 1.0
        out[4 * i + 2] = (k - 2 ** 40).cast(f64)
        out[4 * i + 3] = x[i] + k.cast(f64)
    return uniforms_f64
