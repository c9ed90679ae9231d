"""cuda_peer's imports of exportable CUDA memory into Vulkan (without a copy), run here
with a second Vulkan context standing in for CUDA (fake_cuda.py): its exportable
blocks are the "CUDA allocations", imported into the vkdispatch context for real, so
data written on one side is read on the other. With CUDA, CuPy and torch themselves:
test_vulkan_imports_cuda.py (GPU machine)."""
import gc
import os
import weakref

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.interop import _capsule, _fallback, cuda_peer

from .fake_cuda import FakeCuda, FakeCudaAllocations, Producer, open_peer
from .gpu import add_const


@pytest.fixture
def peer():
    yield from open_peer(FakeCudaAllocations)


def _imports(ctx) -> int:
    """Vulkan memory objects of blocks of their own (imports among them)."""
    return ctx.runtime_context.memory_stats(0)["dedicated"]


def test_exportable_memory_is_the_buffers_memory_imported_once(peer, monkeypatch):
    fake = peer.cuda
    ctx = vd.get_context()
    imports0 = _imports(ctx)
    h, address = fake.alloc(4096)
    h2, later = fake.alloc(4096)                         # the same allocation (block)
    fake.vk.buffer_write(h, np.arange(1024, dtype=np.float32))
    producer = Producer(address, (1024,))
    a = cuda_peer.import_cuda(peer, producer, None)
    assert producer.streams == [77]                      # handed over on the peer's stream
    assert a.shape == (1024,) and a.dtype == vd.float32 and not a.is_view
    assert peer.foreign_allocations() == 1 and _imports(ctx) == imports0 + 1
    np.testing.assert_array_equal(a.read(0), np.arange(1024))       # the producer's data
    add_const(a, 1.0)                                    # a vkdispatch kernel writes ...
    vd.queue_wait_idle()
    got = np.frombuffer(fake.vk.buffer_read(h, 4096), np.float32)  # ... the producer's memory
    np.testing.assert_array_equal(got, np.arange(1024) + 1)
    b = cuda_peer.import_cuda(peer, Producer(later + 64, (4, 4)), False)   # explicit copy=False
    assert peer.foreign_allocations() == 1 and _imports(ctx) == imports0 + 1   # one import
    assert b.shape == (4, 4) and b.is_view
    fake.vk.buffer_write(h2, np.full(16, 5, np.float32), 64)
    np.testing.assert_array_equal(b.read(0), np.full((4, 4), 5))
    assert peer.pointer(a) == address and peer.pointer(b) == later + 64
    assert peer.pointer(a.view(10)) == address + 40
    monkeypatch.setitem(cuda_peer._peers, ctx, peer)   # as cuda_peer(ctx) finds on a GPU
    exporter = _fallback.cuda_exporter(a)              # as_cupy / as_torch of it: the memory
    assert isinstance(exporter, cuda_peer.CudaExport)
    consumed = _capsule.Consumed(exporter.__dlpack__(stream=5, max_version=(1, 0)))
    assert consumed.tensor.data == address
    del consumed, exporter


def test_buffers_keep_their_producers_and_the_last_releases_the_import(peer):
    fake = peer.cuda
    ctx = vd.get_context()
    _, address = fake.alloc(1 << 16)
    gc.collect()
    imports0, fds0 = _imports(ctx), len(os.listdir("/proc/self/fd"))
    first, second = Producer(address, (256,)), Producer(address + 1024, (256,))
    alive = [weakref.ref(first), weakref.ref(second)]
    a = cuda_peer.import_cuda(peer, first, None)
    b = cuda_peer.import_cuda(peer, second, None)
    view = b.view(8, (16,))
    del first, second, b
    gc.collect()
    assert all(r() is not None for r in alive)           # each buffer keeps its producer
    del a
    gc.collect()
    vd.queue_wait_idle()
    gc.collect()
    assert alive[0]() is None and alive[1]() is not None  # a's went with a (its work done)
    assert peer.foreign_allocations() == 1                # the view still uses the import
    np.testing.assert_array_equal(peer.pointer(view), address + 1024 + 32)
    del view
    gc.collect()
    vd.queue_wait_idle()
    gc.collect()
    assert alive[1]() is None and peer.foreign_allocations() == 0
    assert _imports(ctx) == imports0 and not fake.wrapped  # every CUDA reference let go
    assert len(os.listdir("/proc/self/fd")) <= fds0


def test_many_imports_leak_nothing(peer):
    fake = peer.cuda
    ctx = vd.get_context()
    addresses = [fake.alloc(4096)[1] for _ in range(3)]
    gc.collect()
    imports0, fds0 = _imports(ctx), len(os.listdir("/proc/self/fd"))
    live = _capsule.live_count()
    for i in range(150):
        b = cuda_peer.import_cuda(peer, Producer(addresses[i % 3] + 256 * (i % 8), (64,)), None)
        add_const(b, 1.0)
        del b
    gc.collect()
    vd.queue_wait_idle()
    gc.collect()
    assert peer.foreign_allocations() == 0 and not fake.wrapped
    assert _imports(ctx) == imports0 and _capsule.live_count() == live
    assert len(os.listdir("/proc/self/fd")) <= fds0


def test_read_only_producers_give_read_only_buffers(peer):
    _, address = peer.cuda.alloc(256)
    b = cuda_peer.import_cuda(peer, Producer(address, (64,), read_only=True), None)
    with pytest.raises(ValueError, match="read-only"):
        b.write(np.zeros(64, np.float32))
    c = cuda_peer.import_cuda(peer, Producer(address + 16, (8,), read_only=True), None)
    assert c.is_view and not c.is_writable


def test_copy_false_refuses_memory_that_does_not_export_saying_why(peer):
    with pytest.raises(BufferError, match="copy=False.*not made by cuMemCreate"):
        cuda_peer.import_cuda(peer, Producer(0x7 << 40, (64,)), False)
    _, address = peer.cuda.alloc(256)
    with pytest.raises(BufferError, match="not aligned to its 4-byte float32"):
        cuda_peer.import_cuda(peer, Producer(address + 2, (8,)), False)
    empty = cuda_peer.import_cuda(peer, Producer(0, (0,)), False)    # nothing to share
    assert empty.shape == (0,)
    assert peer.foreign_allocations() == 0 and not peer.cuda.wrapped


@pytest.fixture
def plain_peer():
    yield from open_peer(FakeCuda)


def test_a_cuda_runtime_without_exports_is_named(plain_peer):
    assert "shareable_allocations" in plain_peer.foreign_absence()
    with pytest.raises(BufferError, match="capabilities.shareable_allocations"):
        cuda_peer.import_cuda(plain_peer, Producer(0x7 << 40, (64,)), False)
