"""What memory checks cost (not a test): out[i] = a[i] * b[i] + c[i] over 2^N float32.

    python benchmarks/bounds_check_cost.py [--backends opencl,vulkan] [--size-log2 24]
        [--reps 10] [--rounds 7]

One process per backend. Each variant is one @vd.shader kernel:
  unchecked     memory_checks=False
  default       exec_size "out.size" (the default memory checks): the call finds every
                buffer at least as long as the exec size, so the accesses at
                global_invocation_id().x need no guard (the exec-size check bounds them)
  all-guarded   the same kernel built with every access guarded (as any access whose
                index is not provably in range), recorded by hand with its lengths
The variants run interleaved (round-robin, `--rounds` times) and each figure is the
fastest round of `--reps` recorded dispatches replayed with one submit, so drifting
clocks or a busy machine hit every variant alike. Results are checked against NumPy.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32


def all_guarded(fn):
    """A recorder of `fn` built with every buffer access guarded (no buffer is taken as
    long enough), filling its hidden lengths itself."""
    from vkdispatch.codegen import ir
    from vkdispatch.codegen.trace import EXEC_COUNT, FOLD

    def record(*args, graph):
        ctx = vd.get_context()
        bound = dict(zip((p.name for p in fn.params), args))
        groups, exec_count, ls = fn.launch_geometry(bound, ctx.device)
        bounds = FOLD if groups[1] > 1 and exec_count[1] == 1 else True
        kernel = fn.build(ctx, ls, bounds, checks=(True, ()))
        uniforms = {EXEC_COUNT: exec_count}
        for name in kernel.uniform_names:
            if name.startswith(ir.LENGTH_PREFIX):
                uniforms[name] = bound[name[len(ir.LENGTH_PREFIX):]].size
        graph.record(kernel, groups, [bound[n] for n in kernel.binding_names], uniforms)
    return record


def worker(backend: str, size_log2: int, reps: int, rounds: int) -> dict:
    vd.initialize(backend=backend)

    def body(out: Buff[f32], a: Buff[f32], b: Buff[f32], c: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = a[i] * b[i] + c[i]

    variants = {
        "unchecked": vd.shader("out.size", memory_checks=False)(body),
        "default": vd.shader("out.size")(body),
        "all-guarded": all_guarded(vd.shader("out.size")(body)),
    }
    n = 1 << size_log2
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(n, dtype=np.float32) for _ in range(3)]
    a, b, c = (vd.asbuffer(h) for h in host)
    ref = host[0] * host[1] + host[2]
    graphs, best = {}, {}
    out = vd.Buffer((n,), vd.float32)                # one set of buffers for all variants
    for name, fn in variants.items():
        out.write(np.zeros(n, np.float32))
        g = vd.CommandGraph()
        for _ in range(reps):
            fn(out, a, b, c, graph=g)
        g.submit(wait=True)                        # compile and warm up
        np.testing.assert_allclose(out.read(0), ref, rtol=1e-6, atol=1e-6)
        graphs[name] = g
        best[name] = float("inf")
    t = time.perf_counter()
    while time.perf_counter() - t < 0.5:          # an idle GPU drops its clocks
        for g in graphs.values():
            g.submit(wait=True)
    for _ in range(rounds):
        for name, g in graphs.items():
            t0 = time.perf_counter()
            g.submit(wait=True)
            best[name] = min(best[name], (time.perf_counter() - t0) / reps)
    dev = vd.get_context().device
    return {"backend": backend, "device": dev.name, "n": n,
            "ms": {k: v * 1e3 for k, v in best.items()},
            "GB/s": {k: 16 * n / v / 1e9 for k, v in best.items()}}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backends", default="opencl,vulkan")
    p.add_argument("--size-log2", type=int, default=24)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size_log2, args.reps, args.rounds)))
        return
    for backend in args.backends.split(","):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", backend,
               "--size-log2", str(args.size_log2), "--reps", str(args.reps),
               "--rounds", str(args.rounds)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{backend}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        base = r["ms"]["unchecked"]
        print(f"# {r['backend']} on {r['device']}, a*b+c over 2^{args.size_log2} float32")
        for k, ms in r["ms"].items():
            print(f"  {k:12s} {ms:9.3f} ms  {r['GB/s'][k]:8.2f} GB/s  "
                  f"{(ms / base - 1) * 100:+6.1f}% vs unchecked")


if __name__ == "__main__":
    main()
