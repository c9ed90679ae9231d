"""Vulkan memory seen by CUDA libraries (PyTorch, CuPy) without a copy, and theirs by
Vulkan where it exports.

Where a context's device memory exports (capabilities.device_memory_export: Vulkan
device buffers live in OPAQUE_FD-exportable blocks) and a CUDA device with the same
UUID is reachable, a `CudaPeer` imports each block a shared buffer lies in into CUDA
once (cuImportExternalMemory, cuExternalMemoryGetMappedBuffer over the whole block) and
gives the buffer's CUDA address as the block's plus its offset. The import is released
when the last buffer of the block that was shared is collected (or with the context).

The other way: a CUDA allocation made exportable (cuMemCreate with POSIX file-descriptor
handles, as vkdispatch.interop.cupy.exportable_allocator makes; CUDA's
capabilities.shareable_allocations) is imported into Vulkan once per allocation
(capabilities.foreign_memory_import), each vd.Buffer over it a VkBuffer of its own that
keeps its producer alive; the import is released when the last of them is collected.
Other CUDA memory (cudaMalloc) cannot be exported, so it comes in by a device copy.

Ordering, without blocking the host where both runtimes have exported timeline
semaphores (semaphore_fd_export / semaphore_fd_import): handing memory to a consumer
signals a semaphore after the work submitted so far on vkdispatch's queue 0, and the
consumer's stream waits for it; taking memory back (from_torch / from_cupy, or a
consumer dropping its tensor) signals another semaphore after the consumer stream's
work so far, and queue 0's later work waits for it. Without them the host waits: for
queue 0 on hand-off, for the consumer's stream on return.

Queue 0 only: a context of several queues shares queue 0's copy of a buffer, as the
other exchanges do.
"""
from __future__ import annotations

import os
import threading
import warnings
import weakref

from ..backends import runtime as rt
from ..base.buffer import Buffer, flush_pending, register_before_host_access
from ..base.errors import ExternalMemoryError, VkDispatchError
from ._capsule import READ_ONLY, make_capsule
from .dlpack import _check_device_arg, _check_stream, _versioned, consume

CUDA = rt.DLPACK_CUDA
_peers = weakref.WeakKeyDictionary()   # vd Context -> CudaPeer or the reason it has none
_live = weakref.WeakSet()              # every open CudaPeer (sync points collect theirs)
_lock = threading.RLock()


def cuda_peer(ctx):
    """The CudaPeer of context `ctx`, or None where its memory cannot be shared with
    CUDA (`peer_absence(ctx)` says why). Looked up once per context."""
    with _lock:
        found = _peers.get(ctx)
        if found is None:
            found = _peers[ctx] = _find(ctx)
    return found if isinstance(found, CudaPeer) else None


def peer_absence(ctx) -> str:
    """Why `ctx` has no CudaPeer ("" where it has one)."""
    found = _peers.get(ctx)
    if found is None:
        cuda_peer(ctx)
        found = _peers.get(ctx)
    return "" if isinstance(found, CudaPeer) else str(found)


def _find(ctx):
    rctx = ctx.runtime_context
    if not rctx.capabilities.device_memory_export:
        return (f"the {ctx.backend} runtime's device memory does not export "
                f"(capabilities.device_memory_export)")
    info = rctx.devices[rctx.queue_device[0]]
    if not info.uuid:
        return f"{info.name} reports no device UUID to find it among the CUDA devices"
    try:
        cuda = rt.load_runtime("cuda")
        index = next((d.index for d in cuda.devices() if d.uuid == info.uuid), None)
        if index is None:
            return f"no CUDA device is {info.name} (no CUDA device has its UUID)"
        cu = cuda.create_context([index], [1])
    except VkDispatchError as exc:
        return f"CUDA is unavailable ({type(exc).__name__}: {exc})"
    if not cu.capabilities.memory_fd_import:
        cu.destroy()
        return "the CUDA runtime imports no memory (capabilities.memory_fd_import)"
    try:
        peer = CudaPeer(ctx, cu, index)
    except BaseException:
        cu.destroy()
        raise
    return peer


