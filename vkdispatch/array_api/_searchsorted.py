"""searchsorted: a binary search per element of x2 in sorted 1-D x1, on the device
(the kernel is `_sort_kernels.search_kernel`; values compare by sort's keys, so NaNs
are the largest values and -0.0 == +0.0, as sort orders them)."""
from __future__ import annotations

import math

from ..execution import lazy
from . import _dtypes as d
from . import _sort_kernels as K
from ._array import Array
from ._info import default_int
from ._kernels import KernelCache, grid, launch
from ._sorting import MAX_ELEMENTS, check_bindable

_SIDES = ("left", "right")
_kernels = KernelCache()


class _SearchOp:
    """The lazy node op: args (Leaf x1, Leaf x2[, Leaf sorter]) compared as `dtype`."""
    __slots__ = ("key", "right", "dtype")

    def __init__(self, right: bool, dtype):
        self.key = ("searchsorted", right, dtype)
        self.right, self.dtype = right, dtype

    def record(self, graph, node) -> None:
        count = math.prod(node.shape)
        if count == 0:
            return
        x1, x2 = node.args[:2]
        sorter = node.args[2] if len(node.args) > 2 else None
        ctx = graph.context
        rank = len(x2.shape)
        w = K.group_size(ctx.device)
        out = node.target
        values = {"total": count, "m": x1.shape[0], "right": int(self.right),
                  "oo": out.offset, "o1": x1.view.offset, "s1": x1.view.strides[0],
                  "o2": x2.view.offset}
        for j, s in enumerate(x2.shape):
            values[f"d{j}"] = s
            values[f"so{j}"] = out.strides[j]
            values[f"sx{j}"] = x2.view.strides[j]
        buffers = [out.storage.buffer, x1.view.storage.buffer, x2.view.storage.buffer]
        st = None
        if sorter is not None:
            st = sorter.dtype
            values.update(os=sorter.view.offset, ss=sorter.view.strides[0])
            buffers.append(sorter.view.storage.buffer)
        args = (rank, self.dtype, x1.dtype, x2.dtype, st, node.dtype, w)
        kern = _kernels.get(ctx, args, lambda dev: K.search_kernel(*args, dev))
        launch(graph, kern, grid(ctx, -(-count // w)), buffers, values)


def _real(x, name: str, what: str) -> None:
    if not isinstance(x, Array):
        raise TypeError(f"searchsorted's {name} must be an array, got {type(x).__name__}")
    if x.dtype not in d.CATEGORY_SETS["real numeric"] and x.dtype is not d.bool:
        raise TypeError(f"searchsorted's {name} must have a real numeric or boolean dtype, "
                        f"got {x.dtype.name}{what}")


def searchsorted(x1, x2, /, *, side="left", sorter=None) -> Array:
    from ._creation import asarray
    _real(x1, "x1", " (complex numbers have no order)")
    if x1.ndim != 1:
        raise ValueError(f"searchsorted's x1 must be 1-D, got shape {x1.shape}")
    if isinstance(x2, (bool, int, float)):
        x2 = asarray(x2, dtype=d.scalar_dtype(x2, x1.dtype), device=x1.device)
    _real(x2, "x2", " (complex numbers have no order)")
    t = d.promote(x1.dtype, x2.dtype)
    if side not in _SIDES:
        raise ValueError(f"searchsorted's side must be 'left' or 'right', got {side!r}")
    if x2.size > MAX_ELEMENTS or x1.size > MAX_ELEMENTS:
        raise ValueError(f"searchsorted: arrays of up to {MAX_ELEMENTS} elements (32-bit "
                         f"indexing), got shapes {x1.shape} and {x2.shape}")
    out_t = default_int(x1.device)
    args = [lazy.Leaf(x1._placed(), x1.shape, x1.dtype),
            lazy.Leaf(x2._placed(), x2.shape, x2.dtype)]
    if sorter is not None:
        if not isinstance(sorter, Array) or sorter.dtype not in d.CATEGORY_SETS["integer"]:
            raise TypeError(f"searchsorted's sorter must be None or an integer array of "
                            f"indices that sort x1, got "
                            f"{getattr(sorter, 'dtype', type(sorter).__name__)}")
        if sorter.shape != x1.shape:
            raise ValueError(f"searchsorted's sorter must have x1's shape {x1.shape}, got "
                             f"{sorter.shape}")
        args.append(lazy.Leaf(sorter._placed(), sorter.shape, sorter.dtype))
    check_bindable("searchsorted", x1.device, [a.view for a in args],
                   [(math.prod(x2.shape), out_t)])
    return Array._record(_SearchOp(side == "right", t), tuple(args), x2.shape, out_t,
                         x1.device)
