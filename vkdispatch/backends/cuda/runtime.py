"""The CUDA Runtime: devices, a context of primary contexts and streams, memory,
images, programs and command lists (see _program.py for the kernel ABI).

Every call makes its device's primary context current for itself, so any thread may
call, and callers that keep their own current context (CuPy, PyTorch) keep it: a call
that finds the context current already (PyTorch and CuPy make the same primary context
current) changes nothing; one that finds another context current pushes ours and pops
it after. On a thread with no current context, device 0's primary context is made
current and left so (what the CUDA runtime, and so CuPy and PyTorch, would make current
there themselves), which saves the push/pop on every later call; other devices' are
pushed and popped. A lock per queue orders the host side of work on a stream
(launches, copies, graph capture).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Optional, Sequence

import numpy as np
from cuda.bindings import driver

from ...base.errors import (BackendUnavailableError, InvalidArgumentError, UnsupportedFeatureError,
                           UseAfterFreeError)
from ...base.log import logger
from ..common import (check_alloc, check_layer, check_level, check_levels, check_range,
                      host_bytes, image_shape, layer_view, out_bytes, sampler_desc)
from ..runtime import (DLPACK_CUDA, Capabilities, CapturedGraph, DeviceInfo, MemoryExport,
                       Runtime, RuntimeContext)
from ...base.abi import ProgramInfo
from . import _commands, _image, _memory, _shareable, _staging, nvrtc
from ._check import check, quiet
from ._commands import CudaCommandList, CudaSignal
from ._device import device_info
from ._memory import CudaBuffer
from ._program import CudaProgram

__all__ = ["CudaRuntime", "CudaContext", "CudaProgram", "CudaCommandList", "CudaSignal",
           "CudaBuffer"]


class _Pushed(threading.local):
    """Per thread: for each `with guard:` entered and not yet left, whether it pushed."""

    def __init__(self):
        self.stack = []


_pushed = _Pushed()
_NO_CONTEXT = driver.CUcontext(0)


class CtxGuard:
    """`with guard:` makes a context current on this thread and restores the previous.

    `keep`: on a thread with no current context, make this one current and leave it
    (only for device 0's primary context: that is what the CUDA runtime would make
    current on such a thread, so CuPy and PyTorch find what they would have chosen)."""

    __slots__ = ("ctx", "handle", "keep")

    def __init__(self, ctx, keep: bool = False):
        self.ctx = ctx
        self.handle = int(ctx)
        self.keep = keep

    def current(self) -> bool:
        """True when the context is current on this thread now with nothing to restore
        (it was current, or nothing was and `keep` made it so); False: use `with`."""
        err, cur = driver.cuCtxGetCurrent()
        if err:
            return False
        handle = int(cur) if cur is not None else 0
        if handle == self.handle:
            return True
        if handle == 0 and self.keep:
            return not driver.cuCtxSetCurrent(self.ctx)[0]
        return False

    def __enter__(self):
        if self.current():
            _pushed.stack.append(False)
        else:
            check(driver.cuCtxPushCurrent(self.ctx), "cuCtxPushCurrent")
            _pushed.stack.append(True)
        return self

    def __exit__(self, *exc):
        if _pushed.stack.pop():
            driver.cuCtxPopCurrent()

    def forget(self, cudev) -> None:
        """At teardown, after releasing the primary context of `cudev`: if that made it
        inactive and this thread holds it current, clear it (nothing else uses it)."""
        err, cur = driver.cuCtxGetCurrent()
        if err or cur is None or int(cur) != self.handle:
            return
        err, _, active = driver.cuDevicePrimaryCtxGetState(cudev)
        if not err and not active:
            quiet(driver.cuCtxSetCurrent(_NO_CONTEXT))


class _Device:
    def __init__(self, info: DeviceInfo, cudev, ctx, ordinal: int):
        self.info = info
        self.cudev = cudev
        self.ctx = ctx
        self.guard = CtxGuard(ctx, keep=ordinal == 0)
        self.events = _commands.EventPool(self.guard)   # the Signals' events
        self._arch = None

    def arch(self) -> str:
        """The cubin architecture to compile for (the device's own where NVRTC has it)."""
        if self._arch is None:
            major, minor = (int(x) for x in self.info.version.split()[-1].split("."))
            arch = nvrtc.pick_arch(major, minor)
            if arch is None:
                raise BackendUnavailableError(
                    f"NVRTC {'.'.join(map(str, nvrtc.nvrtc_version()))} cannot build cubins for "
                    f"{self.info.name} (compute capability {major}.{minor}); supported: "
                    f"{', '.join(f'sm_{a}' for a in nvrtc.supported_archs())}")
            self._arch = arch
        return self._arch


class _Queue:
    def __init__(self, device: int, stream):
        self.device = device          # position in the context's devices
        self.own_stream = stream      # created (and destroyed) by the context
        self.stream = stream          # what work goes to: own_stream or an external one
        # whether begin_capture started a capture of own_stream (kept here, so a submit
        # need not ask the driver; external streams are asked: see _commands.capturing)
        self.own_capturing = False
        self.lock = threading.RLock()
        self.staging = _staging.Staging()


class CudaRuntime(Runtime):
    name = "cuda"
    codegen_target = "cuda"

    def __init__(self):
        try:
            (err,) = driver.cuInit(0)
        except Exception as exc:  # libcuda missing: no NVIDIA driver on this machine
            raise BackendUnavailableError(f"the CUDA driver library could not be loaded "
                                          f"({type(exc).__name__}: {exc})") from exc
        if err:
            raise BackendUnavailableError(f"cuInit failed with {err.name}")
        count = check(driver.cuDeviceGetCount(), "cuDeviceGetCount")
        if count == 0:
            raise BackendUnavailableError("the CUDA driver reports no device")
        self._count = int(count)
        self._devices = None

    def devices(self) -> list:
        if self._devices is None:
            self._devices = [device_info(i) for i in range(self._count)]
        return list(self._devices)

    def create_context(self, device_indices: Sequence[int], queue_counts: Sequence[int],
                       debug: bool = False) -> "CudaContext":
        return CudaContext(self, device_indices, queue_counts, debug)


class CudaGraphExec(CapturedGraph):
    """An instantiated CUDA graph captured from a queue; replayed on that queue."""

    def __init__(self, ctx, exec_, queue: int):
        self.ctx, self.exec, self.queue = ctx, exec_, queue

    def launch(self):
        q = self.ctx._queue(self.queue)
        if self.exec is None:
            raise UseAfterFreeError("this CUDA graph was destroyed")
        dev = self.ctx._devices[q.device]
        with q.lock, dev.guard:
            check(driver.cuGraphLaunch(self.exec, q.stream), "cuGraphLaunch")
            return _commands.signal_after(q, dev.events)

    def destroy(self) -> None:
        exec_, self.exec = self.exec, None
        if exec_ is not None:
            with self.ctx._guard(self.queue):
                quiet(driver.cuGraphExecDestroy(exec_))
            self.ctx._graphs.discard(self)


class CudaContext(RuntimeContext):
    """Primary contexts of the chosen devices and `queue_counts[i]` non-blocking streams
    on device i; queues are numbered across devices in order."""

    capabilities = Capabilities(dlpack_device_type=DLPACK_CUDA, cuda_stream=True,
                                external_streams=True, cuda_array_interface=True,
                                external_memory=True, graph_capture=True, native_api="cuda",
                                memory_fd_import=True, semaphore_fd_import=True,
                                shareable_allocations=True)
    honoured_options = ("build_flags",)   # NVRTC options

    def __init__(self, runtime: CudaRuntime, device_indices: Sequence[int],
                 queue_counts: Sequence[int], debug: bool = False):
        infos = runtime.devices()
        device_indices = [int(i) for i in device_indices]
        queue_counts = [int(n) for n in queue_counts]
        if not device_indices or len(device_indices) != len(queue_counts):
            raise ValueError(f"give one queue count per device: device_indices={device_indices}, "
                             f"queue_counts={queue_counts}")
        for i in device_indices:
            if not 0 <= i < len(infos):
                raise ValueError(f"device index must be in 0..{len(infos) - 1}, got {i}")
        if len(set(device_indices)) != len(device_indices):
            raise ValueError(f"device indices must be distinct, got {device_indices}")
        if min(queue_counts) < 1:
            raise ValueError(f"every queue count must be at least 1, got {queue_counts}")
        self.runtime = runtime
        self.debug = debug
        self.devices = [infos[i] for i in device_indices]
        self.queue_device = []
        self._devices = []
        self._queues = []
        self._buffers = set()
        self._images = set()
        self._programs = set()
        self._lists = set()
        self._graphs = set()
        self._semaphores = set()
        self.free_epoch = 0     # bumped by every free: command lists re-check their refs
        # frees asked for while a queue's stream is captured, done when no capture is on:
        # cuMemFree (cuArrayDestroy) synchronizes, which invalidates the capture
        self._deferred = []     # (free function, handle)
        self._deferred_lock = threading.Lock()
        try:
            for pos, (i, n) in enumerate(zip(device_indices, queue_counts)):
                cudev = check(driver.cuDeviceGet(i), "cuDeviceGet", f"device {i}")
                ctx = check(driver.cuDevicePrimaryCtxRetain(cudev), "cuDevicePrimaryCtxRetain")
                dev = _Device(self.devices[pos], cudev, ctx, i)
                self._devices.append(dev)
                with dev.guard:
                    for _ in range(n):
                        flags = driver.CUstream_flags.CU_STREAM_NON_BLOCKING
                        stream = check(driver.cuStreamCreate(flags), "cuStreamCreate")
                        self._queues.append(_Queue(pos, stream))
                        self.queue_device.append(pos)
        except BaseException:
            self.destroy()
            raise

    def __repr__(self) -> str:
        names = ", ".join(d.name for d in self.devices)
        return f"<CudaContext {names}: {self.queue_count} queues{', destroyed' if self.destroyed else ''}>"

    # ------------------------------------------------------------------ helpers

    def _queue(self, queue: int) -> _Queue:
        return self._queues[self._check_queue(queue)]

    def _guard(self, queue: int) -> CtxGuard:
        return self._devices[self._queues[queue].device].guard

    def stream_handle(self, queue: int) -> int:
        """The CUstream (as an int) work on `queue` goes to, e.g. for
        __cuda_array_interface__'s "stream" or a torch.cuda.ExternalStream."""
        return int(self._queue(queue).stream)

    def set_external_stream(self, queue: int, stream_handle: Optional[int]) -> None:
        """Send `queue`'s work to a caller's CUstream (an int handle, e.g. CuPy's
        `stream.ptr` or PyTorch's `stream.cuda_stream`) so it orders with that library's
        work; None returns to the queue's own stream. The context never destroys an
        external stream. Work on the new stream is ordered after work already on the
        previous one (through an event, without blocking the host)."""
        q = self._queue(queue)
        with q.lock, self._guard(queue):
            new = q.own_stream if stream_handle is None else driver.CUstream(int(stream_handle))
            if int(new) == int(q.stream):
                return
            if not (_commands.capturing(q) or _commands._capturing(new)):
                # order the new stream after the old one without blocking the host; a
                # capture may not wait on outside events, and work put into a caller's
                # capture belongs to their graph, not to this order
                event = check(driver.cuEventCreate(_commands._NO_TIMING), "cuEventCreate")
                try:
                    check(driver.cuEventRecord(event, q.stream), "cuEventRecord")
                    check(driver.cuStreamWaitEvent(new, event, 0), "cuStreamWaitEvent")
                finally:
                    driver.cuEventDestroy(event)
            q.stream = new

    def wait_for_stream(self, stream_handle: int, queue: int = 0) -> None:
        """Order `queue`'s later work after what is already on a caller's CUstream
        (an event recorded there, waited for on the GPU, not the host)."""
        q = self._queue(queue)
        with q.lock, self._guard(queue):
            other = driver.CUstream(int(stream_handle))
            event = check(driver.cuEventCreate(_commands._NO_TIMING), "cuEventCreate")
            try:
                check(driver.cuEventRecord(event, other), "cuEventRecord")
                check(driver.cuStreamWaitEvent(q.stream, event, 0), "cuStreamWaitEvent")
            finally:
                driver.cuEventDestroy(event)

    def order_stream_after(self, stream_handle: int, queue: int = 0) -> None:
        """Order a caller's CUstream's later work after what is already on `queue` (an
        event recorded on the queue, waited for on the GPU). Skipped while either is
        captured: a capture may not wait on outside events."""
        q = self._queue(queue)
        with q.lock, self._guard(queue):
            other = driver.CUstream(int(stream_handle))
            if _commands.capturing(q) or _commands._capturing(other):
                return
            event = check(driver.cuEventCreate(_commands._NO_TIMING), "cuEventCreate")
            try:
                check(driver.cuEventRecord(event, q.stream), "cuEventRecord")
                check(driver.cuStreamWaitEvent(other, event, 0), "cuStreamWaitEvent")
            finally:
                driver.cuEventDestroy(event)

    @contextlib.contextmanager
    def native_queue(self, queue: int):
        """The CUstream (an int) `queue`'s work goes to, with its device's context current
        and the queue's lock held (no other launch or copy in between, as a capture needs)."""
        q = self._queue(queue)
        with q.lock, self._guard(queue):
            yield int(q.stream)

    def native_memory(self, handle) -> int:
        return self.device_pointer(handle)

    # ------------------------------------------------------------------ CUDA graphs

    def queue_capturing(self, queue: int) -> bool:
        # every graph submit asks: a valid index skips the checks of _queue
        q = (self._queues[queue] if type(queue) is int and 0 <= queue < len(self._queues)
             else self._queue(queue))
        return _commands.capturing(q)

    def begin_capture(self, queue: int = 0) -> None:
        """Start capturing `queue`'s stream: its work is recorded, not run, until
        end_capture (thread-local mode, so other threads keep working)."""
        q = self._queue(queue)
        with q.lock, self._guard(queue):
            check(driver.cuStreamBeginCapture(q.stream, _commands._THREAD_LOCAL),
                  "cuStreamBeginCapture")
            if q.stream is q.own_stream:
                q.own_capturing = True

    def end_capture(self, queue: int = 0) -> "CudaGraphExec":
        """Stop capturing and instantiate what was captured."""
        q = self._queue(queue)
        try:
            with q.lock, self._guard(queue):
                try:
                    graph = check(driver.cuStreamEndCapture(q.stream), "cuStreamEndCapture")
                finally:
                    if q.stream is q.own_stream:   # a failed end may or may not end it
                        q.own_capturing = _commands._capturing(q.own_stream)
                try:
                    exec_ = check(driver.cuGraphInstantiate(graph, 0), "cuGraphInstantiate")
                finally:
                    quiet(driver.cuGraphDestroy(graph))
        finally:
            self._free_deferred()
        g = CudaGraphExec(self, exec_, queue)
        self._graphs.add(g)
        return g

    def memory_info(self, device: int = 0) -> tuple:
        """(free, total) bytes of device memory (cuMemGetInfo) of device position `device`."""
        self._check_alive()
        with self._devices[device].guard:
            free, total = check(driver.cuMemGetInfo(), "cuMemGetInfo")
        return int(free), int(total)

    # ------------------------------------------------------------------ buffers

    def buffer_alloc(self, queue: int, nbytes: int, memory: str = "device") -> CudaBuffer:
        q = self._queue(queue)
        info = self.devices[q.device]
        # pinned host memory is not bounded by the device's memory
        nbytes = check_alloc(nbytes, memory, None if memory == "host" else info.max_allocation_size,
                             "its memory (cuDeviceTotalMem)", info.name)
        with self._guard(queue):
            ptr, host = _memory.alloc(nbytes, memory)
        buf = CudaBuffer(ptr, nbytes, queue, q.device, memory, host_ptr=host)
        self._buffers.add(buf)
        return buf

    def wrap_device_pointer(self, ptr: int, nbytes: int, owner: object, queue: int = 0) -> CudaBuffer:
        """A handle over memory someone else allocated (CuPy, PyTorch, ...): never freed
        by vkdispatch; keeps `owner` alive until freed or the context is destroyed."""
        q = self._queue(queue)
        ptr, nbytes = int(ptr), int(nbytes)
        if nbytes < 0:
            raise InvalidArgumentError(f"nbytes must be non-negative, got {nbytes}")
        if ptr == 0 and nbytes:
            raise InvalidArgumentError("ptr is NULL but nbytes is not 0")
        if ptr:
            with self._guard(queue):
                ordinal = _memory.pointer_device_ordinal(ptr)
            if ordinal != self.devices[q.device].index:
                raise InvalidArgumentError(f"pointer 0x{ptr:x} is on CUDA device {ordinal}, but queue "
                                 f"{queue} runs on device {self.devices[q.device].index}")
        buf = CudaBuffer(ptr, nbytes, queue, q.device, "device", owned=False, owner=owner)
        self._buffers.add(buf)
        return buf

    def import_memory_fd(self, queue: int, fd: int, allocation_size: int, nbytes: int,
                         memory_type_index: int = 0, offset: int = 0,
                         dedicated: bool = True) -> CudaBuffer:
        """A buffer over `nbytes` at `offset` of memory another API (Vulkan) exported as
        an OPAQUE_FD; freed (unmapped, the import destroyed) like an allocation. The
        memory type index is the exporter's business."""
        q = self._queue(queue)
        if not (0 <= int(offset) and 0 <= int(nbytes)
                and int(offset) + int(nbytes) <= int(allocation_size)):
            raise InvalidArgumentError(f"offset {offset} + nbytes {nbytes} must lie in "
                                       f"[0, allocation_size={allocation_size}]")
        with self._guard(queue):
            ptr, external = _memory.import_fd(fd, allocation_size, nbytes, offset, dedicated)
        buf = CudaBuffer(ptr, int(nbytes), queue, q.device, "device")
        buf.external = external
        self._buffers.add(buf)
        return buf

    def buffer_alloc_shareable(self, queue: int, nbytes: int) -> CudaBuffer:
        """A buffer in a cuMemCreate allocation of its own (POSIX file-descriptor handles,
        size rounded up to the allocation granularity), which Vulkan imports through
        export_shareable_fd. Freed (after the device's work) like any buffer."""
        q = self._queue(queue)
        info = self.devices[q.device]
        nbytes = check_alloc(nbytes, "device", info.max_allocation_size,
                             "its memory (cuDeviceTotalMem)", info.name)
        with self._guard(queue):
            allocation = _shareable.create(nbytes, info.index)
        buf = CudaBuffer(allocation.base, nbytes, queue, q.device, "device")
        buf.shareable = allocation
        self._buffers.add(buf)
        return buf

    def _shareable(self, handle) -> CudaBuffer:
        """`handle`, its exportable allocation found (ExternalMemoryError where none)."""
        self._check_alive()
        if not isinstance(handle, CudaBuffer):
            raise TypeError(f"handle must be a CudaBuffer, got {type(handle).__name__}")
        if handle.freed:
            raise UseAfterFreeError(f"{handle!r} was freed")
        if handle.shareable is None:
            with self._devices[handle.device].guard:
                handle.shareable = _shareable.locate(handle.ptr, handle.nbytes)
        return handle

    def shareable_info(self, handle) -> MemoryExport:
        buf = self._shareable(handle)
        a = buf.shareable
        return MemoryExport(a.memory_id, a.size, buf.ptr - a.base, 0, False)

    def export_shareable_fd(self, handle) -> int:
        buf = self._shareable(handle)
        with self._devices[buf.device].guard:
            return _shareable.export_fd(buf.shareable)

    # ------------------------------------------------------------------ semaphores

    def import_semaphore_fd(self, fd: int, queue: int = 0) -> "_memory.CudaSemaphore":
        """A timeline semaphore another API (Vulkan) exported as an OPAQUE_FD, on
        `queue`'s device; the driver owns `fd` once this returns."""
        q = self._queue(queue)
        with self._guard(queue):
            sem = _memory.import_semaphore(fd, q.device)
        self._semaphores.add(sem)
        return sem

    def semaphore_free(self, handle) -> None:
        """Idempotent. Work already enqueued that uses it keeps its reference."""
        if self._unlist(self._semaphores, handle, _memory.CudaSemaphore):
            with self._devices[handle.device].guard:
                _memory.destroy_semaphore(handle)

    def _semaphore_stream(self, queue: int, handle):
        q = self._queue(queue)
        if not isinstance(handle, _memory.CudaSemaphore):
            raise TypeError(f"handle must be a CudaSemaphore, got {type(handle).__name__}")
        if handle.freed:
            raise UseAfterFreeError(f"{handle!r} was freed")
        if handle.device != q.device:
            raise InvalidArgumentError(f"{handle!r} belongs to another device than queue {queue}")
        return q

    def queue_signal_semaphore(self, queue: int, handle, value: int) -> None:
        q = self._semaphore_stream(queue, handle)
        with q.lock, self._guard(queue):
            _memory.signal_semaphore(handle, int(value), q.stream)

    def queue_wait_semaphore(self, queue: int, handle, value: int) -> None:
        q = self._semaphore_stream(queue, handle)
        with q.lock, self._guard(queue):
            _memory.wait_semaphore(handle, int(value), q.stream)

    def _unlist(self, table: set, handle, kind) -> bool:
        """Forget a live handle (False: freed already); command lists check theirs again."""
        if not isinstance(handle, kind):
            raise TypeError(f"handle must be a {kind.__name__}, got {type(handle).__name__}")
        if handle.freed or handle not in table:
            return False
        table.discard(handle)
        self.free_epoch += 1
        return True

    def buffer_free(self, handle: CudaBuffer) -> None:
        if self._unlist(self._buffers, handle, CudaBuffer):
            self._free_now_or_after_capture(_memory.free, handle)

    def _free_now_or_after_capture(self, free, handle) -> None:
        if any(q.own_capturing for q in self._queues):
            with self._deferred_lock:
                self._deferred.append((free, handle))
            return
        self._free_in(free, handle)

    def _free_in(self, free, handle) -> None:
        with self._devices[handle.device].guard:
            free(handle)

    def _free_deferred(self) -> None:
        """The frees asked for during captures, once none is on."""
        if any(q.own_capturing for q in self._queues):
            return
        with self._deferred_lock:
            deferred, self._deferred = self._deferred, []
        for free, handle in deferred:
            self._free_in(free, handle)

    def device_pointer(self, handle) -> int:
        """The device address of a buffer or (buffer, offset, size) view."""
        self._check_alive()
        return _memory.resolve(handle)[1]

    def buffer_write(self, handle, data, offset: int = 0) -> None:
        self._check_alive()
        buf, ptr, size = _memory.resolve(handle)
        src = host_bytes(data, "data")
        check_range(int(offset), src.nbytes, size, "write")
        q = self._queue(buf.queue)
        if src.nbytes == 0:
            return
        with q.lock, self._guard(buf.queue):
            if self._staged(q, buf, src.nbytes):
                q.staging.write(q.stream, ptr + int(offset), src)
            else:
                check(driver.cuMemcpyHtoDAsync(ptr + int(offset), src, src.nbytes, q.stream),
                      "cuMemcpyHtoDAsync", f"{src.nbytes} bytes")
            # the caller may reuse `data` at once, and a pageable source is only
            # guaranteed to be read when the stream reaches the copy
            check(driver.cuStreamSynchronize(q.stream), "cuStreamSynchronize")

    @staticmethod
    def _staged(q: _Queue, buf: CudaBuffer, nbytes: int) -> bool:
        """Large copies to device memory go through the pinned lanes, except while the
        stream is captured (the driver's own copy then reports the capture error)."""
        return (nbytes >= _staging.STAGED_MIN and not buf.host_ptr
                and not _commands.capturing(q))

    def buffer_read(self, handle, nbytes: int, offset: int = 0, out=None) -> memoryview:
        self._check_alive()
        buf, ptr, size = _memory.resolve(handle)
        nbytes, offset = int(nbytes), int(offset)
        check_range(offset, nbytes, size, "read")
        dst = out_bytes(out, nbytes)
        q = self._queue(buf.queue)
        if nbytes:
            with q.lock, self._guard(buf.queue):
                if self._staged(q, buf, nbytes):
                    q.staging.read(q.stream, ptr + offset, dst)
                else:
                    check(driver.cuMemcpyDtoHAsync(dst, ptr + offset, nbytes, q.stream),
                          "cuMemcpyDtoHAsync", f"{nbytes} bytes")
                check(driver.cuStreamSynchronize(q.stream), "cuStreamSynchronize")
        return dst

    # ------------------------------------------------------------------ images

    def image_alloc(self, queue: int, extent: tuple, layers: int, dtype: str, channels: int,
                    dim=None, arrayed=None, levels: int = 1):
        if check_levels(levels, image_shape(extent, layers, dim)[0]) > 1:
            raise UnsupportedFeatureError(f"the cuda backend has no mipmapped images "
                                          f"(capabilities.mipmapped_images is False; {levels} "
                                          f"levels asked)")
        q = self._queue(queue)
        with self._guard(queue):
            img = _image.create(queue, q.device, extent, layers, dtype, channels, dim, arrayed)
        self._images.add(img)
        return img

    def image_free(self, handle) -> None:
        if self._unlist(self._images, handle, _image.CudaImage):
            self._free_now_or_after_capture(_image.destroy, handle)

    def _image_copy(self, img, data, layer: int, to_device: bool) -> None:
        if not isinstance(img, _image.CudaImage):
            raise TypeError(f"handle must be a CudaImage, got {type(img).__name__}")
        self._check_alive()
        if img.freed:
            raise UseAfterFreeError(f"{img!r} was freed")
        host = layer_view(data, img.layer_bytes, writable=not to_device)
        layer = check_layer(layer, img.layers)
        q = self._queue(img.queue)
        # keep a numpy view alive across the copy: the descriptor holds a raw address
        arr = np.frombuffer(host, np.uint8)
        with q.lock, self._guard(img.queue):
            _image.copy(img, arr.ctypes.data, layer, q.stream, to_device)
            check(driver.cuStreamSynchronize(q.stream), "cuStreamSynchronize")

    def image_write(self, handle, data, layer: int = 0, level: int = 0) -> None:
        check_level(level, 1)
        self._image_copy(handle, data, layer, True)

    def image_read(self, handle, out, layer: int = 0, level: int = 0) -> None:
        check_level(level, 1)
        self._image_copy(handle, out, layer, False)

    def sampler_create(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                       normalized: bool = True, **details):
        desc = sampler_desc(filter, address_mode, normalized, details)
        self._check_alive()
        return _image.make_sampler(desc)

    def sampler_free(self, handle) -> None:
        """Samplers are descriptions; their texture objects live with the images."""
        if not isinstance(handle, _image.CudaSampler):
            raise TypeError(f"handle must be a CudaSampler, got {type(handle).__name__}")

    # ------------------------------------------------------------------ programs, commands

    def _create_program(self, source: str, info: ProgramInfo, options) -> CudaProgram:
        return CudaProgram(self, source, info, options.build_flags)

    def _command_list(self, queue: int, timestamps: bool,
                      hazard_tracking: bool) -> CudaCommandList:
        # a stream runs launches in order; there are no barriers to drop
        return CudaCommandList(self, queue, timestamps=timestamps)

    def queue_wait_idle(self, queue: Optional[int] = None) -> None:
        self._check_alive()
        queues = range(len(self._queues)) if queue is None else [queue]
        for i in queues:
            q = self._queue(i)
            # under the lock: synchronizing a stream another thread is capturing is an error
            with q.lock, self._guard(i):
                check(driver.cuStreamSynchronize(q.stream), "cuStreamSynchronize")

    # ------------------------------------------------------------------ teardown

    def destroy(self) -> None:
        """Wait for the queues, then free everything still alive and release the primary
        contexts. Idempotent; keeps going past failures so nothing is left behind."""
        if self.destroyed:
            return
        self.destroyed = True
        for i, q in enumerate(self._queues):
            self._quietly(lambda: self._sync(i, q), "synchronizing a stream")
        for cl in list(self._lists):
            self._quietly(cl.destroy, "destroying a command list")
        for g in list(self._graphs):
            self._quietly(g.destroy, "destroying a CUDA graph")
        for dev in self._devices:   # the streams are idle: every signal is done
            self._quietly(dev.events.close, "destroying events")
        for program in list(self._programs):
            self._quietly(program.destroy, "unloading a module")
        for img in list(self._images):
            self._quietly(lambda: self._free_image(img), "freeing an image")
        for buf in list(self._buffers):
            self._quietly(lambda: self._free_buffer(buf), "freeing a buffer")
        for free, handle in self._deferred:
            self._quietly(lambda: self._free_in(free, handle),
                          "freeing memory released during a capture")
        for sem in list(self._semaphores):
            self._quietly(lambda: self.semaphore_free(sem), "destroying a semaphore")
        for q in self._queues:
            dev = self._devices[q.device]
            self._quietly(lambda: self._destroy_stream(dev, q), "destroying a stream")
        for dev in self._devices:
            quiet(driver.cuDevicePrimaryCtxRelease(dev.cudev))
            self._quietly(lambda: dev.guard.forget(dev.cudev), "clearing the current context")
        self._queues.clear()
        self._devices.clear()

    def _sync(self, i: int, q: _Queue) -> None:
        with self._devices[q.device].guard:
            check(driver.cuStreamSynchronize(q.stream), "cuStreamSynchronize")

    def _free_image(self, img) -> None:
        self._images.discard(img)
        with self._devices[img.device].guard:
            _image.destroy(img)

    def _free_buffer(self, buf) -> None:
        self._buffers.discard(buf)
        with self._devices[buf.device].guard:
            _memory.free(buf)

    @staticmethod
    def _destroy_stream(dev: _Device, q: _Queue) -> None:
        with dev.guard:
            q.staging.free()
            check(driver.cuStreamDestroy(q.own_stream), "cuStreamDestroy")

    @staticmethod
    def _quietly(fn, what: str) -> None:
        try:
            fn()
        except Exception as exc:
            logger.warning("CUDA context teardown: %s failed: %s", what, exc)
