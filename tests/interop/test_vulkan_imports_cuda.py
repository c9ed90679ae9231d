"""The Vulkan backend using CUDA libraries' memory without a copy, on an NVIDIA GPU: CuPy
arrays made by vkdispatch.interop.cupy.exportable_allocator() (cuMemCreate with POSIX
file-descriptor handles), and torch tensors over them, are imported into Vulkan once per
allocation; memory of the libraries' default allocators (cudaMalloc) comes in by a
device copy, and copy=False refuses it. GPU machine only: skipped where no Vulkan device
is a CUDA device, or CuPy / torch is missing. The runtime-level path is in
test_foreign_memory.py, the bookkeeping without a GPU in test_cuda_peer_imports.py."""
import gc
import os
import time

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.interop.cupy import (SMALL_MAX, ExportableAllocator, as_cupy,
                                     exportable_allocator, from_cupy)
from vkdispatch.interop.torch import as_torch, from_torch

from .gpu import add_const, cuda_library, open_fds, open_vulkan_cuda_peer

N = 1 << 22      # 16 MiB of float32: several granules
SMALL = 1000


@pytest.fixture
def peer():
    yield from open_vulkan_cuda_peer()


@pytest.fixture
def cupy(peer):
    return cuda_library("cupy")


@pytest.fixture
def torch(peer):
    return cuda_library("torch")


def _where(peer, buf, array_ptr) -> str:
    """Diagnostics: the addresses compared, and what the peer has imported."""
    return (f"buffer at 0x{peer.pointer(buf):x}, array at 0x{array_ptr:x}, "
            f"{peer.foreign_allocations()} allocation(s) imported")


def _settle() -> None:
    """Collect dropped buffers and run the releases their finished work held back."""
    gc.collect()
    vd.queue_wait_idle()
    gc.collect()
    vd.queue_wait_idle()


def test_nvidia_imports_cuda_allocations(peer):
    """Both runtimes declare what the zero-copy import needs (else every test below
    falls back to device copies, and fails its pointer checks)."""
    assert peer.foreign_absence() == "", (
        f"{peer.ctx.devices[0].name} cannot import CUDA allocations: "
        f"{peer.foreign_absence()} (Vulkan {peer.vulkan.capabilities}, "
        f"CUDA {peer.cuda.capabilities})")


def test_cupy_memory_from_the_allocator_is_vulkan_memory(cupy, peer):
    """Zero-copy both ways on one memory: a Vulkan kernel's write shows in CuPy's own
    array (no re-import), CuPy's write in the vkdispatch buffer, and as_cupy gives the
    array's memory back."""
    with exportable_allocator():
        a = cupy.arange(N, dtype=cupy.float32)
    vd.reset_stats()
    b = from_cupy(a)
    assert peer.pointer(b) == a.data.ptr, _where(peer, b, a.data.ptr)
    assert peer.foreign_allocations() == 1
    add_const(b, 1.0)                              # Vulkan writes CuPy's memory
    vd.queue_wait_idle()
    s = vd.stats()
    assert s.bytes_to_device == 0 and s.bytes_from_device == 0, s     # nothing via the host
    np.testing.assert_array_equal(cupy.asnumpy(a[:4]), [1, 2, 3, 4], err_msg=_where(peer, b, a.data.ptr))
    np.testing.assert_array_equal(cupy.asnumpy(a[-1:]), [N])
    a *= 2                                         # CuPy writes on its stream ...
    back = from_cupy(a)                            # ... and vkdispatch's queue waits for it
    assert peer.foreign_allocations() == 1         # the allocation is imported once
    add_const(back, 1.0)
    np.testing.assert_array_equal(b.read(0)[:4], [3, 5, 7, 9])        # b is that memory too
    c = as_cupy(b)                                 # CuPy's stream waits for vkdispatch's work
    assert c.data.ptr == a.data.ptr, _where(peer, b, c.data.ptr)
    np.testing.assert_array_equal(cupy.asnumpy(c[:2]), [3, 5])


