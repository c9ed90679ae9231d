"""Vulkan runtime through hand-written GLSL compute shaders (the low-level "plan from
GLSL source" path): devices, buffers, dispatch, uniforms, barriers, copies, limits,
the allocator, OOM and threads. Every result is checked against NumPy."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from vkdispatch.base.abi import Binding
from vkdispatch.backends.vulkan import glslang
from vkdispatch.base.abi import ProgramOptions
from vkdispatch.base.errors import DeviceLimitError, ShaderCompileError, VkDispatchError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAXPY_PUSH = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform U { float a; uint n; } u;
void main() { uint i = gl_GlobalInvocationID.x; if (i < u.n) y[i] = u.a * x[i] + y[i]; }
"""
SAXPY_UBO = SAXPY_PUSH.replace("layout(push_constant) uniform U",
                               "layout(std140, binding = 2) uniform U")
SCALE = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) y[i] = 2.0 * x[i]; }
"""
# reads a neighbour another workgroup wrote in the previous dispatch: needs the barrier
SHIFT_ADD = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) buffer Z { float z[]; };
void main() { uint i = gl_GlobalInvocationID.x; uint n = y.length();
              if (i < n) z[i] = y[(i + 97u) % n] + 1.0; }
"""
INCREMENT = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { uint x[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) x[i] += 1u; }
"""
FILL = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { uint x[]; };
layout(push_constant) uniform U { uint value; } u;
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) x[i] = u.value + i; }
"""


def saxpy_program(ctx, vkh, ubo):
    return ctx.create_program(SAXPY_UBO if ubo else SAXPY_PUSH,
                              vkh.info(bindings=vkh.buffers("x", "y"), uniform_size=8, ubo=ubo))


def groups(n, local=64):
    return ((n + local - 1) // local,)


# ----------------------------------------------------------------------------- devices
def test_devices_report_lavapipe_fully(vk_runtime):
    devices = vk_runtime.devices()
    assert devices and [d.index for d in devices] == list(range(len(devices)))
    for d in devices:
        assert d.backend == "vulkan" and d.name
        assert d.device_type in ("discrete", "integrated", "virtual", "cpu", "other")
        assert d.version.startswith("Vulkan 1.") and d.version.count(".") == 2
        assert d.driver and d.vendor
        assert d.subgroup_size >= 1 and d.max_push_constant_size >= 128
        assert d.max_workgroup_invocations >= 128 and len(d.max_workgroup_size) == 3
        assert d.max_storage_buffer_range >= 2 ** 27 and d.memory_heaps and d.queue_families
        assert any("compute" in flags for _, flags in d.queue_families)
        assert "Vulkan" in d.get_info_string(verbose=True)
    cpus = [d for d in devices if d.device_type == "cpu"]
    if not cpus:
        pytest.skip("no CPU Vulkan driver (lavapipe) on this machine")
    lvp = cpus[0]   # Mesa 22.3 lavapipe: see DESIGN.md "Known ground"
    assert "llvmpipe" in lvp.name and lvp.vendor == "Mesa"
    assert lvp.float64 and lvp.int64 and lvp.int16 and lvp.int8 and lvp.float16
    assert lvp.float32_atomic_add and lvp.int64_atomics
    assert {"basic", "arithmetic", "ballot", "shuffle", "vote"} <= lvp.subgroup_ops
    assert lvp.max_storage_buffer_range == 2 ** 27 and lvp.max_shared_memory == 32768


def test_bad_device_and_queue_counts(vk_runtime):
    most = vk_runtime.devices()[0].extra["max_compute_queues"]
    with pytest.raises(ValueError, match=r"queue_counts \[%d\].*ask for 1 to %d" % (most + 1, most)):
        vk_runtime.create_context([0], [most + 1])
    with pytest.raises(ValueError, match="queue_counts"):
        vk_runtime.create_context([0], [0])
    with pytest.raises(ValueError, match="device_indices"):
        vk_runtime.create_context([len(vk_runtime.devices())], [1])


def test_debug_context_logs_and_works(vk_runtime, vkh, caplog):
    from vkdispatch.backends.vulkan.instance import VALIDATION_LAYER, instance_layers
    caplog.set_level("WARNING", logger="vkdispatch")
    ctx = vk_runtime.create_context([vkh.device], [1], debug=True)
    try:
        x = np.arange(100, dtype=np.float32)
        b = vkh.upload(ctx, x)
        np.testing.assert_array_equal(vkh.download(ctx, b, np.float32, 100), x)
    finally:
        ctx.destroy()
        ctx.destroy()
    warned = f"{VALIDATION_LAYER} is not installed" in caplog.text
    assert warned == (VALIDATION_LAYER not in instance_layers())


# ----------------------------------------------------------------------------- buffers
def test_staged_transfers_in_chunks(ctx, vkh, monkeypatch):
    """Device-local memory the host cannot map goes through the staging buffer; forcing
    that path here (lavapipe maps everything) with a small chunk size."""
    from vkdispatch.backends.vulkan import transfer
    monkeypatch.setattr(transfer, "STAGING_MAX", 1 << 20)
    monkeypatch.setattr(ctx, "force_staging", True)
    a = np.random.default_rng(1).random(900_001).astype(np.float32)   # 3.4 chunks
    h = vkh.upload(ctx, a)
    np.testing.assert_array_equal(vkh.download(ctx, h, np.float32, a.size), a)
    np.testing.assert_array_equal(vkh.download(ctx, h, np.float32, 5, 4 * 333_333), a[333_333:333_338])
    ctx.buffer_free(h)


# ----------------------------------------------------------------------------- kernels
def test_saxpy_with_uniforms_in_a_uniform_buffer(ctx, vkh):
    n = 10_007
    rng = np.random.default_rng(2)
    x, y = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, y)
    vkh.run(ctx, saxpy_program(ctx, vkh, True), groups(n), [bx, by], struct.pack("<fI", 2.5, n))
    np.testing.assert_allclose(vkh.download(ctx, by, np.float32, n), 2.5 * x + y, rtol=1e-6)


