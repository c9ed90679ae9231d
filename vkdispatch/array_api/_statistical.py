"""Statistical and utility reductions (sum, prod, min, max, mean, var, std, all, any)
through vd.reduce, and diff. A reduction is a lazy node with its own kernels: at the
flush its input (made contiguous) is reduced by `reduce_buffers` into the node's place."""
from __future__ import annotations

import builtins
import math

from ..base import dtype as dt
from ..execution import fusion, lazy
from ..reduce import engine, operations
from . import _dtypes as d
from ._array import Array, check_axis
from ._elementwise import CAST, apply, scalar_fill
from ._info import default_int


_map_functions: dict = {}   # program structure -> ElementwiseMap (kernels cache by it)


def _mapped_program(x, t):
    """(ElementwiseMap computing pending `x` (converted to `t`) at the reduction's flat
    index, its program, the stand-in node its sources name for `x`), or None when a
    read is not contiguous with `x`'s shape."""
    fake = lazy.Node(x.op, x.args, x.shape, x.dtype, None)
    fake.target = lazy.View(None, 0, lazy.contiguous_strides(x.shape))
    prog = fusion.build_program(fake, lazy)
    if builtins.any(sig[0] == "iota" or (sig[0] == "leaf" and sig[-1] != fusion.CONTIGUOUS)
                    for sig in prog.inputs):
        return None
    key = (prog.key, t)
    emap = _map_functions.get(key)
    if emap is None:
        emap = _map_functions[key] = _elementwise_map(prog, t)
    return emap, prog, fake


def _map_sources(node, source, prog, fake) -> tuple:
    """Where the inputs of map program `prog` (reading `source`: the reduced node's
    argument itself, or a stand-in copying it) come from: (the nodes they are read
    from, `node` first; leaves: (node, argument or -1 for the node's memory);
    scalars: (node, argument, is bool)), nodes given by position."""
    (x,) = node.args
    used, position = [node], {id(node): 0}
    leaves, scalars = [], []
    for sig, leaf, (n, j) in zip(prog.inputs, prog.leaves, prog.sources):
        if n is fake:   # an argument of x, or x itself read through the stand-in
            n = x if source is x else node
        u = position.get(id(n))
        if u is None:
            u = position[id(n)] = len(used)
            used.append(n)
        if sig[0] == "leaf":
            leaves.append((u, j))
        else:
            scalars.append((u, j, leaf.dtype is d.bool))
    return used, leaves, scalars


def _map_inputs(used, leaves, scalars) -> list:
    """The map's arguments (see _map_sources): each leaf's buffer and offset, then the
    scalars' values."""
    inputs = []
    for u, j in leaves:
        n = used[u]
        view = n.target if j < 0 else n.args[j].view
        inputs += [view.storage.buffer, view.offset]
    for u, j, is_bool in scalars:
        v = used[u].args[j].value
        inputs.append(int(v) if is_bool else v)
    return inputs


def _read_through_map(x):
    """The node a reduction of `x` reads through an elementwise map: `x` itself when
    it is an inlined elementwise node, a stand-in copying `x` when its memory starts
    past the buffer's start (a view's offset is not a bindable offset on every
    device; the map's element offset is), else None (read plainly)."""
    if type(x) is lazy.Node and x.target is None:
        return x if getattr(x.op, "record", None) is None else None
    view = x.view if type(x) is lazy.Leaf else x.target
    if view.offset == 0:
        return None
    return lazy.Node(CAST, (x,), x.shape, x.dtype, None)


