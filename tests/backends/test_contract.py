"""The runtime contract (backends/runtime.py), one body per case run on every runtime
present: Vulkan (lavapipe in CI), OpenCL (PoCL), CUDA (GPU machines), and the dummy
runtime where it means something. Allocation, ranges, copies, dispatch, command lists,
errors and their types, out-of-memory, threads, capabilities and program options;
results are compared with NumPy. VKDISPATCH_TEST_BACKENDS restricts the list."""
import dataclasses
import importlib
import os
import pathlib
import re
import struct
import threading

import numpy as np
import pytest

from tests.backends.host_io import download, upload
from tests.conftest import selected_backends
from vkdispatch.backends import runtime as rt
from vkdispatch.base.abi import Binding, ProgramInfo, ProgramOptions, UniformField
from vkdispatch.base.errors import (DeviceLimitError, ExternalMemoryError, InvalidArgumentError,
                                    OutOfBoundsError, OutOfMemoryError, UnsupportedFeatureError,
                                    UseAfterFreeError, VkDispatchError)

# y = a * x + y over the first n elements; x is binding 0, y binding 1, then (a, n)
SAXPY = {
    "glsl": """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform U { float a; uint n; } u;
layout(constant_id = 0) const float SCALE = 1.0;
void main() { uint i = gl_GlobalInvocationID.x; if (i < u.n) y[i] = SCALE * u.a * x[i] + y[i]; }
""",
    "cuda": r"""
#ifndef SCALE
#define SCALE 1.0f
#endif
extern "C" __global__ void saxpy(const float* x, float* y, float a, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = SCALE * a * x[i] + y[i];
}
""",
    "opencl": """
#ifndef SCALE
#define SCALE 1.0f
#endif
__kernel void saxpy(__global const float* x, __global float* y, float a, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = SCALE * a * x[i] + y[i];
}
""",
}
LOCAL = 64
# what scales the kernel by 3 through the program option each backend honours
SCALED_BY_3 = {"specialization": ProgramOptions.make(specialization={0: 3.0}),
               "build_flags": ProgramOptions.make(build_flags=("-DSCALE=3.0f",))}
UNHONOURED = {"specialization": ProgramOptions.make(specialization={0: 1}),
              "build_flags": ProgramOptions.make(build_flags=("-DX=1",))}


def saxpy_info(target: str, local: tuple = (LOCAL, 1, 1)) -> ProgramInfo:
    return ProgramInfo(
        entry_point="main" if target == "glsl" else "saxpy", local_size=local,
        bindings=(Binding("x", "storage_buffer", 0, "float32", writable=False),
                  Binding("y", "storage_buffer", 1, "float32")),
        uniforms=(UniformField("a", "float32", 0, 4), UniformField("n", "uint32", 4, 4)),
        uniform_size=8)


def uniform(a: float, n: int) -> bytes:
    return struct.pack("<fI", a, n)


