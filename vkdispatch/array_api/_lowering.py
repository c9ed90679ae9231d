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
    r = select(ops.make("logical_and", _inf(b), _finite(a)), select(keep, a, b), r)
    r = current().bind(r)
    return select(ops.make("eq", r, lit(0, t)), _signed_zero(b), r)


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
        return ops.make("logical_or", _inf(ops.make("real", x)), _inf(ops.make("imag", x)))
    return _inf(x) if x.dtype.is_float else lit(False, dt.bool_)


def _inf(x):
    return ops.make("eq", ops.make("abs", x), lit(math.inf, x.dtype))


def _finite(x):
    return ops.make("lt", ops.make("abs", x), lit(math.inf, x.dtype))


def _copysign(m, s):
    """Nonnegative `m` with the sign bit of `s`."""
    return select(signbit([s], dt.bool_), ops.make("neg", m), m)


def _signed_zero(s):
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
    smallest subnormal with x2's sign."""
    (a, b), t = _same(args)
    bits_t, sign = _BITS[t]
    ua = ops.make("bitcast", a, dtype=bits_t)
    one = lit(1, bits_t)
    away_from_zero = ops.make("eq", ops.make("gt", b, a), ops.make("gt", a, lit(0, t)))
    stepped = select(away_from_zero, ops.make("add", ua, one), ops.make("sub", ua, one))
    smallest = select(signbit([b], dt.bool_), lit(sign | 1, bits_t), one)
    zero = ops.make("eq", a, lit(0, t))
    out = ops.make("bitcast", select(zero, smallest, stepped), dtype=t)
    out = select(ops.make("eq", a, b), b, out)
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
    inf = ops.make("logical_or", _inf(a), _inf(b))
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


# ----------------------------------------------------------------------------- complex math

def _part_type(t):
    return dt.float64 if t is dt.complex128 else dt.float32


def _re(z):
    return ops.make("real", z)


def _im(z):
    return ops.make("imag", z)


def _cplx(re, im, t):
    return ops.make("construct", re, im, dtype=t)


def _cexp(z, t):
    e = ops.make("exp", _re(z))
    return _cplx(ops.make("mul", e, ops.make("cos", _im(z))),
                 ops.make("mul", e, ops.make("sin", _im(z))), t)


def _c_exp(z, t, minus_one=False):
    """exp(z) (or exp(z) - 1) with C99's values where a part is not finite: a real
    argument stays real (y = ±0 kept), -inf with an infinite or NaN y gives 0 (-1),
    +inf with one gives inf + NaN j."""
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    out = _cexp(z, t)
    if minus_one:
        out = _csub(_bound(out), _clit(1, 0, t))
    on_axis = _cplx(ops.make("expm1" if minus_one else "exp", x), y, t)
    # (z = ±0 + 0j is left to the formula: the standard's expm1 is +0 there, not x)
    real = ops.make("logical_and", ops.make("eq", y, lit(0, p)), ops.make("ne", x, lit(0, p)))
    out = select(real, on_axis, out)
    low = _cplx(lit(-1 if minus_one else 0, p), _signed_zero(y), t)
    high = _cplx(lit(math.inf, p), lit(math.nan, p), t)
    wild = ops.make("logical_and", _inf(x), ops.make("logical_not", _finite(y)))
    return select(wild, select(ops.make("lt", x, lit(0, p)), low, high), out)


def _clog(z, t):
    return _cplx(ops.make("log", ops.make("cabs", z)), ops.make("atan2", _im(z), _re(z)), t)


def _csqrt(z, t):
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    r = ops.make("cabs", z)
    s = current().bind(ops.make("sqrt", ops.make("mul", ops.make("add", r, ops.make("abs", x)),
                                                 lit(0.5, p))))
    half = ops.make("div", y, ops.make("mul", lit(2, p), s))
    pos = _cplx(s, half, t)
    neg = _cplx(ops.make("abs", ops.make("div", y, ops.make("mul", lit(2, p), s))),
                _copysign(s, y), t)
    zero = ops.make("eq", s, lit(0, p))
    out = select(zero, _cplx(lit(0, p), y, t), select(ops.make("ge", x, lit(0, p)), pos, neg))
    # C99's infinities: y = ±inf gives inf + yj whatever x is; x = +inf with a NaN y
    # inf + NaN j, x = -inf with one NaN + inf j
    out = select(ops.make("logical_and", _inf(x), isnan(y)),
                 select(ops.make("gt", x, lit(0, p)), _cplx(x, y, t), _cplx(y, ops.make("neg", x), t)),
                 out)
    return select(_inf(y), _cplx(lit(math.inf, p), y, t), out)


