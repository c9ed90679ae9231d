"""Device memory: a sub-allocator over large VkDeviceMemory blocks, and buffer handles.

Small buffers share 64 MiB blocks (first fit with coalescing free ranges), so thousands
of buffers cost a handful of vkAllocateMemory calls and never approach
maxMemoryAllocationCount; buffers of 16 MiB or more get a dedicated allocation.
Host-visible blocks are mapped once, for their whole life. Where the device exports
memory (OPAQUE_FD), device buffers come from blocks another API can import (CUDA maps
them: interop's zero-copy exchange), kept apart from the blocks images use. Memory
another API made (a CUDA allocation) is imported whole into a block of its own that
the buffers bound in it share.
"""
from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import threading

from ...base.errors import DeviceError, ExternalMemoryError, InvalidArgumentError, OutOfMemoryError
from ..common import MEMORY_KINDS
from ._vk import WHOLE_SIZE, chain, check, device_function, ffi, lib, new, out, vk

BLOCK_SIZE = 64 << 20
DEDICATED_MIN = 16 << 20
GRANULE = 256          # sub-allocations are rounded to this, which also keeps them aligned

DL = vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
HV = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
HC = vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
CACHED = vk.VK_MEMORY_PROPERTY_HOST_CACHED_BIT

BUFFER_USAGE = (vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | vk.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT
                | vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT)

# (the vulkan package's module lacks these two enum values; the cdef has them)
USAGE_DEVICE_ADDRESS = 0x20000      # VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT
ALLOCATE_DEVICE_ADDRESS = 0x2       # VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT

_serials = itertools.count(1)


def next_serial() -> int:
    """A process-unique id for a resource (descriptor-set caches key on it, never on a
    Vulkan handle value, which the driver may reuse after a free)."""
    return next(_serials)


def memory_type_order(phys, kind: str) -> list:
    """Memory type indices for `kind`, best first. "device" takes host-visible
    device-local memory only where no plain device-local type exists and it spans the
    device (UMA, CPU drivers), so a 256 MiB BAR window is never exhausted."""
    types, heaps = phys.memory_types, phys.memory_heaps

    def having(required, avoid=0, prefer=0):
        found = [i for i, (flags, _) in enumerate(types)
                 if flags & required == required and not flags & avoid]
        return sorted(found, key=lambda i: (not types[i][0] & prefer, i)) if prefer else found

    dl_heap = max((heaps[h][0] for f, h in types if f & DL), default=0)
    mappable_dl = [i for i in having(DL | HV | HC) if heaps[types[i][1]][0] >= 0.9 * dl_heap]
    host = having(HV | HC, avoid=DL, prefer=CACHED) + having(HV | HC, prefer=CACHED)
    if kind == "device":
        # plain device-local first: NVIDIA serves host-mappable VRAM (ReBAR) with slower
        # GPU access (a*b+c at 1.1 TB/s instead of 3 TB/s on an H100); UMA and CPU
        # drivers have no such type, so they still get mappable memory and no staging
        order = having(DL, avoid=HV) + mappable_dl + having(DL) + host
    elif kind == "host":
        order = host
    elif kind == "shared":
        order = having(DL | HV | HC) + host
    else:
        raise InvalidArgumentError(f"memory must be one of {MEMORY_KINDS}, got {kind!r}")
    seen = set()
    return [i for i in order if not (i in seen or seen.add(i))]


def _close_if_left(given: int, fd: int) -> None:
    """Close `given`, a duplicate of `fd` a driver refused, unless the driver closed it
    (then its number may name another file by now)."""
    try:
        mine, left = os.fstat(fd), os.fstat(given)
    except OSError:
        return
    if (mine.st_dev, mine.st_ino) == (left.st_dev, left.st_ino):
        os.close(given)


