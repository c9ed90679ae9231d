"""Reductions that read through a map, beside a plain sum (not a test): GB/s of input
read for a plain sum, a mapped sum a[i] and a dot product a[i] * b[i] recorded 20 at a
time into one CommandGraph, and `float(xp.sum(a * b))` (the array layer, a sync each
time), so the kernels' speed and the per-call cost show apart.

    PYTHONPATH=.:benchmarks python benchmarks/map_reduce_bench.py --backend cuda,vulkan
    PYTHONPATH=.:benchmarks python benchmarks/map_reduce_bench.py --backend vulkan --size 65536
"""
from __future__ import annotations

import argparse

import numpy as np

import vkdispatch as vd
import vkdispatch.array_api as xp
from runtime_bench import best_of
from vkdispatch.codegen.abbreviations import Buff, f32

REPS = 20


@vd.reduce.reduce(0)
def total(a: f32, b: f32) -> f32:
    return a + b


@vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
def mapped(a: Buff[f32]) -> f32:
    return a[vd.reduce.mapped_io_index()]


@vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
def dot(a: Buff[f32], b: Buff[f32]) -> f32:
    i = vd.reduce.mapped_io_index()
    return a[i] * b[i]


def _line(backend: str, name: str, nbytes: int, seconds: float, value: float) -> None:
    print(f"{backend:7s} {name:28s} {nbytes / seconds / 1e9:8.0f} GB/s {seconds * 1e6:9.1f} us"
          f"  value {value:.6g}", flush=True)


def run(backend: str, n: int) -> None:
    vd.initialize(backend=backend)
    rng = np.random.default_rng(0)
    ha, hb = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    a, b = vd.asbuffer(ha), vd.asbuffer(hb)
    want = float(np.dot(ha.astype(np.float64), hb))
    for name, make, nbytes in (("vd.reduce sum", lambda g: total(a, graph=g), 4 * n),
                               ("map_reduce a[i]", lambda g: mapped(a, graph=g), 4 * n),
                               ("map_reduce a[i]*b[i]", lambda g: dot(a, b, graph=g), 8 * n)):
        graph = vd.CommandGraph()
        outs = [make(graph) for _ in range(REPS)]
        graph.submit(wait=True)
        seconds = best_of(lambda: graph.submit(wait=True)) / REPS
        _line(backend, name, nbytes, seconds, float(outs[-1].read(0)[0]))
    xa, xb = xp.asarray(ha), xp.asarray(hb)
    got = float(xp.sum(xa * xb))
    if abs(got - want) > 1e-4 * abs(want):
        raise SystemExit(f"{backend}: xp.sum(a * b) = {got}, NumPy {want}")
    _line(backend, "xp.sum(a*b), sync each", 8 * n, best_of(lambda: float(xp.sum(xa * xb))), got)
    vd.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="cuda,vulkan")
    ap.add_argument("--size", type=int, default=1 << 26)
    args = ap.parse_args()
    for backend in args.backend.split(","):
        run(backend, args.size)


if __name__ == "__main__":
    main()
