"""IR for each elementwise function: `lower(args, dtype) -> ir node`, where `args` are
the operands' IR values (each in its own dtype) and `dtype` is the result's. Operands
are converted to their common (promoted) type here, so one rule serves every dtype."""
from __future__ import annotations

import math

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import current
from ..codegen.variables import binary_node, convert
from . import _dtypes


def common(args) -> dt.DType:
    t = args[0].dtype
    for a in args[1:]:
        t = _dtypes.promote(t, a.dtype)
    return t


def lit(value, t: dt.DType) -> ir.Lit:
    if t.is_complex:
        return ir.Lit(complex(value), t)
    if t.is_float:
        return ir.Lit(float(value), t)
    if t.is_bool:
        return ir.Lit(bool(value), t)
    return ir.Lit(int(value), t)


def _same(args):
    t = common(args)
    return [convert(a, t) for a in args], t


def arith(op):
    def lower(args, dtype):
        (a, b), t = _same(args)
        return convert(binary_node(op, a, b), dtype)
    return lower


def compare(op):
    def lower(args, dtype):
        (a, b), t = _same(args)
        return ops.make(op, a, b)
    return lower


def unary(op):
    def lower(args, dtype):
        return ops.make(op, convert(args[0], dtype))
    return lower


def identity(args, dtype):
    return convert(args[0], dtype)


def select(c, a, b):
    return ops.make("select", c, a, b)


def isnan(x):
    return ops.make("ne", x, x)


def _is_int(t):
    return t.kind in (dt.INT, dt.UINT)


# ----------------------------------------------------------------------------- rules

def abs_(args, dtype):
    x = args[0]
    if x.dtype.is_complex:
        return ops.make("cabs", x)
    if x.dtype.kind in (dt.UINT, dt.BOOL):
        return x
    return ops.make("abs", x)


def negative(args, dtype):
    x = args[0]
    if x.dtype.kind == dt.UINT:    # wraps around, as NumPy's unsigned negation
        return ops.make("sub", lit(0, dtype), x)
    return ops.make("neg", x)


def rounding(op):
    def lower(args, dtype):
        x = args[0]
        if x.dtype.is_complex:   # each part on its own
            z = current().bind(x)
            return ops.make("construct", ops.make(op, ops.make("real", z)),
                            ops.make(op, ops.make("imag", z)), dtype=dtype)
        return x if _is_int(x.dtype) else ops.make(op, x)
    return lower


def sign(args, dtype):
    x = args[0]
    t = x.dtype
    if t.kind == dt.UINT:
        return convert(ops.make("gt", x, lit(0, t)), t)
    if t.is_float:   # sign(nan) is nan; sign(-0) is +0 (OpenCL's sign keeps the -0)
        x = current().bind(x)
        zero = ops.make("eq", x, lit(0, t))
        return select(isnan(x), x, select(zero, lit(0, t), ops.make("sign", x)))
    return ops.make("sign", x)


def divide(args, dtype):
    (a, b), _ = _same([convert(x, dtype) for x in args])
    return binary_node("div", a, b)


def _int_division(a, b, t):
    """(quotient, remainder) rounded toward minus infinity, as Python and NumPy do, with
    a zero divisor giving 0 (NumPy's value) instead of undefined behaviour. Written out
    here rather than left to a target's helper: lavapipe computed 1 // -2 as 0 there for
    an int64 divisor converted from int32."""
    bld = current()
    zero = bld.bind(ops.make("eq", b, lit(0, t)))
    d = bld.bind(select(zero, lit(1, t), b))
    q = bld.bind(ops.make("div", a, d))
    r = bld.bind(ops.make("sub", a, ops.make("mul", q, d)))
    if t.kind == dt.UINT:
        return select(zero, lit(0, t), q), select(zero, lit(0, t), r)
    adjust = bld.bind(ops.make("logical_and", ops.make("ne", r, lit(0, t)),
                               ops.make("ne", ops.make("lt", r, lit(0, t)),
                                        ops.make("lt", d, lit(0, t)))))
    q = select(adjust, ops.make("sub", q, lit(1, t)), q)
    r = select(adjust, ops.make("add", r, d), r)
    return select(zero, lit(0, t), q), select(zero, lit(0, t), r)


