"""Subgroup (warp/wavefront) operations, gated on the device's subgroup support."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ops
from ..builder import current
from ..variables import ShaderVariable, convert, to_node


def _sg(op, int_only=False):
    def f(x):
        b = x.builder if isinstance(x, ShaderVariable) else current()
        n = to_node(x)
        d = ops.OPS[op]
        b.require(d.feature, f"vc.{op}")
        if int_only and not (n.dtype.is_integer or n.dtype.is_bool):
            raise TypeError(f"{op} needs integer values, got {n.dtype.name}")
        if n.dtype.is_complex:
            raise TypeError(f"{op} is not available for complex values")
        return ShaderVariable(b, b.bind(ops.make(op, n)))
    f.__name__ = op
    f.__doc__ = f"{op.replace('_', ' ')} across the subgroup."
    return f


subgroup_add = _sg("subgroup_add")
subgroup_mul = _sg("subgroup_mul")
subgroup_min = _sg("subgroup_min")
subgroup_max = _sg("subgroup_max")
subgroup_and = _sg("subgroup_and", int_only=True)
subgroup_or = _sg("subgroup_or", int_only=True)
subgroup_xor = _sg("subgroup_xor", int_only=True)
subgroup_inclusive_add = _sg("subgroup_inclusive_add")
subgroup_exclusive_add = _sg("subgroup_exclusive_add")
subgroup_broadcast_first = _sg("subgroup_broadcast_first")


def _lane_op(op):
    def f(x, lane):
        b = x.builder if isinstance(x, ShaderVariable) else current()
        b.require(ops.OPS[op].feature, f"vc.{op}")
        n = to_node(x)
        lane_n = convert(to_node(lane, dt.uint32), dt.uint32)
        return ShaderVariable(b, b.bind(ops.make(op, n, lane_n)))
    f.__name__ = op
    return f


subgroup_shuffle = _lane_op("subgroup_shuffle")
subgroup_shuffle_xor = _lane_op("subgroup_shuffle_xor")
subgroup_broadcast = _lane_op("subgroup_broadcast")


def subgroup_elect() -> ShaderVariable:
    """True in exactly one active invocation of the subgroup."""
    b = current()
    b.require("basic", "vc.subgroup_elect")
    return ShaderVariable(b, b.bind(ops.make("subgroup_elect")))


def subgroup_all(x):
    b = current()
    b.require("vote", "vc.subgroup_all")
    return ShaderVariable(b, b.bind(ops.make("subgroup_all", convert(to_node(x), dt.bool_))))


def subgroup_any(x):
    b = current()
    b.require("vote", "vc.subgroup_any")
    return ShaderVariable(b, b.bind(ops.make("subgroup_any", convert(to_node(x), dt.bool_))))


def subgroup_barrier():
    b = current()
    b.require("basic", "vc.subgroup_barrier")
    from .. import ir
    b.emit(ir.Eval(ops.make("subgroup_barrier")))