class _ReduceLaunch:
    """A reduction node recorded again at each flush of its batch's structure: where
    its inputs come from in the batch's nodes (`leaves`: (node, argument or -1 for the
    node's memory); `scalars`: (node, argument, is bool); None: the reduced node's
    argument read plainly from the start of its buffer), and the engine's plan, made
    at the first record."""
    __slots__ = ("op", "reduction", "shape", "leaves", "scalars", "plan")

    def __init__(self, op, reduction, shape, leaves, scalars):
        self.op, self.reduction, self.shape = op, reduction, shape
        self.leaves, self.scalars = leaves, scalars
        self.plan = None

    def record(self, graph, used) -> None:
        node = used[0]
        if self.leaves is None:
            x = node.args[0]
            inputs = [(x.view if type(x) is lazy.Leaf else x.target).storage.buffer]
        else:
            inputs = _map_inputs(used, self.leaves, self.scalars)
        target = node.target
        view = target if target is not None else lazy.allocate(node.shape, node.dtype)
        out = view.storage.buffer
        plan = self.plan
        if plan is None:
            red = self.reduction
            shape, axes = red.check_inputs(inputs, self.shape, self.op.axes or None,
                                           "reduction")
            plan = self.plan = red.plan(graph.context, inputs, shape, axes, out)
        plan.record(graph, inputs, out)
        if target is None:
            node.target = view


RUN_SOON_BYTES = 64 << 20   # reductions reading this much start soon (lazy.run_soon)


class _ReduceOp:
    """Lazy node op: args (Leaf over a contiguous array,), `axes` of its shape."""
    __slots__ = ("key", "reduce_op", "axes")
    places_itself = True    # the result is the buffer reduce_buffers returns

    def __init__(self, reduce_op, axes):
        self.key = ("reduce", reduce_op.name, axes)
        self.reduce_op = reduce_op
        self.axes = axes

    def prepare(self, ctx, node):
        """(_ReduceLaunch, the nodes it reads) recording this reduction at this and
        every later flush of the batch's structure, or None where `record` does it."""
        target = node.target
        if target is not None and (target.offset or
                                   target.strides != lazy.contiguous_strides(node.shape)):
            return None
        (x,) = node.args
        shape = x.shape or (1,)
        source = _read_through_map(x)
        if source is None:
            if type(x) is lazy.Node and x.target is None:
                return None
            red = engine.reduction(self.reduce_op, node.dtype, input_type=x.dtype)
            return _ReduceLaunch(self, red, shape, None, None), [node]
        mapped = _mapped_program(source, node.dtype)
        if mapped is None:
            return None
        emap, prog, fake = mapped
        used, leaves, scalars = _map_sources(node, source, prog, fake)
        red = engine.reduction(self.reduce_op, node.dtype, map_func=emap)
        return _ReduceLaunch(self, red, shape, leaves, scalars), used

    def record(self, graph, node) -> None:
        (x,) = node.args
        shape = x.shape or (1,)
        source = _read_through_map(x)
        if source is not None:
            # an inlined elementwise producer (or memory off a bindable offset): read
            # through a mapping function in the reduction's first stage (one pass), or
            # where the map cannot read it (strided, or one element seen as broadcast),
            # computed into new memory first
            mapped = _mapped_program(source, node.dtype)
            if mapped is not None:
                emap, prog, fake = mapped
                inputs = _map_inputs(*_map_sources(node, source, prog, fake))
                out = engine.reduce_buffers(self.reduce_op, inputs, out_type=node.dtype,
                                            shape=shape, axes=self.axes or None,
                                            map_func=emap, graph=graph)
                self._place(graph, node, out)
                return
            source.target = lazy.allocate(source.shape, source.dtype)
            fusion.record_node(graph, source)
            x = source
        if type(x) is lazy.Node:
            x = lazy.Leaf(x.target, x.shape, x.dtype)
        src = x.view.storage.buffer.view(x.view.offset, shape)
        out = engine.reduce_buffers(self.reduce_op, [src], out_type=node.dtype,
                                    shape=shape, axes=self.axes or None, graph=graph)
        self._place(graph, node, out)

    @staticmethod
    def _place(graph, node, out) -> None:
        view = lazy.View(lazy.Storage(out, pooled=False), 0,
                         lazy.contiguous_strides(node.shape))
        if node.target is None:
            node.target = view
            arr = node.array() if node.array is not None else None
            if arr is not None and arr._node is node:
                arr._realized(view)
        else:    # a view of the result was taken before the flush: copy into its place
            copy = lazy.Node(lazy.IDENTITY, (lazy.Leaf(view, node.shape, node.dtype),),
                             node.shape, node.dtype, node.where)
            copy.target = node.target
            fusion.record_node(graph, copy)


