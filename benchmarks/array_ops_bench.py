"""Sorting, searching, indexing, set functions and the fft extension of
vkdispatch.array_api beside NumPy, PyTorch and CuPy when importable (not a test). Each
library runs in its own process:

    python benchmarks/array_ops_bench.py [--libs vulkan,cuda,numpy,torch,cupy] [--small]
        [--radix-above N]

Each figure is milliseconds per call (the fastest of several, after a warm-up), a
call ending with the result on the device and a synchronize (vkdispatch: the call,
then `vd.queue_wait_idle()`; data-dependent results - nonzero, x[mask], unique_values -
read their sizes inside the call, as every library must). --small: sizes for a CPU
machine. --radix-above N: vkdispatch sorts rows longer than N elements by its radix
sort (default: rows longer than a bitonic tile), e.g. 0 to time it on "sort rows"."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
from runtime_bench import best_of

LIBS = "vulkan,cuda,opencl,numpy,torch,cupy"


def _data(n: int, rows: int):
    rng = np.random.default_rng(0)
    return {
        "x": rng.random(n, dtype=np.float32),
        "m": rng.random((rows, n // rows), dtype=np.float32),
        "idx": rng.integers(0, n, n // 4).astype(np.int64),
        "ints": rng.integers(0, n // 8, n // 4).astype(np.int32),
        "queries": rng.random(n // 4, dtype=np.float32),
        "c": (rng.standard_normal((rows, n // rows)) + 1j * rng.standard_normal(
            (rows, n // rows))).astype(np.complex64),
    }


def _cases(ns, to_dev, data):
    """name -> call, over namespace `ns` (numpy, torch, cupy or vkdispatch.array_api)."""
    x, m, idx, ints = (to_dev(data[k]) for k in ("x", "m", "idx", "ints"))
    queries, c = to_dev(data["queries"]), to_dev(data["c"])
    sorted_x = ns["sort"](x)
    return {
        "argsort 1-D": lambda: ns["argsort"](x),
        "sort rows": lambda: ns["sort"](m),
        "searchsorted": lambda: ns["searchsorted"](sorted_x, queries),
        "take": lambda: ns["take"](x, idx),
        "nonzero": lambda: ns["nonzero"](x > 0.5),
        "x[mask]": lambda: x[x > 0.5],
        "unique_values": lambda: ns["unique"](ints),
        "fft rows": lambda: ns["fft"](c),
        "rfft rows": lambda: ns["rfft"](m),
    }


def _figures(ns, to_dev, sync, data) -> dict:
    out = {}
    for name, call in _cases(ns, to_dev, data).items():
        def run(call=call):
            r = call()
            sync()
            return r
        out[name] = best_of(run) * 1e3
    return out


def vkdispatch_figures(backend, data, radix_above=None) -> dict:
    import vkdispatch as vd
    import vkdispatch.array_api as xp
    from vkdispatch.array_api import _sorting
    _sorting.RADIX_ABOVE = radix_above
    vd.initialize(backend=backend)
    ns = {"sort": xp.sort, "argsort": xp.argsort, "searchsorted": xp.searchsorted,
          "take": xp.take, "nonzero": xp.nonzero, "unique": xp.unique_values,
          "fft": xp.fft.fft, "rfft": xp.fft.rfft}
    out = _figures(ns, xp.asarray, vd.queue_wait_idle, data)
    out["device"] = vd.get_context().device.name
    return out


def numpy_figures(data) -> dict:
    ns = {"sort": np.sort, "argsort": lambda a: np.argsort(a, kind="stable"),
          "searchsorted": np.searchsorted, "take": np.take, "nonzero": np.nonzero,
          "unique": np.unique, "fft": np.fft.fft,
          "rfft": np.fft.rfft}
    out = _figures(ns, lambda h: h, lambda: None, data)
    out["device"] = "CPU (NumPy)"
    return out


def torch_figures(data) -> dict:
    import torch
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    ns = {"sort": lambda a: torch.sort(a, stable=True).values,
          "argsort": lambda a: torch.argsort(a, stable=True),
          "searchsorted": torch.searchsorted, "take": torch.take,
          "nonzero": torch.nonzero, "unique": torch.unique, "fft": torch.fft.fft,
          "rfft": torch.fft.rfft}
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    out = _figures(ns, lambda h: torch.from_numpy(h).to(dev), sync, data)
    out["device"] = torch.cuda.get_device_name() if dev == "cuda" else "CPU (torch)"
    return out


def cupy_figures(data) -> dict:
    import cupy as cp
    ns = {"sort": cp.sort, "argsort": cp.argsort, "searchsorted": cp.searchsorted,
          "take": cp.take, "nonzero": cp.nonzero, "unique": cp.unique, "fft": cp.fft.fft,
          "rfft": cp.fft.rfft}
    out = _figures(ns, cp.asarray, cp.cuda.Device().synchronize, data)
    out["device"] = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return out


def worker(lib, data, radix_above=None) -> dict:
    if lib == "numpy":
        return numpy_figures(data)
    if lib == "torch":
        return torch_figures(data)
    if lib == "cupy":
        return cupy_figures(data)
    return vkdispatch_figures(lib, data, radix_above)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--libs", default=LIBS)
    p.add_argument("--small", action="store_true", help="sizes for a CPU machine")
    p.add_argument("--radix-above", type=int, default=None,
                   help="vkdispatch: rows longer than this take the radix sort")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    n, rows = ((1 << 18, 64) if args.small else (1 << 24, 4096))
    if args.worker:
        print(json.dumps(worker(args.worker, _data(n, rows), args.radix_above)))
        return
    rows_out = {}
    for lib in args.libs.split(","):
        cmd = [sys.executable, __file__, "--worker", lib] + (["--small"] if args.small else [])
        if args.radix_above is not None:
            cmd += ["--radix-above", str(args.radix_above)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            rows_out[lib] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        else:
            rows_out[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    names = list(_cases({k: (lambda *a, **k: None) for k in (
        "sort", "argsort", "searchsorted", "take", "nonzero", "unique", "fft", "rfft")},
        lambda h: h, _data(1024, 4)))
    print(f"ms per call; 1-D cases on {n} elements (take/searchsorted/unique: {n // 4}), "
          f"rows: {rows} x {n // rows}")
    print(f"{'library':10}" + "".join(f"{c:>15}" for c in names) + "  device")
    for lib, r in rows_out.items():
        if "error" in r:
            print(f"{lib:10} unavailable: {r['error']}")
            continue
        print(f"{lib:10}" + "".join(f"{r[c]:15.3f}" for c in names) + f"  {r['device']}")


if __name__ == "__main__":
    main()
