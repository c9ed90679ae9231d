"""matmul: one generated kernel per (rank, dtype); each invocation computes output
elements as a dot product along K, reading both operands through strided views."""
from __future__ import annotations

import math

from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import load_node, storage_type
from ..execution import lazy
from ..execution.command_graph import CommandGraph
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._array import Array
from ._elementwise import broadcast_shapes
from ._kernels import KernelCache, launch

LOCAL_SIZE = 64
_kernels = KernelCache()


def _generate(rank: int, t, device) -> ir.Kernel:
    b = Builder("vkd_matmul", device)
    with b.active():
        def uniform(name, ty=None):
            return element_kernel.uniform(b, name, ty)

        def buffer(name):
            var = b.new_var(t, ir.BUFFER, name=name, mutable=True)
            b.add_param(name, "buffer", var)
            return var

        out, x, y = buffer("out"), buffer("x"), buffer("y")
        n, k_len = uniform("n"), uniform("k")
        dims = [uniform(f"d{j}") for j in range(rank)]
        offs = [uniform(f"o{m}") for m in range(3)]
        strides = [[uniform(f"s{m}_{j}") for j in range(rank)] for m in range(3)]
        xk, yk = uniform("xk"), uniform("yk")
        with element_kernel.each_element(b, n, dims) as coords:

            def position(m):
                total = offs[m]
                for c, st in zip(coords, strides[m]):
                    total = ops.make("add", total, ops.make("mul", c, st))
                return b.bind(total)

            px, py = position(1), position(2)
            zero = ir.Lit(complex(0) if t.is_complex else 0.0 if t.is_float else 0, t)
            acc = b.bind(zero, mutable=True)
            kk = b.new_var(d.int32, name="kk")
            loop = ir.For(kk, ir.Lit(0, d.int32), k_len, ir.Lit(1, d.int32), [])
            b.emit(loop)
            with b.nested(loop.body, "dot loop"):
                a = load_node(ops.make("index", x, ops.make("add", px, ops.make("mul", kk, xk)),
                                       dtype=storage_type(t)))
                c = load_node(ops.make("index", y, ops.make("add", py, ops.make("mul", kk, yk)),
                                       dtype=storage_type(t)))
                prod = ops.make("cmul", a, c) if t.is_complex else ops.make("mul", a, c)
                b.emit(ir.Assign(acc, ops.make("add", acc, prod)))
            b.emit(ir.Assign(ops.make("index", out, position(0), dtype=storage_type(t)), acc))
    return b.finish((LOCAL_SIZE, 1, 1))


