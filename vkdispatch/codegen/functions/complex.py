"""Complex helpers. Complex values are scalars of type complex32/64/128; `*` and `/`
between complex values already do complex arithmetic."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ops
from ..variables import convert, to_node, wrap
from .math import _builder


def _complex(x):
    n = to_node(x)
    if not n.dtype.is_complex:
        n = convert(n, dt.complex128 if n.dtype is dt.float64 else dt.complex64)
    return n


def mult_complex(a, b):
    na, nb = _complex(a), _complex(b)
    t = dt.promote(na.dtype, nb.dtype)
    return wrap(_builder(a, b), ops.make("cmul", convert(na, t), convert(nb, t)))


def conj(x):
    return wrap(_builder(x), ops.make("conj", _complex(x)))


def complex_exp(x):
    """e**x for complex x."""
    return wrap(_builder(x), ops.make("cexp", _complex(x)))


def complex_from_euler_angle(angle):
    """cos(angle) + i sin(angle)."""
    n = to_node(angle)
    if n.dtype.base.kind != dt.FLOAT:
        n = convert(n, dt.float32)
    t = dt.complex128 if n.dtype is dt.float64 else dt.complex64
    c = ops.make("construct", ops.make("cos", n), ops.make("sin", n), dtype=t)
    return wrap(_builder(angle), c)


def make_complex(real, imag):
    nr, ni = to_node(real), to_node(imag)
    base = dt.promote_scalars(nr.dtype, ni.dtype)
    base = base if base is dt.float64 else dt.float32
    t = dt.complex128 if base is dt.float64 else dt.complex64
    return wrap(_builder(real, imag), ops.make("construct", convert(nr, base), convert(ni, base),
                                              dtype=t))
