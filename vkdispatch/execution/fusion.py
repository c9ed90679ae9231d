"""Fused elementwise kernels: one kernel computes a materialized node of the lazy graph
with every inlined node before it, reading leaves through strided views.

A `Program` describes the kernel: its inputs (memory leaves, iotas and scalars, each
leaf with an access pattern), its instructions (op key, dtype, operand references) and
its output. The kernel cache key is the program's structure only: sizes, offsets,
strides and scalar values are uniforms, so a new shape or value compiles nothing.

Access patterns, relative to the output's shape: CONTIGUOUS (element i of the output
reads element offset + i), STRIDED (offset + sum of coordinate x stride, stride 0 on
broadcast axes) and SINGLE (offset, for one element broadcast everywhere).
"""
from __future__ import annotations

import math
import threading
import weakref

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type
from .kernel import EmitOptions, build_kernel

CONTIGUOUS, STRIDED, SINGLE = "c", "s", "1"
LOCAL_SIZE = 256
# four elements per invocation (see vectorizable): 32-bit types, on GPUs, any size (so a
# new size compiles nothing)
VECTOR_TYPES = (dt.float32, dt.int32, dt.uint32)
VECTOR_ON_CPU = False     # tests turn it on to run the vector kernels on CPU drivers
MAX_GROUPS = 2 ** 31 - 1     # past the device's limit too, invocations loop over elements
# uniform types of scalar arguments: small integers travel as 32-bit ones
_UNIFORM_TYPE = {dt.bool_: dt.uint32, dt.int8: dt.int32, dt.int16: dt.int32,
                 dt.uint8: dt.uint32, dt.uint16: dt.uint32}


def broadcast_strides(shape: tuple, strides: tuple, out_shape: tuple) -> tuple:
    """`strides` of an array of `shape` seen as broadcast to `out_shape`."""
    lead = len(out_shape) - len(shape)
    out = [0] * len(out_shape)
    for j, (s, st) in enumerate(zip(shape, strides)):
        if s != 1:
            out[lead + j] = st
    return tuple(out)


def pattern(strides: tuple, out_shape: tuple) -> str:
    if all(st == 0 or n == 1 for st, n in zip(strides, out_shape)):
        return SINGLE
    step = 1
    for n, st in zip(reversed(out_shape), reversed(strides)):
        if n != 1 and st != step:
            return STRIDED
        step *= n
    return CONTIGUOUS


class Program:
    """A fused kernel's structure (`key`) and what to bind: `leaves` (Leaf / Iota /
    Scalar argument objects in input order), `ops` (op objects per instruction),
    `sources` (per input, where it came from: (node, -1) for the memory of a node with
    a target, (node, j) for argument j of a node, None for an iota)."""
    __slots__ = ("rank", "inputs", "instrs", "out", "leaves", "ops", "strides", "sources",
                 "key")

    def __init__(self, rank: int):
        self.rank = rank
        self.inputs = []     # ("leaf", dtype name, pattern) / ("iota", pattern) / ("scalar", dtype name)
        self.instrs = []     # (op key, dtype name, operand refs): ref >= 0 instruction, < 0 input -1-k
        self.out = None
        self.leaves = []
        self.ops = []
        self.strides = []    # broadcast strides of each leaf / iota input (None for scalars)
        self.sources = []


