"""Gathers and scatters through integer index arrays: the generated kernel behind take,
take_along_axis and integer-array / boolean-mask indexing.

One invocation per element of an iteration shape (a gather's result, a scatter's
selection). Its coordinates give a position on the plain side (offset + sum of
coordinate x stride) and on the indexed side (the same, plus index_k x axis stride_k
for K index arrays, each read at its own broadcast strided position). A gather copies
indexed -> plain, a scatter plain -> indexed. Index values wrap once when negative and
are then clamped into their axis, so the kernel never touches memory outside its
buffers; the callers check the values on the host first and raise IndexError."""
from __future__ import annotations

import math

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, storage_type
from ..execution import lazy
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._kernels import KernelCache, grid, launch

LOCAL_SIZE = 64
_kernels = KernelCache()


def _wide(t: dt.DType) -> dt.DType:
    """The type an index of `t` is wrapped and clamped in (32-bit unless 64-bit)."""
    if t.kind == dt.INT:
        return d.int64 if t.itemsize == 8 else d.int32
    return d.uint64 if t.itemsize == 8 else d.uint32


def grid_loop(b, n):
    """Emit a loop giving invocations the elements 0..n-1 (each walks the grid's stride,
    so any n fits the device's workgroup-count limit); returns (loop body, element)."""
    gid = ops.make("swizzle", ops.make("builtin", attrs=("global_invocation_id",),
                                       dtype=dt.uvec3), attrs=("x",))
    groups = ops.make("swizzle", ops.make("builtin", attrs=("num_workgroups",),
                                          dtype=dt.uvec3), attrs=("x",))
    i = b.new_var(d.int32, name="i")
    step = convert(ops.make("mul", groups, ir.Lit(LOCAL_SIZE, dt.uint32)), d.int32)
    loop = ir.For(i, convert(gid, d.int32), n, step, [])
    b.emit(loop)
    return loop.body, i


def _generate(scatter: bool, rank: int, t, index_types: tuple, device) -> ir.Kernel:
    b = Builder("vkd_scatter" if scatter else "vkd_gather", device)
    with b.active():
        def uniform(name):
            return element_kernel.uniform(b, name)

        def buffer(name, ty):
            b.require_dtype(ty)
            var = b.new_var(ty, ir.BUFFER, name=name, mutable=True)
            b.add_param(name, "buffer", var)
            return var

        dst = buffer("dst", t)
        src = buffer("src", t)
        idx = [buffer(f"i{k}", it) for k, it in enumerate(index_types)]
        n = uniform("n")
        dims = [uniform(f"d{j}") for j in range(rank)]
        po, qo = uniform("po"), uniform("qo")
        ps = [uniform(f"ps{j}") for j in range(rank)]
        qs = [uniform(f"qs{j}") for j in range(rank)]
        io = [uniform(f"io{k}") for k in range(len(idx))]
        ist = [[uniform(f"is{k}_{j}") for j in range(rank)] for k in range(len(idx))]
        lengths = [uniform(f"len{k}") for k in range(len(idx))]
        axis_st = [uniform(f"ax{k}") for k in range(len(idx))]
        body, i = grid_loop(b, n)
        with b.nested(body, "element"):
            rem, coords = i, []
            for j in reversed(range(rank)):
                coords.append(b.bind(ops.make("mod", rem, dims[j])))
                if j:
                    rem = b.bind(ops.make("div", rem, dims[j]))
            coords.reverse()
            plain, indexed = po, qo
            for j, c in enumerate(coords):
                plain = ops.make("add", plain, ops.make("mul", c, ps[j]))
                indexed = ops.make("add", indexed, ops.make("mul", c, qs[j]))
            for k, var in enumerate(idx):
                at = io[k]
                for j, c in enumerate(coords):
                    at = ops.make("add", at, ops.make("mul", c, ist[k][j]))
                w = _wide(var.dtype)
                v = b.bind(convert(ops.make("index", var, at, dtype=var.dtype), w),
                           mutable=True)
                length = b.bind(convert(lengths[k], w))
                zero = ir.Lit(0, w)
                clamped = ops.make("select", ops.make("ge", v, length),
                                   ops.make("sub", length, ir.Lit(1, w)), v)
                if w.kind == dt.INT:   # negative: from the end, then clamped at 0 too
                    b.emit(ir.Assign(v, ops.make("select", ops.make("lt", v, zero),
                                                 ops.make("add", v, length), v)))
                    clamped = ops.make("select", ops.make("lt", v, zero), zero, clamped)
                indexed = ops.make("add", indexed,
                                   ops.make("mul", convert(clamped, d.int32), axis_st[k]))
            st = storage_type(t)
            plain, indexed = b.bind(plain), b.bind(indexed)
            to, frm = (indexed, plain) if scatter else (plain, indexed)
            b.emit(ir.Assign(ops.make("index", dst, to, dtype=st),
                             ops.make("index", src, frm, dtype=st)))
    return b.finish((LOCAL_SIZE, 1, 1))


