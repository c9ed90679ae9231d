"""Sum of float32 with vd.reduce beside cupy.sum and torch.sum (not a test).

    python benchmarks/reduce_bench.py --backend vulkan,cuda            # 2^26 and 2^28
    python benchmarks/reduce_bench.py --backend vulkan --size 1048576  # small (lavapipe)

GB/s = bytes read (4 per element) / seconds per sum. vkdispatch: `reps` sums recorded
into one CommandGraph, the fastest of 5 submits (wall clock, after a warm-up). The sums
are independent, so a Vulkan device may overlap one's end with the next one's start;
the bracket also gives, from a second graph recorded with timestamps, the GPU
timestamps' figure (the sum of each dispatch's own time: no overlap, no gap) and that
graph's wall clock (timestamps between dispatches serialize them). Peers: `reps` calls on one stream then a
synchronize, fastest of 5. One line per library and size, with the ratio to the best
peer."""
from __future__ import annotations

import argparse

import numpy as np

import vkdispatch as vd
from runtime_bench import best_of, cuda_peer, per_call
from vkdispatch.codegen.abbreviations import f32


@vd.reduce.reduce(0)
def sum_f32(a: f32, b: f32) -> f32:
    return a + b


def check(got: float, data: np.ndarray, who: str) -> None:
    exact = data.sum(dtype=np.float64)
    if abs(got - exact) > 1e-4 * np.abs(data).sum(dtype=np.float64) + 1e-3:
        raise AssertionError(f"{who}: sum {got} but NumPy's float64 sum is {exact}")


def bench_vkdispatch(backend: str, data: np.ndarray, reps: int) -> dict:
    vd.initialize(backend=backend)
    try:
        return _time_vkdispatch(backend, data, reps)
    finally:
        vd.shutdown()


def _time_vkdispatch(backend: str, data: np.ndarray, reps: int) -> dict:
    buf = vd.asbuffer(data)
    check(float(sum_f32(buf).read(0)[0]), data, f"vkdispatch {backend}")
    # wall clock without timestamps: on Vulkan, a timestamp after each dispatch keeps
    # the next from starting while it drains (CuPy's and torch's calls carry none)
    graph = vd.CommandGraph()
    outs = [sum_f32(buf, graph=graph) for _ in range(reps)]
    graph.submit(wait=True)
    t = best_of(lambda: graph.submit(wait=True)) / reps
    check(float(outs[-1].read(0)[0]), data, f"vkdispatch {backend} (graph)")
    timed = vd.CommandGraph(timestamps=True)
    outs = [sum_f32(buf, graph=timed) for _ in range(reps)]
    timed.submit(wait=True)
    t_stamped = best_of(lambda: timed.submit(wait=True)) / reps
    gpu = sum(timed.timestamps(0)) / reps
    return {"seconds": t, "gpu_seconds": gpu, "stamped_seconds": t_stamped,
            "note": f"{len(graph) // reps} dispatch(es) per sum"}


def bench_cupy(data: np.ndarray, reps: int):
    cp = cuda_peer("cupy")
    if cp is None:
        return None
    x = cp.asarray(data)
    check(float(cp.sum(x)), data, "cupy")
    return {"seconds": per_call(lambda: cp.sum(x), reps, cp.cuda.Device().synchronize),
            "note": f"cupy {cp.__version__}"}


def bench_torch(data: np.ndarray, reps: int):
    torch = cuda_peer("torch")
    if torch is None:
        return None
    x = torch.from_numpy(data).cuda()
    check(float(torch.sum(x)), data, "torch")
    return {"seconds": per_call(lambda: torch.sum(x), reps, torch.cuda.synchronize),
            "note": f"torch {torch.__version__}"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="vulkan,cuda",
                   help="comma-separated vkdispatch backends (default: vulkan,cuda; those "
                        "that cannot start here are reported and skipped)")
    p.add_argument("--size", type=int, action="append",
                   help="elements (repeatable; default 2**26 and 2**28)")
    p.add_argument("--reps", type=int, default=20, help="sums per timed batch")
    p.add_argument("--no-peers", action="store_true", help="skip CuPy and PyTorch")
    args = p.parse_args()
    sizes = args.size or [1 << 26, 1 << 28]
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    for n in sizes:
        data = np.random.default_rng(0).random(n, dtype=np.float32)
        nbytes = data.nbytes
        peers = {}
        if not args.no_peers:
            for name, fn in (("cupy.sum", bench_cupy), ("torch.sum", bench_torch)):
                r = fn(data, args.reps)
                if r is not None:
                    peers[name] = r
        best_peer = max((nbytes / r["seconds"] / 1e9 for r in peers.values()), default=None)
        rows = []
        for b in backends:
            try:
                r = bench_vkdispatch(b, data, args.reps)
            except vd.BackendUnavailableError as exc:
                print(f"vkdispatch-{b}: skipped ({exc})")
                continue
            gpu = nbytes / r["gpu_seconds"] / 1e9 if r["gpu_seconds"] else float("nan")
            stamped = nbytes / r["stamped_seconds"] / 1e9
            rows.append((f"vkdispatch-{b}", r, f"{r['note']}; GPU timestamps {gpu:.1f} GB/s, "
                                              f"wall with them {stamped:.1f} GB/s"))
        rows += [(name, r, r["note"]) for name, r in peers.items()]
        for name, r, note in rows:
            gbs = nbytes / r["seconds"] / 1e9
            ratio = f"{gbs / best_peer:.3f}x best peer" if best_peer else "no peer"
            print(f"{name:20s} n=2^{np.log2(n):.2f} ({n}) {gbs:9.1f} GB/s  "
                  f"{r['seconds'] * 1e6:9.1f} us  {ratio}  [{note}]")


if __name__ == "__main__":
    main()