def build_program(node, lazy) -> Program:
    """The program computing materialized `node` (inlining every needed node without a
    target), reading nodes with a target from their memory. Scalars and iotas are
    inputs of their own at each use, so the structure never depends on which
    argument objects are shared."""
    out_shape = node.shape
    prog = Program(len(out_shape))
    refs: dict = {}
    Node, Leaf, Iota = lazy.Node, lazy.Leaf, lazy.Iota

    def add_input(sig, obj, strides, source):
        prog.inputs.append(sig)
        prog.leaves.append(obj)
        prog.strides.append(strides)
        prog.sources.append(source)
        return -len(prog.inputs)

    def ref(a, parent, j):
        t = type(a)
        if t is Node:
            r = refs.get(id(a))
            if r is not None:
                return r
            if a.target is None or a is node:
                args = tuple(ref(x, a, k) for k, x in enumerate(a.args))
                prog.instrs.append((a.op.key, a.dtype.name, args))
                prog.ops.append(a.op)
                r = refs[id(a)] = len(prog.instrs) - 1
                return r
            leaf, source = Leaf(a.target, a.shape, a.dtype), (a, -1)
        elif t is Leaf:
            leaf, source = a, (parent, j)
        elif t is Iota:
            st = broadcast_strides(a.shape, lazy.contiguous_strides(a.shape), out_shape)
            return add_input(("iota", pattern(st, out_shape)), a, st, None)
        else:
            return add_input(("scalar", a.dtype.name), a, None, (parent, j))
        v = leaf.view   # one input per place in memory, however many Leafs name it
        place = (id(v.storage), v.offset, v.strides, leaf.shape, leaf.dtype)
        r = refs.get(place)
        if r is None:
            st = broadcast_strides(leaf.shape, v.strides, out_shape)
            r = refs[place] = add_input(("leaf", leaf.dtype.name, pattern(st, out_shape)),
                                        leaf, st, source)
        if t is Node:
            refs[id(a)] = r
        return r

    ref(node, None, -1)
    ref = None   # the recursive closure's cell holds it: a cycle would keep the nodes
    target = node.target
    prog.out = (node.dtype.name, pattern(target.strides, out_shape))
    prog.key = (prog.rank, tuple(prog.inputs), tuple(prog.instrs), prog.out)
    return prog


# ----------------------------------------------------------------------------- kernels

_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _int(v) -> ir.Node:
    return convert(v, dt.int32)


def vectorizable(prog: Program, node, device) -> bool:
    """Whether `prog` computing `node` can run four elements per invocation: contiguous
    32-bit output and memory inputs (broadcast single elements and scalars aside) whose
    first elements are 16-byte aligned, on a GPU (CPU drivers vectorize one element per
    invocation across invocations better)."""
    if device.device_type == "cpu" and not VECTOR_ON_CPU:
        return False
    if prog.out[1] != CONTIGUOUS or dt.from_name(prog.out[0]) not in VECTOR_TYPES:
        return False
    views = [node.target]
    for sig, leaf in zip(prog.inputs, prog.leaves):
        if sig[0] == "iota" or (sig[0] == "leaf" and sig[2] == STRIDED):
            return False
        if sig[0] == "leaf" and sig[2] == CONTIGUOUS:
            if dt.from_name(sig[1]) not in VECTOR_TYPES:
                return False
            views.append(leaf.view)
    return all(v.offset % 4 == 0 and v.storage.buffer.offset % 16 == 0 for v in views)


