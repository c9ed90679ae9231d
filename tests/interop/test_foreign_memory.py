"""Another API's memory imported whole into Vulkan, buffers bound in it (the runtime's
foreign_memory_import), and CUDA allocations that export (shareable_allocations).

Here a second Vulkan context's exported block stands in for the other API's memory
(lavapipe imports OPAQUE_FD memory); on the GPU machine the CUDA tests make, locate and
export cuMemCreate allocations, and Vulkan imports them for real."""
import gc
import os
import weakref

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt

from .gpu import open_fds, runtime_or_skip


class Owner:
    """What a producer's tensor would be: kept alive by the buffers over its memory."""


@pytest.fixture
def vulkan_pair():
    """(exporter, importer): two Vulkan contexts on device 0."""
    runtime = runtime_or_skip("vulkan")
    a = runtime.create_context([0], [1])
    b = runtime.create_context([0], [1])
    if not (a.capabilities.device_memory_export and b.capabilities.foreign_memory_import):
        a.destroy()
        b.destroy()
        pytest.skip(f"{a.devices[0].name} does not export device memory or import it")
    yield a, b
    a.destroy()
    b.destroy()


def _objects(ctx) -> int:
    """Device memory objects of blocks of their own (imports among them; not the
    staging blocks reads of unmapped memory make)."""
    return ctx.memory_stats(0)["dedicated"]


def test_imported_memory_is_shared_by_its_buffers_and_freed_with_the_last(vulkan_pair):
    a, b = vulkan_pair
    handles = [a.buffer_alloc(0, 4096) for _ in range(4)]
    infos = [a.memory_export_info(h) for h in handles]
    assert len({i.memory_id for i in infos}) == 1       # one block, four offsets
    for k, h in enumerate(handles):
        a.buffer_write(h, np.full(1024, k, np.float32))
    fds0, objects0 = open_fds(), _objects(b)
    memory = b.import_foreign_memory_fd(0, a.export_memory_fd(handles[0]),
                                        infos[0].allocation_size)
    assert _objects(b) == objects0 + 1
    owners = [Owner() for _ in handles]
    alive = [weakref.ref(o) for o in owners]
    views = [b.buffer_in_foreign_memory(memory, i.offset, 4096, owner=o)
             for i, o in zip(infos, owners)]
    del owners
    assert _objects(b) == objects0 + 1                  # buffers add no memory
    for k, g in enumerate(views):                       # the exporter's data, in place
        np.testing.assert_array_equal(np.frombuffer(b.buffer_read(g, 4096), np.float32),
                                      np.full(1024, k))
    b.buffer_write(views[2], np.full(1024, -2, np.float32))
    for k, h in enumerate(handles):                     # lands in exactly that buffer
        np.testing.assert_array_equal(np.frombuffer(a.buffer_read(h, 4096), np.float32),
                                      np.full(1024, -2 if k == 2 else k))
    b.foreign_memory_free(memory)
    b.foreign_memory_free(memory)                       # idempotent
    b.queue_wait_idle()
    assert _objects(b) == objects0 + 1                  # the buffers still hold it
    assert all(r() is not None for r in alive)          # and their owners
    np.testing.assert_array_equal(np.frombuffer(b.buffer_read(views[3], 16), np.float32), [3] * 4)
    for g in views[:3]:
        b.buffer_free(g)
    b.queue_wait_idle()
    assert [r() is None for r in alive] == [True, True, True, False]
    assert _objects(b) == objects0 + 1
    b.buffer_free(views[3])
    b.queue_wait_idle()
    gc.collect()
    assert alive[3]() is None and _objects(b) == objects0     # the last one let it go
    assert open_fds() <= fds0      # the fd was the driver's, and it is gone with it


def test_buffers_in_imported_memory_refuse_bad_ranges(vulkan_pair):
    a, b = vulkan_pair
    h = a.buffer_alloc(0, 4096)
    info = a.memory_export_info(h)
    memory = b.import_foreign_memory_fd(0, a.export_memory_fd(h), info.allocation_size)
    try:
        with pytest.raises(vd.InvalidArgumentError, match="offset must be a multiple"):
            b.buffer_in_foreign_memory(memory, 4, 64)
        with pytest.raises(vd.InvalidArgumentError, match="inside the allocation"):
            b.buffer_in_foreign_memory(memory, 0, info.allocation_size + 256)
        with pytest.raises(vd.InvalidArgumentError, match="non-negative"):
            b.buffer_in_foreign_memory(memory, 0, -1)
        with pytest.raises(TypeError, match="import_foreign_memory_fd"):
            b.buffer_in_foreign_memory(h, 0, 64)
    finally:
        b.foreign_memory_free(memory)
    with pytest.raises(vd.UseAfterFreeError, match="freed"):
        b.buffer_in_foreign_memory(memory, 0, 64)


def test_refused_imports_leave_the_fd_with_the_caller(vulkan_pair):
    _, b = vulkan_pair
    objects0 = _objects(b)
    with pytest.raises(vd.InvalidArgumentError, match="fd must be"):
        b.import_foreign_memory_fd(0, -1, 1 << 20)
    fd = os.open("/dev/null", os.O_RDWR)   # no memory: the driver refuses it
    try:
        with pytest.raises(vd.InvalidArgumentError, match="allocation_size"):
            b.import_foreign_memory_fd(0, fd, 0)
        with pytest.raises(vd.ExternalMemoryError, match="refused to import .*VK_ERROR_"):
            b.import_foreign_memory_fd(0, fd, 1 << 20)
        os.fstat(fd)                        # still open: ours to close
    finally:
        os.close(fd)
    assert _objects(b) == objects0          # nothing half-made, and the context works
    h = b.buffer_alloc(0, 64)
    b.buffer_write(h, np.arange(16, dtype=np.float32))
    np.testing.assert_array_equal(np.frombuffer(b.buffer_read(h, 64), np.float32),
                                  np.arange(16))
    b.buffer_free(h)


