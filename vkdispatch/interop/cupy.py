"""CuPy and vkdispatch buffers, over DLPack (cupy is imported on first use), and a CuPy
allocator whose memory the Vulkan backend uses without a copy."""
from __future__ import annotations

import threading

from ..backends import runtime as rt
from ..base.buffer import Buffer
from ._fallback import cuda_exporter, host_copy
from .dlpack import from_dlpack


def _cupy():
    try:
        import cupy
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.cupy needs CuPy (pip install cupy-cuda12x)") from exc
    return cupy


def as_cupy(buf: Buffer):
    """A CuPy array over `buf`'s memory (queue 0), ordered after the buffer's pending
    work on CuPy's current stream: on the CUDA backend, and on the Vulkan backend on a
    GPU CUDA also reaches (as vkdispatch.interop.torch.as_torch; a buffer from_cupy made
    over exportable memory gives that memory back). Give it back with from_cupy(array)
    before vkdispatch writes the memory again. On other backends a copy, with a
    one-time warning."""
    cupy = _cupy()
    exporter = cuda_exporter(buf)
    if exporter is not None:
        return cupy.from_dlpack(exporter)
    return cupy.asarray(host_copy(buf, "as_cupy"))


def from_cupy(array) -> Buffer:
    """A vd.Buffer of a CuPy array, our queue ordered after CuPy's current stream, the
    array kept alive as long as the buffer uses its memory. Its memory is shared on the
    CUDA backend; on the Vulkan backend (on a GPU CUDA also reaches) for an array
    as_cupy made, and for one in memory exportable_allocator() made (imported into
    Vulkan once per allocation). Other arrays are copied: on the device where CUDA maps
    Vulkan memory (CuPy's default allocator makes memory that cannot be exported),
    through the host elsewhere."""
    return from_dlpack(array)


SMALL_MAX = 256 << 10    # requests up to this many bytes are carved from shared slabs
SLAB_BYTES = 2 << 20     # a slab's size (rounded up to the allocation granularity)
PIECE_ALIGN = 512        # pieces of a slab start at multiples of this (as CuPy's pool's)


class _Allocation:
    """One exportable allocation, freed when nothing refers to it: CuPy's memory over
    it, and (a slab being carved) the allocator. `top`: the end of what was carved."""
    __slots__ = ("cuda", "handle", "ptr", "size", "top")

    def __init__(self, cuda, handle, size: int):
        self.cuda, self.handle, self.size, self.top = cuda, handle, size, 0
        self.ptr = cuda.device_pointer(handle)

    def __del__(self):
        try:
            self.cuda.buffer_free(self.handle)
        except Exception:   # interpreter teardown: the driver may be gone
            pass


class ExportableAllocator:
    """A CuPy allocator (`cupy.cuda.set_allocator(alloc)`, or `with alloc:` for the
    arrays made inside the block on this thread) whose memory the Vulkan backend imports
    without a copy: vd.from_dlpack / from_cupy / vd.asbuffer of such an array, or of a
    torch tensor over it (torch.from_dlpack(array)), shares its memory.

    Memory comes from cuMemCreate allocations exportable as POSIX file descriptors,
    rounded up to the device's allocation granularity (2 MiB on an H100): a request of
    more than SMALL_MAX bytes gets one of its own, smaller ones are carved in turn from
    a shared 2 MiB slab (never reused in place, so no stream can see another's stale
    work). An allocation is freed once CuPy lets go of all its memory and the device's
    work is done (cudaFree waits so too); the slab being carved stays until the next
    replaces it. Each allocation costs a device synchronization when freed, so for
    arrays made and dropped often, let CuPy's pool keep them:
    `cupy.cuda.set_allocator(cupy.cuda.MemoryPool(alloc).malloc)`."""

    def __init__(self):
        self._contexts = {}          # CUDA device ordinal -> CUDA RuntimeContext
        self._slabs = {}             # CUDA device ordinal -> the _Allocation being carved
        self._lock = threading.Lock()
        self._entered = threading.local()

    def __call__(self, nbytes: int):
        """A cupy.cuda.MemoryPointer to `nbytes` of new memory on CuPy's current device."""
        cupy = _cupy()
        device = cupy.cuda.runtime.getDevice()
        if nbytes == 0:
            return cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(0, 0, None, device), 0)
        cu = self._context(device)
        if nbytes > SMALL_MAX:
            owner = self._allocation(cu, nbytes)
            ptr = owner.ptr
        else:
            owner, ptr = self._piece(device, cu, nbytes)
        return cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(ptr, nbytes, owner, device), 0)

    @staticmethod
    def _allocation(cu, nbytes: int) -> _Allocation:
        handle = cu.buffer_alloc_shareable(0, nbytes)
        try:
            return _Allocation(cu, handle, cu.shareable_info(handle).allocation_size)
        except BaseException:
            cu.buffer_free(handle)
            raise

    def _piece(self, device: int, cu, nbytes: int) -> tuple:
        """(the slab, address) of `nbytes` carved from device `device`'s slab."""
        size = -(-nbytes // PIECE_ALIGN) * PIECE_ALIGN
        with self._lock:
            slab = self._slabs.get(device)
            if slab is None or slab.top + size > slab.size:
                slab = self._slabs[device] = self._allocation(cu, SLAB_BYTES)
            offset, slab.top = slab.top, slab.top + size
        return slab, slab.ptr + offset

    def _context(self, device: int):
        with self._lock:
            cu = self._contexts.get(device)
            if cu is None:
                cu = self._contexts[device] = rt.load_runtime("cuda").create_context([device], [1])
        return cu

    def __enter__(self) -> "ExportableAllocator":
        scope = _cupy().cuda.using_allocator(self)
        scope.__enter__()
        stack = self._entered.__dict__.setdefault("stack", [])
        stack.append(scope)
        return self

    def __exit__(self, *exc) -> None:
        self._entered.stack.pop().__exit__(*exc)


_allocator = None
_allocator_lock = threading.Lock()


def exportable_allocator() -> ExportableAllocator:
    """The process's ExportableAllocator: `cupy.cuda.set_allocator(exportable_allocator())`
    for every CuPy allocation, or `with exportable_allocator():` for those in a block."""
    global _allocator
    with _allocator_lock:
        if _allocator is None:
            _allocator = ExportableAllocator()
    return _allocator