class _MatmulOp:
    """The lazy node op: args (Leaf x, Leaf y), x seen as (..., M, K), y as (..., K, N)."""
    __slots__ = ("key",)

    def __init__(self):
        self.key = ("matmul",)

    def record(self, graph: CommandGraph, node) -> None:
        count = math.prod(node.shape)
        if count == 0:
            return
        x, y = node.args
        rank = len(node.shape)
        ctx = graph.context
        kernel = _kernels.get(ctx, (rank, node.dtype),
                              lambda dev: _generate(rank, node.dtype, dev))
        k = x.shape[-1]
        values = {"n": count, "k": k, "xk": x.view.strides[-1], "yk": y.view.strides[-2]}
        for j, s in enumerate(node.shape):
            values[f"d{j}"] = s
        batch = node.shape[:-2]
        for m, (view, shape, pick) in enumerate((
                (node.target, node.shape, (-2, -1)), (x.view, x.shape, (-2, None)),
                (y.view, y.shape, (None, -1)))):
            values[f"o{m}"] = view.offset
            lead = len(batch) - (len(shape) - 2)
            st = [0] * rank
            for j in range(len(shape) - 2):
                if shape[j] != 1:
                    st[lead + j] = view.strides[j]
            st[rank - 2] = view.strides[pick[0]] if pick[0] is not None else 0
            st[rank - 1] = view.strides[pick[1]] if pick[1] is not None else 0
            for j in range(rank):
                values[f"s{m}_{j}"] = st[j]
        buffers = [node.target.storage.buffer, x.view.storage.buffer, y.view.storage.buffer]
        launch(graph, kernel, (-(-count // LOCAL_SIZE), 1, 1), buffers, values)


MATMUL = _MatmulOp()


def matmul(x1, x2, /) -> Array:
    from ._manipulation import expand_dims, squeeze
    for a in (x1, x2):
        if not isinstance(a, Array):
            raise TypeError(f"matmul takes arrays, got {type(a).__name__}")
        if not any(a.dtype is t for t in d.NUMERIC):
            raise TypeError(f"matmul takes numeric arrays, got {a.dtype.name}")
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError("matmul does not take 0-d arrays; use multiply")
    t = d.promote(x1.dtype, x2.dtype)
    a = expand_dims(x1, axis=0) if x1.ndim == 1 else x1
    b = expand_dims(x2, axis=1) if x2.ndim == 1 else x2
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {x1.shape} and {x2.shape} do not align "
                         f"({a.shape[-1]} != {b.shape[-2]})")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if a.dtype is not t:
        a = a.__array_namespace__().astype(a, t)
    if b.dtype is not t:
        b = b.__array_namespace__().astype(b, t)
    args = (lazy.Leaf(a._placed(), a.shape, t), lazy.Leaf(b._placed(), b.shape, t))
    shape = batch + (a.shape[-2], b.shape[-1])
    out = Array._record(MATMUL, args, shape, t, x1.device)
    if x1.ndim == 1:
        out = squeeze(out, axis=-2)
    if x2.ndim == 1:
        out = squeeze(out, axis=-1)
    return out


def vecdot(x1, x2, /, *, axis=-1) -> Array:
    from ._elementwise import apply
    from ._statistical import sum as asum
    for a in (x1, x2):
        if not isinstance(a, Array):
            raise TypeError(f"vecdot takes arrays, got {type(a).__name__}")
    ndim = max(x1.ndim, x2.ndim)
    if axis >= 0 or -axis > min(x1.ndim, x2.ndim):
        raise ValueError(f"vecdot's axis must be negative and within both arrays' "
                         f"dimensions, got {axis}")
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} has {x1.shape[axis]} and {x2.shape[axis]} "
                         f"elements")
    broadcast_shapes(x1.shape, x2.shape)
    a = apply("conj", x1) if x1.dtype.is_complex else x1
    return asum(apply("multiply", a, x2), axis=ndim + axis, dtype=d.promote(x1.dtype,
                                                                            x2.dtype))


def tensordot(x1, x2, /, *, axes=2) -> Array:
    from ._manipulation import permute_dims, reshape
    for a in (x1, x2):
        if not isinstance(a, Array):
            raise TypeError(f"tensordot takes arrays, got {type(a).__name__}")
    if isinstance(axes, int):
        if axes < 0 or axes > min(x1.ndim, x2.ndim):
            raise ValueError(f"tensordot's axes={axes} exceeds the arrays' dimensions")
        a_axes = tuple(range(x1.ndim - axes, x1.ndim))
        b_axes = tuple(range(axes))
    else:
        a_axes, b_axes = (tuple(v % x.ndim if x.ndim else v for v in ax)
                          for ax, x in zip(axes, (x1, x2)))
    if len(a_axes) != len(b_axes) or any(x1.shape[i] != x2.shape[j]
                                         for i, j in zip(a_axes, b_axes)):
        raise ValueError(f"tensordot: contracted axes {axes} differ in length")
    a_free = [i for i in range(x1.ndim) if i not in a_axes]
    b_free = [j for j in range(x2.ndim) if j not in b_axes]
    k = math.prod(x1.shape[i] for i in a_axes)
    m = math.prod(x1.shape[i] for i in a_free)
    n = math.prod(x2.shape[j] for j in b_free)
    a = reshape(permute_dims(x1, tuple(a_free) + tuple(a_axes)), (m, k))
    b = reshape(permute_dims(x2, tuple(b_axes) + tuple(b_free)), (k, n))
    out = matmul(a, b)
    return reshape(out, tuple(x1.shape[i] for i in a_free) + tuple(x2.shape[j]
                                                                    for j in b_free))
