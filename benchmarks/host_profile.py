"""Where the host time of an eager shader call goes (not a test).

    python benchmarks/host_profile.py --backend cuda [--calls 2000] [--top 20] [--breakdown]
                                      [--submit]

--breakdown prints the parts of one call without the profiler's overhead: recording,
the graph's submit bookkeeping, and the runtime's submit of a built command list
(wall and thread CPU time; see per_call).
--submit profiles only the runtime's submit of that built list (a replay).
"""
import argparse
import cProfile
import itertools
import pstats
import time

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def tiny(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


def per_call(fn, calls: int, repeat: int = 5, sync=None) -> tuple:
    """(wall, thread CPU) microseconds per iteration of `calls` runs of `fn`, the least
    of `repeat` loops, the device idle (`sync()`, default vd.queue_wait_idle) before
    each. CPU time is the host cost a shared or CPU-driver machine (lavapipe, PoCL:
    the device's threads compete for the cores) still measures steadily."""
    sync = sync or vd.queue_wait_idle
    t = time.perf_counter()
    while time.perf_counter() - t < 0.2:   # warm-up: caches, and the GPU's clocks
        fn()
    wall = cpu = float("inf")
    for _ in range(repeat):
        sync()
        w, c = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            fn()
        c, w = time.thread_time() - c, time.perf_counter() - w
        wall, cpu = min(wall, w), min(cpu, c)
    sync()
    return wall / calls * 1e6, cpu / calls * 1e6


def stage_costs(buf, calls: int) -> dict:
    """(wall, CPU) microseconds of the parts of an eager call + submit: the @vd.shader
    call (record), the graph's submit bookkeeping, the runtime's submit of the kept
    command list (as is, and after set_uniform with new bytes, as a new scalar makes
    it), and the whole; and the whole with a new scalar every call."""
    graph = vd.global_graph()
    values = itertools.cycle([float(i) for i in range(1000)])
    full = per_call(lambda: (tiny(buf, 1.0), graph.submit()), calls)
    record = per_call(lambda: (tiny(buf, 1.0), graph.reset()), calls)
    reset = per_call(graph.reset, calls)
    cl = built_list(buf)
    runtime = per_call(cl.submit, calls)
    packed = itertools.cycle(uniform_bytes(buf, [float(i) for i in range(1000)]))
    out = {"record": tuple(r - z for r, z in zip(record, reset)),
           "runtime submit": runtime,
           "runtime submit, new uniform": per_call(
               lambda: (cl.set_uniform(0, next(packed)), cl.submit()), calls)}
    out["graph bookkeeping"] = tuple(f - r - s for f, r, s in zip(full, out["record"], runtime))
    out["call + submit"] = full
    out["call + submit, new scalar"] = per_call(
        lambda: (tiny(buf, next(values)), graph.submit()), calls)
    return out


def uniform_bytes(buf, values) -> list:
    """The packed uniforms of `tiny(buf, k)` for each k (as the graph hands them to the
    runtime's set_uniform)."""
    graph = vd.global_graph()
    out = []
    for k in values:
        tiny(buf, k)
        out.append(graph._records[0].packed)
        graph.reset()
    return out


def breakdown(buf, calls: int) -> None:
    for stage, (wall, cpu) in stage_costs(buf, calls).items():
        print(f"{stage:28} {wall:7.2f} us wall {cpu:7.2f} us CPU")


def built_list(buf):
    """The runtime command list the global graph keeps for one `tiny` call."""
    graph = vd.global_graph()
    tiny(buf, 1.0)
    graph.submit()
    vd.queue_wait_idle()
    return next(iter(graph._singles.values())).cl   # the eager calls' kept lists


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default=None)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--breakdown", action="store_true")
    p.add_argument("--submit", action="store_true")
    args = p.parse_args()
    vd.initialize(backend=args.backend)
    buf = vd.Buffer((64,), vd.float32)
    tiny(buf, 1.0)
    vd.queue_wait_idle()

    if args.breakdown:
        breakdown(buf, args.calls)
        return
    cl = built_list(buf) if args.submit else None

    def run():
        for _ in range(args.calls):
            if cl is not None:      # the runtime's submit of the kept list alone
                cl.submit()
            else:
                tiny(buf, 1.0)
                vd.global_graph().submit()
        vd.queue_wait_idle()

    prof = cProfile.Profile()
    prof.runcall(run)
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
