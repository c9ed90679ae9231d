"""Tracing: run a Python shader function on symbolic parameters to get its IR kernel."""
from __future__ import annotations

from ..base import dtype as dt
from . import ir, ops
from .builder import Builder
from .functions.builtins import global_invocation_id, linear_invocation_id
from .functions.images import ImageVariable
from .types import BUFFER, CONST, IMAGE, STRUCT, VARIABLE, struct_field_name
from .variables import ShaderVariable

EXEC_COUNT = "vkd_exec_count"
FOLD = "fold"   # bounds mode of a 1-D launch folded into a 2-D grid


def trace(func, params, device, local_size: tuple, bounds_check,
          memory_checks: bool = False, in_range: tuple = ()) -> ir.Kernel:
    """Run `func` on symbolic parameters and return the checked IR kernel. bounds_check:
    False, True (skip invocations past the exec size) or FOLD (also linearize a 1-D
    launch spread over a 2-D grid). memory_checks: guard every array access (ir.Kernel);
    "report": also report the first out-of-range access (debug mode, report.py).
    `in_range` names buffer parameters at least as long as the launch's exec size along
    x (the launcher promises it): where bounds_check skips the invocations past the exec
    size, their element global_invocation_id().x needs no guard."""
    b = Builder(func.__name__, device)
    with b.active():
        args = declare(b, params, bounds_check, memory_checks, in_range)
        result = func(*args)
        if result is not None:
            raise TypeError(f"shader {func.__qualname__} returned {result!r}; shaders write "
                            f"their results to buffers and must return None")
    return b.finish(local_size)


def declare(b: Builder, params, bounds_check, memory_checks=False, in_range=()) -> list:
    """Declare `params` (each with .name and .type, a ParamType) in builder `b` and
    start the kernel (the bounds check, see `trace`); returns the argument values."""
    b.memory_checks = bool(memory_checks)
    b.report = memory_checks == "report"
    args = []
    for p in params:
        t = p.type
        if t.kind == STRUCT:
            values = {}
            for field, ft in t.fields:
                b.require_dtype(ft)
                name = struct_field_name(p.name, field)
                var = b.new_var(ft, ir.UNIFORM, name=name)
                b.add_param(name, CONST, var)
                values[field] = ShaderVariable(b, var)
            args.append(t.struct(**values))
            continue
        b.require_dtype(t.dtype)
        if t.kind == BUFFER:
            var = b.new_var(t.dtype, ir.BUFFER, name=p.name, mutable=True)
        elif t.kind in (CONST, VARIABLE):
            var = b.new_var(t.dtype, ir.UNIFORM, name=p.name)
        else:
            var = b.new_var(t.dtype, ir.IMAGE, name=p.name, dim=t.dim, sampled=not t.writable,
                             arrayed=t.arrayed)
        b.add_param(p.name, t.kind, var)
        args.append(ImageVariable(b, var) if t.kind == IMAGE else ShaderVariable(b, var))
    if bounds_check:
        b.fold_1d = bounds_check == FOLD
        limit = b.new_var(dt.uvec3, ir.UNIFORM, name=EXEC_COUNT)
        b.add_param(EXEC_COUNT, CONST, limit, hidden=True)
        if b.fold_1d:
            linear = ops.make("swizzle", linear_invocation_id(b), attrs=("x",))
            out = ops.make("ge", linear, ops.make("swizzle", limit, attrs=("x",)))
        else:
            gid = ops.make("builtin", attrs=("global_invocation_id",), dtype=dt.uvec3)
            out = ops.make("any", ops.make("ge", gid, limit))
        b.emit(ir.If(out, [ir.Return()]))
        if memory_checks and in_range:
            bufs = tuple(a.node for p, a in zip(params, args) if p.name in in_range
                         and p.type.kind == BUFFER)
            if bufs:
                b.in_range = (bufs, global_invocation_id().x.node)
    return args
