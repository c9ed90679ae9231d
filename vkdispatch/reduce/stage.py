"""The reduction kernels, traced into IR.

All view the input as (rows, row_len, inner) - element (k1, r, k2) at flat index
(k1 * row_len + r) * inner + k2 - and reduce along r; sizes are uniforms, so a new
shape or batch count compiles nothing new.

- ROW (inner == 1): `groups` workgroups share a row. Each invocation reads `unroll`
  elements per loop iteration, `groups * group_size` apart (coalesced), then the
  workgroup combines its values (subgroup operation, then shared memory) and writes one
  partial per workgroup: out[row * groups + workgroup]. With groups > 1 a second ROW
  pass reduces the partials, or (`finish`, one row) the workgroup that finishes last
  reduces them in the same dispatch (see `_publish`).
- ROW4: ROW reading 4 elements per load (vec4 / ivec4 / uvec4 views of a 32-bit
  buffer whose rows start 16-byte aligned); invocation 0 of workgroup 0 adds the last
  row_len % 4 elements through a scalar binding of the same buffer.
- COLUMN (inner > 1): one invocation per (k1, k2) and chunk of `chunk_len` rows walks
  down its column (neighbouring invocations read neighbouring elements; the element
  strides are uniforms, so rows shorter than a workgroup are reduced by one invocation
  per row: rows 1, inner = the row count, step 1, inner_stride = row_len) and writes
  out[(k1 * chunks + chunk) * inner + k2]; with chunks > 1 a second COLUMN pass reduces
  the partials.

Element i of the input comes from a plain read of the first buffer or from a mapping
function, which finds i with `mapped_io_index()`. The kernels' own accesses are in
range by construction and unguarded; a mapping function's accesses are guarded like
any shader's."""
from __future__ import annotations

import threading

from ..base import dtype as dt
from ..base.dtype import DType
from ..base.errors import CodegenError
from ..codegen import ir, ops
from ..codegen.builder import current
from ..codegen.functions import builtins as bi
from ..codegen.functions import control_flow as cf
from ..codegen.functions import memory as mem
from ..codegen.functions import subgroups
from ..codegen.functions import math as vmath
from ..codegen.trace import trace
from ..codegen.types import Buff, Const
from ..codegen.variables import ShaderVariable, convert, load_node, storage_type, to_node, wrap
from ..shader.signature import ShaderParam
from .elementwise import ElementwiseMap
from .operations import ReduceOp

ROW, ROW4, COLUMN = "row", "row4", "column"
UNIFORMS = {ROW: ("row_len", "groups", "rows", "main_iters"),
            ROW4: ("row_len", "groups", "rows", "main_iters", "vec_len"),
            COLUMN: ("row_len", "inner", "chunks", "chunk_len", "rows", "row_stride", "step",
                     "inner_stride")}

# the last workgroup of a row combines the row's partials (read coherently: real
# scalars of 32/64 bits, which every target can read that way)
FINISH_TYPES = (dt.float32, dt.float64, dt.int32, dt.uint32, dt.int64, dt.uint64)
FINISH_NAMES = ("partials", "counter")

# subgroup operations are used on the 32-bit types every target supports them for
_SUBGROUP_TYPES = (dt.float32, dt.int32, dt.uint32)
# types read 4 at a time by ROW4
VECTOR_TYPES = (dt.float32, dt.int32, dt.uint32)

_tls = threading.local()


def input_names(map_func) -> list:
    """A kernel's names for the inputs: the mapping function's parameter names (errors
    then name them), or in0, in1, ... where those would clash with the kernel's own."""
    if map_func is None:
        return ["in0"]
    names = list(map_func.param_names)
    reserved = {"out", *FINISH_NAMES}.union(*UNIFORMS.values())
    if len(set(names)) != len(names) or any(
            n in reserved or not n.isidentifier() or n.startswith("vkd_") for n in names):
        return [f"in{i}" for i in range(len(names))]
    return names


def mapped_io_index() -> ShaderVariable:
    """Inside a reduction's mapping function: the flat index (uint32) of the input
    element being mapped."""
    stack = getattr(_tls, "stack", None)
    if not stack:
        raise CodegenError("vd.reduce.mapped_io_index() exists only inside a mapping function "
                           "that a reduction applies (@vd.reduce.map_reduce, or "
                           "mapping_function= of @vd.reduce.reduce)")
    return stack[-1]


