"""Why the default device on a CPU-only machine is PoCL (not a test).

    python benchmarks/cpu_default_bench.py [--size-log2 24] [--runs 7]

Times sqrt(a*b+c)*2-a over 2^24 float32 as one @vd.shader kernel on each CPU backend
present (Vulkan through lavapipe, OpenCL through PoCL), each in its own process (one
process has one backend), beside NumPy. Prints the median of `--runs` runs after a
warm-up, in ms and as a ratio to NumPy's time (below 1: faster than NumPy), and which
backend `vd.initialize()` picks by default."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32

CPU_BACKENDS = ("vulkan", "opencl")


@vd.shader("out.size")
def chain(out: Buff[f32], a: Buff[f32], b: Buff[f32], c: Buff[f32]):
    i = vc.global_invocation_id().x
    out[i] = vc.sqrt(a[i] * b[i] + c[i]) * 2.0 - a[i]


def inputs(n: int):
    rng = np.random.default_rng(0)
    a, b, c = (rng.random(n, dtype=np.float32) + 0.5 for _ in range(3))
    return a, b, c


def median_ms(fn, runs: int, warm_up: int = 2) -> float:
    for _ in range(warm_up):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def numpy_ms(n: int, runs: int) -> float:
    a, b, c = inputs(n)
    return median_ms(lambda: np.sqrt(a * b + c) * 2 - a, runs)


def worker(backend: str, n: int, runs: int) -> dict:
    """One backend, in this process: the kernel's median time on its default device."""
    try:
        vd.initialize(backend=backend)
        device = vd.get_context().device
    except vd.BackendUnavailableError as exc:
        return {"backend": backend, "skip": str(exc).splitlines()[0]}
    if device.device_type != "cpu":
        return {"backend": backend, "skip": f"{device.name} is not a CPU ({device.device_type})"}

    a, b, c = inputs(n)
    da, db, dc = vd.asbuffer(a), vd.asbuffer(b), vd.asbuffer(c)
    out = vd.Buffer((n,), vd.float32)

    def run():
        chain(out, da, db, dc)
        vd.queue_wait_idle()

    ms = median_ms(run, runs)
    err = float(np.abs(out.read(0) - (np.sqrt(a * b + c) * 2 - a)).max())
    return {"backend": backend, "device": device.name, "ms": ms, "max_err": err}


def in_subprocess(args: list, timeout: float = 600) -> str:
    env = {k: v for k, v in os.environ.items() if k != "VKDISPATCH_BACKEND"}
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size-log2", type=int, default=24)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--worker", choices=CPU_BACKENDS, help=argparse.SUPPRESS)
    p.add_argument("--default", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    n = 1 << args.size_log2
    if args.worker:
        print(json.dumps(worker(args.worker, n, args.runs)))
        return
    if args.default:
        print(f"{vd.get_backend()}: {vd.get_context().device.name}")
        return

    np_ms = numpy_ms(n, args.runs)
    rows = [json.loads(in_subprocess(["--worker", b, "--size-log2", str(args.size_log2),
                                      "--runs", str(args.runs)])) for b in CPU_BACKENDS]
    default = in_subprocess(["--default"])
    print(f"sqrt(a*b+c)*2-a, 2^{args.size_log2} float32, median of {args.runs} runs "
          f"after warm-up\n")
    print(f"| {'implementation':<42} | {'ms':>8} | {'x NumPy time':>12} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 14}|")
    for r in rows:
        name = f"{r['backend']} ({r.get('device', 'absent').split(' (')[0]})"[:42]
        if "skip" in r:
            print(f"| {name:<42} | {'-':>8} | {'-':>12} |  skipped: {r['skip']}")
        else:
            print(f"| {name:<42} | {r['ms']:8.1f} | {r['ms'] / np_ms:12.2f} |")
    print(f"| {'NumPy ' + np.__version__:<42} | {np_ms:8.1f} | {1.0:12.2f} |")
    print(f"\nvd.initialize() without a backend picks {default}")
    errs = [r["max_err"] for r in rows if "max_err" in r]
    if errs:
        print(f"max abs error vs NumPy: {max(errs):.2e}")


if __name__ == "__main__":
    main()
