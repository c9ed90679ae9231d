"""Diagnose elementwise bandwidth on a Vulkan device with GPU timestamps (not a test).

    python benchmarks/vulkan_bandwidth_probe.py [--size-log2 26]
"""
import argparse

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32, v4


def make(local):
    @vd.shader("out.size", local_size=(local, 1, 1))
    def fma(out: Buff[f32], a: Buff[f32], b: Buff[f32], c: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = a[i] * b[i] + c[i]
    return fma


@vd.shader("out.size", local_size=(256, 1, 1))
def fma4(out: Buff[v4], a: Buff[v4], b: Buff[v4], c: Buff[v4]):
    i = vc.global_invocation_id().x
    out[i] = a[i] * b[i] + c[i]


def timed(record, reps=10):
    rctx = vd.get_context().runtime_context
    cl = rctx.command_list(0, timestamps=True)
    for _ in range(reps):
        record(cl)
    cl.submit().wait()
    cl.submit().wait()
    ts = cl.timestamps()
    cl.destroy()
    return min(ts) if ts else float("nan")


def wall(record, reps=20, trials=3):
    """Seconds per dispatch from the host clock: `reps` dispatches in one submit."""
    import time
    rctx = vd.get_context().runtime_context
    cl = rctx.command_list(0)
    for _ in range(reps):
        record(cl)
    cl.submit().wait()
    best = float("inf")
    for _ in range(trials):
        t0 = time.perf_counter()
        cl.submit().wait()
        best = min(best, time.perf_counter() - t0)
    cl.destroy()
    return best / reps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size-log2", type=int, default=26)
    args = p.parse_args()
    vd.initialize(backend="vulkan")
    ctx = vd.get_context()
    n = 1 << args.size_log2
    rt = ctx.runtime_context
    print(f"# {ctx.device.name}, n = 2^{args.size_log2}")
    bufs = [vd.Buffer((n,), vd.float32) for _ in range(4)]
    for b in bufs:
        b.fill(1.0)
    h = bufs[0]._handles[0]
    print("buffer handle:", h, "block type:", getattr(getattr(h, "block", None), "type_index", "?"))
    for local in (64, 128, 256, 512, 1024):
        sf = make(local)
        c = sf.build(ctx, (local, 1, 1), True)
        groups = ((n + local - 1) // local, 1, 1)
        packed = c.packer.pack({"vkd_exec_count": (n, 1, 1)})
        handles = [b._handles[0] for b in bufs]
        t = timed(lambda cl: cl.dispatch(c.program, groups, handles, packed))
        w = wall(lambda cl: cl.dispatch(c.program, groups, handles, packed))
        print(f"a*b+c local {local}: timestamps {t * 1e6:.1f} us ({16 * n / t / 1e9:.0f} GB/s), "
              f"wall {w * 1e6:.1f} us ({16 * n / w / 1e9:.0f} GB/s)")
    c4 = fma4.build(ctx, (256, 1, 1), True)
    v4bufs = [vd.Buffer((n // 4,), vd.vec4) for _ in range(4)]
    handles = [b._handles[0] for b in v4bufs]
    packed = c4.packer.pack({"vkd_exec_count": (n // 4, 1, 1)})
    t = timed(lambda cl: cl.dispatch(c4.program, ((n // 4 + 255) // 256, 1, 1), handles, packed))
    print(f"a*b+c vec4: {t * 1e6:.1f} us, {16 * n / t / 1e9:.0f} GB/s")
    src = bufs[1]._handles[0]
    dst = bufs[0]._handles[0]
    rctx = rt
    cl = rctx.command_list(0)
    for _ in range(10):
        cl.copy(src, dst, 4 * n)
    cl.submit().wait()
    import time
    t0 = time.perf_counter()
    cl.submit().wait()
    t = (time.perf_counter() - t0) / 10
    print(f"copy (wall): {t * 1e6:.1f} us, {8 * n / t / 1e9:.0f} GB/s")


if __name__ == "__main__":
    main()
