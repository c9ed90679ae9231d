"""cumulative_sum and cumulative_prod: one generated kernel per (rank, dtypes, op) in
which each output element accumulates its prefix along the axis (O(n * length) work:
plain and correct; a staged scan is future work)."""
from __future__ import annotations

import math

from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type
from ..execution import lazy
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._array import Array, check_axis
from ._kernels import KernelCache, launch

LOCAL_SIZE = 64
_kernels = KernelCache()


def _generate(rank: int, src, t, op: str, device) -> ir.Kernel:
    b = Builder("vkd_scan", device)
    with b.active():
        def uniform(name):
            return element_kernel.uniform(b, name)

        out = b.new_var(t, ir.BUFFER, name="out", mutable=True)
        b.add_param("out", "buffer", out)
        x = b.new_var(src, ir.BUFFER, name="x", mutable=True)
        b.add_param("x", "buffer", x)
        n, axis, first, step = uniform("n"), uniform("axis"), uniform("first"), uniform("step")
        dims = [uniform(f"d{j}") for j in range(rank)]
        offs = [uniform("o0"), uniform("o1")]
        strides = [[uniform(f"s{m}_{j}") for j in range(rank)] for m in range(2)]
        with element_kernel.each_element(b, n, dims) as coords:
            pos = [offs[0], offs[1]]
            along = ir.Lit(0, d.int32)
            for j, c in enumerate(coords):
                pos[0] = ops.make("add", pos[0], ops.make("mul", c, strides[0][j]))
                pos[1] = ops.make("add", pos[1], ops.make("mul", c, strides[1][j]))
                along = ops.make("select", ops.make("eq", axis, ir.Lit(j, d.int32)), c, along)
            start = b.bind(pos[1])
            count = b.bind(ops.make("add", along, first))
            identity = ir.Lit(1 if op == "mul" else 0, t) if not t.is_float else \
                ir.Lit(1.0 if op == "mul" else 0.0, t)
            if t.is_complex:
                identity = ir.Lit(complex(1 if op == "mul" else 0), t)
            acc = b.bind(identity, mutable=True)
            k = b.new_var(d.int32, name="k")
            loop = ir.For(k, ir.Lit(0, d.int32), count, ir.Lit(1, d.int32), [])
            b.emit(loop)
            with b.nested(loop.body, "prefix loop"):
                ref = ops.make("index", x, ops.make("add", start, ops.make("mul", k, step)),
                               dtype=storage_type(src))
                v = convert(load_node(ref), t)
                combined = (ops.make("cmul", acc, v) if t.is_complex and op == "mul"
                            else ops.make(op, acc, v))
                b.emit(ir.Assign(acc, combined))
            b.emit(ir.Assign(ops.make("index", out, b.bind(pos[0]), dtype=storage_type(t)),
                             acc))
    return b.finish((LOCAL_SIZE, 1, 1))


class _ScanOp:
    __slots__ = ("key", "op", "axis", "include_initial")

    def __init__(self, op: str, axis: int, include_initial: bool):
        self.key = ("scan", op, axis, include_initial)
        self.op, self.axis, self.include_initial = op, axis, include_initial

    def record(self, graph, node) -> None:
        count = math.prod(node.shape)
        if count == 0:
            return
        (x,) = node.args
        rank = len(node.shape)
        ctx = graph.context
        kernel = _kernels.get(ctx, (rank, x.dtype, node.dtype, self.op),
                              lambda dev: _generate(rank, x.dtype, node.dtype, self.op, dev))
        a = self.axis
        values = {"n": count, "axis": a, "first": 0 if self.include_initial else 1,
                  "step": x.view.strides[a], "o0": node.target.offset, "o1": x.view.offset}
        for j, s in enumerate(node.shape):
            values[f"d{j}"] = s
            values[f"s0_{j}"] = node.target.strides[j]
            values[f"s1_{j}"] = 0 if j == a else x.view.strides[j]
        launch(graph, kernel, (-(-count // LOCAL_SIZE), 1, 1),
               [node.target.storage.buffer, x.view.storage.buffer], values)


def _cumulative(x, axis, dtype, include_initial, op: str, name: str) -> Array:
    from ._statistical import _sum_type
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if x.dtype not in d.CATEGORY_SETS["numeric"]:
        raise TypeError(f"{name} takes numeric arrays, got {x.dtype.name}")
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name} of a {x.ndim}-D array needs an axis")
        axis = 0
    if x.ndim == 0:
        raise ValueError(f"{name} needs at least one dimension")
    axis = check_axis(axis, x.ndim)
    t = _sum_type(x, dtype, name)
    shape = list(x.shape)
    shape[axis] += 1 if include_initial else 0
    arg = lazy.Leaf(x._placed(), x.shape, x.dtype)
    return Array._record(_ScanOp(op, axis, bool(include_initial)), (arg,), tuple(shape), t,
                         x.device)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False) -> Array:
    return _cumulative(x, axis, dtype, include_initial, "add", "cumulative_sum")


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False) -> Array:
    return _cumulative(x, axis, dtype, include_initial, "mul", "cumulative_prod")
