"""Manipulation functions. Reshapes, transposes, flips and broadcasts are strided views
of the same memory (no copy); concat and stack write their inputs into new memory."""
from __future__ import annotations

import math
import operator

import numpy as np

from ..execution import lazy
from . import _dtypes as d
from ._array import Array, check_axis
from ._elementwise import CAST, broadcast_shapes


def _view(x: Array, shape: tuple, offset: int, strides: tuple) -> Array:
    base = x._placed()
    return Array._new(shape, x.dtype, x.device,
                      view=lazy.View(base.storage, offset, strides))


def _check(x, name):
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")


def permute_dims(x, /, axes) -> Array:
    _check(x, "permute_dims")
    axes = tuple(check_axis(a, x.ndim, "axes entry") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims' axes {axes} must be a permutation of "
                         f"{tuple(range(x.ndim))}")
    v = x._placed()
    return _view(x, tuple(x.shape[a] for a in axes), v.offset,
                 tuple(v.strides[a] for a in axes))


def matrix_transpose(x, /) -> Array:
    _check(x, "matrix_transpose")
    return x.mT


def _contiguous_strides_for(x: Array, shape: tuple):
    """Strides viewing `x` as `shape` without a copy, or None when a copy is needed."""
    v = x._view
    if x.size <= 1:
        return lazy.contiguous_strides(shape)
    # drop axes of length 1 and merge the rest: x must be C-ordered with equal steps
    dims = [(n, st) for n, st in zip(x.shape, v.strides) if n != 1]
    for (n0, s0), (n1, s1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return None
    step = dims[-1][1] if dims else 1
    return tuple(st * step for st in lazy.contiguous_strides(shape))


def _ints(value, fn: str, name: str) -> tuple:
    """`value` (a sequence of ints, or one int as NumPy takes it) as a tuple of ints;
    TypeError naming `fn`'s argument `name` otherwise."""
    try:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return (operator.index(value),)
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be a tuple of ints (or an int), got "
                        f"{value!r}") from None


def reshape(x, /, shape, *, copy=None) -> Array:
    _check(x, "reshape")
    shape = _ints(shape, "reshape", "shape")
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: at most one -1 in shape {shape}")
    if -1 in shape:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or x.size % rest:
            raise ValueError(f"cannot reshape an array of shape {x.shape} to {shape}")
        shape = tuple(x.size // rest if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or math.prod(shape) != x.size:
        raise ValueError(f"cannot reshape an array of shape {x.shape} to {shape}")
    if copy:
        x = Array._record(CAST, (x._arg(),), x.shape, x.dtype, x.device)
    v = x._placed()
    strides = _contiguous_strides_for(x, shape)
    if strides is None:
        if copy is False:
            raise ValueError(f"reshape of this strided view to {shape} needs a copy, but "
                             f"copy=False")
        x = Array._record(CAST, (x._arg(),), x.shape, x.dtype, x.device)
        v = x._placed()
        strides = lazy.contiguous_strides(shape)
    return _view(x, shape, v.offset, strides)


def expand_dims(x, /, axis=0) -> Array:
    _check(x, "expand_dims")
    axis = check_axis(axis, x.ndim + 1)
    v = x._placed()
    shape = x.shape[:axis] + (1,) + x.shape[axis:]
    strides = v.strides[:axis] + (0,) + v.strides[axis:]
    return _view(x, shape, v.offset, strides)


def squeeze(x, /, axis) -> Array:
    _check(x, "squeeze")
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {check_axis(a, x.ndim) for a in axes}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has length {x.shape[a]}, not 1")
    v = x._placed()
    keep = [i for i in range(x.ndim) if i not in axes]
    return _view(x, tuple(x.shape[i] for i in keep), v.offset,
                 tuple(v.strides[i] for i in keep))


def flip(x, /, *, axis=None) -> Array:
    _check(x, "flip")
    axes = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = {check_axis(a, x.ndim) for a in axes}
    v = x._placed()
    offset, strides = v.offset, list(v.strides)
    for a in axes:
        if x.shape[a] > 1:
            offset += strides[a] * (x.shape[a] - 1)
            strides[a] = -strides[a]
    return _view(x, x.shape, offset, tuple(strides))


def broadcast_to(x, /, shape) -> Array:
    _check(x, "broadcast_to")
    shape = tuple(operator.index(s) for s in shape)
    if broadcast_shapes(x.shape, shape) != shape or len(shape) < x.ndim:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}")
    v = x._placed()
    lead = len(shape) - x.ndim
    strides = [0] * lead + [st if n != 1 else 0 for n, st in zip(x.shape, v.strides)]
    return _view(x, shape, v.offset, tuple(strides))


def broadcast_arrays(*arrays) -> list:
    shape = broadcast_shapes(*(a.shape for a in arrays))
    return [broadcast_to(a, shape) for a in arrays]


def _result_dtype(arrays, name):
    if not arrays:
        raise ValueError(f"{name} needs at least one array")
    t = arrays[0].dtype
    for a in arrays:
        _check(a, name)
        t = d.promote(t, a.dtype)
    return t


