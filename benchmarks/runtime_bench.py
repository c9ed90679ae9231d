"""Runtime figures for one backend (not a test).

    python benchmarks/runtime_bench.py --backend vulkan [--size-log2 26] [--cupy]

Prints: host cost of recording + submitting one dispatch, replay cost per dependent
dispatch of a recorded graph, host<->device transfer throughput, and a*b+c bandwidth
against a device-to-device copy (and CuPy's fused ElementwiseKernel with --cupy)."""
from __future__ import annotations

import argparse
import time

import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("out.size")
def fma_kernel(out: Buff[f32], a: Buff[f32], b: Buff[f32], c: Buff[f32]):
    i = vc.global_invocation_id().x
    out[i] = a[i] * b[i] + c[i]


@vd.shader("buf.size")
def tiny(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


def best_of(fn, repeat=5, warm_up=0.3):
    """Fastest of `repeat` timed calls, after calling `fn` for `warm_up` seconds: an
    idle GPU drops its clocks within a second (an H200's SM clock falls from 1980 to
    570 MHz, and a dependent dispatch then costs 4.7 us instead of 2.1)."""
    t = time.perf_counter()
    while time.perf_counter() - t < warm_up:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cuda_peer(name: str):
    """Peer module `name` ("cupy" or "torch") on a CUDA device, or None where it is not
    importable or (torch) sees no CUDA device."""
    try:
        mod = __import__(name)
    except ImportError:
        return None
    return None if name == "torch" and not mod.cuda.is_available() else mod


def per_call(op, reps: int, synchronize) -> float:
    """Seconds per call of `op`: `reps` calls then `synchronize()`, best_of that over reps
    (how the peers' figures are taken)."""
    def run():
        for _ in range(reps):
            op()
        synchronize()
    return best_of(run) / reps


def host_cost_per_call(n=2000):
    buf = vd.Buffer((64,), vd.float32)
    tiny(buf, 1.0)
    vd.queue_wait_idle()

    def run():
        for _ in range(n):
            tiny(buf, 1.0)
            vd.global_graph().submit()
        vd.queue_wait_idle()
    return best_of(run, 3) / n


def replay_cost(graph, submits=20):
    """Seconds per recorded dispatch when `graph` is submitted `submits` times."""
    graph.submit(wait=True)

    def run():
        for _ in range(submits):
            graph.submit()
        graph.wait()
    return best_of(run, 3) / (len(graph) * submits)


def replay_cost_per_dispatch(n=1000):
    """Every dispatch updates the same buffer: each waits for the one before."""
    buf = vd.Buffer((64,), vd.float32)
    graph = vd.CommandGraph()
    for _ in range(n):
        tiny(buf, 1.0, graph=graph)
    return replay_cost(graph)


@vd.shader("dst.size")
def copy_plus(dst: Buff[f32], src: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] + k


def replay_cost_independent(n=1000):
    """Each dispatch writes its own buffer: no barriers are needed between them."""
    src = vd.Buffer((64,), vd.float32)
    outs = [vd.Buffer((64,), vd.float32) for _ in range(n)]
    graph = vd.CommandGraph()
    for out in outs:
        copy_plus(out, src, 1.0, graph=graph)
    return replay_cost(graph)


def transfer_rates(nbytes=256 << 20):
    host = np.ones(nbytes // 4, np.float32)
    buf = vd.Buffer((nbytes // 4,), vd.float32)
    buf.write(host)
    w = best_of(lambda: buf.write(host), 3)
    r = best_of(lambda: buf.read(0), 3)
    return nbytes / w / 1e9, nbytes / r / 1e9


def bandwidth(size_log2: int, use_cupy: bool):
    n = 1 << size_log2
    rng = np.random.default_rng(0)
    a, b, c = (vd.asbuffer(rng.standard_normal(n, dtype=np.float32)) for _ in range(3))
    out = vd.Buffer((n,), vd.float32)
    reps = 20
    graph = vd.CommandGraph(timestamps=True)
    for _ in range(reps):
        fma_kernel(out, a, b, c, graph=graph)
    graph.submit(wait=True)
    t = best_of(lambda: graph.submit(wait=True), 5) / reps
    fma_gbs = 4 * n * 4 / t / 1e9
    gpu = float(np.median(graph.timestamps(0)))
    ref = a.read(0)[:1000] * b.read(0)[:1000] + c.read(0)[:1000]
    assert np.allclose(out.read(0)[:1000], ref, rtol=1e-5, atol=1e-6)
    copy_graph = vd.CommandGraph()
    for _ in range(reps):
        copy_graph.record_copy(a, out)
    copy_graph.submit(wait=True)
    tc = best_of(lambda: copy_graph.submit(wait=True), 5) / reps
    copy_gbs = 2 * n * 4 / tc / 1e9
    result = {"a*b+c GB/s": fma_gbs, "a*b+c GB/s (GPU timestamps)": 16 * n / gpu / 1e9,
              "copy GB/s": copy_gbs, "a*b+c / copy": fma_gbs / copy_gbs}
    if use_cupy:
        import cupy as cp
        k = cp.ElementwiseKernel("float32 a, float32 b, float32 c", "float32 o", "o = a * b + c",
                                 "fma_ref")
        ca, cb, cc = (cp.random.standard_normal(n, dtype=cp.float32) for _ in range(3))
        co = cp.empty(n, cp.float32)
        k(ca, cb, cc, co)
        cp.cuda.Device().synchronize()

        def run():
            for _ in range(reps):
                k(ca, cb, cc, co)
            cp.cuda.Device().synchronize()
        tk = best_of(run, 5) / reps
        result["cupy ElementwiseKernel GB/s"] = 4 * n * 4 / tk / 1e9
        result["vkdispatch / cupy"] = fma_gbs / result["cupy ElementwiseKernel GB/s"]
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default=None)
    p.add_argument("--size-log2", type=int, default=26)
    p.add_argument("--cupy", action="store_true")
    args = p.parse_args()
    vd.initialize(backend=args.backend)
    dev = vd.get_context().device
    print(f"# {vd.get_backend()} on {dev.name}")
    for k, v in bandwidth(args.size_log2, False).items():
        print(f"(fresh process) 2^{args.size_log2} float32 {k}: {v:.2f}")
    print(f"host cost per recorded+submitted dispatch: {host_cost_per_call() * 1e6:.1f} us")
    print(f"replay cost per dependent dispatch (1000-dispatch graph): "
          f"{replay_cost_per_dispatch() * 1e6:.2f} us")
    print(f"replay cost per independent dispatch (1000-dispatch graph): "
          f"{replay_cost_independent() * 1e6:.2f} us")
    w, r = transfer_rates()
    print(f"host->device {w:.1f} GB/s, device->host {r:.1f} GB/s (256 MiB)")
    for k, v in bandwidth(args.size_log2, args.cupy).items():
        print(f"2^{args.size_log2} float32 {k}: {v:.2f}")


if __name__ == "__main__":
    main()
