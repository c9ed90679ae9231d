"""Creation functions. Constant and index-valued arrays (zeros, full, arange, linspace,
eye, tril/triu) are lazy nodes that fuse into their consumers; host data is uploaded
once into new memory."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..base import dtype as dt
from ..base import stats
from ..base.buffer import Buffer, _normalize_shape
from ..codegen import ops
from ..codegen.variables import convert
from ..execution import lazy
from ..execution.pool import size_class
from . import _dtypes as d
from . import _lowering as L
from ._array import Array, _protocol
from ._elementwise import Op, cast, check_device_dtype, node_arg, scalar_fill
from ._info import default_float, default_int, resolve_device


def _dtype_arg(dtype, device, what: str):
    if dtype is None:
        return None
    if not d.is_array_dtype(dtype):
        raise TypeError(f"{what}: dtype must be one of the namespace's dtypes "
                        f"({', '.join(t.name for t in d.ALL)}), got {dtype!r}")
    check_device_dtype(device, dtype, what)
    return dtype


def _shape_arg(shape) -> tuple:
    return _normalize_shape(shape)


def _python_dtype(value, device):
    if isinstance(value, builtins.bool):
        return d.bool
    if isinstance(value, int):
        return default_int(device)
    if isinstance(value, float):
        return default_float(device)
    if isinstance(value, complex):
        return d.complex64 if default_float(device) is d.float32 else d.complex128
    raise TypeError(f"expected a Python bool, int, float or complex, got {type(value).__name__}")


# ----------------------------------------------------------------------------- host data

def from_buffer(buffer: Buffer) -> Array:
    """An Array over `buffer`'s memory (no copy); `x.buffer` gives `buffer` back."""
    if not isinstance(buffer, Buffer):
        raise TypeError(f"from_buffer takes a vd.Buffer, got {type(buffer).__name__}")
    if not d.is_array_dtype(buffer.dtype):
        raise TypeError(f"from_buffer needs a buffer of one of the standard's dtypes, got "
                        f"{buffer.dtype.name} (vector and matrix buffers have no array dtype)")
    device = resolve_device(None)
    base = buffer._base or buffer
    storage = lazy.shared_storage(base)
    offset = buffer.offset // buffer.dtype.itemsize
    view = lazy.View(storage, offset, lazy.contiguous_strides(buffer.shape))
    return Array._new(buffer.shape, buffer.dtype, device, view=view)


def from_dlpack(x, /, *, device=None, copy=None) -> Array:
    """An Array of a DLPack producer's data: shared where the runtime can reach its
    memory (CUDA memory on the CUDA backend), else copied (vkdispatch.interop)."""
    return _protocol("from_dlpack")(x, device=device, copy=copy)


def _upload(arr: np.ndarray, dtype, device) -> Array:
    """New memory holding `arr` converted to `dtype`."""
    storage_np = dt.storage_numpy_dtype(dtype)
    host = np.ascontiguousarray(arr, dtype=storage_np)
    count = host.size
    buf = Buffer((size_class(count),), dtype, context=device.context)
    rctx = device.context.runtime_context
    if count:   # fresh memory: no pending work can touch it, so no flush is needed
        data = memoryview(host.reshape(-1)).cast("B")
        for q in range(device.context.queue_count):
            rctx.buffer_write(buf.allocation(q), data)
        stats.count("bytes_to_device", host.nbytes * device.context.queue_count)
    view = lazy.View(lazy.Storage(buf, pooled=True), 0, lazy.contiguous_strides(arr.shape))
    return Array._new(arr.shape, dtype, device, view=view)


def _infer(arr: np.ndarray, obj, device):
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        t = dt.from_numpy(arr.dtype)
        if not d.is_array_dtype(t):
            raise TypeError(f"asarray: NumPy dtype {arr.dtype} has no Array API dtype")
        return t
    kind = arr.dtype.kind
    if kind == "b":
        return d.bool
    if kind in "iu":
        return default_int(device)
    if kind == "f":
        return default_float(device)
    if kind == "c":
        return d.complex64 if default_float(device) is d.float32 else d.complex128
    raise TypeError(f"asarray: cannot make an array of {type(obj).__name__} "
                    f"(NumPy sees dtype {arr.dtype})")


