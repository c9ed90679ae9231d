"""Where the host time of an eager shader call goes (not a test).

    python benchmarks/host_profile.py --backend cuda [--calls 2000] [--top 20]
"""
import argparse
import cProfile
import pstats

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def tiny(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default=None)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args()
    vd.initialize(backend=args.backend)
    buf = vd.Buffer((64,), vd.float32)
    tiny(buf, 1.0)
    vd.queue_wait_idle()

    def run():
        for _ in range(args.calls):
            tiny(buf, 1.0)
            vd.global_graph().submit()
        vd.queue_wait_idle()

    prof = cProfile.Profile()
    prof.runcall(run)
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
