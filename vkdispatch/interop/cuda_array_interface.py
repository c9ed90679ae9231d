"""Import of __cuda_array_interface__ (version 3) arrays on the CUDA backend; the
export is `vd.Buffer.__cuda_array_interface__`."""
from __future__ import annotations

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context

# numpy dtype -> vkdispatch dtype for imports (bool arrives as 1-byte, kept as uint8)
_IMPORTABLE = {np.dtype(t.numpy_dtype): t for t in dt.SCALARS if t is not dt.bool_}


def _require_external_memory(ctx, what: str) -> None:
    if not ctx.runtime_context.capabilities.external_memory:
        raise AttributeError(f"{what} needs a runtime that wraps external memory (the CUDA "
                             f"backend); the active backend is {ctx.backend!r} "
                             f"(vd.initialize(backend='cuda'))")


def from_cuda_array(obj, dtype=None) -> Buffer:
    """A vd.Buffer over the memory of `obj` (anything with __cuda_array_interface__:
    CuPy arrays, PyTorch CUDA tensors, Numba arrays) without copying; `obj` is kept
    alive as long as the buffer. C-contiguous arrays only. Work on the buffer is
    ordered after the producer's stream (if the interface names one)."""
    ctx = get_context()
    _require_external_memory(ctx, "from_cuda_array")
    if ctx.queue_count != 1:
        raise ValueError("from_cuda_array wraps one allocation; the context has "
                         f"{ctx.queue_count} queues (use a single-queue context)")
    try:
        cai = obj.__cuda_array_interface__
    except AttributeError:
        raise TypeError(f"{type(obj).__name__} has no __cuda_array_interface__") from None
    shape = tuple(int(s) for s in cai["shape"])
    nd = np.dtype(cai["typestr"])
    if nd not in _IMPORTABLE:
        raise TypeError(f"cannot import arrays of {nd}; supported: "
                        f"{sorted(str(d) for d in _IMPORTABLE)}")
    strides = cai.get("strides")
    if strides is not None:
        expect, acc = [], nd.itemsize
        for s in reversed(shape):
            expect.append(acc)
            acc *= s
        if tuple(strides) != tuple(reversed(expect)) and int(np.prod(shape)) > 1:
            raise ValueError(f"only C-contiguous arrays can be wrapped; got strides {strides} "
                             f"for shape {shape} (make a contiguous copy first)")
    if cai.get("mask") is not None:
        raise ValueError("masked arrays cannot be wrapped")
    t = _IMPORTABLE[nd] if dtype is None else dt.to_dtype(dtype)
    if dtype is not None:
        if t.numpy_dtype != nd or not (t.is_scalar or shape[-len(t.numpy_shape):] == t.numpy_shape):
            raise TypeError(f"dtype {t.name} does not match the array's {nd} with shape {shape}")
        if t.numpy_shape:
            shape = shape[:len(shape) - len(t.numpy_shape)]
    ptr = int(cai["data"][0])
    nbytes = int(np.prod(shape, dtype=np.int64)) * t.itemsize
    stream = cai.get("stream")
    rctx = ctx.runtime_context
    if stream not in (None, 0):
        rctx.wait_for_stream(int(stream), 0)
    handle = rctx.wrap_device_pointer(ptr, nbytes, owner=obj, queue=0)
    return Buffer._wrap(ctx, shape, t, [handle])
