"""Buffers shared through exported memory (VK_KHR_external_memory_fd, OPAQUE_FD), at
the runtime level: between two Vulkan device objects here (lavapipe exposes the
extension), and from Vulkan into CUDA on the GPU machine (cuImportExternalMemory), with
timeline semaphores exported the same way (VK_KHR_external_semaphore_fd, NVIDIA's
driver) ordering the two APIs' queues."""
import os

import numpy as np
import pytest

import vkdispatch as vd

from .gpu import open_fds, runtime_or_skip


@pytest.fixture
def vulkan_pair():
    runtime = runtime_or_skip("vulkan")
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
    fds0 = open_fds()
    for _ in range(20):           # every fd goes to the importer: none is left open
        h = a.buffer_alloc_exportable(0, 1 << 16)
        a.buffer_write(h, np.arange(1 << 14, dtype=np.float32))
        info = a.memory_export_info(h)
        assert info.allocation_size >= 1 << 16 and info.offset == 0 and info.dedicated
        g = b.import_memory_fd(0, a.export_memory_fd(h), info.allocation_size, 1 << 16,
                               info.memory_type_index)
        seen = np.frombuffer(b.buffer_read(g, 1 << 16), np.float32)
        np.testing.assert_array_equal(seen, np.arange(1 << 14))
        b.buffer_write(g, np.full(1 << 14, 7, np.float32), 0)
        np.testing.assert_array_equal(np.frombuffer(a.buffer_read(h, 16), np.float32), [7] * 4)
        b.buffer_free(g)
        a.buffer_free(h)
    a.queue_wait_idle()
    b.queue_wait_idle()
    assert open_fds() == fds0
    probe = a.buffer_alloc(0, 16)      # a later allocation runs the deferred frees
    a.buffer_free(probe)
    a.queue_wait_idle()
    assert a.memory_stats(0)["live_allocations"] <= stats0 + 1


def test_plain_device_buffers_export_at_their_offset(vulkan_pair):
    """device_memory_export: buffers sub-allocated from a shared block export the whole
    block; the importer binds its buffer at the exporter's offset."""
    a, b = vulkan_pair
    if not a.capabilities.device_memory_export:
        pytest.skip(f"{a.devices[0].name} exports only dedicated allocations")
    handles = [a.buffer_alloc(0, 4096) for _ in range(8)]
    fds0 = open_fds()     # (lavapipe backs the exportable block with a memfd of its own)
    infos = [a.memory_export_info(h) for h in handles]
    assert len({i.memory_id for i in infos}) == 1            # one block ...
    assert len({i.offset for i in infos}) == 8               # ... at distinct offsets
    assert not infos[0].dedicated
    for k, (h, info) in enumerate(zip(handles, infos)):
        a.buffer_write(h, np.full(1024, k, np.float32))
    imported = []
    for info in infos[2:5]:
        imported.append(b.import_memory_fd(0, a.export_memory_fd(handles[0]),
                                           info.allocation_size, 4096, info.memory_type_index,
                                           info.offset, info.dedicated))
    for k, g in zip(range(2, 5), imported):
        np.testing.assert_array_equal(np.frombuffer(b.buffer_read(g, 4096), np.float32),
                                      np.full(1024, k))
        b.buffer_write(g, np.full(1024, -k, np.float32))
    for k, h in enumerate(handles):       # writes land in exactly the right buffer
        want = -k if 2 <= k < 5 else k
        np.testing.assert_array_equal(np.frombuffer(a.buffer_read(h, 4096), np.float32),
                                      np.full(1024, want))
    for g in imported:
        b.buffer_free(g)
    for h in handles:
        a.buffer_free(h)
    a.queue_wait_idle()
    b.queue_wait_idle()
    assert open_fds() == fds0


