"""IR for the elementwise functions of complex operands: formulas on the real and
imaginary parts, with the standard's (C99's) values at infinities, NaNs and signed zeros
chosen by selects on cheap predicates of the parts."""
from __future__ import annotations

import math

from ..base import dtype as dt
from ..codegen import ops
from ..codegen.builder import current
from ..codegen.variables import convert
from ._lowering import (is_finite, is_inf, isnan, lit, power, select, sign, signbit,
                        signed_zero, with_sign_of)


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
    """exp(z) (or exp(z) - 1) with C99's values where a part is not finite: y = ±0 stays
    (e^x * 0 is NaN for x = +inf), -inf with an infinite or NaN y gives 0 (-1) + ±0j,
    +inf with one inf + NaN j."""
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    e = _bound(ops.make("exp", x))
    re = ops.make("mul", e, ops.make("cos", y))
    if minus_one:
        re = ops.make("sub", re, lit(1, p))
    im = select(ops.make("eq", y, lit(0, p)), y, ops.make("mul", e, ops.make("sin", y)))
    wild = _bound(ops.make("logical_and", is_inf(x), ops.make("logical_not", is_finite(y))))
    low = _bound(ops.make("lt", x, lit(0, p)))
    re = select(wild, select(low, lit(-1 if minus_one else 0, p), lit(math.inf, p)), re)
    im = select(wild, select(low, signed_zero(y), lit(math.nan, p)), im)
    return _cplx(re, im, t)


def _clog(z, t):
    return _cplx(ops.make("log", ops.make("cabs", z)), ops.make("atan2", _im(z), _re(z)), t)


def _csqrt(z, t, specials=True):
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    r = ops.make("cabs", z)
    s = current().bind(ops.make("sqrt", ops.make("mul", ops.make("add", r, ops.make("abs", x)),
                                                 lit(0.5, p))))
    half = ops.make("div", y, ops.make("mul", lit(2, p), s))
    pos = _cplx(s, half, t)
    neg = _cplx(ops.make("abs", ops.make("div", y, ops.make("mul", lit(2, p), s))),
                with_sign_of(s, y), t)
    zero = ops.make("eq", s, lit(0, p))
    out = select(zero, _cplx(lit(0, p), y, t), select(ops.make("ge", x, lit(0, p)), pos, neg))
    if not specials:     # the caller handles infinite and NaN arguments itself
        return out
    # C99's infinities: y = ±inf gives inf + yj whatever x is; x = +inf with a NaN y
    # inf + NaN j, x = -inf with one NaN + inf j
    inf_nan = select(ops.make("gt", x, lit(0, p)), _cplx(x, y, t),
                     _cplx(y, ops.make("neg", x), t))
    out = select(ops.make("logical_and", is_inf(x), isnan(y)), inf_nan, out)
    return select(is_inf(y), _cplx(lit(math.inf, p), y, t), out)


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
    edge = ops.make("logical_or", ops.make("eq", x, lit(0, p)), is_inf(x))
    return ops.make("logical_and", edge, ops.make("logical_not", is_finite(y)))


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
    wild = select(is_inf(x), _cplx(lit(math.inf, p), lit(math.nan, p), t),
                  _cplx(lit(math.nan, p), lit(0, p), t))
    return select(_zero_or_inf_with_wild_y(x, y), wild, out)


def _angle_at_infinity(x, y, p):
    """|arg(z)| of z = x + yj with an infinite part, from x's direction: pi/4 steps."""
    diagonal = is_inf(y)
    right = select(diagonal, lit(math.pi / 4, p), lit(0, p))
    left = select(diagonal, lit(3 * math.pi / 4, p), lit(math.pi, p))
    return select(ops.make("eq", x, lit(math.inf, p)), right,
                  select(ops.make("eq", x, lit(-math.inf, p)), left, lit(math.pi / 2, p)))


def _any_inf(x, y):
    return ops.make("logical_or", is_inf(x), is_inf(y))


def _any_nan(x, y):
    return ops.make("logical_or", isnan(x), isnan(y))


