"""nonzero, and the stream compaction under boolean-mask indexing: a two-level scan of
a contiguous bool array on the device.

1. `vkd_mask_count`: the elements are cut into at most MAX_BLOCKS blocks; one
   invocation counts the True elements of its block.
2. `vkd_mask_scan`: one invocation turns the counts into each block's first output
   position (an exclusive prefix sum) and writes the total after them.
3. The host reads the total (the result's data-dependent shape: a sync point).
4. `vkd_mask_coords`: one invocation per block walks its block again and writes the
   row-major coordinates of each True element at its position.
Blocks are walked serially, so loops stay far below lavapipe's 65,535-iteration limit
for any array that fits its storage buffers (2^22 elements: 4096 blocks of 1024)."""
from __future__ import annotations

import math
import weakref

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type
from ..execution import lazy
from ..execution.kernel import EmitOptions, build_kernel
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._array import Array
from ._elementwise import CAST, apply
from ._gather import grid_loop, groups_for, view_of
from ._info import default_int

MAX_BLOCKS = 4096
MIN_BLOCK = 256
_kernels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def blocks(n: int) -> tuple:
    """(block length, block count) for n elements."""
    size = max(MIN_BLOCK, -(-n // MAX_BLOCKS))
    return size, -(-n // size)


def _kernel(ctx, name: str, generate, *key):
    per_ctx = _kernels.setdefault(ctx, {})
    kernel = per_ctx.get((name,) + key)
    if kernel is None:
        limit = ctx.device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
        kernel = per_ctx[(name,) + key] = build_kernel(
            ctx, generate(Builder(name, ctx.device), *key),
            EmitOptions(ctx.codegen_target, name, limit))
    return kernel


def _params(b, out_type):
    out = b.new_var(out_type, ir.BUFFER, name="out", mutable=True)
    b.add_param("out", "buffer", out)
    b.require_dtype(out_type)
    mask = b.new_var(d.bool, ir.BUFFER, name="mask", mutable=True)
    b.add_param("mask", "buffer", mask)
    return out, mask


def _walk_block(b, mask, blk, size, offset, n, body_of_true):
    """Emit: for e in this block's elements (offset + e into `mask`), when mask[e]:
    body_of_true(e)."""
    start = b.bind(ops.make("mul", blk, size))
    stop = b.bind(ops.make("min", ops.make("add", start, size), n))
    e = b.new_var(d.int32, name="e")
    loop = ir.For(e, start, stop, ir.Lit(1, d.int32), [])
    b.emit(loop)
    with b.nested(loop.body, "block element"):
        ref = ops.make("index", mask, ops.make("add", offset, e), dtype=storage_type(d.bool))
        hit = []
        b.emit(ir.If(load_node(ref), hit))
        with b.nested(hit, "true element"):
            body_of_true(e)


def _count(b):
    with b.active():
        counts, mask = _params(b, d.int32)
        n, size, nb, offset = (element_kernel.uniform(b, s) for s in ("n", "size", "nb", "o"))
        body, blk = grid_loop(b, nb)
        with b.nested(body, "block"):
            c = b.bind(ir.Lit(0, d.int32), mutable=True)
            _walk_block(b, mask, blk, size, offset, n,
                        lambda e: b.emit(ir.Assign(c, ops.make("add", c, ir.Lit(1, d.int32)))))
            b.emit(ir.Assign(ops.make("index", counts, blk, dtype=d.int32), c))
    return b.finish((64, 1, 1))


def _scan(b):
    with b.active():
        counts = b.new_var(d.int32, ir.BUFFER, name="counts", mutable=True)
        b.add_param("counts", "buffer", counts)
        nb = element_kernel.uniform(b, "nb")
        gid = ops.make("swizzle", ops.make("builtin", attrs=("global_invocation_id",),
                                           dtype=dt.uvec3), attrs=("x",))
        first = []
        b.emit(ir.If(ops.make("eq", convert(gid, d.int32), ir.Lit(0, d.int32)), first))
        with b.nested(first, "scan"):
            total = b.bind(ir.Lit(0, d.int32), mutable=True)
            k = b.new_var(d.int32, name="k")
            loop = ir.For(k, ir.Lit(0, d.int32), nb, ir.Lit(1, d.int32), [])
            b.emit(loop)
            with b.nested(loop.body, "block"):
                ref = ops.make("index", counts, k, dtype=d.int32)
                c = b.bind(ref)
                b.emit(ir.Assign(ref, total))
                b.emit(ir.Assign(total, ops.make("add", total, c)))
            b.emit(ir.Assign(ops.make("index", counts, nb, dtype=d.int32), total))
    return b.finish((1, 1, 1))


def _coords(b, rank, out_type):
    with b.active():
        out, mask = _params(b, out_type)
        counts = b.new_var(d.int32, ir.BUFFER, name="counts", mutable=True)
        b.add_param("counts", "buffer", counts)
        n, size, nb, offset, total = (element_kernel.uniform(b, s)
                                      for s in ("n", "size", "nb", "o", "total"))
        dims = [element_kernel.uniform(b, f"d{j}") for j in range(rank)]
        body, blk = grid_loop(b, nb)
        with b.nested(body, "block"):
            pos = b.bind(ops.make("index", counts, blk, dtype=d.int32), mutable=True)

            def write(e):
                rem = e
                for j in reversed(range(rank)):
                    c = ops.make("mod", rem, dims[j]) if j else rem
                    at = ops.make("add", ops.make("mul", ir.Lit(j, d.int32), total), pos)
                    b.emit(ir.Assign(ops.make("index", out, at, dtype=out_type),
                                     convert(c, out_type)))
                    if j:
                        rem = b.bind(ops.make("div", rem, dims[j]))
                b.emit(ir.Assign(pos, ops.make("add", pos, ir.Lit(1, d.int32))))
            _walk_block(b, mask, blk, size, offset, n, write)
    return b.finish((64, 1, 1))


class _CountOp:
    """Block counts and their exclusive scan, the total last: args (contiguous mask)."""
    __slots__ = ("key",)

    def __init__(self):
        self.key = ("mask_count",)

    def record(self, graph, node) -> None:
        (mask,) = node.args
        n = math.prod(mask.shape)
        size, nb = blocks(n)
        ctx = graph.context
        out = node.target.storage.buffer
        count = _kernel(ctx, "vkd_mask_count", _count)
        values = {"n": n, "size": size, "nb": nb, "o": view_of(mask).offset}
        packed = count.packer.pack({k: values[k] for k in count.uniform_names})
        graph.record_packed(count, groups_for(ctx, nb), [out, view_of(mask).storage.buffer],
                            packed)
        scan = _kernel(ctx, "vkd_mask_scan", _scan)
        graph.record_packed(scan, (1, 1, 1), [out], scan.packer.pack({"nb": nb}))


class _CoordsOp:
    """Row-major coordinates of the True elements, one row per axis: args (contiguous
    mask, the counts made by _CountOp)."""
    __slots__ = ("key",)

    def __init__(self):
        self.key = ("mask_coords",)

    def record(self, graph, node) -> None:
        mask, counts = node.args
        rank, total = node.shape
        if total == 0:
            return
        n = math.prod(mask.shape)
        size, nb = blocks(n)
        ctx = graph.context
        kernel = _kernel(ctx, "vkd_mask_coords", _coords, rank, node.dtype)
        values = {"n": n, "size": size, "nb": nb, "o": view_of(mask).offset, "total": total}
        for j, s in enumerate(mask.shape):
            values[f"d{j}"] = s
        packed = kernel.packer.pack({k: values[k] for k in kernel.uniform_names})
        buffers = [node.target.storage.buffer, view_of(mask).storage.buffer,
                   view_of(counts).storage.buffer]
        graph.record_packed(kernel, groups_for(ctx, nb), buffers, packed)


COUNT, COORDS = _CountOp(), _CoordsOp()


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
    nb = blocks(n)[1]
    counts = Array._record(COUNT, (leaf,), (nb + 1,), d.int32, device)
    total = int(counts[nb])
    counts_leaf = lazy.Leaf(counts._placed(), counts.shape, d.int32)
    return Array._record(COORDS, (leaf, counts_leaf), (len(shape), total), t, device)


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