class _Block:
    """One Vulkan memory block imported into CUDA, and how many shared buffers use it."""
    __slots__ = ("handle", "base", "size", "users")

    def __init__(self, handle, base: int, size: int):
        self.handle, self.base, self.size, self.users = handle, base, size, 0


class _Foreign:
    """One CUDA allocation imported into Vulkan: `memory` (the Vulkan import), `cuda`
    (a CUDA handle holding the allocation, so that no other allocation takes its
    identity while this lives), `base` (its CUDA address), and how many buffers use it."""
    __slots__ = ("memory", "cuda", "base", "users")

    def __init__(self, memory, cuda, base: int):
        self.memory, self.cuda, self.base, self.users = memory, cuda, base, 0


class _Lease:
    """What a consumer's tensor keeps alive (`keep`: the memory's owner). Dropped by
    the consumer, it queues the return ordering: running CUDA or Vulkan calls from a
    finalizer could deadlock on a lock its thread holds, so `CudaPeer.collect` does it,
    keeping the memory alive until then."""
    __slots__ = ("peer", "keep", "stream")

    def __init__(self, peer, keep, stream: int):
        self.peer, self.keep, self.stream = peer, keep, stream

    def __del__(self):
        peer = self.peer
        if peer is not None and not peer.closed:
            peer.returned.append((self.stream, self.keep))   # atomic under the GIL


