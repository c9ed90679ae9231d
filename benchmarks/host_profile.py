"""Where the host time of an eager shader call goes (not a test).

    python benchmarks/host_profile.py --backend cuda [--calls 2000] [--top 20] [--breakdown]
                                      [--submit]

--breakdown prints the parts of one call without the profiler's overhead: recording,
the graph's submit bookkeeping, and the runtime's submit of a built command list.
--submit profiles only the runtime's submit of that built list (a replay).
"""
import argparse
import cProfile
import pstats
import timeit

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def tiny(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


def breakdown(buf, calls: int) -> None:
    graph = vd.global_graph()

    def per_call(fn) -> float:
        return min(timeit.repeat(fn, number=calls, repeat=5)) / calls * 1e6

    record = per_call(lambda: (tiny(buf, 1.0), graph.reset()))
    reset = per_call(graph.reset)
    full = per_call(lambda: (tiny(buf, 1.0), graph.submit()))
    vd.queue_wait_idle()
    raw = per_call(built_list(buf).submit)
    vd.queue_wait_idle()
    print(f"record (a @vd.shader call): {record - reset:.2f} us")
    print(f"graph submit bookkeeping: {full - (record - reset) - raw:.2f} us")
    print(f"runtime CommandList.submit: {raw:.2f} us")
    print(f"whole call (record + submit): {full:.2f} us")


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
