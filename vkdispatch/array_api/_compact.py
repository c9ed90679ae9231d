"""nonzero, and the stream compaction under boolean-mask indexing: a two-level scan of
a contiguous bool array on the device (kernels in _compact_kernels).

1. Count the True elements of each block (at most MAX_BLOCKS blocks).
2. Scan the counts into each block's first output position, the total after them.
3. The host reads the total (the result's data-dependent shape: a sync point).
4. Walk each block again and write the row-major coordinates of each True element at
   its position."""
from __future__ import annotations

import math

from ..codegen.builder import Builder
from ..execution import lazy
from . import _compact_kernels as kernels
from . import _dtypes as d
from ._array import Array
from ._elementwise import CAST, apply
from ._gather import view_of
from ._info import default_int
from ._kernels import KernelCache, launch

WORKGROUPS_ON_CPU = False   # tests turn it on to run the GPU kernels on CPU drivers
_kernels = KernelCache()


def _kernel(ctx, name: str, generate, key: tuple, params: tuple):
    return _kernels.get(ctx, (generate,) + key,
                        lambda dev: generate(Builder(name, dev), *key), params)


def _variant(device) -> "kernels.Variant":
    """Workgroup kernels on GPUs; serial block walks on CPU drivers."""
    cpu = device.device_type == "cpu" and not WORKGROUPS_ON_CPU
    return kernels.SERIAL if cpu else kernels.WORKGROUPS


class _CountOp:
    """Block counts and their exclusive scan, the total last: args (contiguous mask)."""
    __slots__ = ("key", "variant")

    def __init__(self, variant):
        self.key = ("mask_count", variant.name)
        self.variant = variant

    def record(self, graph, node) -> None:
        (mask,) = node.args
        n = math.prod(mask.shape)
        v = self.variant
        size, nb = v.blocks(n)
        ctx = graph.context
        out, bits = node.target.storage.buffer, view_of(mask).storage.buffer
        count = _kernel(ctx, "vkd_mask_count", v.count, (), (("out", out), ("mask", bits)))
        values = {"n": n, "size": size, "nb": nb, "o": view_of(mask).offset}
        launch(graph, count, v.groups(ctx, nb), [out, bits], values)
        scan = _kernel(ctx, "vkd_mask_scan", kernels.scan, (), (("counts", out),))
        launch(graph, scan, (1, 1, 1), [out], values)


class _CoordsOp:
    """Row-major coordinates of the True elements, one row per axis: args (contiguous
    mask, the counts made by _CountOp)."""
    __slots__ = ("key", "variant")

    def __init__(self, variant):
        self.key = ("mask_coords", variant.name)
        self.variant = variant

    def record(self, graph, node) -> None:
        mask, counts = node.args
        rank, total = node.shape
        if total == 0:
            return
        n = math.prod(mask.shape)
        v = self.variant
        size, nb = v.blocks(n)
        ctx = graph.context
        buffers = [node.target.storage.buffer, view_of(mask).storage.buffer,
                   view_of(counts).storage.buffer]
        kernel = _kernel(ctx, "vkd_mask_coords", v.coords, (rank, node.dtype),
                         tuple(zip(("out", "mask", "counts"), buffers)))
        values = {"n": n, "size": size, "nb": nb, "o": view_of(mask).offset, "total": total}
        for j, s in enumerate(mask.shape):
            values[f"d{j}"] = s
        launch(graph, kernel, v.groups(ctx, nb), buffers, values)


_OPS = {v.name: (_CountOp(v), _CoordsOp(v)) for v in (kernels.SERIAL, kernels.WORKGROUPS)}


def true_coordinates(mask: Array) -> Array:
    """A (mask.ndim, number of True elements) array of default-int coordinates of the
    True elements of bool `mask` (ndim >= 1), in row-major order. Reads the count from
    the device (a sync point)."""
    shape, device = mask.shape, mask.device
    t = default_int(device)
    n = math.prod(shape)
    if n == 0:
        return Array._record(CAST, (lazy.Scalar(0, t),), (len(shape), 0), t, device)
    if mask._placed().strides != lazy.contiguous_strides(shape):
        mask = Array._record(CAST, (mask._arg(),), shape, d.bool, device)   # contiguous
    leaf = lazy.Leaf(mask._placed(), shape, d.bool)
    variant = _variant(device.context.device)
    count, coords = _OPS[variant.name]
    nb = variant.blocks(n)[1]
    counts = Array._record(count, (leaf,), (nb + 1,), d.int32, device)
    total = int(counts[nb])
    counts_leaf = lazy.Leaf(counts._placed(), counts.shape, d.int32)
    return Array._record(coords, (leaf, counts_leaf), (len(shape), total), t, device)


def nonzero(x, /) -> tuple:
    """The indices of the nonzero (True) elements of `x`, one default-int array per
    axis, in row-major order. The count is read from the device (a sync point); 0-d
    input raises ValueError, as the standard asks."""
    if not isinstance(x, Array):
        raise TypeError(f"nonzero takes an array, got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("nonzero of a 0-d array is not defined; use nonzero(atleast_1d) "
                         "(xp.reshape(x, (1,)))")
    mask = x if x.dtype is d.bool else apply("not_equal", x, 0)
    coords = true_coordinates(mask)
    return tuple(coords[j] for j in range(x.ndim))