def _load(array: ShaderVariable, index) -> ShaderVariable:
    """array[index] for an index known to be in range (no guard)."""
    b = array.builder
    node = array.node
    ref = ops.make("index", node, convert(to_node(index, dt.uint32), dt.uint32),
                   dtype=storage_type(node.dtype), attrs=(ir.IN_BOUNDS,))
    return ShaderVariable(b, b.bind(load_node(ref)))


def _store(array: ShaderVariable, index, value) -> None:
    b = array.builder
    node = array.node
    ref = ops.make("index", node, convert(to_node(index, dt.uint32), dt.uint32),
                   dtype=storage_type(node.dtype), attrs=(ir.IN_BOUNDS,))
    b.emit(ir.Assign(ref, convert(to_node(value, ref.dtype), ref.dtype)))


class _Combiner:
    """The reduction applied to shader values of the accumulator type."""

    def __init__(self, op: ReduceOp, out_type: DType):
        self.op = op
        self.t = out_type
        self.identity = op.identity_value(out_type)

    def cast(self, value) -> ShaderVariable:
        node = convert(to_node(value, self.t), self.t)
        return wrap(value.builder if isinstance(value, ShaderVariable) else current(), node)

    def __call__(self, a, b) -> ShaderVariable:
        result = self.op.reduction(a, b)
        if result is None:
            raise CodegenError(f"reduction {self.op.name!r} returned None; it must return the "
                               f"combined value")
        return self.cast(result)

    def tree(self, values: list) -> ShaderVariable:
        """Pairwise combination (independent operations, smaller float error)."""
        while len(values) > 1:
            values = [self(values[i], values[i + 1]) if i + 1 < len(values) else values[i]
                      for i in range(0, len(values), 2)]
        return values[0]

    def new_accumulator(self) -> ShaderVariable:
        return mem.new(self.t, self.identity if not self.t.is_vector
                       else tuple([self.identity] * self.t.count))


