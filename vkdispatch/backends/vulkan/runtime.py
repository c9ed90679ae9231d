"""The Vulkan Runtime and RuntimeContext (the interface in backends/runtime.py)."""
from __future__ import annotations

import atexit
import dataclasses
import threading
import weakref
from typing import Optional, Sequence

from ...base import process
from ...base.errors import (BackendUnavailableError, InvalidArgumentError,
                            UnsupportedFeatureError, UseAfterFreeError,
                            VkDispatchError)
from ...base.log import log_error
from ..common import (check_alloc, check_layer, check_level, check_range, host_bytes,
                      layer_view, out_bytes, sampler_desc)
from ..runtime import DLPACK_VULKAN, Capabilities, MemoryExport, Runtime, RuntimeContext
from ...base.abi import ProgramInfo, ProgramOptions
from ._vk import ffi, memmove, vk
from .commands import VulkanCommandList
from .device import Device
from .images import ImageHandle, SamplerHandle, create_image, create_sampler, destroy_image, destroy_sampler
from .instance import Instance
from . import semaphores
from .memory import (OPAQUE_FD, BufferHandle, ForeignMemory, buffer_address, buffer_in,
                     buffer_usage, create_buffer, destroy_buffer, import_foreign, memory_fd,
                     release_foreign)
from .program import VulkanProgram

_live_contexts = weakref.WeakSet()
_runtime_lock = threading.Lock()
_runtime: Optional["VulkanRuntime"] = None


class VulkanRuntime(Runtime):
    name = "vulkan"
    codegen_target = "glsl"

    def __init__(self):
        self.instance = Instance(debug=False)
        if not self.instance.physical_devices:
            self.instance.destroy()
            raise BackendUnavailableError("the Vulkan loader found no device (is a Vulkan "
                                          "driver, e.g. Mesa's lavapipe, installed?)")

    def devices(self) -> list:
        """Every physical device (CPU drivers too), in the loader's order."""
        return [p.info() for p in self.instance.physical_devices]

    def create_context(self, device_indices: Sequence[int], queue_counts: Sequence[int],
                       debug: bool = False) -> "VulkanContext":
        if self.instance.handle is None:
            raise VkDispatchError("the Vulkan runtime was shut down")
        return VulkanContext(self, device_indices, queue_counts, debug)

    def destroy(self) -> None:
        for ctx in list(_live_contexts):
            if ctx.runtime is self:
                ctx.destroy()
        self.instance.destroy()


