"""Buffers shared through exported memory (VK_KHR_external_memory_fd, OPAQUE_FD), at
the runtime level: between two Vulkan device objects here (lavapipe exposes the
extension), and from Vulkan into CUDA on the GPU machine (cuImportExternalMemory)."""
import os

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt


def _runtime(name):
    try:
        return rt.load_runtime(name)
    except vd.BackendUnavailableError as exc:
        pytest.skip(str(exc))


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def vulkan_pair():
    runtime = _runtime("vulkan")
    a = runtime.create_context([0], [1])
    b = runtime.create_context([0], [1])
    if not a.capabilities.memory_fd_export:
        a.destroy()
        b.destroy()
        pytest.skip(f"{a.devices[0].name} lacks VK_KHR_external_memory_fd")
    yield a, b
    a.destroy()
    b.destroy()


def test_vulkan_buffers_share_exported_memory(vulkan_pair):
    a, b = vulkan_pair
    stats0 = a.memory_stats(0)["live_allocations"]
    fds0 = _open_fds()
    for _ in range(20):           # every fd goes to the importer: none is left open
        h = a.buffer_alloc_exportable(0, 1 << 16)
        a.buffer_write(h, np.arange(1 << 14, dtype=np.float32))
        fd, size, type_index = a.export_memory_fd(h)
        assert size >= 1 << 16
        g = b.import_memory_fd(0, fd, size, 1 << 16, type_index)
        seen = np.frombuffer(b.buffer_read(g, 1 << 16), np.float32)
        np.testing.assert_array_equal(seen, np.arange(1 << 14))
        b.buffer_write(g, np.full(1 << 14, 7, np.float32), 0)
        np.testing.assert_array_equal(np.frombuffer(a.buffer_read(h, 16), np.float32), [7] * 4)
        b.buffer_free(g)
        a.buffer_free(h)
    a.queue_wait_idle()
    b.queue_wait_idle()
    assert _open_fds() == fds0
    probe = a.buffer_alloc(0, 16)      # a later allocation runs the deferred frees
    a.buffer_free(probe)
    a.queue_wait_idle()
    assert a.memory_stats(0)["live_allocations"] <= stats0 + 1


def test_export_needs_an_exportable_buffer(vulkan_pair):
    a, _ = vulkan_pair
    h = a.buffer_alloc(0, 64)
    with pytest.raises(vd.InvalidArgumentError, match="buffer_alloc_exportable"):
        a.export_memory_fd(h)
    e = a.buffer_alloc_exportable(0, 64)
    fd, size, t = a.export_memory_fd(e)
    try:
        with pytest.raises(vd.InvalidArgumentError, match="nbytes"):
            a.import_memory_fd(0, fd, size, size + 1, t)
    finally:
        os.close(fd)


def test_runtimes_without_the_capability_say_so():
    runtime = _runtime("opencl")
    ctx = runtime.create_context([0], [1])
    try:
        assert not ctx.capabilities.memory_fd_export
        with pytest.raises(vd.UnsupportedFeatureError, match="memory_fd_export"):
            ctx.buffer_alloc_exportable(0, 64)
        with pytest.raises(vd.UnsupportedFeatureError, match="memory_fd_import"):
            ctx.import_memory_fd(0, 0, 64, 64)
    finally:
        ctx.destroy()


def test_cuda_imports_vulkan_memory():
    """GPU machine: a Vulkan buffer on the NVIDIA device seen by CUDA without a copy."""
    vulkan, cuda = _runtime("vulkan"), _runtime("cuda")
    nvidia = [d.index for d in vulkan.devices() if "NVIDIA" in d.name.upper()]
    if not nvidia:
        pytest.skip("no NVIDIA Vulkan device")
    v = vulkan.create_context([nvidia[0]], [1])
    c = cuda.create_context([0], [1])
    try:
        n = 1 << 20
        h = v.buffer_alloc_exportable(0, 4 * n)
        v.buffer_write(h, np.arange(n, dtype=np.float32))
        v.queue_wait_idle()
        fd, size, t = v.export_memory_fd(h)
        g = c.import_memory_fd(0, fd, size, 4 * n, t)
        out = np.frombuffer(c.buffer_read(g, 4 * n), np.float32)
        np.testing.assert_array_equal(out, np.arange(n))
        c.buffer_write(g, np.full(n, 3, np.float32))
        c.queue_wait_idle()
        np.testing.assert_array_equal(np.frombuffer(v.buffer_read(h, 16), np.float32), [3] * 4)
        c.buffer_free(g)
        v.buffer_free(h)
    finally:
        c.destroy()
        v.destroy()
