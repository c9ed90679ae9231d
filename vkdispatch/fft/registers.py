"""Small DFTs on values held in registers, unrolled while a kernel is traced.

A radix-R butterfly is a DFT of R complex values with every twiddle a literal: composite
R splits into Cooley-Tukey sub-DFTs (radix 4 first, so 8 and 16 need few multiplies),
primes use the symmetric real/imaginary form that halves the multiplies. Every result
is bound to a local, so the emitted source stays linear in R."""
from __future__ import annotations

import cmath
import math

from ..base import dtype as dt
from ..codegen.variables import ShaderVariable
from ..codegen.functions.complex import make_complex

_EPS = 1e-15


def bind(x: ShaderVariable) -> ShaderVariable:
    """`x` computed once into a fresh local (later uses read the local)."""
    return ShaderVariable(x.builder, x.builder.bind(x.node))


def times_i(x: ShaderVariable, sign: int) -> ShaderVariable:
    """x * (sign * i) without a multiply."""
    if sign > 0:
        return make_complex(-x.imag, x.real)
    return make_complex(x.imag, -x.real)


def scaled(x: ShaderVariable, factor: float) -> ShaderVariable:
    """x times the real `factor`: two multiplies (a Python float would be promoted to a
    complex literal and cost a complex multiply)."""
    return bind(x * dt.complex_part(x.dtype).numpy_dtype.type(factor))


def times_root(x: ShaderVariable, w: complex) -> ShaderVariable:
    """x * w for a literal unit complex w, cheap where w is 1, -1, +-i."""
    if abs(w - 1) < _EPS:
        return x
    if abs(w + 1) < _EPS:
        return bind(-x)
    if abs(w - 1j) < _EPS:
        return bind(times_i(x, 1))
    if abs(w + 1j) < _EPS:
        return bind(times_i(x, -1))
    return bind(x * complex(w.real, w.imag))


def root(k: int, n: int, sign: int) -> complex:
    """exp(sign * 2 pi i k / n), exact on the axes."""
    k %= n
    if (4 * k) % n == 0:
        return (1, 1j, -1, -1j)[(4 * k // n) % 4] if sign > 0 else (1, -1j, -1, 1j)[(4 * k // n) % 4]
    return cmath.exp(sign * 2j * math.pi * k / n)


def _split_factor(n: int) -> int:
    """The first radix of a composite n (4 where it divides), or n itself if prime."""
    if n % 4 == 0 and n > 4:
        return 4
    p = 2
    while p * p <= n:
        if n % p == 0:
            return p
        p += 1
    return n


def dft(xs: list, sign: int) -> list:
    """The DFT of the values `xs` (X_k = sum_n x_n exp(sign 2 pi i n k / R))."""
    r = len(xs)
    if r == 1:
        return list(xs)
    if r == 2:
        return [bind(xs[0] + xs[1]), bind(xs[0] - xs[1])]
    r1 = _split_factor(r)
    if r1 == r:
        return _prime_dft(xs, sign)
    r2 = r // r1
    # n = r2*n1 + n2, k = k1 + r1*k2
    cols = []
    for n2 in range(r2):
        y = dft([xs[r2 * n1 + n2] for n1 in range(r1)], sign)
        cols.append([times_root(y[k1], root(n2 * k1, r, sign)) for k1 in range(r1)])
    out = [None] * r
    for k1 in range(r1):
        z = dft([cols[n2][k1] for n2 in range(r2)], sign)
        for k2 in range(r2):
            out[k1 + r1 * k2] = z[k2]
    return out


def _prime_dft(xs: list, sign: int) -> list:
    """X_k = A_k + sign*i*B_k, X_{R-k} = A_k - sign*i*B_k with A from the sums and B
    from the differences of mirrored inputs."""
    r = len(xs)
    h = (r - 1) // 2
    sums = [bind(xs[j] + xs[r - j]) for j in range(1, h + 1)]
    diffs = [bind(xs[j] - xs[r - j]) for j in range(1, h + 1)]
    total = xs[0]
    for s in sums:
        total = bind(total + s)
    out = [None] * r
    out[0] = total
    for k in range(1, h + 1):
        a = xs[0]
        b = None
        for j in range(1, h + 1):
            c = math.cos(2 * math.pi * j * k / r)
            s = math.sin(2 * math.pi * j * k / r)
            a = bind(a + sums[j - 1] * c)
            term = diffs[j - 1] * s
            b = bind(term) if b is None else bind(b + term)
        ib = bind(times_i(b, sign))
        out[k] = bind(a + ib)
        out[r - k] = bind(a - ib)
    return out
