"""Device buffers: allocations the context owns, and wrapped foreign pointers it does not.

A binding or copy operand is a `CudaBuffer` or a view `(buffer, offset, size)`.
"""
from __future__ import annotations

from cuda.bindings import driver

from ...base.errors import InvalidArgumentError, UseAfterFreeError
from ..common import check_range
from . import _shareable
from ._check import check, quiet


class CudaBuffer:
    """`ptr` is the device address (for __cuda_array_interface__ and kernels). `owner`,
    for a wrapped pointer, is the object kept alive while the handle is. `shareable`:
    the exportable allocation the memory lies in (_shareable.Allocation), once asked."""

    __slots__ = ("ptr", "nbytes", "queue", "device", "memory", "owner", "owned",
                 "host_ptr", "freed", "external", "shareable", "__weakref__")

    def __init__(self, ptr: int, nbytes: int, queue: int, device: int, memory: str,
                 owned: bool = True, owner: object = None, host_ptr: int = 0):
        self.ptr = ptr
        self.nbytes = nbytes
        self.queue = queue
        self.device = device
        self.memory = memory
        self.owned = owned
        self.owner = owner
        self.host_ptr = host_ptr
        self.freed = False
        self.external = None    # the CUexternalMemory a mapped import came from
        self.shareable = None

    def __repr__(self) -> str:
        state = "freed" if self.freed else f"0x{self.ptr:x}"
        kind = self.memory if self.owned else "wrapped"
        return f"<CudaBuffer {self.nbytes} bytes {kind} at {state}, queue {self.queue}>"


def resolve(operand, what: str = "buffer"):
    """(buffer, device address, byte size) of a buffer or a (buffer, offset, size) view."""
    if isinstance(operand, CudaBuffer):
        buf, offset, size = operand, 0, operand.nbytes
    elif (isinstance(operand, tuple) and len(operand) == 3
          and isinstance(operand[0], CudaBuffer)):
        buf, offset, size = operand
        offset, size = int(offset), int(size)
        check_range(offset, size, buf.nbytes, f"{what} view")
    else:
        raise TypeError(f"{what} must be a CudaBuffer or a (CudaBuffer, offset, size) view, "
                        f"got {type(operand).__name__}")
    if buf.freed:
        raise UseAfterFreeError(f"{what} {buf!r} was freed")
    return buf, buf.ptr + offset, size


def alloc(nbytes: int, memory: str) -> tuple:
    """(device address, host address or 0) of a new allocation of a checked size and
    kind (common.check_alloc); the device's context must be current. Raises
    OutOfMemoryError with the context left usable."""
    size = max(int(nbytes), 1)  # zero-byte buffers still get a distinct address
    if memory == "host":
        # pinned, mapped host memory: kernels reach it over the bus through its device address
        flags = driver.CU_MEMHOSTALLOC_DEVICEMAP | driver.CU_MEMHOSTALLOC_PORTABLE
        host = int(check(driver.cuMemHostAlloc(size, flags), "cuMemHostAlloc", f"{size} bytes"))
        try:
            dev = int(check(driver.cuMemHostGetDevicePointer(host, 0), "cuMemHostGetDevicePointer"))
        except Exception:
            quiet(driver.cuMemFreeHost(host))
            raise
        return dev, host
    # "shared": NVIDIA discrete memory is not host-visible, so it is device memory too
    return int(check(driver.cuMemAlloc(size), "cuMemAlloc", f"{size} bytes")), 0


def free(buf: CudaBuffer) -> None:
    """Release `buf`'s memory (its device's context current); idempotent. A wrapped
    pointer is not freed, only its owner reference dropped."""
    if buf.freed:
        return
    buf.freed = True
    try:
        shareable, buf.shareable = buf.shareable, None
        if shareable is not None:       # frees an allocation of its own, else lets go
            _shareable.release(shareable)
        elif buf.owned:
            if buf.host_ptr:
                check(driver.cuMemFreeHost(buf.host_ptr), "cuMemFreeHost")
            else:
                check(driver.cuMemFree(buf.ptr), "cuMemFree")
    finally:
        buf.owner = None
        external, buf.external = buf.external, None
        if external is not None:
            quiet(driver.cuDestroyExternalMemory(external))


