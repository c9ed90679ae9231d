"""The constants of the GLSL float64 math helpers, derived here from exact series rather
than typed in: pi (Machin's formula), ln 2, atan(1/2) and atan(2/3) in binary fixed point,
then rounded to doubles, double-doubles (hi + lo) and Cody-Waite splits (parts whose
products with small integers are exact)."""
from __future__ import annotations

import functools
import math
from fractions import Fraction

_BITS = 1400     # fixed-point fraction bits: the 2/pi table needs 40 words plus guard bits


def _atan_of_ratio(p: int, q: int, bits: int) -> int:
    """atan(p/q) * 2^bits (p/q < 1), from its alternating power series."""
    total, k = 0, 0
    num, den = p, q
    while True:
        term = (num << bits) // (den * (2 * k + 1))
        if term == 0:
            return total
        total += term if k % 2 == 0 else -term
        num *= p * p
        den *= q * q
        k += 1


@functools.cache
def pi_fixed() -> int:
    """pi * 2^_BITS (the last few units uncertain, far below any bit used)."""
    guard = _BITS + 16
    return (16 * _atan_of_ratio(1, 5, guard) - 4 * _atan_of_ratio(1, 239, guard)) >> 16


def _ln2_fixed(bits: int) -> int:
    """ln 2 * 2^bits, as sum over k >= 1 of 1 / (k 2^k)."""
    total, k = 0, 1
    while True:
        term = (1 << bits) // (k << k)
        if term == 0:
            return total
        total += term
        k += 1


def _value(fixed: int, bits: int = _BITS) -> Fraction:
    return Fraction(fixed, 1 << bits)


def dd(v: Fraction) -> tuple:
    """(hi, lo): the nearest double and the nearest double to what is left."""
    hi = float(v)
    return hi, float(v - Fraction(hi))


def split(v: Fraction, bits: int) -> float:
    """`v` truncated to its leading `bits` significant bits (a double whose products
    with integers below 2^(53 - bits) are exact)."""
    e = math.frexp(float(v))[1]
    scale = Fraction(2) ** (bits - e)
    return float(Fraction(math.floor(v * scale)) / scale)


@functools.cache
def constants() -> dict:
    """name -> float (or tuple of floats) of every constant the helpers use."""
    pi = _value(pi_fixed())
    ln2 = _value(_ln2_fixed(256), 256)
    atan_half = _value(_atan_of_ratio(1, 2, 256), 256)
    atan_two_thirds = _value(_atan_of_ratio(2, 3, 256), 256)
    pio2 = pi / 2
    # pi/2 in three 34-bit parts and a rounded fourth: k * part is exact for k < 2^19
    p1 = split(pio2, 34)
    p2 = split(pio2 - Fraction(p1), 34)
    p3 = split(pio2 - Fraction(p1) - Fraction(p2), 34)
    p4 = float(pio2 - Fraction(p1) - Fraction(p2) - Fraction(p3))
    ln2_hi = split(ln2, 42)     # k * ln2_hi is exact for |k| < 2^11
    return {
        "LN2": float(ln2), "LOG2E": float(1 / ln2), "LOG2E_DD": dd(1 / ln2),
        "LN2_HI": ln2_hi, "LN2_LO": float(ln2 - Fraction(ln2_hi)),
        "SQRT2": math.sqrt(2.0), "TWO_THIRDS_DD": dd(Fraction(2, 3)),
        "PIO2_1": p1, "PIO2_2": p2, "PIO2_3": p3, "PIO2_4": p4,
        "TWO_OVER_PI": float(2 / pi), "PIO2_DD": dd(pio2), "PIO4": float(pi / 4),
        "PI_DD": dd(pi), "PI3O4": float(3 * pi / 4),
        "ATAN_HALF_DD": dd(atan_half), "ATAN_3HALVES_DD": dd(pio2 - atan_two_thirds),
    }


@functools.cache
def two_over_pi_words(count: int = 40) -> tuple:
    """The first 32 * count bits of the binary fraction of 2/pi, as 32-bit words, most
    significant first (2/pi = sum of words[j] * 2^(-32 (j + 1)))."""
    fixed = (2 << (2 * _BITS)) // pi_fixed()     # 2/pi * 2^_BITS
    assert 32 * count + 64 <= _BITS
    return tuple((fixed >> (_BITS - 32 * (j + 1))) & 0xFFFFFFFF for j in range(count))


def taylor(coefficient, first: int, last: int, step: int = 2) -> list:
    """Doubles nearest coefficient(n) for n = first, first + step, ..., last."""
    return [float(coefficient(n)) for n in range(first, last + 1, step)]


def inverse_factorial(n: int) -> Fraction:
    return Fraction(1, math.factorial(n))
