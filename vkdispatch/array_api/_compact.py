"""nonzero, and the stream compaction under boolean-mask indexing: a two-level scan of
a contiguous bool array on the device.

The elements are cut into at most MAX_BLOCKS blocks of whole chunks of WG elements;
each workgroup takes blocks in turn, its WG invocations reading consecutive elements
(coalesced).
1. `vkd_mask_count`: a workgroup counts the True elements of its block (per-invocation
   sums, then a tree in shared memory).
2. `vkd_mask_scan`: one workgroup turns the block counts into each block's first output
   position (an exclusive prefix sum: serial runs per invocation, a scan of their sums)
   and writes the total after them.
3. The host reads the total (the result's data-dependent shape: a sync point).
4. `vkd_mask_coords`: a workgroup walks its block a chunk at a time, scans the chunk's
   flags in shared memory and writes the row-major coordinates of each True element at
   its position.
Loops stay far below lavapipe's 65,535-iteration limit for any array that fits its
storage buffers."""
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
from ._gather import view_of
from ._info import default_int

WG = 128             # invocations per workgroup (every Vulkan device runs 128)
MAX_BLOCKS = 4096
_kernels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def blocks(n: int) -> tuple:
    """(block length, block count) for n elements."""
    size = WG * max(1, -(-n // (MAX_BLOCKS * WG)))
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


def _id(name: str):
    return convert(ops.make("swizzle", ops.make("builtin", attrs=(name,), dtype=dt.uvec3),
                            attrs=("x",)), d.int32)


def _i(v: int) -> ir.Lit:
    return ir.Lit(v, d.int32)


def _buffer(b, name: str, t):
    var = b.new_var(t, ir.BUFFER, name=name, mutable=True)
    b.add_param(name, "buffer", var)
    b.require_dtype(t)
    return var


def _at(var, i):
    return ops.make("index", var, i, dtype=storage_type(var.dtype))


def _barrier(b) -> None:
    b.emit(ir.Eval(ops.make("barrier")))


def _blocks_loop(b, nb):
    """Emit the loop of a workgroup over its blocks (the same for all its invocations,
    so barriers inside are reached by all); returns (body, block index)."""
    blk = b.new_var(d.int32, name="blk")
    loop = ir.For(blk, _id("workgroup_id"), nb, _id("num_workgroups"), [])
    b.emit(loop)
    return loop.body, blk


def _block_range(b, blk, size, n):
    start = b.bind(ops.make("mul", blk, size))
    return start, b.bind(ops.make("min", ops.make("add", start, size), n))


def _count(b):
    with b.active():
        counts, mask = _buffer(b, "out", d.int32), _buffer(b, "mask", d.bool)
        n, size, nb, offset = (element_kernel.uniform(b, s) for s in ("n", "size", "nb", "o"))
        part = b.add_shared(d.int32, WG, "part")
        t = b.bind(_id("local_invocation_id"))
        body, blk = _blocks_loop(b, nb)
        with b.nested(body, "block"):
            start, stop = _block_range(b, blk, size, n)
            c = b.bind(_i(0), mutable=True)
            e = b.new_var(d.int32, name="e")
            loop = ir.For(e, ops.make("add", start, t), stop, _i(WG), [])
            b.emit(loop)
            with b.nested(loop.body, "element"):
                hit = []
                b.emit(ir.If(load_node(_at(mask, ops.make("add", offset, e))), hit))
                hit.append(ir.Assign(c, ops.make("add", c, _i(1))))
            b.emit(ir.Assign(_at(part, t), c))
            _barrier(b)
            half = WG // 2
            while half:
                add = []
                b.emit(ir.If(ops.make("lt", t, _i(half)), add))
                with b.nested(add, "tree"):
                    other = b.bind(_at(part, ops.make("add", t, _i(half))))
                    b.emit(ir.Assign(_at(part, t), ops.make("add", _at(part, t), other)))
                _barrier(b)
                half //= 2
            first = []
            b.emit(ir.If(ops.make("eq", t, _i(0)), first))
            with b.nested(first, "write"):
                b.emit(ir.Assign(_at(counts, blk), _at(part, _i(0))))
            _barrier(b)      # part is read before the next block writes it
    return b.finish((WG, 1, 1))


def _scan(b):
    with b.active():
        counts = _buffer(b, "counts", d.int32)
        nb = element_kernel.uniform(b, "nb")
        part = b.add_shared(d.int32, WG, "part")
        t = b.bind(_id("local_invocation_id"))
        chunk = b.bind(ops.make("div", ops.make("add", nb, _i(WG - 1)), _i(WG)))
        lo = b.bind(ops.make("min", ops.make("mul", t, chunk), nb))
        hi = b.bind(ops.make("min", ops.make("add", lo, chunk), nb))
        k = b.new_var(d.int32, name="k")

        def run(body_of):
            loop = ir.For(k, lo, hi, _i(1), [])
            b.emit(loop)
            with b.nested(loop.body, "run"):
                body_of()
        total = b.bind(_i(0), mutable=True)
        run(lambda: b.emit(ir.Assign(total, ops.make("add", total, _at(counts, k)))))
        b.emit(ir.Assign(_at(part, t), total))
        _barrier(b)
        first = []
        b.emit(ir.If(ops.make("eq", t, _i(0)), first))
        with b.nested(first, "scan of the runs"):
            acc = b.bind(_i(0), mutable=True)
            j = b.new_var(d.int32, name="j")
            loop = ir.For(j, _i(0), _i(WG), _i(1), [])
            b.emit(loop)
            with b.nested(loop.body, "run sum"):
                v = b.bind(_at(part, j))
                b.emit(ir.Assign(_at(part, j), acc))
                b.emit(ir.Assign(acc, ops.make("add", acc, v)))
            b.emit(ir.Assign(_at(counts, nb), acc))
        _barrier(b)
        b.emit(ir.Assign(total, _at(part, t)))

        def exclusive():
            v = b.bind(_at(counts, k))
            b.emit(ir.Assign(_at(counts, k), total))
            b.emit(ir.Assign(total, ops.make("add", total, v)))
        run(exclusive)
    return b.finish((WG, 1, 1))


def _coords(b, rank, out_type):
    with b.active():
        out, mask = _buffer(b, "out", out_type), _buffer(b, "mask", d.bool)
        counts = _buffer(b, "counts", d.int32)
        n, size, nb, offset, total = (element_kernel.uniform(b, s)
                                      for s in ("n", "size", "nb", "o", "total"))
        dims = [element_kernel.uniform(b, f"d{j}") for j in range(rank)]
        part = b.add_shared(d.int32, WG, "part")
        t = b.bind(_id("local_invocation_id"))
        body, blk = _blocks_loop(b, nb)
        with b.nested(body, "block"):
            start, stop = _block_range(b, blk, size, n)
            base = b.bind(_at(counts, blk), mutable=True)
            c = b.new_var(d.int32, name="c")
            chunks = ir.For(c, start, stop, _i(WG), [])
            b.emit(chunks)
            with b.nested(chunks.body, "chunk"):
                e = b.bind(ops.make("add", c, t))
                flag = b.bind(_i(0), mutable=True)
                inside = []
                b.emit(ir.If(ops.make("lt", e, stop), inside))
                with b.nested(inside, "element"):
                    hit = []
                    b.emit(ir.If(load_node(_at(mask, ops.make("add", offset, e))), hit))
                    hit.append(ir.Assign(flag, _i(1)))
                b.emit(ir.Assign(_at(part, t), flag))
                _barrier(b)
                step = 1
                while step < WG:       # inclusive scan of the chunk's flags
                    before = b.bind(_at(part, ops.make("max", ops.make("sub", t, _i(step)),
                                                       _i(0))))
                    mine = b.bind(ops.make("add", _at(part, t), ops.make(
                        "select", ops.make("ge", t, _i(step)), before, _i(0))))
                    _barrier(b)
                    b.emit(ir.Assign(_at(part, t), mine))
                    _barrier(b)
                    step *= 2
                hit = []
                b.emit(ir.If(ops.make("ne", flag, _i(0)), hit))
                with b.nested(hit, "write"):
                    pos = b.bind(ops.make("sub", ops.make("add", base, _at(part, t)), _i(1)))
                    rem = e
                    for j in reversed(range(rank)):
                        coord = ops.make("mod", rem, dims[j]) if j else rem
                        at = ops.make("add", ops.make("mul", _i(j), total), pos)
                        b.emit(ir.Assign(_at(out, at), convert(coord, out_type)))
                        if j:
                            rem = b.bind(ops.make("div", rem, dims[j]))
                chunk_total = b.bind(_at(part, _i(WG - 1)))
                _barrier(b)  # part is read before the next chunk writes it
                b.emit(ir.Assign(base, ops.make("add", base, chunk_total)))
    return b.finish((WG, 1, 1))


def _groups(ctx, nb: int) -> tuple:
    return (min(nb, ctx.device.max_workgroup_count[0]), 1, 1)


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
        graph.record_packed(count, _groups(ctx, nb), [out, view_of(mask).storage.buffer],
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
        graph.record_packed(kernel, _groups(ctx, nb), buffers, packed)


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
