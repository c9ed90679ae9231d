"""CommandGraph semantics on every real backend."""
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32, v2


@vd.shader("buff.size")
def axpb(buff: Buff[f32], a: Var[f32], b: Const[f32]):
    i = vc.global_invocation_id().x
    buff[i] = buff[i] * a + b


@vd.shader("buff.size")
def add_vec(buff: Buff[f32], offs: Var[v2]):
    i = vc.global_invocation_id().x
    buff[i] = buff[i] + offs.x - offs.y


def test_documented_scale_inplace(backend):
    @vd.shader("data.size")
    def scale_inplace(data: Buff[f32], alpha: Const[f32]):
        tid = vc.global_invocation_id().x
        data[tid] = data[tid] * alpha

    arr = np.arange(16, dtype=np.float32)
    buf = vd.asbuffer(arr)
    scale_inplace(buf, 2.0)
    np.testing.assert_array_equal(buf.read(0), arr * 2)


def test_record_then_replay_with_new_variables(backend):
    data = np.linspace(0, 1, 999, dtype=np.float32)
    buf = vd.asbuffer(data)
    graph = vd.CommandGraph()
    axpb(buf, graph.bind_var("a"), 1.0, graph=graph)
    assert len(graph) == 1
    expect = data.copy()
    for a in (2.0, 0.5, -3.0):
        graph.set_var("a", a)
        graph.submit()
        expect = expect * np.float32(a) + np.float32(1.0)
    np.testing.assert_allclose(buf.read(0), expect, rtol=1e-6)


def test_unset_variable_is_a_clear_error(backend):
    graph = vd.CommandGraph()
    axpb(vd.Buffer((4,), vd.float32), graph.bind_var("a"), 1.0, graph=graph)
    with pytest.raises(ValueError, match="set_var"):
        graph.submit()


def test_instances_take_their_own_values(backend):
    buf = vd.asbuffer(np.zeros(100, np.float32))
    graph = vd.CommandGraph()
    add_vec(buf, graph.bind_var("o"), graph=graph)
    offs = np.array([[1.0, 0.0], [2.0, 0.5], [3.0, 1.0]], np.float32)
    graph.set_var("o", offs)
    graph.submit(instance_count=3)
    np.testing.assert_allclose(buf.read(0), np.full(100, (offs[:, 0] - offs[:, 1]).sum()))


def test_submit_on_record_and_reset(backend):
    buf = vd.asbuffer(np.ones(10, np.float32))
    graph = vd.CommandGraph(submit_on_record=True)
    axpb(buf, 2.0, 0.0, graph=graph)
    graph.wait()
    np.testing.assert_array_equal(buf.read(0), np.full(10, 2.0))
    graph.reset()
    assert len(graph) == 0
    graph.submit()  # empty: nothing happens
    g2 = vd.CommandGraph(reset_on_submit=True)
    axpb(buf, 3.0, 0.0, graph=g2)
    g2.submit(wait=True)
    assert len(g2) == 0
    np.testing.assert_array_equal(buf.read(0), np.full(10, 6.0))


def test_dependent_dispatches_in_order(backend):
    buf = vd.asbuffer(np.arange(4096, dtype=np.float32))
    graph = vd.CommandGraph()
    for k in range(20):
        axpb(buf, 1.0, float(k), graph=graph)
    graph.submit()
    graph.submit()
    np.testing.assert_array_equal(buf.read(0), np.arange(4096) + 2 * sum(range(20)))


def test_global_graph_is_per_thread_and_flushed_by_reads(backend):
    results, errors = {}, []

    def work(k):
        try:
            data = np.full(5000, k, np.float32)
            b = vd.asbuffer(data)
            for _ in range(5):
                axpb(b, 1.0, 1.0)
            results[k] = b.read(0)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(4):
        np.testing.assert_array_equal(results[k], np.full(5000, k + 5.0))


def test_set_global_graph_records_until_its_owner_submits(backend):
    """A graph set with set_global_graph is like graph= on every call (vkdispatch 0.1):
    host accesses do not run it (each would run its kept records again), submit does."""
    buf = vd.asbuffer(np.zeros(8, np.float32))
    mine = vd.CommandGraph()
    old = vd.set_global_graph(mine)
    try:
        axpb(buf, 1.0, 4.0)
        assert len(mine) == 1 and vd.global_graph() is mine
        assert vd.default_graph() is not mine
        vd.queue_wait_idle()
        np.testing.assert_array_equal(buf.read(0), np.zeros(8))
        mine.submit()
        np.testing.assert_array_equal(buf.read(0), np.full(8, 4.0))
        np.testing.assert_array_equal(buf.read(0), np.full(8, 4.0))   # not run again
    finally:
        assert vd.set_global_graph(old) is mine
    assert vd.global_graph() is vd.default_graph()


