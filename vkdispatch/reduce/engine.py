"""Recording a reduction: pick the passes (layout.py), size their launches from the
device's limits, build the kernels (stage.py) through the structural kernel cache and
record them into a CommandGraph.

`reduce_buffers(op, inputs, ...)` is the entry point for library code (the Array API
layer); `vd.reduce.reduce` / `map_reduce` call it through `Reduction`."""
from __future__ import annotations

import math
import threading
import weakref
from typing import Optional, Sequence

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from ..base.dtype import DType
from ..base.errors import DeviceLimitError
from ..codegen.types import BUFFER, Buff
from ..execution.command_graph import global_graph
from ..execution.kernel import (CompiledKernel, EmitOptions, build_kernel, kernel_cache,
                                push_constant_limit)
from . import layout
from .elementwise import ElementwiseMap
from .operations import ReduceOp
from .replay import OUT, Launch, ReductionPlan, Scratch
from .stage import COLUMN, FINISH_NAMES, FINISH_TYPES, ROW, ROW4, VECTOR_TYPES, StageSpec

# flat indices are uint32, and stepping past the end must not wrap around
MAX_ELEMENTS = 2 ** 31 - 1
_DEFAULT_GROUP = 256
# loop iterations kept free for the tail loop and the subgroup combine (lavapipe's limit)
_LOOP_MARGIN = 256
_MAX_PLANS = 32                 # layouts a reduction keeps recorded, per context
MAX_KEPT_SCRATCH = 16 << 20     # scratch bytes a plan keeps between calls


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


