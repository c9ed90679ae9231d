"""Data-type functions: astype, can_cast, finfo, iinfo, isdtype, result_type."""
from __future__ import annotations

import builtins
from dataclasses import dataclass

import numpy as np

from . import _dtypes as d
from ._array import Array
from ._elementwise import cast, check_device_dtype
from ._info import resolve_device


def _dtype_of(x, what: str):
    if isinstance(x, Array):
        return x.dtype
    if d.is_array_dtype(x):
        return x
    raise TypeError(f"{what} must be an array or one of the namespace's dtypes, got {x!r}")


def astype(x, dtype, /, *, copy=True, device=None) -> Array:
    if not isinstance(x, Array):
        raise TypeError(f"astype takes an array, got {type(x).__name__}")
    if not d.is_array_dtype(dtype):
        raise TypeError(f"astype: dtype must be one of the namespace's dtypes, got {dtype!r}")
    resolve_device(device)
    if x.dtype.is_complex and not dtype.is_complex and dtype is not d.bool:
        raise TypeError(f"astype from {x.dtype.name} to {dtype.name} would drop the imaginary "
                        f"part; take real() first")
    check_device_dtype(x.device, dtype, "astype")
    if dtype is x.dtype and not copy:
        return x
    return cast(x, dtype)


def can_cast(from_, to, /) -> bool:
    f = _dtype_of(from_, "can_cast's from_")
    t = _dtype_of(to, "can_cast's to")
    if f is t:
        return True
    try:
        return d.promote(f, t) is t
    except TypeError:
        return False


@dataclass(frozen=True)
class finfo_object:
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: object


@dataclass(frozen=True)
class iinfo_object:
    bits: int
    max: int
    min: int
    dtype: object


def finfo(type, /) -> finfo_object:  # noqa: A002 - the standard's name
    t = _dtype_of(type, "finfo's type")
    if not (t.is_float or t.is_complex):
        raise TypeError(f"finfo takes a floating-point dtype, got {t.name}")
    real = {d.complex64: d.float32, d.complex128: d.float64}.get(t, t)
    f = np.finfo(real.numpy_dtype)
    return finfo_object(f.bits, float(f.eps), float(f.max), float(f.min),
                        float(f.smallest_normal), real)


def iinfo(type, /) -> iinfo_object:  # noqa: A002 - the standard's name
    t = _dtype_of(type, "iinfo's type")
    if not t.is_integer:
        raise TypeError(f"iinfo takes an integer dtype, got {t.name}")
    i = np.iinfo(t.numpy_dtype)
    return iinfo_object(i.bits, int(i.max), int(i.min), t)


_KINDS = {"bool": (d.bool,), "signed integer": d.SIGNED, "unsigned integer": d.UNSIGNED,
          "integral": d.INTEGER, "real floating": d.REAL_FLOATING,
          "complex floating": d.COMPLEX, "numeric": d.NUMERIC}


def isdtype(dtype, kind) -> bool:
    if not d.is_array_dtype(dtype):
        raise TypeError(f"isdtype's dtype must be one of the namespace's dtypes, got {dtype!r}")
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"unknown kind {kind!r}; valid: {sorted(_KINDS)}")
        return builtins.any(dtype is t for t in _KINDS[kind])
    if d.is_array_dtype(kind):
        return dtype is kind
    raise TypeError(f"isdtype's kind must be a dtype, a kind name or a tuple, got {kind!r}")


def result_type(*arrays_and_dtypes):
    if not arrays_and_dtypes:
        raise ValueError("result_type needs at least one array, dtype or scalar")
    t = None
    scalars = []
    for x in arrays_and_dtypes:
        if isinstance(x, (builtins.bool, int, float, complex)) and not isinstance(x, Array):
            scalars.append(x)
            continue
        u = _dtype_of(x, "result_type's arguments")
        t = u if t is None else d.promote(t, u)
    if t is None:
        raise ValueError("result_type needs at least one array or dtype beside scalars")
    for s in scalars:
        d.scalar_dtype(s, t)
    return t
