"""Advanced indexing: keys with integer arrays or one boolean mask (see _indexing's
docstring for the rules)."""
from __future__ import annotations

import math
import operator

from ..execution import lazy
from . import _dtypes as d
from . import _indexing as basic
from ._array import Array
from ._compact import true_coordinates
from ._elementwise import CAST, WHERE, broadcast_shapes, node_arg
from ._gather import IndexedCopy
from ._take import check_bounds, gather


class _Key:
    """A key with arrays, split: `basic` (the key of the view it indexes: each array
    replaced by full slices), `arrays` ((integer array, view axis)), `masks` ((bool
    array, first view axis, its place in `basic`)), `start` (where the index dimensions go in the result)."""
    __slots__ = ("basic", "arrays", "masks", "start")


def _split(x: Array, key) -> _Key:
    key = key if type(key) is tuple else (key,)
    entries = []
    for k in key:
        if isinstance(k, Array):
            if k.dtype is d.bool:
                entries.append(("mask", k, k.ndim))
            elif k.dtype in d.INTEGER:
                entries.append(("array", k, 1))
            else:
                raise IndexError(f"arrays used as indices must have an integer or bool "
                                 f"dtype, got {k.dtype.name}")
        elif k is None:
            entries.append(("none", k, 0))
        elif k is Ellipsis:
            entries.append(("ellipsis", k, 0))
        elif isinstance(k, slice):
            entries.append(("slice", k, 1))
        elif isinstance(k, bool):
            raise IndexError("boolean scalar indices are not supported; use a 0-d bool "
                             "array")
        else:
            try:
                entries.append(("int", operator.index(k), 1))
            except TypeError:
                raise IndexError(f"invalid index {k!r}: use integers, slices, ..., None, "
                                 f"integer arrays or a bool array") from None
    kinds = [e[0] for e in entries]
    if kinds.count("ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if kinds.count("mask") > 1:
        raise IndexError("only one boolean array index is supported")
    if "mask" in kinds and "array" in kinds:
        raise IndexError("a boolean array index cannot be combined with integer arrays")
    used = sum(e[2] for e in entries)
    if used > x.ndim:
        raise IndexError(f"too many indices ({used}) for an array of {x.ndim} dimensions")
    if "ellipsis" in kinds:
        i = kinds.index("ellipsis")
        entries[i:i + 1] = [("slice", slice(None), 1)] * (x.ndim - used)
    out = _Key()
    out.basic, out.arrays, out.masks = [], [], []
    view_axis = axis = 0
    advanced = []
    for pos, (kind, k, width) in enumerate(entries):
        if kind in ("int", "array", "mask"):
            advanced.append((pos, view_axis))
        if kind == "none":
            out.basic.append(None)
            view_axis += 1
        elif kind in ("slice", "int"):
            out.basic.append(k)
            view_axis += kind == "slice"
        elif kind == "array":
            out.basic.append(slice(None))
            out.arrays.append((k, view_axis))
            view_axis += 1
        else:
            dims = x.shape[axis:axis + width]
            if any(m not in (n, 0) for m, n in zip(k.shape, dims)):
                raise IndexError(f"a boolean index of shape {k.shape} does not match the "
                                 f"indexed dimensions {dims} (each must be equal, or 0)")
            out.masks.append((k, view_axis, len(out.basic)))
            out.basic.extend([slice(None)] * width)
            view_axis += width
        axis += width
    adjacent = all(b[0] == a[0] + 1 for a, b in zip(advanced, advanced[1:]))
    out.start = advanced[0][1] if adjacent else 0
    return out


def _indices(k: _Key, y: Array) -> list:
    """(integer array, view axis, checked) of every index; a mask's True coordinates
    are read from the device here."""
    out = [(a, axis, False) for a, axis in k.arrays]
    for mask, axis, _ in k.masks:
        if mask.ndim:
            coords = true_coordinates(mask)
            out += [(coords[j], axis + j, True) for j in range(mask.ndim)]
    check_bounds([(a, y.shape[axis], axis) for a, axis, ok in out if not ok])
    return out


def _layout(y: Array, indices: list, start: int) -> tuple:
    """(result shape, per result dimension its view axis or -1, index axes)."""
    try:
        wide = broadcast_shapes(*[a.shape for a, _, _ in indices])
    except ValueError as exc:
        raise IndexError(f"index arrays do not broadcast together: {exc}") from None
    index_axes = tuple(axis for _, axis, _ in indices)
    rest = [j for j in range(y.ndim) if j not in index_axes]
    shape = tuple(y.shape[j] for j in rest[:start]) + wide + tuple(y.shape[j] for j in
                                                                     rest[start:])
    axes = tuple(rest[:start]) + (-1,) * len(wide) + tuple(rest[start:])
    return shape, axes, index_axes


def getitem(x: Array, key) -> Array:
    k = _split(x, key)
    if k.masks and k.masks[0][0].ndim == 0:
        return _zero_d_mask(x, k)
    y = basic.getitem(x, tuple(k.basic))
    indices = _indices(k, y)
    shape, axes, index_axes = _layout(y, indices, k.start)
    return gather(y, [a for a, _, _ in indices], axes, index_axes, k.start, shape)


def _zero_d_mask(x: Array, k: _Key) -> Array:
    """A 0-d mask adds a dimension of length 1 (True) or 0 (False) where it stands; a
    copy, as every advanced index gives."""
    mask, axis, pos = k.masks[0]
    keep = bool(mask)
    y = basic.getitem(x, tuple(k.basic[:pos]) + (None,) + tuple(k.basic[pos:]))
    if not keep:
        y = basic.getitem(y, (slice(None),) * axis + (slice(0, 0),))
    return Array._record(CAST, (y._arg(),), y.shape, y.dtype, y.device)


def setitem(x: Array, key, value) -> None:
    k = _split(x, key)
    y = basic.getitem(x, tuple(k.basic))
    view = y._view
    basic.check_writable(y.shape, view.strides)
    if isinstance(value, Array):
        if d.promote(value.dtype, x.dtype) is not x.dtype:
            raise TypeError(f"cannot assign a {value.dtype.name} array into a {x.dtype.name} "
                            f"array (it would need a type the target does not hold)")
    else:
        d.scalar_dtype(value, x.dtype)
    if k.masks and not k.arrays:
        if _masked_where(x, y, k.masks[0], value):
            return
        if k.masks[0][0].ndim == 0:
            raise ValueError(f"cannot broadcast a value of shape {value.shape} to the "
                             f"selection of a 0-d boolean index")
    indices = _indices(k, y)
    shape, axes, index_axes = _layout(y, indices, k.start)
    if not isinstance(value, Array):
        value = Array._record(CAST, (node_arg(value, x.dtype),), (), x.dtype, x.device)
    elif value.dtype is not x.dtype:
        value = Array._record(CAST, (value._arg(),), value.shape, x.dtype, x.device)
    if broadcast_shapes(value.shape, shape) != shape:
        raise ValueError(f"cannot broadcast a value of shape {value.shape} to the "
                         f"selection's shape {shape}")
    if math.prod(shape) == 0:
        return
    wide = len(shape) - (y.ndim - len(index_axes))
    op = IndexedCopy(True, axes, index_axes, k.start, wide, y.shape)
    args = tuple(_apart(a, view.storage) for a in [value] + [a for a, _, _ in indices])
    lazy.record_write(op, args, shape, x.dtype, view)


def _apart(a: Array, storage) -> "lazy.Leaf":
    """`a` as a scatter's argument: a copy when it is in the memory being written (the
    scatter writes other elements than it reads, which one kernel would race on)."""
    if a._placed().storage is storage:
        a = Array._record(CAST, (a._arg(),), a.shape, a.dtype, a.device)
    return lazy.Leaf(a._placed(), a.shape, a.dtype)


def _masked_where(x: Array, y: Array, mask_at: tuple, value) -> bool:
    """`y[mask] = value` as y = where(mask, value, y) (no sync, one fused kernel) when
    the value does not vary along the selection's masked dimension; False otherwise."""
    mask, axis, _ = mask_at
    m = mask.ndim
    trailing = y.ndim - axis - m
    if isinstance(value, Array) and value.ndim > trailing:
        at = value.ndim - trailing - 1
        if value.shape[at] != 1:
            return False
        vv = value._placed()
        arg = lazy.Leaf(lazy.View(vv.storage, vv.offset, vv.strides[:at] + (0,) * m
                                  + vv.strides[at + 1:]),
                        value.shape[:at] + (1,) * m + value.shape[at + 1:], value.dtype)
        vshape = arg.shape
    else:
        arg = node_arg(value, x.dtype)
        vshape = value.shape if isinstance(value, Array) else ()
    if broadcast_shapes(vshape, y.shape) != y.shape:
        raise ValueError(f"cannot broadcast a value of shape "
                         f"{getattr(value, 'shape', ())} to the selection")
    if y.size == 0 or mask.size == 0:
        return True
    mv = mask._placed()
    mask_arg = lazy.Leaf(lazy.View(mv.storage, mv.offset, mv.strides + (0,) * trailing),
                         mask.shape + (1,) * trailing, d.bool)
    current = lazy.Leaf(y._view, y.shape, y.dtype)
    lazy.record_write(WHERE, (mask_arg, arg, current), y.shape, x.dtype, y._view)
    return True