class VulkanContext(RuntimeContext):
    """Devices, queues and everything allocated on them. `destroy()` frees it all."""

    capabilities = Capabilities(dlpack_device_type=DLPACK_VULKAN, mipmapped_images=True)
    honoured_options = ("specialization",)   # specialization constants

    def __init__(self, runtime: VulkanRuntime, device_indices, queue_counts, debug: bool):
        self.runtime = runtime
        self.destroyed = True             # until fully built: destroy() is then a no-op
        physical = runtime.instance.physical_devices
        device_indices = [int(i) for i in device_indices]
        queue_counts = [int(c) for c in queue_counts]
        if not device_indices or len(set(device_indices)) != len(device_indices) \
                or any(not 0 <= i < len(physical) for i in device_indices):
            raise ValueError(f"device_indices must be distinct indices in 0..{len(physical) - 1}, "
                             f"got {device_indices}")
        if len(queue_counts) != len(device_indices):
            raise ValueError(f"queue_counts needs one count per device ({len(device_indices)}), "
                             f"got {queue_counts}")
        for i, c in zip(device_indices, queue_counts):
            most = physical[i].max_compute_queues
            if most == 0:
                raise ValueError(f"device {i} ({physical[i].name}) has no compute queue")
            if not 1 <= c <= most:
                raise ValueError(f"queue_counts {queue_counts}: device {i} ({physical[i].name}) "
                                 f"has {most} compute queue(s); ask for 1 to {most}")
        self._own_instance = Instance(debug=True) if debug else None
        instance = self._own_instance or runtime.instance
        self._lock = threading.RLock()
        self._devices, self._queues, self.queue_device = [], [], []
        self._buffers, self._images, self._samplers, self._semaphores = {}, {}, {}, {}
        self._foreign = {}                # serial -> ForeignMemory
        self._lists, self._programs = weakref.WeakSet(), weakref.WeakSet()
        self._copy_programs = {}          # element bytes -> copy kernel (copies.py)
        self._set_refs = {}               # resource serial -> [(program weakref, device pos, key)]
        self.free_epoch = 0               # bumped by every free (command lists re-check handles)
        self.force_staging = False        # tests: stage transfers even into mappable memory
        self.devices = [physical[i].info() for i in device_indices]
        self.destroyed = False
        try:
            for pos, (i, count) in enumerate(zip(device_indices, queue_counts)):
                device = Device(instance.physical_devices[i], count, len(self._queues), pos)
                self._devices.append(device)
                self._queues += device.queues
                self.queue_device += [pos] * count
        except BaseException:
            self.destroy()
            raise
        fd = all(d.phys.has((1, 1), "VK_KHR_external_memory")
                 and "VK_KHR_external_memory_fd" in d.phys.extensions for d in self._devices)
        # device buffers come from exportable blocks where any buffer may be exported
        # (no dedicated allocation required): CUDA then maps them without a copy
        shared = fd and all(_exports_buffers(d) for d in self._devices)
        foreign = fd and all(_imports_buffers(d) for d in self._devices)
        sems = all(d.phys.has((1, 1), None) and semaphores.exportable(d.phys)
                   for d in self._devices)
        self.capabilities = dataclasses.replace(
            type(self).capabilities, memory_fd_export=fd, memory_fd_import=fd,
            device_memory_export=shared, semaphore_fd_export=sems,
            foreign_memory_import=foreign)
        versions = [d.phys.api_version[:2] for d in self._devices]
        self.vulkan_version = max((1, 0), min(min(versions), (1, 3)))
        _live_contexts.add(self)

    # ------------------------------------------------------------------ helpers
    def _queue(self, queue: int):
        return self._queues[self._check_queue(queue)]

    def _note_set(self, serials, program, position, key) -> None:
        ref = (program._wref, position, key)
        with self._lock:
            for s in serials:
                self._set_refs.setdefault(s, []).append(ref)

    def _release_serial(self, serial: int) -> None:
        with self._lock:
            refs = self._set_refs.pop(serial, ())
        for wref, position, key in refs:
            program = wref()
            if program is not None:
                program.forget_set(position, key)

    def _note_free(self) -> None:
        """A resource was freed: command lists check theirs before the next submit."""
        with self._lock:
            self.free_epoch += 1

    def _forget_list(self, cl) -> None:
        self._lists.discard(cl)

    def _forget_program(self, program) -> None:
        self._programs.discard(program)

    def _alloc_internal(self, queue: int, nbytes: int, kind: str) -> BufferHandle:
        """A buffer the backend owns (uniform arenas): freed by its owner, not listed."""
        return create_buffer(self._queues[queue].device, queue, nbytes, kind)

    def _release_buffer(self, handle: BufferHandle) -> None:
        self._release_serial(handle.serial)
        destroy_buffer(handle)

    def _wait_for_users(self, handle) -> None:
        """Before the host touches `handle`: wait for submitted work that may use it."""
        if handle.used:
            handle.device.wait_queues()

    # ------------------------------------------------------------------ buffers
    def buffer_alloc(self, queue: int, nbytes: int, memory: str = "device") -> BufferHandle:
        device = self._queue(queue).device
        nbytes = check_alloc(nbytes, memory, device.phys.limits.maxMemoryAllocationSize,
                             "maxMemoryAllocationSize", device.phys.name)
        device.collect()
        exportable = memory == "device" and self.capabilities.device_memory_export
        handle = create_buffer(device, queue, nbytes, memory, exportable=exportable)
        with self._lock:
            self._buffers[handle.serial] = handle
        return handle

    def buffer_alloc_exportable(self, queue: int, nbytes: int) -> BufferHandle:
        return self._alloc_external(queue, nbytes, ("export",), "memory_fd_export")

    def _exportable(self, handle, what: str) -> BufferHandle:
        h = self._live_buffer(handle)
        if not self.capabilities.memory_fd_export:
            self._lacks("memory_fd_export", what)
        if not h.block.exportable:
            how = ("buffer_alloc(memory='device')" if self.capabilities.device_memory_export
                   else "buffer_alloc_exportable")
            raise InvalidArgumentError(f"{h!r} is not in exportable memory (made by {how})")
        return h

    def memory_export_info(self, handle) -> MemoryExport:
        h = self._exportable(handle, "memory_export_info")
        h.used = True      # another API may write it: host access waits for the queues
        block = h.block
        return MemoryExport(block.serial, block.size, h.offset, block.type_index,
                            block.dedicated_allocation)

    def export_memory_fd(self, handle) -> int:
        return memory_fd(self._exportable(handle, "export_memory_fd"))

    def import_memory_fd(self, queue: int, fd: int, allocation_size: int, nbytes: int,
                         memory_type_index: int = 0, offset: int = 0,
                         dedicated: bool = True) -> BufferHandle:
        if not 0 <= int(nbytes) <= int(allocation_size):
            raise InvalidArgumentError(f"nbytes must be in [0, allocation_size="
                                       f"{allocation_size}], got {nbytes}")
        return self._alloc_external(queue, nbytes, ("import", fd, allocation_size,
                                                    memory_type_index, offset, dedicated),
                                    "memory_fd_import")

    def import_foreign_memory_fd(self, queue: int, fd: int, allocation_size: int) -> ForeignMemory:
        if not self.capabilities.foreign_memory_import:
            self._lacks("foreign_memory_import", "import_foreign_memory_fd")
        device = self._queue(queue).device
        if isinstance(fd, bool) or not isinstance(fd, int) or fd < 0:
            raise InvalidArgumentError(f"fd must be an open file descriptor (an int >= 0), "
                                       f"got {fd!r}")
        size = int(allocation_size)
        if size <= 0:
            raise InvalidArgumentError(f"allocation_size must be positive, got {allocation_size}")
        size = check_alloc(size, "device", device.phys.limits.maxMemoryAllocationSize,
                           "maxMemoryAllocationSize", device.phys.name)
        device.collect()
        memory = import_foreign(device, queue, fd, size)
        with self._lock:
            self._foreign[memory.serial] = memory
        return memory

    def _live_foreign(self, memory) -> ForeignMemory:
        self._check_alive()
        if not isinstance(memory, ForeignMemory):
            raise TypeError(f"expected memory from import_foreign_memory_fd, got {memory!r}")
        if not memory.alive:
            raise UseAfterFreeError(f"{memory!r} was freed")
        return memory

    def buffer_in_foreign_memory(self, memory, offset: int, nbytes: int,
                                 owner: object = None) -> BufferHandle:
        if not self.capabilities.foreign_memory_import:
            self._lacks("foreign_memory_import", "buffer_in_foreign_memory")
        m = self._live_foreign(memory)
        offset, nbytes = int(offset), int(nbytes)
        if nbytes < 0 or offset < 0:
            raise InvalidArgumentError(f"offset and nbytes must be non-negative, got offset "
                                       f"{offset}, nbytes {nbytes}")
        handle = buffer_in(m, offset, nbytes, owner)
        with self._lock:
            self._buffers[handle.serial] = handle
        return handle

    def foreign_memory_free(self, memory) -> None:
        """Idempotent; the memory goes once the work submitted so far is done and no
        buffer is bound in it."""
        if not self.capabilities.foreign_memory_import:
            self._lacks("foreign_memory_import", "foreign_memory_free")
        if self._unlist(self._foreign, memory, ForeignMemory):
            memory.device.defer(lambda: release_foreign(memory))

    def _alloc_external(self, queue: int, nbytes: int, external, flag: str) -> BufferHandle:
        device = self._queue(queue).device
        if not getattr(self.capabilities, flag):
            self._lacks(flag, f"{external[0]} of external memory")
        nbytes = check_alloc(nbytes, "device", device.phys.limits.maxMemoryAllocationSize,
                             "maxMemoryAllocationSize", device.phys.name)
        handle = create_buffer(device, queue, nbytes, "device", external)
        with self._lock:
            self._buffers[handle.serial] = handle
        return handle

    def _unlist(self, table: dict, handle, kind) -> bool:
        """Forget a live handle (False: freed already); command lists check theirs again."""
        if not isinstance(handle, kind):
            raise TypeError(f"expected a Vulkan {kind.__name__}, got {handle!r}")
        with self._lock:
            if table.pop(handle.serial, None) is None:
                return False
            handle.alive = False
            self.free_epoch += 1
        return True

    def buffer_free(self, handle) -> None:
        """Idempotent. The memory is reused once the work already submitted is done."""
        if self._unlist(self._buffers, handle, BufferHandle):
            handle.device.defer(lambda: self._release_buffer(handle))

    def _live_buffer(self, handle) -> BufferHandle:
        self._check_alive()
        if not isinstance(handle, BufferHandle):
            raise TypeError(f"expected a Vulkan buffer handle, got {handle!r}")
        if not handle.alive:
            raise UseAfterFreeError(f"{handle!r} was freed")
        return handle

    def buffer_write(self, handle, data, offset: int = 0) -> None:
        h = self._live_buffer(handle)
        mv = host_bytes(data, "data")
        nbytes, offset = mv.nbytes, int(offset)
        check_range(offset, nbytes, h.size, "write")
        if nbytes == 0:
            return
        src = ffi.from_buffer(mv)
        if h.ptr is not None and not self.force_staging:
            self._wait_for_users(h)
            memmove(h.ptr + offset, src, nbytes)
        else:   # the copy runs on the buffer's queue after the work there (its barrier)
            q = self._queues[h.queue]
            with q.transfer_lock:
                q.transfer.write_buffer(h, offset, src, nbytes)

    def buffer_read(self, handle, nbytes: int, offset: int = 0, out=None) -> memoryview:
        h = self._live_buffer(handle)
        nbytes, offset = int(nbytes), int(offset)
        check_range(offset, nbytes, h.size, "read")
        mv = out_bytes(out, nbytes)
        if nbytes == 0:
            return mv
        dst = ffi.from_buffer(mv, require_writable=True)
        # a mapped read of uncached memory (a discrete GPU's BAR) runs at tens of MB/s;
        # a DMA copy into cached staging memory at several GB/s
        if h.ptr is not None and h.block.cached and not self.force_staging:
            self._wait_for_users(h)
            memmove(dst, h.ptr + offset, nbytes)
        else:   # the copy runs on the buffer's queue after the work there (its barrier),
            # so the host waits once, for the copy
            q = self._queues[h.queue]
            with q.transfer_lock:
                q.transfer.read_buffer(h, offset, dst, nbytes)
        return mv

    # ------------------------------------------------------------------ semaphores
    def semaphore_create_exportable(self, queue: int = 0):
        device = self._queue(queue).device
        if not self.capabilities.semaphore_fd_export:
            self._lacks("semaphore_fd_export", "semaphore_create_exportable")
        h = semaphores.create_timeline(device)
        with self._lock:
            self._semaphores[h.serial] = h
        return h

    def _live_semaphore(self, handle) -> "semaphores.SemaphoreHandle":
        self._check_alive()
        if not isinstance(handle, semaphores.SemaphoreHandle):
            raise TypeError(f"expected a Vulkan semaphore handle, got {handle!r}")
        if not handle.alive:
            raise UseAfterFreeError(f"{handle!r} was freed")
        return handle

    def export_semaphore_fd(self, handle) -> int:
        return semaphores.export_fd(self._live_semaphore(handle))

    def semaphore_free(self, handle) -> None:
        if not isinstance(handle, semaphores.SemaphoreHandle):
            raise TypeError(f"expected a Vulkan semaphore handle, got {handle!r}")
        with self._lock:
            if self._semaphores.pop(handle.serial, None) is None:
                return
            handle.alive = False
        handle.device.defer(lambda: semaphores.destroy(handle))

    def _semaphore_queue(self, queue: int, handle):
        q = self._queue(queue)
        h = self._live_semaphore(handle)
        if h.device is not q.device:
            raise InvalidArgumentError(f"{h!r} belongs to another device than queue {queue}")
        return q, h

    def queue_signal_semaphore(self, queue: int, handle, value: int) -> None:
        q, h = self._semaphore_queue(queue, handle)
        q.submit_semaphore(h.ptr, int(value), wait=False)

    def queue_wait_semaphore(self, queue: int, handle, value: int) -> None:
        q, h = self._semaphore_queue(queue, handle)
        q.submit_semaphore(h.ptr, int(value), wait=True)

    def buffer_device_address(self, handle) -> int:
        """The GPU address of a buffer (for kernels that take raw pointers)."""
        h = self._live_buffer(handle)
        if not h.device.buffer_device_address:
            raise UnsupportedFeatureError(f"{h.device.phys.name} lacks bufferDeviceAddress")
        return buffer_address(h)

    def memory_stats(self, device: int = 0) -> dict:
        """The allocator's counters for device `device` (a position in `devices`)."""
        return self._devices[device].allocator.stats()

    # ------------------------------------------------------------------ images
    def image_alloc(self, queue: int, extent: tuple, layers: int, dtype: str, channels: int,
                    dim: Optional[int] = None, arrayed: Optional[bool] = None,
                    levels: int = 1) -> ImageHandle:
        """`dim` (1-3) defaults to len(extent) for short extents, else to the number of
        leading axes up to the last one larger than 1."""
        q = self._queue(queue)
        q.device.collect()
        image = create_image(q.device, queue, extent, layers, dtype, channels, dim, arrayed,
                             levels)
        try:
            with q.transfer_lock:
                q.transfer.to_general_layout(image)
        except BaseException:
            destroy_image(image)
            raise
        with self._lock:
            self._images[image.serial] = image
        return image

    def image_free(self, handle) -> None:
        if self._unlist(self._images, handle, ImageHandle):
            handle.device.defer(lambda: self._release_image(handle))

    def _release_image(self, handle: ImageHandle) -> None:
        self._release_serial(handle.serial)
        destroy_image(handle)

    def _image_io(self, handle, buf, layer: int, level: int, writable: bool):
        self._check_alive()
        if not isinstance(handle, ImageHandle):
            raise TypeError(f"expected a Vulkan image handle, got {handle!r}")
        if not handle.alive:
            raise UseAfterFreeError(f"{handle!r} was freed")
        level = check_level(level, handle.levels)
        mv = layer_view(buf, handle.level_bytes(level), writable)
        return (ffi.from_buffer(mv, require_writable=writable),
                check_layer(layer, handle.layers), level)

    def image_write(self, handle, data, layer: int = 0, level: int = 0) -> None:
        src, layer, level = self._image_io(handle, data, layer, level, False)
        self._wait_for_users(handle)
        q = self._queues[handle.queue]
        with q.transfer_lock:
            q.transfer.write_image(handle, layer, src, handle.level_bytes(level), level)

    def image_read(self, handle, out, layer: int = 0, level: int = 0) -> None:
        dst, layer, level = self._image_io(handle, out, layer, level, True)
        self._wait_for_users(handle)
        q = self._queues[handle.queue]
        with q.transfer_lock:
            q.transfer.read_image(handle, layer, dst, handle.level_bytes(level), level)

    def sampler_create(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                       normalized: bool = True, **details) -> SamplerHandle:
        desc = sampler_desc(filter, address_mode, normalized, details)
        self._check_alive()
        sampler = create_sampler(self._devices, desc)
        with self._lock:
            self._samplers[sampler.serial] = sampler
        return sampler

    def sampler_free(self, handle) -> None:
        if not self._unlist(self._samplers, handle, SamplerHandle):
            return
        release = _Countdown(len(self._devices), lambda: self._release_sampler(handle))
        for device in self._devices:
            device.defer(release)

    def _release_sampler(self, handle: SamplerHandle) -> None:
        self._release_serial(handle.serial)
        destroy_sampler(handle)

    # ------------------------------------------------------------------ programs, commands
    def _create_program(self, source, info: ProgramInfo, options: ProgramOptions) -> VulkanProgram:
        return VulkanProgram(self, source, info, dict(options.specialization))

    def _command_list(self, queue: int, timestamps: bool, hazard_tracking: bool,
                      barriers: Optional[str] = None) -> VulkanCommandList:
        """`barriers` (a Vulkan option of command_list): "full" puts a barrier before
        every command; "auto" only where a command touches what an earlier one wrote
        (or writes what it read), judged from the bindings (Binding.writable), so kernels
        must not reach memory by raw device address. Default: "auto" with
        `hazard_tracking`, else "full"."""
        if barriers is None:
            barriers = "auto" if hazard_tracking else "full"
        return VulkanCommandList(self, queue, timestamps, barriers)

    def queue_wait_idle(self, queue: Optional[int] = None) -> None:
        self._check_alive()
        queues = self._queues if queue is None else [self._queue(queue)]
        for q in queues:
            q.wait_idle()
        for device in {q.device for q in queues}:
            device.collect()

    # ------------------------------------------------------------------ teardown
    def destroy(self) -> None:
        """Idempotent: waits for the devices, then frees command lists, programs,
        buffers, images, samplers, devices and (debug) instance, in that order."""
        if self.destroyed:
            return
        self.destroyed = True
        _live_contexts.discard(self)
        steps = [device.wait_idle for device in self._devices]
        steps += [cl.destroy for cl in list(self._lists)]
        steps += [p.destroy for p in list(self._programs)]
        steps += [lambda h=h: self._release_buffer(h) for h in self._buffers.values()]
        steps += [lambda m=m: release_foreign(m) for m in self._foreign.values()]
        steps += [lambda h=h: self._release_image(h) for h in self._images.values()]
        steps += [lambda h=h: self._release_sampler(h) for h in self._samplers.values()]
        steps += [lambda h=h: semaphores.destroy(h) for h in self._semaphores.values()]
        steps += [device.destroy for device in self._devices]
        if self._own_instance is not None:
            steps.append(self._own_instance.destroy)
        for step in steps:
            try:
                step()
            except Exception as exc:  # free the rest regardless
                log_error("vulkan: error while destroying a context: %s: %s", type(exc).__name__, exc)
        for table in (self._buffers, self._images, self._samplers, self._semaphores,
                      self._foreign):
            for h in table.values():
                h.alive = False
            table.clear()
        self._set_refs.clear()

    def __del__(self):
        try:
            if process.forked_child:   # the parent's driver owns it
                return
            self.destroy()
        except Exception:  # interpreter teardown: module globals may already be None
            pass