def floor_divide(args, dtype):
    (a, b), t = _same(args)
    if _is_int(t):
        return _int_division(a, b, t)[0]
    return ops.make("floor", ops.make("div", a, b))


def remainder(args, dtype):
    (a, b), t = _same(args)
    if _is_int(t):
        return _int_division(a, b, t)[1]
    a, b = current().bind(a), current().bind(b)
    r = ops.make("sub", a, ops.make("mul", b, ops.make("floor", ops.make("div", a, b))))
    # Python's %: a finite x1 over an infinite x2 is x1 when their signs agree (or x1 is
    # zero), else x2; a zero result has x2's sign
    keep = ops.make("logical_or", ops.make("eq", ops.make("lt", a, lit(0, t)),
                                           ops.make("lt", b, lit(0, t))),
                    ops.make("eq", a, lit(0, t)))
    r = select(ops.make("logical_and", is_inf(b), is_finite(a)), select(keep, a, b), r)
    r = current().bind(r)
    return select(ops.make("eq", r, lit(0, t)), signed_zero(b), r)


def power(args, dtype):
    (a, b), t = _same(args)
    if _is_int(t):
        return _int_power(a, b, t)
    return binary_node("pow", a, b)


def _int_power(a, b, t):
    """a ** b by squaring, exact (and wrapping) like NumPy; 0 for a negative exponent."""
    bld = current()
    result = bld.bind(lit(1, t), mutable=True)
    base = bld.bind(a, mutable=True)
    e = bld.bind(b, mutable=True)
    k = bld.new_var(dt.int32, name=f"k{bld.new_id()}")
    loop = ir.For(k, lit(0, dt.int32), lit(t.itemsize * 8, dt.int32), lit(1, dt.int32), [])
    bld.emit(loop)
    with bld.nested(loop.body, "integer power loop"):
        odd = ops.make("ne", ops.make("bit_and", e, lit(1, t)), lit(0, t))
        bld.emit(ir.If(odd, [ir.Assign(result, ops.make("mul", result, base))]))
        bld.emit(ir.Assign(base, ops.make("mul", base, base)))
        bld.emit(ir.Assign(e, ops.make("shr", e, lit(1, t))))
    if t.kind == dt.UINT:
        return result
    return select(ops.make("lt", b, lit(0, t)), lit(0, t), result)


def arcsin(args, dtype):
    # through atan2: some drivers' asin/acos are far less precise than their atan
    x = convert(args[0], dtype)
    c = ops.make("sqrt", ops.make("mul", ops.make("sub", lit(1, dtype), x),
                                  ops.make("add", lit(1, dtype), x)))
    return ops.make("atan2", x, c)


def arccos(args, dtype):
    x = convert(args[0], dtype)
    s = ops.make("sqrt", ops.make("mul", ops.make("sub", lit(1, dtype), x),
                                  ops.make("add", lit(1, dtype), x)))
    return ops.make("atan2", s, x)


def minmax(op):
    def lower(args, dtype):
        (a, b), t = _same(args)
        m = ops.make(op, a, b)
        if t.is_float:     # NaN wins, as the standard asks
            return select(isnan(a), a, select(isnan(b), b, m))
        return m
    return lower


def shift(op):
    def lower(args, dtype):
        (a, b), t = _same(args)
        bits = t.itemsize * 8
        if op == "shl" or t.kind == dt.UINT:   # shifted out entirely: 0
            big = ops.make("ge", b, lit(bits, t))
            return select(big, lit(0, t), ops.make(op, a, select(big, lit(0, t), b)))
        big = ops.make("ge", b, lit(bits - 1, t))    # arithmetic: sign fills
        return ops.make(op, a, select(big, lit(bits - 1, t), b))
    return lower


def bitwise(op, logical):
    def lower(args, dtype):
        (a, b), t = _same(args)
        if t.is_bool:
            return ops.make(logical, a, b)
        return ops.make(op, a, b)
    return lower


