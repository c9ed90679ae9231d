"""The Vulkan backend and PyTorch / CuPy on one NVIDIA GPU: Vulkan buffers seen by CUDA
without a copy (exported memory, cuImportExternalMemory), ordered both ways by exported
timeline semaphores (GPU machine only; skipped where no Vulkan device is a CUDA device,
or torch / cupy is missing)."""
import gc
import time

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32
from vkdispatch.interop import _capsule
from vkdispatch.interop.cupy import as_cupy, from_cupy
from vkdispatch.interop.torch import as_torch, from_torch

from .gpu import add_const, cuda_library, open_vulkan_cuda_peer

N = 1 << 22   # 16 MiB of float32: a dedicated (own-block) allocation
SMALL = 1 << 12


@vd.shader("buf.size")
def add_slowly(buf: Buff[f32], steps: Const[i32]):
    """buf += steps, one dependent +1 at a time: a long kernel (exact below 2**24)."""
    i = vc.global_invocation_id().x
    acc = vc.new_float(buf[i])
    for _ in vc.range(steps):
        acc.set(acc + 1.0)
    buf[i] = acc


@pytest.fixture
def peer():
    """A Vulkan context on a GPU that is also a CUDA device, and its CudaPeer."""
    yield from open_vulkan_cuda_peer()


@pytest.fixture
def torch(peer):
    return cuda_library("torch")


@pytest.fixture
def cupy(peer):
    return cuda_library("cupy")


def test_nvidia_shares_memory_and_semaphores(peer):
    """The driver exports device memory and timeline semaphores: the exchanges below
    take the non-blocking path (peer.sync_fallback says why not otherwise)."""
    caps = peer.vulkan.capabilities
    assert caps.device_memory_export and caps.semaphore_fd_export
    assert peer.sync_fallback == ""


@pytest.mark.parametrize("n", [N, SMALL])   # own block, and sub-allocated at an offset
def test_torch_and_vulkan_write_each_others_memory(torch, peer, n):
    buf = vd.asbuffer(np.arange(n, dtype=np.float32))
    t = as_torch(buf)
    assert t.is_cuda and t.device.index == peer.device_index
    assert t.data_ptr() == peer.pointer(buf) and t.shape == (n,)   # no copy
    add_const(buf, 1.0)                       # vkdispatch writes on its queue ...
    t2 = as_torch(buf)                        # ... and torch's stream waits for it
    assert t2.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(t2[:4].cpu().numpy(), [1, 2, 3, 4])
    np.testing.assert_array_equal(t[-1:].cpu().numpy(), [n])         # same memory
    t2.mul_(2)                                # torch writes on its stream ...
    back = from_torch(t2)                     # ... and vkdispatch's queue waits for it
    assert back.allocation(0) is buf.allocation(0) and back.offset == 0
    add_const(back, 1.0)                      # a vkdispatch shader reads torch's write
    np.testing.assert_array_equal(buf.read(0)[:4], [3, 5, 7, 9])
    t3 = as_torch(buf)                        # torch's stream waits for add_const
    assert t3.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(t[:4].cpu().numpy(), [3, 5, 7, 9])


def test_cupy_and_vulkan_write_each_others_memory(cupy, peer):
    buf = vd.asbuffer(np.arange(N, dtype=np.float32))
    a = as_cupy(buf)
    assert a.data.ptr == peer.pointer(buf) and a.shape == (N,)
    add_const(buf, 1.0)
    a2 = as_cupy(buf)
    np.testing.assert_array_equal(cupy.asnumpy(a2[:4]), [1, 2, 3, 4])
    a2 *= 2
    back = from_cupy(a2)
    assert back.allocation(0) is buf.allocation(0)
    add_const(back, 1.0)
    np.testing.assert_array_equal(buf.read(0)[:4], [3, 5, 7, 9])
    view = as_cupy(buf.view(8, (16,)))        # a view: its offset into the memory
    assert view.data.ptr == a.data.ptr + 32
    np.testing.assert_array_equal(cupy.asnumpy(view[:2]), [19, 21])


def test_a_long_vulkan_kernel_then_an_immediate_torch_read(torch, peer):
    steps = 1 << 21
    buf = vd.asbuffer(np.arange(1 << 20, dtype=np.float32))
    add_slowly(buf, steps)                    # milliseconds of work on the queue
    got = as_torch(buf).cpu().numpy()         # no host wait in between
    np.testing.assert_array_equal(got, np.arange(1 << 20, dtype=np.float32) + steps)


