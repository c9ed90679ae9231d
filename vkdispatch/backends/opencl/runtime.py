"""The OpenCL Runtime: devices of every platform, a cl.Context per device in use,
in-order command queues, buffers, images, samplers, programs and command lists."""
from __future__ import annotations

import contextlib
import dataclasses
import threading
import weakref
from typing import Optional, Sequence

import numpy as np
import pyopencl as cl

from ...base import dtype as dt
from ...base.errors import UnsupportedFeatureError, UseAfterFreeError, VkDispatchError
from ..common import (MemoryBudget, check_alloc, check_layer, check_level, check_levels,
                      check_range, host_bytes, image_arrayed, image_shape, layer_view, out_bytes, sampler_desc)
from ..runtime import DLPACK_OPENCL, Capabilities, Runtime, RuntimeContext
from . import compiler
from ._check import error_for
from .commands import OpenCLCommandList, wait_event
from .devices import device_info, enumerate_devices
from .memory import (BufferHandle, ImageHandle, SamplerHandle, check_image_limits, image_bytes,
                     image_format, samples_layers_right)
from .program import OpenCLProgram

_MF = cl.mem_flags
# pyopencl's enqueue_copy knows only 2-D/3-D images; these are the calls it makes
# for them, and they take 1-D images (and arrays) too.
_write_image = cl._enqueue_write_image
_read_image = cl._enqueue_read_image


class OpenCLRuntime(Runtime):
    name = "opencl"
    codegen_target = "opencl"

    def __init__(self):
        self._entries = enumerate_devices()
        self._infos = [device_info(i, p, d) for i, (p, d) in enumerate(self._entries)]

    def devices(self) -> list:
        return list(self._infos)

    def create_context(self, device_indices: Sequence[int], queue_counts: Sequence[int],
                       debug: bool = False, profiling: bool = False) -> "OpenCLContext":
        """debug: every submission waits and raises its failure at the call.
        profiling: every queue records event times, so command lists made with
        timestamps=True need no profiling twin queue (see commands.py)."""
        device_indices = [int(i) for i in device_indices]
        queue_counts = [int(c) for c in queue_counts]
        n = len(self._infos)
        if not device_indices or any(not 0 <= i < n for i in device_indices):
            raise ValueError(f"device_indices must be a non-empty list of indices in "
                             f"[0, {n}), got {device_indices}")
        if len(set(device_indices)) != len(device_indices):
            raise ValueError(f"device_indices must not repeat a device, got {device_indices}")
        if len(queue_counts) != len(device_indices) or min(queue_counts) < 1:
            raise ValueError(f"queue_counts must give a positive queue count per device "
                             f"({len(device_indices)}), got {queue_counts}")
        return OpenCLContext(self, device_indices, queue_counts, debug, profiling)


# Bytes allocated per OpenCL device (by its cl_device_id), over every context
_BUDGETS = {}
_BUDGETS_LOCK = threading.Lock()


def _budget(info, device) -> MemoryBudget:
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(device.int_ptr)
        if budget is None:
            budget = _BUDGETS[device.int_ptr] = MemoryBudget(
                int(device.global_mem_size), "CL_DEVICE_GLOBAL_MEM_SIZE", info.name)
        return budget