def _cmul(a, b):
    return ops.make("cmul", a, b)


def _cdiv(a, b):
    return ops.make("cdiv", a, b)


def _cadd(a, b):
    return ops.make("add", a, b)


def _csub(a, b):
    return ops.make("sub", a, b)


def _clit(re, im, t):
    p = _part_type(t)
    return _cplx(lit(re, p), lit(im, p), t)


def _times_i(z, t):     # i * z
    return _cplx(ops.make("neg", _im(z)), _re(z), t)


def _times_minus_i(z, t):   # -i * z
    return _cplx(_im(z), ops.make("neg", _re(z)), t)


def _bound(z):
    return current().bind(z)


def _c_sin(z, t):      # -i sinh(i z), which has the special values
    return _times_minus_i(_bound(_c_sinh(_bound(_times_i(z, t)), t)), t)


def _c_cos(z, t):      # cosh(i z)
    return _c_cosh(_bound(_times_i(z, t)), t)


def _zero_or_inf_with_wild_y(x, y):
    """x is ±0 or ±inf and y is ±inf or NaN: where sinh/cosh's products are 0 * NaN."""
    p = x.dtype
    edge = ops.make("logical_or", ops.make("eq", x, lit(0, p)), _inf(x))
    return ops.make("logical_and", edge, ops.make("logical_not", _finite(y)))


def _c_sinh(z, t):
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    out = _cplx(ops.make("mul", ops.make("sinh", x), ops.make("cos", y)),
                ops.make("mul", ops.make("cosh", x), ops.make("sin", y)), t)
    # y = ±0: sinh(x) + yj (cosh(inf) * 0 is NaN); x = ±0 or ±inf with a wild y: x + NaN j
    out = select(ops.make("eq", y, lit(0, p)), _cplx(ops.make("sinh", x), y, t), out)
    return select(_zero_or_inf_with_wild_y(x, y), _cplx(x, lit(math.nan, p), t), out)


def _c_cosh(z, t):
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    out = _cplx(ops.make("mul", ops.make("cosh", x), ops.make("cos", y)),
                ops.make("mul", ops.make("sinh", x), ops.make("sin", y)), t)
    # y = ±0: cosh(x) + (sinh(x) * y)j, whose sign is x's times y's
    flipped = select(signbit([x], dt.bool_), ops.make("neg", y), y)
    out = select(ops.make("eq", y, lit(0, p)), _cplx(ops.make("cosh", x), flipped, t), out)
    # x = ±0 or ±inf with an infinite or NaN y: NaN + 0j and inf + NaN j
    wild = select(_inf(x), _cplx(lit(math.inf, p), lit(math.nan, p), t),
                  _cplx(lit(math.nan, p), lit(0, p), t))
    return select(_zero_or_inf_with_wild_y(x, y), wild, out)


def _angle_at_infinity(x, y, p):
    """|arg(z)| of z = x + yj with an infinite part, from x's direction: pi/4 steps."""
    diagonal = _inf(y)
    right = select(diagonal, lit(math.pi / 4, p), lit(0, p))
    left = select(diagonal, lit(3 * math.pi / 4, p), lit(math.pi, p))
    return select(ops.make("eq", x, lit(math.inf, p)), right,
                  select(ops.make("eq", x, lit(-math.inf, p)), left, lit(math.pi / 2, p)))


def _any_inf(x, y):
    return ops.make("logical_or", _inf(x), _inf(y))


def _any_nan(x, y):
    return ops.make("logical_or", isnan(x), isnan(y))


def _quadrant_signs(out, x, y, t, odd=True):
    """`out`, computed for (|x|, |y|), moved to (x, y)'s quadrant: the imaginary part
    takes y's sign (f(conj z) = conj f(z)), the real part x's (odd f) or stays >= 0.
    Signed zeros choose the side of a branch cut."""
    out = _bound(out)
    re = ops.make("abs", _re(out))
    return _cplx(_copysign(re, x) if odd else re, _copysign(ops.make("abs", _im(out)), y), t)


