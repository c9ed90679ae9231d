"""vkdispatch 0.1's constructor functions: `vc.to_vec3(x, y, z)`, `vc.to_float(i)`, ...
Each builds a value of its type from components or converts one value (numpy's
conversion rules, as `ShaderVariable.cast`); unlike vc.new_* the result is not a
mutable variable."""
from __future__ import annotations

from ...base import dtype as dt
from ..builder import current
from ..variables import ShaderVariable, wrap
from .memory import construct


def to_dtype(dtype, *args) -> ShaderVariable:
    """A value of `dtype` from `args` (components, or one value to convert)."""
    b = next((a.builder for a in args if isinstance(a, ShaderVariable)), None) or current()
    return wrap(b, construct(b, dtype, args))


def _to(t, name):
    def f(*args):
        return to_dtype(t, *args)
    f.__name__ = name
    f.__doc__ = f"A {t.name} value from components or by conversion."
    return f


_NAMES = {"float16": dt.float16, "float": dt.float32, "float64": dt.float64,
          "int16": dt.int16, "int": dt.int32, "int64": dt.int64, "uint16": dt.uint16,
          "uint": dt.uint32, "uint64": dt.uint64, "complex": dt.complex64,
          "complex32": dt.complex32, "complex64": dt.complex64, "complex128": dt.complex128,
          **{v: dt.from_name(v) for v in (
              "hvec2", "hvec3", "hvec4", "vec2", "vec3", "vec4", "dvec2", "dvec3", "dvec4",
              "ihvec2", "ihvec3", "ihvec4", "ivec2", "ivec3", "ivec4", "uhvec2", "uhvec3",
              "uhvec4", "uvec2", "uvec3", "uvec4", "mat2", "mat3", "mat4")}}
CASTS = {f"to_{k}": _to(t, f"to_{k}") for k, t in _NAMES.items()}


def complex_type_of(args) -> dt.DType:
    """0.1's complex type for `args` (`vc.to_complex`, `vc.new_complex_register`): a complex
    variable keeps its type, a real one gives the complex of its floating type (float16 ->
    complex32, float64 or int64 -> complex128), a Python number complex64; the widest wins."""
    if not args:
        return dt.complex64
    t = None
    for a in args:
        if isinstance(a, ShaderVariable):
            at = a.dtype
            if not (at.is_complex or at.is_scalar):
                raise TypeError(f"a complex value needs scalar or complex arguments, got {at.name}")
            at = at if at.is_complex else dt.complex_from_float(dt.make_floating_dtype(at))
        else:
            at = dt.complex64
        t = at if t is None else dt.cross_type(t, at)
    return t


def to_complex(*args) -> ShaderVariable:
    """A complex value from (re[, im]) or one value, of the type the arguments give (as 0.1:
    float64 parts make complex128, float16 parts complex32)."""
    return to_dtype(complex_type_of(args), *args)


CASTS["to_complex"] = to_complex