def test_dependent_dispatches_see_earlier_writes(ctx, vkh):
    n = 1 << 16
    x = np.random.default_rng(3).random(n, dtype=np.float32)
    bx, by, bz = vkh.upload(ctx, x), ctx.buffer_alloc(0, 4 * n), ctx.buffer_alloc(0, 4 * n)
    scale = ctx.create_program(SCALE, vkh.info(bindings=vkh.buffers("x", "y")))
    shift = ctx.create_program(SHIFT_ADD, vkh.info(bindings=vkh.buffers("y", "z")))
    inc = ctx.create_program(INCREMENT, vkh.info(bindings=vkh.buffers("z")))
    cl = ctx.command_list(0)
    cl.dispatch(scale, groups(n), [bx, by])
    cl.dispatch(shift, groups(n), [by, bz])
    for _ in range(20):
        cl.dispatch(shift, groups(n), [bz, by])
        cl.dispatch(shift, groups(n), [by, bz])
    cl.submit().wait()
    ref = 2 * x
    ref = np.roll(ref, -97) + 1
    for _ in range(40):
        ref = np.roll(ref, -97) + 1
    np.testing.assert_allclose(vkh.download(ctx, bz, np.float32, n), ref, rtol=1e-5)
    # the same list replays with the same result, and increments chain on integers
    counters = vkh.upload(ctx, np.zeros(4099, np.uint32))
    cl2 = ctx.command_list(0)
    for _ in range(25):
        cl2.dispatch(inc, groups(4099), [counters])
    for _ in range(3):
        cl2.submit()
    cl2.wait()
    assert (vkh.download(ctx, counters, np.uint32, 4099) == 75).all()


