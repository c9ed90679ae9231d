"""Import of __cuda_array_interface__ (version 3) arrays: zero-copy on a runtime that
wraps external memory (the CUDA backend), a copy into a buffer elsewhere (vd.asbuffer);
the export is `vd.Buffer.__cuda_array_interface__`."""
from __future__ import annotations

import numpy as np

from ..backends import runtime as rt
from ..base import dtype as dt
from ..base.buffer import Buffer, register_importer
from ..base.context import get_context
from ..base.errors import BackendUnavailableError, InvalidArgumentError

# numpy dtype -> vkdispatch dtype for imports (bool arrives as 1-byte, kept as uint8)
_IMPORTABLE = {np.dtype(t.numpy_dtype): t for t in dt.SCALARS if t is not dt.bool_}


def _require_external_memory(ctx, what: str) -> None:
    if not ctx.runtime_context.capabilities.external_memory:
        raise AttributeError(f"{what} needs a runtime that wraps external memory (the CUDA "
                             f"backend); the active backend is {ctx.backend!r} "
                             f"(vd.initialize(backend='cuda'))")


def _interface(obj) -> dict:
    try:
        cai = obj.__cuda_array_interface__
    except AttributeError:
        raise TypeError(f"{type(obj).__name__} has no __cuda_array_interface__") from None
    if not isinstance(cai, dict) or not {"shape", "typestr", "data"} <= cai.keys():
        raise ValueError(f"{type(obj).__name__}.__cuda_array_interface__ must be a dict with "
                         f"'shape', 'typestr' and 'data'")
    return cai


def _layout(cai: dict, dtype) -> tuple:
    """(shape, vkdispatch dtype, byte count) of a C-contiguous, unmasked interface."""
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
            raise ValueError(f"only C-contiguous arrays can be imported; got strides {strides} "
                             f"for shape {shape} (make a contiguous copy first)")
    if cai.get("mask") is not None:
        raise ValueError("masked arrays cannot be imported")
    t = _IMPORTABLE[nd] if dtype is None else dt.to_dtype(dtype)
    if dtype is not None:
        if t.numpy_dtype != nd or not (t.is_scalar or shape[-len(t.numpy_shape):] == t.numpy_shape):
            raise TypeError(f"dtype {t.name} does not match the array's {nd} with shape {shape}")
        if t.numpy_shape:
            shape = shape[:len(shape) - len(t.numpy_shape)]
    return shape, t, int(np.prod(shape, dtype=np.int64)) * t.itemsize


def from_cuda_array(obj, dtype=None, *, var_type=None, require_contiguous: bool = True,
                    writable=None, keepalive: bool = True) -> Buffer:
    """A vd.Buffer over the memory of `obj` (anything with __cuda_array_interface__:
    CuPy arrays, PyTorch CUDA tensors, Numba arrays) without copying; `obj` is kept
    alive as long as the buffer. C-contiguous arrays only. Work on the buffer is
    ordered after the producer's stream (if the interface names one).

    vkdispatch 0.1's keywords are accepted: `var_type` (dtype), `writable=False` (host
    writes to the buffer raise; the interface's read-only flag does the same),
    `keepalive` (`obj` is kept alive either way: a buffer over freed memory would be
    silently wrong). `require_contiguous=False` is refused for a strided array, which
    0.1 read as if it were contiguous."""
    if var_type is not None:
        if dtype is not None:
            raise TypeError("give dtype or var_type (0.1's name), not both")
        dtype = var_type
    del require_contiguous, keepalive   # contiguity is always checked; obj always kept
    ctx = get_context()
    _require_external_memory(ctx, "from_cuda_array")
    if ctx.queue_count != 1:
        raise ValueError("from_cuda_array wraps one allocation; the context has "
                         f"{ctx.queue_count} queues (use a single-queue context)")
    cai = _interface(obj)
    shape, t, nbytes = _layout(cai, dtype)
    read_only = bool(cai["data"][1])
    if writable and read_only:
        raise ValueError("writable=True asked for a read-only CUDA array")
    ptr = int(cai["data"][0])
    stream = cai.get("stream")
    rctx = ctx.runtime_context
    if stream not in (None, 0):
        rctx.wait_for_stream(int(stream), 0)
    handle = rctx.wrap_device_pointer(ptr, nbytes, owner=obj, queue=0)
    buf = Buffer._wrap(ctx, shape, t, [handle])
    buf.is_writable = not read_only if writable is None else bool(writable)
    return buf


def _copy_to_host(obj, cai: dict, shape: tuple, t, nbytes: int) -> np.ndarray:
    """The contents of a CUDA array as a numpy array, read through a CUDA runtime: the
    current context's where it wraps device pointers, else one opened for the copy."""
    ctx = get_context()
    ptr, stream = int(cai["data"][0]), cai.get("stream")
    out = np.empty(shape + t.numpy_shape, dt.storage_numpy_dtype(t))
    if ctx.runtime_context.capabilities.external_memory:
        rctxs, owned = [ctx.runtime_context], False
    else:
        try:
            runtime = rt.load_runtime("cuda")
        except BackendUnavailableError as exc:
            raise BackendUnavailableError(
                f"copying a {type(obj).__name__} (__cuda_array_interface__) into a buffer of the "
                f"{ctx.backend} backend reads it through CUDA, which is unavailable: {exc}"
            ) from exc
        n = len(runtime.devices())
        rctxs, owned = [runtime.create_context(list(range(n)), [1] * n, False)], True
    try:
        rctx = rctxs[0]
        for q in range(rctx.queue_count):   # the queue of the device holding the pointer
            try:
                handle = rctx.wrap_device_pointer(ptr, nbytes, owner=obj, queue=q)
            except InvalidArgumentError:
                continue
            try:
                if stream not in (None, 0):
                    rctx.wait_for_stream(int(stream), q)
                rctx.buffer_read(handle, nbytes, 0, out=memoryview(out).cast("B"))
            finally:
                rctx.buffer_free(handle)
            return out
        raise InvalidArgumentError(f"pointer 0x{ptr:x} of {type(obj).__name__} is on no CUDA "
                                   f"device of this process")
    finally:
        if owned:
            rctxs[0].destroy()


def asbuffer_cuda_array(obj, dtype=None, memory: str = "device") -> Buffer:
    """vd.asbuffer of an object with __cuda_array_interface__: zero-copy where the
    runtime wraps external memory in a single-queue context, else a copy."""
    ctx = get_context()
    if (ctx.runtime_context.capabilities.external_memory and ctx.queue_count == 1
            and memory == "device"):
        return from_cuda_array(obj, dtype)
    cai = _interface(obj)
    shape, t, nbytes = _layout(cai, dtype)
    data = _copy_to_host(obj, cai, shape, t, nbytes)
    buf = Buffer(shape, t, memory)
    try:
        buf.write(data)
    except BaseException:
        buf._free_now()
        raise
    return buf


register_importer("__cuda_array_interface__", asbuffer_cuda_array)
