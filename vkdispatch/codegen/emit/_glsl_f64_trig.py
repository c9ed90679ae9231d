"""The trigonometric part of the GLSL float64 helpers (see _glsl_f64, which substitutes
the $-constants and emits them): sin, cos and tan after reduction mod pi/2, a four-part
Cody-Waite split for |x| < 2^19 and Payne-Hanek with a 1280-bit table of 2/pi above, so
every finite argument reduces exactly; atan by reduction to |t| <= 7/16 around atan(1/2),
atan(1), atan(3/2) and pi/2; atan2, asin and acos through atan."""

# name: (helpers it calls, GLSL source)
SOURCES = {
    "rem_pio2_large": (("two_sum", "quick_two_sum", "dd_add", "dd_mul"), """
const uint vkd_two_over_pi_f64[$NWORDS] = uint[$NWORDS](
    $TWO_OVER_PI_WORDS);

int vkd_rem_pio2_large_f64(double x, out dvec2 r) {
    // Payne-Hanek: |x| = M 2^E with a 53-bit integer M; the bits of M * 2/pi that matter
    // mod 4 come from 7 words of 2/pi starting at word j0 (earlier ones give multiples of 4)
    uvec2 b = unpackDouble2x32(x);
    int E = int((b.y >> 20) & 0x7ffu) - 1075;
    uint mw[2] = uint[2](b.x, (b.y & 0x000fffffu) | 0x00100000u);
    int j0 = max((E - 2) >> 5, 0);
    uint p[10] = uint[10](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
    for (int a = 0; a < 2; ++a) {
        uint carry = 0u;
        for (int i = 0; i < 7; ++i) {
            uint hi, lo, c1, c2;
            umulExtended(vkd_two_over_pi_f64[j0 + 6 - i], mw[a], hi, lo);
            uint s = uaddCarry(p[i + a], lo, c1);
            p[i + a] = uaddCarry(s, carry, c2);
            carry = hi + c1 + c2;
        }
        p[7 + a] = carry;
    }
    // the product has F fraction bits; take the 128 bits below the 4s place
    int F = 32 * (j0 + 7) - E;
    uint q[4];
    for (int t = 0; t < 4; ++t) {
        int bit = F + 2 - 128 + 32 * t;
        int w = bit >> 5;
        int sh = bit & 31;
        q[t] = sh == 0 ? p[w] : ((p[w] >> sh) | (p[w + 1] << (32 - sh)));
    }
    uint quadrant = q[3] >> 30;
    q[3] &= 0x3fffffffu;
    bool upper = (q[3] & 0x20000000u) != 0u;   // fraction >= 1/2: use fraction - 1
    if (upper) {
        quadrant += 1u;
        uint c = 1u;
        for (int t = 0; t < 4; ++t) {
            uint c_out;
            q[t] = uaddCarry(~q[t], c, c_out);
            c = c_out;
        }
        q[3] &= 0x3fffffffu;
    }
    dvec2 f = dvec2(double(q[3]) * 9.313225746154785e-10lf, 0.0lf);   // 2^-30
    f = vkd_dd_add_f64(f, dvec2(double(q[2]) * 2.168404344971009e-19lf, 0.0lf));   // 2^-62
    f = vkd_dd_add_f64(f, dvec2(double(q[1]) * 5.048709793414476e-29lf, 0.0lf));   // 2^-94
    f = vkd_dd_add_f64(f, dvec2(double(q[0]) * 1.1754943508222875e-38lf, 0.0lf));  // 2^-126
    r = vkd_dd_mul_f64(f, $PIO2_DD);
    if (upper) r = -r;
    return int(quadrant & 3u);
}"""),
    "rem_pio2": (("two_sum", "quick_two_sum", "rem_pio2_large"), """
int vkd_rem_pio2_f64(double x, out dvec2 r) {   // x = q pi/2 + r, |r| <= ~pi/4; q mod 4
    precise double a = abs(x);
    if (a <= $PIO4) {
        r = dvec2(x, 0.0lf);
        return 0;
    }
    if (a < 524288.0lf) {   // 2^19: k * PIO2_1..3 are exact
        precise double k = roundEven(x * $TWO_OVER_PI);
        precise double hi = x - k * $PIO2_1;
        dvec2 s = vkd_two_sum_f64(hi, -(k * $PIO2_2));
        dvec2 u = vkd_two_sum_f64(s.x, -(k * $PIO2_3));
        precise double lo = (u.y + s.y) - k * $PIO2_4;
        r = vkd_quick_two_sum_f64(u.x, lo);
        return int(k) & 3;
    }
    int q = vkd_rem_pio2_large_f64(a, r);
    if (x < 0.0lf) {
        r = -r;
        q = (4 - q) & 3;
    }
    return q;
}"""),
    "sin_poly": ((), """
double vkd_sin_poly_f64(dvec2 r) {   // sin(r.x + r.y), |r| <= ~pi/4
    precise double x = r.x;
    precise double z = x * x;
    precise double tail = x * z * $SIN_POLY + r.y * (1.0lf - 0.5lf * z);
    precise double s = x + tail;
    return s;
}"""),
    "cos_poly": ((), """
double vkd_cos_poly_f64(dvec2 r) {   // cos(r.x + r.y), |r| <= ~pi/4
    precise double x = r.x;
    precise double z = x * x;
    precise double hz = 0.5lf * z;
    precise double w = 1.0lf - hz;
    precise double tail = ((1.0lf - w) - hz) + (z * z * $COS_POLY - x * r.y);
    precise double c = w + tail;
    return c;
}"""),
    "sin": (("rem_pio2", "sin_poly", "cos_poly"), """
double vkd_sin_f64(double x) {
    if (isnan(x) || isinf(x)) return $NAN;
    if (abs(x) < $TINY) return x;
    dvec2 r;
    int q = vkd_rem_pio2_f64(x, r);
    double s = (q & 1) == 0 ? vkd_sin_poly_f64(r) : vkd_cos_poly_f64(r);
    return (q & 2) == 0 ? s : -s;
}"""),
    "cos": (("rem_pio2", "sin_poly", "cos_poly"), """
double vkd_cos_f64(double x) {
    if (isnan(x) || isinf(x)) return $NAN;
    dvec2 r;
    int q = vkd_rem_pio2_f64(x, r);
    double c = (q & 1) == 0 ? vkd_cos_poly_f64(r) : vkd_sin_poly_f64(r);
    return ((q + 1) & 2) == 0 ? c : -c;
}"""),
    "tan": (("rem_pio2", "sin_poly", "cos_poly"), """
double vkd_tan_f64(double x) {
    if (isnan(x) || isinf(x)) return $NAN;
    if (abs(x) < $TINY) return x;
    dvec2 r;
    int q = vkd_rem_pio2_f64(x, r);
    precise double s = vkd_sin_poly_f64(r);
    precise double c = vkd_cos_poly_f64(r);
    precise double t = (q & 1) == 0 ? s / c : -c / s;
    return t;
}"""),
    "atan": ((), """
double vkd_atan_f64(double x) {
    if (isnan(x)) return x;
    precise double a = abs(x);
    if (a < $TINY) return x;
    precise double r;
    if (a > 7.378697629483821e+19lf) {   // 2^66
        r = $PIO2_DD_HI;
    } else {
        precise double t;
        dvec2 base;
        if (a < 0.4375lf) {
            t = a;
            base = dvec2(0.0lf);
        } else if (a < 0.6875lf) {
            t = (2.0lf * a - 1.0lf) / (2.0lf + a);
            base = $ATAN_HALF_DD;
        } else if (a < 1.1875lf) {
            t = (a - 1.0lf) / (a + 1.0lf);
            base = $PI_DD * 0.25lf;
        } else if (a < 2.4375lf) {
            t = (a - 1.5lf) / (1.0lf + 1.5lf * a);
            base = $ATAN_3HALVES_DD;
        } else {
            t = -1.0lf / a;
            base = $PIO2_DD;
        }
        precise double z = t * t;
        precise double q = t * z * $ATAN_POLY;
        r = base.x + (t + (q + base.y));
    }
    return x < 0.0lf ? -r : r;
}"""),
    "atan2": (("atan", "signbit"), """
double vkd_atan2_f64(double y, double x) {
    if (isnan(x) || isnan(y)) return $NAN;
    bool xneg = vkd_signbit_f64(x);
    precise double r;
    if (y == 0.0lf) {
        r = xneg ? $PI_DD_HI : 0.0lf;
    } else if (x == 0.0lf) {
        r = $PIO2_DD_HI;
    } else if (isinf(x)) {
        r = isinf(y) ? (xneg ? $PI3O4 : $PIO4) : (xneg ? $PI_DD_HI : 0.0lf);
    } else if (isinf(y)) {
        r = $PIO2_DD_HI;
    } else {
        precise double a = vkd_atan_f64(abs(y) / abs(x));   // an overflow gives atan(inf)
        r = xneg ? $PI_DD_HI - (a - $PI_DD_LO) : a;
    }
    return vkd_signbit_f64(y) ? -r : r;
}"""),
    "asin": (("atan2",), """
double vkd_asin_f64(double x) {
    if (isnan(x)) return x;
    if (abs(x) > 1.0lf) return $NAN;
    if (abs(x) < $TINY) return x;
    return vkd_atan2_f64(x, sqrt((1.0lf - x) * (1.0lf + x)));
}"""),
    "acos": (("atan2",), """
double vkd_acos_f64(double x) {
    if (isnan(x)) return x;
    if (abs(x) > 1.0lf) return $NAN;
    return vkd_atan2_f64(sqrt((1.0lf - x) * (1.0lf + x)), x);
}"""),
}
