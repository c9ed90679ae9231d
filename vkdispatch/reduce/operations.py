"""Reduction operators: a binary function, its identity, and the subgroup operation
that computes the same thing across a subgroup where the device has one."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np

from ..base import dtype as dt
from ..base.dtype import DType
from ..codegen.functions import math as vmath
from ..codegen.functions import subgroups

# identities that depend on the type: the largest / smallest value it holds
INF, NINF = "inf", "-inf"


@dataclass(frozen=True, eq=False)
class ReduceOp:
    """An associative, commutative binary `reduction(a, b)` on shader values with its
    `identity` (a number, or "inf" / "-inf": the largest / smallest value of the type),
    and optionally `subgroup_reduction(x)`, the same reduction across a subgroup.
    `kinds`: the scalar kinds it is defined for (None: any)."""

    name: str
    reduction: Callable
    identity: Union[int, float, str]
    subgroup_reduction: Optional[Callable] = None
    kinds: Optional[frozenset] = None

    def identity_value(self, t: DType):
        """The identity as a Python number of `t`'s scalar type (vectors: each component)."""
        return identity_value(self.identity, t, self.name)

    def check_type(self, t: DType, what: str) -> None:
        if self.kinds is not None and t.kind not in self.kinds:
            why = "complex numbers are not ordered; " if t.is_complex else ""
            raise TypeError(f"{what}: {why}reduction {self.name!r} is defined for "
                            f"{', '.join(sorted(self.kinds))} types, got {t.name}")


def identity_value(identity, t: DType, name: str = "reduction"):
    base = t.base
    if isinstance(identity, str):
        if identity not in (INF, NINF):
            raise ValueError(f"identity of {name!r} must be a number, {INF!r} or {NINF!r}, "
                             f"got {identity!r}")
        if base.is_float:
            return math.inf if identity == INF else -math.inf
        if base.is_integer:
            info = np.iinfo(base.numpy_dtype)
            return int(info.max if identity == INF else info.min)
        raise TypeError(f"identity {identity!r} of {name!r} has no value in {t.name}")
    if isinstance(identity, (bool, int, np.integer)) and base.is_integer:
        value = int(identity)
        if base.kind == dt.UINT and value < 0:   # -1: all bits set, as for bitwise AND
            value &= (1 << (8 * base.itemsize)) - 1
        info = np.iinfo(base.numpy_dtype)
        if not info.min <= value <= info.max:
            raise ValueError(f"identity {identity!r} of {name!r} does not fit {t.name}")
        return value
    if isinstance(identity, (int, float, np.number)) and not isinstance(identity, complex):
        if base.is_integer:
            if float(identity) != int(identity):
                raise ValueError(f"identity {identity!r} of {name!r} is not an integer, so it "
                                 f"cannot be one for {t.name}")
            return identity_value(int(identity), t, name)
        if base.is_complex:
            return complex(identity)
        return float(identity) if not base.is_bool else bool(identity)
    if isinstance(identity, complex) and base.is_complex:
        return identity
    raise TypeError(f"identity of {name!r} must be a number (or {INF!r} / {NINF!r}), got "
                    f"{identity!r}")


_INTEGER = frozenset({dt.INT, dt.UINT})
_REAL = _INTEGER | {dt.FLOAT}
_NUMBER = _REAL | {dt.COMPLEX}

SubgroupAdd = ReduceOp("add", lambda x, y: x + y, 0, subgroups.subgroup_add, _NUMBER)
SubgroupMul = ReduceOp("mul", lambda x, y: x * y, 1, subgroups.subgroup_mul, _NUMBER)
SubgroupMin = ReduceOp("min", lambda x, y: vmath.min(x, y), INF, subgroups.subgroup_min, _REAL)
SubgroupMax = ReduceOp("max", lambda x, y: vmath.max(x, y), NINF, subgroups.subgroup_max, _REAL)
SubgroupAnd = ReduceOp("and", lambda x, y: x & y, -1, subgroups.subgroup_and, _INTEGER)
SubgroupOr = ReduceOp("or", lambda x, y: x | y, 0, subgroups.subgroup_or, _INTEGER)
SubgroupXor = ReduceOp("xor", lambda x, y: x ^ y, 0, subgroups.subgroup_xor, _INTEGER)

BUILTIN_OPS = {op.name: op for op in (SubgroupAdd, SubgroupMul, SubgroupMin, SubgroupMax,
                                      SubgroupAnd, SubgroupOr, SubgroupXor)}
