"""Double-precision math for GLSL, which has exp, log, sin, pow, ... for 32-bit floats only.

Each function is a GLSL helper `vkd_<name>_f64` emitted once, with the helpers it calls,
when a kernel uses it on float64 (vectors get overloads that apply it per component).

Techniques: exp by 2^k exp(r) with a Cody-Waite split of ln 2 and a Taylor polynomial
for |r| <= ln2/2; log by x = 2^e m, m in [sqrt(1/2), sqrt(2)), and 2 atanh((m-1)/(m+1))
summed in double-double (pow needs log to ~2^-65 so that exp(y log x) stays within an ulp);
the hyperbolic functions from exp, expm1, log and log1p. The trigonometric ones are in
_glsl_f64_trig. Special values follow C99 / NumPy.

Error-free steps (two-sum, two-product) use only + - * under `precise`: Vulkan does not
promise a fused fma, and without `precise` compilers may contract or reassociate them.
"""
from __future__ import annotations

import functools
from string import Template

from . import _f64_constants as K
from ._glsl_f64_trig import SOURCES as _TRIG_SOURCES

INF = "packDouble2x32(uvec2(0u, 0x7ff00000u))"
NAN = "packDouble2x32(uvec2(0u, 0x7ff80000u))"
TINY = "7.450580596923828e-09lf"     # 2^-27: below it sin x, tan x, atan x, ... round to x


def _lit(v: float) -> str:
    s = repr(float(v))
    if not any(c in s for c in ".e"):
        s += ".0"
    return f"({s}lf)" if s.startswith("-") else f"{s}lf"


