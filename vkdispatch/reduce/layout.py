"""Which passes reduce an array of `shape` along `axes`: each pass sees its input as
(rows, row_len, inner) and reduces the middle axis (see stage.py)."""
from __future__ import annotations

import math
from typing import Optional, Sequence


def normalize_axes(axes, ndim: int) -> Optional[tuple]:
    """`axes` (None, an int or a sequence of ints, negative from the end) as a sorted
    tuple of distinct axes in range; None means all. ValueError/TypeError name the
    argument and the valid range."""
    if axes is None:
        return None
    items = (axes,) if isinstance(axes, int) else axes
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"axes must be None, an int or a sequence of ints, got {axes!r}") from None
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"axes must hold ints, got {a!r} in {axes!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axes: axis {a} is out of range for an input of {ndim} "
                             f"dimension(s); valid axes are {-ndim} to {ndim - 1}")
        a %= ndim
        if a in out:
            raise ValueError(f"axes: axis {a} is given twice in {axes!r}")
        out.append(a)
    return tuple(sorted(out))


def kept_shape(shape: Sequence[int], axes: Optional[tuple]) -> tuple:
    """The result's shape: (1,) for a reduction over every axis, else the kept axes."""
    if axes is None:
        return (1,)
    kept = tuple(n for i, n in enumerate(shape) if i not in axes)
    return kept or (1,)


def passes(shape: Sequence[int], axes: Optional[tuple]) -> list:
    """[(rows, row_len, inner), ...]: the passes, in order, each reducing the middle
    axis of the previous one's result (the first reads the input). Adjacent axes of the
    same kind are merged; the last reduced group goes first, so every pass after the
    first reads a contiguous result. At least one pass (row_len 1 when nothing is
    reduced: the map stage alone)."""
    reduced = set(range(len(shape))) if axes is None else set(axes)
    groups = []                        # [size, is_reduced], merged
    for i, n in enumerate(shape):
        red = i in reduced
        if n == 1:
            continue
        if groups and groups[-1][1] == red:
            groups[-1][0] *= n
        else:
            groups.append([n, red])
    out = []
    while True:
        last = max((j for j, g in enumerate(groups) if g[1]), default=None)
        if last is None:
            break
        rows = math.prod(g[0] for g in groups[:last])
        inner = math.prod(g[0] for g in groups[last + 1:])
        out.append((rows, groups[last][0], inner))
        groups = _merge(groups[:last] + groups[last + 1:])
    if not out:
        out.append((math.prod(shape), 1, 1))
    return out


def _merge(groups: list) -> list:
    merged = []
    for size, red in groups:
        if merged and merged[-1][1] == red:
            merged[-1][0] *= size
        else:
            merged.append([size, red])
    return merged
