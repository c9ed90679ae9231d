"""take and take_along_axis, and what integer-array indexing shares with them: the
index-array checks and the recording of a gather."""
from __future__ import annotations

import numpy as np

from ..execution import lazy
from . import _dtypes as d
from ._array import Array, check_axis
from ._elementwise import broadcast_shapes
from ._gather import IndexedCopy


def index_array(a, what: str) -> Array:
    if not isinstance(a, Array):
        raise TypeError(f"{what} must be an integer array, got {type(a).__name__}")
    if a.dtype not in d.INTEGER:
        raise IndexError(f"{what} must have an integer dtype, got {a.dtype.name}")
    return a


def check_bounds(pairs) -> None:
    """IndexError naming the first out-of-range value among (index array, axis length,
    axis) pairs. Whether any is out of range is one fused reduction read from the device
    (a sync point); only then are the offending array's smallest and largest read for
    the message. The standard leaves out-of-bounds indices unspecified; NumPy raises, and
    the kernels only clamp (they never touch memory outside their buffers)."""
    from ._elementwise import apply
    from ._statistical import any as anyof, max as amax, min as amin
    pending = [(a, n, axis) for a, n, axis in pairs if a.size]
    flags = [f for f in (_outside(a, n, apply) for a, n, _ in pending) if f is not None]
    if not flags:
        return
    bad = anyof(flags[0])
    for f in flags[1:]:
        bad = apply("logical_or", bad, anyof(f))
    if not bool(bad):
        return
    for a, n, axis in pending:
        for v in (int(amin(a)), int(amax(a))):
            if not -n <= v < n:
                raise IndexError(f"index {v} is out of bounds for axis {axis} with size {n}")


def _outside(a: Array, n: int, apply):
    """Where `a` is out of [-n, n), or None where its dtype cannot hold such a value
    (the comparisons' scalars must fit the dtype)."""
    info = np.iinfo(a.dtype.numpy_dtype)
    low = apply("less", a, -n) if -n > int(info.min) else None
    high = apply("greater_equal", a, n) if n <= int(info.max) else None
    if low is None or high is None:
        return low if high is None else high
    return apply("logical_or", low, high)


def gather(x: Array, indices: list, axes: tuple, index_axes: tuple, start: int,
           shape: tuple) -> Array:
    """The gather of `x` (any view or pending) through `indices` (placed or pending
    integer arrays, checked) into a new array of `shape` (see IndexedCopy)."""
    width = len(broadcast_shapes(*[i.shape for i in indices]))
    op = IndexedCopy(False, axes, index_axes, start, width)
    args = (lazy.Leaf(x._placed(), x.shape, x.dtype),) + tuple(
        lazy.Leaf(i._placed(), i.shape, i.dtype) for i in indices)
    return Array._record(op, args, shape, x.dtype, x.device)


def take(x, indices, /, *, axis=None) -> Array:
    """Elements of `x` at `indices` (a 1-D integer array; negative values count from
    the end) along `axis` (optional for 1-D `x`). Indices are checked: one out of
    range raises IndexError (their minimum and maximum are read from the device, a
    sync point)."""
    if not isinstance(x, Array):
        raise TypeError(f"take takes an array, got {type(x).__name__}")
    indices = index_array(indices, "take's indices")
    if indices.ndim != 1:
        raise ValueError(f"take's indices must be 1-D, got shape {indices.shape}")
    if x.ndim == 0:
        raise ValueError("take needs an array of at least one dimension")
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take of a {x.ndim}-D array needs an axis")
        axis = 0
    axis = check_axis(axis, x.ndim)
    check_bounds([(indices, x.shape[axis], axis)])
    return take_in_range(x, indices, axis)


def take_in_range(x: Array, indices: Array, axis: int = 0) -> Array:
    """take of 1-D `indices` the library made and knows to be in range along `axis`
    (a sort's order, a compaction's positions): recorded without reading them back."""
    shape = x.shape[:axis] + indices.shape + x.shape[axis + 1:]
    axes = tuple(-1 if j == axis else j for j in range(x.ndim))
    return gather(x, [indices], axes, (axis,), axis, shape)


def take_along_axis(x, indices, /, *, axis=-1) -> Array:
    """Elements of `x` at `indices` (an integer array of x's rank, broadcast against
    `x` along every other axis) along `axis`. Indices are checked as in `take`."""
    if not isinstance(x, Array):
        raise TypeError(f"take_along_axis takes an array, got {type(x).__name__}")
    indices = index_array(indices, "take_along_axis's indices")
    if x.ndim == 0:
        raise ValueError("take_along_axis needs an array of at least one dimension")
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis's indices must have x's rank ({x.ndim}), got "
                         f"shape {indices.shape}")
    axis = check_axis(axis, x.ndim)
    rest_x = x.shape[:axis] + (1,) + x.shape[axis + 1:]
    rest_i = indices.shape[:axis] + (1,) + indices.shape[axis + 1:]
    try:
        shape = list(broadcast_shapes(rest_x, rest_i))
    except ValueError:
        raise ValueError(f"take_along_axis: indices of shape {indices.shape} do not "
                         f"broadcast against x of shape {x.shape} (axis {axis} aside)") from None
    shape[axis] = indices.shape[axis]
    check_bounds([(indices, x.shape[axis], axis)])
    axes = tuple(-1 if j == axis else j for j in range(x.ndim))
    return gather(x, [indices], axes, (axis,), 0, tuple(shape))
