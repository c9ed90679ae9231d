"""argmax, argmin (two reductions: the extreme value, then the first index holding it)
and count_nonzero."""
from __future__ import annotations

from ..execution import lazy
from ..reduce import operations
from . import _dtypes as d
from ._array import Array, check_axis
from ._elementwise import CAST, apply
from ._info import default_int
from ._statistical import _reduce, max as amax, min as amin, sum as asum


def _arg_extreme(x, axis, keepdims, extreme, name) -> Array:
    from ._manipulation import reshape
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if x.dtype not in d.CATEGORY_SETS["real numeric"]:
        raise TypeError(f"{name} takes real numeric arrays, got {x.dtype.name}")
    if axis is None:
        shape = x.shape
        flat = reshape(x, (-1,))
        out = _arg_extreme(flat, 0, False, extreme, name)
        return reshape(out, (1,) * len(shape)) if keepdims else out
    axis = check_axis(axis, x.ndim)
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"{name} of an empty axis has no value")
    m = extreme(x, axis=axis, keepdims=True)
    hit = apply("equal", x, m)
    if x.dtype.is_float:    # the first NaN is the extreme, as NumPy answers
        hit = _where(apply("isnan", m), apply("isnan", x), hit)
    where_shape = tuple(n if i == axis else 1 for i in range(x.ndim))
    index = Array._record(CAST, (lazy.Iota(where_shape),), where_shape, d.int32, x.device)
    big = Array._record(CAST, (lazy.Scalar(n, d.int32),), (), d.int32, x.device)
    candidates = _where(hit, index, big)
    first = _reduce(candidates, operations.SubgroupMin, axis, keepdims, d.int32, n)
    t = default_int(x.device)
    return first if t is d.int32 else Array._record(CAST, (first._arg(),), first.shape, t,
                                                    x.device)


def _where(c, a, b):
    from ._elementwise import where
    return where(c, a, b)


def argmax(x, /, *, axis=None, keepdims=False) -> Array:
    return _arg_extreme(x, axis, keepdims, amax, "argmax")


def argmin(x, /, *, axis=None, keepdims=False) -> Array:
    return _arg_extreme(x, axis, keepdims, amin, "argmin")


def count_nonzero(x, /, *, axis=None, keepdims=False) -> Array:
    if not isinstance(x, Array):
        raise TypeError(f"count_nonzero takes an array, got {type(x).__name__}")
    flags = apply("not_equal", x, False if x.dtype is d.bool else 0)
    t = default_int(x.device)
    counts = Array._record(CAST, (flags._arg(),), flags.shape, t, x.device)
    return asum(counts, axis=axis, keepdims=keepdims, dtype=t)