def test_auto_barriers_only_where_needed(ctx, vkh, copy_engine):
    n = 4096
    x = np.random.default_rng(6).random(n, dtype=np.float32)
    bx = vkh.upload(ctx, x)
    outs = [ctx.buffer_alloc(0, 4 * n) for _ in range(6)]
    # x is only read: declaring it read-only lets independent kernels share it
    scale = ctx.create_program(SCALE, vkh.info(bindings=(
        Binding("x", "storage_buffer", 0, writable=False), Binding("y", "storage_buffer", 1))))
    cl = ctx.command_list(0, barriers="auto")
    for o in outs:                       # independent: one barrier (the leading one)
        cl.dispatch(scale, groups(n), [bx, o])
    cl.dispatch(scale, groups(n), [outs[0], outs[1]])   # reads outs[0]: needs a barrier
    cl.dispatch(scale, groups(n), [outs[1], outs[2]])   # reads what the last one wrote
    cl.copy(outs[2], outs[3], 4 * n)                    # and again
    cl.submit().wait()
    assert cl.barriers_recorded == 4
    for o in outs[4:]:
        np.testing.assert_array_equal(vkh.download(ctx, o, np.float32, n), 2 * x)
    np.testing.assert_array_equal(vkh.download(ctx, outs[1], np.float32, n), 4 * x)
    np.testing.assert_array_equal(vkh.download(ctx, outs[3], np.float32, n), 8 * x)
    full = ctx.command_list(0)
    for o in outs:
        full.dispatch(scale, groups(n), [bx, o])
    full.submit().wait()
    assert full.barriers_recorded == len(outs)
    with pytest.raises(ValueError, match="barriers"):
        ctx.command_list(0, barriers="none")


@pytest.mark.parametrize("ubo", [False, True], ids=["push_constant", "uniform_buffer"])
def test_set_uniform_between_submits(ctx, vkh, ubo):
    n = 300
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(n, np.float32))
    prog = saxpy_program(ctx, vkh, ubo)
    cl = ctx.command_list(0)
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 1.0, n))
    i = cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 2.0, n))
    cl.submit().wait()
    recorded = [s.recorded for s in cl._slots]
    cl.set_uniform(i, struct.pack("<fI", 10.0, n))
    cl.submit().wait()
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, n), 14 * x)
    if ubo:   # a UBO uniform changes without re-recording any command buffer
        assert [s.recorded for s in cl._slots[:len(recorded)]] == recorded
    cl.set_uniform(i, struct.pack("<fI", 0.0, 50))   # only the first 50 elements now
    for _ in range(4):
        cl.submit()
    cl.wait()
    ref = 14 * x + 4 * x
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, n), ref)
    with pytest.raises(ValueError, match="takes 0 to 8 uniform bytes"):
        cl.set_uniform(i, bytes(12))


def test_uniform_buffer_list_replays_its_recordings(ctx, vkh):
    """An eager loop's kept list: unchanged uniforms resubmit the last slot as is; a new
    value goes to the next free slot's frame, reusing its recording, while earlier
    submissions may still run with their own values."""
    n = 300
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(n, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(saxpy_program(ctx, vkh, True), groups(n), [bx, by], struct.pack("<fI", 1.0, n))
    cl.submit().wait()
    first = cl._last_slot
    for _ in range(3):
        cl.submit()
    assert cl._last_slot is first and len(cl._slots) == 1
    scales = [2.0, 3.0, -1.0, 0.5, 4.0, 1.5, 2.5, 3.5, 1.0, 6.0, -2.0, 0.25]  # > the slots
    for a in scales:
        cl.set_uniform(0, struct.pack("<fI", a, n))
        cl.submit()
        cl.submit()              # the same value again: its slot, resubmitted
    cl.wait()
    recorded = {s.recorded for s in cl._slots}
    assert len(recorded) == 1    # one recording, made once per slot, never redone
    np.testing.assert_allclose(vkh.download(ctx, by, np.float32, n), (4 + 2 * sum(scales)) * x)


@pytest.mark.parametrize("ubo", [False, True], ids=["push_constant", "uniform_buffer"])
def test_replays_follow_every_change_to_the_list(ctx, vkh, ubo):
    """Submits of an unchanged list rerun its last slot directly; every change (new
    uniforms, an appended dispatch, instances, a failed instanced submit, timestamps,
    a reset) is seen by the next submit."""
    n = 200
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(n, np.float32))
    prog = saxpy_program(ctx, vkh, ubo)
    cl = ctx.command_list(0)
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 1.0, n))
    scale = 0.0
    for _ in range(20):
        cl.submit()
    scale += 20
    assert cl._replay is cl._last_slot and len(cl._slots) == 1
    cl.set_uniform(0, struct.pack("<fI", 2.0, n))
    for _ in range(5):
        cl.submit()
    scale += 10
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 3.0, n))
    for _ in range(3):
        cl.submit()
    scale += 3 * 5
    cl.submit([[struct.pack("<fI", 1.0, n), struct.pack("<fI", 1.0, n)]])
    scale += 2
    with pytest.raises(ValueError, match="uniform bytes"):   # the second instance is bad
        cl.submit([[struct.pack("<fI", 7.0, n), struct.pack("<fI", 7.0, n)],
                   [struct.pack("<fI", 7.0, n), bytes(12)]])
    for _ in range(2):
        cl.submit()
    scale += 2 * 5
    cl.enable_timestamps()
    cl.submit().wait()
    scale += 5
    assert len(cl.timestamps()) == 2
    cl.reset()
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", -1.0, n))
    for _ in range(4):
        cl.submit()
    scale -= 4
    cl.wait()
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, n), scale * x)
    cl.destroy()


