"""Where a new scalar's extra cost goes on CUDA (not a test; needs a CUDA GPU).

    python benchmarks/cuda_launch_probe.py [--calls 3000]

An eager call with the same scalar replays the kept list's CUDA graph; with a new
scalar the list launches directly (cuLaunchKernel). This times, for the kept list of
one `tiny` call, per call (wall / thread CPU, us):
- graph replay: cuGraphLaunch + cuEventRecord (what the same scalar costs the driver);
- direct launch: new uniform bytes into the argument arena, cuLaunchKernel + cuEventRecord;
- node update: the same bytes, cuGraphExecKernelNodeSetParams on a one-node graph, then
  cuGraphLaunch + cuEventRecord (the alternative to a direct launch);
- runtime set_uniform + submit: what the command list does today.
The first three call the driver straight from here: their differences are the driver's;
the last minus "direct launch" is our Python."""
from __future__ import annotations

import argparse

import numpy as np

import vkdispatch as vd
from host_profile import built_list, per_call, uniform_bytes


def probes(cl, values: list, calls: int) -> dict:
    """(wall, CPU) us per call of each way to run the one launch of CudaCommandList `cl`
    with new uniform bytes (taken in turn from `values`)."""
    from cuda.bindings import driver as d
    launch = cl._launches[0]
    stream = cl._q.stream
    start = launch.layout.uniform_offset
    arena = launch.arena_bytes
    size = len(values[0])
    event = d.cuEventCreate(d.CUevent_flags.CU_EVENT_DISABLE_TIMING)[1]
    counter = iter(range(1 << 62))

    def sync():
        d.cuStreamSynchronize(stream)

    def direct():
        arena[start:start + size] = values[next(counter) % len(values)]
        d.cuLaunchKernel(launch.func, launch.gx, launch.gy, launch.gz, launch.bx, launch.by,
                         launch.bz, 0, stream, launch.params_addr, 0)
        d.cuEventRecord(event, stream)

    d.cuStreamBeginCapture(stream, d.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
    d.cuLaunchKernel(launch.func, launch.gx, launch.gy, launch.gz, launch.bx, launch.by,
                     launch.bz, 0, stream, launch.params_addr, 0)
    graph = d.cuStreamEndCapture(stream)[1]
    nodes = d.cuGraphGetNodes(graph, 1)[1]
    exec_ = d.cuGraphInstantiate(graph, 0)[1]
    params = d.CUDA_KERNEL_NODE_PARAMS()
    params.func = launch.func
    params.gridDimX, params.gridDimY, params.gridDimZ = launch.gx, launch.gy, launch.gz
    params.blockDimX, params.blockDimY, params.blockDimZ = launch.bx, launch.by, launch.bz
    params.sharedMemBytes = 0
    params.kernelParams = launch.params_addr

    def replay():
        d.cuGraphLaunch(exec_, stream)
        d.cuEventRecord(event, stream)

    def node_update():
        arena[start:start + size] = values[next(counter) % len(values)]
        d.cuGraphExecKernelNodeSetParams(exec_, nodes[0], params)
        d.cuGraphLaunch(exec_, stream)
        d.cuEventRecord(event, stream)

    def runtime():
        cl.set_uniform(0, values[next(counter) % len(values)])
        cl.submit()

    out = {}
    for name, fn in (("graph replay", replay), ("direct launch", direct),
                     ("node update", node_update), ("runtime set_uniform + submit", runtime)):
        out[name] = per_call(fn, calls, sync=sync)
    d.cuGraphExecDestroy(exec_)
    d.cuGraphDestroy(graph)
    d.cuEventDestroy(event)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=3000)
    args = p.parse_args()
    vd.initialize(backend="cuda")
    buf = vd.asbuffer(np.zeros(64, np.float32))
    cl = built_list(buf)
    values = uniform_bytes(buf, [float(i) for i in range(1000)])
    print(f"{vd.get_context().device.name}: us per call, wall / thread CPU")
    for name, (wall, cpu) in probes(cl, values, args.calls).items():
        print(f"{name:30} {wall:7.2f} / {cpu:6.2f}")


if __name__ == "__main__":
    main()
