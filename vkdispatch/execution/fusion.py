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
    Scalar argument objects in input order), `ops` (op objects per instruction)."""
    __slots__ = ("rank", "inputs", "instrs", "out", "leaves", "ops", "strides", "key")

    def __init__(self, rank: int):
        self.rank = rank
        self.inputs = []     # ("leaf", dtype name, pattern) / ("iota", pattern) / ("scalar", dtype name)
        self.instrs = []     # (op key, dtype name, operand refs): ref >= 0 instruction, < 0 input -1-k
        self.out = None
        self.leaves = []
        self.ops = []
        self.strides = []    # broadcast strides of each leaf / iota input (None for scalars)


def build_program(node, lazy) -> Program:
    """The program computing materialized `node` (inlining every needed node without a
    target), reading nodes with a target from their memory."""
    out_shape = node.shape
    prog = Program(len(out_shape))
    refs: dict = {}

    def add_input(sig, obj, strides):
        prog.inputs.append(sig)
        prog.leaves.append(obj)
        prog.strides.append(strides)
        return -len(prog.inputs)

    def ref(a):
        k = id(a)
        r = refs.get(k)
        if r is not None:
            return r
        t = type(a)
        if t is lazy.Node and (a.target is None or a is node):
            args = tuple(ref(x) for x in a.args)
            prog.instrs.append((a.op.key, a.dtype.name, args))
            prog.ops.append(a.op)
            r = len(prog.instrs) - 1
        elif t is lazy.Node or t is lazy.Leaf:
            if t is lazy.Node:
                a = lazy.Leaf(a.target, a.shape, a.dtype)
            v = a.view   # one input per place in memory, however many Leafs name it
            place = (id(v.storage), v.offset, v.strides, a.shape, a.dtype)
            r = refs.get(place)
            if r is not None:
                refs[k] = r
                return r
            st = broadcast_strides(a.shape, a.view.strides, out_shape)
            r = refs[place] = add_input(("leaf", a.dtype.name, pattern(st, out_shape)), a, st)
        elif t is lazy.Iota:
            st = broadcast_strides(a.shape, lazy.contiguous_strides(a.shape), out_shape)
            r = add_input(("iota", pattern(st, out_shape)), a, st)
        else:
            r = add_input(("scalar", a.dtype.name), a, None)
        refs[k] = r
        return r

    ref(node)
    ref = None   # the recursive closure's cell holds it: a cycle would keep the nodes
    target = node.target
    prog.out = (node.dtype.name, pattern(target.strides, out_shape))
    prog.key = (prog.rank, tuple(prog.inputs), tuple(prog.instrs), prog.out)
    return prog


# ----------------------------------------------------------------------------- kernels

class _Built:
    __slots__ = ("kernel", "buffer_inputs")

    def __init__(self, kernel, buffer_inputs):
        self.kernel = kernel
        self.buffer_inputs = buffer_inputs   # input indices bound as buffers, in order


_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _int(v) -> ir.Node:
    return convert(v, dt.int32)


def _generate(prog: Program, device, looped: bool) -> ir.Kernel:
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
        in_bufs = {}
        for k, sig in enumerate(prog.inputs):
            if sig[0] == "leaf":
                t = dt.from_name(sig[1])
                b.require_dtype(t)
                in_bufs[k] = buffer(f"a{k}", t)
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
                    t = dt.from_name(sig[1])
                    values[-1 - k] = b.bind(convert(scalars[k], t) if t is not dt.bool_ else
                                            ops.make("ne", scalars[k], ir.Lit(0, dt.uint32)))
                elif sig[0] == "iota":
                    values[-1 - k] = index(offsets[k], sig[1], strides.get(k))
                else:
                    var = in_bufs[k]
                    ref = ops.make("index", var, index(offsets[k], sig[2], strides.get(k)),
                                   dtype=storage_type(var.dtype))
                    values[-1 - k] = b.bind(load_node(ref))
            result = None
            for j, ((_, tname, args), op) in enumerate(zip(prog.instrs, prog.ops)):
                t = dt.from_name(tname)
                b.require_dtype(t)
                result = values[j] = b.bind(op.lower([values[a] for a in args], t))
            if result is None:       # the output is an input as it is
                result = values[-1]
            ref = ops.make("index", out_buf, index(out_off, prog.out[1], out_strides),
                           dtype=storage_type(out_t))
            b.emit(ir.Assign(ref, convert(result, ref.dtype)))
    return b.finish((LOCAL_SIZE, 1, 1))


def _address_limit(device):
    if device.backend != "vulkan" or not device.extra.get("buffer_device_address"):
        return None
    return device.max_storage_buffer_range


def kernel_for(ctx, prog: Program, addressed: tuple, looped: bool) -> _Built:
    """The compiled kernel of `prog` on `ctx` (`addressed`: buffer parameters reached by
    device address), built once per structure."""
    per_ctx = _cache.get(ctx)
    if per_ctx is None:
        with _cache_lock:
            per_ctx = _cache.setdefault(ctx, {})
    key = (prog.key, addressed, looped)
    built = per_ctx.get(key)
    if built is None:
        kernel = _generate(prog, ctx.device, looped)
        limit = ctx.device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
        options = EmitOptions(ctx.codegen_target, "vkd_fused", limit, addressed)
        compiled = build_kernel(ctx, kernel, options)
        built = per_ctx[key] = _Built(compiled, tuple(
            k for k, s in enumerate(prog.inputs) if s[0] == "leaf"))
    return built


def record_node(graph, node) -> None:
    """Record the kernel computing materialized `node` into `graph`."""
    from . import lazy
    count = math.prod(node.shape)
    if count == 0:
        return
    prog = build_program(node, lazy)
    ctx = graph.context
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
    groups = -(-count // LOCAL_SIZE)
    looped = groups > max_groups
    built = kernel_for(ctx, prog, addressed, looped)
    kernel = built.kernel
    values = {"n": count, "oo": node.target.offset}
    strided = any(name.startswith("d") for name in kernel.uniform_names)
    if strided:
        for j, s in enumerate(node.shape):
            values[f"d{j}"] = s
    for j, st in enumerate(node.target.strides):
        values[f"to_{j}"] = st
    for k, (sig, leaf, sts) in enumerate(zip(prog.inputs, prog.leaves, prog.strides)):
        if sig[0] == "scalar":
            v = leaf.value
            values[f"x{k}"] = int(v) if leaf.dtype is dt.bool_ else v
            continue
        values[f"o{k}"] = leaf.view.offset if sig[0] == "leaf" else 0
        for j, st in enumerate(sts):
            values[f"t{k}_{j}"] = st
    names = kernel.uniform_names
    packed = kernel.packer.pack_sequence([values[name] for name in names])
    if packed is None:
        packed = kernel.packer.pack({name: values[name] for name in names})
    graph.record_packed(kernel, (min(groups, max_groups), 1, 1), buffers, packed)
