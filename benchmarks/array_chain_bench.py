"""The lazy Array API layer on `sqrt(a*b+c)*2-a`, beside NumPy, PyTorch (eager and
torch.compile), CuPy (eager and cupy.fuse) when importable (not a test). Each library
runs in its own process:

    python benchmarks/array_chain_bench.py [--libs vulkan,cuda,numpy,torch,...] [--small]

Figures (best of several timed loops after a warm-up):
- big GB/s: the chain on --size float32 elements (default 2^26; 3 reads + 1 write counted,
  one sync per evaluation);
- small us/iter: the chain on 1,024 elements, --iters iterations, one sync at the end.
  "independent": each iteration recomputes `out` from a, b, c (the lazy layer drops
  the work of iterations whose result is never read: it runs only the last); "dependent":
  `c = chain(a, b, c)`, so every iteration's work must run;
- read us/iter: the chain then a read of one element, every iteration;
- sum(a*b) GB/s: the sum of a product on --size elements (2 reads counted), one sync
  per sum; "x20": 20 sums (results kept) then one sync, as the peers' eager calls
  queue; sum(a) x20: the plain sum the same way (1 read counted);
- record us/op (vkdispatch): 1,000 small elementwise ops recorded, then one flush
  (the recording alone, the fastest of 5, and recording + flush + wait, per op).
--small: sizes that run on a CPU machine in seconds (2^20 elements, 200 iterations)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from runtime_bench import best_of

LIBS = "vulkan,cuda,opencl,numpy,torch,torch.compile,cupy,cupy.fuse"
PIPELINED = 20   # sums per sync in the pipelined figures


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random(n, dtype=np.float32) + 0.5 for _ in range(3)]


def _figures(chain, sync, to_dev, read_one, size, iters, sums=None) -> dict:
    a, b, c = (to_dev(h) for h in _inputs(size))

    def big():
        out = chain(a, b, c)    # kept alive: a lazy layer drops work nobody reads
        sync()
        return out
    t_big = best_of(big)
    extra = {}
    if sums is not None:
        dot, total = sums

        def one():
            out = dot(a, b)
            sync()
            return out

        def pipelined(fn, *args):
            def run():
                outs = [fn(*args) for _ in range(PIPELINED)]   # kept: all must run
                sync()
                return outs
            return best_of(run) / PIPELINED
        extra["sum(a*b) GB/s"] = 8 * size / best_of(one) / 1e9
        extra[f"sum(a*b) x{PIPELINED} GB/s"] = 8 * size / pipelined(dot, a, b) / 1e9
        extra[f"sum(a) x{PIPELINED} GB/s"] = 4 * size / pipelined(total, a) / 1e9
    sa, sb, sc = (to_dev(h) for h in _inputs(1024))

    def independent():
        for _ in range(iters):
            out = chain(sa, sb, sc)
        read_one(out)

    def dependent():
        x = sc
        for _ in range(iters):
            x = chain(sa, sb, x)
        read_one(x)

    def reads():
        for _ in range(iters // 4):
            read_one(chain(sa, sb, sc))

    return {"big GB/s": 16 * size / t_big / 1e9,
            "small independent us/iter": best_of(independent) / iters * 1e6,
            "small dependent us/iter": best_of(dependent) / iters * 1e6,
            "read us/iter": best_of(reads) / (iters // 4) * 1e6, **extra}


def vkdispatch_figures(backend, size, iters) -> dict:
    import vkdispatch as vd
    import vkdispatch.array_api as xp
    vd.initialize(backend=backend)

    def chain(a, b, c):
        return xp.sqrt(a * b + c) * 2 - a

    def read_one(x):
        return float(x[0])

    chain(*(xp.asarray(h) for h in _inputs(8)))
    vd.queue_wait_idle()
    before = vd.stats()
    out = _figures(chain, vd.queue_wait_idle, xp.asarray, read_one, size, iters,
                   (lambda a, b: xp.sum(a * b), xp.sum))
    x = xp.asarray(np.zeros(1024, np.float32))
    vd.queue_wait_idle()

    def record():
        y = x
        for _ in range(1000):
            y = y + 1.0
        return y

    def record_and_flush():
        float(record()[0])
    record_and_flush()
    recorded = []
    for _ in range(5):   # the fastest of several recordings, each flushed untimed
        t0 = time.perf_counter()
        y = record()
        recorded.append(time.perf_counter() - t0)
        float(y[0])
    out["record us/op"] = min(recorded) / 1000 * 1e6
    out["record+flush us/op"] = best_of(record_and_flush) / 1000 * 1e6
    delta = vd.stats() - before
    out["compiles incl. warm-up"] = delta.kernels_compiled + delta.disk_cache_hits
    out["device"] = vd.get_context().device.name
    return out


def numpy_figures(size, iters) -> dict:
    def chain(a, b, c):
        return np.sqrt(a * b + c) * np.float32(2) - a
    out = _figures(chain, lambda: None, lambda h: h, lambda x: float(x[0]), size, iters,
                   (lambda a, b: np.sum(a * b), np.sum))
    out["device"] = "CPU (NumPy)"
    return out


def torch_figures(size, iters, compiled: bool) -> dict:
    import torch
    dev = "cuda" if torch.cuda.is_available() else "cpu"

    def chain(a, b, c):
        return torch.sqrt(a * b + c) * 2 - a
    if compiled:
        chain = torch.compile(chain)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    out = _figures(chain, sync, lambda h: torch.from_numpy(h).to(dev),
                   lambda x: float(x[0]), size, iters, (lambda a, b: torch.sum(a * b), torch.sum))
    out["device"] = torch.cuda.get_device_name() if dev == "cuda" else "CPU (torch)"
    return out


def cupy_figures(size, iters, fused: bool) -> dict:
    import cupy as cp

    def chain(a, b, c):
        return cp.sqrt(a * b + c) * 2 - a
    if fused:
        chain = cp.fuse(chain)
    out = _figures(chain, cp.cuda.Device().synchronize, cp.asarray, lambda x: float(x[0]),
                   size, iters, (lambda a, b: cp.sum(a * b), cp.sum))
    out["device"] = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return out


def worker(lib, size, iters) -> dict:
    if lib == "numpy":
        return numpy_figures(size, iters)
    if lib.startswith("torch"):
        return torch_figures(size, iters, lib == "torch.compile")
    if lib.startswith("cupy"):
        return cupy_figures(size, iters, lib == "cupy.fuse")
    return vkdispatch_figures(lib, size, iters)


COLUMNS = ("big GB/s", "sum(a*b) GB/s", f"sum(a*b) x{PIPELINED} GB/s", f"sum(a) x{PIPELINED} GB/s",
           "small independent us/iter", "small dependent us/iter", "read us/iter",
           "record us/op", "record+flush us/op")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--libs", default=LIBS)
    p.add_argument("--size", type=int, default=None, help="elements of the big chain")
    p.add_argument("--iters", type=int, default=None, help="iterations of the small chain")
    p.add_argument("--small", action="store_true", help="sizes for a CPU machine")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    size = args.size or (1 << 20 if args.small else 1 << 26)
    iters = args.iters or (200 if args.small else 2000)
    if args.worker:
        print(json.dumps(worker(args.worker, size, iters)))
        return
    rows = {}
    for lib in args.libs.split(","):
        proc = subprocess.run([sys.executable, __file__, "--worker", lib, "--size", str(size),
                               "--iters", str(iters)], capture_output=True, text=True)
        if proc.returncode:
            rows[lib] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        else:
            rows[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"sqrt(a*b+c)*2-a: big = {size} float32, small = 1024 float32 x {iters} iterations")
    print(f"{'library':14}" + "".join(f"{c:>27}" for c in COLUMNS) + "  device")
    for lib, r in rows.items():
        if "error" in r:
            print(f"{lib:14} unavailable: {r['error']}")
            continue
        cells = "".join(f"{r[c]:27.2f}" if c in r else f"{'-':>27}" for c in COLUMNS)
        extra = (f" ({r['compiles incl. warm-up']} compiles, in warm-ups)"
                 if r.get("compiles incl. warm-up") else "")
        print(f"{lib:14}{cells}  {r['device']}{extra}")


if __name__ == "__main__":
    main()
