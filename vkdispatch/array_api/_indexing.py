"""Indexing. Basic indexing (integers, slices, `...` and `None`) selects a strided view
(no copy); `__setitem__` writes through one. A key with arrays (integer arrays, one
boolean mask) is NumPy's advanced indexing: the basic part selects a view, and a
generated gather / scatter kernel (see _gather) goes through the index arrays; a mask
becomes the coordinates of its True elements (see _compact: the count is read from the
device, a sync point). Integers beside arrays count as advanced indices for where the
broadcast index dimensions go: in place of the advanced indices when those are
adjacent in the key, else first (NumPy's rule; the standard leaves slices mixed with
arrays unspecified). Assigning through repeated integer indices writes one of their
values, which one is unspecified (as the standard leaves it)."""
from __future__ import annotations

import operator

from ..execution import lazy
from . import _dtypes as d
from ._array import Array
from ._elementwise import CAST, broadcast_shapes, node_arg


def _has_array(key) -> bool:
    if type(key) is tuple:
        return any(isinstance(k, Array) for k in key)
    return isinstance(key, Array)


def _normalize_key(key, ndim: int) -> list:
    if not isinstance(key, tuple):
        key = (key,)
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, slice)):
            try:
                operator.index(k)
            except TypeError:
                raise IndexError(f"invalid index {k!r}: use integers, slices, ... and "
                                 f"None") from None
            if isinstance(k, bool):
                raise IndexError("boolean scalar indices are not supported")
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices ({used}) for an array of {ndim} dimensions")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - used) + key[i + 1:]
    else:
        key = key + (slice(None),) * (ndim - used)
    return list(key)


def view_of(x: Array, key):
    """(shape, offset, strides) of `x[key]` relative to x's placed view."""
    v = x._placed()
    key = _normalize_key(key, x.ndim)
    shape, strides, offset, axis = [], [], v.offset, 0
    for k in key:
        if k is None:
            shape.append(1)
            strides.append(0)
            continue
        n, st = x.shape[axis], v.strides[axis]
        axis += 1
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            length = len(range(start, stop, step))
            shape.append(length)
            strides.append(st * step)
            if length:
                offset += start * st
        else:
            i = operator.index(k)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {axis - 1} with size {n}")
            offset += (i % n) * st
    return tuple(shape), offset, tuple(strides), v


def getitem(x: Array, key) -> Array:
    if _has_array(key):
        return _advanced.getitem(x, key)
    shape, offset, strides, v = view_of(x, key)
    return Array._new(shape, x.dtype, x.device, view=lazy.View(v.storage, offset, strides))


def check_writable(shape: tuple, strides: tuple) -> None:
    """ValueError for a view whose elements share memory (a broadcast view, stride 0
    along an axis longer than 1): a write through it would write one element several
    times, in no set order (NumPy makes such views read-only). An empty view has no
    elements to share (its contiguous strides may hold zeros)."""
    if 0 not in shape and any(st == 0 and n > 1 for n, st in zip(shape, strides)):
        raise ValueError(f"cannot write through a broadcast view (shape {shape}, element "
                         f"strides {strides}): its elements share memory; write into a "
                         f"copy (xp.asarray(x, copy=True)) instead")


def setitem(x: Array, key, value) -> None:
    if _has_array(key):
        return _advanced.setitem(x, key, value)
    shape, offset, strides, v = view_of(x, key)
    check_writable(shape, strides)
    target = lazy.View(v.storage, offset, strides)
    if isinstance(value, Array):
        if d.promote(value.dtype, x.dtype) is not x.dtype:
            raise TypeError(f"cannot assign a {value.dtype.name} array into a {x.dtype.name} "
                            f"array (it would need a type the target does not hold)")
        if broadcast_shapes(value.shape, shape) != shape:
            raise ValueError(f"cannot broadcast a value of shape {value.shape} to the "
                             f"selection's shape {shape}")
        arg = value._arg()
    else:
        d.scalar_dtype(value, x.dtype)
        arg = node_arg(value, x.dtype)
    if 0 in shape:
        return
    lazy.record_write(CAST, (arg,), shape, x.dtype, target)


from . import _advanced  # noqa: E402  (it builds on the basic indexing above)
