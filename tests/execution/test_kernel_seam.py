"""The compiled-kernel seam: one CompiledKernel type, a structural kernel cache per
context, typed graph records, ordered host-access hooks and vd.stats()."""
import random
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import buffer as base_buffer
from vkdispatch.base import stats as stats_module
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32
from vkdispatch.execution.kernel import kernel_cache


def _two_functions_same_body(k: float):
    """Two distinct Python functions with the same body (other local names); `k` makes
    the structure new for this test run, so nothing is cached from an earlier one."""
    @vd.shader("buff.size")
    def first(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] * k + bias

    @vd.shader("buff.size")
    def second(buff: Buff[f32], bias: Const[f32]):
        index = vc.global_invocation_id().x
        buff[index] = buff[index] * k + bias

    return first, second


def test_same_body_compiles_once(backend):
    k = random.uniform(1.5, 2.5)
    first, second = _two_functions_same_body(k)
    data = np.arange(64, dtype=np.float32)
    a, b = vd.asbuffer(data), vd.asbuffer(data)
    before = vd.stats()
    first(a, 1.0)
    second(b, 2.0)
    np.testing.assert_allclose(a.read(0), data * np.float32(k) + 1, rtol=1e-6)
    np.testing.assert_allclose(b.read(0), data * np.float32(k) + 2, rtol=1e-6)
    delta = vd.stats() - before
    assert delta.kernels_compiled + delta.disk_cache_hits == 1
    assert delta.memory_cache_hits == 1
    ctx = vd.get_context()
    (ka,) = first._compiled[ctx].values()
    (kb,) = second._compiled[ctx].values()
    assert ka is kb and isinstance(ka, vd.CompiledKernel)
    assert ka.bindings_only and ka.writes == {"buff"}


def test_different_bodies_are_different_kernels(backend):
    k = random.uniform(1.5, 2.5)
    first, _ = _two_functions_same_body(k)
    other, _ = _two_functions_same_body(k + 1.0)
    buf = vd.asbuffer(np.ones(8, dtype=np.float32))
    first(buf, 0.0)
    other(buf, 0.0)
    np.testing.assert_allclose(buf.read(0), np.full(8, np.float32(k) * np.float32(k + 1.0)),
                               rtol=1e-6)
    ctx = vd.get_context()
    assert next(iter(first._compiled[ctx].values())) is not next(iter(other._compiled[ctx].values()))


def test_build_kernel_from_ir_is_cached_by_structure(backend):
    """A library generating the same IR twice gets the same kernel from build_kernel."""
    k = random.uniform(3, 4)
    first, second = _two_functions_same_body(k)
    ctx = vd.get_context()
    ls = (64, 1, 1)
    opts = vd.EmitOptions(ctx.codegen_target, "generated")
    n = len(kernel_cache(ctx))
    k1 = vd.build_kernel(ctx, first.kernel(ctx.device, ls, True), opts)
    k2 = vd.build_kernel(ctx, second.kernel(ctx.device, ls, True), opts)
    assert k1 is k2 and len(kernel_cache(ctx)) == n + 1
    buf = vd.asbuffer(np.arange(100, dtype=np.float32))
    graph = vd.CommandGraph()
    graph.record(k1, (2, 1, 1), [buf], {"bias": 5.0, "vkd_exec_count": (100, 1, 1)})
    graph.submit(wait=True)
    np.testing.assert_allclose(buf.read(0), np.arange(100, dtype=np.float32) * np.float32(k) + 5,
                               rtol=1e-6)


def test_loop_compiles_nothing_and_counts_dispatches(backend):
    first, _ = _two_functions_same_body(1.0)
    buf = vd.asbuffer(np.zeros(32, dtype=np.float32))
    first(buf, 0.0)
    buf.read(0)
    before = vd.stats()
    for i in range(10):
        first(buf, 1.0)
    out = buf.read(0)
    np.testing.assert_array_equal(out, np.full(32, 10, dtype=np.float32))
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0
    assert delta.memory_cache_hits == 0   # the shader's own table answers first
    assert delta.dispatches_recorded == 10
    assert delta.submits == 1
    assert delta.bytes_from_device == 32 * 4
    buf.write(np.ones(32, dtype=np.float32))
    assert (vd.stats() - before).bytes_to_device == 32 * 4 * vd.get_context().queue_count


def test_record_takes_only_compiled_kernels(backend):
    first, _ = _two_functions_same_body(1.0)
    buf = vd.asbuffer(np.zeros(8, dtype=np.float32))
    graph = vd.CommandGraph()
    with pytest.raises(TypeError, match="CompiledKernel"):
        graph.record(first, (1, 1, 1), [buf], {"bias": 1.0})
    first(buf, 1.0, graph=graph)
    kernel = next(iter(first._compiled[vd.get_context()].values()))
    with pytest.raises(ValueError, match="1 bindings"):
        graph.record(kernel, (1, 1, 1), [buf, buf], {"bias": 1.0})
    with pytest.raises(TypeError, match="bias"):
        graph.record(kernel, (1, 1, 1), [buf], {"bias": "x", "vkd_exec_count": (8, 1, 1)})
    assert len(graph) == 1     # the bad calls left the graph as it was
    graph.submit(wait=True)
    np.testing.assert_array_equal(buf.read(0), np.ones(8, dtype=np.float32))