class MemoryBlock:
    """One VkDeviceMemory, whole (dedicated) or carved into sub-allocations."""

    __slots__ = ("memory", "size", "type_index", "ptr", "cached", "free", "live", "dedicated",
                 "exportable", "dedicated_allocation", "imported", "serial")

    def __init__(self, memory, size, type_index, ptr, cached, dedicated, exportable=False,
                 dedicated_allocation=False):
        self.memory, self.size, self.type_index, self.ptr = memory, size, type_index, ptr
        self.cached = cached        # host reads of uncached (write-combined) memory crawl
        self.dedicated = dedicated  # one resource's own block (not carved)
        self.exportable = exportable                      # allocated for OPAQUE_FD export
        self.dedicated_allocation = dedicated_allocation  # VkMemoryDedicatedAllocateInfo chained
        self.imported = False       # another API's memory, whole: `live` counts its holders
        self.serial = next_serial()   # names the block to importers (handles get reused)
        self.free = [] if dedicated else [(0, size)]   # sorted (offset, length)
        self.live = 1 if dedicated else 0

    def take(self, size: int, alignment: int):
        for i, (off, length) in enumerate(self.free):
            start = -(-off // alignment) * alignment
            end = start + size
            if end <= off + length:
                rest = []
                if start > off:
                    rest.append((off, start - off))
                if off + length > end:
                    rest.append((end, off + length - end))
                self.free[i:i + 1] = rest
                self.live += 1
                return start
        return None

    def give(self, offset: int, size: int) -> None:
        free = self.free
        i = bisect.bisect_left(free, (offset,))
        if i > 0 and free[i - 1][0] + free[i - 1][1] == offset:   # merge with the range before
            i -= 1
            offset, size = free[i][0], free[i][1] + size
            del free[i]
        if i < len(free) and offset + size == free[i][0]:          # and the one after
            size += free[i][1]
            del free[i]
        free.insert(i, (offset, size))
        self.live -= 1


class Allocator:
    """Per-device sub-allocator; thread-safe. `stats()` shows its counters."""

    def __init__(self, device):
        self._device = device.handle
        self._phys = device.phys
        self._bda = device.buffer_device_address
        self._lock = threading.Lock()
        self._holder = None         # the thread holding the lock
        self._late = []             # releases it asked for meanwhile (see `release`)
        self._blocks = {}           # (memory type index, exportable) -> [MemoryBlock] (shared)
        self._dedicated = set()
        self._orders = {k: memory_type_order(device.phys, k) for k in MEMORY_KINDS}
        self.live_allocations = 0
        self.bytes_in_use = 0

    def host_visible(self, type_index: int) -> bool:
        return bool(self._phys.memory_types[type_index][0] & HV)

    def kind_is_mappable(self, kind: str) -> bool:
        order = self._orders[kind]
        return bool(order) and self.host_visible(order[0])

    def allocate(self, size: int, alignment: int, type_bits: int, kind: str,
                 dedicated: bool = False, exportable: bool = False):
        """(MemoryBlock, offset) for `size` bytes, from exportable blocks when
        `exportable` (for buffers made with VkExternalMemoryBufferCreateInfo). Raises
        OutOfMemoryError naming the request when every suitable memory type is
        exhausted."""
        candidates = [i for i in self._orders[kind] if type_bits >> i & 1]
        if not candidates:
            raise OutOfMemoryError(f"no {kind!r} memory type can hold this resource")
        heaps = self._phys.memory_heaps
        limit = self._phys.limits.maxMemoryAllocationSize
        if size > limit:
            raise OutOfMemoryError(f"{size} bytes exceed maxMemoryAllocationSize ({limit} bytes) "
                                   f"of {self._phys.name}")
        biggest = max(heaps[self._phys.memory_types[i][1]][0] for i in candidates)
        if size > biggest:
            raise OutOfMemoryError(f"{size} bytes exceed the largest {kind!r} memory heap "
                                   f"({biggest} bytes) of {self._phys.name}")
        dedicated = dedicated or size >= DEDICATED_MIN
        rounded = -(-max(size, 1) // GRANULE) * GRANULE
        last = None
        me = threading.get_ident()   # before taking the lock: nothing allocates in between
        with self._lock:
            self._holder = me
            try:
                for type_index in candidates:
                    try:
                        block, offset = (
                            self._dedicated_block(type_index, size, exportable) if dedicated
                            else self._sub_allocate(type_index, size, rounded, alignment,
                                                    exportable))
                    except OutOfMemoryError as exc:
                        last = exc
                        continue
                    self.live_allocations += 1
                    self.bytes_in_use += rounded
                    return block, offset
            finally:
                self._release_late()
                self._holder = None
        raise OutOfMemoryError(f"allocating {size} bytes of {kind!r} memory failed: {last}")

    def allocate_external(self, size: int, type_bits: int, kind: str, extra: list,
                          type_index=None, exportable: bool = False,
                          dedicated_allocation: bool = False) -> MemoryBlock:
        """A block of its own whose VkMemoryAllocateInfo chains `extra` (export or
        import structs); `type_index` forces the memory type (an opaque fd import must
        use the exporter's)."""
        candidates = ([type_index] if type_index is not None
                      else [i for i in self._orders[kind] if type_bits >> i & 1])
        if not candidates or not type_bits >> candidates[0] & 1:
            raise OutOfMemoryError(f"no {kind!r} memory type can hold this external buffer")
        with self._lock:
            block = self._new_block(candidates[0], size, True, extra)
            block.exportable, block.dedicated_allocation = exportable, dedicated_allocation
            self._dedicated.add(block)
            self.live_allocations += 1
            self.bytes_in_use += -(-max(size, 1) // GRANULE) * GRANULE
        return block

    @contextlib.contextmanager
    def _held(self):
        """The lock, marked as this thread's (see `release`)."""
        me = threading.get_ident()   # before taking the lock: nothing allocates in between
        with self._lock:
            self._holder = me
            try:
                yield
            finally:
                self._release_late()
                self._holder = None

    def import_block(self, size: int, type_bits: int, fd: int) -> MemoryBlock:
        """A block of another API's memory, imported whole from OPAQUE_FD `fd`, in the
        first "device" memory type of `type_bits` the driver accepts it in. Its one
        holder is the import; `retain` adds one per buffer bound in it, and it is freed
        when `release` has dropped them all. `fd` is closed when this returns and stays
        the caller's when it raises (ExternalMemoryError naming the types tried where
        the driver refuses it): each attempt gives the driver a duplicate, since some
        (lavapipe) close the fd they are given even when they refuse it."""
        candidates = [i for i in self._orders["device"] if type_bits >> i & 1]
        if not candidates:
            raise ExternalMemoryError(f"no device memory type of {self._phys.name} can hold "
                                      f"buffers of imported memory (memoryTypeBits "
                                      f"0x{type_bits:x})")
        refused = []
        with self._held():
            for type_index in candidates:
                given = os.dup(fd)
                share = new("VkImportMemoryFdInfoKHR",
                            sType=vk.VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                            handleType=OPAQUE_FD, fd=given)
                try:   # unmapped: vkAllocateMemory is then the only call that can fail
                    block = self._new_block(type_index, size, True, [share], mapped=False)
                except DeviceError as exc:
                    _close_if_left(given, fd)
                    refused.append(f"memory type {type_index}: {exc}")
                    if isinstance(exc, OutOfMemoryError):
                        # an import allocates nothing: this is NVIDIA refusing the fd,
                        # and offering it as another type has been seen to "succeed"
                        # with memory that crashes the driver when freed
                        break
                    continue
                os.close(fd)      # the driver holds `given`
                block.imported = True
                self._dedicated.add(block)
                self.live_allocations += 1
                self.bytes_in_use += size
                return block
        raise ExternalMemoryError(f"{self._phys.name} refused to import {size} bytes of "
                                  f"OPAQUE_FD memory ({'; '.join(refused)})")

    def retain(self, block: MemoryBlock) -> None:
        """One holder more of an imported block (a buffer bound in it)."""
        with self._held():
            block.live += 1

    def _dedicated_block(self, type_index: int, size: int, exportable: bool = False):
        block = self._new_block(type_index, size, True, exportable=exportable)
        self._dedicated.add(block)
        return block, 0

    def _sub_allocate(self, type_index: int, size: int, rounded: int, alignment: int,
                      exportable: bool = False):
        blocks = self._blocks.setdefault((type_index, exportable), [])
        for block in blocks:
            offset = block.take(rounded, alignment)
            if offset is not None:
                return block, offset
        try:
            block = self._new_block(type_index, BLOCK_SIZE, False, exportable=exportable)
        except OutOfMemoryError:     # no room for a whole block: this request alone may fit
            return self._dedicated_block(type_index, size, exportable)
        blocks.append(block)
        return block, block.take(rounded, alignment)

    def release(self, block: MemoryBlock, offset: int, size: int) -> None:
        me = threading.get_ident()
        if self._holder == me:
            # a finalizer the garbage collector ran while this thread holds the lock (a
            # freed Buffer in a reference cycle): free once the lock is let go
            self._late.append((block, offset, size))
            return
        with self._lock:
            self._holder = me
            try:
                self._release(block, offset, size)
            finally:
                self._release_late()
                self._holder = None

    def _release_late(self) -> None:
        """Run the releases a finalizer asked for while this thread held the lock."""
        while self._late:
            self._release(*self._late.pop())

    def _release(self, block: MemoryBlock, offset: int, size: int) -> None:
        if block.imported:
            block.live -= 1
            if block.live == 0:
                self.live_allocations -= 1
                self.bytes_in_use -= block.size
                self._dedicated.discard(block)
                self._free_block(block)
            return
        rounded = -(-max(size, 1) // GRANULE) * GRANULE
        self.live_allocations -= 1
        self.bytes_in_use -= rounded
        if block.dedicated:
            self._dedicated.discard(block)
            self._free_block(block)
            return
        block.give(offset, rounded)
        blocks = self._blocks[(block.type_index, block.exportable)]
        # give an empty block back to the driver, but keep one to avoid churn
        if block.live == 0 and sum(1 for b in blocks if b.live == 0) > 1:
            blocks.remove(block)
            self._free_block(block)

    def _new_block(self, type_index: int, size: int, dedicated: bool,
                   extra: tuple = (), exportable: bool = False,
                   mapped: bool = True) -> MemoryBlock:
        info = new("VkMemoryAllocateInfo", sType=vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                   allocationSize=size, memoryTypeIndex=type_index)
        structs = [info]
        if exportable:
            structs.append(_export_info())
        if self._bda:
            structs.append(new("VkMemoryAllocateFlagsInfo",
                               sType=vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                               flags=ALLOCATE_DEVICE_ADDRESS))
        chain(structs + list(extra))
        memory = out("VkDeviceMemory")
        check(lib.vkAllocateMemory(self._device, info, ffi.NULL, memory), "vkAllocateMemory",
              f"{size} bytes, memory type {type_index}")
        ptr = None
        if mapped and self.host_visible(type_index):
            pp = out("void *")
            r = lib.vkMapMemory(self._device, memory[0], 0, WHOLE_SIZE, 0, pp)
            if r < 0:
                lib.vkFreeMemory(self._device, memory[0], ffi.NULL)
                check(r, "vkMapMemory", f"{size} bytes")
            ptr = ffi.cast("char *", pp[0])
        cached = bool(self._phys.memory_types[type_index][0] & CACHED)
        return MemoryBlock(memory[0], size, type_index, ptr, cached, dedicated, exportable)

    def _free_block(self, block: MemoryBlock) -> None:
        if block.memory is not None:
            lib.vkFreeMemory(self._device, block.memory, ffi.NULL)   # unmaps implicitly
            block.memory = None
            block.ptr = None

    def stats(self) -> dict:
        with self._lock:
            shared = [b for bs in self._blocks.values() for b in bs]
            return {"live_allocations": self.live_allocations,
                    "bytes_in_use": self.bytes_in_use,
                    "blocks": len(shared),
                    "dedicated": len(self._dedicated),
                    "device_memory_objects": len(shared) + len(self._dedicated),
                    "bytes_reserved": sum(b.size for b in shared)
                    + sum(b.size for b in self._dedicated)}

    def destroy(self) -> None:
        with self._lock:
            for blocks in self._blocks.values():
                for b in blocks:
                    self._free_block(b)
            for b in self._dedicated:
                self._free_block(b)
            self._blocks.clear()
            self._dedicated.clear()
            self.live_allocations = 0
            self.bytes_in_use = 0


class BufferHandle:
    """A buffer on one queue's device: its own VkBuffer bound at `offset` of `memory`."""

    __slots__ = ("buffer", "memory", "offset", "size", "queue", "device", "block", "ptr",
                 "serial", "kind", "alive", "used", "alloc_size", "owner", "__weakref__")

    def __repr__(self):
        state = "" if self.alive else ", freed"
        return f"<vulkan buffer #{self.serial}: {self.size} bytes, {self.kind}, queue {self.queue}{state}>"


OPAQUE_FD = vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT


def _export_info():
    return new("VkExportMemoryAllocateInfo", sType=vk.VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
               handleTypes=OPAQUE_FD)


def _external_structs(buffer, external) -> list:
    """The VkMemoryAllocateInfo chain of an exported dedicated allocation
    (external=("export",)) or of an import (external=("import", fd, size, type index,
    offset, dedicated)), dedicated where the exporter's was."""
    dedicated = new("VkMemoryDedicatedAllocateInfo",
                    sType=vk.VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, buffer=buffer)
    if external[0] == "export":
        return [dedicated, _export_info()]
    share = new("VkImportMemoryFdInfoKHR", sType=vk.VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                handleType=OPAQUE_FD, fd=int(external[1]))
    return [dedicated, share] if external[5] else [share]


def buffer_usage(device) -> int:
    """The usage flags of every buffer vkdispatch makes on `device`."""
    usage = BUFFER_USAGE
    if device.buffer_device_address:
        usage |= USAGE_DEVICE_ADDRESS
    return usage


def _vk_buffer(device, nbytes: int, external: bool) -> tuple:
    """(VkBuffer[1], VkMemoryRequirements) of a new buffer of `nbytes` (at least 16), one
    that external (OPAQUE_FD) memory may back when `external`."""
    info = new("VkBufferCreateInfo", sType=vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
               size=max(nbytes, 16), usage=buffer_usage(device),
               sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)
    if external:
        ext_info = new("VkExternalMemoryBufferCreateInfo",
                       sType=vk.VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                       handleTypes=OPAQUE_FD)
        info.pNext = ext_info
    buf = out("VkBuffer")
    check(lib.vkCreateBuffer(device.handle, info, ffi.NULL, buf), "vkCreateBuffer",
          f"{nbytes} bytes")
    reqs = new("VkMemoryRequirements")
    lib.vkGetBufferMemoryRequirements(device.handle, buf[0], reqs)
    return buf, reqs


def _handle(device, queue: int, buf, block: MemoryBlock, offset: int, nbytes: int, kind: str,
            alloc_size: int, owner=None) -> BufferHandle:
    h = BufferHandle()
    h.buffer, h.memory, h.offset, h.size = buf, block.memory, offset, nbytes
    h.queue, h.device, h.block, h.kind, h.alloc_size = queue, device, block, kind, alloc_size
    h.ptr = block.ptr + offset if block.ptr is not None else None
    h.serial, h.alive, h.used, h.owner = next_serial(), True, False, owner
    return h


def create_buffer(device, queue: int, nbytes: int, kind: str, external=None,
                  exportable: bool = False) -> BufferHandle:
    """A buffer of `nbytes` (0 allowed; checked by common.check_alloc) in `kind` memory,
    from exportable blocks when `exportable`. `external`: ("export",) for a dedicated
    allocation other APIs can import (memory_fd), or ("import", fd, allocation size,
    memory type index, offset, dedicated) for a buffer at `offset` of memory another
    device object exported; the fd is the driver's once this returns, the caller's if
    it raises. Nothing leaks on failure."""
    buf, reqs = _vk_buffer(device, nbytes, external is not None or exportable)
    try:
        if external is None:
            block, offset = device.allocator.allocate(reqs.size, reqs.alignment,
                                                      reqs.memoryTypeBits, kind,
                                                      exportable=exportable)
        elif external[0] == "export":
            block = device.allocator.allocate_external(
                reqs.size, reqs.memoryTypeBits, kind, _external_structs(buf[0], external),
                exportable=True, dedicated_allocation=True)
            offset = 0
        else:
            size, offset = int(external[2]), int(external[4])
            _check_import_range(offset, reqs, size, bool(external[5]))
            block = device.allocator.allocate_external(
                size, reqs.memoryTypeBits, kind, _external_structs(buf[0], external),
                int(external[3]), dedicated_allocation=bool(external[5]))
            reqs.size = size
        r = lib.vkBindBufferMemory(device.handle, buf[0], block.memory, offset)
        if r < 0:
            device.allocator.release(block, offset, reqs.size)
            check(r, "vkBindBufferMemory")
    except BaseException:
        lib.vkDestroyBuffer(device.handle, buf[0], ffi.NULL)
        raise
    return _handle(device, queue, buf[0], block, offset, nbytes, kind, reqs.size)


class ForeignMemory:
    """Another API's memory imported whole on one queue's device (`block`, whose
    holders are this import and the buffers bound in it)."""

    __slots__ = ("block", "device", "queue", "size", "serial", "alive", "__weakref__")

    def __repr__(self):
        state = "" if self.alive else ", freed"
        return f"<vulkan imported memory #{self.serial}: {self.size} bytes{state}>"


def import_foreign(device, queue: int, fd: int, size: int) -> ForeignMemory:
    """`size` bytes of memory another API exported as an OPAQUE_FD. Its memory type is
    one a buffer over it may use (vkGetMemoryFdPropertiesKHR does not answer for opaque
    fds), device-local first; never a dedicated allocation, since buffers share it
    (where the driver requires one, capabilities.foreign_memory_import is False). The
    fd is closed once this returns (the driver holds a duplicate), the caller's if it
    raises."""
    probe, reqs = _vk_buffer(device, size, True)
    lib.vkDestroyBuffer(device.handle, probe[0], ffi.NULL)
    m = ForeignMemory()
    m.block = device.allocator.import_block(size, reqs.memoryTypeBits, fd)
    m.device, m.queue, m.size = device, queue, size
    m.serial, m.alive = next_serial(), True
    return m


def buffer_in(memory: ForeignMemory, offset: int, nbytes: int, owner=None) -> BufferHandle:
    """A buffer of `nbytes` bound at `offset` of imported `memory`, holding it and
    `owner` until destroy_buffer. InvalidArgumentError for an offset the device cannot
    bind at or a range past the memory's end; nothing leaks on failure."""
    device, block = memory.device, memory.block
    buf, reqs = _vk_buffer(device, nbytes, True)
    try:
        if not reqs.memoryTypeBits >> block.type_index & 1:
            raise ExternalMemoryError(f"buffers of {device.phys.name} cannot use memory type "
                                      f"{block.type_index}, which {memory!r} was imported in")
        _check_import_range(offset, reqs, block.size, False)
        check(lib.vkBindBufferMemory(device.handle, buf[0], block.memory, offset),
              "vkBindBufferMemory", f"{nbytes} bytes at offset {offset} of {memory!r}")
    except BaseException:
        lib.vkDestroyBuffer(device.handle, buf[0], ffi.NULL)
        raise
    device.allocator.retain(block)
    h = _handle(device, memory.queue, buf[0], block, offset, nbytes, "device", reqs.size, owner)
    h.used = True    # the other API may write it: host access waits for the queues
    return h


def release_foreign(memory: ForeignMemory) -> None:
    """Drop the import's own hold of its block (the caller knows the GPU is done)."""
    if memory.block is not None:
        memory.device.allocator.release(memory.block, 0, 0)
        memory.block = None
        memory.alive = False


def _check_import_range(offset: int, reqs, allocation_size: int, dedicated: bool) -> None:
    if dedicated and offset:
        raise InvalidArgumentError(f"a dedicated allocation holds one buffer at offset 0; "
                                   f"got offset {offset}")
    if offset < 0 or offset % reqs.alignment or offset + reqs.size > allocation_size:
        raise InvalidArgumentError(
            f"offset must be a multiple of {reqs.alignment} with offset + {reqs.size} bytes "
            f"inside the allocation of {allocation_size} bytes; got offset {offset}")


def destroy_buffer(h: BufferHandle) -> None:
    """Free the VkBuffer and its memory range (the caller knows the GPU is done)."""
    if h.buffer is None:
        return
    device = h.device
    lib.vkDestroyBuffer(device.handle, h.buffer, ffi.NULL)
    device.allocator.release(h.block, h.offset, h.alloc_size)
    h.buffer = h.block = h.ptr = h.owner = None
    h.alive = False


def memory_fd(h: BufferHandle) -> int:
    """A new file descriptor (OPAQUE_FD) of an exported buffer's whole allocation; the
    caller owns it (an importer takes it over)."""
    device = h.device
    fn = device_function(device, "vkGetMemoryFdKHR")
    info = new("VkMemoryGetFdInfoKHR", sType=vk.VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
               memory=h.memory, handleType=OPAQUE_FD)
    fd = out("int")
    check(fn(device.handle, info, fd), "vkGetMemoryFdKHR")
    return int(fd[0])


def buffer_address(h: BufferHandle) -> int:
    """The buffer's device address (buffer device address feature)."""
    info = new("VkBufferDeviceAddressInfo", sType=vk.VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
               buffer=h.buffer)
    return int(lib.vkGetBufferDeviceAddress(h.device.handle, info))