def _horner(var: str, coeffs) -> str:
    """c0 + var * (c1 + var * (...)) with fma."""
    expr = _lit(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        expr = f"fma({expr}, {var}, {_lit(c)})"
    return expr


@functools.cache
def _subs() -> dict:
    c = K.constants()
    out = {"INF": INF, "NAN": NAN, "TINY": TINY}
    for name, v in c.items():
        if isinstance(v, tuple):
            out[name] = f"dvec2({_lit(v[0])}, {_lit(v[1])})"
            out[name + "_HI"], out[name + "_LO"] = _lit(v[0]), _lit(v[1])
        else:
            out[name] = _lit(v)
    inv_fact = K.inverse_factorial
    # e^r - 1 = r + r^2 (1/2! + r/3! + ... + r^12/14!), |r| <= 0.35: truncation < 2^-56
    out["EXPM1_POLY"] = _horner("r", K.taylor(inv_fact, 2, 14, 1))
    # sin r = r + r^3 (-1/3! + z/5! - ... + z^8/19!), z = r^2, |r| <= 0.79
    out["SIN_POLY"] = _horner("z", K.taylor(lambda n: (-1) ** (n // 2) * inv_fact(n), 3, 19))
    # cos r = 1 - z/2 + z^2 (1/4! - z/6! + ... + z^7/18!)
    out["COS_POLY"] = _horner("z", K.taylor(lambda n: (-1) ** (n // 2) * inv_fact(n), 4, 18))
    # sinh a = a + a^3 (1/3! + z/5! + ... + z^9/21!), |a| < 1
    out["SINH_POLY"] = _horner("z", K.taylor(inv_fact, 3, 21))
    # atan t = t + t z (-1/3 + z/5 - ... - z^21/43), |t| <= 7/16: truncation < 2^-58
    out["ATAN_POLY"] = _horner("z", K.taylor(lambda n: (-1) ** (n // 2) / K.Fraction(n), 3, 43))
    # log m = 2s + s u (2/3 + u (2/5 + ... + u^10 2/25)), u = s^2 <= 0.0295: the part
    # after 2/3 in double precision, to 2^-65 of the result
    out["LOG_POLY"] = _horner("u", K.taylor(lambda n: K.Fraction(2, n), 5, 25))
    words = K.two_over_pi_words()
    out["TWO_OVER_PI_WORDS"] = ",\n    ".join(
        ", ".join(f"0x{w:08X}u" for w in words[i:i + 6]) for i in range(0, len(words), 6))
    out["NWORDS"] = str(len(words))
    return out


# name: (helpers it calls, GLSL source)
_SOURCES = {
    "two_sum": ((), """
dvec2 vkd_two_sum_f64(double a, double b) {
    precise double s = a + b;
    precise double v = s - a;
    precise double e = (a - (s - v)) + (b - v);
    return dvec2(s, e);
}"""),
    "quick_two_sum": ((), """
dvec2 vkd_quick_two_sum_f64(double a, double b) {   // |a| >= |b| or a == 0
    precise double s = a + b;
    precise double e = b - (s - a);
    return dvec2(s, e);
}"""),
    "two_prod": ((), """
dvec2 vkd_two_prod_f64(double a, double b) {   // Dekker: a * b = p + e exactly
    precise double p = a * b;
    precise double ta = 134217729.0lf * a;
    precise double ah = ta - (ta - a);
    precise double al = a - ah;
    precise double tb = 134217729.0lf * b;
    precise double bh = tb - (tb - b);
    precise double bl = b - bh;
    precise double e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return dvec2(p, e);
}"""),
    "dd_add": (("two_sum", "quick_two_sum"), """
dvec2 vkd_dd_add_f64(dvec2 a, dvec2 b) {
    dvec2 s = vkd_two_sum_f64(a.x, b.x);
    precise double lo = s.y + (a.y + b.y);
    return vkd_quick_two_sum_f64(s.x, lo);
}"""),
    "dd_mul": (("two_prod", "quick_two_sum"), """
dvec2 vkd_dd_mul_f64(dvec2 a, dvec2 b) {
    dvec2 p = vkd_two_prod_f64(a.x, b.x);
    precise double lo = p.y + (a.x * b.y + a.y * b.x);
    return vkd_quick_two_sum_f64(p.x, lo);
}"""),
    "ldexp": ((), """
double vkd_ldexp_f64(double p, int n) {   // p * 2^n rounded once, for p near 1
    n = clamp(n, -1100, 1100);
    int a = n / 2;
    int b = n - a;
    precise double s = p * packDouble2x32(uvec2(0u, uint(a + 1023) << 20));
    return s * packDouble2x32(uvec2(0u, uint(b + 1023) << 20));
}"""),
    "signbit": ((), """
bool vkd_signbit_f64(double x) { return (unpackDouble2x32(x).y & 0x80000000u) != 0u; }"""),
    "expm1_poly": ((), """
double vkd_expm1_poly_f64(double r) {   // e^r - 1 for |r| <= ln2/2
    precise double q = $EXPM1_POLY;
    precise double r2 = r * r;
    precise double e = r2 * q + r;
    return e;
}"""),
    "exp_core": (("expm1_poly", "ldexp"), """
double vkd_exp_core_f64(double x, int extra) {   // e^x * 2^extra, |x| <= 746
    precise double k = roundEven(x * $LOG2E);
    precise double hi = x - k * $LN2_HI;   // exact: LN2_HI has 42 bits, |k| < 2^11; Sterbenz
    precise double r = hi - k * $LN2_LO;
    precise double p = 1.0lf + vkd_expm1_poly_f64(r);
    return vkd_ldexp_f64(p, int(k) + extra);
}"""),
    "exp": (("exp_core",), """
double vkd_exp_f64(double x) {
    if (isnan(x)) return x;
    if (x > 710.0lf) return $INF;
    if (x < -746.0lf) return 0.0lf;
    return vkd_exp_core_f64(x, 0);
}"""),
    "exp2": (("expm1_poly", "ldexp"), """
double vkd_exp2_f64(double x) {
    if (isnan(x)) return x;
    if (x > 1025.0lf) return $INF;
    if (x < -1080.0lf) return 0.0lf;
    precise double k = roundEven(x);
    precise double r = (x - k) * $LN2;
    precise double p = 1.0lf + vkd_expm1_poly_f64(r);
    return vkd_ldexp_f64(p, int(k));
}"""),
    "exp_dd": (("expm1_poly", "ldexp"), """
double vkd_exp_dd_f64(double zh, double zl) {   // e^(zh + zl), |zh| <= 746
    precise double k = roundEven(zh * $LOG2E);
    precise double hi = zh - k * $LN2_HI;
    precise double t = k * $LN2_LO;
    precise double r = hi - t;
    precise double rl = ((hi - r) - t) + zl;    // what r lost, plus the low part
    precise double e = vkd_expm1_poly_f64(r);
    precise double p = 1.0lf + (e + rl * (1.0lf + e));
    return vkd_ldexp_f64(p, int(k));
}"""),
    "expm1": (("expm1_poly", "exp"), """
double vkd_expm1_f64(double x) {
    if (isnan(x) || x == 0.0lf) return x;
    if (x > 40.0lf) return vkd_exp_f64(x);
    if (x < -40.0lf) return -1.0lf;
    if (abs(x) <= 0.34657359027997264lf) return vkd_expm1_poly_f64(x);
    precise double k = roundEven(x * $LOG2E);
    precise double hi = x - k * $LN2_HI;
    precise double r = hi - k * $LN2_LO;
    precise double e = vkd_expm1_poly_f64(r);
    precise double s = packDouble2x32(uvec2(0u, uint(int(k) + 1023) << 20));
    precise double out_ = s * e + (s - 1.0lf);   // s * e and s - 1 are exact
    return out_;
}"""),
    "logm": (("two_sum", "quick_two_sum", "two_prod", "dd_add", "dd_mul"), """
dvec2 vkd_logm_f64(double x, out int e) {   // x = 2^e m, finite x > 0: log(m) as hi + lo
    precise double y = x;
    e = 0;
    if (y < 2.2250738585072014e-308lf) {   // subnormal: scale by 2^54 first
        y *= 18014398509481984.0lf;
        e = -54;
    }
    uvec2 b = unpackDouble2x32(y);
    e += int(b.y >> 20) - 1023;
    b.y = (b.y & 0x000fffffu) | 0x3ff00000u;
    precise double m = packDouble2x32(b);
    if (m > $SQRT2) {
        m *= 0.5lf;
        e += 1;
    }
    // s = (m - 1) / (m + 1) in double-double; log m = 2 atanh(s)
    precise double f = m - 1.0lf;
    dvec2 d = vkd_two_sum_f64(m, 1.0lf);
    precise double sh = f / d.x;
    dvec2 p = vkd_two_prod_f64(sh, d.x);
    precise double sl = (((f - p.x) - p.y) - sh * d.y) / d.x;
    dvec2 s = vkd_quick_two_sum_f64(sh, sl);
    dvec2 u2 = vkd_dd_mul_f64(s, s);
    precise double u = u2.x;
    precise double v = u * $LOG_POLY;
    dvec2 t = vkd_dd_add_f64($TWO_THIRDS_DD, dvec2(v, 0.0lf));
    dvec2 w = vkd_dd_mul_f64(vkd_dd_mul_f64(s, u2), t);
    return vkd_dd_add_f64(2.0lf * s, w);
}"""),
    "log_dd": (("logm", "two_sum", "quick_two_sum"), """
dvec2 vkd_log_dd_f64(double x) {   // log(x) as hi + lo, finite x > 0
    int e;
    dvec2 l = vkd_logm_f64(x, e);
    precise double de = double(e);
    dvec2 a = vkd_two_sum_f64(de * $LN2_HI, l.x);   // de * LN2_HI is exact
    precise double lo = a.y + (l.y + de * $LN2_LO);
    return vkd_quick_two_sum_f64(a.x, lo);
}"""),
    "log": (("log_dd",), """
double vkd_log_f64(double x) {
    if (isnan(x) || x == $INF) return x;
    if (x == 0.0lf) return -$INF;
    if (x < 0.0lf) return $NAN;
    return vkd_log_dd_f64(x).x;
}"""),
    "log2": (("logm", "dd_mul", "two_sum"), """
double vkd_log2_f64(double x) {
    if (isnan(x) || x == $INF) return x;
    if (x == 0.0lf) return -$INF;
    if (x < 0.0lf) return $NAN;
    int e;
    dvec2 t = vkd_dd_mul_f64(vkd_logm_f64(x, e), $LOG2E_DD);
    dvec2 a = vkd_two_sum_f64(double(e), t.x);
    precise double out_ = a.x + (a.y + t.y);
    return out_;
}"""),
    "log1p": (("log",), """
double vkd_log1p_f64(double x) {
    if (isnan(x) || x == 0.0lf || x == $INF) return x;
    if (x == -1.0lf) return -$INF;
    if (x < -1.0lf) return $NAN;
    precise double u = 1.0lf + x;
    precise double c = (x - (u - 1.0lf)) / u;   // what rounding 1 + x lost, to first order
    precise double out_ = vkd_log_f64(u) + c;
    return out_;
}"""),
    "pow": (("log_dd", "two_prod", "exp_dd", "signbit"), """
double vkd_pow_f64(double x, double y) {
    if (y == 0.0lf || x == 1.0lf) return 1.0lf;
    if (isnan(x) || isnan(y)) return $NAN;
    precise double ax = abs(x);
    bool odd = floor(y) == y && abs(y) < 9007199254740992.0lf && floor(0.5lf * y) != 0.5lf * y;
    if (isinf(y)) {
        if (ax == 1.0lf) return 1.0lf;
        return ((ax > 1.0lf) == (y > 0.0lf)) ? $INF : 0.0lf;
    }
    if (ax == 0.0lf || isinf(ax)) {   // |x|^y is 0 or inf; an odd y keeps x's sign
        double m = ((ax == 0.0lf) == (y < 0.0lf)) ? $INF : 0.0lf;
        return (odd && vkd_signbit_f64(x)) ? -m : m;
    }
    if (x < 0.0lf && floor(y) != y) return $NAN;
    if (ax == 1.0lf) return (x < 0.0lf && odd) ? -1.0lf : 1.0lf;   // y may be huge here
    // |log x| >= 2^-53 now, so |y log x| < 746 bounds |y| by 2^63: two_prod cannot overflow
    dvec2 l = vkd_log_dd_f64(ax);
    precise double zh = y * l.x;
    double m;
    if (zh > 710.0lf) {
        m = $INF;
    } else if (zh < -746.0lf) {
        m = 0.0lf;
    } else {
        dvec2 z = vkd_two_prod_f64(y, l.x);
        precise double zl = z.y + y * l.y;
        m = vkd_exp_dd_f64(z.x, zl);
    }
    return (x < 0.0lf && odd) ? -m : m;
}"""),
    "sinh": (("exp", "exp_core"), """
double vkd_sinh_f64(double x) {
    if (isnan(x) || isinf(x)) return x;
    precise double a = abs(x);
    if (a < $TINY) return x;
    precise double r;
    if (a < 1.0lf) {
        precise double z = a * a;
        r = a + a * z * $SINH_POLY;
    } else if (a < 22.0lf) {
        precise double e = vkd_exp_f64(a);
        r = 0.5lf * (e - 1.0lf / e);
    } else {
        r = a > 711.0lf ? $INF : vkd_exp_core_f64(a, -1);
    }
    return x < 0.0lf ? -r : r;
}"""),
    "cosh": (("exp", "exp_core"), """
double vkd_cosh_f64(double x) {
    if (isnan(x)) return x;
    precise double a = abs(x);
    if (a > 711.0lf) return $INF;
    if (a >= 22.0lf) return vkd_exp_core_f64(a, -1);
    precise double e = vkd_exp_f64(a);
    precise double r = 0.5lf * e + 0.5lf / e;
    return r;
}"""),
    "tanh": (("expm1",), """
double vkd_tanh_f64(double x) {
    if (isnan(x)) return x;
    precise double a = abs(x);
    if (a < $TINY) return x;
    precise double r = 1.0lf;
    if (a >= 1.0lf && a <= 22.0lf) {   // 2 / (t + 2) is small: t's error shrinks in it
        precise double t = vkd_expm1_f64(2.0lf * a);
        r = 1.0lf - 2.0lf / (t + 2.0lf);
    } else if (a < 1.0lf) {
        precise double t = vkd_expm1_f64(-2.0lf * a);
        r = -t / (t + 2.0lf);
    }
    return x < 0.0lf ? -r : r;
}"""),
    "asinh": (("log", "log1p"), """
double vkd_asinh_f64(double x) {
    if (isnan(x) || isinf(x)) return x;
    precise double a = abs(x);
    if (a < $TINY) return x;
    precise double r;
    if (a > 268435456.0lf) {   // 2^28: sqrt(x^2 + 1) rounds to |x|
        r = vkd_log_f64(a) + $LN2;
    } else if (a > 2.0lf) {
        r = vkd_log_f64(2.0lf * a + 1.0lf / (sqrt(a * a + 1.0lf) + a));
    } else {
        precise double a2 = a * a;
        r = vkd_log1p_f64(a + a2 / (1.0lf + sqrt(1.0lf + a2)));
    }
    return x < 0.0lf ? -r : r;
}"""),
    "acosh": (("log", "log1p"), """
double vkd_acosh_f64(double x) {
    if (isnan(x)) return x;
    if (x < 1.0lf) return $NAN;
    if (x > 268435456.0lf) return x == $INF ? x : vkd_log_f64(x) + $LN2;
    if (x > 2.0lf) return vkd_log_f64(2.0lf * x - 1.0lf / (x + sqrt(x * x - 1.0lf)));
    precise double t = x - 1.0lf;
    return vkd_log1p_f64(t + sqrt(2.0lf * t + t * t));
}"""),
    "atanh": (("log1p",), """
double vkd_atanh_f64(double x) {
    if (isnan(x)) return x;
    precise double a = abs(x);
    if (a > 1.0lf) return $NAN;
    if (a == 1.0lf) return x * $INF;
    if (a < $TINY) return x;
    precise double r;
    if (a < 0.5lf) {
        precise double t = a + a;
        r = 0.5lf * vkd_log1p_f64(t + t * a / (1.0lf - a));
    } else {
        r = 0.5lf * vkd_log1p_f64((a + a) / (1.0lf - a));
    }
    return x < 0.0lf ? -r : r;
}"""),
    "cexp": (("exp", "sin", "cos"), """
dvec2 vkd_cexp_f64(dvec2 a) {
    double e = vkd_exp_f64(a.x);
    return dvec2(e * vkd_cos_f64(a.y), e * vkd_sin_f64(a.y));
}"""),
    **_TRIG_SOURCES,
}

_BINARY = ("pow", "atan2")    # the other public helpers take one argument


def call(name: str, args) -> str:
    """The GLSL call of float64 helper `name` (scalar or vector arguments alike)."""
    return f"vkd_{name}_f64({', '.join(args)})"


def helper_lines(needed) -> list:
    """GLSL definitions of the helpers in `needed`, a set of (name, components) pairs
    (components 1 for scalars, 2-4 for dvecN overloads; ("cexp", 2) is complex128's
    exp), each after the helpers it calls."""
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        for dep in _SOURCES[name][0]:
            visit(dep)
        order.append(name)

    if not needed:
        return []   # before _subs: deriving the constants takes a quarter second
    for name, _ in sorted(needed):
        visit(name)
    subs = _subs()
    lines = []
    for name in order:
        lines += Template(_SOURCES[name][1]).substitute(subs).strip("\n").split("\n")
    for name, n in sorted(needed):
        if n == 1 or name == "cexp":
            continue
        t = f"dvec{n}"
        names = "ab" if name in _BINARY else "a"
        params = ", ".join(f"{t} {v}" for v in names)
        comps = ", ".join(call(name, [f"{v}.{c}" for v in names]) for c in "xyzw"[:n])
        lines.append(f"{t} vkd_{name}_f64({params}) {{ return {t}({comps}); }}")
    return lines
