"""vkdispatch.interop.cuda_peer's bookkeeping, run here with a second Vulkan context
standing in for CUDA: it imports the exported blocks for real (so data written on one
side is read on the other), and gives each import a made-up device address. What needs
CUDA itself (streams, semaphores, torch and CuPy) is in test_vulkan_cuda_exchange.py."""
import gc
import os

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.interop import _capsule, _fallback, cuda_peer
from vkdispatch.interop.dlpack import _buffer_tensor

from .fake_cuda import FakeCuda, open_peer


@pytest.fixture
def peer():
    yield from open_peer(FakeCuda)


def test_buffers_of_one_block_share_one_import(peer):
    fake = peer.cuda
    a = vd.asbuffer(np.arange(1024, dtype=np.float32))
    b = vd.asbuffer(np.full(256, 5, np.int32))
    ia = peer.vulkan.memory_export_info(a.allocation(0))
    ib = peer.vulkan.memory_export_info(b.allocation(0))
    assert ia.memory_id == ib.memory_id
    pa, pb = peer.pointer(a), peer.pointer(b)
    assert pb - pa == ib.offset - ia.offset and peer.shared_blocks() == 1
    assert peer.pointer(a.view(10)) == pa + 40          # views add their offset
    view = peer.cuda_view(a)
    np.testing.assert_array_equal(fake.read(view, np.float32), np.arange(1024))  # same memory
    fake.vk.buffer_write(view[0], np.full(1024, -1, np.float32), view[1])
    np.testing.assert_array_equal(a.read(0), np.full(1024, -1))
    np.testing.assert_array_equal(fake.read(peer.cuda_view(b), np.int32), np.full(256, 5))
    assert len(fake.vk.memory_stats(0)) and not fake.freed
    del a
    gc.collect()
    assert not fake.freed                               # b still uses the block
    del b, view
    gc.collect()
    assert len(fake.freed) == 1 and peer.shared_blocks() == 0   # released once


def test_capsules_hand_off_and_give_back(peer):
    fake = peer.cuda
    filler = vd.Buffer((1000,), vd.float32)
    a = vd.asbuffer(np.arange(64, dtype=np.float32))
    assert peer.vulkan.memory_export_info(a.allocation(0)).offset > 0    # inside a block
    peer.pointer(filler)                               # another holder of that block
    live = _capsule.live_count()
    consumed = _capsule.Consumed(cuda_peer.export(peer, _buffer_tensor(a), 5, True))
    t = consumed.tensor
    assert (t.device.device_type, t.device.device_id) == (2, 0)
    assert t.data == peer.pointer(a) and consumed.shape() == (64,)
    consumed.release()                                 # the consumer drops its tensor
    assert _capsule.live_count() == live and len(peer.returned) == 1
    a.read(0)                                          # a sync point collects it
    assert not peer.returned and ("wait_for_stream", 5) in fake.calls
    back = cuda_peer.import_cuda(peer, cuda_peer.CudaExport(peer, _buffer_tensor(a.view(8))),
                                 None)
    assert back.allocation(0) is a.allocation(0) and back.offset == 32
    assert back.shape == (56,) and back.dtype == vd.float32
    np.testing.assert_array_equal(back.read(0), np.arange(8, 64))
    with pytest.raises(BufferError, match="copy=True"):
        cuda_peer.CudaExport(peer, _buffer_tensor(a)).__dlpack__(copy=True)
    with pytest.raises(BufferError, match="dl_device"):
        cuda_peer.CudaExport(peer, _buffer_tensor(a)).__dlpack__(dl_device=(2, 3))


def test_many_exchanges_leak_nothing(peer):
    fake = peer.cuda
    gc.collect()
    fds0 = len(os.listdir("/proc/self/fd"))
    stats0 = fake.vk.memory_stats(0)["live_allocations"]
    live = _capsule.live_count()
    for i in range(200):
        a = vd.Buffer((1000 + i,), vd.float32)
        consumed = _capsule.Consumed(cuda_peer.export(peer, _buffer_tensor(a), None, False))
        back = cuda_peer.import_cuda(peer, cuda_peer.CudaExport(peer, _buffer_tensor(a)),
                                     None)
        del consumed, back, a
    gc.collect()
    vd.get_context().runtime_context.queue_wait_idle()
    vd.asbuffer(np.zeros(4, np.float32)).read(0)       # collects the returned leases
    gc.collect()
    assert not peer.returned and peer.shared_blocks() == 0
    assert _capsule.live_count() == live
    assert fake.vk.memory_stats(0)["live_allocations"] == stats0
    assert len(os.listdir("/proc/self/fd")) <= fds0 + 1   # (a new block's own memfd)


def test_lavapipe_has_no_cuda_peer_and_says_why(backend, monkeypatch):
    ctx = vd.get_context()
    if backend == "cuda":
        pytest.skip("the CUDA backend shares its own memory")
    if ctx.device.device_type != "cpu":
        pytest.skip(f"a CPU driver's case; {ctx.device.name} may have a CUDA peer")
    assert cuda_peer.cuda_peer(ctx) is None
    reason = cuda_peer.peer_absence(ctx)
    assert reason and ("CUDA" in reason or "device_memory_export" in reason)
    buf = vd.asbuffer(np.arange(4, dtype=np.float32))
    assert _fallback.cuda_exporter(buf) is None
    monkeypatch.setattr(_fallback, "_warned", set())
    with pytest.warns(RuntimeWarning, match=r"cannot be shared .*\(.*(CUDA|device_memory)"):
        np.testing.assert_array_equal(_fallback.host_copy(buf, "as_test"), np.arange(4))
