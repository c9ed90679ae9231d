"""float32 sin, cos and tan for GLSL: x = q pi/2 + r, then polynomials in r.

Drivers' float32 sin, cos and tan are only accurate in absolute terms, and only near 0
(Vulkan bounds their error on [-pi, pi] by 2^-11): NVIDIA's sin(1.5e-8) is 0 and its
sin(30) is off by 2e-5, lavapipe's sin(1e8) is anything in [-1, 1]. So these never call
them: from |x| = pi/4 on, x = q pi/2 + r with |r| <= ~pi/4, and sin, cos or tan of r
come from polynomials on [-pi/4, pi/4] (Cephes' sinf/cosf/tanf coefficients, about 1
ulp), the quadrant q choosing which and the sign. Infinities and NaNs give NaN, -0 stays.

r comes out within 0.51 ulp of the exact remainder for every finite float (checked
exhaustively against a wider computation). Below 1e5 by Cody and Waite's method: pi/2 in
8-bit parts, so k times each is exact for k < 2^16, with two-sums keeping what the later
steps round off. Above, by Payne and Hanek's in 32-bit integers: the 24-bit significand
times the 96 bits of 2/pi that matter mod 4 gives q and 62 fraction bits, whose leading
32 times pi/2 round to r. The float32 nearest a multiple of pi/2 is 2^-29.2 from it, so
62 bits leave 30 beyond r's 24. umulExtended (core GLSL) makes the 64-bit products: the
emitter does not know the device, and uint64 would make every kernel with sin need int64.
Error-free steps use only + - * under `precise` (Vulkan does not promise a fused fma)."""

from __future__ import annotations

import functools
from fractions import Fraction
from string import Template

import numpy as np

from . import _f64_constants as K

_CW_PART_BITS = 8      # k < 1e5 * 2/pi < 2^16: k times an 8-bit part is exact
_CW_PARTS = 5          # exact parts before the rounded tail (enough: checked exhaustively)
_PH_WORDS = 7          # |x| < 2^128 needs 2/pi's words 0..6


def _f32(v) -> str:
    """The float32 nearest `v`, written so that it parses back to exactly that float."""
    return repr(float(np.float32(float(v))))


@functools.cache
def _subs() -> dict:
    pi = Fraction(K.pi_fixed(), 1 << K._BITS)
    rest, parts = pi / 2, []
    for _ in range(_CW_PARTS):
        parts.append(K.split(rest, _CW_PART_BITS))
        rest -= Fraction(parts[-1])
    parts.append(float(rest))
    words = K.two_over_pi_words()[:_PH_WORDS]
    out = {f"PIO2_{i}": _f32(p) for i, p in enumerate(parts)}
    out["TWO_OVER_PI"] = _f32(2 / pi)
    out["PIO2_Q31"] = f"0x{round(pi / 2 * (1 << 31)):08X}u"     # pi/2 * 2^31
    out.update({f"W{j}": f"0x{w:08X}u" for j, w in enumerate(words)})
    return out