def asarray(obj, /, *, dtype=None, device=None, copy=None) -> Array:
    dev = resolve_device(device)
    dtype = _dtype_arg(dtype, dev, "asarray")
    if isinstance(obj, Array):
        if dtype is not None and dtype is not obj.dtype:
            if copy is False:
                raise ValueError(f"asarray: converting {obj.dtype.name} to {dtype.name} needs "
                                 f"a copy, but copy=False")
            return cast(obj, dtype)
        if copy:
            return cast(obj, obj.dtype)
        return obj
    if isinstance(obj, Buffer):
        if dtype is not None and dtype is not obj.dtype:
            raise TypeError(f"asarray of a {obj.dtype.name} Buffer with dtype={dtype.name}: "
                            f"convert with astype after wrapping")
        if copy:
            return cast(from_buffer(obj), obj.dtype)
        return from_buffer(obj)
    if hasattr(obj, "__dlpack__") and not isinstance(obj, (np.ndarray, np.generic)):
        out = from_dlpack(obj, device=device, copy=copy)   # shared where memory allows
        return out if dtype is None or dtype is out.dtype else cast(out, dtype)
    if copy is False:
        raise ValueError("asarray: host data must be copied to the device; copy=False "
                         "cannot be honoured")
    if hasattr(obj, "__array_namespace__") and hasattr(obj, "__array__"):
        obj = np.asarray(obj)
    inner = _nested_arrays(obj) if isinstance(obj, (list, tuple)) else []
    if inner and dtype is None:    # a sequence of arrays keeps their (promoted) dtype
        dtype = inner[0].dtype
        for a in inner[1:]:
            dtype = d.promote(dtype, a.dtype)
    arr = np.asarray(obj)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"asarray: cannot make an array of {type(obj).__name__} "
                        f"(NumPy sees dtype {arr.dtype})")
    t = dtype if dtype is not None else _infer(arr, obj, dev)
    check_device_dtype(dev, t, "asarray")
    if t.is_integer and arr.size and arr.dtype.kind in "iu":
        info = np.iinfo(t.numpy_dtype)
        if arr.min() < info.min or arr.max() > info.max:
            raise OverflowError(f"asarray: values outside {t.name}'s range")
    return _upload(arr, t, dev)


def _nested_arrays(obj) -> list:
    """The Arrays inside a nested sequence (NumPy reads them through __array__)."""
    out = []
    for v in obj:
        if isinstance(v, Array):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            out.extend(_nested_arrays(v))
    return out


# ----------------------------------------------------------------------------- constants

def full(shape, fill_value, *, dtype=None, device=None) -> Array:
    dev = resolve_device(device)
    shape = _shape_arg(shape)
    if isinstance(fill_value, Array):
        raise TypeError("full's fill_value must be a Python scalar")
    t = _dtype_arg(dtype, dev, "full") or _python_dtype(fill_value, dev)
    if isinstance(fill_value, complex) and not t.is_complex:
        raise TypeError(f"full: a complex fill_value for a {t.name} array")
    if isinstance(fill_value, float) and not (t.is_float or t.is_complex):
        raise TypeError(f"full: a float fill_value for a {t.name} array")
    if t.is_integer and not isinstance(fill_value, builtins.bool):
        info = np.iinfo(t.numpy_dtype)
        if not info.min <= fill_value <= info.max:
            raise OverflowError(f"full: {fill_value} is out of {t.name}'s range")
    return scalar_fill(fill_value, shape, t, dev)


def zeros(shape, *, dtype=None, device=None) -> Array:
    dev = resolve_device(device)
    t = _dtype_arg(dtype, dev, "zeros") or default_float(dev)
    return scalar_fill(False if t is d.bool else 0, _shape_arg(shape), t, dev)


def ones(shape, *, dtype=None, device=None) -> Array:
    dev = resolve_device(device)
    t = _dtype_arg(dtype, dev, "ones") or default_float(dev)
    return scalar_fill(True if t is d.bool else 1, _shape_arg(shape), t, dev)


def empty(shape, *, dtype=None, device=None) -> Array:
    return zeros(shape, dtype=dtype, device=device)


def _like(x, name):
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")


def zeros_like(x, /, *, dtype=None, device=None) -> Array:
    _like(x, "zeros_like")
    return zeros(x.shape, dtype=dtype or x.dtype, device=device)


def ones_like(x, /, *, dtype=None, device=None) -> Array:
    _like(x, "ones_like")
    return ones(x.shape, dtype=dtype or x.dtype, device=device)


def empty_like(x, /, *, dtype=None, device=None) -> Array:
    _like(x, "empty_like")
    return zeros(x.shape, dtype=dtype or x.dtype, device=device)


def full_like(x, /, fill_value, *, dtype=None, device=None) -> Array:
    _like(x, "full_like")
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device)


# ----------------------------------------------------------------------------- ranges

def _arange_lower(args, dtype):
    i, start, step = args
    return ops.make("add", start, ops.make("mul", convert(i, dtype), step))