@pytest.mark.parametrize("ubo", [False, True], ids=["push_constant", "uniform_buffer"])
def test_instance_uniforms(ctx, vkh, ubo):
    n = 500
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.ones(n, np.float32))
    prog = saxpy_program(ctx, vkh, ubo)
    fill = ctx.create_program(FILL, vkh.info(bindings=vkh.buffers("o"), uniform_size=4))
    out = ctx.buffer_alloc(0, 4 * n)
    cl = ctx.command_list(0)
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 1.0, n))
    cl.dispatch(fill, groups(n), [out], struct.pack("<I", 0))
    scales = [0.5, 1.0, 2.0, -3.0, 0.25, 4.0, 1.5, 2.0, 3.0, 1.0, 0.5]   # more than the slots
    cl.submit([[struct.pack("<fI", a, n), struct.pack("<I", 1000 * k)]
               for k, a in enumerate(scales)]).wait()
    np.testing.assert_allclose(vkh.download(ctx, by, np.float32, n), 1 + sum(scales) * x)
    # the last instance's fill wins
    np.testing.assert_array_equal(vkh.download(ctx, out, np.uint32, n),
                                  1000 * (len(scales) - 1) + np.arange(n))
    with pytest.raises(ValueError, match="all 2 dispatches"):
        cl.submit([[struct.pack("<fI", 1.0, n)]])


def test_replays_share_one_recording(ctx, vkh):
    """A list without uniforms replays its one recording (overlapping submissions
    included); each Signal reports its own submission's timeline value."""
    n = 256
    x = vkh.upload(ctx, np.zeros(n, np.uint32))
    inc = ctx.create_program(INCREMENT, vkh.info(bindings=vkh.buffers("x")))
    cl = ctx.command_list(0)
    cl.dispatch(inc, groups(n), [x])
    signals = [cl.submit() for _ in range(6)]
    assert len(cl._slots) == 1
    assert [s.value for s in signals] == list(range(signals[0].value, signals[0].value + 6))
    assert signals[-1].wait(timeout=30) and all(s.done() for s in signals)
    np.testing.assert_array_equal(vkh.download(ctx, x, np.uint32, n), np.full(n, 6))


@pytest.mark.parametrize("ubo", [False, True], ids=["push_constant", "uniform_buffer"])
def test_plain_submit_after_instances_runs_recorded_uniforms(ctx, vkh, ubo):
    n = 200
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(n, np.float32))
    prog = saxpy_program(ctx, vkh, ubo)
    cl = ctx.command_list(0)
    cl.dispatch(prog, groups(n), [bx, by], struct.pack("<fI", 1.0, n))
    cl.submit()
    cl.submit([[struct.pack("<fI", 5.0, n)], [struct.pack("<fI", 7.0, n)]])
    cl.submit()
    cl.submit().wait()
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, n), 15 * x)


@pytest.fixture(params=["transfer", "shader"])
def copy_engine(request, ctx):
    """Copies through vkCmdCopyBuffer or the copy shader (GPUs use the shader, CPUs the
    transfer command; both paths run on every device here)."""
    device = ctx._devices[0]
    saved = device.copy_with_shader
    device.copy_with_shader = request.param == "shader"
    yield request.param
    device.copy_with_shader = saved


