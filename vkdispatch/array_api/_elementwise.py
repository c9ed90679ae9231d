"""The elementwise functions, one table row each: name -> Row (operand category, result
rule, IR lowering, device features needed for a dtype). `apply` checks the operands (dtypes, broadcasting, Python scalars),
records one lazy node and returns its pending Array."""
from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as np

from ..codegen.variables import convert
from ..execution import lazy
from ..execution.lazy import Scalar
from . import _array
from . import _dtypes as d
from . import _complex_lowering as C
from . import _lowering as L
from ._array import Array, pending


class Op:
    """An elementwise operation as the lazy layer sees it."""
    __slots__ = ("key", "lower")

    def __init__(self, key, lower):
        self.key = key
        self.lower = lower

    def __repr__(self) -> str:
        return f"<elementwise {self.key[0]}>"


SAME, BOOL, REAL, FLOAT = "same", "bool", "real", "float"


class Row(NamedTuple):
    """An elementwise function: operand count, operand category, result rule, IR
    lowering, and `needs`: (dtype, DeviceInfo flag, why) for each device feature it
    takes beyond computing that dtype."""
    arity: int
    category: str
    rule: str
    lower: object
    needs: tuple = ()


_TRIG = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
         "acosh", "atanh")

# name: (arity, category, result rule, lowering[, needs]), made Rows below
TABLE = {
    "abs": (1, "numeric", REAL, L.abs_),
    "negative": (1, "numeric", SAME, L.negative),
    "positive": (1, "numeric", SAME, L.identity),
    "add": (2, "numeric", SAME, L.arith("add")),
    "subtract": (2, "numeric", SAME, L.arith("sub")),
    "multiply": (2, "numeric", SAME, L.arith("mul")),
    "divide": (2, "floating-point", SAME, L.divide),
    "floor_divide": (2, "real numeric", SAME, L.floor_divide),
    "remainder": (2, "real numeric", SAME, L.remainder),
    "pow": (2, "numeric", SAME, C.complex_power),
    "maximum": (2, "real numeric", SAME, L.minmax("max")),
    "minimum": (2, "real numeric", SAME, L.minmax("min")),
    "atan2": (2, "real floating-point", SAME, L.arith("atan2")),
    "copysign": (2, "real floating-point", SAME, L.copysign),
    "hypot": (2, "real floating-point", SAME, L.hypot),
    "nextafter": (2, "real floating-point", SAME, L.nextafter,
                  ((d.float64, "int64", "it steps 64-bit integer bit patterns"),)),
    "logaddexp": (2, "real floating-point", SAME, L.logaddexp),
    "equal": (2, "any", BOOL, L.compare("eq")),
    "not_equal": (2, "any", BOOL, L.compare("ne")),
    "less": (2, "real numeric", BOOL, L.compare("lt")),
    "less_equal": (2, "real numeric", BOOL, L.compare("le")),
    "greater": (2, "real numeric", BOOL, L.compare("gt")),
    "greater_equal": (2, "real numeric", BOOL, L.compare("ge")),
    "logical_and": (2, "bool", BOOL, L.logical("logical_and")),
    "logical_or": (2, "bool", BOOL, L.logical("logical_or")),
    "logical_xor": (2, "bool", BOOL, L.logical("ne")),
    "logical_not": (1, "bool", BOOL, L.logical("logical_not")),
    "bitwise_and": (2, "integer or boolean", SAME, L.bitwise("bit_and", "logical_and")),
    "bitwise_or": (2, "integer or boolean", SAME, L.bitwise("bit_or", "logical_or")),
    "bitwise_xor": (2, "integer or boolean", SAME, L.bitwise("bit_xor", "ne")),
    "bitwise_invert": (1, "integer or boolean", SAME, L.invert),
    "bitwise_left_shift": (2, "integer", SAME, L.shift("shl")),
    "bitwise_right_shift": (2, "integer", SAME, L.shift("shr")),
    "ceil": (1, "real numeric", SAME, L.rounding("ceil")),
    "floor": (1, "real numeric", SAME, L.rounding("floor")),
    "trunc": (1, "real numeric", SAME, L.rounding("trunc")),
    "round": (1, "numeric", SAME, L.rounding("round")),
    "sign": (1, "numeric", SAME, C.complex_sign),
    "signbit": (1, "real floating-point", BOOL, L.signbit),
    "isnan": (1, "numeric", BOOL, L.isnan_),
    "isinf": (1, "numeric", BOOL, L.isinf_),
    "isfinite": (1, "numeric", BOOL, L.isfinite_),
    "square": (1, "numeric", SAME, L.square),
    "sqrt": (1, "floating-point", SAME, C.complex_capable("sqrt", L.unary("sqrt"))),
    "reciprocal": (1, "floating-point", SAME, L.reciprocal),
    "exp": (1, "floating-point", SAME, C.complex_capable("exp", L.unary("exp"))),
    "expm1": (1, "floating-point", SAME, C.complex_capable("expm1", L.unary("expm1"))),
    "log": (1, "floating-point", SAME, C.complex_capable("log", L.unary("log"))),
    "log1p": (1, "floating-point", SAME, C.complex_capable("log1p", L.unary("log1p"))),
    "log2": (1, "floating-point", SAME, C.complex_capable("log2", L.unary("log2"))),
    "log10": (1, "floating-point", SAME, C.complex_capable("log10", L.log10)),
    "real": (1, "numeric", REAL, L.real),
    "imag": (1, "numeric", REAL, L.imag),
    "conj": (1, "numeric", SAME, L.conj),
}
for _name in _TRIG:
    TABLE[_name] = (1, "floating-point", SAME, C.complex_capable(_name, L.unary(_name)))
