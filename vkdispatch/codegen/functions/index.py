"""Flat <-> multi-dimensional index helpers (C order).

Each function takes two forms, told apart by its first argument, so code written for
NumPy's meaning and code written for vkdispatch 0.1 (whose names are the other way
round) both run as written:

- ravel_index(indices, shape): per-axis indices -> the flat index (np.ravel_multi_index);
  ravel_index(flat, shape): one integer -> its per-axis indices as a uvec2/uvec3 (0.1).
- unravel_index(flat, shape): one integer -> a tuple of per-axis indices (np.unravel_index);
  unravel_index(indices, shape): per-axis indices -> the flat index (0.1).
"""
from __future__ import annotations

from ...base import dtype as dt
from .. import ops
from ..builder import current
from ..variables import ShaderVariable, convert, to_node


def _uint(value) -> ShaderVariable:
    return ShaderVariable(current(), convert(to_node(value, dt.uint32), dt.uint32))


def _axes(value, what: str) -> list:
    """A shape or an index as a list of per-axis values: a tuple/list, or a 2-4
    component integer vector (0.1's buffer shapes carry the element count in w)."""
    if isinstance(value, ShaderVariable) and value.dtype.is_vector:
        if not value.dtype.is_integer:
            raise TypeError(f"{what} must have integer components, got {value.dtype.name}")
        n = min(value.dtype.count, 3)
        return [getattr(value, "xyz"[i]) for i in range(n)]
    if isinstance(value, (tuple, list)):
        if not 1 <= len(value) <= 3:
            raise ValueError(f"{what} must have 1 to 3 axes, got {len(value)}")
        return list(value)
    raise TypeError(f"{what} must be a tuple/list of integers or an integer vector, got "
                    f"{type(value).__name__}")


def _is_single(value) -> bool:
    if isinstance(value, ShaderVariable):
        return value.dtype.is_scalar
    return not isinstance(value, (tuple, list))


def _flat(indices, shape) -> ShaderVariable:
    if len(indices) != len(shape):
        raise ValueError(f"got {len(indices)} indices for a {len(shape)}-d shape")
    flat = None
    for idx, size in zip(indices, shape):
        i = _uint(idx)
        flat = i if flat is None else flat * size + i
    return flat


def _split(flat, shape) -> tuple:
    f = _uint(flat)
    out = []
    for size in reversed(shape[1:]):
        out.append(f % size)
        f = f // size
    out.append(f)
    return tuple(reversed(out))


def ravel_index(index, shape):
    """Per-axis `index` -> the flat C-order index in `shape`; a single integer `index`
    (vkdispatch 0.1's form) -> its per-axis indices in a 2-D or 3-D `shape` as a
    uvec2/uvec3."""
    axes = _axes(shape, "shape")
    if _is_single(index):
        if len(axes) not in (2, 3):
            raise ValueError(f"ravel_index of one integer needs a 2-D or 3-D shape, got "
                             f"{len(axes)} axes")
        parts = [p.node for p in _split(index, axes)]
        return ShaderVariable(current(), ops.make("construct", *parts,
                                                  dtype=dt.uvec2 if len(axes) == 2 else dt.uvec3))
    return _flat(*_index_axes(index, shape, axes))


def unravel_index(index, shape):
    """A flat `index` -> its per-axis C-order indices in `shape` (a tuple of uints);
    per-axis `index` (vkdispatch 0.1's form, a tuple or an integer vector) -> the flat
    index."""
    axes = _axes(shape, "shape")
    if _is_single(index):
        return _split(index, axes)
    return _flat(*_index_axes(index, shape, axes))


def _index_axes(index, shape, axes) -> tuple:
    """(per-axis index, shape axes); a shape given as a vector (0.1's `buf.shape`) with
    more axes than the index is cut to the index's, as 0.1 reads it."""
    idx = _axes(index, "index")
    if isinstance(shape, ShaderVariable) and len(idx) < len(axes):
        axes = axes[:len(idx)]
    return idx, axes
