"""NumPy's reduction and conversion methods on Array (`x.sum(axis=0, dtype=...)`,
`x.var(ddof=1)`, `x.astype(np.float64)`), as libraries written against NumPy call them
on array chunks (Dask's mean/std/var do). Each runs the namespace's function with
NumPy's argument conventions and result dtypes: integer and bool data are averaged in
float64, bool min/max are all/any. `out` is accepted only as None: the result is a new
Array, as the standard's functions give."""
from __future__ import annotations

import numpy as np

from ..base import dtype as dt
from . import _dtypes as d


def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"Array.{name}: out= must be None (vkdispatch returns a new array; "
                        f"assign it with out[...] = x.{name}(...))")


def numpy_dtype_arg(value, name: str):
    """A NumPy-style dtype argument (None, a vkdispatch dtype, np.float32, 'f8',
    np.dtype(...)) as the namespace's dtype."""
    if value is None or isinstance(value, dt.DType):
        return value
    try:
        t = dt.from_numpy(np.dtype(value))
    except (TypeError, KeyError, ValueError):
        raise TypeError(f"Array.{name}: dtype {value!r} has no vkdispatch equivalent") from None
    if not d.is_array_dtype(t):
        raise TypeError(f"Array.{name}: dtype {value!r} is not one of the namespace's dtypes")
    return t


def _floating(x, dtype, name: str):
    """`x` converted for a mean-like reduction: to `dtype` when given, else integer and
    bool data to float64 (NumPy's rule)."""
    from ._data_types import astype
    t = numpy_dtype_arg(dtype, name)
    if t is None and not x.dtype.is_float and not x.dtype.is_complex:
        t = d.float64
    return x if t is None or t is x.dtype else astype(x, t)


def _counted(x, dtype):
    """`x` for sum/prod: bool data counted as integers (NumPy's rule), in `dtype` when
    given, else the default integer type."""
    if x.dtype is not d.bool:
        return x
    from ._data_types import astype
    from ._info import default_int
    return astype(x, dtype or default_int(x.device))


def _ddof(ddof, name: str):
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"Array.{name}: ddof must be a number, got {ddof!r}")
    return float(ddof)


class NumpyMethods:
    """Mixed into Array (no state of its own)."""

    __slots__ = ()

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        from ._statistical import sum as sum_
        _no_out(out, "sum")
        t = numpy_dtype_arg(dtype, "sum")
        return sum_(_counted(self, t), axis=axis, dtype=t, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        from ._statistical import prod
        _no_out(out, "prod")
        t = numpy_dtype_arg(dtype, "prod")
        return prod(_counted(self, t), axis=axis, dtype=t, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        from ._statistical import all as all_, min as min_
        _no_out(out, "min")
        fn = all_ if self.dtype is d.bool else min_
        return fn(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        from ._statistical import any as any_, max as max_
        _no_out(out, "max")
        fn = any_ if self.dtype is d.bool else max_
        return fn(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        from ._statistical import mean
        _no_out(out, "mean")
        return mean(_floating(self, dtype, "mean"), axis=axis, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from ._statistical import var
        _no_out(out, "var")
        return var(_floating(self, dtype, "var"), axis=axis, correction=_ddof(ddof, "var"),
                   keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        from ._statistical import std
        _no_out(out, "std")
        return std(_floating(self, dtype, "std"), axis=axis, correction=_ddof(ddof, "std"),
                   keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        from ._statistical import any as any_
        _no_out(out, "any")
        return any_(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        from ._statistical import all as all_
        _no_out(out, "all")
        return all_(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype, copy=True):
        """NumPy's `x.astype(dtype, copy=True)` (the namespace's astype)."""
        from ._data_types import astype
        return astype(self, numpy_dtype_arg(dtype, "astype"), copy=copy)