def test_copy_in_a_list(ctx, vkh, copy_engine):
    n = 4096
    x = np.random.default_rng(4).random(n, dtype=np.float32)
    bx, by, bz = vkh.upload(ctx, x), ctx.buffer_alloc(0, 4 * n), ctx.buffer_alloc(0, 4 * n)
    scale = ctx.create_program(SCALE, vkh.info(bindings=vkh.buffers("x", "y")))
    cl = ctx.command_list(0)
    cl.dispatch(scale, groups(n), [bx, by])
    cl.copy(by, bz, 4 * 1000, src_offset=4 * 100, dst_offset=0)
    cl.copy(by, bz, 4 * 100, src_offset=0, dst_offset=4 * 1000)
    cl.dispatch(scale, groups(n), [bz, by])
    cl.submit().wait()
    expect = np.concatenate([2 * x[100:1100], 2 * x[:100]])
    np.testing.assert_array_equal(vkh.download(ctx, bz, np.float32, 1100), expect)
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, 1100), 2 * expect)
    kinds = [type(op).__name__ for op in cl._ops]
    assert kinds.count("_Copy") == (2 if copy_engine == "transfer" else 0)
    with pytest.raises(ValueError, match="does not fit"):
        cl.copy(bx, by, 4 * n, src_offset=4)


@pytest.mark.parametrize("src_offset,dst_offset,nbytes", [
    (0, 0, 4096), (16, 48, 1600), (4, 12, 1000), (12, 0, 4), (1, 3, 999), (2, 2, 6)])
def test_copy_offsets(ctx, vkh, copy_engine, src_offset, dst_offset, nbytes):
    """16-byte, 4-byte and unaligned ranges (the shader takes the first two, views
    starting at aligned offsets; the last two always go through vkCmdCopyBuffer)."""
    size = 8192
    src = np.random.default_rng(5).integers(0, 256, size, dtype=np.uint8)
    dst = np.random.default_rng(6).integers(0, 256, size, dtype=np.uint8)
    bs, bd = vkh.upload(ctx, src), vkh.upload(ctx, dst)
    cl = ctx.command_list(0)
    cl.copy(bs, bd, nbytes, src_offset=src_offset, dst_offset=dst_offset)
    cl.submit().wait()
    dst[dst_offset:dst_offset + nbytes] = src[src_offset:src_offset + nbytes]
    np.testing.assert_array_equal(vkh.download(ctx, bd, np.uint8, size), dst)
    cl.destroy()


def test_copy_larger_than_one_binding(ctx, vkh, copy_engine):
    """A copy over maxStorageBufferRange: the shader path splits it into views."""
    limit = ctx._devices[0].phys.limits.maxStorageBufferRange
    if limit > 256 << 20:
        pytest.skip(f"maxStorageBufferRange is {limit} bytes: too large to exceed here")
    count = (limit + (4 << 20)) // 4
    src = np.arange(count, dtype=np.uint32)
    bs, bd = vkh.upload(ctx, src), ctx.buffer_alloc(0, 4 * count)
    cl = ctx.command_list(0)
    cl.copy(bs, bd, 4 * count - 32, src_offset=16, dst_offset=0)
    cl.submit().wait()
    if copy_engine == "shader":
        assert len(cl._ops) == 2
    got = vkh.download(ctx, bd, np.uint32, count - 8)
    np.testing.assert_array_equal(got, src[4:count - 4])
    cl.destroy()
    for h in (bs, bd):
        ctx.buffer_free(h)


def test_buffer_views_and_alignment(ctx, vkh):
    n, off = 1024, 256
    x = np.arange(n, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(n, np.float32))
    scale = ctx.create_program(SCALE, vkh.info(bindings=vkh.buffers("x", "y")))
    # views: (handle, byte offset, byte size); x.length() sees the view's size
    vkh.run(ctx, scale, groups(n), [(bx, 0, 4 * 100), (by, off * 4, 4 * 100)])
    got = vkh.download(ctx, by, np.float32, n)
    np.testing.assert_array_equal(got[off:off + 100], 2 * x[:100])
    assert not got[:off].any() and not got[off + 100:].any()
    cl = ctx.command_list(0)
    with pytest.raises(DeviceLimitError, match="minStorageBufferOffsetAlignment"):
        cl.dispatch(scale, groups(n), [(bx, 4, 400), by])
    with pytest.raises(ValueError, match="does not fit"):
        cl.dispatch(scale, groups(n), [(bx, 0, 4 * n + 4), by])
    with pytest.raises(ValueError, match="takes 2 bindings"):
        cl.dispatch(scale, groups(n), [bx])


