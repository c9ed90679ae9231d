"""`vd.Buffer`: typed device memory that exists on every queue of the context."""
from __future__ import annotations

import math
import threading
from typing import Optional

import numpy as np

from . import dtype as dt
from . import stats
from .context import Context, get_context
from .errors import UseAfterFreeError

MEMORY_KINDS = ("device", "host", "shared")

# Called before host access so all recorded work runs first. Upper layers register
# themselves (base never imports them) at a stage, and stages run in this order
# whatever the import order: a lazy layer turns its pending operations into graph
# records ("record") before the command graphs are submitted ("submit").
HOST_ACCESS_STAGES = ("record", "submit")
_before_host_access: dict = {stage: [] for stage in HOST_ACCESS_STAGES}


def register_before_host_access(fn, stage: str = "submit") -> None:
    """Run `fn()` before every host access of device memory, at `stage` (one of
    HOST_ACCESS_STAGES)."""
    if stage not in _before_host_access:
        raise ValueError(f"stage must be one of {HOST_ACCESS_STAGES}, got {stage!r}")
    hooks = _before_host_access[stage]
    if fn not in hooks:
        hooks.append(fn)


_flushing = threading.local()


def flush_pending() -> None:
    _flushing.depth = getattr(_flushing, "depth", 0) + 1
    try:
        for stage in HOST_ACCESS_STAGES:
            for fn in _before_host_access[stage]:
                fn()
    finally:
        _flushing.depth -= 1


def flushing() -> bool:
    """Whether this thread is inside flush_pending (its hooks)."""
    return getattr(_flushing, "depth", 0) > 0


# Importers of objects that carry a memory protocol asbuffer knows (attribute name ->
# fn(obj, dtype, memory) -> Buffer), registered by interop (base never imports it).
_protocol_importers: dict = {}


def register_importer(protocol: str, fn) -> None:
    """Let asbuffer import objects that have attribute `protocol` with `fn`."""
    _protocol_importers[protocol] = fn


# Exporters of the memory protocols interop implements (e.g. "__dlpack__" ->
# fn(buffer, **keywords)), registered by interop (base never imports it).
_protocol_exporters: dict = {}


def register_exporter(protocol: str, fn) -> None:
    """Let Buffer's `protocol` method (e.g. "__dlpack__") call `fn(buffer, ...)`."""
    _protocol_exporters[protocol] = fn


def _exporter(protocol: str):
    try:
        return _protocol_exporters[protocol]
    except KeyError:
        raise BufferError(f"{protocol} needs vkdispatch.interop (import vkdispatch)") from None


# `vd.Buffer[dtype]` as a shader parameter annotation: the shader layer registers the
# function that makes its parameter type (base never imports codegen)
_annotation = None


def register_annotation(fn) -> None:
    global _annotation
    _annotation = fn


# more elements than this cannot be addressed by any device (and overflow int64 sizes)
MAX_ELEMENTS = 1 << 56