class CudaPeer:
    """The CUDA device of a Vulkan context's queue 0 (`cuda`: a CUDA RuntimeContext on
    it, whose queue 0 carries the hand-offs; `device_index`: its CUDA ordinal)."""

    def __init__(self, ctx, cuda_rctx, device_index: int):
        self.ctx = ctx
        self.vulkan = ctx.runtime_context
        self.cuda = cuda_rctx
        self.device_index = int(device_index)
        self.closed = False
        self.returned = []          # (stream, keep) of dropped leases, for collect()
        self._blocks = {}           # memory_id -> _Block
        self._holders = weakref.WeakKeyDictionary()   # shared base Buffer -> (memory_id, offset)
        self._foreign = {}          # (CUDA memory_id, base address) -> _Foreign
        self._foreign_users = weakref.WeakKeyDictionary()   # base Buffer over one -> its key
        self._lock = threading.RLock()
        self._semaphores = None     # (Vulkan out, CUDA out, Vulkan in, CUDA in) or None
        self._counts = [0, 0]       # last values signalled out (to CUDA) and in
        self.sync_fallback = ""     # why the host waits instead ("" with semaphores)
        self._open_semaphores()
        ctx.register(self)          # ctx.destroy() releases it
        with _lock:
            _live.add(self)

    # ------------------------------------------------------------------ set-up
    def _open_semaphores(self) -> None:
        vk, cu = self.vulkan, self.cuda
        if not (vk.capabilities.semaphore_fd_export and cu.capabilities.semaphore_fd_import):
            self.sync_fallback = ("timeline semaphores are not shared here (the Vulkan "
                                  "driver lacks VK_KHR_external_semaphore_fd)")
            return
        made = []
        try:
            for _ in range(2):
                sem = vk.semaphore_create_exportable(0)
                made.append((vk, sem))
                fd = vk.export_semaphore_fd(sem)
                try:
                    imported = cu.import_semaphore_fd(fd, 0)
                except BaseException:
                    os.close(fd)
                    raise
                made.append((cu, imported))
        except VkDispatchError as exc:
            for owner, sem in made:
                owner.semaphore_free(sem)
            self.sync_fallback = f"sharing a timeline semaphore failed ({exc})"
            warnings.warn(f"vkdispatch: Vulkan-CUDA exchanges synchronize through the host: "
                          f"{self.sync_fallback}", RuntimeWarning, stacklevel=4)
            return
        self._semaphores = tuple(sem for _, sem in made)

    # ------------------------------------------------------------------ memory
    def cuda_view(self, buf: Buffer) -> tuple:
        """(CUDA buffer handle of the block, offset in it, size) of `buf`'s queue-0
        memory (a view's offset included), importing the block on first use."""
        base = buf._base or buf
        handle = buf.allocation(0)
        info = self.vulkan.memory_export_info(handle)
        with self._lock:
            self._check_open()
            held = base in self._holders
            block = self._blocks.get(info.memory_id)
            if block is None:       # (a collection while importing cannot see it yet)
                block = self._import(handle, info)
                self._blocks[info.memory_id] = block
            if not held:
                # counted before anything allocates: a garbage collection from here on
                # (finalizers of other holders) cannot release the block under us
                block.users += 1
                self._holders[base] = (info.memory_id, info.offset)
                weakref.finalize(base, self._release, info.memory_id).atexit = False
        return block.handle, info.offset + buf.offset, buf.nbytes

    def pointer(self, buf: Buffer) -> int:
        """The CUDA address of `buf`'s queue-0 memory (a view's offset included)."""
        with self._lock:
            entry = self._foreign.get(self._foreign_users.get(buf._base or buf))
            if entry is not None:    # a CUDA allocation's own memory
                return entry.base + buf.offset
        return self.cuda.device_pointer(self.cuda_view(buf))

    def shares(self, buf: Buffer) -> bool:
        """Whether CUDA can address `buf`'s queue-0 memory (exported Vulkan memory, or
        a CUDA allocation imported)."""
        with self._lock:
            if (buf._base or buf) in self._foreign_users:
                return True
        try:
            self.vulkan.memory_export_info(buf.allocation(0))
        except VkDispatchError:      # memory="host"/"shared" buffers do not export
            return False
        return True

    def _import(self, handle, info) -> _Block:
        fd = self.vulkan.export_memory_fd(handle)
        try:
            cblock = self.cuda.import_memory_fd(0, fd, info.allocation_size, info.allocation_size,
                                                info.memory_type_index, 0, info.dedicated)
        except BaseException:
            os.close(fd)      # a refused import leaves the fd with us
            raise
        return _Block(cblock, self.cuda.device_pointer(cblock), info.allocation_size)

    def shared_blocks(self) -> int:
        """How many memory blocks are imported into CUDA now (for leak tests)."""
        with self._lock:
            return len(self._blocks)

    def _release(self, memory_id: int) -> None:
        # a finalizer: only bookkeeping and cuMemFree/cuDestroyExternalMemory, which
        # take no lock of ours that a collecting thread may hold (the RLock is ours)
        with self._lock:
            block = self._blocks.get(memory_id)
            if block is None:
                return
            block.users -= 1
            if block.users > 0:
                return
            del self._blocks[memory_id]
        if not self.closed:
            self.cuda.buffer_free(block.handle)

    def find(self, ptr: int, nbytes: int):
        """(base Buffer, byte offset in it) of shared memory holding [ptr, ptr+nbytes),
        or None."""
        with self._lock:
            hits = [(mid, b) for mid, b in self._blocks.items()
                    if b.base <= ptr and ptr + nbytes <= b.base + b.size]
            if not hits:
                return None
            memory_id, block = hits[0]
            for base, (mid, offset) in list(self._holders.items()):
                start = block.base + offset
                if (mid == memory_id and base._handles and start <= ptr
                        and ptr + nbytes <= start + base.nbytes):
                    return base, ptr - start
        return None

    # ------------------------------------------------------------------ CUDA memory in Vulkan
    def foreign_absence(self) -> str:
        """Why CUDA allocations cannot be imported into this context ("" where they can)."""
        if not self.vulkan.capabilities.foreign_memory_import:
            return ("the Vulkan driver cannot bind buffers in imported OPAQUE_FD memory "
                    "(capabilities.foreign_memory_import)")
        if not self.cuda.capabilities.shareable_allocations:
            return "the CUDA runtime exports no allocations (capabilities.shareable_allocations)"
        return ""

    def import_allocation(self, ptr: int, nbytes: int, shape: tuple, dtype, owner,
                          writable: bool = True) -> Buffer:
        """A vd.Buffer of `shape` and `dtype` over `nbytes` (> 0) of CUDA memory at `ptr`
        itself, its allocation imported into Vulkan on first use; `owner` is kept alive
        while Vulkan may use the memory. ExternalMemoryError saying why where the memory
        does not export. The caller orders queue 0 after the producer's work."""
        reason = self.foreign_absence()
        if reason:
            raise ExternalMemoryError(reason)
        wrapped = self.cuda.wrap_device_pointer(ptr, nbytes, owner=None, queue=0)
        try:
            info = self.cuda.shareable_info(wrapped)
            if info.offset % dtype.itemsize:
                raise ExternalMemoryError(f"CUDA memory at 0x{ptr:x} is not aligned to its "
                                          f"{dtype.itemsize}-byte {dtype.name} elements")
            key = (info.memory_id, ptr - info.offset)
            with self._lock:
                self._check_open()
                entry = self._foreign.get(key)
                if entry is None:
                    entry = self._foreign[key] = self._import_allocation(wrapped, info, key)
                    wrapped = None           # the entry holds the allocation now
                entry.users += 1             # (before anything allocates: see cuda_view)
            try:
                buf = self._foreign_buffer(entry, key, info.offset, nbytes, shape, dtype, owner)
            except BaseException:
                self._release_foreign(key)
                raise
        finally:
            if wrapped is not None:
                self.cuda.buffer_free(wrapped)
        (buf._base or buf).is_writable = buf.is_writable = writable
        return buf

    def _import_allocation(self, wrapped, info, key) -> _Foreign:
        fd = self.cuda.export_shareable_fd(wrapped)
        try:
            memory = self.vulkan.import_foreign_memory_fd(0, fd, info.allocation_size)
        except BaseException:
            os.close(fd)      # a refused import leaves the fd with us
            raise
        return _Foreign(memory, wrapped, key[1])

    def _foreign_buffer(self, entry: _Foreign, key, offset: int, nbytes: int, shape, dtype,
                        owner) -> Buffer:
        # the VkBuffer starts at the allocation's start, where any device can bind one:
        # a base Buffer's memory starts at its handle's, so an offset makes it a view
        end = offset + nbytes
        handle = self.vulkan.buffer_in_foreign_memory(entry.memory, 0, end, owner)
        try:
            base = Buffer._wrap(self.ctx, shape if not offset else (end // dtype.itemsize,),
                                dtype, [handle])
        except BaseException:
            self.vulkan.buffer_free(handle)
            raise
        with self._lock:
            self._foreign_users[base] = key
        weakref.finalize(base, self._release_foreign, key).atexit = False
        return base.view(offset // dtype.itemsize, shape) if offset else base

    def _release_foreign(self, key) -> None:
        # a finalizer, like _release
        with self._lock:
            entry = self._foreign.get(key)
            if entry is None:
                return
            entry.users -= 1
            if entry.users > 0:
                return
            del self._foreign[key]
        if not self.closed:
            self.vulkan.foreign_memory_free(entry.memory)
            self.cuda.buffer_free(entry.cuda)

    def foreign_allocations(self) -> int:
        """How many CUDA allocations are imported into Vulkan now (for leak tests)."""
        with self._lock:
            return len(self._foreign)

    # ------------------------------------------------------------------ ordering
    def hand_to(self, stream: int) -> None:
        """Make CUstream `stream` (DLPack's ints: 1 legacy default, 2 per-thread) wait
        for the work submitted so far on queue 0 (recorded work is submitted first)."""
        flush_pending()
        self.collect()
        with self._lock:
            self._check_open()
            if self._semaphores is None:
                self.vulkan.queue_wait_idle(0)
                return
            vk_out, cu_out, _, _ = self._semaphores
            self._counts[0] += 1
            value = self._counts[0]
            self.vulkan.queue_signal_semaphore(0, vk_out, value)
            self.cuda.queue_wait_semaphore(0, cu_out, value)
            self.cuda.order_stream_after(stream, 0)

    def take_back(self, stream, flush: bool = True) -> None:
        """Make queue 0's later work wait for what is on CUstream `stream` now (None:
        for what is on the peer's own CUDA queue); `flush`: submit recorded work
        first, so that only work recorded later waits."""
        if flush:
            flush_pending()
        with self._lock:
            self._check_open()
            if stream is not None:
                self.cuda.wait_for_stream(stream, 0)
            if self._semaphores is None:
                self.cuda.queue_wait_idle(0)
                return
            _, _, vk_in, cu_in = self._semaphores
            self._counts[1] += 1
            value = self._counts[1]
            self.cuda.queue_signal_semaphore(0, cu_in, value)
            self.vulkan.queue_wait_semaphore(0, vk_in, value)

    def collect(self) -> None:
        """Order queue 0 after the streams of tensors consumers dropped, then let their
        memory go."""
        while self.returned and not self.closed:
            stream, keep = self.returned.pop()
            try:
                self.take_back(stream, flush=False)
            except VkDispatchError as exc:   # e.g. a CuPy stream destroyed since
                warnings.warn(f"vkdispatch: ordering vkdispatch after a dropped tensor's "
                              f"stream failed ({exc}); its memory is reused once vkdispatch's "
                              f"own queue is idle", RuntimeWarning, stacklevel=2)
                self.vulkan.queue_wait_idle(0)
            del keep

    @property
    def stream(self) -> int:
        """The CUstream of the peer's own CUDA queue (as an int)."""
        return self.cuda.stream_handle(0)

    def lease(self, keep, stream: int) -> _Lease:
        return _Lease(self, keep, stream)

    # ------------------------------------------------------------------ teardown
    def _check_open(self) -> None:
        if self.closed:
            raise VkDispatchError("the context this CUDA view belongs to was destroyed")

    def destroy(self) -> None:
        """Release every import and semaphore and the CUDA context (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            returned, self.returned = self.returned, []
            blocks, self._blocks = list(self._blocks.values()), {}
            foreign, self._foreign = list(self._foreign.values()), {}
        del returned       # the CUDA context's destroy below waits for its queue
        cu = self.cuda
        for block in blocks:
            cu.buffer_free(block.handle)
        for entry in foreign:
            self.vulkan.foreign_memory_free(entry.memory)
            cu.buffer_free(entry.cuda)
        if self._semaphores is not None:
            vk_out, cu_out, vk_in, cu_in = self._semaphores
            cu.semaphore_free(cu_out)
            cu.semaphore_free(cu_in)
            self.vulkan.semaphore_free(vk_out)
            self.vulkan.semaphore_free(vk_in)
        cu.destroy()


def _collect_all() -> None:
    with _lock:
        peers = list(_live)
    for peer in peers:
        if peer.returned:
            peer.collect()


register_before_host_access(_collect_all, "submit")


# ----------------------------------------------------------------------------- DLPack

class CudaExport:
    """A DLPack producer (`__dlpack__`, `__dlpack_device__`) of a dlpack.Tensor's memory
    as CUDA memory of `peer`'s device: what torch.from_dlpack / cupy.from_dlpack take."""

    def __init__(self, peer: CudaPeer, tensor):
        self.peer, self.tensor = peer, tensor

    def __dlpack_device__(self) -> tuple:
        return (CUDA, self.peer.device_index)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if copy:
            raise BufferError("this export shares memory; copy=True is not served here "
                              "(export with the buffer's own __dlpack__ for a copy)")
        _check_stream(stream)
        if dl_device is not None and _check_device_arg(dl_device) != self.__dlpack_device__():
            raise BufferError(f"dl_device={dl_device} cannot be served; this export is "
                              f"CUDA device {self.peer.device_index}")
        return export(self.peer, self.tensor, stream, _versioned(max_version))


def export(peer: CudaPeer, t, stream, versioned: bool):
    """The DLPack capsule of dlpack.Tensor `t` as CUDA memory, after the hand-off to
    `stream` (None: the legacy default stream; -1: none)."""
    if t.dtype.base.name == "bool":
        raise BufferError("bool data is stored as 4-byte values, which DLPack cannot "
                          "describe; use uint32")
    data = peer.pointer(t.buffer) + t.byte_offset
    consumer = 1 if stream is None else stream
    if consumer != -1:
        peer.hand_to(consumer)
    else:
        flush_pending()
    lease = peer.lease(t.keep, peer.stream if consumer == -1 else consumer)
    flags = 0 if t.writable else READ_ONLY
    return make_capsule(lease, data, (CUDA, peer.device_index), t.shape, t.strides,
                        t.dtype.dlpack, flags, versioned)


def import_cuda(peer: CudaPeer, obj, copy) -> Buffer:
    """A vd.Buffer of a CUDA DLPack producer on the peer's device, queue 0's later work
    ordered after the producer's. Without a copy where the memory allows: a shared
    Vulkan buffer's (a tensor as_torch gave), or an allocation made exportable
    (cuMemCreate with POSIX file-descriptor handles: vkdispatch.interop.cupy's
    exportable_allocator) imported into Vulkan, the producer kept alive. Other memory
    (cudaMalloc: PyTorch's and CuPy's default allocators) is copied on the device (not
    through the host) into a new buffer; copy=False raises BufferError saying why."""
    consumed, shape, dtype, nbytes = consume(obj, peer.stream)
    t = consumed.tensor
    ptr = (t.data or 0) + t.byte_offset
    writable = not consumed.flags & READ_ONLY
    if not copy:
        found = peer.find(ptr, nbytes)
        if found is not None and found[0].dtype is dtype and found[1] % dtype.itemsize == 0:
            base, offset = found
            peer.take_back(None)      # the producer ordered the peer's queue after its work
            view = base.view(offset // dtype.itemsize, shape)
            view.is_writable = writable
            return view
        if not nbytes:                # nothing to share
            return Buffer(shape, dtype, context=peer.ctx)
        try:
            buf = peer.import_allocation(ptr, nbytes, shape, dtype, (consumed, obj), writable)
        except ExternalMemoryError as exc:
            if copy is False:
                raise BufferError(f"{type(obj).__name__}'s CUDA memory cannot be imported "
                                  f"into Vulkan without a copy (copy=False given): {exc}") from exc
        else:
            peer.take_back(None)      # the producer ordered the peer's queue after its work
            return buf
    return _device_copy(peer, consumed, ptr, shape, dtype, nbytes)


def _device_copy(peer: CudaPeer, consumed, ptr: int, shape, dtype, nbytes: int) -> Buffer:
    out = Buffer(shape, dtype, context=peer.ctx)
    if not nbytes:
        return out
    cu = peer.cuda
    dst = peer.cuda_view(out)
    src = cu.wrap_device_pointer(ptr, nbytes, owner=consumed, queue=0)
    cl = cu.command_list(0)
    try:
        cl.copy(src, dst, nbytes)
        cl.submit()             # on the peer's queue, which the producer ordered
        peer.take_back(None)    # queue 0 waits for the copy
        # the producer may reuse its memory once it gets `consumed` back: after the copy
        cu.queue_wait_idle(0)
    finally:
        cl.destroy()
        cu.buffer_free(src)
    return out