def _generate(prog: Program, device, looped: bool, vector: bool = False) -> ir.Kernel:
    b = Builder("vkd_fused", device)
    with b.active():
        def uniform(name, t):
            var = b.new_var(t, ir.UNIFORM, name=name)
            b.add_param(name, "const", var)
            return var

        def buffer(name, t):
            var = b.new_var(t, ir.BUFFER, name=name, mutable=True)
            b.add_param(name, "buffer", var)
            return var

        out_t = dt.from_name(prog.out[0])
        b.require_dtype(out_t)
        out_buf = buffer("out", out_t)
        vec_bufs = {}
        if vector:
            vec_bufs[-1] = buffer("outv", dt.vector_of(out_t, 4))
        in_bufs = {}
        for k, sig in enumerate(prog.inputs):
            if sig[0] == "leaf":
                t = dt.from_name(sig[1])
                b.require_dtype(t)
                in_bufs[k] = buffer(f"a{k}", t)
                if vector and sig[2] == CONTIGUOUS:
                    vec_bufs[k] = buffer(f"a{k}v", dt.vector_of(t, 4))
        n = uniform("n", dt.int32)
        strided = prog.out[1] == STRIDED or any(
            s[-1] == STRIDED for s in prog.inputs if s[0] != "scalar")
        dims = [uniform(f"d{j}", dt.int32) for j in range(prog.rank)] if strided else []
        offsets, strides, scalars = {}, {}, {}
        for k, sig in enumerate(prog.inputs):
            if sig[0] == "scalar":
                t = dt.from_name(sig[1])
                b.require_dtype(t)
                scalars[k] = uniform(f"x{k}", _UNIFORM_TYPE.get(t, t))
                continue
            offsets[k] = uniform(f"o{k}", dt.int32)
            if sig[-1] == STRIDED:
                strides[k] = [uniform(f"t{k}_{j}", dt.int32) for j in range(prog.rank)]
        out_off = uniform("oo", dt.int32)
        out_strides = ([uniform(f"to_{j}", dt.int32) for j in range(prog.rank)]
                       if prog.out[1] == STRIDED else None)

        gid = ops.make("swizzle", ops.make("builtin", attrs=("global_invocation_id",),
                                           dtype=dt.uvec3), attrs=("x",))
        groups = ops.make("swizzle", ops.make("builtin", attrs=("num_workgroups",),
                                              dtype=dt.uvec3), attrs=("x",))
        if vector:
            _vector_body(b, prog, out_buf, vec_bufs, in_bufs, n, offsets, scalars, out_off,
                         _int(gid))
            return b.finish((LOCAL_SIZE, 1, 1))
        if looped:   # more elements than invocations: each walks the grid's stride
            i = b.new_var(dt.int32, name="i")
            step = _int(ops.make("mul", groups, ir.Lit(LOCAL_SIZE, dt.uint32)))
            loop = ir.For(i, _int(gid), n, step, [])
            body = loop.body
        else:        # one element per invocation (CPU drivers vectorize this best)
            i = b.bind(_int(gid), name="i")
            body = []
            loop = ir.If(ops.make("lt", i, n), body)
        b.emit(loop)
        with b.nested(body, "element loop"):
            coords = []
            if strided:
                rem = i
                for j in reversed(range(prog.rank)):
                    c = b.bind(ops.make("mod", rem, dims[j]))
                    coords.append(c)
                    if j:
                        rem = b.bind(ops.make("div", rem, dims[j]))
                coords.reverse()

            def index(off, pat, sts):
                if pat == CONTIGUOUS:
                    return ops.make("add", off, i)
                if pat == SINGLE:
                    return off
                total = off
                for c, st in zip(coords, sts):
                    total = ops.make("add", total, ops.make("mul", c, st))
                return b.bind(total)

            values = {}
            for k, sig in enumerate(prog.inputs):
                if sig[0] == "scalar":
                    values[-1 - k] = scalar_input(b, scalars[k], dt.from_name(sig[1]))
                elif sig[0] == "iota":
                    values[-1 - k] = index(offsets[k], sig[1], strides.get(k))
                else:
                    var = in_bufs[k]
                    ref = ops.make("index", var, index(offsets[k], sig[2], strides.get(k)),
                                   dtype=storage_type(var.dtype))
                    values[-1 - k] = b.bind(load_node(ref))
            ref = ops.make("index", out_buf, index(out_off, prog.out[1], out_strides),
                           dtype=storage_type(out_t))
            b.emit(ir.Assign(ref, convert(evaluate(b, prog, values), ref.dtype)))
    return b.finish((LOCAL_SIZE, 1, 1))


def scalar_input(b, uniform, t) -> ir.Node:
    """A scalar input's value as `t`, from its uniform (bools travel as uint32)."""
    return b.bind(convert(uniform, t) if t is not dt.bool_ else
                  ops.make("ne", uniform, ir.Lit(0, dt.uint32)))


def evaluate(b, prog, values: dict):
    """Bind prog's instructions in builder `b` over `values` (input refs -> nodes); the
    result node (the input itself for a program without instructions)."""
    values = dict(values)
    result = None
    for j, ((_, tname, args), op) in enumerate(zip(prog.instrs, prog.ops)):
        t = dt.from_name(tname)
        b.require_dtype(t)
        result = values[j] = b.bind(op.lower([values[a] for a in args], t))
    return values[-1] if result is None else result