def view_of(arg) -> "lazy.View":
    """Where an argument's elements are (a Leaf, or a node computed into memory)."""
    return arg.view if type(arg) is lazy.Leaf else arg.target


def _right_aligned(shape: tuple, strides: tuple, start: int, rank: int) -> list:
    """Strides of an array of `shape` broadcast against the iteration dimensions
    [start, start + len(shape)) of a rank-`rank` iteration (0 elsewhere)."""
    out = [0] * rank
    for j, (s, st) in enumerate(zip(shape, strides)):
        if s != 1:
            out[start + j] = st
    return out


class IndexedCopy:
    """The lazy node op. Gather: args (source, index arrays...), writes its target at
    the iteration coordinates. Scatter: args (value, index arrays...), node.target is
    the destination (of `dest_shape`) written at the indexed positions.

    `axes[j]`: the axis of the indexed side that iteration dimension j walks, or -1
    for a dimension of the indices' broadcast shape; `index_axes[k]`: the axis index
    array k selects along; the index arrays broadcast to iteration dimensions
    [start, start + width); `value_start`: where a scatter's value is aligned."""
    __slots__ = ("key", "scatter", "axes", "index_axes", "start", "width", "dest_shape")

    def __init__(self, scatter: bool, axes: tuple, index_axes: tuple, start: int,
                 width: int, dest_shape: tuple = ()):
        self.scatter, self.axes, self.index_axes = scatter, axes, index_axes
        self.start, self.width, self.dest_shape = start, width, dest_shape
        self.key = ("indexed_copy", scatter, axes, index_axes, start, width, dest_shape)

    def record(self, graph, node) -> None:
        count = math.prod(node.shape)
        if count == 0:
            return
        ctx = graph.context
        src, *indices = node.args
        rank = len(node.shape)
        index_types = tuple(a.dtype for a in indices)
        t = node.dtype
        sv, dv = view_of(src), node.target
        buffers = [dv.storage.buffer, sv.storage.buffer] + [
            view_of(a).storage.buffer for a in indices]
        names = ("dst", "src") + tuple(f"i{k}" for k in range(len(indices)))
        kernel = _kernels.get(ctx, (self.scatter, rank, t, index_types),
                              lambda dev: _generate(self.scatter, rank, t, index_types, dev),
                              tuple(zip(names, buffers)))
        if self.scatter:   # plain side: the value broadcast to the selection
            plain_st = _right_aligned(src.shape, sv.strides, rank - len(src.shape), rank)
            plain_off, side, side_shape = sv.offset, dv, self.dest_shape
        else:
            plain_st, plain_off, side, side_shape = dv.strides, dv.offset, sv, src.shape
        values = {"n": count, "po": plain_off, "qo": side.offset}
        for j, s in enumerate(node.shape):
            a = self.axes[j]
            values[f"d{j}"] = s
            values[f"ps{j}"] = plain_st[j]
            values[f"qs{j}"] = 0 if a < 0 or side_shape[a] == 1 else side.strides[a]
        for k, arg in enumerate(indices):
            v = view_of(arg)
            a = self.index_axes[k]
            values[f"io{k}"] = v.offset
            values[f"len{k}"] = side_shape[a]
            values[f"ax{k}"] = side.strides[a]
            lead = self.start + self.width - len(arg.shape)
            for j, st in enumerate(_right_aligned(arg.shape, v.strides, lead, rank)):
                values[f"is{k}_{j}"] = st
        launch(graph, kernel, grid(ctx, -(-count // LOCAL_SIZE)), buffers, values)
