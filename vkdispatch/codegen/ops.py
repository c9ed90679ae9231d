"""Every IR operation, defined once: name, arity, result-type rule, purity.

`make(op, *args, attrs=())` builds a checked `Expr`. Lowerings to GLSL / CUDA / OpenCL
live in the emitters' rule tables (`emit/*.py`), keyed by these names; an op without
a target rule is emitted as a call `op(args...)`, so most math ops need only a line here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..base import dtype as dt
from ..base.dtype import DType
from .ir import Expr


@dataclass(frozen=True)
class OpDef:
    name: str
    arity: Optional[int]                 # None: variadic
    result: Callable                     # (arg dtypes, attrs) -> DType
    pure: bool = True                    # False: has side effects / reads memory
    feature: Optional[str] = None        # DeviceInfo capability the op needs


OPS: dict[str, OpDef] = {}


def _def(name, arity, result, pure=True, feature=None):
    OPS[name] = OpDef(name, arity, result, pure, feature)


def make(op: str, *args, attrs: tuple = (), dtype: Optional[DType] = None) -> Expr:
    d = OPS[op]
    if d.arity is not None and len(args) != d.arity:
        raise TypeError(f"{op} takes {d.arity} operands, got {len(args)}")
    t = dtype if dtype is not None else d.result([a.dtype for a in args], attrs)
    return Expr(op, tuple(args), t, tuple(attrs))


# ----------------------------------------------------------------------------- type rules

def _same(ts, attrs):
    out = ts[0]
    for t in ts[1:]:
        out = dt.promote(out, t)
    return out


def _first(ts, attrs):
    return ts[0]


def _bool_like(ts, attrs):
    t = _same(ts, attrs)
    return dt.with_base(t, dt.bool_) if t.is_vector else dt.bool_


def _float_of(ts, attrs):
    t = _same(ts, attrs)
    return t if t.base.kind in (dt.FLOAT, dt.COMPLEX) else dt.with_base(t, dt.float32)


def _scalar_of(ts, attrs):
    return ts[0].base


def _bool(ts, attrs):
    return dt.bool_


def _uint(ts, attrs):
    return dt.uint32


def _void(ts, attrs):
    return dt.uint32  # side-effect-only ops carry a placeholder type


def _complex_part(ts, attrs):
    return dt.complex_part(ts[0])


def _matmul(ts, attrs):
    a, b = ts
    if a.is_matrix and b.is_matrix:
        return a
    if a.is_matrix:
        return b
    if b.is_matrix:
        return a
    raise TypeError("matmul needs a matrix operand")


def _swizzle(ts, attrs):
    base = ts[0].base
    if base.is_complex:   # .x / .y / .yx of a complex number are its float parts
        base = dt.complex_part(base)
    return dt.vector_of(base, len(attrs[0]))


def _component(ts, attrs):
    t = ts[0]
    if t.is_matrix:
        return dt.vector_of(t.base, t.columns)
    return t.base


def _index(ts, attrs):
    return ts[0]


# arithmetic
for _n in ("add", "sub", "mul", "div", "mod", "floordiv", "min", "max", "pow", "atan2"):
    _def(_n, 2, _same)
for _n in ("neg", "abs", "sign"):
    _def(_n, 1, _first)
for _n in ("bit_and", "bit_or", "bit_xor", "shl", "shr"):
    _def(_n, 2, _same)
_def("bit_not", 1, _first)
# logic and comparison (vectors compare component-wise to bool vectors)
for _n in ("lt", "le", "gt", "ge", "eq", "ne"):
    _def(_n, 2, _bool_like)
_def("logical_and", 2, _bool_like)
_def("logical_or", 2, _bool_like)
_def("logical_not", 1, _first)
_def("any", 1, _bool)
_def("all", 1, _bool)
_def("select", 3, lambda ts, a: dt.promote(ts[1], ts[2]))   # cond ? a : b
# float math (integer operands are promoted to float32 by the builder)
for _n in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
           "acosh", "atanh", "exp", "exp2", "expm1", "log", "log2", "log1p", "sqrt", "rsqrt",
           "floor", "ceil", "round", "trunc", "fract"):
    _def(_n, 1, _first)
_def("clamp", 3, _same)
_def("mix", 3, lambda ts, a: dt.promote(ts[0], ts[1]))
_def("fma", 3, _same)
_def("step", 2, lambda ts, a: ts[1])
_def("smoothstep", 3, lambda ts, a: ts[2])
_def("radians", 1, _first)
_def("degrees", 1, _first)
_def("isnan", 1, _bool_like)
_def("isinf", 1, _bool_like)
# vectors and matrices
_def("dot", 2, _scalar_of)
_def("cross", 2, _first)
_def("length", 1, _scalar_of)
_def("distance", 2, _scalar_of)
_def("normalize", 1, _first)
_def("matmul", 2, _matmul)
_def("transpose", 1, _first)
_def("determinant", 1, _scalar_of)
_def("inverse", 1, _first)
_def("matrix_comp_mult", 2, _first)      # element by element
_def("outer_product", 2, lambda ts, a: dt.from_name(f"mat{ts[0].count}"))  # column j = a * b[j]
# complex numbers (stored as 2-vectors of their float part)
_def("cmul", 2, _same)
_def("cdiv", 2, _same)
_def("conj", 1, _first)
_def("cexp", 1, _first)
_def("cabs", 1, _complex_part)
_def("real", 1, _complex_part)
_def("imag", 1, _complex_part)
# structure
_def("cast", 1, None)                    # dtype given explicitly
_def("bitcast", 1, None)
_def("construct", None, None)            # vector/matrix/complex from parts
_def("swizzle", 1, _swizzle)             # attrs: ("xyz",)
_def("component", 2, _component)         # v[i] / m[i] (column), dynamic index
_def("index", 2, _index, pure=False)     # array element: (array Var, index)
_def("builtin", 0, None)                 # attrs: (name,)
# memory
for _n in ("atomic_add", "atomic_min", "atomic_max", "atomic_and", "atomic_or", "atomic_xor",
           "atomic_exchange"):
    _def(_n, 2, _first, pure=False)
_def("atomic_compare_exchange", 3, _first, pure=False)
_def("barrier", 0, _void, pure=False)           # workgroup execution + shared memory barrier
_def("memory_barrier", 0, _void, pure=False)    # attrs: (one of MEMORY_SCOPES,)
# subgroups
for _n in ("subgroup_add", "subgroup_mul", "subgroup_min", "subgroup_max", "subgroup_and",
           "subgroup_or", "subgroup_xor", "subgroup_inclusive_add", "subgroup_exclusive_add"):
    _def(_n, 1, _first, pure=False, feature="arithmetic")
_def("subgroup_shuffle", 2, _first, pure=False, feature="shuffle")
_def("subgroup_shuffle_xor", 2, _first, pure=False, feature="shuffle")
_def("subgroup_broadcast", 2, _first, pure=False, feature="ballot")
_def("subgroup_broadcast_first", 1, _first, pure=False, feature="ballot")
_def("subgroup_elect", 0, _bool, pure=False, feature="basic")
_def("subgroup_all", 1, _bool, pure=False, feature="vote")
_def("subgroup_any", 1, _bool, pure=False, feature="vote")
_def("subgroup_barrier", 0, _void, pure=False, feature="basic")
# images: (image Var, coords[, lod])
_def("image_sample", None, lambda ts, a: dt.vector_of(ts[0].base, 4), pure=False)
_def("image_fetch", None, lambda ts, a: dt.vector_of(ts[0].base, 4), pure=False)
_def("image_load", 2, lambda ts, a: dt.vector_of(ts[0].base, 4), pure=False)
_def("image_store", 3, _void, pure=False)
_def("image_size", None, None)   # (image[, its shader shape: arrayed images])
# debugging
_def("printf", None, _void, pure=False)         # attrs: (format,)
_def("comment", 0, _void, pure=False)           # attrs: (text,): a source comment

# memory_barrier scopes: "group" orders the invocation's accesses of every kind as seen
# by its own workgroup only (GLSL groupMemoryBarrier)
MEMORY_SCOPES = ("all", "buffer", "shared", "image", "group")

SIDE_EFFECT_ONLY = frozenset({"barrier", "memory_barrier", "subgroup_barrier", "image_store",
                              "printf", "comment"})