def test_export_needs_an_exportable_buffer(vulkan_pair):
    a, _ = vulkan_pair
    h = a.buffer_alloc(0, 64, "host")
    with pytest.raises(vd.InvalidArgumentError, match="not in exportable memory"):
        a.export_memory_fd(h)
    e = a.buffer_alloc_exportable(0, 64)
    info = a.memory_export_info(e)
    fd = a.export_memory_fd(e)
    try:
        with pytest.raises(vd.InvalidArgumentError, match="nbytes"):
            a.import_memory_fd(0, fd, info.allocation_size, info.allocation_size + 1,
                               info.memory_type_index)
        with pytest.raises(vd.InvalidArgumentError, match="offset"):
            a.import_memory_fd(0, fd, info.allocation_size, 64, info.memory_type_index,
                               offset=64, dedicated=True)
        with pytest.raises(vd.InvalidArgumentError, match="offset"):
            a.import_memory_fd(0, fd, info.allocation_size, 64, info.memory_type_index,
                               offset=info.allocation_size, dedicated=False)
    finally:
        os.close(fd)     # every refusal left the fd with the caller


def test_vulkan_devices_name_themselves_by_uuid():
    for info in runtime_or_skip("vulkan").devices():
        assert isinstance(info.uuid, bytes) and len(info.uuid) == 16
        assert info.uuid.hex() in info.get_info_string(verbose=True)


def test_runtimes_without_the_capability_say_so():
    runtime = runtime_or_skip("opencl")
    ctx = runtime.create_context([0], [1])
    try:
        assert not ctx.capabilities.memory_fd_export
        with pytest.raises(vd.UnsupportedFeatureError, match="memory_fd_export"):
            ctx.buffer_alloc_exportable(0, 64)
        with pytest.raises(vd.UnsupportedFeatureError, match="memory_fd_import"):
            ctx.import_memory_fd(0, 0, 64, 64)
        with pytest.raises(vd.UnsupportedFeatureError, match="semaphore_fd_export"):
            ctx.semaphore_create_exportable(0)
        with pytest.raises(vd.UnsupportedFeatureError, match="semaphore_fd_import"):
            ctx.import_semaphore_fd(0)
    finally:
        ctx.destroy()


def test_lavapipe_exports_no_semaphores():
    runtime = runtime_or_skip("vulkan")
    ctx = runtime.create_context([0], [1])
    try:
        if ctx.capabilities.semaphore_fd_export:
            pytest.skip(f"{ctx.devices[0].name} exports semaphores (tested on the GPU machine)")
        with pytest.raises(vd.UnsupportedFeatureError, match="semaphore_fd_export"):
            ctx.semaphore_create_exportable(0)
    finally:
        ctx.destroy()


@pytest.fixture
def vulkan_cuda_pair():
    """GPU machine: a Vulkan context and a CUDA context on the same GPU (equal UUIDs)."""
    vulkan, cuda = runtime_or_skip("vulkan"), runtime_or_skip("cuda")
    by_uuid = {d.uuid: d.index for d in cuda.devices()}
    pairs = [(d.index, by_uuid[d.uuid]) for d in vulkan.devices() if d.uuid in by_uuid]
    if not pairs:
        pytest.skip("no Vulkan device is also a CUDA device here")
    v = vulkan.create_context([pairs[0][0]], [1])
    c = cuda.create_context([pairs[0][1]], [1])
    yield v, c
    c.destroy()
    v.destroy()


def test_cuda_imports_vulkan_memory(vulkan_cuda_pair):
    """GPU machine: a Vulkan buffer on the NVIDIA device seen by CUDA without a copy
    (a dedicated allocation: CUDA_EXTERNAL_MEMORY_DEDICATED)."""
    v, c = vulkan_cuda_pair
    n = 1 << 20
    h = v.buffer_alloc_exportable(0, 4 * n)
    v.buffer_write(h, np.arange(n, dtype=np.float32))
    v.queue_wait_idle()
    info = v.memory_export_info(h)
    g = c.import_memory_fd(0, v.export_memory_fd(h), info.allocation_size, 4 * n,
                           info.memory_type_index, info.offset, info.dedicated)
    out = np.frombuffer(c.buffer_read(g, 4 * n), np.float32)
    np.testing.assert_array_equal(out, np.arange(n))
    c.buffer_write(g, np.full(n, 3, np.float32))
    c.queue_wait_idle()
    np.testing.assert_array_equal(np.frombuffer(v.buffer_read(h, 16), np.float32), [3] * 4)
    c.buffer_free(g)
    v.buffer_free(h)


