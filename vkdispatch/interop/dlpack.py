"""DLPack 1.0: `vd.Buffer.__dlpack__` / `__dlpack_device__` and `vd.from_dlpack`.

Export: on a runtime with device pointers (capabilities.cuda_array_interface, the CUDA
backend) the capsule shares the buffer's memory; a host copy is exported when
`dl_device` asks for the CPU, and also when no `dl_device` is given on a runtime
without device pointers (Vulkan, OpenCL memory has no address a DLPack consumer in
this process could use), so `np.from_dlpack(buffer)` works on every backend.

Import: producers on a device the runtime wraps (capabilities.external_memory, same
DLPack device type) are shared without a copy and kept alive; others are copied
through the host.

Vulkan on a GPU CUDA also reaches (cuda_peer.py): `dl_device=(kDLCUDA, i)` exports the
memory itself as CUDA memory, and CUDA producers come in without a host copy: their own
memory where it is a vkdispatch buffer's or an exportable allocation
(vkdispatch.interop.cupy.exportable_allocator), else a device-to-device copy.
"""
from __future__ import annotations

import math

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer, asbuffer, flush_pending, register_exporter, register_importer
from ..base.context import get_context
from . import _capsule
from ._capsule import IS_COPIED, READ_ONLY, Consumed, make_capsule
from .cuda_array_interface import asbuffer_cuda_array

CPU, CUDA = 1, 2
DEVICE_NAMES = {1: "CPU", 2: "CUDA", 3: "CUDA host", 4: "OpenCL", 7: "Vulkan", 8: "Metal",
                10: "ROCm", 11: "ROCm host", 13: "CUDA managed", 14: "oneAPI"}
_HOST_READABLE = (1, 3, 11, 13)   # devices whose memory numpy can read

# DLPack (code, bits, lanes) -> vkdispatch scalar type (bool is 4 bytes here, 1 in DLPack)
_FROM_CODE = {t.dlpack: t for t in dt.SCALARS if t is not dt.bool_}


def _device_name(device: tuple) -> str:
    return f"{DEVICE_NAMES.get(device[0], f'device type {device[0]}')}:{device[1]}"


def context_device(ctx) -> tuple:
    """(DLPack device type, device id) of the memory of queue 0 of context `ctx`."""
    rctx = ctx.runtime_context
    kind = rctx.capabilities.dlpack_device_type
    if kind is None:
        raise BufferError(f"the {ctx.backend} backend's buffers have no memory to exchange")
    return (int(kind), int(rctx.devices[rctx.queue_device[0]].index))


def buffer_device(buf: Buffer) -> tuple:
    """(DLPack device type, device id) of queue 0's memory of `buf`."""
    return context_device(buf.context)


def _check_device_arg(dl_device) -> tuple:
    if (not isinstance(dl_device, tuple) or len(dl_device) != 2
            or not all(isinstance(v, (int, np.integer)) for v in dl_device)):
        raise TypeError(f"dl_device must be None or a (device_type, device_id) tuple of "
                        f"ints, got {dl_device!r}")
    return (int(dl_device[0]), int(dl_device[1]))


def _versioned(max_version) -> bool:
    if max_version is None:
        return False
    if (not isinstance(max_version, tuple) or len(max_version) != 2
            or not all(isinstance(v, (int, np.integer)) for v in max_version)):
        raise TypeError(f"max_version must be None or a (major, minor) tuple of ints, got "
                        f"{max_version!r}")
    return max_version[0] >= 1


def _check_stream(stream) -> None:
    if stream is not None and (isinstance(stream, bool) or not isinstance(stream, int)
                               or stream == 0 or stream < -1):
        raise ValueError(f"stream must be None, -1, 1 (legacy default), 2 (per-thread "
                         f"default) or a CUstream handle; got {stream!r} (0 is ambiguous)")


def _hand_off(rctx, stream) -> None:
    """Make the consumer's CUDA stream wait for the buffer's pending work (DLPack:
    None means the legacy default stream, -1 no synchronization). A host copy needs
    none: it is complete when the capsule is made."""
    if stream == -1 or not rctx.capabilities.external_streams:
        return
    rctx.order_stream_after(1 if stream is None else stream, 0)


def row_major(shape: tuple) -> tuple:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return tuple(reversed(strides))


class Tensor:
    """What an exporter shares: elements of `buffer` (queue 0) seen with `shape` and
    `strides` (in elements) from `byte_offset`; `keep` is held while a consumer uses
    them. `host()` gives a NumPy copy, `device_copy()` a contiguous copy (a Tensor)."""

    __slots__ = ("buffer", "keep", "shape", "strides", "byte_offset", "dtype", "writable",
                 "host", "device_copy")

    def __init__(self, buffer, keep, shape, strides, byte_offset, dtype, writable, host,
                 device_copy):
        self.buffer, self.keep, self.shape, self.strides = buffer, keep, shape, strides
        self.byte_offset, self.dtype, self.writable = byte_offset, dtype, writable
        self.host, self.device_copy = host, device_copy