def test_explicit_copy_false_views_and_shapes(cupy, peer):
    with exportable_allocator():
        a = cupy.zeros((64, 64), dtype=cupy.float32)
    whole = vd.from_dlpack(a, copy=False)
    assert whole.shape == (64, 64) and peer.pointer(whole) == a.data.ptr
    rows = a[8:16]                                 # 2 KiB into the allocation
    v = vd.from_dlpack(rows, copy=False)
    assert v.shape == (8, 64) and peer.pointer(v) == rows.data.ptr, _where(peer, v, rows.data.ptr)
    assert peer.pointer(vd.asbuffer(a)) == a.data.ptr                  # asbuffer shares too
    add_const(v, 3.0)
    vd.queue_wait_idle()
    expected = np.zeros((64, 64), np.float32)
    expected[8:16] = 3
    np.testing.assert_array_equal(cupy.asnumpy(a), expected)
    assert peer.foreign_allocations() == 1


def test_torch_tensors_over_exportable_memory_import_without_a_copy(cupy, torch, peer):
    with exportable_allocator():
        a = cupy.arange(SMALL, dtype=cupy.float32)
    t = torch.from_dlpack(a)
    assert t.data_ptr() == a.data.ptr
    b = from_torch(t)
    assert peer.pointer(b) == t.data_ptr(), _where(peer, b, t.data_ptr())
    add_const(b, 1.0)
    t2 = as_torch(b)                               # torch's stream waits for the kernel
    assert t2.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(t[:3].cpu().numpy(), [1, 2, 3])     # the tensor's memory
    t.mul_(10)
    back = from_torch(t)
    np.testing.assert_array_equal(back.read(0)[:3], [10, 20, 30])


def _device_copied(peer, producer, ptr: int, read) -> None:
    """`producer`'s memory (a default allocator's) comes in by a device copy, and
    copy=False refuses it saying why."""
    vd.reset_stats()
    b = vd.from_dlpack(producer)
    s = vd.stats()
    assert s.bytes_to_device == 0 and s.bytes_from_device == 0, s      # not via the host
    assert peer.pointer(b) != ptr and peer.foreign_allocations() == 0, _where(peer, b, ptr)
    add_const(b, 1.0)
    np.testing.assert_array_equal(b.read(0)[:3], [1, 2, 3])
    np.testing.assert_array_equal(read(), [0, 1, 2])                   # the original untouched
    with pytest.raises(BufferError, match="copy=False.*cuMemCreate"):
        vd.from_dlpack(producer, copy=False)


def test_cupy_default_memory_is_device_copied_and_copy_false_refused(cupy, peer):
    a = cupy.arange(SMALL, dtype=cupy.float32)     # CuPy's own pool: cudaMalloc memory
    _device_copied(peer, a, a.data.ptr, lambda: cupy.asnumpy(a[:3]))


def test_torch_default_memory_is_device_copied_and_copy_false_refused(torch, peer):
    t = torch.arange(SMALL, device=f"cuda:{peer.device_index}", dtype=torch.float32)
    _device_copied(peer, t, t.data_ptr(), lambda: t[:3].cpu().numpy())


def test_buffers_keep_the_producer_alive(cupy, peer):
    with exportable_allocator():
        a = cupy.ones(N, dtype=cupy.float32)
    b = from_cupy(a)
    del a
    gc.collect()                                   # only the buffer holds CuPy's array now
    add_const(b, 1.0)
    np.testing.assert_array_equal(b.read(0)[[0, N - 1]], [2, 2])


def test_many_imports_leak_no_memory_or_fds(cupy, peer):
    """200 arrays imported, written by a kernel and dropped: no import, Vulkan memory
    object, file descriptor or CUDA memory is left behind."""
    rctx = vd.get_context().runtime_context

    def rounds(count):
        with exportable_allocator():
            for i in range(count):
                a = cupy.full(SMALL + i, float(i), dtype=cupy.float32)
                b = from_cupy(a)
                add_const(b, 1.0)
                if i % 50 == 0:
                    np.testing.assert_array_equal(b.read(0)[[0, -1]], [i + 1, i + 1])
                del a, b

    rounds(3)                                      # the drivers set up what they keep
    _settle()
    fds0, objects0 = open_fds(), rctx.memory_stats(0)["dedicated"]
    free0 = peer.cuda.memory_info(0)[0]
    rounds(200)
    _settle()
    assert peer.foreign_allocations() == 0
    assert rctx.memory_stats(0)["dedicated"] == objects0, rctx.memory_stats(0)
    assert open_fds() <= fds0, (fds0, sorted(os.listdir("/proc/self/fd")))
    free1 = peer.cuda.memory_info(0)[0]
    assert free1 >= free0 - (32 << 20), (free0, free1)