def _elementwise_map(prog, t):
    """The fused program `prog` as an ElementwiseMap: its leaves are what the reduction
    loads, its scalar inputs uniforms."""
    from ..codegen.builder import current
    from ..codegen.variables import ShaderVariable, convert as to_type
    from ..reduce.elementwise import ElementwiseMap
    leaf_types, scalar_types = [], []
    for sig in prog.inputs:
        if sig[0] == "leaf":
            leaf_types.append(dt.from_name(sig[1]))
        else:
            ut = dt.from_name(sig[1])
            scalar_types.append(fusion._UNIFORM_TYPE.get(ut, ut))

    def body(leaf_values, scalar_values):
        b = current()
        values = {}
        leaf_values, scalar_values = iter(leaf_values), iter(scalar_values)
        for j, sig in enumerate(prog.inputs):
            if sig[0] == "leaf":
                values[-1 - j] = next(leaf_values).node
            else:
                values[-1 - j] = fusion.scalar_input(b, next(scalar_values).node,
                                                     dt.from_name(sig[1]))
        return ShaderVariable(b, b.bind(to_type(fusion.evaluate(b, prog, values), t)))
    return ElementwiseMap(f"fused{len(_map_functions)}", leaf_types, scalar_types, body, t)


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = sorted({check_axis(a, ndim) for a in items})
    if len(out) != len(items):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(out)


def _contiguous(x: Array) -> Array:
    """`x` or a contiguous copy of it (placed)."""
    if x._view is not None and x._view.strides == lazy.contiguous_strides(x.shape):
        return x
    if x._view is not None:
        x = Array._record(CAST, (x._arg(),), x.shape, x.dtype, x.device)
    x._placed()
    return x


def _reduce(x: Array, op, axis, keepdims: bool, out_type, identity) -> Array:
    axes = _axes(axis, x.ndim)
    kept = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    full_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    shape = full_shape if keepdims else kept
    if x.dtype is not out_type and not out_type.is_bool:
        x = Array._record(CAST, (x._arg(),), x.shape, out_type, x.device)
    if not axes:
        out = x if x.dtype is out_type else Array._record(CAST, (x._arg(),), x.shape,
                                                          out_type, x.device)
        return out
    if builtins.any(x.shape[a] == 0 for a in axes):
        return scalar_fill(identity, shape, out_type, x.device)
    if math.prod(kept) == 0:
        return scalar_fill(identity, shape, out_type, x.device)
    if x._node is not None:     # pending: the reduction may read it through its map stage
        arg = x._node
    else:
        x = _contiguous(x)
        arg = lazy.Leaf(x._view, x.shape, x.dtype)
    op_axes = axes if len(axes) < x.ndim else ()
    out = Array._record(_ReduceOp(op, op_axes), (arg,), kept, out_type, x.device)
    if x.size * x.dtype.itemsize >= RUN_SOON_BYTES:
        # nothing after a reduction fuses into it: start the device on it soon, so that
        # recording what follows overlaps its run instead of waiting for the next sync
        lazy.run_soon()
    if keepdims:
        from ._manipulation import reshape
        out = reshape(out, shape)
    return out


def _check(x, name, category):
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if not builtins.any(x.dtype is t for t in d.CATEGORIES[category]):
        raise TypeError(f"{name} takes {category} arrays, got {x.dtype.name}")


def _sum_type(x: Array, dtype, name):
    if dtype is not None:
        if not d.is_array_dtype(dtype):
            raise TypeError(f"{name}: dtype must be one of the namespace's dtypes, got {dtype!r}")
        return dtype
    t = x.dtype
    if t in d.SIGNED or t is d.bool:
        return default_int(x.device)
    if t in d.UNSIGNED:
        return d.uint64 if x.device.info.int64 else d.uint32
    return t


