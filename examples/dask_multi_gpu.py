"""A Dask job over several GPUs: one dask.distributed worker per device, each chunk a
vkdispatch Array on its worker's device.

    python examples/dask_multi_gpu.py [--backend cuda] [--devices 0,1] [--size 8192]

Runs the same job with 1 worker and with one worker per device and prints both times
(on a machine with one device, pass --workers 2 to see two workers share it). Each
chunk is made on its worker, moved to the device, and only its row sums come back.
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


STEPS = 10


def chain(b):
    """The per-chunk work: a chain of elementwise steps (recorded lazily on the device,
    fused into few kernels), with any array namespace."""
    for _ in range(STEPS):
        b = b * 0.25 + (b * b) * 0.5
    return b


def job(host: "da.Array"):
    """Each chunk goes to its worker's device, runs the chain there and comes back as
    its row sums only: moving whole results to the client would time the network."""
    x = host.map_blocks(xp.asarray, dtype=host.dtype)          # to the worker's device
    x = x.map_blocks(chain, dtype=host.dtype)
    return x.map_blocks(lambda b: np.asarray(xp.sum(b, axis=1)), dtype=host.dtype,
                        drop_axis=1)


def run(workers: int, devices: list, backend, host: "da.Array") -> float:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.register_plugin(device_plugin(devices, backend=backend))
        job(host[:256]).compute()                              # warm up: compile
        start = time.perf_counter()
        out = job(host).compute()
        elapsed = time.perf_counter() - start
    rows = host[:4].compute().astype(np.float64)
    np.testing.assert_allclose(out[:4], chain(rows).sum(axis=1), rtol=1e-4)
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