def test_a_memory_pool_over_the_allocator(cupy, peer):
    pool = cupy.cuda.MemoryPool(exportable_allocator())
    with cupy.cuda.using_allocator(pool.malloc):
        x = cupy.arange(SMALL, dtype=cupy.float32)
        y = cupy.arange(SMALL, dtype=cupy.float32) * 2
    bx, by = vd.from_dlpack(x, copy=False), vd.from_dlpack(y, copy=False)
    assert peer.pointer(bx) == x.data.ptr and peer.pointer(by) == y.data.ptr
    add_const(bx, 1.0)
    add_const(by, 1.0)
    vd.queue_wait_idle()
    np.testing.assert_array_equal(cupy.asnumpy(x[:3]), [1, 2, 3])
    np.testing.assert_array_equal(cupy.asnumpy(y[:3]), [1, 3, 5])
    del bx, by, x, y
    _settle()
    pool.free_all_blocks()
    assert peer.foreign_allocations() == 0


def test_small_arrays_share_a_slab_and_its_import(cupy, peer):
    alloc = ExportableAllocator()                  # a slab of its own, empty
    with alloc:
        small = [cupy.full(SMALL, float(k), dtype=cupy.float32) for k in range(3)]
        big = cupy.zeros(SMALL_MAX // 4 + 1, dtype=cupy.float32)
    bufs = [from_cupy(x) for x in small]
    assert peer.foreign_allocations() == 1, [hex(x.data.ptr) for x in small]
    bufs.append(from_cupy(big))
    assert peer.foreign_allocations() == 2          # a large request has its own
    for x, b in zip(small, bufs):
        assert peer.pointer(b) == x.data.ptr, _where(peer, b, x.data.ptr)
        add_const(b, 1.0)
    vd.queue_wait_idle()
    for k, x in enumerate(small):                  # each kernel wrote only its piece
        np.testing.assert_array_equal(cupy.asnumpy(x[[0, -1]]), [k + 1, k + 1])
    del bufs, small, big, alloc, x, b               # (the loops' last items too)
    _settle()
    assert peer.foreign_allocations() == 0


def test_the_allocator_applies_inside_its_block_or_once_set(cupy, peer):
    alloc = exportable_allocator()
    with alloc:
        inside = cupy.zeros(SMALL, dtype=cupy.float32)
    outside = cupy.zeros(SMALL, dtype=cupy.float32)
    vd.from_dlpack(inside, copy=False)
    with pytest.raises(BufferError, match="cuMemCreate"):
        vd.from_dlpack(outside, copy=False)
    before = cupy.cuda.get_allocator()
    cupy.cuda.set_allocator(alloc)
    try:
        everywhere = cupy.zeros(SMALL, dtype=cupy.float32)
    finally:
        cupy.cuda.set_allocator(before)
    vd.from_dlpack(everywhere, copy=False)


def test_import_cost_per_call(cupy, peer):
    """The figures for the notes (pytest -s prints them): from_cupy of an array whose
    allocation is imported already, and of new arrays (export, import, each)."""
    with exportable_allocator():
        a = cupy.zeros(SMALL, dtype=cupy.float32)
        fresh = [cupy.zeros(SMALL, dtype=cupy.float32) for _ in range(50)]
    from_cupy(a)
    cupy.cuda.runtime.deviceSynchronize()
    n = 300
    start = time.perf_counter()
    for _ in range(n):
        b = from_cupy(a)
    cached = (time.perf_counter() - start) / n
    start = time.perf_counter()
    kept = [from_cupy(x) for x in fresh]
    first = (time.perf_counter() - start) / len(fresh)
    print(f"\nCuPy -> Vulkan without a copy: {cached * 1e6:.1f} us per from_cupy (allocation "
          f"imported already), {first * 1e6:.1f} us for a new allocation "
          f"({'semaphores' if not peer.sync_fallback else 'host waits'})")
    assert peer.pointer(b) == a.data.ptr and len(kept) == 50
    assert cached < 5e-3 and first < 50e-3