def _vector_body(b, prog, out_buf, vec_bufs, in_bufs, n, offsets, scalars, out_off, i):
    """Invocation i computes elements 4i..4i+3 through 4-component loads and one store;
    invocation n / 4 the last n % 4 one at a time."""
    out_t = out_buf.dtype
    n4 = b.bind(ops.make("div", n, ir.Lit(4, dt.int32)))

    def element(k, sig, index):
        var = in_bufs[k]
        ref = ops.make("index", var, index, dtype=storage_type(var.dtype))
        return b.bind(load_node(ref))

    common = {-1 - k: scalar_input(b, scalars[k], dt.from_name(sig[1]))
              for k, sig in enumerate(prog.inputs) if sig[0] == "scalar"}
    main = []
    b.emit(ir.If(ops.make("lt", i, n4), main))
    with b.nested(main, "element loop"):
        quads, values = {}, dict(common)
        for k, sig in enumerate(prog.inputs):
            if sig[0] != "leaf":
                continue
            if sig[2] == SINGLE:
                values[-1 - k] = element(k, sig, offsets[k])
            else:
                var = vec_bufs[k]
                at = ops.make("add", ops.make("shr", offsets[k], ir.Lit(2, dt.int32)), i)
                quads[k] = b.bind(load_node(ops.make("index", var, at,
                                                     dtype=storage_type(var.dtype))))
        parts = []
        for c in "xyzw":
            for k, q in quads.items():
                values[-1 - k] = b.bind(ops.make("swizzle", q, attrs=(c,)))
            parts.append(convert(evaluate(b, prog, values), out_t))
        var = vec_bufs[-1]
        at = ops.make("add", ops.make("shr", out_off, ir.Lit(2, dt.int32)), i)
        b.emit(ir.Assign(ops.make("index", var, at, dtype=storage_type(var.dtype)),
                         ops.make("construct", *parts, dtype=var.dtype)))
    tail = []
    b.emit(ir.If(ops.make("eq", i, n4), tail))
    with b.nested(tail, "tail loop"):
        j = b.new_var(dt.int32, name="j")
        body = []
        b.emit(ir.For(j, ops.make("mul", n4, ir.Lit(4, dt.int32)), n, ir.Lit(1, dt.int32), body))
        with b.nested(body, "tail element"):
            values = dict(common)
            for k, sig in enumerate(prog.inputs):
                if sig[0] == "leaf":
                    index = offsets[k] if sig[2] == SINGLE else ops.make("add", offsets[k], j)
                    values[-1 - k] = element(k, sig, index)
            ref = ops.make("index", out_buf, ops.make("add", out_off, j),
                           dtype=storage_type(out_t))
            b.emit(ir.Assign(ref, convert(evaluate(b, prog, values), ref.dtype)))


def _address_limit(device):
    if device.backend != "vulkan" or not device.extra.get("buffer_device_address"):
        return None
    return device.max_storage_buffer_range


def kernel_for(ctx, prog: Program, addressed: tuple, looped: bool, vector: bool = False):
    """The compiled kernel of `prog` on `ctx` (`addressed`: buffer parameters reached by
    device address; `vector`: four elements per invocation), built once per structure."""
    per_ctx = _cache.get(ctx)
    if per_ctx is None:
        with _cache_lock:
            per_ctx = _cache.setdefault(ctx, {})
    key = (prog.key, addressed, looped, vector)
    built = per_ctx.get(key)
    if built is None:
        kernel = _generate(prog, ctx.device, looped, vector)
        limit = ctx.device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
        options = EmitOptions(ctx.codegen_target, "vkd_fused", limit, addressed)
        built = per_ctx[key] = build_kernel(ctx, kernel, options)
    return built


class Launch:
    """One fused kernel launch, kept by a flush plan: what to bind and pack, read from
    the nodes it involves (`record(graph, nodes)`, nodes[0] the output). `inputs`: per
    buffer input (u, j): the memory of nodes[u] (j == -1) or of its argument j;
    `template`: the uniform values in field order, with `scalars` (position, u, j, is
    bool) filled from argument j of nodes[u] at each launch."""
    __slots__ = ("kernel", "groups", "inputs", "template", "scalars", "packed", "layout",
                 "_last")

    def __init__(self, kernel, groups, inputs, template, scalars):
        self.kernel, self.groups, self.inputs = kernel, groups, inputs
        self.template, self.scalars = template, scalars
        self.packed = None if scalars else self._pack(template)
        self._last = (None, None)   # (scalar values, their packed uniforms): a loop repeats them
        # per binding, its memory among [output, buffer inputs...] (a vector kernel binds
        # each contiguous one twice: as 4-component vectors and as elements)
        names = kernel.binding_names
        self.layout = None
        if any(n.endswith("v") for n in names):
            leaves = [n for n in names if n != "out" and not n.endswith("v")]
            position = {"out": 0, **{n: 1 + i for i, n in enumerate(leaves)}}
            self.layout = tuple(position[n[:-1] if n.endswith("v") else n] for n in names)

    def _pack(self, values) -> bytes:
        packer = self.kernel.packer
        packed = packer.pack_sequence(values)
        if packed is None:
            packed = packer.pack(dict(zip(self.kernel.uniform_names, values)))
        return packed

    def bind(self, nodes) -> tuple:
        """(buffers, uniform bytes) of this launch for `nodes`."""
        buffers = [nodes[0].target.storage.buffer]
        for u, j in self.inputs:
            n = nodes[u]
            buffers.append((n.target if j < 0 else n.args[j].view).storage.buffer)
        if self.layout is not None:
            buffers = [buffers[i] for i in self.layout]
        packed = self.packed
        if packed is None:
            scalars = tuple(nodes[u].args[j].value for _, u, j, _ in self.scalars)
            last = self._last
            if _same_values(scalars, last[0]):
                return buffers, last[1]
            values = list(self.template)
            for (pos, _, _, is_bool), v in zip(self.scalars, scalars):
                values[pos] = int(v) if is_bool else v
            packed = self._pack(values)
            self._last = (scalars, packed)
        return buffers, packed

    def record(self, graph, nodes) -> None:
        buffers, packed = self.bind(nodes)
        graph.record_packed(self.kernel, self.groups, buffers, packed)