def invert(args, dtype):
    x = args[0]
    return ops.make("logical_not", x) if x.dtype.is_bool else ops.make("bit_not", x)


def isnan_(args, dtype):
    x = args[0]
    if x.dtype.is_complex:
        return ops.make("logical_or", isnan(ops.make("real", x)), isnan(ops.make("imag", x)))
    return isnan(x) if x.dtype.is_float else lit(False, dt.bool_)


def isinf_(args, dtype):
    x = args[0]
    if x.dtype.is_complex:
        return ops.make("logical_or", is_inf(ops.make("real", x)), is_inf(ops.make("imag", x)))
    return is_inf(x) if x.dtype.is_float else lit(False, dt.bool_)


def is_inf(x):
    return ops.make("eq", ops.make("abs", x), lit(math.inf, x.dtype))


def is_finite(x):
    return ops.make("lt", ops.make("abs", x), lit(math.inf, x.dtype))


def with_sign_of(m, s):
    """Nonnegative `m` with the sign bit of `s`."""
    if isinstance(m, ir.Expr):   # once, not in both branches
        m = current().bind(m)
    return select(signbit([s], dt.bool_), ops.make("neg", m), m)


def signed_zero(s):
    """0 with the sign bit of `s`."""
    return select(signbit([s], dt.bool_), lit(-0.0, s.dtype), lit(0.0, s.dtype))


def isfinite_(args, dtype):
    x = args[0]
    if not (x.dtype.is_float or x.dtype.is_complex):
        return lit(True, dt.bool_)
    bad = ops.make("logical_or", isnan_(args, dtype), isinf_(args, dtype))
    return ops.make("logical_not", bad)


def signbit(args, dtype):
    x = args[0]
    neg = ops.make("lt", x, lit(0, x.dtype))
    if x.dtype is dt.float32:   # -0.0 and -nan have the sign bit too
        return ops.make("lt", ops.make("bitcast", x, dtype=dt.int32), lit(0, dt.int32))
    if x.dtype is dt.float64:   # the high word's top bit (no 64-bit integers needed)
        high = ops.make("swizzle", ops.make("bitcast", x, dtype=dt.uvec2), attrs=("y",))
        return ops.make("ge", high, lit(1 << 31, dt.uint32))
    zero = ops.make("eq", x, lit(0, x.dtype))
    negzero = ops.make("lt", ops.make("div", lit(1, x.dtype), x), lit(0, x.dtype))
    return ops.make("logical_or", neg, ops.make("logical_and", zero, negzero))


def copysign(args, dtype):
    (a, b), t = _same(args)
    mag = ops.make("abs", a)
    return select(signbit([b], dt.bool_), ops.make("neg", mag), mag)


_BITS = {dt.float32: (dt.uint32, 1 << 31), dt.float64: (dt.uint64, 1 << 63)}


def nextafter(args, dtype):
    """The next representable value after x1 toward x2, by stepping x1's bit pattern
    (a magnitude step is one unit of the bits, whatever the exponent); from zero, the
    smallest subnormal with x2's sign. Zero tests, equality and direction compare the
    bit patterns, not the floats: a device that flushes subnormal operands to zero
    would see the smallest subnormal as zero."""
    (a, b), t = _same(args)
    bits_t, sign = _BITS[t]
    ua, ub = (ops.make("bitcast", v, dtype=bits_t) for v in (a, b))
    one, sign_bit = lit(1, bits_t), lit(sign, bits_t)

    def magnitude(u):
        return ops.make("bit_and", u, lit(sign - 1, bits_t))

    def negative(u):
        return ops.make("ne", ops.make("bit_and", u, sign_bit), lit(0, bits_t))

    def order(u):   # monotonic in the float's value (-0 just below +0)
        flip = select(negative(u), lit(2 * sign - 1, bits_t), sign_bit)
        return ops.make("bit_xor", u, flip)

    zero_a = ops.make("eq", magnitude(ua), lit(0, bits_t))
    both_zero = ops.make("eq", magnitude(ops.make("bit_or", ua, ub)), lit(0, bits_t))
    equal = ops.make("logical_or", ops.make("eq", ua, ub), both_zero)
    upward = ops.make("gt", order(ub), order(ua))
    away_from_zero = ops.make("ne", upward, negative(ua))
    stepped = select(away_from_zero, ops.make("add", ua, one), ops.make("sub", ua, one))
    smallest = ops.make("bit_or", ops.make("bit_and", ub, sign_bit), one)
    out = select(equal, ub, select(zero_a, smallest, stepped))
    out = ops.make("bitcast", out, dtype=t)
    nan = ops.make("logical_or", isnan_([a], dtype), isnan_([b], dtype))
    return select(nan, lit(math.nan, t), out)