def import_fd(fd: int, allocation_size: int, nbytes: int, offset: int = 0,
              dedicated: bool = True) -> tuple:
    """(device address, CUexternalMemory) of `nbytes` at `offset` of memory another API
    exported as an OPAQUE_FD (`dedicated`: it was a dedicated allocation, as Vulkan's
    VkMemoryDedicatedAllocateInfo makes, which the import must say); the driver owns
    `fd` once this returns, the caller if it raises (the device's context must be
    current)."""
    desc = driver.CUDA_EXTERNAL_MEMORY_HANDLE_DESC()
    desc.type = driver.CUexternalMemoryHandleType.CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD
    desc.handle.fd = int(fd)
    desc.size = int(allocation_size)
    desc.flags = driver.CUDA_EXTERNAL_MEMORY_DEDICATED if dedicated else 0
    external = check(driver.cuImportExternalMemory(desc), "cuImportExternalMemory",
                     f"{allocation_size} bytes, {'dedicated' if dedicated else 'shared'} "
                     f"allocation")
    try:
        bdesc = driver.CUDA_EXTERNAL_MEMORY_BUFFER_DESC()
        bdesc.offset, bdesc.size, bdesc.flags = int(offset), max(int(nbytes), 1), 0
        ptr = check(driver.cuExternalMemoryGetMappedBuffer(external, bdesc),
                    "cuExternalMemoryGetMappedBuffer", f"{nbytes} bytes at offset {offset}")
    except BaseException:
        quiet(driver.cuDestroyExternalMemory(external))
        raise
    return int(ptr), external


class CudaSemaphore:
    """An imported timeline semaphore (CUexternalSemaphore) on device position `device`."""

    __slots__ = ("external", "device", "freed", "__weakref__")

    def __init__(self, external, device: int):
        self.external, self.device, self.freed = external, device, False

    def __repr__(self) -> str:
        return f"<CudaSemaphore (timeline){' freed' if self.freed else ''}>"


def import_semaphore(fd: int, device: int) -> CudaSemaphore:
    """A timeline semaphore another API exported as an OPAQUE_FD; the driver owns `fd`
    once this returns (the device's context current)."""
    desc = driver.CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC()
    desc.type = (driver.CUexternalSemaphoreHandleType
                 .CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD)
    desc.handle.fd = int(fd)
    desc.flags = 0
    external = check(driver.cuImportExternalSemaphore(desc), "cuImportExternalSemaphore",
                     "a timeline semaphore fd")
    return CudaSemaphore(external, device)


def destroy_semaphore(sem: CudaSemaphore) -> None:
    if not sem.freed:
        sem.freed = True
        check(driver.cuDestroyExternalSemaphore(sem.external), "cuDestroyExternalSemaphore")


def signal_semaphore(sem: CudaSemaphore, value: int, stream) -> None:
    """Set the timeline to `value` after the work already on `stream`."""
    params = driver.CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS()
    params.params.fence.value = value
    params.flags = 0
    check(driver.cuSignalExternalSemaphoresAsync([sem.external], [params], 1, stream),
          "cuSignalExternalSemaphoresAsync", f"value {value}")


def wait_semaphore(sem: CudaSemaphore, value: int, stream) -> None:
    """Hold `stream`'s later work until the timeline reaches `value`."""
    params = driver.CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS()
    params.params.fence.value = value
    params.flags = 0
    check(driver.cuWaitExternalSemaphoresAsync([sem.external], [params], 1, stream),
          "cuWaitExternalSemaphoresAsync", f"value {value}")


def pointer_device_ordinal(ptr: int) -> int:
    """The device ordinal a device address belongs to; InvalidArgumentError when it is none."""
    attr = driver.CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
    err, ordinal = driver.cuPointerGetAttribute(attr, ptr)
    if err == driver.CUresult.CUDA_ERROR_INVALID_VALUE:
        raise InvalidArgumentError(f"0x{ptr:x} is not a CUDA device pointer")
    if err:
        check((err,), "cuPointerGetAttribute")
    return int(ordinal)


__all__ = ["CudaBuffer", "CudaSemaphore", "resolve", "alloc", "free", "import_fd",
           "import_semaphore", "destroy_semaphore", "signal_semaphore", "wait_semaphore",
           "pointer_device_ordinal"]