def test_cuda_maps_suballocated_vulkan_buffers_and_semaphores_order_both_ways(
        vulkan_cuda_pair):
    """GPU machine: plain device buffers (sub-allocated, not dedicated) mapped by CUDA
    at their offset; an exported timeline semaphore orders CUDA's reads after Vulkan's
    writes and Vulkan's reads after CUDA's writes, with no host wait in between."""
    v, c = vulkan_cuda_pair
    assert v.capabilities.device_memory_export and v.capabilities.semaphore_fd_export
    n = 1 << 18
    handles = [v.buffer_alloc(0, 4 * n) for _ in range(3)]
    infos = [v.memory_export_info(h) for h in handles]
    assert len({i.memory_id for i in infos}) == 1 and not infos[0].dedicated
    block = c.import_memory_fd(0, v.export_memory_fd(handles[0]), infos[0].allocation_size,
                               infos[0].allocation_size, infos[0].memory_type_index, 0, False)
    base = c.device_pointer(block)
    sem = v.semaphore_create_exportable(0)
    csem = c.import_semaphore_fd(v.export_semaphore_fd(sem), 0)
    for k, h in enumerate(handles):
        v.buffer_write(h, np.full(n, k + 1, np.float32))
    v.queue_signal_semaphore(0, sem, 1)      # after the writes above
    c.queue_wait_semaphore(0, csem, 1)
    for k, info in enumerate(infos):
        view = (block, info.offset, 4 * n)
        assert c.device_pointer(view) == base + info.offset
        got = np.frombuffer(c.buffer_read(view, 4 * n), np.float32)
        np.testing.assert_array_equal(got, np.full(n, k + 1))
        c.buffer_write(view, np.full(n, -(k + 1), np.float32))
    c.queue_signal_semaphore(0, csem, 2)
    v.queue_wait_semaphore(0, sem, 2)        # Vulkan's later work (the reads) waits
    for k, h in enumerate(handles):
        np.testing.assert_array_equal(np.frombuffer(v.buffer_read(h, 4 * n), np.float32),
                                      np.full(n, -(k + 1)))
    c.semaphore_free(csem)
    v.semaphore_free(sem)
    c.buffer_free(block)
    for h in handles:
        v.buffer_free(h)


def test_queue_semaphore_submissions_order_the_queue():
    """The Vulkan half of the hand-off on a plain timeline semaphore (lavapipe exports
    none): a signal comes after the queue's earlier work; a wait holds back the queue's
    later work, host waits included, until the semaphore gets there."""
    from vkdispatch.backends.vulkan import semaphores
    from vkdispatch.backends.vulkan._vk import ffi, lib, new, vk
    runtime = runtime_or_skip("vulkan")
    ctx = runtime.create_context([0], [1])
    device = ctx._devices[0]
    sem = semaphores.create_timeline(device, exportable=False)
    value = ffi.new("uint64_t *")
    try:
        h = ctx.buffer_alloc(0, 64)
        ctx.buffer_write(h, np.arange(16, dtype=np.float32))
        ctx.queue_signal_semaphore(0, sem, 1)
        ctx.queue_wait_idle(0)
        lib.vkGetSemaphoreCounterValue(device.handle, sem.semaphore, value)
        assert value[0] == 1
        ctx.queue_wait_semaphore(0, sem, 2)
        q = ctx._queues[0]
        assert not q.wait(q.submitted, timeout=0.05)       # held back: nothing signals 2
        signal = new("VkSemaphoreSignalInfo", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                     semaphore=sem.semaphore, value=2)
        assert lib.vkSignalSemaphore(device.handle, signal) == 0
        ctx.queue_wait_idle(0)                             # now it runs
        np.testing.assert_array_equal(np.frombuffer(ctx.buffer_read(h, 64), np.float32),
                                      np.arange(16))
        with pytest.raises(TypeError, match="semaphore handle"):
            ctx.queue_signal_semaphore(0, object(), 3)
        ctx.buffer_free(h)
    finally:
        ctx.queue_wait_idle()
        semaphores.destroy(sem)
        ctx.destroy()