class StageSpec:
    """What one reduction kernel computes: its family (ROW, ROW4, COLUMN), the operation,
    the accumulator type, how an element is read (`map_func`, else a plain read of a
    buffer of `input_type`), the workgroup size, the loads per loop iteration, and
    whether the last workgroup of a row combines the row's partials (`finish`: ROW and
    ROW4, one dispatch for the whole reduction)."""

    __slots__ = ("family", "op", "out_type", "map_func", "input_type", "group_size", "unroll",
                 "finish")

    def __init__(self, family: str, op: ReduceOp, out_type: DType, map_func, input_type,
                 group_size: int, unroll: int, finish: bool = False):
        self.family, self.op, self.out_type = family, op, out_type
        self.map_func, self.input_type = map_func, input_type
        self.group_size, self.unroll = group_size, unroll
        if finish and (family == COLUMN or out_type not in FINISH_TYPES):
            raise ValueError(f"finish: ROW/ROW4 of {FINISH_TYPES} only, got {family} of "
                             f"{out_type.name}")
        self.finish = finish

    @property
    def elementwise(self) -> bool:
        return isinstance(self.map_func, ElementwiseMap)

    def input_params(self) -> list:
        """The kernel's parameters for the reduction's inputs, in the order the engine
        passes them: a ROW4 kernel reads each buffer twice (as vectors, and scalars for
        the tail)."""
        emap = self.map_func
        if self.family == ROW4 and self.elementwise:
            ps = []
            for j, t in enumerate(emap.leaf_types):
                ps += [ShaderParam(f"in{j}v", Buff[dt.vector_of(t, 4)]),
                       ShaderParam(f"in{j}", Buff[t]), ShaderParam(f"off{j}", Const[dt.uint32])]
            return ps + [ShaderParam(f"s{k}", Const[t]) for k, t in enumerate(emap.scalar_types)]
        if self.family == ROW4:
            return [ShaderParam("in0", Buff[dt.vector_of(self.input_type, 4)]),
                    ShaderParam("in1", Buff[self.input_type])]
        if self.map_func is None:
            return [ShaderParam("in0", Buff[self.input_type])]
        return [ShaderParam(n, t) for n, t in zip(input_names(self.map_func),
                                                  self.map_func.buffer_types)]

    def params(self) -> list:
        ps = [ShaderParam("out", Buff[self.out_type])]
        if self.finish:
            ps += [ShaderParam("partials", Buff[self.out_type]),
                   ShaderParam("counter", Buff[dt.uint32])]
        return ps + self.input_params() + [ShaderParam(n, Const[dt.uint32])
                                           for n in UNIFORMS[self.family]]

    def trace(self, device, memory_checks) -> ir.Kernel:
        uses_subgroups = _subgroup_mode(self.op, self.out_type, device)
        n_uniforms = len(UNIFORMS[self.family])

        def body(out, *rest):
            if self.finish:
                out, rest = (out,) + rest[:2], rest[2:]
            inputs, uniforms = rest[:-n_uniforms], rest[-n_uniforms:]
            combine = _Combiner(self.op, self.out_type)
            read = self._reader(inputs, combine)
            if self.family == ROW4:
                _row4_body(self, out, inputs, combine, uniforms, uses_subgroups)
            elif self.family == ROW:
                _row_body(self, out, read, combine, uniforms, uses_subgroups)
            else:
                _column_body(self, out, read, combine, uniforms)

        body.__name__ = (f"reduce_{_ident(self.op.name)}_{self.family}"
                         f"{'_finish' if self.finish else ''}")
        guarded = self.map_func is not None and not self.elementwise
        return trace(body, self.params(), device, (self.group_size, 1, 1), False,
                     memory_checks if guarded else False)

    def _reader(self, inputs, combine: _Combiner):
        if self.map_func is None:
            return lambda i: combine.cast(_load(inputs[0], i))
        map_func = self.map_func
        if self.elementwise:
            n = map_func.leaf_count
            return _element_reader(map_func, inputs[0:2 * n:2], inputs[1:2 * n:2],
                                   list(inputs[2 * n:]), combine)

        def read(i):
            stack = getattr(_tls, "stack", None)
            if stack is None:
                stack = _tls.stack = []
            stack.append(i)
            try:
                value = map_func.callback(*inputs)
            finally:
                stack.pop()
            return combine.cast(value)
        return read


def _ident(name: str) -> str:
    s = "".join(c if c.isalnum() else "_" for c in name)
    return s[:32] or "op"


def _row_start(rows):
    """(workgroup id, this workgroup's row, invocation in the group); groups past the
    last row return."""
    wid, nwg = bi.workgroup_id(), bi.num_workgroups()
    row = wrap(current(), (wid.y + wid.z * nwg.y).node)
    with cf.if_block(row >= rows):
        cf.return_()
    return wid, row, bi.local_invocation_id().x


def _grid_stride(spec: StageSpec, combine: _Combiner, read, base, length, start, stride,
                 main_iters):
    """This invocation's accumulation of read(base + i) for i = start, start + stride, ...
    below `length`: `main_iters` unrolled steps, then the tail."""
    u = spec.unroll
    i = mem.new(dt.uint32, start)
    acc = combine.new_accumulator()
    for _ in cf.range(main_iters.cast(dt.int32)):   # the same count in every invocation
        acc.set(combine(acc, combine.tree([read(base + i + k * stride) for k in range(u)])))
        i += stride * u
    with cf.while_block(i < length):
        acc.set(combine(acc, read(base + i)))
        i += stride
    return acc


def _row_body(spec: StageSpec, out, read, combine: _Combiner, uniforms, uses_subgroups):
    row_len, groups, rows, main_iters = uniforms
    wg = spec.group_size
    wid, row, tid = _row_start(rows)
    stride = groups * wg
    base = row * row_len
    acc = _grid_stride(spec, combine, read, base, row_len, wid.x * wg + tid, stride,
                       main_iters)
    _publish(spec, out, row, groups, _workgroup_reduce(acc, combine, wg, uses_subgroups),
             combine, uses_subgroups)