def test_buffer_larger_than_storage_range(ctx, vkh):
    limit = ctx.devices[0].max_storage_buffer_range
    if limit > 2 ** 28:
        pytest.skip(f"maxStorageBufferRange is {limit}; this test needs a small one (lavapipe)")
    nbytes = limit + 4096
    h = ctx.buffer_alloc(0, nbytes)
    tail = np.arange(1024, dtype=np.uint32)
    ctx.buffer_write(h, tail, offset=nbytes - tail.nbytes)
    np.testing.assert_array_equal(vkh.download(ctx, h, np.uint32, 1024, nbytes - tail.nbytes), tail)
    inc = ctx.create_program(INCREMENT, vkh.info(bindings=vkh.buffers("x")))
    cl = ctx.command_list(0)
    with pytest.raises(DeviceLimitError, match="maxStorageBufferRange"):
        cl.dispatch(inc, (1,), [h])
    cl.dispatch(inc, groups(1024), [(h, nbytes - tail.nbytes, tail.nbytes)])
    cl.submit().wait()
    np.testing.assert_array_equal(vkh.download(ctx, h, np.uint32, 1024, nbytes - tail.nbytes), tail + 1)
    cl.destroy()
    ctx.buffer_free(h)


def test_spirv_source_and_specialization(ctx, vkh):
    src = """#version 450
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const float SCALE = 1.0;
layout(constant_id = 2) const int OFFSET = 0;
layout(std430, binding = 0) buffer X { float x[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < x.length()) x[i] = x[i] * SCALE + float(OFFSET); }
"""
    spirv = glslang.compile_glsl(src)
    prog = ctx.create_program(spirv, vkh.info(local=(32, 1, 1), bindings=vkh.buffers("x")),
                              ProgramOptions.make(specialization={0: 32, 1: 3.0, 2: -7}))
    a = np.arange(100, dtype=np.float32)
    h = vkh.upload(ctx, a)
    vkh.run(ctx, prog, groups(100, 32), [h])
    np.testing.assert_array_equal(vkh.download(ctx, h, np.float32, 100), 3 * a - 7)
    with pytest.raises(ValueError, match="SPIR-V"):
        ctx.create_program(b"\x00" * 40, vkh.info(bindings=vkh.buffers("x")))


# ----------------------------------------------------------------------------- limits, errors
def test_limit_errors(ctx, vkh):
    """The limits named as Vulkan names them (the contract tests the others)."""
    dev = ctx.devices[0]
    with pytest.raises(DeviceLimitError, match="maxPushConstantsSize"):
        ctx.create_program(SAXPY_PUSH, vkh.info(bindings=vkh.buffers("x", "y"),
                                                uniform_size=dev.max_push_constant_size + 4))
    with pytest.raises(DeviceLimitError, match="maxComputeSharedMemorySize"):
        ctx.create_program(SCALE, vkh.info(bindings=vkh.buffers("x", "y"),
                                           shared_memory=dev.max_shared_memory + 1))
    prog = ctx.create_program(SCALE, vkh.info(bindings=vkh.buffers("x", "y")))
    b = ctx.buffer_alloc(0, 64)
    with pytest.raises(DeviceLimitError, match="maxComputeWorkGroupCount"):
        ctx.command_list(0).dispatch(prog, (dev.max_workgroup_count[0] + 1,), [b, b])
    ctx.buffer_free(b)


def test_compile_error_names_numbered_source(ctx, vkh):
    bad = SCALE.replace("2.0 * x[i]", "2.0 * undefined_thing")
    with pytest.raises(ShaderCompileError) as err:
        ctx.create_program(bad, vkh.info(bindings=vkh.buffers("x", "y")))
    text = str(err.value)
    assert "undefined_thing" in err.value.log
    assert "5 | void main()" in text and "glslang" in text


