"""vd.fft beside cupy.fft and torch.fft (not a test): complex64 batched 1-D FFTs along the
last axis, a 2-D FFT, and FFT -> x0.5 -> iFFT (vd.fft.convolve with a kernel_map: one
fused kernel; peers: three calls).

    python benchmarks/fft_bench.py --backend cuda,vulkan     # GPU machine: 4096x4096, ...
    python benchmarks/fft_bench.py --backend vulkan --small  # here (lavapipe), small sizes

vkdispatch: `reps` transforms recorded into one CommandGraph, the fastest of 5 submits
(wall clock, after a warm-up) divided by reps; the bracket gives the GPU timestamps'
figure too. Peers: `reps` calls then a synchronize, fastest of 5. One line per library
and case, with the ratio of time to the best peer's (< 1: faster)."""
from __future__ import annotations

import argparse

import numpy as np

import vkdispatch as vd
from runtime_bench import best_of, cuda_peer, per_call
from vkdispatch.codegen.abbreviations import Var, f32

CASES = {   # name: (shape, kind)
    "fft 4096x4096 last axis": ((4096, 4096), "fft"),
    "fft 65536x1024 last axis": ((65536, 1024), "fft"),
    "fft2 4096x4096": ((4096, 4096), "fft2"),
    "fft-x0.5-ifft 4096x4096": ((4096, 4096), "conv"),
}
SMALL = {
    "fft 256x256 last axis": ((256, 256), "fft"),
    "fft 512x1024 last axis": ((512, 1024), "fft"),
    "fft2 256x256": ((256, 256), "fft2"),
    "fft-x0.5-ifft 256x256": ((256, 256), "conv"),
}


@vd.map
def half(factor: Var[f32]):
    op = vd.fft.read_op()
    op.register[:] = op.register * factor


def expected(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "fft":
        return np.fft.fft(x.astype(np.complex128), axis=-1)
    if kind == "fft2":
        return np.fft.fft2(x.astype(np.complex128))
    return x * 0.5


def check(got, x, kind, who) -> None:
    want = expected(x, kind)
    err = np.linalg.norm(np.asarray(got) - want) / np.linalg.norm(want)
    if err > 1e-5:
        raise AssertionError(f"{who}: relative error {err:.2e} on {kind}")


def vd_call(kind, buf, graph):
    if kind == "fft":
        vd.fft.fft(buf, graph=graph)
    elif kind == "fft2":
        vd.fft.fft2(buf, graph=graph)
    else:
        vd.fft.convolve(buf, np.float32(0.5), kernel_map=half, graph=graph)


def bench_vkdispatch(backend, x, kind, reps):
    vd.initialize(backend=backend)
    try:
        buf = vd.asbuffer(x)
        vd_call(kind, buf, None)
        check(buf.read(0), x, kind, f"vkdispatch-{backend}")
        graph = vd.CommandGraph(timestamps=True)
        for _ in range(reps):
            vd_call(kind, buf, graph)
        graph.submit(wait=True)
        t = best_of(lambda: graph.submit(wait=True)) / reps
        gpu = sum(graph.timestamps(0)) / reps
        return {"seconds": t, "note": f"{len(graph) // reps} dispatch(es); GPU timestamps "
                                      f"{gpu * 1e6:.1f} us"}
    finally:
        vd.shutdown()


def bench_cupy(x, kind, reps):
    cp = cuda_peer("cupy")
    if cp is None:
        return None
    a = cp.asarray(x)
    ops = {"fft": lambda: cp.fft.fft(a, axis=-1), "fft2": lambda: cp.fft.fft2(a),
           "conv": lambda: cp.fft.ifft(cp.fft.fft(a, axis=-1) * 0.5, axis=-1)}
    check(ops[kind]().get(), x, kind, "cupy")
    return {"seconds": per_call(ops[kind], reps, cp.cuda.Device().synchronize),
            "note": f"cupy {cp.__version__}"}


def bench_torch(x, kind, reps):
    torch = cuda_peer("torch")
    if torch is None:
        return None
    a = torch.from_numpy(x).cuda()
    ops = {"fft": lambda: torch.fft.fft(a, dim=-1), "fft2": lambda: torch.fft.fft2(a),
           "conv": lambda: torch.fft.ifft(torch.fft.fft(a, dim=-1) * 0.5, dim=-1)}
    check(ops[kind]().cpu().numpy(), x, kind, "torch")
    return {"seconds": per_call(ops[kind], reps, torch.cuda.synchronize),
            "note": f"torch {torch.__version__}"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cuda,vulkan",
                   help="comma-separated vkdispatch backends (those that cannot start are "
                        "reported and skipped)")
    p.add_argument("--small", action="store_true", help="small sizes (CPU devices)")
    p.add_argument("--reps", type=int, default=20, help="transforms per timed batch")
    p.add_argument("--no-peers", action="store_true", help="skip CuPy and PyTorch")
    args = p.parse_args()
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    rng = np.random.default_rng(0)
    for name, (shape, kind) in (SMALL if args.small else CASES).items():
        x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
        rows = []
        peers = {}
        if not args.no_peers:
            for peer, fn in (("cupy.fft", bench_cupy), ("torch.fft", bench_torch)):
                r = fn(x, kind, args.reps)
                if r is not None:
                    peers[peer] = r
        best = min((r["seconds"] for r in peers.values()), default=None)
        for b in backends:
            try:
                rows.append((f"vkdispatch-{b}", bench_vkdispatch(b, x, kind, args.reps)))
            except vd.BackendUnavailableError as exc:
                print(f"vkdispatch-{b}: skipped ({exc})")
        rows += list(peers.items())
        for lib, r in rows:
            ratio = f"{r['seconds'] / best:.3f}x best peer's time" if best else "no peer"
            print(f"{name:26s} {lib:18s} {r['seconds'] * 1e6:10.1f} us  {ratio}  "
                  f"[{r['note']}]", flush=True)


if __name__ == "__main__":
    main()
