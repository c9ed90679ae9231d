"""Host cost of one eager kernel call and of replayed graphs, beside CuPy and PyTorch
(not a test). Each library runs in its own process, all in the same invocation:

    python benchmarks/eager_call_bench.py [--calls 3000] [--libs vulkan,cuda,cupy,torch]

Figures (microseconds, the best of several loops after a warm-up; the GPU is kept busy between
loops so its clocks stay up):
- eager call: an in-place add of a scalar to 64 float32, issued and launched one call
  at a time (vkdispatch: a @vd.shader call then a submit of the global graph; CuPy:
  `x += 1.0`; PyTorch: `x.add_(1.0)`), divided by the calls of a loop that ends with
  one synchronization;
- plain loop (vkdispatch only): the same calls without the explicit submit, as user
  code writes them (the global graph submits its pending work in chunks);
- replay: a graph of 1000 such dependent adds replayed (vkdispatch CommandGraph, a
  CUDA graph on the CUDA backend; cupy and torch CUDA graphs), per dispatch."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

import vkdispatch as vd
# the benchmarks' shared timer (warms the GPU up first), the tiny kernel and its timings
from runtime_bench import best_of, host_cost_per_call, replay_cost_per_dispatch, tiny

CALLS = 3000
REPLAY_DISPATCHES = 1000


def vkdispatch_figures(backend: str, calls: int) -> dict:
    vd.initialize(backend=backend)
    buf = vd.asbuffer(np.zeros(64, np.float32))
    tiny(buf, 1.0)            # compiled before counting
    vd.queue_wait_idle()

    def plain_loop():
        for _ in range(calls):
            tiny(buf, 1.0)
        vd.queue_wait_idle()

    before = vd.stats()
    t_eager = host_cost_per_call(calls)
    t_loop = best_of(plain_loop) / calls
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta
    t_replay = replay_cost_per_dispatch(REPLAY_DISPATCHES)
    return {"device": vd.get_context().device.name, "eager call us": t_eager * 1e6,
            "plain loop us": t_loop * 1e6, "replay per dependent dispatch us": t_replay * 1e6}


def cupy_figures(calls: int) -> dict:
    import cupy as cp
    x = cp.zeros(64, cp.float32)
    sync = cp.cuda.Device().synchronize

    def eager():
        for _ in range(calls):
            x.__iadd__(1.0)
        sync()
    t_eager = best_of(eager) / calls
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        x += 1.0
        stream.begin_capture()
        for _ in range(REPLAY_DISPATCHES):
            x += 1.0
        graph = stream.end_capture()

    def replay():
        for _ in range(10):
            graph.launch(stream)
        stream.synchronize()
    t_replay = best_of(replay) / (10 * REPLAY_DISPATCHES)
    return {"device": cp.cuda.runtime.getDeviceProperties(0)["name"].decode(),
            "eager call us": t_eager * 1e6, "replay per dependent dispatch us": t_replay * 1e6}


def torch_figures(calls: int) -> dict:
    import torch
    x = torch.zeros(64, device="cuda")
    sync = torch.cuda.synchronize

    def eager():
        for _ in range(calls):
            x.add_(1.0)
        sync()
    t_eager = best_of(eager) / calls
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        x.add_(1.0)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(REPLAY_DISPATCHES):
            x.add_(1.0)

    def replay():
        for _ in range(10):
            graph.replay()
        sync()
    t_replay = best_of(replay) / (10 * REPLAY_DISPATCHES)
    return {"device": torch.cuda.get_device_name(), "eager call us": t_eager * 1e6,
            "replay per dependent dispatch us": t_replay * 1e6}


def worker(lib: str, calls: int) -> dict:
    if lib == "cupy":
        return cupy_figures(calls)
    if lib == "torch":
        return torch_figures(calls)
    return vkdispatch_figures(lib, calls)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=CALLS)
    p.add_argument("--libs", default="vulkan,cuda,cupy,torch")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.calls)))
        return
    rows = {}
    for lib in args.libs.split(","):
        proc = subprocess.run([sys.executable, __file__, "--worker", lib, "--calls",
                               str(args.calls)], capture_output=True, text=True)
        if proc.returncode:
            rows[lib] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        else:
            rows[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    peers = [r for k, r in rows.items() if k in ("cupy", "torch") and "error" not in r]
    best = {m: min(r[m] for r in peers) for m in ("eager call us",
                                                  "replay per dependent dispatch us")} if peers else {}
    print(f"{'library':10} {'eager call us':>14} {'replay/dispatch us':>19}  device")
    loops = {lib: r["plain loop us"] for lib, r in rows.items() if "plain loop us" in r}
    for lib, r in rows.items():
        if "error" in r:
            print(f"{lib:10} unavailable: {r['error']}")
            continue
        e, rp = r["eager call us"], r["replay per dependent dispatch us"]
        ratio = (f"  (x{e / best['eager call us']:.2f}, x{rp / best['replay per dependent dispatch us']:.2f}"
                 f" of the best peer)") if best else ""
        print(f"{lib:10} {e:14.2f} {rp:19.2f}  {r['device']}{ratio}")
    for lib, t in loops.items():
        print(f"{lib}: plain loop of calls (no explicit submit): {t:.2f} us per call")


if __name__ == "__main__":
    main()