def test_runtimes_without_imports_say_which_capability():
    for name in ("opencl", "dummy"):
        try:
            ctx = rt.load_runtime(name).create_context([0], [1])
        except vd.BackendUnavailableError:
            continue
        try:
            assert not ctx.capabilities.foreign_memory_import
            assert not ctx.capabilities.shareable_allocations
            with pytest.raises(vd.UnsupportedFeatureError,
                               match="capabilities.foreign_memory_import"):
                ctx.import_foreign_memory_fd(0, 3, 64)
            with pytest.raises(vd.UnsupportedFeatureError,
                               match="capabilities.shareable_allocations"):
                ctx.buffer_alloc_shareable(0, 64)
        finally:
            ctx.destroy()


# ----------------------------------------------------------------------------- CUDA (GPU)

@pytest.fixture
def cuda_ctx():
    ctx = runtime_or_skip("cuda").create_context([0], [1])
    yield ctx
    ctx.destroy()


def test_cuda_shareable_allocations_locate_any_pointer_in_them(cuda_ctx):
    """A cuMemCreate allocation (POSIX fd handles) is rounded to the granularity; a
    pointer anywhere in it, wrapped, finds it (same memory_id, its offset); cuMemAlloc
    memory and ranges past the end do not export, saying why."""
    c = cuda_ctx
    os.close(c.export_shareable_fd(warm := c.buffer_alloc_shareable(0, 1)))
    c.buffer_free(warm)             # (what the driver opens on first use stays)
    fds0 = open_fds()
    b = c.buffer_alloc_shareable(0, 3 << 20)
    info = c.shareable_info(b)
    assert info.offset == 0 and not info.dedicated
    assert info.allocation_size >= 3 << 20 and info.allocation_size % (2 << 20) == 0, info
    base = c.device_pointer(b)
    inner = c.wrap_device_pointer(base + 4096, 1 << 20, owner=None)
    inner_info = c.shareable_info(inner)
    assert (inner_info.memory_id, inner_info.offset) == (info.memory_id, 4096), inner_info
    assert inner_info.allocation_size == info.allocation_size
    os.close(c.export_shareable_fd(inner))   # a new fd of the caller's
    past = c.wrap_device_pointer(base + info.allocation_size - 64, 128, owner=None)
    with pytest.raises(vd.ExternalMemoryError, match="extend past"):
        c.shareable_info(past)
    plain = c.buffer_alloc(0, 1 << 20)
    with pytest.raises(vd.ExternalMemoryError, match="cuMemCreate.*exportable_allocator"):
        c.shareable_info(plain)
    data = np.arange(1 << 18, dtype=np.float32)           # the memory works as memory
    c.buffer_write(b, data)
    np.testing.assert_array_equal(np.frombuffer(c.buffer_read(inner, 4096), np.float32),
                                  data[1024:2048])
    for h in (inner, past, plain, b):
        c.buffer_free(h)
    assert open_fds() == fds0


def test_many_shareable_allocations_leak_nothing(cuda_ctx):
    c = cuda_ctx
    c.buffer_free(c.buffer_alloc_shareable(0, 1 << 20))
    free0 = c.memory_info(0)[0]
    for _ in range(200):
        b = c.buffer_alloc_shareable(0, 1 << 20)
        w = c.wrap_device_pointer(c.device_pointer(b) + 256, 256, owner=None)
        c.shareable_info(w)                 # a retained reference, released by the free
        c.buffer_free(w)
        c.buffer_free(b)
    assert c.memory_info(0)[0] >= free0 - (4 << 20)


def test_vulkan_imports_a_cuda_allocation_and_both_see_one_memory(cuda_ctx):
    """The runtime-level path of zero-copy imports: a CUDA allocation exported as a POSIX
    fd, imported by the Vulkan device of the same UUID, a buffer bound in it."""
    c = cuda_ctx
    runtime = runtime_or_skip("vulkan")
    uuid = c.devices[0].uuid
    index = next((d.index for d in runtime.devices() if d.uuid == uuid), None)
    if index is None:
        pytest.skip("no Vulkan device is CUDA device 0")
    v = runtime.create_context([index], [1])
    try:
        assert v.capabilities.foreign_memory_import, (
            f"{v.devices[0].name} should import OPAQUE_FD memory into buffers: {v.capabilities}")
        fds = []
        for k in range(2):           # (the first round may open what the drivers keep)
            fds.append(open_fds())
            b = c.buffer_alloc_shareable(0, 1 << 20)
            info = c.shareable_info(b)
            c.buffer_write(b, np.arange(1 << 18, dtype=np.float32) + k)
            c.queue_wait_idle()
            memory = v.import_foreign_memory_fd(0, c.export_shareable_fd(b),
                                                info.allocation_size)
            g = v.buffer_in_foreign_memory(memory, 0, 1 << 20)
            np.testing.assert_array_equal(np.frombuffer(v.buffer_read(g, 1 << 20), np.float32),
                                          np.arange(1 << 18) + k)
            v.buffer_write(g, np.full(1 << 18, 5, np.float32))
            v.queue_wait_idle()
            np.testing.assert_array_equal(np.frombuffer(c.buffer_read(b, 64), np.float32),
                                          [5] * 16)
            v.buffer_free(g)
            v.foreign_memory_free(memory)
            v.queue_wait_idle()
            c.buffer_free(b)
        assert open_fds() <= fds[1], (fds, "the imported fd goes with the Vulkan memory")
    finally:
        v.destroy()
