"""The standard's data types, their categories and its type-promotion rules."""
from __future__ import annotations

import builtins

import numpy as np

from ..base import dtype as dt

bool = dt.bool_  # noqa: A001 - the standard's name
int8, int16, int32, int64 = dt.int8, dt.int16, dt.int32, dt.int64
uint8, uint16, uint32, uint64 = dt.uint8, dt.uint16, dt.uint32, dt.uint64
float32, float64 = dt.float32, dt.float64
complex64, complex128 = dt.complex64, dt.complex128

SIGNED = (int8, int16, int32, int64)
UNSIGNED = (uint8, uint16, uint32, uint64)
INTEGER = SIGNED + UNSIGNED
REAL_FLOATING = (float32, float64)
COMPLEX = (complex64, complex128)
FLOATING = REAL_FLOATING + COMPLEX
NUMERIC = INTEGER + FLOATING
REAL_NUMERIC = INTEGER + REAL_FLOATING
ALL = (bool,) + NUMERIC

# the categories elementwise functions accept, by the names the standard uses
CATEGORIES = {
    "bool": (bool,), "integer": INTEGER, "integer or boolean": INTEGER + (bool,),
    "real floating-point": REAL_FLOATING, "floating-point": FLOATING,
    "complex floating-point": COMPLEX, "numeric": NUMERIC, "real numeric": REAL_NUMERIC,
    "any": ALL,
}

CATEGORY_SETS = {name: frozenset(types) for name, types in CATEGORIES.items()}


def _table() -> dict:
    t = {}
    for group in (SIGNED, UNSIGNED, REAL_FLOATING, COMPLEX):
        for a in group:
            for b in group:
                t[a, b] = a if a.itemsize >= b.itemsize else b
    mixed = {uint8: (int16, int16, int32, int64), uint16: (int32, int32, int32, int64),
             uint32: (int64, int64, int64, int64)}
    for u, results in mixed.items():
        for i, r in zip(SIGNED, results):
            t[u, i] = t[i, u] = r
    for f in REAL_FLOATING:
        for c in COMPLEX:
            r = complex128 if (f is float64 or c is complex128) else complex64
            t[f, c] = t[c, f] = r
    t[bool, bool] = bool
    return t


PROMOTION = _table()


def promote(a: dt.DType, b: dt.DType) -> dt.DType:
    """The result dtype of `a` and `b` by the standard's table; TypeError where it
    defines none (mixed kinds, uint64 with a signed integer)."""
    r = PROMOTION.get((a, b))
    if r is None:
        raise TypeError(f"{a.name} and {b.name} have no promoted type in the Array API "
                        f"standard (mixing kinds or uint64 with signed integers); convert "
                        f"one with astype first")
    return r


def kind_of(t: dt.DType) -> str:
    if t is bool:
        return "bool"
    if t in SIGNED:
        return "signed integer"
    if t in UNSIGNED:
        return "unsigned integer"
    if t in REAL_FLOATING:
        return "real floating"
    return "complex floating"


def scalar_dtype(value, like: dt.DType) -> dt.DType:
    """The dtype a Python scalar takes beside an array of `like` (the standard's
    rules: bool with bool, int with numeric, float with floating, complex with
    complex); TypeError otherwise, OverflowError for an int out of `like`'s range."""
    if isinstance(value, builtins.bool):
        ok = like is bool
    elif isinstance(value, int):
        ok = like in NUMERIC
        if ok and like in INTEGER:
            lim = np.iinfo(like.numpy_dtype)
            if not lim.min <= value <= lim.max:
                raise OverflowError(f"Python int {value} is out of bounds for {like.name}")
    elif isinstance(value, float):
        ok = like in FLOATING
    elif isinstance(value, complex):
        ok = like in COMPLEX
    else:
        raise TypeError(f"expected an array or a Python scalar, got {type(value).__name__}")
    if not ok:
        raise TypeError(f"a Python {type(value).__name__} cannot be combined with a "
                        f"{like.name} array (the standard allows bool with bool arrays, int "
                        f"with numeric, float with floating-point, complex with complex)")
    return like


def is_array_dtype(t):
    return any(t is d for d in ALL)