def _exports_buffers(device) -> bool:
    """Any buffer of `device` can live in OPAQUE_FD-exportable memory (no dedicated
    allocation required)."""
    features = device.phys.external_buffer_features(buffer_usage(device), OPAQUE_FD)
    return bool(features & vk.VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT
                and not features & vk.VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT)


def _imports_buffers(device) -> bool:
    """Buffers of `device` can be bound in OPAQUE_FD memory another API made, several to
    one import (no dedicated allocation required)."""
    features = device.phys.external_buffer_features(buffer_usage(device), OPAQUE_FD)
    return bool(features & vk.VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT
                and not features & vk.VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT)


class _Countdown:
    """Calls `fn` on the n-th call (a resource deferred on several devices)."""

    def __init__(self, n: int, fn):
        self.n, self.fn = n, fn
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.n -= 1
            if self.n:
                return
        self.fn()


def get_runtime() -> VulkanRuntime:
    """The process's VulkanRuntime (one VkInstance), created on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None or _runtime.instance.handle is None:
            _runtime = VulkanRuntime()
        return _runtime


@atexit.register
def _shutdown() -> None:
    """Free every context, then the instance, before the interpreter tears down the
    modules the teardown needs (so exiting with live objects never crashes)."""
    for ctx in list(_live_contexts):
        try:
            ctx.destroy()
        except Exception:
            pass
    if _runtime is not None:
        try:
            _runtime.destroy()
        except Exception:
            pass
