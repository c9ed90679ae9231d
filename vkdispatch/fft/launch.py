"""Recording a plan: kernels built through the compiled-kernel seam (cached per context
by structure), uniforms from the array's layout, workgroups from the batch."""
from __future__ import annotations

import threading
import weakref
from dataclasses import replace

from ..base.buffer import Buffer
from ..execution.command_graph import global_graph
from ..execution.kernel import EmitOptions, build_kernel, push_constant_limit
from . import tables
from .plan import UINT32_LIMIT, Plan
from .spec import Layout, PassSpec
from .stages import build_ir, kernel_name

_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_scratch: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_capture = threading.local()   # src.py: sources collected instead of recorded


def capturing_now() -> bool:
    return getattr(_capture, "sources", None) is not None


class capturing:
    """`with capturing() as sources:` transforms called inside append their kernels'
    sources to `sources` and record nothing."""

    def __enter__(self) -> list:
        self.saved = getattr(_capture, "sources", None)
        _capture.sources = []
        return _capture.sources

    def __exit__(self, *exc) -> None:
        _capture.sources = self.saved


class printing:
    """`with printing(on):` transforms recorded inside print the source of each kernel
    they launch (print_shader=True), as launched: with the layout it specializes."""

    def __init__(self, on: bool):
        self.on = on

    def __enter__(self) -> None:
        self.saved = getattr(_capture, "printing", False)
        _capture.printing = self.saved or self.on

    def __exit__(self, *exc) -> None:
        _capture.printing = self.saved


def compiled(ctx, spec: PassSpec, hooks=None):
    """The CompiledKernel of `spec` in `ctx`."""
    key = (spec, hooks.key if hooks is not None else None)
    with _lock:
        per_ctx = _compiled.setdefault(ctx, {})
        k = per_ctx.get(key)
    if k is None:
        ir_kernel = build_ir(spec, ctx.device, hooks)
        options = EmitOptions(ctx.codegen_target, kernel_name(spec), push_constant_limit(ctx))
        k = build_kernel(ctx, ir_kernel, options)
        with _lock:
            if len(per_ctx) > 512:
                per_ctx.clear()
            per_ctx[key] = k
    return k


def scratch(ctx, dtype, size: int, slot: int = 0) -> Buffer:
    """Context-wide scratch buffer `slot` of at least `size` elements of `dtype` (a view
    of exactly `size`). Work on it is ordered by the graph like any other buffer."""
    with _lock:
        per_ctx = _scratch.setdefault(ctx, {})
        buf = per_ctx.get((dtype, slot))
        if buf is None or buf.size < size:
            buf = per_ctx[(dtype, slot)] = Buffer((size,), dtype, context=ctx)
    return buf.view(0, (size,))


def scratch_roles(ctx) -> tuple:
    """(lookup, resolve) of execution.replay for the context's scratch: lookup(buffer)
    names the scratch `buffer` views ((dtype, size, slot)) or gives None; resolve
    finds that scratch as it is now (a larger transform may have replaced it)."""
    def lookup(buffer: Buffer):
        base = buffer._base or buffer
        with _lock:
            for (dtype, slot), buf in _scratch.get(ctx, {}).items():
                if buf is base:
                    return dtype, buffer.size, slot
        return None
    return lookup, lambda which: scratch(ctx, *which)


def _groups(ctx, count: int) -> tuple:
    max_x, max_y = ctx.device.max_workgroup_count[:2]
    if count <= max_x:
        return (count, 1, 1)
    rows = -(-count // max_x)
    if rows > max_y:
        raise ValueError(f"{count} workgroups exceed the device's grid ({max_x} x {max_y})")
    return (max_x, rows, 1)


def record_step(ctx, graph, spec: PassSpec, src: Buffer, dst: Buffer, outer: int,
                columns: int, inner: int, lin: Layout, lout: Layout, hooks=None,
                extra=None, extra_uniforms=None) -> None:
    """Record one kernel of a plan over `outer` x `columns` transforms."""
    # literal layouts: rows of n elements on both sides, or a real transform's rows
    # (whose sides differ: reals and n + 1 complex values)
    if not spec.columns and columns == 1 and (
            lin == lout == Layout(1, spec.n, 0, 1) or spec.real and lin.q == lout.q == 1):
        spec = replace(spec, rows=(lin, lout))
    kernel = compiled(ctx, spec, hooks)
    if getattr(_capture, "printing", False):
        print(kernel.source)
    sources = getattr(_capture, "sources", None)
    if sources is not None:
        sources.append(kernel.source)
        return
    if spec.columns:
        col_groups = -(-columns // spec.batch)
        count = outer * col_groups
    else:
        col_groups = 1
        count = -(-(outer * columns) // spec.batch)
    if count == 0:
        return
    uniforms = {"outer": outer, "columns": columns, "groups": count,
                "col_groups": col_groups, "inner": inner}
    uniforms.update(lin.values("in"))
    uniforms.update(lout.values("out"))
    if extra_uniforms:
        uniforms.update(extra_uniforms)
    resources = {"data": dst, "dst": dst, "src": src}
    if tables.layout(spec):
        resources["table"] = tables.table_buffer(ctx, spec)
    if extra:
        resources.update(extra)
    graph = graph if graph is not None else global_graph()
    graph.record(kernel, _groups(ctx, count), [resources[n] for n in kernel.binding_names],
                 uniforms)


def record_plan(ctx, graph, plan: Plan, src: Buffer, dst: Buffer, outer: int, inner: int,
                length: int = 0, extra=None, hooks=None, extra_uniforms=None) -> None:
    """Transform every vector along the middle axis of `src` (shape outer x length x
    inner, flattened; length defaults to the plan's) into `dst`."""
    n = length or plan.n
    total = outer * n * inner
    if total > UINT32_LIMIT:
        raise ValueError(f"vd.fft addresses up to {UINT32_LIMIT} elements with 32-bit "
                         f"indices; this array has {total}")
    if not plan.scratch:
        (step,) = plan.steps
        lay = Layout(1, n * inner, 0, inner)
        record_step(ctx, graph, step.spec, src, dst, outer, inner, inner, lay, lay, hooks,
                    extra, extra_uniforms)
        return
    if hooks:
        raise ValueError(f"input_map / output_map / kernel_map run inside one kernel; a "
                         f"transform of length {n} takes two passes on this device")
    n1, n2 = plan.split
    first, second = plan.steps
    tmp = scratch(ctx, first.spec.io_out, total) if not capturing_now() else src
    lay1 = Layout(1, n * inner, 0, n2 * inner)
    record_step(ctx, graph, first.spec, src, tmp, outer, n2 * inner, inner, lay1, lay1)
    record_step(ctx, graph, second.spec, tmp, dst, outer * n1, inner, inner,
                Layout(n1, n * inner, n2 * inner, inner),
                Layout(n1, n * inner, inner, n1 * inner))