def _same_values(a: tuple, b) -> bool:
    """Whether scalar values `a` and `b` pack the same: equal, of the same types, and
    zeros of the same sign."""
    if b is None:
        return False
    for x, y in zip(a, b):
        if x is y:
            continue
        if type(x) is not type(y) or x != y or (x == 0 and repr(x) != repr(y)):
            return False
    return True


def prepare(ctx, node) -> tuple:
    """(Launch computing materialized `node` on `ctx`, the nodes it reads from: node
    first), or None for an empty node."""
    from . import lazy
    count = math.prod(node.shape)
    if count == 0:
        return None
    prog = build_program(node, lazy)
    for view in [node.target] + [leaf.view for sig, leaf in zip(prog.inputs, prog.leaves)
                                 if sig[0] == "leaf"]:
        if view.storage.buffer.size > lazy.MAX_ELEMENTS:
            raise ValueError(f"{node.location()}: memory of {view.storage.buffer.size} "
                             f"elements is past what generated kernels index (32-bit, "
                             f"{lazy.MAX_ELEMENTS} elements)")
    buffers = [node.target.storage.buffer] + [prog.leaves[k].view.storage.buffer
                                              for k, s in enumerate(prog.inputs)
                                              if s[0] == "leaf"]
    limit = _address_limit(ctx.device)
    names = ["out"] + [f"a{k}" for k, s in enumerate(prog.inputs) if s[0] == "leaf"]
    addressed = () if limit is None else tuple(
        name for name, buf in zip(names, buffers) if buf.nbytes > limit)
    max_groups = min(ctx.device.max_workgroup_count[0], MAX_GROUPS)
    vector = not addressed and vectorizable(prog, node, ctx.device)
    groups = -(-(count // 4 + 1 if vector else count) // LOCAL_SIZE)
    looped = groups > max_groups
    vector = vector and not looped
    kernel = kernel_for(ctx, prog, addressed, looped, vector)
    values = {"n": count, "oo": node.target.offset}
    strided = any(name.startswith("d") for name in kernel.uniform_names)
    if strided:
        for j, s in enumerate(node.shape):
            values[f"d{j}"] = s
    for j, st in enumerate(node.target.strides):
        values[f"to_{j}"] = st
    scalar_of = {}
    for k, (sig, leaf, sts) in enumerate(zip(prog.inputs, prog.leaves, prog.strides)):
        if sig[0] == "scalar":
            v = leaf.value
            values[f"x{k}"] = int(v) if leaf.dtype is dt.bool_ else v
            scalar_of[f"x{k}"] = (prog.sources[k], leaf.dtype is dt.bool_)
            continue
        values[f"o{k}"] = leaf.view.offset if sig[0] == "leaf" else 0
        for j, st in enumerate(sts):
            values[f"t{k}_{j}"] = st
    used, position = [node], {id(node): 0}

    def at(n) -> int:
        u = position.get(id(n))
        if u is None:
            u = position[id(n)] = len(used)
            used.append(n)
        return u

    inputs = tuple((at(src[0]), src[1]) for sig, src in zip(prog.inputs, prog.sources)
                   if sig[0] == "leaf")
    template, scalars = [], []
    for pos, name in enumerate(kernel.uniform_names):
        template.append(values[name])
        if name in scalar_of:
            (n, j), is_bool = scalar_of[name]
            scalars.append((pos, at(n), j, is_bool))
    launch = Launch(kernel, (min(groups, max_groups), 1, 1), inputs, tuple(template),
                    tuple(scalars))
    return launch, used


def record_node(graph, node) -> None:
    """Record the kernel computing materialized `node` into `graph`."""
    prepared = prepare(graph.context, node)
    if prepared is not None:
        launch, used = prepared
        launch.record(graph, used)