def _quadrant_signs(out, x, y, t, odd=True):
    """`out`, computed for (|x|, |y|), moved to (x, y)'s quadrant: the imaginary part
    takes y's sign (f(conj z) = conj f(z)), the real part x's (odd f) or stays >= 0.
    Signed zeros choose the side of a branch cut."""
    out = _bound(out)
    re = ops.make("abs", _re(out))
    im = with_sign_of(ops.make("abs", _im(out)), y)
    return _cplx(with_sign_of(re, x) if odd else re, im, t)


def _c_asinh(z, t):     # log(z + sqrt(z^2 + 1)), for |x| + |y|j (no cancellation)
    z = _bound(z)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    w = _bound(_cplx(ops.make("abs", x), ops.make("abs", y), t))
    root = _bound(_csqrt(_bound(_cadd(_cmul(w, w), _clit(1, 0, t))), t, specials=False))
    near = _clog(_bound(_cadd(w, root)), t)
    # past 1/sqrt(eps) sqrt(w^2 + 1) is w to the last bit, and w^2 overflows long before
    # asinh does: log(2w)
    far = _cadd(_clog(w, t), _clit(math.log(2.0), 0, t))
    big = ops.make("gt", ops.make("cabs", w), lit(2.0 ** (12 if p is dt.float32 else 27), p))
    out = _quadrant_signs(select(big, far, near), x, y, t)
    # an infinite part: inf with x's sign + (the angle with y's sign)j (NaN with a NaN)
    angle = with_sign_of(_angle_at_infinity(ops.make("abs", x), y, p), y)
    at_inf = _cplx(with_sign_of(lit(math.inf, p), x),
                   select(_any_nan(x, y), lit(math.nan, p), angle), t)
    out = select(_any_inf(x, y), at_inf, out)
    # NaN + ±0j stays so (the square root would mix the NaN into both parts)
    return select(ops.make("logical_and", isnan(x), ops.make("eq", y, lit(0, p))), z, out)


def _c_acosh(z, t):     # log(w + sqrt(w + 1) sqrt(w - 1)) for w = x + |y|j
    z = _bound(z)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    w = _bound(_cplx(x, ops.make("abs", y), t))
    a = _bound(_csqrt(_bound(_cadd(w, _clit(1, 0, t))), t, specials=False))
    b = _bound(_csqrt(_bound(_csub(w, _clit(1, 0, t))), t, specials=False))
    out = _quadrant_signs(_clog(_bound(_cadd(w, _cmul(a, b))), t), x, y, t, odd=False)
    # an infinite part: inf + (the angle with y's sign)j (NaN with a NaN)
    angle = with_sign_of(_angle_at_infinity(x, y, p), y)
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
    imag = select(isnan(y), lit(math.nan, p), with_sign_of(lit(math.pi / 2, p), y))
    out = select(_any_inf(x, y), _cplx(signed_zero(x), imag, t), out)
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
    # Kahan's form: with u = tan y, b = 1 + u^2, s = sinh x, (b s sqrt(1 + s^2) + u i) /
    # (1 + b s^2). Unlike (sinh 2x + i sin 2y) / (cosh 2x + cos 2y) it has no 2y (infinite
    # past half the largest float) and no cancelling sum. For large |x| (where the
    # products overflow) the limit (sign x, 0)
    p = _part_type(t)
    x, y = _bound(_re(z)), _bound(_im(z))
    u = _bound(ops.make("tan", y))
    s = _bound(ops.make("sinh", x))
    b = _bound(ops.make("add", lit(1, p), ops.make("mul", u, u)))
    rho = ops.make("sqrt", ops.make("add", lit(1, p), ops.make("mul", s, s)))
    den = _bound(ops.make("add", lit(1, p), ops.make("mul", b, ops.make("mul", s, s))))
    out = _cplx(ops.make("div", ops.make("mul", ops.make("mul", b, s), rho), den),
                ops.make("div", u, den), t)
    # ±1 + 0j (the zero with y's sign): for infinite x whatever y is, else for finite y
    far = ops.make("logical_and", ops.make("gt", ops.make("abs", x), lit(20, p)),
                   ops.make("logical_or", is_inf(x), is_finite(y)))
    out = select(far, _cplx(with_sign_of(lit(1, p), x), signed_zero(y), t), out)
    # x = ±0 with an infinite or NaN y: x + NaN j; NaN + ±0j stays so
    zero_wild = ops.make("logical_and", ops.make("eq", x, lit(0, p)),
                         ops.make("logical_not", is_finite(y)))
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
