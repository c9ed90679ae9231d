"""Exchange cost per call between vkdispatch and NumPy, PyTorch, CuPy (not a test).

    python benchmarks/interop_bench.py [--backend cuda] [--n 1024] [--calls 2000]

Prints one line per exchange: microseconds per call (best of 5 rounds of `--calls`),
with each library's own exchange beside ours as the reference. On the CUDA backend
the torch/cupy rows are zero-copy (each call makes and consumes a capsule, and orders
the consumer's stream after ours with an event); elsewhere only the host rows run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import vkdispatch as vd


def per_call(fn, calls: int) -> float:
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e6


def rows(n: int):
    buf = vd.asbuffer(np.arange(n, dtype=np.float32))
    host = np.arange(n, dtype=np.float32)
    shares = buf.context.runtime_context.capabilities.cuda_array_interface
    yield "capsule made and dropped (buf.__dlpack__)", (
        lambda: buf.__dlpack__() if shares else buf.__dlpack__(dl_device=(1, 0)))
    yield "np.from_dlpack(buf, device='cpu')", lambda: np.from_dlpack(buf, device="cpu")
    yield "  ref: np.from_dlpack(numpy array)", lambda: np.from_dlpack(host)
    yield "vd.from_dlpack(numpy array) (a copy in)", lambda: vd.from_dlpack(host)
    yield "vd.from_dlpack(buf) (a view)", lambda: vd.from_dlpack(buf)
    import vkdispatch.array_api as xp
    arr = xp.asarray(host)
    yield "np.from_dlpack(xp array, device='cpu')", lambda: np.from_dlpack(arr, device="cpu")
    yield "xp.from_dlpack(buf) (an Array over it)", lambda: xp.from_dlpack(buf)
    if not shares:
        return
    try:
        import torch
        from vkdispatch.interop.torch import as_torch, from_torch
        t = torch.arange(n, device="cuda", dtype=torch.float32)
        yield "as_torch(buf)", lambda: as_torch(buf)
        yield "from_torch(tensor)", lambda: from_torch(t)
        yield "torch.as_tensor(buf) (CUDA array interface)", lambda: torch.as_tensor(
            buf, device="cuda")
        yield "torch.from_dlpack(xp array)", lambda: torch.from_dlpack(arr)
        yield "xp.from_dlpack(tensor)", lambda: xp.from_dlpack(t)
        yield "  ref: torch.from_dlpack(torch tensor)", lambda: torch.from_dlpack(t)
    except ImportError:
        pass
    try:
        import cupy
        from vkdispatch.interop.cupy import as_cupy, from_cupy
        a = cupy.arange(n, dtype=cupy.float32)
        yield "as_cupy(buf)", lambda: as_cupy(buf)
        yield "from_cupy(array)", lambda: from_cupy(a)
        yield "  ref: cupy.from_dlpack(cupy array)", lambda: cupy.from_dlpack(a)
    except ImportError:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None, help="vulkan, cuda or opencl (default: best)")
    ap.add_argument("--n", type=int, default=1024, help="elements per buffer")
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    if args.backend:
        vd.initialize(backend=args.backend)
    ctx = vd.get_context()
    print(f"backend {ctx.backend}, {args.n} float32 per buffer, us per call:")
    for name, fn in rows(args.n):
        fn()   # warm up (first compile, first import)
        print(f"  {per_call(fn, args.calls):9.2f}  {name}")


if __name__ == "__main__":
    main()
