"""DLPack, the CUDA Array Interface and xp.from_dlpack for vkdispatch.array_api Arrays,
over the buffer exchange in dlpack.py (an Array's elements are a strided view of a
Buffer)."""
from __future__ import annotations

import numpy as np

from ..array_api import _array
from ..array_api import _creation as creation
from ..array_api._array import Array
from ..array_api._info import resolve_device
from ..base.buffer import Buffer, flush_pending
from .dlpack import (_HOST_READABLE, Tensor, _producer_device, _shared_queue, context_device,
                     export_tensor, row_major)
from .dlpack import from_dlpack as buffer_from_dlpack


def _tensor(x: Array) -> Tensor:
    view = x._placed()
    size = x.dtype.itemsize
    return Tensor(view.storage.buffer, view.storage, x.shape, view.strides,
                  view.offset * size, x.dtype, True, x._to_numpy,
                  lambda: _tensor(creation.asarray(x, copy=True)))


def array_dlpack(x: Array, *, stream=None, max_version=None, dl_device=None, copy=None):
    """`x.__dlpack__`: shares the array's memory, strided views too, where the runtime
    has device pointers; a reversed view (negative strides, which PyTorch refuses) is
    copied first."""
    t = _tensor(x)
    if any(s < 0 for s in t.strides) and dl_device in (None, context_device(
            x.device.context)) and copy is None:
        copy = True
    return export_tensor(t, stream=stream, max_version=max_version, dl_device=dl_device,
                         copy=copy)


def array_dlpack_device(x: Array) -> tuple:
    return context_device(x.device.context)


def array_cuda_array_interface(x: Array) -> dict:
    """Version 3 of the CUDA Array Interface (CUDA backend only), strides in bytes."""
    ctx = x.device.context
    rctx = ctx.runtime_context
    if not rctx.capabilities.cuda_array_interface:
        raise AttributeError(f"__cuda_array_interface__ needs a runtime with CUDA device "
                             f"pointers (the CUDA backend); the active backend is "
                             f"{ctx.backend!r}")
    t = _tensor(x)
    flush_pending()
    if rctx.capabilities.external_streams:
        rctx.order_stream_after(1, 0)   # for consumers that ignore "stream"
    contiguous = t.strides == row_major(t.shape)
    size = x.dtype.itemsize
    return {"shape": x.shape, "typestr": np.dtype(x.dtype.numpy_dtype).str,
            "data": (rctx.device_pointer(t.buffer.handle(0)) + t.byte_offset, False),
            "strides": None if contiguous else tuple(s * size for s in t.strides),
            "version": 3, "stream": rctx.stream_handle(0) or 1}


def array_from_dlpack(x, /, *, device=None, copy=None) -> Array:
    """xp.from_dlpack: the producer's memory shared where the runtime reaches it (kept
    alive with the array), else copied; an Array of this context is itself (or a
    copy)."""
    dev = resolve_device(device)
    if isinstance(x, Array):
        return creation.asarray(x, copy=copy)
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack needs a DLPack producer (an object with __dlpack__), "
                        f"got {type(x).__name__}")
    if isinstance(x, Buffer) and x.context is dev.context:
        out = creation.from_buffer(x)
        return creation.asarray(out, copy=True) if copy else out
    producer = _producer_device(x)
    if producer[0] in _HOST_READABLE and _shared_queue(dev.context, producer) is None:
        if copy is False:
            raise BufferError(f"{type(x).__name__} lives on the host; the device can only copy "
                              f"it (copy=False given)")
        return creation.asarray(np.from_dlpack(x))
    return creation.from_buffer(buffer_from_dlpack(x, copy=copy))


_array.register_protocol("__dlpack__", array_dlpack)
_array.register_protocol("__dlpack_device__", array_dlpack_device)
_array.register_protocol("__cuda_array_interface__", array_cuda_array_interface)
_array.register_protocol("from_dlpack", array_from_dlpack)