def concat(arrays, /, *, axis=0) -> Array:
    arrays = list(arrays)
    t = _result_dtype(arrays, "concat")
    if axis is None:
        arrays = [reshape(a, (-1,)) for a in arrays]
        axis = 0
    first = arrays[0]
    if first.ndim == 0:
        raise ValueError("concat of 0-d arrays: use stack")
    axis = check_axis(axis, first.ndim)
    for a in arrays:
        if a.ndim != first.ndim or a.shape[:axis] + a.shape[axis + 1:] != \
                first.shape[:axis] + first.shape[axis + 1:]:
            raise ValueError(f"concat: shapes {[b.shape for b in arrays]} differ off axis "
                             f"{axis}")
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    shape = tuple(shape)
    out = lazy.allocate(shape, t)
    start = 0
    for a in arrays:
        n = a.shape[axis]
        if n and a.size:
            offset = out.offset + start * out.strides[axis]
            lazy.record_write(CAST, (a._arg(),), a.shape, t,
                              lazy.View(out.storage, offset, out.strides))
        start += n
    return Array._new(shape, t, first.device, view=out)


def stack(arrays, /, *, axis=0) -> Array:
    arrays = list(arrays)
    _result_dtype(arrays, "stack")
    shape = arrays[0].shape
    for a in arrays:
        if a.shape != shape:
            raise ValueError(f"stack: shapes {[b.shape for b in arrays]} differ")
    axis = check_axis(axis, len(shape) + 1)
    return concat([expand_dims(a, axis=axis) for a in arrays], axis=axis)


def moveaxis(x, source, destination, /) -> Array:
    _check(x, "moveaxis")
    src = source if isinstance(source, tuple) else (source,)
    dst = destination if isinstance(destination, tuple) else (destination,)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ "
                         f"in length")
    src = [check_axis(a, x.ndim, "source") for a in src]
    dst = [check_axis(a, x.ndim, "destination") for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axes")
    order = [a for a in range(x.ndim) if a not in src]
    for s, t in sorted(zip(dst, src)):
        order.insert(s, t)
    return permute_dims(x, tuple(order))


def unstack(x, /, *, axis=0) -> tuple:
    _check(x, "unstack")
    if x.ndim == 0:
        raise ValueError("unstack needs at least one dimension")
    axis = check_axis(axis, x.ndim)
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))


def roll(x, /, shift, *, axis=None) -> Array:
    _check(x, "roll")
    if axis is None:
        flat = reshape(x, (-1,))
        return reshape(roll(flat, shift, axis=0), x.shape)
    shifts = shift if isinstance(shift, tuple) else (shift,)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift} and axis {axis} differ in length")
    out = x
    for s, a in zip(shifts, axes):
        a = check_axis(a, x.ndim)
        n = x.shape[a]
        if n == 0:
            continue
        s = operator.index(s) % n
        if s == 0:
            continue
        head = (slice(None),) * a
        out = concat([out[head + (slice(n - s, None),)], out[head + (slice(0, n - s),)]],
                     axis=a)
    if out is x:
        out = Array._record(CAST, (x._arg(),), x.shape, x.dtype, x.device)
    return out


def tile(x, repetitions, /) -> Array:
    _check(x, "tile")
    reps = _ints(repetitions, "tile", "repetitions")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: repetitions must be non-negative, got {repetitions}")
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    y = reshape(x, shape)
    # (r0, s0, r1, s1, ...) broadcast, then merged: a copy laid out as the tiling
    expanded = reshape(y, tuple(v for s in shape for v in (1, s)))
    big = broadcast_to(expanded, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(big, tuple(r * s for r, s in zip(reps, shape)))


def repeat(x, repeats, /, *, axis=None) -> Array:
    _check(x, "repeat")
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    axis = check_axis(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(repeats, Array):   # data-dependent shape: the counts come to the host
        counts = [int(c) for c in repeats.__array__().reshape(-1)]
        if len(counts) == 1:
            counts = counts * n
    else:
        counts = [operator.index(repeats)] * n
    if len(counts) != n or any(c < 0 for c in counts):
        raise ValueError(f"repeat: repeats must be non-negative and broadcast to {n}, got "
                         f"{repeats!r}")
    if len(set(counts)) <= 1:
        c = counts[0] if counts else 0
        y = expand_dims(x, axis=axis + 1)
        shape = x.shape[:axis + 1] + (c,) + x.shape[axis + 1:]
        big = broadcast_to(y, shape)
        return reshape(big, x.shape[:axis] + (n * c,) + x.shape[axis + 1:])
    head = (slice(None),) * axis
    parts = [repeat(x[head + (slice(i, i + 1),)], c, axis=axis) for i, c in enumerate(counts)
             if c]
    if not parts:
        return reshape(x[head + (slice(0, 0),)], x.shape[:axis] + (0,) + x.shape[axis + 1:])
    return concat(parts, axis=axis)