def groups(n: int) -> tuple:
    return (-(-n // LOCAL),)


# ----------------------------------------------------------------------------- fixtures

_skips = {}


@pytest.fixture(scope="module", params=selected_backends())
def runtime(request):
    name = request.param
    if name not in _skips:
        reason = importlib.import_module(f"vkdispatch.backends.{name}").probe()
        _skips[name] = reason
    if _skips[name] is not None:
        pytest.skip(f"{name}: {_skips[name]}")
    return rt.load_runtime(name)


def _queue_count(runtime) -> int:
    return min(2, runtime.devices()[0].extra.get("max_compute_queues", 2))


@pytest.fixture(scope="module")
def ctx(runtime):
    context = runtime.create_context([0], [_queue_count(runtime)])
    yield context
    context.destroy()


@pytest.fixture
def fresh(runtime):
    """A context of its own, for cases that destroy it."""
    context = runtime.create_context([0], [1])
    yield context
    context.destroy()


@pytest.fixture(scope="module")
def saxpy(ctx, runtime):
    return ctx.create_program(SAXPY[runtime.codegen_target], saxpy_info(runtime.codegen_target))


def run_saxpy(ctx, program, x, y, a=2.5, queue=0):
    bx, by = upload(ctx, x, queue), upload(ctx, y, queue)
    cl = ctx.command_list(queue)
    cl.dispatch(program, groups(len(x)), [bx, by], uniform(a, len(x)))
    cl.submit().wait()
    out = download(ctx, by, np.float32, len(y))
    cl.destroy()
    for h in (bx, by):
        ctx.buffer_free(h)
    return out


def saxpy_ref(a, x, y):
    return np.float32(a) * x + y


# ----------------------------------------------------------------------------- capabilities

EXPECTED = {   # (Vulkan: drivers with VK_KHR_external_memory_fd, as lavapipe and NVIDIA's;
    # semaphore_fd_export where VK_KHR_external_semaphore_fd is too, as on NVIDIA's)
    "vulkan": rt.Capabilities(dlpack_device_type=rt.DLPACK_VULKAN, mipmapped_images=True,
                              memory_fd_export=True, memory_fd_import=True,
                              device_memory_export=True, foreign_memory_import=True),
    "opencl": rt.Capabilities(dlpack_device_type=rt.DLPACK_OPENCL, native_api="opencl"),
    "cuda": rt.Capabilities(dlpack_device_type=rt.DLPACK_CUDA, cuda_stream=True,
                            external_streams=True, cuda_array_interface=True,
                            external_memory=True, graph_capture=True, native_api="cuda",
                            memory_fd_import=True, semaphore_fd_import=True,
                            shareable_allocations=True),
    "dummy": rt.Capabilities(),
}


def _fd_export(c, h):
    e = c.buffer_alloc_exportable(0, 64)
    assert c.memory_export_info(e).dedicated
    os.close(c.export_memory_fd(e))
    c.buffer_free(e)


def _fd_import(c, h):
    if not c.capabilities.memory_fd_export:
        if not c.capabilities.memory_fd_import:
            c.import_memory_fd(0, -1, 64, 64)   # raises: the flag is not set
        return     # an importer of another API's memory: tests/interop/test_external_memory.py
    e = c.buffer_alloc_exportable(0, 64)
    info = c.memory_export_info(e)
    c.buffer_free(c.import_memory_fd(0, c.export_memory_fd(e), info.allocation_size, 64,
                                     info.memory_type_index))
    c.buffer_free(e)


def _semaphore_export(c, h):
    s = c.semaphore_create_exportable(0)
    os.close(c.export_semaphore_fd(s))
    c.queue_signal_semaphore(0, s, 1)
    c.queue_wait_semaphore(0, s, 1)
    c.queue_wait_idle(0)
    c.semaphore_free(s)
    c.semaphore_free(s)     # idempotent


def _semaphore_import(c, h):
    if not c.capabilities.semaphore_fd_import:
        c.import_semaphore_fd(-1)   # raises: the flag is not set
    # an importer of another API's semaphores: tests/interop/test_external_memory.py

def _foreign_import(c, h):
    if not c.capabilities.foreign_memory_import:
        c.import_foreign_memory_fd(0, -1, 64)   # raises: the flag is checked first
    if not c.capabilities.device_memory_export:
        return     # an importer of another API's memory only
    info = c.memory_export_info(h)              # a Vulkan export stands in for CUDA's
    memory = c.import_foreign_memory_fd(0, c.export_memory_fd(h), info.allocation_size)
    c.buffer_free(c.buffer_in_foreign_memory(memory, info.offset, 64))
    c.foreign_memory_free(memory)
    c.foreign_memory_free(memory)               # idempotent


def _shareable(c, h):
    b = c.buffer_alloc_shareable(0, 64)
    info = c.shareable_info(b)
    assert info.offset == 0 and info.allocation_size >= 64 and not info.dedicated
    os.close(c.export_shareable_fd(b))
    c.buffer_free(b)
    with pytest.raises(ExternalMemoryError, match="cuMemCreate"):
        c.shareable_info(h)     # plain buffer_alloc memory does not export


# each flag's methods, called with arguments that are fine where the flag is set
FLAG_CALLS = {
    "cuda_stream": [lambda c, h: c.stream_handle(0)],
    "external_streams": [lambda c, h: c.set_external_stream(0, None),
                         lambda c, h: c.wait_for_stream(0, 0)],
    "cuda_array_interface": [lambda c, h: c.device_pointer(h)],
    "external_memory": [lambda c, h: c.buffer_free(c.wrap_device_pointer(
        c.device_pointer(h) if c.capabilities.cuda_array_interface else 0, 16, object(), 0))],
    "graph_capture": [lambda c, h: (c.begin_capture(0), c.end_capture(0).destroy())],
    "memory_fd_export": [_fd_export],
    "memory_fd_import": [_fd_import],
    "semaphore_fd_export": [_semaphore_export],
    "semaphore_fd_import": [_semaphore_import],
    "foreign_memory_import": [_foreign_import],
    "shareable_allocations": [_shareable],
    "native_api": [lambda c, h: c.native_memory(h), lambda c, h: _enter_native_queue(c)],
    "mipmapped_images": [lambda c, h: c.image_free(c.image_alloc(0, (4, 2), 1, "float32", 4,
                                                                 levels=2))],
}


def _enter_native_queue(c) -> None:
    with c.native_queue(0) as queue:
        assert queue is not None


def test_capabilities_are_declared(ctx, runtime):
    expected = EXPECTED[runtime.name]
    if runtime.name == "opencl":    # PoCL scales an image array's layer coordinate
        pocl = any(d.extra.get("platform") == "Portable Computing Language" for d in ctx.devices)
        expected = dataclasses.replace(expected, layer_sampling=not pocl)
    if runtime.name == "vulkan":
        sems = all("VK_KHR_external_semaphore_fd" in d.phys.extensions for d in ctx._devices)
        expected = dataclasses.replace(expected, semaphore_fd_export=sems)
    assert ctx.capabilities == expected
    assert rt.load_runtime("dummy").create_context([0], [1]).capabilities == EXPECTED["dummy"]


def test_backend_only_methods_follow_their_flag(ctx):
    h = ctx.buffer_alloc(0, 64)
    for flag, calls in FLAG_CALLS.items():
        for call in calls:
            if getattr(ctx.capabilities, flag):
                call(ctx, h)
            else:
                with pytest.raises(UnsupportedFeatureError, match=f"capabilities.{flag}"):
                    call(ctx, h)
    ctx.buffer_free(h)


def test_device_buffers_export_where_declared(ctx):
    """device_memory_export: plain device buffers' memory exports (sub-allocated: at an
    offset of a shared block); elsewhere asking raises."""
    h = ctx.buffer_alloc(0, 64)
    host = ctx.buffer_alloc(0, 64, "host")
    try:
        if ctx.capabilities.device_memory_export:
            info = ctx.memory_export_info(h)
            assert info.allocation_size >= info.offset + 64 and not info.dedicated
            os.close(ctx.export_memory_fd(h))
            with pytest.raises(InvalidArgumentError, match="not in exportable memory"):
                ctx.memory_export_info(host)     # only "device" memory exports
        else:
            with pytest.raises((UnsupportedFeatureError, InvalidArgumentError)):
                ctx.memory_export_info(h)
    finally:
        ctx.buffer_free(h)
        ctx.buffer_free(host)


def test_the_interface_declares_every_method_callers_use():
    """Code above the backends reaches a runtime context only through RuntimeContext."""
    pkg = pathlib.Path(rt.__file__).resolve().parents[1]
    used = set()
    for path in pkg.rglob("*.py"):
        if "backends" in path.parts:
            continue
        used |= set(re.findall(r"(?:runtime_context|rctx)\.([A-Za-z_]\w*)", path.read_text()))
    missing = sorted(n for n in used if not hasattr(rt.RuntimeContext, n)
                     and n not in rt.RuntimeContext.__annotations__)
    assert not missing, f"RuntimeContext does not declare {missing}"


def test_device_limits_are_typed(runtime):
    """max_loop_iterations: None (no limit known) or a positive int, shown when set."""
    for info in runtime.devices():
        n = info.max_loop_iterations
        assert n is None or (isinstance(n, int) and n > 0), n
        assert ("max loop iterations" in info.get_info_string()) == (n is not None)
    dummy = rt.load_runtime("dummy")
    assert dummy.devices()[0].max_loop_iterations is None
    dummy.set_params(max_loop_iterations=1000)
    assert dummy.devices()[0].max_loop_iterations == 1000
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_loop_iterations"):
            dummy.set_params(max_loop_iterations=bad)


def test_dummy_runtime_refuses_work_by_type():
    ctx = rt.load_runtime("dummy").create_context([0], [1])
    with pytest.raises(UnsupportedFeatureError):
        ctx.buffer_alloc(0, 16)
    with pytest.raises(UnsupportedFeatureError):
        ctx.create_program("", saxpy_info("glsl"))
    with pytest.raises(UnsupportedFeatureError):
        ctx.command_list(0)
    with pytest.raises(OutOfBoundsError):
        ctx.command_list(5)
    with pytest.raises(UnsupportedFeatureError, match="capabilities.cuda_stream"):
        ctx.stream_handle(0)


# ----------------------------------------------------------------------------- program options

def test_the_honoured_program_option_changes_the_kernel(ctx, runtime):
    (honoured,) = ctx.honoured_options
    target = runtime.codegen_target
    program = ctx.create_program(SAXPY[target], saxpy_info(target), SCALED_BY_3[honoured])
    x, y = np.arange(100, dtype=np.float32), np.ones(100, np.float32)
    np.testing.assert_allclose(run_saxpy(ctx, program, x, y, a=2.0), 6 * x + y, rtol=1e-6)
    program.destroy()


def test_unhonoured_program_options_raise_naming_them(ctx, runtime):
    target = runtime.codegen_target
    for name, options in UNHONOURED.items():
        if name in ctx.honoured_options:
            continue
        with pytest.raises(UnsupportedFeatureError, match=f"{name}.*{runtime.name}"):
            ctx.create_program(SAXPY[target], saxpy_info(target), options)
    with pytest.raises(TypeError, match="ProgramOptions"):
        ctx.create_program(SAXPY[target], saxpy_info(target), {"specialization": {0: 1}})


# ----------------------------------------------------------------------------- allocation, ranges

@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint16", "int64", "complex64"])
@pytest.mark.parametrize("count", [1, 3, 1000, 65537])
def test_buffer_round_trip(ctx, dtype, count):
    rng = np.random.default_rng(count)
    a = (rng.standard_normal(count) * 100).astype(dtype)
    h = upload(ctx, a)
    np.testing.assert_array_equal(download(ctx, h, dtype, count), a)
    if count > 2:   # a partial write and read at element offsets
        item = a.itemsize
        ctx.buffer_write(h, a[:2][::-1].copy(), offset=item)
        a[1:3] = a[:2][::-1].copy()
        np.testing.assert_array_equal(download(ctx, h, dtype, count - 1, item), a[1:])
    ctx.buffer_free(h)


@pytest.mark.parametrize("memory", ["device", "host", "shared"])
def test_memory_kinds_queues_and_out_argument(ctx, memory):
    a = np.arange(1001, dtype=np.int32)
    for queue in range(ctx.queue_count):
        h = upload(ctx, a, queue, memory)
        out = np.zeros(1002, np.int32)
        view = ctx.buffer_read(h, a.nbytes, out=out)
        np.testing.assert_array_equal(out[:1001], a)
        assert view.nbytes == a.nbytes and out[1001] == 0
        ctx.buffer_free(h)
        ctx.buffer_free(h)   # idempotent


def test_zero_size_buffer(ctx):
    h = ctx.buffer_alloc(0, 0)
    ctx.buffer_write(h, b"")
    assert ctx.buffer_read(h, 0).nbytes == 0
    ctx.buffer_free(h)


def test_range_and_host_memory_errors(ctx):
    h = ctx.buffer_alloc(0, 16)
    with pytest.raises(OutOfBoundsError, match="does not fit"):
        ctx.buffer_write(h, np.zeros(5, np.float32))
    with pytest.raises(OutOfBoundsError):
        ctx.buffer_write(h, np.zeros(1, np.float32), offset=-4)
    with pytest.raises(OutOfBoundsError):
        ctx.buffer_read(h, 8, offset=12)
    with pytest.raises(OutOfBoundsError):
        ctx.buffer_read(h, -1)
    with pytest.raises(InvalidArgumentError, match="writable"):
        ctx.buffer_read(h, 16, out=bytearray(8))
    with pytest.raises(InvalidArgumentError, match="writable"):
        ctx.buffer_read(h, 8, out=bytes(8))
    with pytest.raises(InvalidArgumentError, match="C-contiguous"):
        ctx.buffer_write(h, np.zeros(8, np.float32)[::2])
    with pytest.raises(TypeError, match="buffer protocol"):
        ctx.buffer_write(h, [1, 2, 3])
    ctx.buffer_free(h)
    with pytest.raises(TypeError):
        ctx.buffer_free("not a buffer")


def test_allocation_argument_errors(ctx):
    with pytest.raises(InvalidArgumentError, match="memory must be one of"):
        ctx.buffer_alloc(0, 16, "managed")
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        ctx.buffer_alloc(0, -1)
    for bad in (ctx.queue_count, -1, 1.5):
        with pytest.raises(OutOfBoundsError, match="queue"):
            ctx.buffer_alloc(bad, 16)
    with pytest.raises(OutOfBoundsError, match="queue"):
        ctx.command_list(ctx.queue_count)
    with pytest.raises(OutOfBoundsError, match="queue"):
        ctx.queue_wait_idle(ctx.queue_count)


def test_out_of_memory_leaves_the_context_usable(ctx):
    limit = ctx.devices[0].max_allocation_size
    for nbytes in (limit + 1, 1 << 50):
        with pytest.raises(OutOfMemoryError, match="bytes"):
            ctx.buffer_alloc(0, nbytes)
    a = np.arange(256, dtype=np.float64)
    h = upload(ctx, a)
    np.testing.assert_array_equal(download(ctx, h, np.float64, 256), a)
    ctx.buffer_free(h)


# ----------------------------------------------------------------------------- copies

@pytest.mark.parametrize("src_offset,dst_offset,nbytes", [
    (0, 0, 4096), (16, 48, 1600), (4, 12, 1000), (1, 3, 999), (0, 0, 0)])
def test_copy_in_a_list(ctx, src_offset, dst_offset, nbytes):
    src = np.random.default_rng(5).integers(0, 256, 8192, dtype=np.uint8)
    dst = np.random.default_rng(6).integers(0, 256, 8192, dtype=np.uint8)
    bs, bd = upload(ctx, src), upload(ctx, dst)
    cl = ctx.command_list(0)
    cl.copy(bs, bd, nbytes, src_offset=src_offset, dst_offset=dst_offset)
    cl.copy(bs, bs, 64, src_offset=8000, dst_offset=0)      # disjoint ranges of one buffer
    cl.submit().wait()
    dst[dst_offset:dst_offset + nbytes] = src[src_offset:src_offset + nbytes]
    src[:64] = src[8000:8064]
    np.testing.assert_array_equal(download(ctx, bd, np.uint8, 8192), dst)
    np.testing.assert_array_equal(download(ctx, bs, np.uint8, 8192), src)
    cl.destroy()
    for h in (bs, bd):
        ctx.buffer_free(h)


def test_copy_errors(ctx):
    a, b = ctx.buffer_alloc(0, 256), ctx.buffer_alloc(0, 256)
    cl = ctx.command_list(0)
    with pytest.raises(OutOfBoundsError, match="copy source"):
        cl.copy(a, b, 16, src_offset=248)
    with pytest.raises(OutOfBoundsError, match="copy destination"):
        cl.copy(a, b, 256, dst_offset=1)
    with pytest.raises(InvalidArgumentError, match="overlap"):
        cl.copy(a, a, 64, src_offset=0, dst_offset=32)
    ctx.buffer_free(b)
    with pytest.raises(UseAfterFreeError, match="freed"):
        cl.copy(a, b, 16)
    cl.destroy()
    ctx.buffer_free(a)


# ----------------------------------------------------------------------------- dispatch

def test_saxpy_matches_numpy(ctx, saxpy):
    n = 10_007
    rng = np.random.default_rng(2)
    x, y = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    # devices may fuse a*x+y into one rounding: compare within an ulp or two
    np.testing.assert_allclose(run_saxpy(ctx, saxpy, x, y), saxpy_ref(2.5, x, y), rtol=1e-6)


def test_dependent_dispatches_set_uniform_and_replay(ctx, saxpy):
    """Each dispatch sees the writes of the ones before it, in one list and across
    submits; set_uniform changes a recorded dispatch; replays repeat the work."""
    n, q = 5000, ctx.queue_count - 1
    x = np.arange(n, dtype=np.float32) % 97
    bx, by = upload(ctx, x, q), upload(ctx, np.zeros(n, np.float32), q)
    cl = ctx.command_list(q)
    first = cl.dispatch(saxpy, groups(n), [bx, by], uniform(1.0, n))
    second = cl.dispatch(saxpy, groups(n), [by, bx], uniform(2.0, n))   # x += 2 y
    assert (first, second) == (0, 1)
    cl.submit().wait()
    y_ref = x.copy()
    x_ref = x + 2 * y_ref
    cl.set_uniform(first, uniform(0.5, n))
    for _ in range(3):
        cl.submit()
        y_ref = y_ref + 0.5 * x_ref
        x_ref = x_ref + 2 * y_ref
    cl.submit().wait()
    y_ref = y_ref + 0.5 * x_ref
    x_ref = x_ref + 2 * y_ref
    np.testing.assert_allclose(download(ctx, by, np.float32, n), y_ref, rtol=1e-5)
    np.testing.assert_allclose(download(ctx, bx, np.float32, n), x_ref, rtol=1e-5)
    with pytest.raises(OutOfBoundsError, match="dispatch_index"):
        cl.set_uniform(2, uniform(1.0, n))
    cl.reset()
    cl.submit().wait()       # nothing recorded: nothing runs
    np.testing.assert_allclose(download(ctx, by, np.float32, n), y_ref, rtol=1e-5)
    cl.destroy()
    for h in (bx, by):
        ctx.buffer_free(h)


def test_set_uniform_one_field_at_a_time(ctx, saxpy):
    """set_uniform changing one field, then another, then nothing, also around an
    instanced submit: every submit runs the bytes set last (runtimes may skip writing
    the fields that did not change)."""
    n = 256
    bx, by = upload(ctx, np.ones(n, np.float32)), upload(ctx, np.zeros(n, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(saxpy, groups(n), [bx, by], uniform(1.0, n))
    cl.submit()
    y = np.ones(n, np.float32)
    for a, m in ((2.0, n), (2.0, n // 2), (3.0, n // 2), (3.0, n // 2)):
        cl.set_uniform(0, uniform(a, m))
        cl.submit()
        y[:m] += a
    cl.submit([[uniform(10.0, n)]])
    y += 10
    cl.set_uniform(0, uniform(3.0, n // 2))     # the bytes set before the instances
    cl.submit().wait()
    y[:n // 2] += 3
    np.testing.assert_array_equal(download(ctx, by, np.float32, n), y)
    cl.destroy()
    for h in (bx, by):
        ctx.buffer_free(h)


def test_instance_uniforms_run_once_per_instance(ctx, saxpy):
    n = 300
    x = np.arange(n, dtype=np.float32)
    bx, by = upload(ctx, x), upload(ctx, np.ones(n, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(saxpy, groups(n), [bx, by], uniform(1.0, n))
    scales = [0.5, 1.0, 2.0, -3.0, 0.25, 4.0, 1.5, 2.0, 3.0, 1.0, 0.5]
    cl.submit([[uniform(a, n)] for a in scales]).wait()
    np.testing.assert_allclose(download(ctx, by, np.float32, n), 1 + sum(scales) * x, rtol=1e-6)
    cl.submit().wait()       # the recorded uniforms again
    np.testing.assert_allclose(download(ctx, by, np.float32, n), 1 + (sum(scales) + 1) * x,
                               rtol=1e-6)
    with pytest.raises(InvalidArgumentError, match="instance"):
        cl.submit([[uniform(1.0, n), uniform(1.0, n)]])
    with pytest.raises(InvalidArgumentError, match="uniform"):
        cl.set_uniform(0, uniform(1.0, n) + bytes(64))
    with pytest.raises(InvalidArgumentError, match="uniform"):
        cl.dispatch(saxpy, groups(n), [bx, by], b"\0" * 4)
    cl.destroy()
    for h in (bx, by):
        ctx.buffer_free(h)


def test_signals_empty_lists_and_zero_groups(ctx, saxpy):
    cl = ctx.command_list(0)
    signal = cl.submit()
    assert signal.wait(timeout=10.0) and signal.done()
    y = upload(ctx, np.ones(64, np.float32))
    cl.dispatch(saxpy, (0,), [y, y], uniform(5.0, 64))
    signal = cl.submit()
    assert signal.wait(timeout=10.0) and signal.done()
    np.testing.assert_array_equal(download(ctx, y, np.float32, 64), 1.0)
    cl.destroy()
    ctx.buffer_free(y)


def test_timestamps_need_a_timed_list(ctx, saxpy):
    cl = ctx.command_list(0)
    with pytest.raises(VkDispatchError, match="timestamps"):
        cl.timestamps()
    cl.destroy()
    timed = ctx.command_list(0, timestamps=True)
    assert timed.timestamps() == []
    y = upload(ctx, np.ones(1 << 12, np.float32))
    timed.dispatch(saxpy, groups(1 << 12), [y, y], uniform(1.0, 1 << 12))
    timed.dispatch(saxpy, (0,), [y, y], uniform(1.0, 1 << 12))   # empty: reads 0.0
    timed.dispatch(saxpy, groups(1 << 12), [y, y], uniform(1.0, 1 << 12))
    timed.submit().wait()
    stamps = timed.timestamps()
    assert len(stamps) == 3 and all(isinstance(t, float) and 0 <= t < 10 for t in stamps)
    assert stamps[1] == 0.0
    np.testing.assert_array_equal(download(ctx, y, np.float32, 1 << 12), 4.0)
    timed.destroy()
    ctx.buffer_free(y)


def test_graph_capture_replays_the_captured_work(ctx, saxpy):
    if not ctx.capabilities.graph_capture:
        pytest.skip("the runtime has no graph capture (test_backend_only_methods_follow_their_flag)")
    n = 1000
    x = np.arange(n, dtype=np.float32)
    bx, by = upload(ctx, x), upload(ctx, np.zeros(n, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(saxpy, groups(n), [bx, by], uniform(1.0, n))
    ctx.begin_capture(0)
    try:
        assert ctx.queue_capturing(0)
        cl.submit()
    finally:
        graph = ctx.end_capture(0)
    assert not ctx.queue_capturing(0)
    np.testing.assert_array_equal(download(ctx, by, np.float32, n), 0.0)   # captured, not run
    graph.launch()
    graph.launch().wait()
    np.testing.assert_array_equal(download(ctx, by, np.float32, n), 2 * x)
    graph.destroy()
    with pytest.raises(UseAfterFreeError):
        graph.launch()
    cl.destroy()
    for h in (bx, by):
        ctx.buffer_free(h)


# ----------------------------------------------------------------------------- launch errors

def test_launch_errors(ctx, runtime, saxpy):
    dev = ctx.devices[0]
    target = runtime.codegen_target
    source = SAXPY[target]
    with pytest.raises(DeviceLimitError):
        ctx.create_program(source, saxpy_info(target, (dev.max_workgroup_size[0] * 2, 1, 1)))
    side = int(dev.max_workgroup_invocations ** 0.5) + 1
    with pytest.raises(DeviceLimitError):
        ctx.create_program(source, saxpy_info(target, (side, side, 1)))
    with pytest.raises(InvalidArgumentError, match="local_size"):
        ctx.create_program(source, saxpy_info(target, (0, 1, 1)))
    b = ctx.buffer_alloc(0, 256)
    cl = ctx.command_list(0)
    with pytest.raises(InvalidArgumentError, match="takes 2 bindings"):
        cl.dispatch(saxpy, (1,), [b], uniform(1.0, 64))
    with pytest.raises(DeviceLimitError):
        cl.dispatch(saxpy, (dev.max_workgroup_count[0] + 1,), [b, b], uniform(1.0, 64))
    with pytest.raises(InvalidArgumentError, match="groups"):
        cl.dispatch(saxpy, (1, 1, 1, 1), [b, b], uniform(1.0, 64))
    with pytest.raises(InvalidArgumentError, match="groups"):
        cl.dispatch(saxpy, (-1,), [b, b], uniform(1.0, 64))
    with pytest.raises(TypeError):
        cl.dispatch(saxpy, (1,), [b, "not a buffer"], uniform(1.0, 64))
    cl.destroy()
    ctx.buffer_free(b)


# ----------------------------------------------------------------------------- use after free

def test_freed_buffers_are_refused_everywhere(ctx, saxpy):
    x, y = upload(ctx, np.ones(64, np.float32)), upload(ctx, np.zeros(64, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(saxpy, (1,), [x, y], uniform(1.0, 64))
    cl.submit().wait()
    ctx.buffer_free(x)
    for call in (lambda: ctx.buffer_write(x, b"\0" * 4), lambda: ctx.buffer_read(x, 4),
                 cl.submit, lambda: cl.dispatch(saxpy, (1,), [x, y], uniform(1.0, 64)),
                 lambda: cl.copy(x, y, 4), lambda: cl.copy(y, x, 4)):
        with pytest.raises(UseAfterFreeError, match="freed"):
            call()
    cl.reset()        # recorded again with live buffers, the list runs
    x2 = upload(ctx, np.full(64, 3, np.float32))
    cl.dispatch(saxpy, (1,), [x2, y], uniform(1.0, 64))
    cl.submit().wait()
    np.testing.assert_array_equal(download(ctx, y, np.float32, 64), 4.0)
    cl.destroy()
    for h in (x2, y):
        ctx.buffer_free(h)


def test_destroyed_programs_and_lists_are_refused(ctx, runtime):
    target = runtime.codegen_target
    program = ctx.create_program(SAXPY[target], saxpy_info(target))
    y = upload(ctx, np.zeros(64, np.float32))
    cl = ctx.command_list(0)
    cl.dispatch(program, (1,), [y, y], uniform(1.0, 64))
    program.destroy()
    with pytest.raises(UseAfterFreeError):
        cl.submit()
    with pytest.raises(UseAfterFreeError):
        cl.dispatch(program, (1,), [y, y], uniform(1.0, 64))
    cl.destroy()
    cl.destroy()      # idempotent
    with pytest.raises(UseAfterFreeError, match="destroyed"):
        cl.submit()
    ctx.buffer_free(y)


def test_destroyed_context_refuses_work(fresh, runtime):
    target = runtime.codegen_target
    h = fresh.buffer_alloc(0, 64)
    cl = fresh.command_list(0)
    fresh.destroy()
    for call in (lambda: fresh.buffer_alloc(0, 64), lambda: fresh.buffer_read(h, 4),
                 lambda: fresh.buffer_write(h, b"\0" * 4), lambda: fresh.command_list(0),
                 lambda: fresh.create_program(SAXPY[target], saxpy_info(target)), cl.submit,
                 fresh.queue_wait_idle, fresh.sampler_create):
        with pytest.raises(UseAfterFreeError, match="destroyed"):
            call()
    fresh.buffer_free(h)    # harmless
    fresh.destroy()         # idempotent
    cl.destroy()


# ----------------------------------------------------------------------------- images, samplers

def test_image_and_sampler_argument_errors(ctx):
    if not ctx.devices[0].images:
        pytest.skip(f"{ctx.devices[0].name} has no images")
    with pytest.raises(InvalidArgumentError, match="filter must be one of"):
        ctx.sampler_create("cubic")
    with pytest.raises(InvalidArgumentError, match="address_mode must be one of"):
        ctx.sampler_create("linear", "wrap")
    with pytest.raises(InvalidArgumentError, match="normalized"):
        ctx.sampler_create("nearest", "repeat", normalized=False)
    ctx.sampler_free(ctx.sampler_create("nearest", "clamp_to_edge", normalized=False))
    with pytest.raises(InvalidArgumentError, match="extent"):
        ctx.image_alloc(0, (0, 4), 1, "float32", 4)
    with pytest.raises(InvalidArgumentError, match="array layers"):
        ctx.image_alloc(0, (4, 4, 4), 2, "float32", 4)
    img = ctx.image_alloc(0, (8, 4, 1), 2, "float32", 4)
    data = np.arange(8 * 4 * 4, dtype=np.float32).reshape(4, 8, 4)
    ctx.image_write(img, data, layer=1)
    out = np.zeros_like(data)
    ctx.image_read(img, out, layer=1)
    np.testing.assert_array_equal(out, data)
    with pytest.raises(OutOfBoundsError, match="layer"):
        ctx.image_read(img, out, layer=2)
    with pytest.raises(InvalidArgumentError, match="one layer of the image"):
        ctx.image_write(img, data[:2])
    ctx.image_free(img)
    with pytest.raises(UseAfterFreeError, match="freed"):
        ctx.image_read(img, out)
    ctx.image_free(img)     # idempotent


def test_image_arrays_levels_and_sampler_details(ctx):
    """Arrayed images, mip levels and the sampler details of 0.1's API: the same misuse
    raises the same exception on every backend; what a backend lacks is
    UnsupportedFeatureError naming it."""
    if not ctx.devices[0].images:
        pytest.skip(f"{ctx.devices[0].name} has no images")
    with pytest.raises(TypeError, match="unknown argument"):
        ctx.sampler_create("linear", bias=1.0)
    with pytest.raises(InvalidArgumentError, match="min_lod"):
        ctx.sampler_create("linear", min_lod=2.0, max_lod=1.0)
    with pytest.raises(InvalidArgumentError, match="border_color must be one of"):
        ctx.sampler_create("nearest", "clamp_to_border", border_color="red")
    ctx.sampler_free(ctx.sampler_create("nearest", "clamp_to_border", lod_bias=0.5,
                                        border_color="float_opaque_black", max_lod=3.0))
    one = ctx.image_alloc(0, (4, 2), 1, "float32", 4, arrayed=True)   # an array of 1 layer
    data = np.arange(32, dtype=np.float32)
    ctx.image_write(one, data)
    out = np.zeros_like(data)
    ctx.image_read(one, out, layer=0)
    np.testing.assert_array_equal(out, data)
    with pytest.raises(OutOfBoundsError, match="level"):
        ctx.image_read(one, out, level=1)
    ctx.image_free(one)
    with pytest.raises(InvalidArgumentError, match="cannot be arrayed"):
        ctx.image_alloc(0, (4, 4, 4), 1, "float32", 4, arrayed=True)
    with pytest.raises(InvalidArgumentError, match=r"levels must be an int in \[1, 3\]"):
        ctx.image_alloc(0, (4, 2), 1, "float32", 4, levels=4)
    if not ctx.capabilities.mipmapped_images:
        with pytest.raises(UnsupportedFeatureError, match="capabilities.mipmapped_images"):
            ctx.image_alloc(0, (4, 2), 1, "float32", 4, levels=2)
        return
    mip = ctx.image_alloc(0, (4, 2), 1, "float32", 4, levels=3)
    for level, n in enumerate((32, 8, 4)):
        texels = np.arange(n, dtype=np.float32) + level
        ctx.image_write(mip, texels, level=level)
        got = np.zeros_like(texels)
        ctx.image_read(mip, got, level=level)
        np.testing.assert_array_equal(got, texels)
    with pytest.raises(InvalidArgumentError, match="one layer of the image"):
        ctx.image_write(mip, data, level=1)
    ctx.image_free(mip)


# ----------------------------------------------------------------------------- threads

def test_threads_allocate_write_dispatch_and_read_concurrently(ctx, saxpy):
    n, rounds, errors = 2048, 12, []

    def work(t):
        try:
            q = t % ctx.queue_count
            x = np.full(n, t + 1, np.float32)
            bx, by = upload(ctx, x, q), ctx.buffer_alloc(q, 4 * n)
            cl = ctx.command_list(q)
            cl.dispatch(saxpy, groups(n), [bx, by], uniform(0.0, n))
            for r in range(rounds):
                ctx.buffer_write(by, np.full(n, r, np.float32))
                cl.set_uniform(0, uniform(float(r), n))
                cl.submit().wait()
                got = download(ctx, by, np.float32, n)
                if not np.array_equal(got, np.float32(r) * x + r):
                    errors.append((t, r, got[:4]))
            cl.destroy()
            ctx.buffer_free(bx)
            ctx.buffer_free(by)
        except Exception as exc:  # reported by the main thread
            errors.append((t, exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
