"""Invocation built-ins. The 3-component ones are uvec3; `.x` gives a uint."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ops
from ..builder import current
from ..variables import ShaderVariable

_VEC3 = ("global_invocation_id", "local_invocation_id", "workgroup_id", "num_workgroups",
         "workgroup_size")
_SCALAR = ("local_invocation_index", "subgroup_id", "subgroup_size", "subgroup_invocation_id",
           "num_subgroups")
BUILTINS = _VEC3 + _SCALAR


def _builtin(name, t):
    def f() -> ShaderVariable:
        b = current()
        if name.startswith("subgroup") or name == "num_subgroups":
            b.require("basic", f"vc.{name}()")
        return ShaderVariable(b, ops.make("builtin", attrs=(name,), dtype=t))
    f.__name__ = name
    f.__doc__ = f"The {name.replace('_', ' ')} of this invocation ({t.name})."
    return f


for _n in _VEC3:
    globals()[_n] = _builtin(_n, dt.uvec3)
for _n in _SCALAR:
    globals()[_n] = _builtin(_n, dt.uint32)