def _buffer_tensor(buf: Buffer) -> Tensor:
    shape = buf.numpy_shape
    return Tensor(buf, buf, shape, row_major(shape), 0, buf.dtype, buf.is_writable,
                  lambda: buf.read(0), lambda: _buffer_tensor(_device_copy(buf)))


def _host_capsule(t: Tensor, versioned: bool):
    host = np.asarray(t.host(), order="C")   # bools come back as 1-byte bools
    code = (6, 8, 1) if host.dtype == np.bool_ else dt.from_numpy(host.dtype).dlpack
    flags = IS_COPIED | (0 if t.writable else READ_ONLY)
    return make_capsule(host, host.ctypes.data, (CPU, 0), host.shape, row_major(host.shape),
                        code, flags, versioned)


def export(buf: Buffer, *, stream=None, max_version=None, dl_device=None, copy=None):
    """`buf.__dlpack__(...)` (DLPack 1.0: a versioned capsule when `max_version` is
    (1, x) or newer, else a legacy one). copy=True always copies; copy=False raises
    BufferError where only a copy could serve."""
    buf._check_alive()
    return export_tensor(_buffer_tensor(buf), stream=stream, max_version=max_version,
                         dl_device=dl_device, copy=copy)


def export_tensor(t: Tensor, *, stream=None, max_version=None, dl_device=None, copy=None):
    """The DLPack capsule of `t` (see `export`)."""
    if copy not in (None, True, False):
        raise ValueError(f"copy must be None, True or False, got {copy!r}")
    _check_stream(stream)
    versioned = _versioned(max_version)
    ctx = t.buffer.context
    native = buffer_device(t.buffer)
    rctx = ctx.runtime_context
    addressable = rctx.capabilities.cuda_array_interface
    want = _check_device_arg(dl_device) if dl_device is not None else None
    if want is None:
        want = native if addressable else (CPU, 0)
    if want == (CPU, 0) and want != native:
        if copy is False:
            raise BufferError(f"this data lives in {ctx.backend} device memory "
                              f"({_device_name(native)}); exporting it to the CPU needs a copy, "
                              f"and copy=False was given")
        return _host_capsule(t, versioned)
    if want[0] == CUDA and not addressable:
        peer = _cuda_peer(ctx, want)
        if peer is not None:
            if copy:
                raise BufferError("copy=True to CUDA is not served for Vulkan memory; "
                                  "export without copy (the memory is shared)")
            from .cuda_peer import export as export_cuda
            return export_cuda(peer, t, stream, versioned)
    if want != native or not addressable:
        valid = [(CPU, 0)] + ([native] if addressable else [])
        raise BufferError(f"dl_device={want} ({_device_name(want)}) cannot be served by data "
                          f"of the {ctx.backend} backend; valid: {valid}")
    if t.dtype.base is dt.bool_:
        raise BufferError("bool data is stored as 4-byte values, which DLPack cannot "
                          "describe; export to the CPU (dl_device=(1, 0)) or use uint32")
    if copy:
        t = t.device_copy()
    flush_pending()   # recorded work must be on the stream the consumer waits for
    _hand_off(rctx, stream)
    flags = (IS_COPIED if copy else 0) | (0 if t.writable else READ_ONLY)
    data = rctx.device_pointer(t.buffer.handle(0)) + t.byte_offset
    return make_capsule(t.keep, data, native, t.shape, t.strides, t.dtype.dlpack, flags,
                        versioned)


def _device_copy(buf: Buffer) -> Buffer:
    from ..execution.command_graph import copy_buffer
    out = Buffer(buf.shape, buf.dtype, context=buf.context)
    copy_buffer(buf, out)
    return out


# ----------------------------------------------------------------------------- import

def _producer_device(obj) -> tuple:
    try:
        device = obj.__dlpack_device__()
    except AttributeError:
        raise TypeError(f"{type(obj).__name__} is no DLPack producer (it has no "
                        f"__dlpack_device__)") from None
    return (int(device[0]), int(device[1]))


def _shared_queue(ctx, device: tuple):
    """The queue whose device holds the producer's memory, where the runtime can wrap
    it without a copy; None otherwise."""
    rctx = ctx.runtime_context
    caps = rctx.capabilities
    if not caps.external_memory or caps.dlpack_device_type != device[0] or ctx.queue_count != 1:
        return None
    return 0 if rctx.devices[rctx.queue_device[0]].index == device[1] else None


def _cuda_peer(ctx, device: tuple):
    """The CudaPeer of `ctx` (cuda_peer.py) when it is CUDA device `device`, else None."""
    from .cuda_peer import cuda_peer
    peer = cuda_peer(ctx)
    return peer if peer is not None and peer.device_index == device[1] else None


