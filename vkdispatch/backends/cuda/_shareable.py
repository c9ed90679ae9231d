"""Allocations other APIs import (Vulkan, through an OPAQUE_FD): memory made by cuMemCreate
with POSIX file-descriptor handles and mapped into a reserved address range (the virtual
memory management API), and, for any device pointer, the allocation of that kind it lies in.

cudaMalloc / cuMemAlloc memory (PyTorch's and CuPy's default allocators) has no handle to
export; `locate` says so.
"""
from __future__ import annotations

import ctypes

from cuda.bindings import driver

from ...base.errors import ExternalMemoryError
from ._check import check, describe, quiet

POSIX_FD = driver.CUmemAllocationHandleType.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR


class Allocation:
    """One cuMemCreate allocation mapped at [`base`, `base` + `size`): `handle` is a
    reference to it that this object holds (its creator's where `owned`: it also
    unmaps and frees the address range; else one taken by cuMemRetainAllocationHandle)."""

    __slots__ = ("handle", "base", "size", "owned")

    def __init__(self, handle, base: int, size: int, owned: bool):
        self.handle, self.base, self.size, self.owned = handle, base, size, owned

    @property
    def memory_id(self) -> int:
        """The allocation's handle value: the same for every reference to it, and no
        other allocation's while this one is held."""
        return int(self.handle)


def _properties(ordinal: int):
    prop = driver.CUmemAllocationProp()
    prop.type = driver.CUmemAllocationType.CU_MEM_ALLOCATION_TYPE_PINNED
    prop.location.type = driver.CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE
    prop.location.id = int(ordinal)
    prop.requestedHandleTypes = POSIX_FD
    return prop


def granularity(ordinal: int) -> int:
    """The size and alignment unit of exportable allocations on device `ordinal`."""
    return int(check(driver.cuMemGetAllocationGranularity(
        _properties(ordinal), driver.CUmemAllocationGranularity_flags
        .CU_MEM_ALLOC_GRANULARITY_MINIMUM), "cuMemGetAllocationGranularity"))


def create(nbytes: int, ordinal: int) -> Allocation:
    """A new allocation of at least `nbytes` (rounded up to the granularity) on device
    `ordinal`, readable and writable there; its device's context must be current.
    Nothing leaks on failure."""
    prop = _properties(ordinal)
    unit = granularity(ordinal)
    size = -(-max(int(nbytes), 1) // unit) * unit
    handle = check(driver.cuMemCreate(size, prop, 0), "cuMemCreate",
                   f"{size} bytes exportable as POSIX file descriptors on device {ordinal}")
    try:
        base = int(check(driver.cuMemAddressReserve(size, unit, 0, 0), "cuMemAddressReserve",
                         f"{size} bytes"))
        try:
            check(driver.cuMemMap(base, size, 0, handle, 0), "cuMemMap", f"{size} bytes")
            try:
                access = driver.CUmemAccessDesc()
                access.location.type = driver.CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE
                access.location.id = int(ordinal)
                access.flags = driver.CUmemAccess_flags.CU_MEM_ACCESS_FLAGS_PROT_READWRITE
                check(driver.cuMemSetAccess(base, size, [access], 1), "cuMemSetAccess")
            except BaseException:
                quiet(driver.cuMemUnmap(base, size))
                raise
        except BaseException:
            quiet(driver.cuMemAddressFree(base, size))
            raise
    except BaseException:
        quiet(driver.cuMemRelease(handle))
        raise
    return Allocation(handle, base, size, owned=True)


def _requested_types(prop) -> int:
    try:
        return int(prop.requestedHandleTypes)
    except ValueError:   # a combination of types the bindings' enum has no member for
        return ctypes.c_int.from_address(prop.getPtr() + 4).value   # (after `type`)


def locate(ptr: int, nbytes: int) -> Allocation:
    """The exportable allocation holding [ptr, ptr + nbytes), held (released with
    `release`); its device's context must be current. ExternalMemoryError saying why
    where there is none: memory cuMemCreate did not make, made without POSIX
    file-descriptor handles, or a range past its allocation's end."""
    err, handle = driver.cuMemRetainAllocationHandle(int(ptr))
    if err:
        raise ExternalMemoryError(
            f"CUDA memory at 0x{ptr:x} was not made by cuMemCreate (cuMemRetainAllocationHandle: "
            f"{describe(err)}), so it has no handle to export: cudaMalloc memory (PyTorch's and "
            f"CuPy's default allocators) cannot be; allocate it with "
            f"vkdispatch.interop.cupy.exportable_allocator()")
    try:
        prop = check(driver.cuMemGetAllocationPropertiesFromHandle(handle),
                     "cuMemGetAllocationPropertiesFromHandle")
        types = _requested_types(prop)
        if not types & int(POSIX_FD):
            raise ExternalMemoryError(
                f"the cuMemCreate allocation holding CUDA memory at 0x{ptr:x} was made without "
                f"POSIX file-descriptor handles (requestedHandleTypes={types}), so it cannot "
                f"be exported as one; allocate it with "
                f"vkdispatch.interop.cupy.exportable_allocator()")
        base, size = check(driver.cuMemGetAddressRange(int(ptr)), "cuMemGetAddressRange")
        base, size = int(base), int(size)
        if ptr + nbytes > base + size or not _same_allocation(handle, base + size - 1):
            raise ExternalMemoryError(
                f"{nbytes} bytes at 0x{ptr:x} extend past their allocation "
                f"[0x{base:x}, 0x{base + size:x}), or it is mapped in pieces; only memory "
                f"within one allocation can be imported without a copy")
    except BaseException:
        quiet(driver.cuMemRelease(handle))
        raise
    return Allocation(handle, base, size, owned=False)


def _same_allocation(handle, address: int) -> bool:
    """Whether `address` is mapped to the allocation of `handle` (the end of an address
    range is, where the range maps that allocation whole)."""
    err, other = driver.cuMemRetainAllocationHandle(address)
    if err:
        return False
    quiet(driver.cuMemRelease(other))
    return int(other) == int(handle)


def export_fd(allocation: Allocation) -> int:
    """A new POSIX file descriptor of the allocation (the caller owns it)."""
    err, fd = driver.cuMemExportToShareableHandle(allocation.handle, POSIX_FD, 0)
    if err:
        raise ExternalMemoryError(f"cuMemExportToShareableHandle failed with {describe(err)} "
                                  f"(the allocation at 0x{allocation.base:x}, "
                                  f"{allocation.size} bytes)")
    return int(fd)


def release(allocation: Allocation) -> None:
    """Drop the reference; an owned allocation is unmapped and freed once the device's
    work is done (unmapping is not stream-ordered; cuMemFree waits so too). Its device's
    context must be current."""
    if allocation.owned:
        check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
        quiet(driver.cuMemUnmap(allocation.base, allocation.size))
        quiet(driver.cuMemAddressFree(allocation.base, allocation.size))
    check(driver.cuMemRelease(allocation.handle), "cuMemRelease")


__all__ = ["Allocation", "granularity", "create", "locate", "export_fd", "release"]