TABLE["asin"] = (1, "floating-point", SAME, C.complex_capable("asin", L.arcsin))
TABLE["acos"] = (1, "floating-point", SAME, C.complex_capable("acos", L.arccos))
TABLE = {name: Row(*row) for name, row in TABLE.items()}

OPS = {name: Op((name,), row.lower) for name, row in TABLE.items()}


def broadcast_shapes(*shapes) -> tuple:
    ndim = builtins.max((len(s) for s in shapes), default=0)
    out = []
    for k in range(ndim):
        size = 1
        for s in shapes:
            j = len(s) - ndim + k
            n = s[j] if j >= 0 else 1
            if n != 1:
                if size not in (1, n):
                    raise ValueError(f"shapes {', '.join(map(str, shapes))} cannot be "
                                     f"broadcast together (axis {k - ndim}: {size} vs {n})")
                size = n
        out.append(size)
    return tuple(out)


def _real_of(t):
    return {d.complex64: d.float32, d.complex128: d.float64}.get(t, t)


def check_device_dtype(device, t, what: str) -> None:
    """TypeError when `device` cannot compute `t` (float64 without fp64 support)."""
    info = device.info
    if t in (d.float64, d.complex128) and not info.float64:
        raise TypeError(f"{what}: {t.name} is not supported on device {info.name!r} (no "
                        f"64-bit floats); use float32")


def operands(name: str, args, category: str):
    """(arrays in args, their promoted dtype, device) with TypeErrors for bad input."""
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        raise TypeError(f"{name} needs at least one array argument, got "
                        f"{[type(a).__name__ for a in args]}")
    allowed = d.CATEGORY_SETS[category]
    t = None
    for a in arrays:
        if a.dtype not in allowed:
            raise TypeError(f"{name} takes {category} arrays, got {a.dtype.name}")
        t = a.dtype if t is None else d.promote(t, a.dtype)
    device = arrays[0].device
    for a in arrays[1:]:
        if a.device != device:
            raise ValueError(f"{name}: arrays are on different devices")
    for a in args:
        if not isinstance(a, Array):
            d.scalar_dtype(a, t)
    return arrays, t, device


def node_arg(a, t):
    """`a` as an argument of a node computed in dtype `t`."""
    if isinstance(a, Array):
        return a._arg()
    value = a
    if t.is_complex:
        value = complex(a)
    elif t.is_float:
        value = float(a)
    elif t.is_bool:
        value = builtins.bool(a)
    return lazy.Scalar(value, t)