def consume(obj, stream) -> tuple:
    """(Consumed capsule, shape, dtype, byte count) of C-contiguous DLPack producer `obj`
    handed over on `stream`; TypeError / ValueError for what cannot be imported."""
    capsule = obj.__dlpack__(stream=stream, max_version=_capsule.VERSION)
    consumed = Consumed(capsule)
    del capsule
    t = consumed.tensor
    shape = consumed.shape()
    key = (t.dtype.code, t.dtype.bits, t.dtype.lanes)
    if key not in _FROM_CODE:
        raise TypeError(f"cannot import DLPack dtype (code {key[0]}, {key[1]} bits, {key[2]} "
                        f"lanes); supported: {sorted(x.name for x in _FROM_CODE.values())}")
    strides = consumed.strides()
    if strides is not None and math.prod(shape) > 1 and any(
            s != e for s, e, n in zip(strides, row_major(shape), shape) if n > 1):
        raise ValueError(f"only C-contiguous arrays can be imported; {type(obj).__name__} has "
                         f"strides {strides} (elements) for shape {shape}")
    dtype = _FROM_CODE[key]
    return consumed, shape, dtype, math.prod(shape) * dtype.itemsize


def _wrap(obj, ctx, queue: int) -> Buffer:
    rctx = ctx.runtime_context
    stream = rctx.stream_handle(queue) if rctx.capabilities.cuda_stream else None
    consumed, shape, dtype, nbytes = consume(obj, stream)
    t = consumed.tensor
    handle = rctx.wrap_device_pointer((t.data or 0) + t.byte_offset, nbytes,
                                      owner=(consumed, obj), queue=queue)
    buf = Buffer._wrap(ctx, shape, dtype, [handle])
    buf.is_writable = not consumed.flags & READ_ONLY
    return buf


def _host(obj, device: tuple) -> np.ndarray:
    """The producer's contents on the host (numpy consumes the capsule)."""
    try:
        if device[0] in _HOST_READABLE:
            return np.from_dlpack(obj)
        return np.from_dlpack(obj, device="cpu", copy=True)
    except (BufferError, TypeError, ValueError, RuntimeError) as exc:
        ctx = get_context()
        raise BufferError(f"{type(obj).__name__} lives on {_device_name(device)}, which the "
                          f"{ctx.backend} backend cannot reach, and it gave no host copy "
                          f"({type(exc).__name__}: {exc})") from exc


def from_dlpack(obj, *, copy=None) -> Buffer:
    """A vd.Buffer of a DLPack producer's data (DLPack 1.0 or the legacy protocol).

    Memory on a device the runtime can wrap (CUDA memory on the CUDA backend; on the
    Vulkan backend, exportable CUDA memory, see cuda_peer.import_cuda) is shared, the
    producer kept alive as long as the buffer; other CUDA memory is copied on the
    device where Vulkan and CUDA share one, other producers through the host. A
    vd.Buffer of the current context gives a view of it.
    copy=True always copies; copy=False raises BufferError where a copy is needed."""
    if copy not in (None, True, False):
        raise ValueError(f"copy must be None, True or False, got {copy!r}")
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack needs a DLPack producer (an object with __dlpack__), "
                        f"got {type(obj).__name__}")
    ctx = get_context()
    if isinstance(obj, Buffer) and obj.context is ctx and not copy:
        return obj.reshape(obj.shape)
    device = _producer_device(obj)
    queue = _shared_queue(ctx, device)
    if queue is not None:
        buf = _wrap(obj, ctx, queue)
        return _device_copy(buf) if copy else buf   # the copy's record keeps `buf` alive
    if device[0] == CUDA and ctx.queue_count == 1:
        peer = _cuda_peer(ctx, device)
        if peer is not None:   # Vulkan memory CUDA maps: no host copy
            from .cuda_peer import import_cuda
            return import_cuda(peer, obj, copy)
    if copy is False:
        raise BufferError(f"{type(obj).__name__} lives on {_device_name(device)}; the "
                          f"{ctx.backend} backend can only copy it (copy=False given)")
    if device[0] not in _HOST_READABLE and hasattr(obj, "__cuda_array_interface__"):
        return asbuffer_cuda_array(obj)   # read through CUDA where the backend is another
    return asbuffer(_host(obj, device))


def _asbuffer_dlpack(obj, dtype, memory: str) -> Buffer:
    """vd.asbuffer of a DLPack producer: shared where from_dlpack shares and no other
    dtype or memory kind is asked for, else a copy."""
    ctx = get_context()
    device = _producer_device(obj)
    if memory == "device" and dtype is None and (
            _shared_queue(ctx, device) is not None
            or (device[0] == CUDA and ctx.queue_count == 1
                and _cuda_peer(ctx, device) is not None)):
        return from_dlpack(obj)
    if device[0] not in _HOST_READABLE and hasattr(obj, "__cuda_array_interface__"):
        return asbuffer_cuda_array(obj, dtype, memory)
    return asbuffer(_host(obj, device), dtype, memory)


def _asbuffer_either(obj, dtype, memory: str) -> Buffer:
    """vd.asbuffer of a __cuda_array_interface__ object: through DLPack where it has
    that too, whose stream hand-off orders the producer's pending work (PyTorch's
    interface names no stream)."""
    if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
        return _asbuffer_dlpack(obj, dtype, memory)
    return asbuffer_cuda_array(obj, dtype, memory)


register_exporter("__dlpack__", export)
register_exporter("__dlpack_device__", buffer_device)
register_importer("__cuda_array_interface__", _asbuffer_either)
register_importer("__dlpack__", _asbuffer_dlpack)