def _c_asinh(z, t):     # log(z + sqrt(z^2 + 1)), for |x| + |y|j (no cancellation)
    z = _bound(z)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    w = _bound(_cplx(ops.make("abs", x), ops.make("abs", y), t))
    root = _bound(_csqrt(_bound(_cadd(_cmul(w, w), _clit(1, 0, t))), t))
    near = _clog(_bound(_cadd(w, root)), t)
    # past 1/sqrt(eps) sqrt(w^2 + 1) is w to the last bit, and w^2 overflows long before
    # asinh does: log(2w)
    far = _cadd(_clog(w, t), _clit(math.log(2.0), 0, t))
    big = ops.make("gt", ops.make("cabs", w), lit(2.0 ** (12 if p is dt.float32 else 27), p))
    out = _quadrant_signs(select(big, far, near), x, y, t)
    # an infinite part: inf with x's sign + (the angle with y's sign)j (NaN with a NaN)
    angle = _copysign(_angle_at_infinity(ops.make("abs", x), y, p), y)
    at_inf = _cplx(_copysign(lit(math.inf, p), x),
                   select(_any_nan(x, y), lit(math.nan, p), angle), t)
    out = select(_any_inf(x, y), at_inf, out)
    # NaN + ±0j stays so (the square root would mix the NaN into both parts)
    return select(ops.make("logical_and", isnan(x), ops.make("eq", y, lit(0, p))), z, out)


def _c_acosh(z, t):     # log(w + sqrt(w + 1) sqrt(w - 1)) for w = x + |y|j
    z = _bound(z)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    w = _bound(_cplx(x, ops.make("abs", y), t))
    a = _bound(_csqrt(_bound(_cadd(w, _clit(1, 0, t))), t))
    b = _bound(_csqrt(_bound(_csub(w, _clit(1, 0, t))), t))
    out = _quadrant_signs(_clog(_bound(_cadd(w, _cmul(a, b))), t), x, y, t, odd=False)
    # an infinite part: inf + (the angle with y's sign)j (NaN with a NaN)
    angle = _copysign(_angle_at_infinity(x, y, p), y)
    at_inf = _cplx(lit(math.inf, p), select(_any_nan(x, y), lit(math.nan, p), angle), t)
    out = select(_any_inf(x, y), at_inf, out)
    zero_nan = ops.make("logical_and", ops.make("eq", x, lit(0, p)), isnan(y))
    return select(zero_nan, _clit(math.nan, math.pi / 2, t), out)


def _c_atanh(z, t):     # (log(1 + w) - log(1 - w)) / 2 for w = |x| + |y|j
    z = _bound(z)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    w = _bound(_cplx(ops.make("abs", x), ops.make("abs", y), t))
    a = _clog(_bound(_cadd(_clit(1, 0, t), w)), t)
    b = _clog(_bound(_csub(_clit(1, 0, t), w)), t)
    out = _quadrant_signs(ops.make("mul", _csub(a, b), lit(0.5, p), dtype=t), x, y, t)
    # an infinite part: 0 with x's sign + (pi/2 with y's sign)j (NaN for a NaN y);
    # x = ±0 with a NaN y: x + NaN j
    imag = select(isnan(y), lit(math.nan, p), _copysign(lit(math.pi / 2, p), y))
    out = select(_any_inf(x, y), _cplx(_signed_zero(x), imag, t), out)
    zero_nan = ops.make("logical_and", ops.make("eq", x, lit(0, p)), isnan(y))
    return select(zero_nan, _cplx(x, lit(math.nan, p), t), out)


def _c_asin(z, t):      # -i asinh(i z)
    return _times_minus_i(_bound(_c_asinh(_bound(_times_i(z, t)), t)), t)


def _c_acos(z, t):      # pi/2 - asin(z); the imaginary part negated (0 gives -0)
    w = _bound(_c_asin(z, t))
    p = _part_type(t)
    return _cplx(ops.make("sub", lit(math.pi / 2, p), _re(w)), ops.make("neg", _im(w)), t)


def _c_atan(z, t):      # -i atanh(i z)
    return _times_minus_i(_bound(_c_atanh(_bound(_times_i(z, t)), t)), t)