_REM_PIO2 = """vec2 vkd_two_sum(float a, float b) {   // a + b = s + e exactly
    precise float s = a + b;
    precise float v = s - a;
    precise float e = (a - (s - v)) + (b - v);
    return vec2(s, e);
}
int vkd_rem_pio2_large(float a, out float r) {   // a >= 1e5, finite
    // a = m 2^e with a 24-bit integer m: a * 2/pi mod 4 needs the bits of 2/pi from the
    // (e - 1)th after the point on (earlier ones give multiples of 4). 96 of them, v2:v1:v0,
    // from its words j..j+3 (word -1 is 0) shifted left by t; selects pick the words,
    // since CPU drivers turn array indexing into memory gathers
    uint b = floatBitsToUint(a);
    int e = int(b >> 23) - 150;
    uint m = (b & 0x007fffffu) | 0x00800000u;
    int j = (e - 2) >> 5;         // -1..3
    int t = (e - 2) & 31;
    uint a0 = j <= 0 ? (j < 0 ? 0u : $W0) : (j == 1 ? $W1 : (j == 2 ? $W2 : $W3));
    uint a1 = j <= 0 ? (j < 0 ? $W0 : $W1) : (j == 1 ? $W2 : (j == 2 ? $W3 : $W4));
    uint a2 = j <= 0 ? (j < 0 ? $W1 : $W2) : (j == 1 ? $W3 : (j == 2 ? $W4 : $W5));
    uint a3 = j <= 0 ? (j < 0 ? $W2 : $W3) : (j == 1 ? $W4 : (j == 2 ? $W5 : $W6));
    uint v2 = (a0 << t) | ((a1 >> (31 - t)) >> 1);
    uint v1 = (a1 << t) | ((a2 >> (31 - t)) >> 1);
    uint v0 = (a2 << t) | ((a3 >> (31 - t)) >> 1);
    // m (v2:v1:v0) has 94 fraction bits: its bits 32..95 are q (2 bits) and the fraction's
    // leading 62 (hi:lo)
    uint h0, l0, h1, l1, c;
    umulExtended(m, v0, h0, l0);
    umulExtended(m, v1, h1, l1);
    uint lo = uaddCarry(l1, h0, c);
    uint hi = h1 + m * v2 + c;
    uint q = hi >> 30;
    hi &= 0x3fffffffu;
    bool upper = hi >= 0x20000000u;   // fraction >= 1/2: take fraction - 1
    if (upper) {
        q += 1u;
        hi = 0x40000000u - hi - (lo != 0u ? 1u : 0u);
        lo = 0u - lo;
    }
    // the fraction's leading 32 bits times pi/2 * 2^31, rounded to 24 bits. hi is never 0:
    // the float nearest a multiple of pi/2 (16367173 * 2^72) is 2^-29.2 from it, > 2^-30 pi/2
    int z = 31 - findMSB(hi);
    uint n = (hi << z) | ((lo >> (31 - z)) >> 1);
    uint th, tl;
    umulExtended(n, $PIO2_Q31, th, tl);
    int s = int(th >> 31);
    uint f = (th >> (7 + s)) + ((th >> (6 + s)) & 1u);
    precise float rr = float(f) * uintBitsToFloat(uint(105 + s - z) << 23);
    r = upper ? -rr : rr;
    return int(q & 3u);
}
int vkd_rem_pio2(float x, out float r) {   // x = q pi/2 + r, |r| <= ~pi/4; q mod 4
    float a = abs(x);
    if (a < 0.7853982) {   // below pi/4 (and -0): as it is
        r = x;
        return 0;
    }
    if (!(a <= 3.4028235e38)) {   // infinities and NaNs: NaN (a constant no compiler folds)
        r = uintBitsToFloat(0x7fc00000u);
        return 0;
    }
    if (a < 1.0e5) {
        precise float k = roundEven(x * $TWO_OVER_PI);
        precise float m = (x - k * $PIO2_0) - k * $PIO2_1;
        vec2 s2 = vkd_two_sum(m, -(k * $PIO2_2));
        vec2 s3 = vkd_two_sum(s2.x, -(k * $PIO2_3));
        vec2 s4 = vkd_two_sum(s3.x, -(k * $PIO2_4));
        precise float lo = ((s2.y + s3.y) + s4.y) - k * $PIO2_5;
        precise float s = s4.x + lo;
        r = s;
        return int(k) & 3;
    }
    int q = vkd_rem_pio2_large(a, r);
    if (x < 0.0) {
        r = -r;
        q = (4 - q) & 3;
    }
    return q;
}"""

_POLY = """float vkd_sin_r(float r) {   // |r| <= pi/4; below 1e-4 sin r = r in float32 (keeps -0)
    if (abs(r) < 1.0e-4) {
        return r;
    }
    float z = r * r;
    return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}
float vkd_cos_r(float r) {
    float z = r * r;
    return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z
            + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}
float vkd_tan_r(float r) {
    if (abs(r) < 1.0e-4) {
        return r;
    }
    float z = r * r;
    return (((((9.38540185543e-3 * z + 3.11992232697e-3) * z + 2.44301354525e-2) * z
              + 5.34112807005e-2) * z + 1.33387994085e-1) * z + 3.33331568548e-1) * z * r + r;
}"""

_TRIG = {
    "sin": """float vkd_sin(float x) {
    float r;
    int q = vkd_rem_pio2(x, r);
    float s = (q & 1) == 0 ? vkd_sin_r(r) : vkd_cos_r(r);
    return (q & 2) == 0 ? s : -s;
}""",
    "cos": """float vkd_cos(float x) {
    float r;
    int q = vkd_rem_pio2(x, r);
    float c = (q & 1) == 0 ? vkd_cos_r(r) : vkd_sin_r(r);
    return ((q + 1) & 2) == 0 ? c : -c;
}""",
    "tan": """float vkd_tan(float x) {
    float r;
    int q = vkd_rem_pio2(x, r);
    float t = vkd_tan_r(r);
    return (q & 1) == 0 ? t : -1.0 / t;
}""",
}


def sources() -> dict:
    """GLSL helper name -> source: "rem_pio2" (the reduction) and the functions on it."""
    return {"rem_pio2": Template(_REM_PIO2).substitute(_subs()) + "\n" + _POLY, **_TRIG}