class _DeviceSlot:
    """Per-device state of a context: the device, its cl.Context and limits.

    Memory of a CPU device is host memory. PoCL allocates a buffer or image made
    without CL_MEM_ALLOC_HOST_PTR lazily, at its first use, and aborts the process
    (`p->mem_ptr != NULL`) when that malloc fails; with the flag it allocates at
    clCreateBuffer/clCreateImage and reports the failure. So on CPU devices every
    allocation takes the flag (`alloc_flags`), and the bytes allocated are counted
    against CL_DEVICE_GLOBAL_MEM_SIZE (`budget`), which PoCL does not enforce."""

    def __init__(self, info, platform, device):
        self.info = info
        self.platform = platform
        self.cl_device = device
        self.cl_context = cl.Context([device])
        self.base_align = max(1, device.mem_base_addr_align // 8)  # reported in bits
        self.eager = bool(device.type & cl.device_type.CPU)
        self.budget = _budget(info, device)
        # launch sizes: global sizes are size_t of the device; PoCL's CPU scheduler
        # numbers workgroups with 32-bit unsigned ints (pthread_scheduler.c)
        self.size_bits = int(device.address_bits) or 64
        pocl = platform.name.strip() == "Portable Computing Language"
        self.max_groups = (1 << 32) - 1 if pocl else None
        self.max_groups_name = "PoCL's 32-bit workgroup numbering"
        self._formats = {}

    def alloc_flags(self, memory: str) -> int:
        host = memory != "device" or self.eager
        return _MF.READ_WRITE | (_MF.ALLOC_HOST_PTR if host else 0)

    def image_formats(self, image_type) -> set:
        if image_type not in self._formats:
            formats = cl.get_supported_image_formats(self.cl_context, _MF.READ_WRITE,
                                                     image_type)
            self._formats[image_type] = {(f.channel_order, f.channel_data_type)
                                         for f in formats}
        return self._formats[image_type]


class OpenCLContext(RuntimeContext):
    capabilities = Capabilities(dlpack_device_type=DLPACK_OPENCL, native_api="opencl")
    honoured_options = ("build_flags",)   # OpenCL C build options

    def __init__(self, runtime, device_indices, queue_counts, debug, profiling):
        self.runtime = runtime
        self.debug = bool(debug)
        self._profiling = bool(profiling)
        self._lock = threading.Lock()
        self._buffers = {}   # id -> handle, everything destroy() must release
        self._images = {}
        self._samplers = {}
        self._programs = weakref.WeakSet()
        self._lists = weakref.WeakSet()
        self._slots, self._queues, self._queue_slots = [], [], []
        self._twins = {}     # queue index -> profiling twin queue, made on first use
        self._last_events = []   # per queue: the event of its latest submission (or None)
        self.devices, self.queue_device = [], []
        props = cl.command_queue_properties.PROFILING_ENABLE if profiling else 0
        try:
            for pos, (index, count) in enumerate(zip(device_indices, queue_counts)):
                platform, device = runtime._entries[index]
                slot = _DeviceSlot(runtime._infos[index], platform, device)
                self._slots.append(slot)
                self.devices.append(slot.info)
                for _ in range(count):
                    self._queues.append(cl.CommandQueue(slot.cl_context, device, properties=props))
                    self._last_events.append(None)
                    self._queue_slots.append(slot)
                    self.queue_device.append(pos)
        except cl.Error as exc:
            self.destroy()
            raise error_for(exc, "clCreateContext/clCreateCommandQueue") from None
        if not all(samples_layers_right(s.platform.name) for s in self._slots):
            self.capabilities = dataclasses.replace(self.capabilities, layer_sampling=False)

    # ------------------------------------------------------------------ helpers
    def _slot_of_queue(self, queue: int):
        return self._queue_slots[self._check_queue(queue)]

    def _timing_queue(self, queue: int):
        """A profiling-enabled queue on `queue`'s device: the queue itself in a
        profiling context, else its twin (created once)."""
        if self._profiling:
            return self._queues[queue]
        with self._lock:
            twin = self._twins.get(queue)
            if twin is None:
                slot = self._queue_slots[queue]
                try:
                    twin = cl.CommandQueue(slot.cl_context, slot.cl_device,
                                           properties=cl.command_queue_properties.PROFILING_ENABLE)
                except cl.Error as exc:
                    raise error_for(exc, "clCreateCommandQueue",
                                    "a profiling queue for timestamps") from None
                self._twins[queue] = twin
            return twin

    def _drain(self, queue: int) -> None:
        """Wait, interruptibly, for the submissions on `queue` (an in-order queue), so
        that a blocking call after it waits only for itself: Ctrl-C during a long kernel
        raises KeyboardInterrupt at once, the kernel goes on, and nothing is half-done."""
        event = self._last_events[queue]
        if event is not None:
            wait_event(event)
            if self._last_events[queue] is event:
                self._last_events[queue] = None

    def _forget_program(self, program) -> None:
        self._programs.discard(program)

    def _forget_list(self, cmd_list) -> None:
        self._lists.discard(cmd_list)

    # ------------------------------------------------------------------ buffers
    def buffer_alloc(self, queue: int, nbytes: int, memory: str = "device") -> BufferHandle:
        slot = self._slot_of_queue(queue)
        nbytes = check_alloc(nbytes, memory, slot.info.max_allocation_size,
                             "CL_DEVICE_MAX_MEM_ALLOC_SIZE", slot.info.name)
        # OpenCL has no empty buffers; an empty handle keeps a 4-byte allocation
        charged = slot.budget.reserve(max(nbytes, 4))
        try:
            mem = cl.Buffer(slot.cl_context, slot.alloc_flags(memory), charged)
        except cl.Error as exc:
            slot.budget.release(charged)
            raise error_for(exc, "clCreateBuffer", f"{nbytes} bytes on {slot.info.name}") from None
        handle = BufferHandle(slot, queue, nbytes, memory, mem, charged)
        with self._lock:
            self._buffers[id(handle)] = handle
        return handle

    def _free(self, table: dict, handle, kind) -> None:
        """Idempotent; enqueued work keeps its own references to the cl objects."""
        if not isinstance(handle, kind):
            raise TypeError(f"expected an OpenCL {kind.__name__}, got {type(handle).__name__}")
        with self._lock:
            table.pop(id(handle), None)
        handle.release()

    def buffer_free(self, handle: BufferHandle) -> None:
        self._free(self._buffers, handle, BufferHandle)

    def _buffer(self, handle) -> BufferHandle:
        if not isinstance(handle, BufferHandle):
            raise TypeError(f"expected an OpenCL buffer handle, got {type(handle).__name__}")
        self._check_alive()
        if handle.freed:
            raise UseAfterFreeError(f"{handle!r} was freed")
        return handle

    def buffer_write(self, handle, data, offset: int = 0) -> None:
        handle = self._buffer(handle)
        src = host_bytes(data, "data")
        offset = int(offset)
        check_range(offset, src.nbytes, handle.nbytes, "write")
        if not src.nbytes:
            return
        self._drain(handle.queue)
        try:
            cl.enqueue_copy(self._queues[handle.queue], handle.mem, src, dst_offset=offset,
                            is_blocking=True)
        except cl.Error as exc:
            raise error_for(exc, "clEnqueueWriteBuffer") from None

    def buffer_read(self, handle, nbytes: int, offset: int = 0, out=None) -> memoryview:
        handle = self._buffer(handle)
        nbytes, offset = int(nbytes), int(offset)
        check_range(offset, nbytes, handle.nbytes, "read")
        dst = out_bytes(out, nbytes)
        if nbytes:
            self._drain(handle.queue)
            try:  # the queue is in-order: this read follows all work submitted on it
                cl.enqueue_copy(self._queues[handle.queue], np.frombuffer(dst, np.uint8),
                                handle.mem, src_offset=offset, is_blocking=True)
            except cl.Error as exc:
                raise error_for(exc, "clEnqueueReadBuffer") from None
        return dst

    # ------------------------------------------------------------------ images
    def image_alloc(self, queue: int, extent: tuple, layers: int, dtype: str,
                    channels: int, dim: Optional[int] = None,
                    arrayed: Optional[bool] = None, levels: int = 1) -> ImageHandle:
        """`dim` (1, 2 or 3) picks the OpenCL image type; without it, the highest axis
        of `extent` above 1 does (so a 2-D image of height 1 needs dim=2)."""
        slot = self._slot_of_queue(queue)
        if check_levels(levels, image_shape(extent, layers, dim)[0]) > 1:
            # OpenCL 1.2 has none; cl_khr_mipmap_image (absent on PoCL) is not used here
            raise UnsupportedFeatureError(f"the opencl backend has no mipmapped images "
                                          f"(capabilities.mipmapped_images is False; {levels} "
                                          f"levels asked of {slot.info.name})")
        if not slot.info.images:
            raise UnsupportedFeatureError(f"{slot.info.name} has no image support "
                                          f"(CL_DEVICE_IMAGE_SUPPORT is false)")
        extent, layers, dim = image_shape(extent, layers, dim)
        arrayed = image_arrayed(layers, dim, arrayed)
        fmt, image_type = image_format(slot, dt.to_dtype(dtype).name, int(channels), dim, arrayed)
        check_image_limits(slot, extent, layers, dim)
        nbytes = check_alloc(image_bytes(extent, layers, dt.to_dtype(dtype).name, int(channels)),
                             "device", slot.info.max_allocation_size,
                             "CL_DEVICE_MAX_MEM_ALLOC_SIZE", slot.info.name)
        desc = cl.ImageDescriptor()
        desc.image_type = image_type
        desc.shape = extent
        desc.array_size = layers if arrayed else 0
        desc.pitches = (0, 0)
        desc.num_mip_levels = 0
        desc.num_samples = 0
        desc.buffer = None
        charged = slot.budget.reserve(nbytes)
        try:
            mem = cl.Image(slot.cl_context, slot.alloc_flags("device"), fmt, desc=desc)
        except cl.Error as exc:
            slot.budget.release(charged)
            raise error_for(exc, "clCreateImage", f"{extent} x {layers} on {slot.info.name}") from None
        handle = ImageHandle(slot, queue, extent, layers, dt.to_dtype(dtype).name,
                             int(channels), dim, arrayed, mem, charged)
        with self._lock:
            self._images[id(handle)] = handle
        return handle

    def image_free(self, handle) -> None:
        self._free(self._images, handle, ImageHandle)

    def _image(self, handle) -> ImageHandle:
        if not isinstance(handle, ImageHandle):
            raise TypeError(f"expected an OpenCL image handle, got {type(handle).__name__}")
        self._check_alive()
        if handle.freed:
            raise UseAfterFreeError(f"{handle!r} was freed")
        return handle

    def image_write(self, handle, data, layer: int = 0, level: int = 0) -> None:
        handle = self._image(handle)
        check_level(level, 1)
        src = layer_view(data, handle.layer_bytes)
        origin, region = handle.region(check_layer(layer, handle.layers))
        self._drain(handle.queue)
        try:
            _write_image(self._queues[handle.queue], handle.mem, origin, region, src,
                         is_blocking=True)
        except cl.Error as exc:
            raise error_for(exc, "clEnqueueWriteImage") from None

    def image_read(self, handle, out, layer: int = 0, level: int = 0) -> None:
        handle = self._image(handle)
        check_level(level, 1)
        dst = layer_view(out, handle.layer_bytes, writable=True)
        origin, region = handle.region(check_layer(layer, handle.layers))
        self._drain(handle.queue)
        try:
            _read_image(self._queues[handle.queue], handle.mem, origin, region,
                        np.frombuffer(dst, np.uint8), is_blocking=True)
        except cl.Error as exc:
            raise error_for(exc, "clEnqueueReadImage") from None

    def sampler_create(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                       normalized: bool = True, **details) -> SamplerHandle:
        desc = sampler_desc(filter, address_mode, normalized, details)
        self._check_alive()
        handle = SamplerHandle(self._slots, desc)
        with self._lock:
            self._samplers[id(handle)] = handle
        return handle

    def sampler_free(self, handle) -> None:
        self._free(self._samplers, handle, SamplerHandle)

    # ------------------------------------------------------------------ native objects
    @contextlib.contextmanager
    def native_queue(self, queue: int):
        """The pyopencl.CommandQueue of `queue`: in order, so work enqueued on it follows
        the submissions before and precedes the ones after."""
        yield self._queues[self._check_queue(queue)]

    def native_memory(self, handle):
        """The pyopencl.Buffer of a handle; a (handle, offset, size) view is a sub-buffer,
        so its offset must be a multiple of CL_DEVICE_MEM_BASE_ADDR_ALIGN."""
        if isinstance(handle, tuple) and len(handle) == 3:
            buf, offset, size = handle
            return self._buffer(buf).view(int(offset), int(size))
        return self._buffer(handle).mem

    # ------------------------------------------------------------------ programs and work
    def _create_program(self, source: str, info, options) -> OpenCLProgram:
        """Build `source` for every device of the context and check the launch against
        the devices' limits."""
        return OpenCLProgram(self, source, info, options.build_flags)

    def _command_list(self, queue: int, timestamps: bool,
                      hazard_tracking: bool) -> OpenCLCommandList:
        # in-order queues run commands in order; there are no barriers to drop
        return OpenCLCommandList(self, queue, timestamps)

    def queue_wait_idle(self, queue: Optional[int] = None) -> None:
        self._check_alive()
        if queue is not None:
            self._slot_of_queue(queue)
        indices = range(len(self._queues)) if queue is None else [queue]
        for index in indices:
            self._drain(index)
        queues = [self._queues[index] for index in indices]
        try:
            for q in queues:
                q.finish()
        except cl.Error as exc:
            raise error_for(exc, "clFinish") from None

    def destroy(self) -> None:
        if self.destroyed:
            return
        for index in range(len(self._queues)):   # interruptible: nothing torn down yet
            try:
                self._drain(index)
            except VkDispatchError:
                pass  # a failed command is finished too
        self.destroyed = True
        twins, self._twins = list(self._twins.values()), {}
        for q in self._queues + twins:
            try:
                q.finish()
            except cl.Error:
                pass  # a failed command is finished too; tear down regardless
        for cmd_list in list(self._lists):
            cmd_list._destroyed = True  # no waiting: the queues are idle
        for program in list(self._programs):
            program.destroy()
        with self._lock:
            handles = [*self._buffers.values(), *self._images.values(),
                       *self._samplers.values()]
            self._buffers.clear()
            self._images.clear()
            self._samplers.clear()
        for handle in handles:
            handle.release()
        for q in self._queues + twins:
            q._finalize()
        for slot in self._slots:
            compiler.MEMORY_CACHE.forget_context(slot.cl_context)
        self._queues.clear()
        self._last_events.clear()
        self._queue_slots.clear()
        self._slots.clear()

    def __repr__(self):
        state = "destroyed" if self.destroyed else f"{len(self._queues)} queues"
        return f"<OpenCLContext {[d.name for d in self.devices]} {state}>"