def _row4_readers(spec: StageSpec, inputs, combine: _Combiner):
    """(read4(i): the combined 4 elements of vector i, read1(i): element i)."""
    if not spec.elementwise:
        vectors, scalars = inputs

        def read4(i):
            v = _load(vectors, i)
            return combine.tree([combine.cast(getattr(v, c)) for c in "xyzw"])
        return read4, lambda i: combine.cast(_load(scalars, i))
    emap = spec.map_func
    n = emap.leaf_count
    vectors, scalars, offsets = inputs[0:3 * n:3], inputs[1:3 * n:3], inputs[2:3 * n:3]
    values = list(inputs[3 * n:])
    quarters = [off >> 2 for off in offsets]    # offsets are multiples of 4 here

    def read4(i):
        loads = [_load(v, q + i) for v, q in zip(vectors, quarters)]
        return combine.tree([combine.cast(emap.body([getattr(x, c) for x in loads], values))
                             for c in "xyzw"])

    return read4, _element_reader(emap, scalars, offsets, values, combine)


def _element_reader(emap, leaves, offsets, values, combine: _Combiner):
    """read(i): elementwise map `emap` at element i of `leaves` (each from its offset)."""
    return lambda i: combine.cast(emap.body(
        [_load(leaf, off + i) for leaf, off in zip(leaves, offsets)], values))


def _row4_body(spec: StageSpec, out, inputs, combine: _Combiner, uniforms, uses_subgroups):
    row_len, groups, rows, main_iters, vec_len = uniforms
    read4, read1 = _row4_readers(spec, inputs, combine)
    wg = spec.group_size
    wid, row, tid = _row_start(rows)
    stride = groups * wg
    base = row * vec_len
    acc = _grid_stride(spec, combine, read4, base, vec_len, wid.x * wg + tid, stride,
                       main_iters)
    with cf.if_block((wid.x == 0) & (tid < row_len - vec_len * 4)):
        acc.set(combine(acc, read1(row * row_len + vec_len * 4 + tid)))
    _publish(spec, out, row, groups, _workgroup_reduce(acc, combine, wg, uses_subgroups),
             combine, uses_subgroups)


def _publish(spec: StageSpec, out, row, groups, result, combine: _Combiner, uses_subgroups):
    """Store the workgroup's value (invocation 0's `result`): out[row * groups + workgroup],
    or with `spec.finish` (out = (out, partials, counter)) into the partials, and the
    workgroup that is the row's last to finish combines them into out[row]. Its ticket
    comes from an atomic after a device-scope barrier (release), and another barrier
    before the coherent reads (acquire); it then resets the counter to 0 for the next
    dispatch. Partials are combined in index order, whichever workgroup is last."""
    tid = bi.local_invocation_id().x
    wid = bi.workgroup_id()
    if not spec.finish:
        with cf.if_block(tid == 0):
            _store(out, row * groups + wid.x, result)
        return
    out, partials, counter = out
    last = mem.shared_buffer(dt.uint32, 1)
    with cf.if_block(tid == 0):
        _store(partials, row * groups + wid.x, result)
        mem.memory_barrier("buffer")
        ticket = mem.atomic_add(_element(counter, row), 1)
        mem.memory_barrier("buffer")
        _store(last, 0, (ticket == groups - 1).cast(dt.uint32))
    mem.barrier()
    wg = spec.group_size
    with cf.if_block(_load(last, 0) != 0):          # the same in the whole workgroup
        acc = combine.new_accumulator()
        j = mem.new(dt.uint32, tid)
        with cf.while_block(j < groups):
            # independent loads, all in flight at once: one trip to L2, not _FINISH_LOADS
            parts = []
            for k in range(_FINISH_LOADS):
                part = combine.new_accumulator()
                with cf.if_block(j + k * wg < groups):
                    part.set(combine.cast(mem.coherent_read(
                        _element(partials, row * groups + j + k * wg))))
                parts.append(part)
            acc.set(combine(acc, combine.tree(parts)))
            j += wg * _FINISH_LOADS
        total = _workgroup_reduce(acc, combine, wg, uses_subgroups)
        with cf.if_block(tid == 0):
            _store(out, row, total)
            _store(counter, row, 0)


# partials each invocation of the last workgroup reads per loop iteration
_FINISH_LOADS = 8