# ----------------------------------------------------------------------------- allocator, OOM
def test_block_free_list_first_fit_and_coalescing():
    from vkdispatch.backends.vulkan.memory import MemoryBlock
    size = 1 << 16
    block = MemoryBlock(None, size, 0, None, False, False)
    rng = np.random.default_rng(7)
    live = {}
    for step in range(3000):
        if live and (rng.random() < 0.45 or len(live) > 60):
            off = list(live)[rng.integers(len(live))]
            block.give(off, live.pop(off))
        else:
            n = int(rng.integers(1, 8)) * 256
            off = block.take(n, 256)
            if off is not None:
                live[off] = n
        spans = sorted([(o, n, "used") for o, n in live.items()] + [(o, n, "free") for o, n in block.free])
        assert sum(n for _, n, _ in spans) == size and block.live == len(live)
        for (o1, n1, k1), (o2, n2, k2) in zip(spans, spans[1:]):
            assert o1 + n1 == o2                                   # no gaps, no overlaps
            assert not (k1 == k2 == "free")                        # free ranges coalesced
    for off, n in list(live.items()):
        block.give(off, n)
    assert block.free == [(0, size)] and block.live == 0


def test_small_buffer_cycles_do_not_grow(ctx):
    before = ctx.memory_stats()
    for i in range(10_000):
        ctx.buffer_free(ctx.buffer_alloc(0, 16 + (i % 7) * 100))
    keep = [ctx.buffer_alloc(0, 1000) for _ in range(2000)]   # 2000 live: one shared block
    mid = ctx.memory_stats()
    for h in keep:
        ctx.buffer_free(h)
    ctx.queue_wait_idle()
    after = ctx.memory_stats()
    assert after["live_allocations"] == before["live_allocations"]
    assert after["bytes_in_use"] == before["bytes_in_use"]
    assert mid["live_allocations"] == before["live_allocations"] + 2000
    assert mid["device_memory_objects"] <= before["device_memory_objects"] + 1
    assert after["device_memory_objects"] <= max(before["device_memory_objects"], 1) + 1


# ----------------------------------------------------------------------------- timing, exit
def test_gpu_timestamps(ctx, vkh):
    inc = ctx.create_program(INCREMENT, vkh.info(bindings=vkh.buffers("x")))
    h = vkh.upload(ctx, np.zeros(1 << 16, np.uint32))
    cl = ctx.command_list(0)
    with pytest.raises(VkDispatchError, match="enable_timestamps"):
        cl.timestamps()
    cl.enable_timestamps()
    for _ in range(3):
        cl.dispatch(inc, groups(1 << 16), [h])
    cl.submit().wait()
    times = cl.timestamps()
    assert len(times) == 3 and all(0 <= t < 10 for t in times) and sum(times) > 0
    assert (vkh.download(ctx, h, np.uint32, 1 << 16) == 3).all()
    cl.reset()                      # fewer dispatches than the query pool holds
    cl.dispatch(inc, groups(1 << 16), [h])
    cl.submit().wait()
    assert len(cl.timestamps()) == 1


def test_exit_with_live_objects_is_clean(vk_runtime, tmp_path):
    """Interpreter exit with a context, buffers, programs and in-flight work alive."""
    code = f"""
import struct, numpy as np
from vkdispatch.backends.vulkan import load_runtime
from vkdispatch.base.abi import ProgramInfo, Binding
ctx = load_runtime().create_context([0], [1])
prog = ctx.create_program('''{INCREMENT}''', ProgramInfo("main", (64, 1, 1),
                          (Binding("x", "storage_buffer", 0),)))
h = ctx.buffer_alloc(0, 4 << 16)
cl = ctx.command_list(0)
for _ in range(50):
    cl.dispatch(prog, (1024,), [h])
cl.submit()
print("ok")
"""
    path = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "VKDISPATCH_CACHE_DIR": str(tmp_path), "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"




def test_finalizers_survive_interpreter_teardown(vk_runtime, vkh, monkeypatch):
    """At interpreter exit module globals become None before the last objects go: their
    __del__ must not raise (Python printed 'Exception ignored ... forked_child')."""
    from vkdispatch.backends.vulkan import commands, program, runtime
    ctx = vk_runtime.create_context([0], [1])
    prog = saxpy_program(ctx, vkh, ubo=False)
    cl = ctx.command_list(0)
    for module in (commands, program, runtime):
        monkeypatch.setattr(module, "process", None)
    for obj in (cl, prog, ctx):
        obj.__del__()          # raised AttributeError before
    monkeypatch.undo()
    ctx.destroy()