# (name, per operand its dtype or Python type, device) -> (op, operand dtype, result
# dtype, per operand: how a Python scalar becomes the kernel argument's value or None)
_rules: dict = {}
_broadcasts: dict = {}   # (shape, shape) -> broadcast shape


def _int_in_range(t):
    lo, hi = (int(v) for v in (np.iinfo(t.numpy_dtype).min, np.iinfo(t.numpy_dtype).max))

    def check(value):
        if not lo <= value <= hi:
            raise OverflowError(f"Python int {value} is out of bounds for {t.name}")
        return value
    return check


def _scalar_conversion(value, t):
    """How Python scalar `value` becomes a `t` kernel argument (None: as it is)."""
    if t.is_complex:
        return None if type(value) is complex else complex
    if t.is_float:
        return None if type(value) is float else float
    if t.is_bool:
        return None if type(value) is builtins.bool else builtins.bool
    return _int_in_range(t)


def _rule(name: str, args: tuple, key: tuple) -> tuple:
    """Check `name` on `args` (TypeError / ValueError for bad input) and keep the rule
    under `key`."""
    row = TABLE[name]
    _, t, device = operands(name, args, row.category)
    check_device_dtype(device, t, name)
    for needed, flag, why in row.needs:
        if t is needed and not getattr(device.info, flag):
            raise TypeError(f"{name} of {t.name} needs {flag} support ({why}), which "
                            f"{device} lacks")
    result = {SAME: t, BOOL: d.bool, REAL: _real_of(t)}[row.rule]
    found = (OPS[name], t, result) + tuple(
        None if type(a) is Array else _scalar_conversion(a, t) for a in args)
    for a in args:
        if type(a) is not Array:
            d.scalar_dtype(a, t)     # this value's range
    if len(_rules) > 4096:
        _rules.clear()
    _rules[key] = found   # (a key without an array never gets here: operands raised)
    return found


def _broadcast2(s1: tuple, s2: tuple) -> tuple:
    shape = _broadcasts.get((s1, s2))
    if shape is None:
        shape = broadcast_shapes(s1, s2)
        if len(_broadcasts) > 4096:
            _broadcasts.clear()
        _broadcasts[s1, s2] = shape
    return shape


# The user's call is 2 frames above binary / unary (it calls an operator or a namespace
# function, which calls them); deeper internal callers are walked past outward.
_USER = 2


def binary(name: str, x1, x2) -> Array:
    """Record elementwise `name` on an array and an array or Python scalar."""
    t1, t2 = type(x1), type(x2)
    k1 = x1._dtype if t1 is Array else t1
    k2 = x2._dtype if t2 is Array else t2
    device = x1._device if t1 is Array else x2._device if t2 is Array else None
    rule = _rules.get((name, k1, k2, device))
    if rule is None:
        rule = _rule(name, (x1, x2), (name, k1, k2, device))
    op, t, result, c1, c2 = rule
    if t1 is Array:
        a1 = x1._node or x1._arg()
        s1 = x1._shape
    else:
        a1 = Scalar(x1 if c1 is None else c1(x1), t)
        s1 = None
    if t2 is Array:
        a2 = x2._node or x2._arg()
        s2 = x2._shape
        if s1 is not None and s1 is not s2 and s1 != s2:
            s2 = _broadcast2(s1, s2)
    else:
        a2 = Scalar(x2 if c2 is None else c2(x2), t)
        s2 = s1
    return pending(op, (a1, a2), s2, result, device, _USER)


def unary(name: str, x) -> Array:
    """Record elementwise `name` on array `x`."""
    key = (name, x._dtype, x._device) if type(x) is Array else None
    rule = _rules.get(key)
    if rule is None:
        rule = _rule(name, (x,), key)     # raises when x is no array
    return pending(rule[0], (x._node or x._arg(),), x._shape, rule[2], x._device, _USER)