def test_async_signal(backend):
    buf = vd.asbuffer(np.zeros(1 << 16, np.float32))
    graph = vd.CommandGraph()
    axpb(buf, 1.0, 1.0, graph=graph)
    signals = graph.submit()
    assert all(s.wait(timeout=30) for s in signals)
    assert all(s.done() for s in signals)


def test_exec_size_forms_and_empty_launch(backend):
    @vd.shader(exec_size=lambda args: args.out.size)
    def iota(out: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = vc.global_invocation_id().x

    out = vd.Buffer((1000,), vd.float32)
    iota(out)
    np.testing.assert_array_equal(out.read(0), np.arange(1000))
    iota(out, exec_size=10)   # override per call
    iota(vd.Buffer((0,), vd.float32))  # nothing to launch


def test_workgroups_launch_without_bounds(backend):
    @vd.shader(workgroups=(4, 1, 1), local_size=(32, 1, 1))
    def lane(out: Buff[f32]):
        out[vc.global_invocation_id().x] = vc.local_invocation_id().x

    out = vd.Buffer((128,), vd.float32)
    lane(out)
    np.testing.assert_array_equal(out.read(0), np.tile(np.arange(32), 4))


def test_compute_plan_from_hand_written_source(backend):
    sources = {
        "vulkan": """#version 450
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer A { float a[]; };
layout(set = 0, binding = 1) buffer B { float b[]; };
void main() { uint i = gl_GlobalInvocationID.x; b[i] = a[i] * 3.0; }""",
        "opencl": """__kernel void main_k(__global const float* a, __global float* b) {
    size_t i = get_global_id(0); b[i] = a[i] * 3.0f; }""",
        "cuda": """extern "C" __global__ void main_k(const float* a, float* b) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x; b[i] = a[i] * 3.0f; }""",
    }
    entry = "main" if backend == "vulkan" else "main_k"
    plan = vd.ComputePlan(sources[backend], bindings=["buffer", "buffer"], local_size=(64,),
                          entry_point=entry)
    a = vd.asbuffer(np.arange(128, dtype=np.float32))
    b = vd.Buffer((128,), vd.float32)
    plan((2,), [a, b])
    np.testing.assert_array_equal(b.read(0), np.arange(128) * 3)
    with pytest.raises(ValueError, match="2 bindings"):
        plan((2,), [a])


def test_long_1d_launch_folds_past_the_workgroup_count_limit(backend):
    @vd.shader("out.size", local_size=(64, 1, 1))
    def iota_u(out: Buff[vd.uint32]):
        i = vc.global_invocation_id().x
        out[i] = i

    dev = vd.get_context().device
    n = dev.max_workgroup_count[0] * 64 + 1000   # needs more workgroups than x allows
    if n * 4 > min(dev.max_storage_buffer_range, 1 << 31):
        pytest.skip(f"{n} elements exceed what {dev.name} binds as one buffer")
    out = vd.Buffer((n,), vd.uint32)
    iota_u(out)
    got = out.read(0)
    np.testing.assert_array_equal(got[:1000], np.arange(1000))
    np.testing.assert_array_equal(got[-1000:], np.arange(n - 1000, n))
    assert (got == np.arange(n, dtype=np.uint32)).all()


@vd.shader("dst.size")
def scaled_copy(dst: Buff[f32], src: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] * k


def test_barriers_only_where_bindings_conflict(backend):
    n = 4096
    bufs = [vd.asbuffer(np.full(n, k, np.float32)) for k in range(6)]
    graph = vd.CommandGraph()
    scaled_copy(bufs[1], bufs[0], 2.0, graph=graph)   # independent of ...
    scaled_copy(bufs[3], bufs[2], 2.0, graph=graph)   # ... this one
    scaled_copy(bufs[4], bufs[1], 3.0, graph=graph)   # reads what the first wrote
    scaled_copy(bufs[1], bufs[5], 1.0, graph=graph)   # overwrites what the third read
    graph.submit(wait=True)
    np.testing.assert_array_equal(bufs[3].read(0), np.full(n, 4.0))
    np.testing.assert_array_equal(bufs[4].read(0), np.full(n, 0.0))
    np.testing.assert_array_equal(bufs[1].read(0), np.full(n, 5.0))
    cl = graph._lists[0].cl
    if backend == "vulkan":    # one barrier at the start, one before each conflicting op
        assert cl.barriers_recorded == 3


def test_compute_plan_spirv_push_and_specialization_constants(backend):
    if backend != "vulkan":
        pytest.skip("SPIR-V, push and specialization constants are Vulkan's")
    from vkdispatch.backends.vulkan.glslang import compile_glsl
    spirv = compile_glsl("""#version 450
layout(local_size_x = 64) in;
layout(constant_id = 0) const float SCALE = 1.0;
layout(push_constant) uniform Push { float add; } p;
layout(set = 0, binding = 0) buffer B { float b[]; };
void main() { uint i = gl_GlobalInvocationID.x; b[i] = b[i] * SCALE + p.add; }""")
    plan = vd.ComputePlan(spirv, bindings=["buffer"], local_size=(64,), push_constant_size=4,
                          specialization={0: 3.0})
    buf = vd.asbuffer(np.arange(128, dtype=np.float32))
    graph = vd.CommandGraph()
    plan((2,), [buf], np.float32(0.5).tobytes(), graph=graph)
    graph.submit(wait=True)
    np.testing.assert_allclose(buf.read(0), np.arange(128) * 3 + 0.5)
    with pytest.raises(ValueError, match="exactly 4 bytes"):
        plan((2,), [buf], b"")


@vd.shader("dst.size")
def shift_scale(dst: Buff[f32], src: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] * k + 1.0


def _count_builds(graph):
    built = []
    build = graph._build

    def counting(*args):
        built.append(1)
        return build(*args)
    graph._build = counting
    return built


def test_same_records_replay_the_kept_list(backend):
    """An eager loop (record, submit, repeat) replays the list it built the first time
    while the kernels and arguments repeat; other records build anew."""
    x = np.linspace(-1, 1, 777, dtype=np.float32)
    a, b = vd.asbuffer(x), vd.asbuffer(np.zeros_like(x))
    graph = vd.CommandGraph(reset_on_submit=True)
    built = _count_builds(graph)
    ref_a, ref_b = x.copy(), np.zeros_like(x)
    for step in range(6):
        shift_scale(b, a, 0.5, graph=graph)          # the same pair of records each step
        shift_scale(a, b, 2.0, graph=graph)
        graph.submit()
        ref_b = ref_a * np.float32(0.5) + 1
        ref_a = ref_b * np.float32(2.0) + 1
    assert len(built) == 1
    np.testing.assert_allclose(a.read(0), ref_a, rtol=1e-6)
    shift_scale(b, a, 3.0, graph=graph)               # another constant: a new list
    graph.submit()
    shift_scale(a, b, 2.0, graph=graph)               # another record sequence
    graph.submit()
    assert len(built) == 3
    ref_b = ref_a * np.float32(3.0) + 1
    np.testing.assert_allclose(b.read(0), ref_b, rtol=1e-6)
    np.testing.assert_allclose(a.read(0), ref_b * np.float32(2.0) + 1, rtol=1e-6)
    graph.destroy()


def test_records_with_new_constants_replay_with_rewritten_uniforms(backend):
    """Several records repeated with new constants (a loop over a scalar) replay the
    kept list with the changed uniforms rewritten; results follow every value."""
    x = np.linspace(-1, 1, 555, dtype=np.float32)
    a, b = vd.asbuffer(x), vd.asbuffer(np.zeros_like(x))
    graph = vd.CommandGraph(reset_on_submit=True)
    built = _count_builds(graph)
    ref = x.copy()
    for k in (0.5, 2.0, 2.0, -3.0, 0.25):
        shift_scale(b, a, k, graph=graph)
        shift_scale(a, b, 1.0 - k, graph=graph)
        graph.submit()
        ref = (ref * np.float32(k) + 1) * np.float32(1.0 - k) + 1
        np.testing.assert_allclose(a.read(0), ref, rtol=1e-5, atol=1e-6)
    assert len(built) == 1
    graph.destroy()


def test_eager_call_with_new_scalars_rewrites_the_kept_list(backend):
    """One call submitted at a time with a new constant each time (a loop over a
    scalar) builds one list and rewrites its uniforms; results follow every value."""
    x = np.linspace(-1, 1, 333, dtype=np.float32)
    a, b = vd.asbuffer(x), vd.asbuffer(np.zeros_like(x))
    graph = vd.CommandGraph(reset_on_submit=True)
    built = _count_builds(graph)
    ref = x.copy()
    for k in (0.5, 2.0, 2.0, -3.0, 0.5):
        shift_scale(b, a, k, graph=graph)
        graph.submit()
        shift_scale(a, b, 1.0, graph=graph)
        graph.submit()
        ref = (ref * np.float32(k) + 1) * np.float32(1.0) + 1
    assert len(built) == 2                    # one list per (kernel, arguments)
    np.testing.assert_allclose(a.read(0), ref, rtol=1e-5)
    graph.destroy()


def test_constant_exec_size_calls_take_the_prebuilt_plan(backend):
    @vd.shader(64)
    def add_k(buf: Buff[f32], k: Const[f32]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] + k

    buf = vd.asbuffer(np.zeros(64, np.float32))
    for k in (1.0, 2.0, 3.0):
        add_k(buf, k)
    assert list(add_k._plans) == [64]
    np.testing.assert_array_equal(buf.read(0), np.full(64, 6, np.float32))


def test_kept_lists_hold_no_buffer(backend):
    import gc
    import weakref
    graph = vd.CommandGraph(reset_on_submit=True)
    built = _count_builds(graph)
    src = vd.asbuffer(np.ones(64, np.float32))
    dst = vd.Buffer((64,), vd.float32)
    shift_scale(dst, src, 1.0, graph=graph)
    graph.submit(wait=True)
    dead = weakref.ref(dst)
    del dst
    gc.collect()
    assert dead() is None                    # the kept list did not keep it alive
    dst = vd.Buffer((64,), vd.float32)       # a new buffer: never the old list
    shift_scale(dst, src, 1.0, graph=graph)
    graph.submit(wait=True)
    assert len(built) == 2
    np.testing.assert_array_equal(dst.read(0), np.full(64, 2, np.float32))
    src.destroy()                            # a destroyed argument raises at the call
    with pytest.raises(vd.UseAfterFreeError, match="destroyed"):
        shift_scale(dst, src, 1.0, graph=graph)
    assert len(graph) == 0                   # and the graph is as it was
    graph.destroy()


def test_eager_loop_replays_kept_lists_many_times(backend):
    """The global graph's eager loop (call, submit) over two buffers in turn, with
    repeated and new scalars: two kept lists, replayed hundreds of times, every
    result as NumPy's, and vd.stats() counting each call and submit once."""
    @vd.shader("buf.size")
    def add_k(buf: Buff[f32], k: Const[f32]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] + k

    xs = [np.linspace(-1, 1, 100, dtype=np.float32), np.arange(100, dtype=np.float32)]
    bufs = [vd.asbuffer(x) for x in xs]
    add_k(bufs[0], 0.0)                       # compiled before counting
    graph = vd.global_graph()
    graph.submit()
    built = _count_builds(graph)
    before = vd.stats()
    refs = [x.copy() for x in xs]
    for step in range(300):
        k = 1.0 if step % 3 else float(step % 7)
        add_k(bufs[step % 2], k)
        graph.submit()
        refs[step % 2] += np.float32(k)
    for buf, ref in zip(bufs, refs):
        np.testing.assert_array_equal(buf.read(0), ref)
    delta = vd.stats() - before
    assert (delta.dispatches_recorded, delta.submits, delta.kernels_compiled) == (300, 300, 0)
    assert len(built) == 1                    # bufs[1]'s list (bufs[0]'s is kept from the
                                              # warm-up call), then only replays


def test_fresh_views_of_the_same_memory_replay_one_list(backend):
    """Eager calls on views made anew each call (as library code slices a buffer)
    replay the list of the first: a view binds its base's memory at an offset, so the
    same base, offset and size is the same binding; another offset is another list."""
    x = np.arange(256, dtype=np.float32)
    base = vd.asbuffer(x)
    graph = vd.CommandGraph(reset_on_submit=True)
    built = _count_builds(graph)
    ref = x.copy()
    for step in range(6):
        start = 0 if step < 4 else 64          # two offsets, each its own list
        view = base.view(start, (64,))
        shift_scale(view, view, 2.0, graph=graph)
        graph.submit()
        ref[start:start + 64] = ref[start:start + 64] * 2 + 1
    assert len(built) == 2
    np.testing.assert_array_equal(base.read(0), ref)
    graph.destroy()