def _normalize_shape(shape) -> tuple:
    """`shape` as a tuple of non-negative Python ints (integers only: no strings, floats
    or bools) whose product is addressable."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
    out = []
    for s in shape:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
        out.append(int(s))
    shape = tuple(out)
    if any(s < 0 for s in shape):
        raise ValueError(f"shape entries must be non-negative, got {shape}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"shape {shape} has {math.prod(shape)} elements, more than any "
                         f"device can address ({MAX_ELEMENTS})")
    return shape


class Buffer:
    """A typed array in device memory, one copy per queue of the context.

    Buffer(shape, dtype=vd.float32, memory="device"): memory is "device" (device-local),
    "host" (host-visible, for data the CPU touches every step) or "shared" (device-local
    and host-visible where the device has it). The contents start undefined, like
    numpy.empty: write or fill before reading."""

    is_writable = True   # False: wraps a read-only array (host writes raise)

    def __init__(self, shape, dtype=dt.float32, memory: str = "device",
                 context: Optional[Context] = None, var_type=None):
        if var_type is not None:   # vkdispatch 0.1's name
            if dtype is not dt.float32 and dt.to_dtype(dtype) is not dt.to_dtype(var_type):
                raise TypeError(f"give dtype or var_type (0.1's name), not both: got dtype="
                                f"{dtype!r} and var_type={var_type!r}")
            dtype = var_type
        self.shape = _normalize_shape(shape)
        self.dtype = dt.to_dtype(dtype)
        if self.dtype.base is dt.bool_ and not self.dtype.is_scalar:
            raise TypeError("buffers of bool vectors are not supported; use uint32 vectors")
        if memory not in MEMORY_KINDS:
            raise ValueError(f"memory must be one of {MEMORY_KINDS}, got {memory!r}")
        self.memory = memory
        self.context = context or get_context()
        self.size = math.prod(self.shape)
        self.nbytes = self.size * self.dtype.itemsize
        self.offset = 0            # bytes into the allocation (views)
        self._base: Optional[Buffer] = None
        self._handles: list = []
        self._lock = threading.Lock()
        rctx = self.context.runtime_context
        try:
            for q in range(self.context.queue_count):
                self._handles.append(rctx.buffer_alloc(q, max(self.nbytes, 16), memory))
        except BaseException:
            self._release()
            raise
        self.context.register(self)

    @classmethod
    def _wrap(cls, context: Context, shape: tuple, dtype, handles: list) -> "Buffer":
        """A Buffer over runtime handles made elsewhere (zero-copy imports)."""
        buf = cls.__new__(cls)
        buf.shape = _normalize_shape(shape)
        buf.dtype = dt.to_dtype(dtype)
        buf.memory = "device"
        buf.context = context
        buf.size = math.prod(buf.shape)
        buf.nbytes = buf.size * buf.dtype.itemsize
        buf.offset = 0
        buf._base = None
        buf._handles = list(handles)
        buf._lock = threading.Lock()
        context.register(buf)
        return buf

    def __class_getitem__(cls, dtype):
        """`vd.Buffer[vd.float32]`: a shader parameter annotation, like Buff[f32]."""
        if _annotation is None:
            raise TypeError("vd.Buffer[...] annotations need the shader layer (import "
                            "vkdispatch)")
        return _annotation(dtype)

    # ------------------------------------------------------------ vkdispatch 0.1's names
    var_type = property(lambda self: self.dtype)
    mem_size = property(lambda self: self.nbytes)

    @property
    def shader_shape(self) -> tuple:
        """(shape padded with 1s to 3 axes, element count), as 0.1's shaders saw it."""
        if len(self.shape) > 3:
            raise ValueError(f"shader_shape describes buffers of at most 3 axes (vkdispatch "
                             f"0.1's limit); this one has shape {self.shape}")
        padded = self.shape + (1,) * (3 - len(self.shape))
        return padded + (self.size,)

    # ------------------------------------------------------------------ interop
    def __array__(self, dtype=None, copy=None):
        """numpy sees the contents of queue 0 (always a copy)."""
        if copy is False:
            raise ValueError("a vd.Buffer lives in device memory; numpy needs a copy")
        out = self.read(0)
        return out if dtype is None else out.astype(dtype)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of queue 0's memory (DLPack 1.0; vkdispatch.interop.dlpack)."""
        return _exporter("__dlpack__")(self, stream=stream, max_version=max_version,
                                       dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple:
        """(DLPack device type, device id) of this buffer's memory."""
        return _exporter("__dlpack_device__")(self)

    @property
    def __cuda_array_interface__(self) -> dict:
        """Version 3 of the CUDA Array Interface (CUDA backend only): CuPy, PyTorch and
        Numba see this buffer's memory on queue 0 without a copy."""
        ctx = self.context
        rctx = ctx.runtime_context
        if not rctx.capabilities.cuda_array_interface:
            # AttributeError: consumers then look for other protocols
            raise AttributeError(f"__cuda_array_interface__ needs a runtime with CUDA device "
                                 f"pointers (the CUDA backend); the active backend is "
                                 f"{ctx.backend!r}")
        self._check_alive()
        flush_pending()   # recorded work must be in the stream the consumer orders after
        stream = rctx.stream_handle(0) if rctx.capabilities.cuda_stream else 0
        if rctx.capabilities.external_streams:
            # consumers that ignore "stream" (version 2 readers) mostly work on the
            # legacy default stream: order it after this buffer's work too
            rctx.order_stream_after(1, 0)
        return {
            "shape": self.numpy_shape,
            "typestr": dt.storage_numpy_dtype(self.dtype).str,
            "data": (rctx.device_pointer(self._handles[0]) + self.offset, False),
            "strides": None,
            "version": 3,
            "stream": stream or 1,   # 1: the legacy default stream, per the spec
        }

    # ------------------------------------------------------------------ views
    @classmethod
    def _view(cls, base: "Buffer", byte_offset: int, shape: tuple) -> "Buffer":
        view = cls.__new__(cls)
        view.shape = shape
        view.dtype = base.dtype
        view.memory = base.memory
        view.context = base.context
        view.size = math.prod(shape)
        view.nbytes = view.size * base.dtype.itemsize
        view.offset = base.offset + byte_offset
        view._base = base._base or base
        view._handles = base._handles
        view._lock = base._lock
        view.is_writable = base.is_writable
        return view

    def view(self, start: int = 0, shape=None) -> "Buffer":
        """A buffer sharing this one's memory from element `start` (no copy). `shape`
        defaults to the rest of the buffer, flattened."""
        if not isinstance(start, (int, np.integer)) or not 0 <= start <= self.size:
            raise IndexError(f"start must be an int in [0, {self.size}], got {start!r}")
        shape = (self.size - int(start),) if shape is None else _normalize_shape(shape)
        n = math.prod(shape)
        if start + n > self.size:
            raise ValueError(f"a view of {n} elements from {start} exceeds the buffer's "
                             f"{self.size} elements")
        return Buffer._view(self, int(start) * self.dtype.itemsize, shape)

    def reshape(self, shape) -> "Buffer":
        shape = _normalize_shape(shape)
        if math.prod(shape) != self.size:
            raise ValueError(f"cannot reshape a buffer of {self.size} elements to {shape}")
        return Buffer._view(self, 0, shape)

    @property
    def is_view(self) -> bool:
        return self._base is not None

    # ------------------------------------------------------------------ host access
    @property
    def numpy_shape(self) -> tuple:
        return self.shape + self.dtype.numpy_shape

    def _check_alive(self):
        base = self._base or self
        if not base._handles:
            raise UseAfterFreeError("this buffer has been destroyed")

    def handle(self, queue: int):
        """The runtime's handle for `queue` (a (handle, offset, size) tuple for views)."""
        self._check_alive()
        h = self._handles[queue]
        if self.offset or self._base is not None:
            return (h, self.offset, self.nbytes)
        return h

    def allocation(self, queue: int):
        """The runtime's whole allocation for `queue` (a view's offset not applied)."""
        self._check_alive()
        return self._handles[queue]

    def _queues(self, queue_index):
        if queue_index is None:
            return range(self.context.queue_count)
        return [self.context.check_queue(queue_index)]

    def write(self, data, queue_index: Optional[int] = None, index=None) -> None:
        """Copy `data` (array-like of this buffer's shape or size) into the buffer on
        every queue (or only `queue_index`; `index` is 0.1's name). Raw bytes (bytes,
        bytearray, memoryview) are copied as they are to the start of the buffer, and
        may be fewer than the buffer holds."""
        self._check_alive()
        if index is not None:
            if queue_index is not None:
                raise TypeError("give queue_index or index (0.1's name), not both")
            queue_index = index
        if not self.is_writable:
            raise ValueError("this buffer wraps a read-only array (from_cuda_array); it "
                             "cannot be written")
        if isinstance(data, (bytes, bytearray, memoryview)):
            arr = np.frombuffer(memoryview(data).cast("B"), np.uint8)
            if arr.size > self.nbytes:
                raise ValueError(f"data has {arr.size} bytes; the buffer holds {self.nbytes}")
        else:
            arr = _host_array(data, self.dtype, "data")
            want = self.size * int(np.prod(self.dtype.numpy_shape or (1,)))
            if arr.size != want:
                raise ValueError(f"data has {arr.size} values; a buffer of shape {self.shape} "
                                 f"and dtype {self.dtype.name} needs {want}")
        arr = np.ascontiguousarray(arr).reshape(-1)   # 1-D: memoryview casts no empty axes
        flush_pending()
        rctx = self.context.runtime_context
        queues = self._queues(queue_index)
        for q in queues:
            rctx.buffer_write(self._handles[q], memoryview(arr).cast("B"), self.offset)
        stats.count("bytes_to_device", arr.nbytes * len(queues))

    def read(self, queue_index: Optional[int] = None, index=None):
        """The contents as a numpy array of shape `shape + dtype's element shape`. With an
        index, the copy on that queue; without, a list with one array per queue.
        `index` is 0.1's name for queue_index."""
        if index is not None:
            if queue_index is not None:
                raise TypeError("give queue_index or index (0.1's name), not both")
            queue_index = index
        self._check_alive()
        if queue_index is None:
            return [self.read(q) for q in range(self.context.queue_count)]
        q = self.context.check_queue(queue_index)
        flush_pending()
        out = np.empty(self.numpy_shape, dtype=dt.storage_numpy_dtype(self.dtype))
        if self.nbytes:
            self.context.runtime_context.buffer_read(self._handles[q], self.nbytes, self.offset,
                                                     out=memoryview(out).cast("B"))
            stats.count("bytes_from_device", self.nbytes)
        if self.dtype is dt.bool_:
            return out != 0
        return out

    def read_elements(self, start: int, shape: tuple, queue_index: int = 0) -> np.ndarray:
        """Elements [start, start + prod(shape)) of the copy on `queue_index`, as a numpy
        array of `shape` (no view object made: the array layer's reads)."""
        self._check_alive()
        q = self.context.check_queue(queue_index)
        count = math.prod(shape)
        if not isinstance(start, (int, np.integer)) or not 0 <= start <= self.size - count:
            raise IndexError(f"elements [{start}, {start} + {count}) are outside this "
                             f"buffer's {self.size}")
        flush_pending()
        out = np.empty(tuple(shape) + self.dtype.numpy_shape,
                       dtype=dt.storage_numpy_dtype(self.dtype))
        if count:
            size = self.dtype.itemsize
            self.context.runtime_context.buffer_read(
                self._handles[q], count * size, self.offset + int(start) * size,
                out=memoryview(out).cast("B"))
            stats.count("bytes_from_device", count * size)
        if self.dtype is dt.bool_:
            return out.astype(bool)   # an array also for shape ()
        return out

    def fill(self, value) -> None:
        """Set every element to `value`."""
        arr = np.empty(self.numpy_shape, dtype=dt.storage_numpy_dtype(self.dtype))
        arr[...] = value
        self.write(arr)

    # ------------------------------------------------------------------ lifetime
    def _release(self) -> None:
        handles, self._handles = self._handles, []
        rctx = self.context.runtime_context
        for h in handles:
            try:
                rctx.buffer_free(h)
            except Exception:  # the context may already be gone at interpreter exit
                pass

    def destroy(self) -> None:
        """Free the device memory (idempotent); work recorded so far that uses it is
        submitted first, and the memory is reused once that work is done. Views of a
        destroyed buffer become invalid."""
        if self._base is not None:
            return
        if self._handles and not self.context.closing and not flushing():
            flush_pending()
        self._free_now()

    def _free_now(self) -> None:
        """Free without submitting recorded work (nothing recorded can use it)."""
        with self._lock:
            self._release()

    _destroy = destroy

    def __del__(self):
        try:
            if self._base is None and self._handles and not self.context.destroyed:
                self._release()
        except Exception:
            pass

    def __reduce__(self):
        raise TypeError("a vd.Buffer cannot be pickled: it is device memory owned by this "
                        "process's context; pickle buffer.read(0) (a numpy array) and "
                        "vd.asbuffer() it on the other side")

    def __repr__(self) -> str:
        state = "" if (self._base or self)._handles else " destroyed"
        return f"<vd.Buffer shape={self.shape} dtype={self.dtype.name}{state}>"

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1


def _numbers(data, what: str) -> np.ndarray:
    """`data` as a numpy array of numbers; TypeError naming `what` for None, strings and
    arrays of anything else (objects, strings)."""
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"{what} must be an array-like of numbers, got {type(data).__name__}")
    arr = np.asarray(data)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{what} must be an array-like of numbers; got an array of {arr.dtype}")
    return arr


