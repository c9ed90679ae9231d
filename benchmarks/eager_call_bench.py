"""Host cost of one eager kernel call and of replayed graphs, beside CuPy and PyTorch
(not a test). Each library runs in its own process, all in the same invocation:

    python benchmarks/eager_call_bench.py [--calls 3000] [--libs vulkan,cuda,cupy,torch]

Figures (microseconds per call, the least of several loops after a warm-up; wall
time, and the calling thread's CPU time, which a shared or CPU-driver machine still
measures steadily):
- eager call: an in-place add of a scalar to 64 float32, issued and launched one call
  at a time (vkdispatch: a @vd.shader call then a submit of the global graph; CuPy:
  `x += 1.0`; PyTorch: `x.add_(1.0)`), a loop ending with one synchronization;
- new scalar: the same with another scalar every call;
- plain loop (vkdispatch only): the calls without the explicit submit, as user code
  writes them (the global graph submits its pending work in chunks);
- stages (vkdispatch only): the @vd.shader call (record), the graph's submit
  bookkeeping and the runtime's submit of the kept command list, as is and after
  set_uniform with new bytes (what a new scalar costs in the runtime);
- replay: a graph of 1000 such dependent adds replayed (vkdispatch CommandGraph, a
  CUDA graph on the CUDA backend; cupy and torch CUDA graphs), per dispatch."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

import vkdispatch as vd
# the shared timers and kernels: host_profile's per-call (wall, CPU) timer and stage
# breakdown, runtime_bench's replay timing
from host_profile import per_call, stage_costs, tiny
from runtime_bench import best_of, replay_cost_per_dispatch

CALLS = 3000
REPLAY_DISPATCHES = 1000


def eager_costs(step, sync, calls: int) -> dict:
    """(wall, CPU) us per call of `step(k)`, with k fixed and with a new scalar each
    call, in loops of `calls` ending with `sync()`."""
    values = [float(i % 1000) for i in range(calls)]

    def fixed():
        for _ in range(calls):
            step(1.0)
        sync()

    def new_scalar():
        for k in values:
            step(k)
        sync()
    return {"eager call": tuple(t / calls for t in per_call(fixed, 1, sync=sync)),
            "new scalar": tuple(t / calls for t in per_call(new_scalar, 1, sync=sync))}


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
    out = eager_costs(lambda k: (tiny(buf, k), vd.global_graph().submit()), vd.queue_wait_idle,
                      calls)
    out["plain loop"] = tuple(t / calls for t in per_call(plain_loop, 1))
    out["stages"] = {k: v for k, v in stage_costs(buf, calls).items()
                     if k in ("record", "graph bookkeeping", "runtime submit",
                                "runtime submit, new uniform")}
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta
    out["replay"] = replay_cost_per_dispatch(REPLAY_DISPATCHES) * 1e6
    out["device"] = vd.get_context().device.name
    return out


def cupy_figures(calls: int) -> dict:
    import cupy as cp
    x = cp.zeros(64, cp.float32)
    out = eager_costs(x.__iadd__, cp.cuda.Device().synchronize, calls)
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
    out["replay"] = best_of(replay) / (10 * REPLAY_DISPATCHES) * 1e6
    out["device"] = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return out


def torch_figures(calls: int) -> dict:
    import torch
    x = torch.zeros(64, device="cuda")
    sync = torch.cuda.synchronize
    out = eager_costs(x.add_, sync, calls)
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
    out["replay"] = best_of(replay) / (10 * REPLAY_DISPATCHES) * 1e6
    out["device"] = torch.cuda.get_device_name()
    return out


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
    best = min(r["eager call"][0] for r in peers) if peers else None
    print("us per call: wall / thread CPU")
    print(f"{'library':8} {'eager call':>15} {'new scalar':>15} {'replay/dispatch':>16}  device")
    for lib, r in rows.items():
        if "error" in r:
            print(f"{lib:8} unavailable: {r['error']}")
            continue
        e, v = r["eager call"], r["new scalar"]
        ratio = f"  (x{e[0] / best:.2f} the best peer's eager wall)" if best else ""
        print(f"{lib:8} {e[0]:7.2f} /{e[1]:6.2f} {v[0]:7.2f} /{v[1]:6.2f} {r['replay']:16.2f}"
              f"  {r['device']}{ratio}")
    for lib, r in rows.items():
        if "stages" in r:
            parts = ", ".join(f"{k} {w:.2f} / {c:.2f}" for k, (w, c) in r["stages"].items())
            print(f"{lib}: {parts}; plain loop (no explicit submit) "
                  f"{r['plain loop'][0]:.2f} / {r['plain loop'][1]:.2f}")


if __name__ == "__main__":
    main()
