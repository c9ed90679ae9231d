"""The kernels of the mask compaction (see _compact), in two variants over the same
block layout (at most MAX_BLOCKS blocks, counts scanned by one workgroup):

- `WORKGROUPS` (GPUs): a workgroup takes a block, its WG invocations reading
  consecutive elements (coalesced); counts through a shared-memory tree, places the
  True elements by a shared-memory scan of each chunk of WG flags.
- `SERIAL` (CPU drivers, where barriers are costly: lavapipe ran the workgroup kernels
  about 9x slower): one invocation walks a block in order, counting, then writing.
Loops stay far below lavapipe's 65,535-iteration limit for any array that fits its
storage buffers."""
from __future__ import annotations

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.variables import convert, load_node, storage_type
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._gather import grid_loop
from ._kernels import grid

WG = 128             # invocations per workgroup (every Vulkan device runs 128)
MAX_BLOCKS = 4096


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


def _group_count(b):
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


def scan(b):
    """Block counts -> each block's first position, the total after them (one workgroup:
    serial runs of at most MAX_BLOCKS / WG counts, then a scan of their sums)."""
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


def _coords_params(b, rank, out_type) -> tuple:
    """The parameters of both coords kernels: (out, mask, counts, n, size, nb, offset,
    total, dims)."""
    out, mask = _buffer(b, "out", out_type), _buffer(b, "mask", d.bool)
    counts = _buffer(b, "counts", d.int32)
    n, size, nb, offset, total = (element_kernel.uniform(b, s)
                                  for s in ("n", "size", "nb", "o", "total"))
    dims = [element_kernel.uniform(b, f"d{j}") for j in range(rank)]
    return out, mask, counts, n, size, nb, offset, total, dims


def _group_coords(b, rank, out_type):
    with b.active():
        out, mask, counts, n, size, nb, offset, total, dims = _coords_params(b, rank, out_type)
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
                    write_coords(b, out, e, pos, total, dims)
                chunk_total = b.bind(_at(part, _i(WG - 1)))
                _barrier(b)  # part is read before the next chunk writes it
                b.emit(ir.Assign(base, ops.make("add", base, chunk_total)))
    return b.finish((WG, 1, 1))


def _walk_block(b, mask, blk, size, offset, n, body_of_true):
    """Emit: for e in this block's elements in order, when mask[offset + e]:
    body_of_true(e)."""
    start, stop = _block_range(b, blk, size, n)
    e = b.new_var(d.int32, name="e")
    loop = ir.For(e, start, stop, _i(1), [])
    b.emit(loop)
    with b.nested(loop.body, "block element"):
        hit = []
        b.emit(ir.If(load_node(_at(mask, ops.make("add", offset, e))), hit))
        with b.nested(hit, "true element"):
            body_of_true(e)


def _serial_count(b):
    with b.active():
        counts, mask = _buffer(b, "out", d.int32), _buffer(b, "mask", d.bool)
        n, size, nb, offset = (element_kernel.uniform(b, s) for s in ("n", "size", "nb", "o"))
        body, blk = grid_loop(b, nb)
        with b.nested(body, "block"):
            c = b.bind(_i(0), mutable=True)
            _walk_block(b, mask, blk, size, offset, n,
                        lambda e: b.emit(ir.Assign(c, ops.make("add", c, _i(1)))))
            b.emit(ir.Assign(_at(counts, blk), c))
    return b.finish((64, 1, 1))


def write_coords(b, out, e, pos, total, dims) -> None:
    """out[j * total + pos] = coordinate j of row-major element e (shape `dims`)."""
    rem = e
    for j in reversed(range(len(dims))):
        coord = ops.make("mod", rem, dims[j]) if j else rem
        at = ops.make("add", ops.make("mul", _i(j), total), pos)
        b.emit(ir.Assign(_at(out, at), convert(coord, out.dtype)))
        if j:
            rem = b.bind(ops.make("div", rem, dims[j]))


def _serial_coords(b, rank, out_type):
    with b.active():
        out, mask, counts, n, size, nb, offset, total, dims = _coords_params(b, rank, out_type)
        body, blk = grid_loop(b, nb)
        with b.nested(body, "block"):
            pos = b.bind(_at(counts, blk), mutable=True)

            def write(e):
                write_coords(b, out, e, pos, total, dims)
                b.emit(ir.Assign(pos, ops.make("add", pos, _i(1))))
            _walk_block(b, mask, blk, size, offset, n, write)
    return b.finish((64, 1, 1))


class Variant:
    """One way of running the compaction: `count(b)` and `coords(b, rank, type)` build
    its kernels; blocks of whole chunks of `chunk` elements; `per_group`: blocks per
    workgroup (the launch has ceil(blocks / per_group) groups)."""
    __slots__ = ("name", "count", "coords", "chunk", "per_group")

    def __init__(self, name, count, coords, chunk, per_group):
        self.name, self.count, self.coords = name, count, coords
        self.chunk, self.per_group = chunk, per_group

    def blocks(self, n: int) -> tuple:
        """(block length, block count) for n elements."""
        size = self.chunk * max(1, -(-n // (MAX_BLOCKS * self.chunk)))
        return size, -(-n // size)

    def groups(self, ctx, nb: int) -> tuple:
        return grid(ctx, -(-nb // self.per_group))


WORKGROUPS = Variant("groups", _group_count, _group_coords, WG, 1)
SERIAL = Variant("serial", _serial_count, _serial_coords, 256, 64)