def test_long_torch_work_then_an_immediate_vulkan_kernel(torch, peer):
    buf = vd.asbuffer(np.zeros(N, np.float32))
    t = as_torch(buf)
    for _ in range(200):                      # a long queue of work on torch's stream
        t.add_(1.0)
    back = from_torch(t)                      # vkdispatch's queue waits for all of it
    add_const(back, 0.5)
    np.testing.assert_array_equal(back.read(0)[[0, N // 2, N - 1]], [200.5] * 3)


def test_torch_tensors_come_in_by_a_device_copy(torch, peer):
    x = torch.arange(N, device=f"cuda:{peer.device_index}", dtype=torch.float32)
    vd.reset_stats()
    b = from_torch(x)                         # torch's own memory: copied on the device
    s = vd.stats()
    assert s.bytes_to_device == 0 and s.bytes_from_device == 0
    assert peer.pointer(b) != x.data_ptr()
    add_const(b, 1.0)
    np.testing.assert_array_equal(b.read(0)[:3], [1, 2, 3])


def test_a_training_step_loop_moves_nothing_through_the_host(torch, peer):
    w = torch.randn(1 << 20, device=f"cuda:{peer.device_index}")
    g = vd.Buffer((1 << 20,), vd.float32)
    tg = as_torch(g)
    vd.reset_stats()
    for _ in range(20):
        tg.copy_(torch.randn_like(w))         # torch writes the gradient into our memory
        back = from_torch(tg)
        add_const(back, 0.5)                  # a vkdispatch kernel in the step
        w -= 0.01 * as_torch(back)
    torch.cuda.synchronize()
    s = vd.stats()
    assert s.bytes_from_device == 0 and s.bytes_to_device == 0
    assert s.dispatches_recorded >= 20


def test_dl_device_cuda_exports_the_memory_itself(torch, peer):
    buf = vd.asbuffer(np.arange(64, dtype=np.float32))
    capsule = buf.__dlpack__(dl_device=(2, peer.device_index))   # legacy capsule
    t = torch.utils.dlpack.from_dlpack(capsule)
    assert t.is_cuda and t.data_ptr() == peer.pointer(buf)
    np.testing.assert_array_equal(t.cpu().numpy(), np.arange(64))


def test_many_exchanges_release_every_import(torch, peer):
    """Rounds of 300 exchanges leave nothing behind: no CUDA import or capsule, and the
    Vulkan allocations and CUDA memory in use after a second round are those after the
    first (the eager path keeps a few command lists, with their uniform memory; CUDA
    keeps what its first imports set up)."""
    ctx = vd.get_context()
    live = _capsule.live_count()
    allocations, cuda_free = [], []
    for _ in range(2):
        for i in range(300):
            buf = vd.Buffer((SMALL + i,), vd.float32)
            t = as_torch(buf)
            back = from_torch(t)
            add_const(back, 1.0)
            del buf, t, back
        big = [vd.Buffer((N,), vd.float32) for _ in range(4)]
        tensors = [as_torch(b) for b in big]
        del big, tensors
        gc.collect()
        torch.cuda.synchronize()
        vd.asbuffer(np.zeros(4, np.float32)).read(0)     # a sync point collects the returns
        gc.collect()
        vd.queue_wait_idle()   # submits the global graph, which holds what it recorded
        gc.collect()
        assert not peer.returned and peer.shared_blocks() == 0
        assert _capsule.live_count() == live
        allocations.append(ctx.runtime_context.memory_stats(0)["live_allocations"])
        cuda_free.append(peer.cuda.memory_info(0)[0])
    assert allocations[1] <= allocations[0], allocations
    assert cuda_free[1] >= cuda_free[0] - (16 << 20), cuda_free   # 300 exchanges: 4+ MiB each


def test_exchange_cost_per_call(torch, peer):
    """The figure for the notes (pytest -s prints it): one as_torch + from_torch round
    trip of a shared buffer, its block already imported."""
    buf = vd.Buffer((SMALL,), vd.float32)
    from_torch(as_torch(buf))
    torch.cuda.synchronize()
    n = 300
    start = time.perf_counter()
    for _ in range(n):
        back = from_torch(as_torch(buf))
    torch.cuda.synchronize()
    per_call = (time.perf_counter() - start) / n
    print(f"\nVulkan<->torch exchange: {per_call * 1e6:.1f} us per as_torch + from_torch "
          f"round trip ({'semaphores' if not peer.sync_fallback else 'host waits'})")
    assert back.allocation(0) is buf.allocation(0)
    assert per_call < 5e-3
