import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32, i32, v2

rng = np.random.default_rng(0)


# exec_size as a lambda over the bound arguments: one invocation per element of `out`
@vd.shader(exec_size=lambda args: args.out.size)
def saxpy(out: Buff[f32], x: Buff[f32], y: Buff[f32], a: Const[f32]):
    i = vc.global_invocation_id().x
    out[i] = a * x[i] + y[i]


n = 1000
x, y = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
out = vd.Buffer((n,), vd.float32)
saxpy(out, vd.asbuffer(x), vd.asbuffer(y), 2.0)
assert np.allclose(out.read(0), 2.0 * x + y, rtol=1e-6)
print(saxpy.get_src(line_numbers=True))    # the source for this device and language
# [/saxpy]


# [control-flow]
# A value assigned in a branch is declared before it (vc.new_float) and set in
# place; vc.range is a loop on the device.
@vd.shader("data.size")
def clamp_and_power(data: Buff[f32], limit: Var[f32], power: Const[i32]):
    i = vc.global_invocation_id().x
    v = vc.new_float(0.0)
    with vc.if_block(data[i] > limit):
        v.set(limit)
    with vc.else_block():
        v.set(data[i])
    acc = vc.new_float(1.0)
    for _ in vc.range(power):
        acc *= v
    data[i] = acc


d = rng.random(64, dtype=np.float32) * 2
buf = vd.asbuffer(d)
clamp_and_power(buf, 1.5, 3)
assert np.allclose(buf.read(0), np.minimum(d, 1.5) ** 3, rtol=1e-5)
# [/control-flow]


# [vectors]
# A Buff[v2] holds pairs (a trailing axis of 2 on the host); swizzles work.
@vd.shader("pts.size")
def swap_xy(pts: Buff[v2]):
    i = vc.global_invocation_id().x
    pts[i] = pts[i].yx


p = rng.random((16, 2), dtype=np.float32)
pbuf = vd.asbuffer(p, vd.vec2)
swap_xy(pbuf)
assert np.array_equal(pbuf.read(0), p[:, ::-1])
# [/vectors]


# [shared]
# Workgroups and shared memory: each workgroup of 64 reverses its slice.
@vd.shader(workgroups="data.size // 64", local_size=(64, 1, 1))
def reverse_blocks(data: Buff[f32]):
    tile = vc.shared_buffer(f32, 64)
    gid = vc.global_invocation_id().x
    lid = vc.local_invocation_id().x
    tile[lid] = data[gid]
    vc.barrier()
    data[gid] = tile[63 - lid]


r = np.arange(256, dtype=np.float32)
rbuf = vd.asbuffer(r)
reverse_blocks(rbuf)
assert np.array_equal(rbuf.read(0), r.reshape(4, 64)[:, ::-1].ravel())
# [/shared]


# [atomics]
# A histogram of bytes into 16 bins (int32 atomics work on every device).
@vd.shader("values.size")
def histogram(bins: Buff[i32], values: Buff[i32]):
    i = vc.global_invocation_id().x
    vc.atomic_add(bins[values[i] // 16], 1)


v = rng.integers(0, 256, 10_000).astype(np.int32)
bins = vd.asbuffer(np.zeros(16, np.int32))
histogram(bins, vd.asbuffer(v))
assert np.array_equal(bins.read(0), np.bincount(v // 16, minlength=16))
# [/atomics]