def _c_tanh(z, t):
    # (sinh 2x + i sin 2y) / (cosh 2x + cos 2y); for large |x| (where cosh overflows)
    # the limit (sign x, 0)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    x2, y2 = ops.make("mul", x, lit(2, p)), ops.make("mul", y, lit(2, p))
    den = _bound(ops.make("add", ops.make("cosh", x2), ops.make("cos", y2)))
    out = _cplx(ops.make("div", ops.make("sinh", x2), den),
                ops.make("div", ops.make("sin", y2), den), t)
    # ±1 + 0j (the zero with y's sign): for infinite x whatever y is, else for finite y
    far = ops.make("logical_and", ops.make("gt", ops.make("abs", x), lit(20, p)),
                   ops.make("logical_or", _inf(x), _finite(y)))
    out = select(far, _cplx(_copysign(lit(1, p), x), _signed_zero(y), t), out)
    # x = ±0 with an infinite or NaN y: x + NaN j; NaN + ±0j stays so
    zero_wild = ops.make("logical_and", ops.make("eq", x, lit(0, p)),
                         ops.make("logical_not", _finite(y)))
    out = select(zero_wild, _cplx(x, lit(math.nan, p), t), out)
    return select(ops.make("logical_and", isnan(x), ops.make("eq", y, lit(0, p))), z, out)


_COMPLEX = {
    "exp": _c_exp, "log": _clog, "sqrt": _csqrt, "sin": _c_sin, "cos": _c_cos,
    "sinh": _c_sinh, "cosh": _c_cosh, "asinh": _c_asinh, "acosh": _c_acosh,
    "atanh": _c_atanh, "asin": _c_asin, "acos": _c_acos, "atan": _c_atan,
    # -i tanh(i z): sin z / cos z is inf / inf (NaN) once |Im z| overflows cosh
    "tan": lambda z, t: _times_minus_i(_bound(_c_tanh(_bound(_times_i(z, t)), t)), t),
    "tanh": lambda z, t: _c_tanh(z, t),
    "expm1": lambda z, t: _c_exp(z, t, minus_one=True),
    # 1 + z as (1 + x) + yj: adding 0j would turn y = -0 into +0
    "log1p": lambda z, t: _clog(_bound(_cplx(ops.make("add", _re(z), lit(1, _part_type(t))),
                                             _im(z), t)), t),
    "log2": lambda z, t: ops.make("mul", _clog(z, t), lit(1 / math.log(2), _part_type(t)),
                                  dtype=t),
    "log10": lambda z, t: ops.make("mul", _clog(z, t), lit(1 / math.log(10), _part_type(t)),
                                   dtype=t),
}


def complex_capable(name, real_rule):
    """`real_rule` for real operands, the complex formula for complex ones."""
    def lower(args, dtype):
        x = args[0]
        if x.dtype.is_complex:
            return _COMPLEX[name](_bound(convert(x, dtype)), dtype)
        return real_rule(args, dtype)
    return lower


def complex_sign(args, dtype):
    x = args[0]
    if not x.dtype.is_complex:
        return sign(args, dtype)
    z = _bound(x)
    r = _bound(ops.make("cabs", z))
    p = _part_type(dtype)
    unit = ops.make("div", z, r, dtype=dtype)
    return select(ops.make("eq", r, lit(0, p)), _clit(0, 0, dtype), unit)


def complex_power(args, dtype):
    """Real operands as `power`; complex: exp(b log a), with 0 ** b = 0 (b != 0) and
    a ** 0 = 1."""
    if not dtype.is_complex:
        return power(args, dtype)
    a, b = (_bound(convert(x, dtype)) for x in args)
    p = _part_type(dtype)
    out = _cexp(_bound(_cmul(b, _bound(_clog(a, dtype)))), dtype)
    a_zero = ops.make("logical_and", ops.make("eq", _re(a), lit(0, p)),
                      ops.make("eq", _im(a), lit(0, p)))
    b_zero = ops.make("logical_and", ops.make("eq", _re(b), lit(0, p)),
                      ops.make("eq", _im(b), lit(0, p)))
    return select(b_zero, _clit(1, 0, dtype), select(a_zero, _clit(0, 0, dtype), out))