def apply(name: str, *args) -> Array:
    """Record elementwise `name` on `args` (arrays and Python scalars)."""
    if len(args) == 2:
        return binary(name, args[0], args[1])
    if len(args) == 1:
        return unary(name, args[0])
    raise TypeError(f"{name} takes {TABLE[name].arity} arguments, got {len(args)}")


def _function(name: str):
    if TABLE[name].arity == 1:
        def f(x, /):
            return unary(name, x)
    else:
        def f(x1, x2, /):
            return binary(name, x1, x2)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"The standard's elementwise `{name}`."
    return f


for _name in TABLE:
    globals()[_name] = _function(_name)

_array.install_operators(binary, unary)


# ----------------------------------------------------------------------------- special rows

def _where_lower(args, dtype):
    return L.where(args, dtype)


WHERE = Op(("where",), _where_lower)


def where(condition, x1, x2, /) -> Array:
    if not isinstance(condition, Array) or condition.dtype is not d.bool:
        raise TypeError(f"where's condition must be a bool array, got "
                        f"{getattr(condition, 'dtype', type(condition).__name__)}")
    _, t, device = operands("where", (x1, x2), "any")
    if not isinstance(x1, Array) and not isinstance(x2, Array):
        raise TypeError("where needs x1 or x2 to be an array")
    shapes = [condition.shape] + [a.shape for a in (x1, x2) if isinstance(a, Array)]
    shape = broadcast_shapes(*shapes)
    args = (condition._arg(), node_arg(x1, t), node_arg(x2, t))
    return Array._record(WHERE, args, shape, t, device)


def _clip_op(has_lo: bool, has_hi: bool) -> Op:
    def lower(args, dtype):
        it = iter(args[1:])
        lo = next(it) if has_lo else None
        hi = next(it) if has_hi else None
        return L.clip([args[0], lo, hi], dtype)
    return Op(("clip", has_lo, has_hi), lower)


_CLIPS = {(a, b): _clip_op(a, b) for a in (False, True) for b in (False, True)}


def clip(x, /, min=None, max=None) -> Array:  # noqa: A002 - the standard's names
    if not isinstance(x, Array):
        raise TypeError(f"clip's x must be an array, got {type(x).__name__}")
    if not any(x.dtype is t for t in d.REAL_NUMERIC):
        raise TypeError(f"clip takes real numeric arrays, got {x.dtype.name}")
    shapes = [x.shape]
    args = [x._arg()]
    for bound, what in ((min, "min"), (max, "max")):
        if bound is None:
            continue
        if isinstance(bound, Array):
            if bound.dtype.kind != x.dtype.kind and not (
                    bound.dtype.is_integer and x.dtype.is_integer):
                raise TypeError(f"clip's {what} ({bound.dtype.name}) must be of x's kind "
                                f"({x.dtype.name})")
            shapes.append(bound.shape)
        elif isinstance(bound, builtins.bool) or not isinstance(bound, (int, float)):
            raise TypeError(f"clip's {what} must be an array, int or float, got {bound!r}")
        elif isinstance(bound, float) and not x.dtype.is_float:
            raise TypeError(f"clip's {what} is a float but x is {x.dtype.name}")
        args.append(node_arg(bound, x.dtype) if not isinstance(bound, Array) else bound._arg())
    shape = broadcast_shapes(*shapes)
    return Array._record(_CLIPS[min is not None, max is not None], tuple(args), shape,
                         x.dtype, x.device)


def _cast_lower(args, dtype):
    return L.astype(args, dtype)


CAST = Op(("astype",), _cast_lower)


def cast(x: Array, dtype) -> Array:
    return Array._record(CAST, (x._arg(),), x.shape, dtype, x.device)


def scalar_fill(value, shape: tuple, dtype, device) -> Array:
    """An array of `shape` holding `value` everywhere (no memory until it is needed)."""
    return Array._record(FILL, (node_arg(value, dtype),), shape, dtype, device)


def _fill_lower(args, dtype):
    return convert(args[0], dtype)


FILL = Op(("fill",), _fill_lower)
