"""Eager call cost with uniforms in push constants vs a uniform buffer (Vulkan; not a
test), same scalar and a new scalar every call:

    python benchmarks/uniform_abi_bench.py [--backend vulkan] [--batch 6] [--rounds 500]

Both kernels are built in one process (VKDISPATCH_PUSH_CONSTANTS=1, then unset) and
timed in turn, round after round, so both see the same machine load. A round is
`batch` calls + submits between syncs, timed in thread CPU: a batch no larger than a
command list's slots never waits for the device, so a CPU driver (lavapipe), slower
than the host, measures the host's cost only. Prints the median us per call."""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


def make_tiny():
    @vd.shader("buf.size")      # defined per call: each build reads the setting
    def tiny(buf: Buff[f32], k: Const[f32]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] + k
    return tiny


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="vulkan")
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--rounds", type=int, default=500)
    args = p.parse_args()
    vd.initialize(backend=args.backend)
    buf = vd.asbuffer(np.zeros(64, np.float32))
    kernels = {}
    for label, setting in (("push constants", "1"), ("uniform buffer", None)):
        saved = os.environ.pop("VKDISPATCH_PUSH_CONSTANTS", None)
        if setting is not None:
            os.environ["VKDISPATCH_PUSH_CONSTANTS"] = setting
        try:
            kernels[label] = make_tiny()
            kernels[label](buf, 1.0)          # built now, with this setting
        finally:
            os.environ.pop("VKDISPATCH_PUSH_CONSTANTS", None)
            if saved is not None:
                os.environ["VKDISPATCH_PUSH_CONSTANTS"] = saved
    for label, kernel in kernels.items():
        (compiled,) = kernel._compiled[vd.get_context()].values()
        assert compiled.info.uniform_in_push_constants == (label == "push constants") \
            or vd.get_context().codegen_target != "glsl", label
    vd.queue_wait_idle()
    graph = vd.global_graph()
    scalars = iter(range(1 << 62))
    times = {(label, mode): [] for label in kernels for mode in ("same", "new")}
    for _ in range(args.rounds):
        for (label, mode), out in times.items():
            kernel = kernels[label]
            vd.queue_wait_idle()
            t = time.thread_time_ns()
            for _ in range(args.batch):
                kernel(buf, 1.0 if mode == "same" else float(next(scalars) % 1000))
                graph.submit()
            out.append((time.thread_time_ns() - t) / args.batch / 1e3)
    print(f"{vd.get_context().device.name}: thread CPU us per call + submit, median "
          f"of {args.rounds} rounds of {args.batch}")
    for (label, mode), out in times.items():
        print(f"{label:15} {mode} scalar {statistics.median(out[len(out) // 10:]):6.2f}")


if __name__ == "__main__":
    main()
