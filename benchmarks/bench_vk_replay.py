"""Replay and host-cost numbers of the Vulkan runtime (not a test: run it directly).

    python benchmarks/bench_vk_replay.py [device_index]

Prints: per-dispatch cost of replaying a recorded list of N tiny dependent dispatches
(wall clock and GPU timestamps), the same for independent dispatches with
barriers="full" and "auto", host cost of one replay submit for N = 10 and 1000 (it
should not grow with N), host cost of dispatch(), and of record + submit of one
dispatch. --bandwidth adds host<->device copy rates, --profile a cProfile of the last.
"""
import sys
import time

import numpy as np

from vkdispatch.base.abi import Binding, ProgramInfo
from vkdispatch.backends.vulkan import load_runtime

INCREMENT = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { uint x[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) x[i] += 1u; }
"""


def best(fn, repeat=5):
    return min(fn() for _ in range(repeat))


COPY = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) buffer Y { uint y[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) y[i] = x[i] + 1u; }
"""


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(device=0):
    rt = load_runtime()
    ctx = rt.create_context([device], [1])
    print(ctx.devices[0].name, ctx.devices[0].version)
    prog = ctx.create_program(INCREMENT, ProgramInfo("main", (64, 1, 1),
                                                     (Binding("x", "storage_buffer", 0),)))
    buf = ctx.buffer_alloc(0, 4 * 64)
    ctx.buffer_write(buf, np.zeros(64, np.uint32))

    def make(n, timestamps=False):
        cl = ctx.command_list(0, timestamps=timestamps)
        for _ in range(n):
            cl.dispatch(prog, (1,), [buf])
        cl.submit().wait()          # records once
        return cl

    n, reps = 1000, 20
    cl = make(n)

    def replay():
        t = time.perf_counter()
        for _ in range(reps):
            s = cl.submit()
        s.wait()
        return (time.perf_counter() - t) / (reps * n)
    print(f"replay, {n} dependent dispatches: {best(replay) * 1e6:.3f} us per dispatch (wall)")
    copy = ctx.create_program(COPY, ProgramInfo("main", (64, 1, 1), (
        Binding("x", "storage_buffer", 0, writable=False), Binding("y", "storage_buffer", 1))))
    outs = [ctx.buffer_alloc(0, 4 * 64) for _ in range(n)]
    for mode in ("full", "auto"):
        cl = ctx.command_list(0, barriers=mode)
        for o in outs:
            cl.dispatch(copy, (1,), [buf, o])
        cl.submit().wait()
        print(f"replay, {n} independent dispatches, barriers={mode!r}: "
              f"{best(replay) * 1e6:.3f} us per dispatch ({cl.barriers_recorded} barriers)")
    tl = make(n, timestamps=True)
    tl.submit().wait()
    gpu = tl.timestamps()
    print(f"  with GPU timestamps around each: {np.median(gpu) * 1e6:.3f} us median per dispatch")

    for size in (10, 1000):
        small = make(size)

        def submit_only():
            t = time.perf_counter()
            for _ in range(50):
                s = small.submit()
            dt = (time.perf_counter() - t) / 50
            s.wait()
            return dt
        print(f"host cost of one replay submit, N={size}: {best(submit_only) * 1e6:.2f} us")

    scratch = ctx.command_list(0)

    def dispatch_only():
        scratch.reset()
        t = time.perf_counter()
        for _ in range(1000):
            scratch.dispatch(prog, (1,), [buf])
        return (time.perf_counter() - t) / 1000
    print(f"dispatch() (record one command): {best(dispatch_only) * 1e6:.2f} us")

    one = ctx.command_list(0)

    def record_submit():
        total = 0.0
        for _ in range(200):
            one.reset()
            t = time.perf_counter()
            one.dispatch(prog, (1,), [buf])
            s = one.submit()
            total += time.perf_counter() - t
            s.wait()
        return total / 200
    print(f"record + submit of one dispatch (host, waits excluded): {best(record_submit) * 1e6:.2f} us")
    if "--bandwidth" in sys.argv:
        nbytes = 256 << 20
        host = np.ones(nbytes // 4, np.float32)
        out = np.empty_like(host)
        h = ctx.buffer_alloc(0, nbytes)
        for staged in (False, True):
            ctx.force_staging = staged
            w = best(lambda: _timed(lambda: ctx.buffer_write(h, host)), 3)
            r = best(lambda: _timed(lambda: ctx.buffer_read(h, nbytes, out=out)), 3)
            print(f"{'forced staging' if staged else 'default path'} ({h.kind} memory, "
                  f"{'cached' if h.block.cached else 'uncached'} host view): "
                  f"write {nbytes / w / 1e9:.2f} GB/s, read {nbytes / r / 1e9:.2f} GB/s")
        ctx.force_staging = False
        ctx.buffer_free(h)
    if "--profile" in sys.argv:
        import cProfile
        import pstats
        cProfile.runctx("record_submit()", globals(), locals(), "/tmp/vk_bench.prof")
        pstats.Stats("/tmp/vk_bench.prof").sort_stats("tottime").print_stats(14)
    ctx.destroy()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 0)