def _host_array(data, dtype, what: str) -> np.ndarray:
    """`data` as a numpy array of `dtype`'s storage type, converted as NumPy's
    casting='same_kind' allows (and between signed and unsigned integers), and only
    when every value fits: no silent wrap-around, truncation or loss of the imaginary
    part."""
    storage = dt.storage_numpy_dtype(dtype)
    arr = _numbers(data, what)
    if dtype.name == "complex32" and arr.dtype.kind == "c":   # numpy has no complex32:
        arr = arr.astype(np.complex64).view(np.float32).reshape(arr.shape + (2,))  # pairs
    if arr.dtype == storage:
        return arr
    target = storage if not dtype.is_complex else np.dtype(np.complex128)
    integers = arr.dtype.kind in "iu" and storage.kind in "iu"   # the range check decides
    if not integers and not np.can_cast(arr.dtype, target, casting="same_kind"):
        raise TypeError(f"cannot write {arr.dtype} {what} to a {dtype.name} buffer without "
                        f"losing information (NumPy casting='same_kind'); convert it first, "
                        f"e.g. with .astype(numpy.{storage.name})")
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(storage)
    if storage.kind in "iu" and arr.size:
        info = np.iinfo(storage)
        if arr.min() < info.min or arr.max() > info.max:
            raise OverflowError(f"{what} has values outside {dtype.name}'s range "
                                f"[{info.min}, {info.max}] (min {arr.min()}, max {arr.max()})")
    elif storage.kind in "fc" and arr.size and arr.dtype.kind in "fc":
        if np.any(np.isinf(out) & np.isfinite(arr)):
            raise OverflowError(f"{what} has values too large for {dtype.name} "
                                f"(largest {np.finfo(storage).max:g})")
    return out