class Reduction:
    """One reduction - operation, accumulator type and how elements are read (a mapping
    function, else a plain read of a buffer of `input_type`) - and its kernels, built
    once per context and kept by structure, so new sizes compile nothing."""

    def __init__(self, op: ReduceOp, out_type: DType, map_func=None,
                 input_type: Optional[DType] = None, group_size: Optional[int] = None):
        if map_func is None and input_type is None:
            input_type = out_type
        op.check_type(out_type, f"reduction {op.name!r}")
        op.identity_value(out_type)   # raises when the identity has no value in out_type
        if group_size is not None and (isinstance(group_size, bool)
                                       or not isinstance(group_size, int)
                                       or not _is_pow2(group_size)):
            raise ValueError(f"group_size must be a power of two (e.g. 64, 128, 256), got "
                             f"{group_size!r}")
        self.op = op
        self.out_type = out_type
        self.map_func = map_func
        self.input_type = input_type
        self.group_size = group_size
        self._kernels = weakref.WeakKeyDictionary()   # Context -> {key: CompiledKernel}
        self._plans = weakref.WeakKeyDictionary()     # Context -> {layout: ReductionPlan}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ kernels
    def input_params(self) -> list:
        """The ParamTypes of the inputs a call takes, in order."""
        if self.map_func is None:
            return [Buff[self.input_type]]
        return list(self.map_func.buffer_types)

    def group_size_for(self, device) -> int:
        limit = min(device.max_workgroup_invocations, device.max_workgroup_size[0])
        if self.group_size is None:
            wg = _DEFAULT_GROUP
            while wg > limit:
                wg //= 2
        else:
            wg = self.group_size
            if wg > limit:
                raise ValueError(f"group_size {wg} exceeds the device's limit of {limit} "
                                 f"invocations per workgroup ({device.name}); use a power of "
                                 f"two up to {limit}")
        if wg * self.out_type.itemsize > device.max_shared_memory:
            raise DeviceLimitError(f"group_size {wg} needs {wg * self.out_type.itemsize} bytes "
                                   f"of shared memory for {self.out_type.name}; "
                                   f"{device.name} has {device.max_shared_memory}")
        return wg

    @property
    def elementwise(self) -> bool:
        return isinstance(self.map_func, ElementwiseMap)

    def unroll(self, first: bool) -> int:
        """Loads in flight per invocation and loop iteration."""
        plain = not first or self.map_func is None or self.elementwise
        return 8 if plain and self.out_type.itemsize <= 4 else 4

    def spec(self, family: str, first: bool, device, finish: bool = False) -> StageSpec:
        wg = self.group_size_for(device)
        if family == ROW4:   # plain reads, or an elementwise map's
            if first and self.elementwise:
                return StageSpec(family, self.op, self.out_type, self.map_func, None, wg,
                                 _vector_unroll(device), finish)
            t = self.input_type if first else self.out_type
            return StageSpec(family, self.op, self.out_type, None, t, wg, _vector_unroll(device),
                             finish)
        if first:
            return StageSpec(family, self.op, self.out_type, self.map_func, self.input_type, wg,
                             self.unroll(True), finish)
        return StageSpec(family, self.op, self.out_type, None, self.out_type, wg,
                         self.unroll(False), finish)

    def kernel(self, ctx, family: str, first: bool, addressed: tuple = (),
               finish: bool = False) -> CompiledKernel:
        mode = "report" if ctx.debug else True
        key = (family, first, addressed, mode, finish)
        per_ctx = self._kernels.get(ctx)
        k = per_ctx.get(key) if per_ctx is not None else None
        if k is None:
            with self._lock:
                per_ctx = self._kernels.setdefault(ctx, {})
                k = per_ctx.get(key)
                if k is None:
                    ir_kernel = self.spec(family, first, ctx.device, finish).trace(
                        ctx.device, mode)
                    options = EmitOptions(ctx.codegen_target, ir_kernel.name,
                                          push_constant_limit(ctx), addressed)
                    k = per_ctx[key] = build_kernel(ctx, ir_kernel, options)
        return k

    # ------------------------------------------------------------------ recording
    def __call__(self, inputs: Sequence, shape=None, axes=None, graph=None,
                 what: str = "reduction", out: Optional[Buffer] = None) -> Buffer:
        """Record the reduction of `inputs` (values for `input_params()`, in order) over
        `axes` of `shape` (default: the first buffer's) and return the result buffer:
        shape (1,) for a reduction over every axis, else the kept axes (`out`: write
        it there instead, a buffer of `out_type` holding at least that many elements)."""
        inputs = list(inputs)
        shape, axes = self.check_inputs(inputs, shape, axes, what)
        kept = layout.kept_shape(shape, axes)
        if out is None:
            out = Buffer(kept, self.out_type)
        elif not isinstance(out, Buffer) or out.dtype is not self.out_type \
                or out.size < math.prod(kept):
            got = (f"a buffer of {out.size} {out.dtype.name}" if isinstance(out, Buffer)
                   else type(out).__name__)
            raise TypeError(f"{what}: out must be a vd.Buffer of {self.out_type.name} with at "
                            f"least {math.prod(kept)} elements, got {got}")
        plan = self.plan(get_context(), inputs, shape, axes, out)
        plan.record(graph if graph is not None else global_graph(), inputs, out)
        return out

    def check_inputs(self, inputs: list, shape, axes, what: str) -> tuple:
        """(shape, normalized axes) of a call with `inputs`, checked."""
        params = self.input_params()
        if len(inputs) != len(params):
            raise TypeError(f"{what} takes {len(params)} input(s) {params}, got {len(inputs)}")
        first_buffer = None
        for i, (p, a) in enumerate(zip(params, inputs)):
            if p.kind == BUFFER:
                if not isinstance(a, Buffer):
                    raise TypeError(f"{what}: input {i} must be a vd.Buffer of {p.dtype.name} "
                                    f"({p!r}), got {type(a).__name__}")
                if a.dtype is not p.dtype:
                    raise TypeError(f"{what}: input {i} must be a buffer of {p.dtype.name} "
                                    f"({p!r}), got a buffer of {a.dtype.name}")
                if first_buffer is None:
                    first_buffer = a
        if shape is None:
            if first_buffer is None:
                raise TypeError(f"{what}: no buffer among the inputs to take the shape from; "
                                f"pass shape=")
            shape = first_buffer.shape
        shape = tuple(int(n) for n in shape)
        total = math.prod(shape)
        if total > MAX_ELEMENTS:
            raise ValueError(f"{what}: {total} elements; reductions index with 32 bits, at "
                             f"most {MAX_ELEMENTS} elements")
        if self.elementwise:
            self.map_func.check_ranges(inputs, total, what)
        return shape, layout.normalize_axes(axes, len(shape))

    def plan(self, ctx, inputs: list, shape: tuple, axes, out: Buffer) -> ReductionPlan:
        """The recorded plan of this layout (checked `inputs`), made at its first use and
        kept (the `_MAX_PLANS` made last, per context: the oldest goes first)."""
        limit = _address_limit(ctx.device)
        key = (shape, axes, ctx.debug, _layout_signature(self, inputs, out, limit))
        plans = self._plans.get(ctx)
        found = plans.get(key) if plans is not None else None
        if found is not None:
            return found
        made = self._make_plan(ctx, inputs, shape, axes, out)
        with self._lock:
            plans = self._plans.setdefault(ctx, {})
            if len(plans) >= _MAX_PLANS:
                del plans[next(iter(plans))]
            plans[key] = made
        return made

    def _make_plan(self, ctx, inputs, shape, axes, out) -> ReductionPlan:
        launches = []   # every kernel is built and launch sized before the first record
        steps = layout.passes(shape, axes)
        current, slots = inputs, list(range(len(inputs)))
        for n, (rows, row_len, inner) in enumerate(steps):
            dest = out if n == len(steps) - 1 else Scratch((rows * inner,), self.out_type)
            if rows * inner:
                self._record_pass(ctx, launches, n == 0, current, slots, dest, rows, row_len,
                                  inner)
            current = slots = [dest]
        scratch = {id(s): s for launch in launches for s in launch.slots if type(s) is Scratch}
        if sum(s.nbytes for s in scratch.values()) <= MAX_KEPT_SCRATCH:
            kept = {k: Buffer(s.shape, s.dtype, context=ctx) for k, s in scratch.items()}
            for launch in launches:
                launch.slots = [kept.get(id(s), s) for s in launch.slots]
        return ReductionPlan(launches)

    def _record_pass(self, ctx, plan, first: bool, inputs, slots, dest, rows, row_len, inner):
        """Plan one pass: (rows, row_len, inner) -> (rows, inner) into `dest`, in one stage
        or two (partials, then their reduction). `slots`: where each of `inputs` comes
        from (replay.Launch)."""
        device = ctx.device
        wg = self.group_size_for(device)
        if inner > 1:
            self._column_pass(ctx, plan, first, inputs, slots, dest, rows, row_len, inner,
                              (row_len * inner, inner, 1))
        elif rows > 1 and row_len < wg and -(-rows // wg) <= device.max_workgroup_count[0]:
            # rows shorter than a workgroup: one invocation per row walks along it (a
            # ROW workgroup would leave most of its invocations idle)
            self._column_pass(ctx, plan, first, inputs, slots, dest, 1, row_len, rows,
                              (0, 1, row_len))
        else:
            self._row_pass(ctx, plan, first, inputs, slots, dest, rows, row_len)

    def _row_pass(self, ctx, plan, first, inputs, slots, dest, rows, row_len):
        device = ctx.device
        wg = self.group_size_for(device)
        vector = self._vectorizable(first, inputs, rows, row_len)
        u = _vector_unroll(device) if vector else self.unroll(first)
        units = row_len // 4 if vector else row_len
        groups = _row_groups(device, rows, units, wg, u)
        # one row split among workgroups: the last to finish combines the partials
        finish = groups > 1 and rows == 1 and self.out_type in FINISH_TYPES
        stage_out = dest if groups == 1 else Scratch((rows * groups,), self.out_type)
        if finish:
            stage_out = [dest, stage_out, _counter(ctx)]
        stride = groups * wg
        uniforms = {"row_len": row_len, "groups": groups, "rows": rows,
                    "main_iters": units // (u * stride)}
        if vector:   # each buffer read as vectors and (the tail) scalars
            uniforms["vec_len"] = units
            if first and self.elementwise:
                count = self.map_func.leaf_count
                leaves, offsets, scalars = self.map_func.split(inputs)
                inputs = [x for leaf, off in zip(leaves, offsets) for x in (leaf, leaf, off)] \
                    + scalars
                slots = [slots[k] for j in range(count) for k in (2 * j, 2 * j, 2 * j + 1)] \
                    + slots[2 * count:]
            else:
                inputs, slots = [inputs[0], inputs[0]], [slots[0], slots[0]]
        launch = (groups,) + _fold(rows, device)
        self._dispatch(ctx, plan, ROW4 if vector else ROW, first, stage_out, inputs, slots,
                       launch, uniforms)
        if groups > 1 and not finish:
            self._record_pass(ctx, plan, False, [stage_out], [stage_out], dest, rows, groups, 1)

    def _column_pass(self, ctx, plan, first, inputs, slots, dest, rows, row_len, inner,
                     strides):
        """(rows, row_len, inner) with element (k1, r, k2) at k1 * strides[0] + r *
        strides[1] + k2 * strides[2]; partials (rows, chunks, inner) are contiguous."""
        device = ctx.device
        wg, u = self.group_size_for(device), self.unroll(first)
        chunks, chunk_len = _column_chunks(device, rows, row_len, inner, wg, u)
        stage_out = dest if chunks == 1 else Scratch((rows * chunks * inner,), self.out_type)
        uniforms = {"row_len": row_len, "inner": inner, "chunks": chunks,
                    "chunk_len": chunk_len, "rows": rows, "row_stride": strides[0],
                    "step": strides[1], "inner_stride": strides[2]}
        x = -(-inner // wg)
        if x > device.max_workgroup_count[0]:
            raise DeviceLimitError(f"reduction: {inner} kept elements per row need {x} "
                                   f"workgroups, more than {device.name} allows "
                                   f"({device.max_workgroup_count[0]})")
        self._dispatch(ctx, plan, COLUMN, first, stage_out, inputs, slots,
                       (x,) + _fold(rows * chunks, device), uniforms)
        if chunks > 1:
            self._record_pass(ctx, plan, False, [stage_out], [stage_out], dest, rows, chunks,
                              inner)

    def _vectorizable(self, first: bool, inputs, rows: int, row_len: int) -> bool:
        """Rows can be read 4 elements at a time: a plain read of a 32-bit type whose
        rows all start 16-byte aligned."""
        if rows > 1 and row_len % 4:
            return False
        if first and self.elementwise:
            return self.map_func.vectorizable(inputs)
        t = self.input_type if first else self.out_type
        if (first and self.map_func is not None) or t not in VECTOR_TYPES:
            return False
        return inputs[0].offset % 16 == 0

    def _dispatch(self, ctx, plan, family, first, out, inputs, slots, launch, uniforms):
        """Build the kernel of one stage and add its launch to `plan`; `out` is the
        output (the call's buffer or a Scratch), or [out, partials, counter] for a
        finishing ROW/ROW4 stage."""
        finish = isinstance(out, list)
        outs = out if finish else [out]
        in_params = self.spec(family, first, ctx.device, finish).input_params()
        names = ["out"] + (list(FINISH_NAMES) if finish else []) + [p.name for p in in_params]
        values = dict(zip(names, outs + list(inputs)))
        # the stage's output is the call's (a Buffer) or scratch; partials and counter
        # are the plan's
        dest = OUT if isinstance(outs[0], Buffer) else outs[0]
        where = dict(zip(names, [dest] + outs[1:] + list(slots)))
        limit = _address_limit(ctx.device)
        addressed = () if limit is None else tuple(
            n for n, v in values.items() if isinstance(v, (Buffer, Scratch)) and v.nbytes > limit)
        kernel = self.kernel(ctx, family, first, addressed, finish)
        resources = [where[n] for n in kernel.binding_names if n in values]
        if kernel.debug_binding is not None:
            resources.insert(kernel.debug_binding, kernel_cache(ctx).debug_buffer())
        constants, fed = dict(uniforms), []
        for p, value, slot in zip(in_params, inputs, slots):
            if p.type.kind != BUFFER:
                if type(slot) is int:
                    fed.append((p.name, slot))
                else:
                    constants[p.name] = value
        plan.append(Launch(kernel, launch, resources, constants, tuple(fed)))


def _layout_signature(red: Reduction, inputs: list, out: Buffer, limit) -> tuple:
    """What of the inputs decides a plan besides the shape: where buffers start (16-byte
    alignment decides vector reads), an elementwise map's element offsets likewise, and
    which buffers are past the device's address limit."""
    sig = [limit is not None and out.nbytes > limit]
    offsets = red.elementwise
    for i, v in enumerate(inputs):
        if isinstance(v, Buffer):
            sig.append((v.offset % 16, limit is not None and v.nbytes > limit))
        elif offsets and i < 2 * red.map_func.leaf_count:
            sig.append(int(v) % 16)
    return tuple(sig)


def _counter(ctx) -> Buffer:
    """The counter of a finishing stage: it starts at 0, and the dispatch's last
    workgroup puts it back to 0. Each plan keeps its own; two records of one plan
    share it, which is safe: the counter is written, so the graph orders them."""
    b = Buffer((1,), dt.uint32, context=ctx)
    b.write(np.zeros(1, np.uint32))
    return b


def _address_limit(device) -> Optional[int]:
    from ..shader.shader_function import ShaderFunction
    return ShaderFunction._address_limit(device)


def _vector_unroll(device) -> int:
    """16-byte loads per loop iteration of ROW4. GPUs: 4 (64 bytes in flight per
    invocation, few enough registers that 8 workgroups of 256 stay resident per NVIDIA
    SM); CPU drivers, which vectorize across invocations, run faster with 8."""
    return 8 if device.device_type == "cpu" else 4


def _fold(count: int, device) -> tuple:
    """(y, z) workgroups covering `count` rows (y * z >= count)."""
    max_y, max_z = device.max_workgroup_count[1], device.max_workgroup_count[2]
    y = max(1, min(count, max_y))
    z = -(-count // y)
    if z > max_z:
        raise DeviceLimitError(f"reduction: {count} rows need more workgroups than "
                               f"{device.name} allows ({max_y} x {max_z})")
    return (y, z)


def _target_groups(device, wg: int) -> int:
    """Workgroups that keep the device busy (about 2048 invocations per compute unit on
    GPUs; a few per core on CPU drivers)."""
    if device.device_type == "cpu":
        return max(2, device.compute_units) * 4
    return (device.compute_units or 128) * max(1, 2048 // wg)


def _loop_budget(device, u: int) -> Optional[int]:
    limit = device.max_loop_iterations
    return None if limit is None else max(1, limit - u - _LOOP_MARGIN)


def _row_groups(device, rows: int, row_len: int, wg: int, u: int) -> int:
    """Workgroups per row: enough to fill the device, no more than the row needs, and
    enough that no invocation loops more often than the device allows."""
    needed = max(1, -(-row_len // (wg * u)))
    groups = min(needed, max(1, -(-_target_groups(device, wg) // max(rows, 1))))
    budget = _loop_budget(device, u)
    if budget is not None:
        groups = max(groups, -(-row_len // (wg * u * budget)))
    if groups > device.max_workgroup_count[0]:
        raise DeviceLimitError(f"reduction: rows of {row_len} elements need {groups} "
                               f"workgroups, more than {device.name} allows")
    return groups


def _column_chunks(device, rows: int, row_len: int, inner: int, wg: int, u: int) -> tuple:
    """(chunks, chunk_len): how the reduced axis is split among invocations."""
    if row_len == 0:
        return 1, 0
    x = -(-inner // wg)
    chunks = min(max(1, -(-row_len // (4 * u))),
                 max(1, -(-_target_groups(device, wg) // (x * max(rows, 1)))))
    budget = _loop_budget(device, u)
    if budget is not None:
        chunks = max(chunks, -(-row_len // (u * budget)))
    chunk_len = -(-row_len // chunks)
    return -(-row_len // chunk_len), chunk_len


# ---------------------------------------------------------------------- library entry
_reductions: dict = {}
_reductions_lock = threading.Lock()
_MAX_CACHED = 256


def reduce_buffers(op: ReduceOp, inputs: Sequence, *, out_type=None, shape=None, axes=None,
                   map_func=None, group_size: Optional[int] = None, graph=None) -> Buffer:
    """Record the reduction of `inputs` with `op` and return the result buffer (see
    `Reduction.__call__`). Without `map_func`, `inputs` is one buffer, read and converted
    to `out_type` (default: its dtype); with one, `inputs` are its arguments and
    `out_type` defaults to its return type. Reductions are kept per (op, types, map,
    group size), so repeated calls trace nothing."""
    if map_func is None:
        if len(inputs) != 1 or not isinstance(inputs[0], Buffer):
            raise TypeError("reduce_buffers without map_func takes one vd.Buffer input")
        input_type = inputs[0].dtype
        out_type = input_type if out_type is None else dt.to_dtype(out_type)
    else:
        input_type = None
        out_type = map_func.return_type if out_type is None else dt.to_dtype(out_type)
        if out_type is None:
            raise TypeError("map_func must have a return type for a reduction")
    return reduction(op, out_type, map_func, input_type, group_size)(
        inputs, shape=shape, axes=axes, graph=graph)


def reduction(op: ReduceOp, out_type: DType, map_func=None, input_type: Optional[DType] = None,
              group_size: Optional[int] = None) -> Reduction:
    """The kept Reduction of (op, types, map, group size)."""
    key = (op, out_type, map_func, input_type, group_size)
    red = _reductions.get(key)
    if red is None:
        red = Reduction(op, out_type, map_func, input_type, group_size)
        with _reductions_lock:
            if len(_reductions) >= _MAX_CACHED:
                _reductions.clear()
            red = _reductions.setdefault(key, red)
    return red