ARANGE = Op(("arange",), _arange_lower)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None) -> Array:
    dev = resolve_device(device)
    if stop is None:
        start, stop = 0, start
    for v, what in ((start, "start"), (stop, "stop"), (step, "step")):
        if isinstance(v, builtins.bool) or not isinstance(v, (int, float)):
            raise TypeError(f"arange's {what} must be an int or float, got {v!r}")
    if step == 0:
        raise ValueError("arange's step must not be zero")
    ints = all(isinstance(v, int) for v in (start, stop, step))
    t = _dtype_arg(dtype, dev, "arange") or (default_int(dev) if ints else default_float(dev))
    if not (t.is_integer or t.is_float):
        raise TypeError(f"arange makes real numeric arrays, not {t.name}")
    n = builtins.max(0, math.ceil((stop - start) / step))
    if ints:
        n = builtins.max(0, -((start - stop) // step))
    if t.is_integer:
        for v in (start, start + (n - 1) * step if n else start):
            if not np.iinfo(t.numpy_dtype).min <= v <= np.iinfo(t.numpy_dtype).max:
                raise OverflowError(f"arange: {v} is out of {t.name}'s range")
    args = (lazy.Iota((n,)), node_arg(start, t), node_arg(step, t))
    return Array._record(ARANGE, args, (n,), t, dev)


def _linspace_lower(args, dtype):
    i, start, step, stop, last = args
    value = ops.make("add", start, ops.make("mul", convert(i, dtype), step))
    return L.select(ops.make("eq", i, last), stop, value)


LINSPACE = Op(("linspace",), _linspace_lower)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True) -> Array:
    dev = resolve_device(device)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace's num must be non-negative, got {num}")
    cplx = isinstance(start, complex) or isinstance(stop, complex)
    t = _dtype_arg(dtype, dev, "linspace") or (
        _python_dtype(1j, dev) if cplx else default_float(dev))
    if not (t.is_float or t.is_complex):
        raise TypeError(f"linspace makes floating-point arrays, not {t.name}")
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    last = num - 1 if endpoint else -1
    args = (lazy.Iota((num,)), node_arg(start, t), node_arg(step, t), node_arg(stop, t),
            lazy.Scalar(last, d.int32))
    return Array._record(LINSPACE, args, (num,), t, dev)


def _eye_lower(args, dtype):
    r, c, k = args
    on = ops.make("eq", ops.make("sub", c, r), k)
    return L.select(on, L.lit(1, dtype), L.lit(0, dtype))


EYE = Op(("eye",), _eye_lower)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None) -> Array:
    dev = resolve_device(device)
    n_cols = n_rows if n_cols is None else n_cols
    shape = _shape_arg((n_rows, n_cols))
    t = _dtype_arg(dtype, dev, "eye") or default_float(dev)
    k = _diagonal(k, shape[0], shape[1])
    args = (lazy.Iota((shape[0], 1)), lazy.Iota((shape[1],)), lazy.Scalar(k, d.int32))
    return Array._record(EYE, args, shape, t, dev)


def _diagonal(k, rows: int, cols: int) -> int:
    """Diagonal offset `k` clamped to [-rows - 1, cols + 1] (same result, and it fits
    the kernel's 32-bit argument)."""
    k = operator.index(k)
    return builtins.max(-rows - 1, builtins.min(cols + 1, k))


def _triangle(lower_part: bool):
    def lower(args, dtype):
        x, r, c, k = args
        diff = ops.make("sub", c, r)
        keep = ops.make("le" if lower_part else "ge", diff, k)
        return L.select(keep, x, L.lit(0, dtype))
    return Op(("tril" if lower_part else "triu",), lower)


TRIL, TRIU = _triangle(True), _triangle(False)


def _tri(x, k, op, name):
    if not isinstance(x, Array) or x.ndim < 2:
        raise ValueError(f"{name} needs an array of at least 2 dimensions")
    rows, cols = x.shape[-2:]
    args = (x._arg(), lazy.Iota((rows, 1)), lazy.Iota((cols,)),
            lazy.Scalar(_diagonal(k, rows, cols), d.int32))
    return Array._record(op, args, x.shape, x.dtype, x.device)


def tril(x, /, *, k=0) -> Array:
    return _tri(x, k, TRIL, "tril")


def triu(x, /, *, k=0) -> Array:
    return _tri(x, k, TRIU, "triu")


def meshgrid(*arrays, indexing="xy") -> list:
    from ._manipulation import broadcast_to, reshape
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid's indexing must be 'xy' or 'ij', got {indexing!r}")
    for a in arrays:
        if not isinstance(a, Array) or a.ndim != 1:
            raise ValueError("meshgrid takes 1-D arrays")
    if len({a.dtype for a in arrays}) > 1:
        raise ValueError("meshgrid's arrays must have one dtype")
    n = len(arrays)
    sizes = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(arrays):
        shape = [1] * n
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        shape[axis] = a.shape[0]
        out.append(broadcast_to(reshape(a, tuple(shape)), tuple(sizes)))
    return out
