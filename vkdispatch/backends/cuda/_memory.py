"""Device buffers: allocations the context owns, and wrapped foreign pointers it does not.

A binding or copy operand is a `CudaBuffer` or a view `(buffer, offset, size)`.
"""
from __future__ import annotations

from cuda.bindings import driver

from ...base.errors import OutOfMemoryError
from ._check import check, quiet

MEMORY_KINDS = ("device", "host", "shared")


class CudaBuffer:
    """`ptr` is the device address (for __cuda_array_interface__ and kernels). `owner`,
    for a wrapped pointer, is the object kept alive while the handle is."""

    __slots__ = ("ptr", "nbytes", "queue", "device", "memory", "owner", "owned",
                 "host_ptr", "freed", "__weakref__")

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
        if offset < 0 or size < 0 or offset + size > buf.nbytes:
            raise ValueError(f"{what} view (offset {offset}, size {size}) does not fit in "
                             f"its buffer of {buf.nbytes} bytes")
    else:
        raise TypeError(f"{what} must be a CudaBuffer or a (CudaBuffer, offset, size) view, "
                        f"got {type(operand).__name__}")
    if buf.freed:
        raise ValueError(f"{what} {buf!r} was freed")
    return buf, buf.ptr + offset, size


def alloc(nbytes: int, memory: str, total_memory: int) -> tuple:
    """(device address, host address or 0) of a new allocation; the device's context
    must be current. Raises OutOfMemoryError with the context left usable."""
    if memory not in MEMORY_KINDS:
        raise ValueError(f"memory must be one of {MEMORY_KINDS}, got {memory!r}")
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
    if size > total_memory:
        raise OutOfMemoryError(f"cannot allocate {size} bytes of device memory: the device "
                               f"has {total_memory} bytes in all")
    return int(check(driver.cuMemAlloc(size), "cuMemAlloc", f"{size} bytes")), 0


def free(buf: CudaBuffer) -> None:
    """Release `buf`'s memory (its device's context current); idempotent. A wrapped
    pointer is not freed, only its owner reference dropped."""
    if buf.freed:
        return
    buf.freed = True
    try:
        if buf.owned:
            if buf.host_ptr:
                check(driver.cuMemFreeHost(buf.host_ptr), "cuMemFreeHost")
            else:
                check(driver.cuMemFree(buf.ptr), "cuMemFree")
    finally:
        buf.owner = None


def pointer_device_ordinal(ptr: int) -> int:
    """The device ordinal a device address belongs to; ValueError when it is none."""
    attr = driver.CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
    err, ordinal = driver.cuPointerGetAttribute(attr, ptr)
    if err == driver.CUresult.CUDA_ERROR_INVALID_VALUE:
        raise ValueError(f"0x{ptr:x} is not a CUDA device pointer")
    if err:
        check((err,), "cuPointerGetAttribute")
    return int(ordinal)


def host_buffer(data, what: str, writable: bool = False) -> memoryview:
    """A flat byte view of a buffer-protocol object (for the copy's host side)."""
    try:
        mv = memoryview(data)
    except TypeError:
        raise TypeError(f"{what} must support the buffer protocol (bytes, bytearray, numpy "
                        f"array, ...), got {type(data).__name__}") from None
    if not mv.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous")
    if writable and mv.readonly:
        raise ValueError(f"{what} must be writable")
    return mv.cast("B") if mv.ndim != 1 or mv.format != "B" else mv


def check_range_size(size: int, offset: int, nbytes: int, what: str) -> None:
    if offset < 0 or nbytes < 0 or offset + nbytes > size:
        raise ValueError(f"{what} of {nbytes} bytes at offset {offset} does not fit in "
                         f"the buffer (or view) of {size} bytes")


__all__ = ["CudaBuffer", "MEMORY_KINDS", "resolve", "alloc", "free", "pointer_device_ordinal",
           "host_buffer", "check_range_size"]
