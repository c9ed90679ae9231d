"""Flat <-> multi-dimensional index helpers (C order, like numpy)."""
from __future__ import annotations

from ...base import dtype as dt
from ..variables import ShaderVariable, convert, to_node
from ..builder import current


def ravel_index(indices, shape) -> ShaderVariable:
    """sum(indices[k] * stride[k]) for a C-ordered array of `shape`."""
    if len(indices) != len(shape):
        raise ValueError(f"ravel_index got {len(indices)} indices for a {len(shape)}-d shape")
    b = current()
    flat = None
    for idx, size in zip(indices, shape):
        i = ShaderVariable(b, convert(to_node(idx, dt.uint32), dt.uint32))
        flat = i if flat is None else flat * size + i
    return flat


def unravel_index(flat, shape) -> tuple:
    """The C-order indices of `flat` in an array of `shape` (a tuple of uint values)."""
    b = current()
    f = ShaderVariable(b, convert(to_node(flat, dt.uint32), dt.uint32))
    out = []
    for size in reversed(shape[1:]):
        out.append(f % size)
        f = f // size
    out.append(f)
    return tuple(reversed(out))
