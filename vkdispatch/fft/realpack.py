"""Packed real transforms: a real signal of even length N = 2M read as M complex values
z_n = x_2n + i x_2n+1, transformed with an M-point complex FFT, and untangled:
X_k = E_k + W_N^k O_k with E_k = (Z_k + conj Z_(M-k)) / 2, O_k = -i (Z_k - conj Z_(M-k)) / 2
(rfft), and the reverse, Z_k = E_k + i O_k (irfft), so a real transform does half the
work of a complex one. Rows of an RFFTBuffer hold M + 1 complex values: the real signal
in the first M, the spectrum in all M + 1; xp.fft's real transforms read or write the
real side as an array of reals (PassSpec.pairs)."""
from __future__ import annotations

from ..codegen.functions.complex import conj, make_complex
from ..codegen.functions.control_flow import if_block
from ..codegen.functions.math import min as vmin, select
from .registers import bind, times_i


def r2c_store(k) -> None:
    """After the M-point transform sits in shared memory: write X_0 .. X_M (their
    halves' 1/2 taken on the store, with the scale). X_0 and X_M both come from Z_0
    (W_N^M = -1): the invocation that makes X_0 also writes X_M."""
    s = k.s
    m_len, T = s.n, s.threads
    for m in range(-(-m_len // T)):
        f = bind(k.t + m * T) if m else k.t
        if (m + 1) * T > m_len:
            f = bind(vmin(f, m_len - 1))
        a = k.sh[k._sidx(f)]
        b = bind(conj(k.sh[k._sidx(bind((m_len - f) % m_len))]))
        even, odd = bind(a + b), bind(times_i(bind(a - b), -1))
        k._store_global(f, bind(even + odd * k._root("real", f, -1)), 0.5)
        if m == 0:
            with if_block(k.t == 0):
                k._store_global(m_len, bind(even - odd), 0.5)


def c2r_load(k, e):
    """2 Z_e of the packed signal (the plan's scale has the 1/2) from the spectrum X_e,
    X_(M-e) in global memory. The
    imaginary parts of X_0 and X_M are dropped (as numpy.fft.irfft does): a real
    signal's spectrum has none there."""
    s = k.s
    a = k._load_global(e)
    b = k._load_global(bind(s.n - e))
    first = bind(e == 0)
    a = bind(make_complex(a.real, select(first, 0.0, a.imag)))
    b = bind(make_complex(b.real, select(first, 0.0, -b.imag)))
    return bind(bind(a + b) + times_i(bind(bind(a - b) * k._root("real", e, 1)), 1))