def sum(x, /, *, axis=None, dtype=None, keepdims=False) -> Array:  # noqa: A001
    _check(x, "sum", "numeric")
    t = _sum_type(x, dtype, "sum")
    return _reduce(x, operations.SubgroupAdd, axis, keepdims, t, 0)


def prod(x, /, *, axis=None, dtype=None, keepdims=False) -> Array:
    _check(x, "prod", "numeric")
    t = _sum_type(x, dtype, "prod")
    return _reduce(x, operations.SubgroupMul, axis, keepdims, t, 1)


def _extreme(x, axis, keepdims, op, name):
    _check(x, name, "real numeric")
    axes = _axes(axis, x.ndim)
    if builtins.any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{name} of an empty selection has no value")
    out = _reduce(x, op, axis, keepdims, x.dtype, 0)
    if x.dtype.is_float:     # NaN propagates (the reduction's min/max may skip it)
        from ._elementwise import where
        nan = any(apply("isnan", x), axis=axis, keepdims=keepdims)
        out = where(nan, math.nan, out)
    return out


def min(x, /, *, axis=None, keepdims=False) -> Array:  # noqa: A001
    return _extreme(x, axis, keepdims, operations.SubgroupMin, "min")


def max(x, /, *, axis=None, keepdims=False) -> Array:  # noqa: A001
    return _extreme(x, axis, keepdims, operations.SubgroupMax, "max")


def _count(x, axis) -> int:
    return math.prod(x.shape[a] for a in _axes(axis, x.ndim))


def mean(x, /, *, axis=None, keepdims=False) -> Array:
    _check(x, "mean", "floating-point")
    n = _count(x, axis)
    total = _reduce(x, operations.SubgroupAdd, axis, keepdims, x.dtype, 0)
    return apply("divide", total, float(n) if n else math.nan)


def var(x, /, *, axis=None, correction=0.0, keepdims=False) -> Array:
    _check(x, "var", "real floating-point")
    n = _count(x, axis)
    m = mean(x, axis=axis, keepdims=True)
    dev = apply("subtract", x, m)
    sq = _reduce(apply("multiply", dev, dev), operations.SubgroupAdd, axis, keepdims,
                 x.dtype, 0)
    return apply("divide", sq, float(n - correction) if n - correction > 0 else math.nan)


def std(x, /, *, axis=None, correction=0.0, keepdims=False) -> Array:
    return apply("sqrt", var(x, axis=axis, correction=correction, keepdims=keepdims))


def _truth(x, axis, keepdims, op, identity, name):
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    flags = apply("not_equal", x, False if x.dtype is d.bool else 0)
    flags = Array._record(CAST, (flags._arg(),), flags.shape, d.uint32, x.device)
    out = _reduce(flags, op, axis, keepdims, d.uint32, identity)
    return apply("not_equal", out, 0)


def all(x, /, *, axis=None, keepdims=False) -> Array:  # noqa: A001
    return _truth(x, axis, keepdims, operations.SubgroupMin, 1, "all")


def any(x, /, *, axis=None, keepdims=False) -> Array:  # noqa: A001
    return _truth(x, axis, keepdims, operations.SubgroupMax, 0, "any")


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None) -> Array:
    from ._manipulation import concat
    if not isinstance(x, Array):
        raise TypeError(f"diff takes an array, got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError("diff needs at least one dimension")
    axis = check_axis(axis, x.ndim)
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"diff's n must be a non-negative int, got {n!r}")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat(parts, axis=axis)
    for _ in range(n):
        hi = tuple(slice(1, None) if i == axis else slice(None) for i in range(x.ndim))
        lo = tuple(slice(None, -1) if i == axis else slice(None) for i in range(x.ndim))
        x = apply("not_equal" if x.dtype is d.bool else "subtract", x[hi], x[lo])
    return x
