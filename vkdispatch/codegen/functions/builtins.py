"""Invocation built-ins. The 3-component ones are uvec3; `.x` gives a uint."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ir, ops
from ..builder import current
from ..variables import ShaderVariable

_VEC3 = ("global_invocation_id", "local_invocation_id", "workgroup_id", "num_workgroups",
         "workgroup_size")
_SCALAR = ("local_invocation_index", "subgroup_id", "subgroup_size", "subgroup_invocation_id",
           "num_subgroups")
BUILTINS = _VEC3 + _SCALAR


def linear_invocation_id(b):
    """uvec3(x + y * (grid width), 0, 0): the invocation's index in a folded 1-D launch."""
    gid = ops.make("builtin", attrs=("global_invocation_id",), dtype=dt.uvec3)
    groups = ops.make("builtin", attrs=("num_workgroups",), dtype=dt.uvec3)
    size = ops.make("builtin", attrs=("workgroup_size",), dtype=dt.uvec3)
    x = lambda v: ops.make("swizzle", v, attrs=("x",))  # noqa: E731
    y = ops.make("swizzle", gid, attrs=("y",))
    width = ops.make("mul", x(groups), x(size))
    linear = ops.make("add", x(gid), ops.make("mul", y, width))
    zero = ir.Lit(0, dt.uint32)
    return ops.make("construct", linear, zero, zero, dtype=dt.uvec3)


def _builtin(name, t):
    def f() -> ShaderVariable:
        b = current()
        if name.startswith("subgroup") or name == "num_subgroups":
            b.require("basic", f"vc.{name}()")
        if name == "global_invocation_id" and b.fold_1d:
            return ShaderVariable(b, linear_invocation_id(b))
        return ShaderVariable(b, ops.make("builtin", attrs=(name,), dtype=t))
    f.__name__ = name
    f.__doc__ = f"The {name.replace('_', ' ')} of this invocation ({t.name})."
    return f


for _n in _VEC3:
    globals()[_n] = _builtin(_n, dt.uvec3)
for _n in _SCALAR:
    globals()[_n] = _builtin(_n, dt.uint32)


def _constant(name, value, t):
    def f() -> ShaderVariable:
        return ShaderVariable(current(), ir.Lit(value, t))
    f.__name__ = name
    f.__doc__ = f"{value} as {t.name}."
    return f


inf_f16 = _constant("inf_f16", float("inf"), dt.float16)
ninf_f16 = _constant("ninf_f16", float("-inf"), dt.float16)
inf_f32 = _constant("inf_f32", float("inf"), dt.float32)
ninf_f32 = _constant("ninf_f32", float("-inf"), dt.float32)
inf_f64 = _constant("inf_f64", float("inf"), dt.float64)
ninf_f64 = _constant("ninf_f64", float("-inf"), dt.float64)