def test_compute_plan_is_a_compiled_kernel_that_keeps_barriers(backend):
    sources = {
        "vulkan": """#version 450
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer B { float x[]; } b;
void main() { b.x[gl_GlobalInvocationID.x] += 1.0; }""",
        "cuda": """extern "C" __global__ void main_k(float* x) {
    x[blockIdx.x * 64 + threadIdx.x] += 1.0f; }""",
        "opencl": """__kernel void main_k(__global float* x) { x[get_global_id(0)] += 1.0f; }""",
    }
    plan = vd.ComputePlan(sources[backend], local_size=(64, 1, 1),
                          entry_point="main" if backend == "vulkan" else "main_k")
    assert isinstance(plan.kernel, vd.CompiledKernel) and not plan.kernel.bindings_only
    buf = vd.asbuffer(np.zeros(128, dtype=np.float32))
    plan((2, 1, 1), [buf])
    plan((2, 1, 1), [buf])
    np.testing.assert_array_equal(buf.read(0), np.full(128, 2, dtype=np.float32))


def test_stats_count_exactly_from_threads():
    before = vd.stats()

    def work():
        for _ in range(1000):
            stats_module.count("submits")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (vd.stats() - before).submits == 4000


@vd.shader("buff.size")
def _add(buff: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buff[i] = buff[i] + k


def test_graph_counts_survive_the_graph_and_add_up_from_threads(backend):
    """Graphs count their dispatches and submits in a tally of their own: records and
    submits from several threads into one graph add up exactly, and the counts stay in
    vd.stats() after the graph is gone."""
    import gc
    buf = vd.asbuffer(np.zeros(64, np.float32))
    graph = vd.CommandGraph(reset_on_submit=False)
    before = vd.stats()

    def in_threads(fn):
        threads = [threading.Thread(target=fn) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    in_threads(lambda: [_add(buf, 1.0, graph=graph) for _ in range(100)])
    graph.submit()        # 400 records, run once
    np.testing.assert_array_equal(buf.read(0), np.full(64, 400, np.float32))
    assert (vd.stats() - before).dispatches_recorded == 400
    in_threads(lambda: [graph.submit() for _ in range(25)])   # kept records: each runs 400
    np.testing.assert_array_equal(buf.read(0), np.full(64, 400 * 101, np.float32))
    delta = vd.stats() - before
    assert (delta.dispatches_recorded, delta.submits) == (400, 101)
    graph.destroy()
    graph = None
    gc.collect()
    vd.CommandGraph().destroy()          # a new tally folds the dead graph's in
    delta = vd.stats() - before
    assert (delta.dispatches_recorded, delta.submits) == (400, 101)


def test_stats_reset():
    stats_module.count("dispatches_recorded", 3)
    snap = vd.stats(reset=True)
    assert snap.dispatches_recorded >= 3
    assert vd.stats().dispatches_recorded == 0
    vd.reset_stats()
    assert vd.stats() == vd.Stats()


def test_host_access_hooks_run_in_stage_order():
    calls = []

    def submit_hook():
        calls.append("submit")

    def record_hook():
        calls.append("record")

    # registered in the "wrong" order, as an import order might do it
    base_buffer.register_before_host_access(submit_hook, stage="submit")
    base_buffer.register_before_host_access(record_hook, stage="record")
    try:
        base_buffer.flush_pending()
        assert calls == ["record", "submit"]
    finally:
        base_buffer._before_host_access["submit"].remove(submit_hook)
        base_buffer._before_host_access["record"].remove(record_hook)
    with pytest.raises(ValueError, match="stage must be one of"):
        base_buffer.register_before_host_access(record_hook, stage="later")


def test_replayed_lists_never_reach_a_dead_buffer(backend):
    """A freed buffer's id is reused by the next one: the kept command list of the old
    buffer must not be replayed for the new one."""
    add, _ = _two_functions_same_body(1.0)
    for k in range(20):
        buf = vd.asbuffer(np.full(16, k, dtype=np.float32))
        add(buf, 1.0)
        np.testing.assert_array_equal(buf.read(0), np.full(16, k + 1, dtype=np.float32))
        del buf


def test_fast_and_full_call_paths_agree(backend):
    add, _ = _two_functions_same_body(2.0)
    data = np.arange(40, dtype=np.float32)
    for bias in (1.5, 2, np.float32(0.25), np.float64(-3.0), True):
        buf = vd.asbuffer(data)
        add(buf, bias)
        np.testing.assert_allclose(buf.read(0), data * 2 + np.float32(bias), rtol=1e-6)
    with pytest.raises(TypeError, match="buffer's dtype is int32"):
        add(vd.asbuffer(np.zeros(4, np.int32)), 1.0)
    with pytest.raises(TypeError, match="bias"):
        add(vd.asbuffer(data), "one")
    with pytest.raises(TypeError, match="bias"):
        add(vd.asbuffer(data), vd.asbuffer(data))
    empty = vd.Buffer((0,), vd.float32)
    add(empty, 1.0)   # an empty launch records nothing


def test_specialization_is_refused_where_the_runtime_has_none(backend):
    if backend == "vulkan":
        pytest.skip("Vulkan honours specialization constants")
    src = {"opencl": "__kernel void k(__global float* x) { x[get_global_id(0)] = 1.0f; }",
           "cuda": 'extern "C" __global__ void k(float* x) { x[threadIdx.x] = 1.0f; }'}[backend]
    with pytest.raises(vd.UnsupportedFeatureError, match="specialization"):
        vd.ComputePlan(src, entry_point="k", specialization={0: 1.0})


@vd.shader("dst.size")
def gather(dst: Buff[f32], src: Buff[f32], stride: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i.cast(vd.int32) * stride]


def _hand_built_gather(backend):
    """gather compiled as a producer outside ShaderFunction gets it (checked by default);
    on Vulkan `src` is reached by device address, so it has a hidden length there too."""
    ctx = vd.get_context()
    addressed = ("src",) if backend == "vulkan" and ctx.device.extra.get(
        "buffer_device_address") else ()
    return gather.build(ctx, (64, 1, 1), True, addressed)


def test_kernels_are_memory_checked_by_default(backend):
    kernel = gather.kernel(vd.get_context().device, (64, 1, 1), True)
    assert kernel.memory_checks
    names = [p.name for p in kernel.params if p.hidden]
    assert "vkd_len_src" in names and "vkd_len_dst" in names


def test_record_fills_element_counts_from_the_bound_buffers(backend):
    """A producer that records a checked kernel by hand leaves the hidden element counts
    out: they come from the bound buffers (a view: its own size), so reads past the end
    of `src` give 0 rather than the memory after it."""
    compiled = _hand_built_gather(backend)
    base = vd.asbuffer(np.arange(1, 41, dtype=np.float32))
    src = base.view(0, (10,))                  # elements 10.. of `base` are off limits
    dst = vd.asbuffer(np.full(30, -1.0, np.float32))
    graph = vd.CommandGraph()
    graph.record(compiled, (1, 1, 1), [dst, src], {"stride": 3, "vkd_exec_count": (30, 1, 1)})
    graph.submit(wait=True)
    want = np.array([3 * i + 1 if 3 * i < 10 else 0 for i in range(30)], np.float32)
    np.testing.assert_array_equal(dst.read(0), want)


def test_given_element_counts_may_shrink_but_not_grow(backend):
    compiled = _hand_built_gather(backend)
    if "vkd_len_src" not in compiled.length_fields:
        pytest.skip("src's length is read from its descriptor here")
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.full(8, -1.0, np.float32))
    graph = vd.CommandGraph()
    common = {"stride": 1, "vkd_exec_count": (8, 1, 1)}
    with pytest.raises(vd.InvalidArgumentError, match="has 10 elements"):
        graph.record(compiled, (1, 1, 1), [dst, src], {**common, "vkd_len_src": 11})
    with pytest.raises(ValueError, match="bound variable"):
        graph.record(compiled, (1, 1, 1), [dst, src],
                     {**common, "vkd_len_src": graph.bind_var("n")})
    assert len(graph) == 0                     # the refused calls recorded nothing
    graph.record(compiled, (1, 1, 1), [dst, src], {**common, "vkd_len_src": 4})
    graph.submit(wait=True)
    np.testing.assert_array_equal(dst.read(0), [1, 2, 3, 4, 0, 0, 0, 0])


def test_record_names_a_missing_uniform(backend):
    compiled = _hand_built_gather(backend)
    src, dst = vd.asbuffer(np.zeros(4, np.float32)), vd.asbuffer(np.zeros(4, np.float32))
    graph = vd.CommandGraph()
    with pytest.raises(KeyError, match="stride"):
        graph.record(compiled, (1, 1, 1), [dst, src], {"vkd_exec_count": (4, 1, 1)})
    assert len(graph) == 0


def test_generated_kernels_take_uniforms_from_a_uniform_buffer(monkeypatch):
    """One choice for every producer: uniforms in a uniform buffer (a new value rewrites
    the kept list's frame, no re-recording); VKDISPATCH_PUSH_CONSTANTS=1 opts into push
    constants where they fit."""
    from types import SimpleNamespace
    from vkdispatch.execution.kernel import push_constant_limit
    ctx = SimpleNamespace(device=SimpleNamespace(max_push_constant_size=128))
    monkeypatch.delenv("VKDISPATCH_PUSH_CONSTANTS", raising=False)
    assert push_constant_limit(ctx) == 0
    monkeypatch.setenv("VKDISPATCH_PUSH_CONSTANTS", "1")
    assert push_constant_limit(ctx) == 128