def square(args, dtype):
    x = convert(args[0], dtype)
    return binary_node("mul", x, x)


def reciprocal(args, dtype):
    x = convert(args[0], dtype)
    return binary_node("div", lit(1, dtype), x)


def log10(args, dtype):
    x = convert(args[0], dtype)
    return ops.make("mul", ops.make("log2", x), lit(math.log10(2.0), dtype))


def logaddexp(args, dtype):
    (a, b), t = _same(args)
    m = ops.make("max", a, b)
    d = ops.make("neg", ops.make("abs", ops.make("sub", a, b)))
    out = ops.make("add", m, ops.make("log1p", ops.make("exp", d)))
    equal = ops.make("eq", a, b)        # inf == inf: the difference would be nan
    return select(isnan(a), a, select(isnan(b), b, select(equal, ops.make("add", a, lit(
        math.log(2.0), t)), out)))


def hypot(args, dtype):
    (a, b), t = _same(args)
    x, y = ops.make("abs", a), ops.make("abs", b)
    m = ops.make("max", x, y)
    n = ops.make("min", x, y)
    r = ops.make("div", n, m)
    out = ops.make("mul", m, ops.make("sqrt", ops.make("add", lit(1, t), ops.make("mul", r, r))))
    inf = ops.make("logical_or", is_inf(a), is_inf(b))
    nan = ops.make("logical_or", isnan(a), isnan(b))   # max/min would drop the NaN
    zero = ops.make("eq", m, lit(0, t))
    return select(inf, lit(math.inf, t), select(nan, ops.make("add", a, b),
                                                select(zero, lit(0, t), out)))


def logical(op):
    def lower(args, dtype):
        return ops.make(op, *args)
    return lower


def real(args, dtype):
    x = args[0]
    return ops.make("real", x) if x.dtype.is_complex else x


def imag(args, dtype):
    x = args[0]
    return ops.make("imag", x) if x.dtype.is_complex else lit(0, dtype)


def conj(args, dtype):
    x = args[0]
    return ops.make("conj", x) if x.dtype.is_complex else x


def where(args, dtype):
    c, a, b = args
    return select(c, convert(a, dtype), convert(b, dtype))


def clip(args, dtype):
    x, lo, hi = args
    x = convert(x, dtype)
    out = x
    if lo is not None:
        lo = convert(lo, dtype)
        out = select(ops.make("lt", out, lo), lo, out)
    if hi is not None:
        hi = convert(hi, dtype)
        out = select(ops.make("gt", out, hi), hi, out)
    if dtype.is_float:
        out = select(isnan(x), x, out)
    return out


def astype(args, dtype):
    x = args[0]
    if x.dtype is dtype:
        return x
    if dtype.is_bool:
        if x.dtype.is_complex:
            return ops.make("logical_or", ops.make("ne", ops.make("real", x), lit(0, dt.float32
                            if x.dtype is dt.complex64 else dt.float64)),
                            ops.make("ne", ops.make("imag", x), lit(0, dt.float32
                                     if x.dtype is dt.complex64 else dt.float64)))
        return ops.make("ne", x, lit(0, x.dtype))
    if x.dtype.is_bool:
        return select(x, lit(1, dtype), lit(0, dtype))
    if x.dtype.is_complex and not dtype.is_complex:
        return convert(ops.make("real", x), dtype)
    return convert(x, dtype)
