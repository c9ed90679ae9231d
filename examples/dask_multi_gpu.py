"""A Dask job over several GPUs: one dask.distributed worker per device, each chunk a
vkdispatch Array on its worker's device.

    python examples/dask_multi_gpu.py [--backend cuda] [--devices 0,1] [--size 8192]

Runs the same job with 1 worker and with one worker per device and prints both times
(on a machine with one device, pass --workers 2 to see two workers share it).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from distributed import Client, LocalCluster

import dask.array as da
import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.interop.dask import device_plugin


def job(host: "da.Array"):
    """A chain of elementwise work per chunk, on the chunk's worker's device; the
    result comes back to the host as NumPy chunks."""
    x = host.map_blocks(xp.asarray, dtype=host.dtype)          # to the worker's device
    for _ in range(10):   # recorded lazily, fused into few kernels per chunk
        x = x.map_blocks(lambda b: xp.sin(b) * 0.5 + b * 0.25, dtype=host.dtype)
    return x.map_blocks(np.asarray, dtype=host.dtype)          # back to the host


def run(workers: int, devices: list, backend, host: "da.Array") -> float:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.register_plugin(device_plugin(devices, backend=backend))
        job(host[:256]).compute()                              # warm up: compile
        start = time.perf_counter()
        out = job(host).compute()
        elapsed = time.perf_counter() - start
    ref = host[:4].compute()
    for _ in range(10):
        ref = np.sin(ref) * 0.5 + ref * 0.25
    np.testing.assert_allclose(out[:4], ref, rtol=1e-4, atol=1e-5)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--devices", default=None, help="device indices, e.g. 0,1 (default: all)")
    ap.add_argument("--workers", type=int, default=None, help="default: one per device")
    ap.add_argument("--size", type=int, default=4096, help="the array is size x size")
    args = ap.parse_args()
    if args.backend:
        vd.initialize(backend=args.backend)
    backend = vd.get_backend() if args.backend is None else args.backend
    devices = ([int(d) for d in args.devices.split(",")] if args.devices
               else list(range(len(vd.get_devices()))))
    workers = args.workers or len(devices)
    host = da.random.default_rng(0).random((args.size, args.size), dtype=np.float32,
                                           chunks=(args.size // max(workers, 2), args.size))
    one = run(1, devices, backend, host)
    many = run(workers, devices, backend, host)
    print(f"{backend}, devices {devices}, {args.size}x{args.size} float32")
    print(f"  1 worker:  {one:.3f} s")
    print(f"  {workers} workers: {many:.3f} s  ({one / many:.2f}x)")


if __name__ == "__main__":
    main()
