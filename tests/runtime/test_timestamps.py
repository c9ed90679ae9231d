"""GPU timestamps of CommandGraph dispatches on every real backend: one positive, finite
time in seconds per recorded dispatch (copies are not timed), a loop kernel measurably
slower than a trivial one, and command-list reuse keeping or dropping timing as the
graph's setting says."""
import math

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32, i32

N = 4096


@vd.shader("buf.size")
def add_one(buf: Buff[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + 1.0


@vd.shader("buf.size")
def relax(buf: Buff[f32], steps: Const[i32]):
    """`steps` dependent multiply-adds per element: the work grows with `steps`."""
    i = vc.global_invocation_id().x
    acc = vc.new_float(buf[i])
    for _ in vc.range(steps):
        acc.set(acc * 0.999 + 0.001)
    buf[i] = acc


@vd.shader("buf.size")
def scale(buf: Buff[f32], a: Var[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * a


def heavy_steps() -> int:
    # a few ms on the CPU drivers (lavapipe, PoCL), hundreds of us on a GPU: far above
    # a trivial launch either way
    return 3000 if vd.get_context().device.device_type == "cpu" else 100_000


def relax_ref(x, steps):
    return 1.0 + (x.astype(np.float64) - 1.0) * 0.999 ** steps


def test_one_time_per_dispatch_and_loop_kernel_is_slower(backend):
    data = np.linspace(0, 2, N, dtype=np.float32)
    buf = vd.asbuffer(data)
    other = vd.Buffer((N,), vd.float32)
    steps = heavy_steps()
    graph = vd.CommandGraph(timestamps=True)
    assert graph.timestamps_enabled
    add_one(buf, graph=graph)
    relax(buf, steps, graph=graph)
    vd.copy_buffer(buf, other, graph=graph)         # copies get no entry
    add_one(buf, graph=graph)
    graph.submit(wait=True)                          # warm-up (CPU drivers JIT on first run)
    first = graph.timestamps()
    runs = []
    for _ in range(3):       # the fastest of three runs: a busy CPU driver is noisy
        graph.submit()                               # timestamps() waits for it
        runs.append(graph.timestamps(queue_index=0))
    times = [min(r[i] for r in runs) for i in range(3)]
    assert len(first) == len(runs[0]) == 3
    assert all(isinstance(t, float) and math.isfinite(t) and 0 < t < 10 for r in runs
               for t in r), runs
    assert times[1] > 3 * max(times[0], times[2]), runs
    ref = data
    for _ in range(4):
        ref = relax_ref(ref + 1, steps) + 1
    np.testing.assert_allclose(buf.read(0), ref, rtol=1e-3)
    np.testing.assert_allclose(other.read(0), ref - 1, rtol=1e-3)
    graph.destroy()


def test_instanced_and_variable_submits(backend):
    buf = vd.asbuffer(np.ones(N, np.float32))
    graph = vd.CommandGraph(timestamps=True)
    scale(buf, graph.bind_var("a"), graph=graph)
    add_one(buf, graph=graph)
    graph.set_var("a", 2.0)
    graph.submit()
    assert len(graph.timestamps()) == 2
    graph.set_var("a", [1.0, 3.0, 0.5])
    graph.submit(instance_count=3)                   # the last instance's times
    times = graph.timestamps()
    assert len(times) == 2 and all(t > 0 for t in times)
    # 1 -> *2 + 1 = 3 -> (*1 + 1) -> (*3 + 1) -> (*0.5 + 1)
    np.testing.assert_allclose(buf.read(0), ((3 * 1 + 1) * 3 + 1) * 0.5 + 1)
    graph.destroy()


def test_errors_name_the_fix(backend):
    buf = vd.asbuffer(np.zeros(16, np.float32))
    plain = vd.CommandGraph()
    add_one(buf, graph=plain)
    plain.submit(wait=True)
    with pytest.raises(vd.VkDispatchError, match="timestamps=True"):
        plain.timestamps()
    timed = vd.CommandGraph(timestamps=True)
    add_one(buf, graph=timed)
    with pytest.raises(vd.VkDispatchError, match="submit"):
        timed.timestamps()
    with pytest.raises(IndexError, match="queue_index"):
        timed.timestamps(queue_index=99)
    plain.destroy()
    timed.destroy()


def test_reused_lists_keep_or_drop_timing(backend, monkeypatch):
    """A reset_on_submit graph keeps the lists of its last record sets (replayed when a
    set comes again) and, once it keeps the most it may, re-records the one used
    longest ago; a spare is reused only while it times dispatches exactly when the
    graph asks for timing."""
    monkeypatch.setattr(vd.CommandGraph, "_MAX_SPARE", 2)
    buf = vd.asbuffer(np.zeros(N, np.float32))
    graph = vd.CommandGraph(reset_on_submit=True, timestamps=True)

    def run(count):
        for _ in range(count):
            add_one(buf, graph=graph)
        graph.submit(wait=True)

    run(2)
    timed_list = graph._submitted[0]
    assert len(graph.timestamps()) == 2
    run(3)                                           # a new list: the spare may replay
    assert graph._submitted[0] is not timed_list
    assert len(graph.timestamps()) == 3
    run(2)                                           # the same records: replayed as kept
    assert graph._submitted[0] is timed_list and len(graph.timestamps()) == 2

    graph.timestamps_enabled = False
    run(5)                                           # spares full, but both timed
    assert graph._submitted[0] is not timed_list
    with pytest.raises(vd.VkDispatchError, match="timestamps=True"):
        graph.timestamps()
    with pytest.raises(vd.VkDispatchError):          # the runtime list itself has no timing
        graph._submitted[0].timestamps()

    graph.timestamps_enabled = True
    run(4)
    assert graph._submitted[0] is timed_list         # the timed spare, re-recorded
    times = graph.timestamps()
    assert len(times) == 4 and all(t > 0 for t in times)
    np.testing.assert_array_equal(buf.read(0), 16.0)
    graph.destroy()


def test_runtime_lists_report_float_seconds(backend):
    """The Runtime interface itself: command_list(queue, timestamps=...) on every backend;
    an untimed list refuses, a timed one answers [] until its first submit."""
    rctx = vd.get_context().runtime_context
    plain = rctx.command_list(0)
    with pytest.raises(vd.VkDispatchError, match="timestamps=True"):
        plain.timestamps()
    timed = rctx.command_list(0, timestamps=True)
    assert timed.timestamps() == []
    buf = vd.asbuffer(np.zeros(64, np.float32))
    compiled = add_one.build(vd.get_context(), (64, 1, 1), False)
    # a memory-checked kernel: CUDA and OpenCL take buf's element count as a uniform
    uniform = compiled.packer.pack({name: buf.size for name in compiled.length_fields})
    timed.dispatch(compiled.program, (1, 1, 1), [buf.handle(0)], uniform)
    timed.submit()
    times = timed.timestamps()
    assert len(times) == 1 and type(times[0]) is float and times[0] > 0
    timed.reset()
    assert timed.timestamps() == []                  # reset forgets the last run ...
    timed.dispatch(compiled.program, (1, 1, 1), [buf.handle(0)], uniform)
    timed.submit()
    assert len(timed.timestamps()) == 1              # ... but keeps timing on
    np.testing.assert_array_equal(buf.read(0), 2.0)
    plain.destroy()
    timed.destroy()
