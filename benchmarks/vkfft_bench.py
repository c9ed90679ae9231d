"""vd.vkfft's complex64 FFTs beside cupy.fft and torch.fft (not a test). Each library runs
in its own process, all in the same invocation:

    python benchmarks/vkfft_bench.py [--libs cuda,opencl,cupy,torch] [--small]

Workloads (DESIGN.md's FFT targets): batched 1-D along the last axis of 4096x4096 and
65536x1024, and the 2-D FFT of 4096x4096 (`--small`: 64x256, 1024x64 and 256x256, for
CPU drivers such as PoCL). Figures are microseconds per transform: the best of several
loops of back-to-back transforms that end with one synchronization, after a warm-up
(the plan is built before timing). vd.vkfft transforms in place; cupy.fft and
torch.fft allocate their output (their usual call)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

# the benchmarks' shared timer (warms the GPU up first)
from runtime_bench import best_of, per_call

FULL = {"1-D 4096x4096": ((4096, 4096), 1), "1-D 65536x1024": ((65536, 1024), 1),
        "2-D 4096x4096": ((4096, 4096), 2)}
SMALL = {"1-D 64x256": ((64, 256), 1), "1-D 1024x64": ((1024, 64), 1),
         "2-D 256x256": ((256, 256), 2)}


def data(shape) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def vkdispatch_figures(backend: str, workloads: dict, loops: int) -> dict:
    import vkdispatch as vd
    vd.initialize(backend=backend)
    out = {"device": vd.get_context().device.name}
    for name, (shape, ndim) in workloads.items():
        buf = vd.asbuffer(data(shape))
        transform = vd.vkfft.fft2 if ndim == 2 else vd.vkfft.fft
        transform(buf)               # builds the plan
        vd.queue_wait_idle()

        def run():
            for _ in range(loops):
                transform(buf)
            vd.queue_wait_idle()
        out[name] = best_of(run) / loops * 1e6
        expect = np.fft.fft2(data(shape)) if ndim == 2 else np.fft.fft(data(shape))
        buf.write(data(shape))
        transform(buf)
        got = buf.read(0)
        err = np.linalg.norm(got - expect) / np.linalg.norm(expect)
        assert err < 1e-5, f"{name}: relative error {err:.2g}"
    return out


def cupy_figures(workloads: dict, loops: int) -> dict:
    import cupy as cp
    out = {"device": cp.cuda.runtime.getDeviceProperties(0)["name"].decode()}
    for name, (shape, ndim) in workloads.items():
        x = cp.asarray(data(shape))
        transform = cp.fft.fft2 if ndim == 2 else cp.fft.fft
        out[name] = per_call(lambda: transform(x), loops, cp.cuda.Device().synchronize) * 1e6
    return out


def torch_figures(workloads: dict, loops: int) -> dict:
    import torch
    out = {"device": torch.cuda.get_device_name()}
    for name, (shape, ndim) in workloads.items():
        x = torch.from_numpy(data(shape)).cuda()
        transform = torch.fft.fft2 if ndim == 2 else torch.fft.fft
        out[name] = per_call(lambda: transform(x), loops, torch.cuda.synchronize) * 1e6
    return out


def worker(lib: str, workloads: dict, loops: int) -> dict:
    if lib == "cupy":
        return cupy_figures(workloads, loops)
    if lib == "torch":
        return torch_figures(workloads, loops)
    return vkdispatch_figures(lib, workloads, loops)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--libs", default="cuda,opencl,cupy,torch",
                   help="vkdispatch backends (cuda, opencl) and peers (cupy, torch)")
    p.add_argument("--small", action="store_true", help="small sizes, for CPU drivers")
    p.add_argument("--loops", type=int, default=None, help="transforms per timed loop")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    workloads = SMALL if args.small else FULL
    loops = args.loops or (5 if args.small else 20)
    if args.worker:
        print(json.dumps(worker(args.worker, workloads, loops)))
        return
    rows = {}
    for lib in args.libs.split(","):
        cmd = [sys.executable, __file__, "--worker", lib, "--loops", str(loops)]
        proc = subprocess.run(cmd + (["--small"] if args.small else []), capture_output=True,
                              text=True)
        if proc.returncode:
            rows[lib] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        else:
            rows[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    peers = [r for lib, r in rows.items() if lib in ("cupy", "torch") and "error" not in r]
    names = list(workloads)
    print(f"{'library':9}" + "".join(f"{n:>17}" for n in names) + "  (us per transform)")
    for lib, r in rows.items():
        if "error" in r:
            print(f"{lib:9} unavailable: {r['error']}")
            continue
        cells = []
        for n in names:
            best = min((p[n] for p in peers), default=None)
            ratio = f" x{r[n] / best:.2f}" if best and lib not in ("cupy", "torch") else ""
            cells.append(f"{r[n]:.1f}{ratio}".rjust(17))
        print(f"{lib:9}" + "".join(cells) + f"  {r['device']}")
    if peers:
        print("xN: time relative to the fastest of cupy/torch on that workload")


if __name__ == "__main__":
    main()