def _element(array: ShaderVariable, index) -> ShaderVariable:
    """array[index] as an element reference for atomics and coherent reads (not read
    here: a plain read of a coherent buffer would cost a second trip to memory)."""
    ref = ops.make("index", array.node, convert(to_node(index, dt.uint32), dt.uint32),
                   dtype=storage_type(array.node.dtype), attrs=(ir.IN_BOUNDS,))
    return ShaderVariable(array.builder, ref, ref=ref)


def _subgroup_mode(op: ReduceOp, t: DType, device):
    """How a subgroup combines its values: OP (the operation's subgroup form), SHUFFLE
    (a butterfly of shuffles, for any operation), or None (shared memory only)."""
    ops_ = device.subgroup_ops
    if t not in _SUBGROUP_TYPES or "basic" not in ops_:
        return None
    if op.subgroup_reduction is not None and "arithmetic" in ops_:
        return OP
    return SHUFFLE if "shuffle" in ops_ else None


OP, SHUFFLE = "op", "shuffle"
# the butterfly covers subgroups up to this size (the builtin skips larger steps)
_MAX_SUBGROUP = 128


def _butterfly(acc, combine: _Combiner):
    """Every invocation of the subgroup gets the subgroup's combined value."""
    value = mem.new(combine.t, acc)
    size = bi.subgroup_size()
    step = 1
    while step < _MAX_SUBGROUP:
        with cf.if_block(size > step):
            value.set(combine(value, subgroups.subgroup_shuffle_xor(value, step)))
        step *= 2
    return value


def _workgroup_reduce(acc, combine: _Combiner, wg: int, uses_subgroups):
    """The workgroup's combined value (valid in invocation 0)."""
    tid = bi.local_invocation_id().x
    sdata = mem.shared_buffer(combine.t, wg)
    if uses_subgroups:
        # every subgroup combines its values in registers; invocation 0 combines the
        # subgroups' (sizes come from the builtins, so any subgroup size is right)
        total = (combine.op.subgroup_reduction(acc) if uses_subgroups == OP
                 else _butterfly(acc, combine))
        with cf.if_block(bi.subgroup_invocation_id() == 0):
            _store(sdata, bi.subgroup_id(), total)
        mem.barrier()
        result = combine.new_accumulator()
        with cf.if_block(tid == 0):
            for j in cf.range(bi.num_subgroups().cast(dt.int32)):
                result.set(combine(result, _load(sdata, j)))
        return result
    _store(sdata, tid, acc)
    mem.barrier()
    step = wg // 2
    while step >= 1:
        with cf.if_block(tid < step):
            _store(sdata, tid, combine(_load(sdata, tid), _load(sdata, tid + step)))
        mem.barrier()
        step //= 2
    return _load(sdata, 0)


def _column_body(spec: StageSpec, out, read, combine: _Combiner, uniforms):
    row_len, inner, chunks, chunk_len, rows, row_stride, step, inner_stride = uniforms
    wg, u = spec.group_size, spec.unroll
    wid, nwg = bi.workgroup_id(), bi.num_workgroups()
    k2 = wrap(current(), (wid.x * wg + bi.local_invocation_id().x).node)
    yz = wrap(current(), (wid.y + wid.z * nwg.y).node)
    chunk = yz % chunks
    k1 = yz // chunks
    with cf.if_block(k1 >= rows):
        cf.return_()
    # invocations past the last column read the last one and store nothing: the loops
    # run the same count in every invocation (CPU drivers then vectorize across them)
    column = vmath.min(k2, inner - 1)
    start = chunk * chunk_len
    length = vmath.min(row_len - start, chunk_len)
    index = mem.new(dt.uint32, k1 * row_stride + start * step + column * inner_stride)
    acc = combine.new_accumulator()
    for _ in cf.range((length // u).cast(dt.int32)):
        acc.set(combine(acc, combine.tree([read(index + k * step) for k in range(u)])))
        index += step * u
    for _ in cf.range((length % u).cast(dt.int32)):
        acc.set(combine(acc, read(index)))
        index += step
    with cf.if_block(k2 < inner):
        _store(out, (k1 * chunks + chunk) * inner + k2, acc)