def asbuffer(array, dtype=None, memory: str = "device") -> Buffer:
    """Upload an array-like to a new Buffer. A vector dtype (vd.vec4, ...) takes the
    trailing axis of `array` as the components. An object with
    __cuda_array_interface__ (CuPy, PyTorch CUDA tensors, Numba) becomes a buffer over
    its memory where the runtime can wrap it (the CUDA backend), else a copy; so does
    a DLPack producer (__dlpack__)."""
    if not isinstance(array, (np.ndarray, np.generic)):   # numpy's are read below
        for protocol, importer in _protocol_importers.items():
            if hasattr(array, protocol):
                return importer(array, dtype, memory)
    arr = _numbers(array, "asbuffer's array")
    t = dt.from_numpy(arr.dtype) if dtype is None else dt.to_dtype(dtype)
    shape = arr.shape
    if t.numpy_shape:
        k = len(t.numpy_shape)
        if shape[len(shape) - k:] != t.numpy_shape:
            raise ValueError(f"an array for a {t.name} buffer needs trailing shape "
                             f"{t.numpy_shape}, got {shape}")
        shape = shape[:len(shape) - k]
    buf = Buffer(shape, t, memory)
    try:
        buf.write(arr)
    except BaseException:
        buf._free_now()
        raise
    return buf
