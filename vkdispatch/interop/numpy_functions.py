"""NumPy functions whose NumPy signature differs from the standard's function of the
same task (positional `axis`, `ddof`, `axis=None` meaning "flatten" or "every length-1
axis"): each adapter takes NumPy's arguments and calls the namespace with the
standard's, so `np.var(x, ddof=1)`, `np.squeeze(x)`, `np.cumsum(x)` or
`np.argmax(x, 1)` answer as NumPy does. NumPy-only options the device functions lack
(`out=` other than None, `where=`, `initial=`, `order=`) raise TypeError naming them."""
from __future__ import annotations

import numpy as np

from .. import array_api as xp
from ..array_api._numpy_methods import numpy_dtype_arg


def _refuse(name: str, **given) -> None:
    """TypeError for NumPy options given a value the device function cannot honour."""
    for option, value in given.items():
        if value is not None:
            raise TypeError(f"numpy.{name} on vkdispatch arrays takes no {option}= "
                            f"argument; leave it out, or convert with numpy.asarray(x) to "
                            f"run on the host")


def _flattened(x, axis):
    """(x, axis) with NumPy's axis=None (the flattened array) made explicit."""
    return (xp.reshape(x, (-1,)), 0) if axis is None else (x, axis)


def squeeze(a, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return xp.squeeze(a, axis)


def cumsum(a, axis=None, dtype=None, out=None):
    _refuse("cumsum", out=out)
    a, axis = _flattened(a, axis)
    return xp.cumulative_sum(a, axis=axis, dtype=numpy_dtype_arg(dtype, "cumsum"))


def cumprod(a, axis=None, dtype=None, out=None):
    _refuse("cumprod", out=out)
    a, axis = _flattened(a, axis)
    return xp.cumulative_prod(a, axis=axis, dtype=numpy_dtype_arg(dtype, "cumprod"))


def _reduction(name: str):
    """np.sum / np.var / ...: the Array's NumPy-convention method (`x.var(ddof=1)`)."""
    def adapter(a, *args, where=None, initial=None, correction=None, mean=None, **kwargs):
        _refuse(name, where=where, initial=initial, mean=mean)
        if correction is not None:       # NumPy 2's alias of ddof
            if "ddof" in kwargs or len(args) >= 4:
                raise TypeError(f"numpy.{name}: give ddof or correction, not both")
            kwargs["ddof"] = correction
        return getattr(a, name)(*args, **kwargs)
    adapter.__name__ = name
    return adapter


def _extreme_index(name: str):
    def adapter(a, axis=None, out=None, *, keepdims=False):
        _refuse(name, out=out)
        return getattr(xp, name)(a, axis=axis, keepdims=keepdims)
    adapter.__name__ = name
    return adapter


def flip(m, axis=None):
    return xp.flip(m, axis=axis)


def roll(a, shift, axis=None):
    return xp.roll(a, shift, axis=axis)


def repeat(a, repeats, axis=None):
    a, axis = _flattened(a, axis)
    return xp.repeat(a, repeats, axis=axis)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    return xp.diff(a, axis=axis, n=n, prepend=prepend, append=append)


def tril(m, k=0):
    return xp.tril(m, k=k)


def triu(m, k=0):
    return xp.triu(m, k=k)


def tensordot(a, b, axes=2):
    return xp.tensordot(a, b, axes=axes)


def count_nonzero(a, axis=None, *, keepdims=False):
    return xp.count_nonzero(a, axis=axis, keepdims=keepdims)


def dot(a, b, out=None):
    """NumPy's dot: a product with a 0-d operand, the inner product of two vectors,
    else a sum over the last axis of `a` and the second-to-last of `b` (matmul where
    `b` has at most two dimensions)."""
    _refuse("dot", out=out)
    a, b = xp.asarray(a), xp.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return xp.multiply(a, b)
    if b.ndim <= 2:
        return xp.matmul(a, b)
    return xp.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise TypeError(f"numpy.reshape on vkdispatch arrays takes order='C' only, got "
                        f"{order!r}")
    if (shape is None) == (newshape is None):
        raise TypeError("numpy.reshape: give the new shape once (shape, or newshape)")
    return xp.reshape(a, shape if newshape is None else newshape, copy=copy)


def _like(name: str):
    def adapter(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        if order not in ("K", "C", "A"):
            raise TypeError(f"numpy.{name} on vkdispatch arrays takes a C-ordered result "
                            f"only, got order={order!r}")
        fn = getattr(xp, name)
        dtype = numpy_dtype_arg(dtype, name)
        if shape is None:
            return fn(a, dtype=dtype, device=device)
        make = getattr(xp, name[:-len("_like")])
        return make(shape, dtype=dtype or a.dtype, device=device or a.device)
    adapter.__name__ = name
    return adapter


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dtype = numpy_dtype_arg(dtype, "full_like")
    if shape is None:
        return xp.full_like(a, fill_value, dtype=dtype, device=device)
    return xp.full(shape, fill_value, dtype=dtype or a.dtype, device=device or a.device)


def _cast_all(arrays, dtype, casting, name: str) -> list:
    """`arrays` in `dtype` (None: as they are), refused where NumPy's `casting` rule
    would refuse it."""
    if dtype is None:
        return list(arrays)
    t = numpy_dtype_arg(dtype, name)
    for a in arrays:
        if not np.can_cast(a.dtype.numpy_dtype, t.numpy_dtype, casting=casting):
            raise TypeError(f"numpy.{name}: cannot cast {a.dtype.name} to {t.name} under "
                            f"casting={casting!r}")
    return [xp.astype(a, t) for a in arrays]


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse("concatenate", out=out)
    return xp.concat(_cast_all(arrays, dtype, casting, "concatenate"), axis=axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse("stack", out=out)
    return xp.stack(_cast_all(arrays, dtype, casting, "stack"), axis=axis)


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    _refuse("clip", out=out)
    low = a_min if min is None else min
    high = a_max if max is None else max
    return xp.clip(a, low, high)


def where(condition, x=None, y=None):
    if x is None and y is None:      # NumPy's one-argument where is nonzero
        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("numpy.where takes a condition alone, or a condition, x and y")
    return xp.where(condition, x, y)


def nonzero(a):
    fn = getattr(xp, "nonzero", None)
    if fn is None:
        raise TypeError("numpy.nonzero has no vkdispatch device implementation; convert "
                        "explicitly with numpy.asarray(x) to run it on the host")
    return fn(a)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """(Every kind gives the stable result, which is a valid answer for each.)"""
    _refuse("sort", order=order)
    a, axis = _flattened(a, axis)
    return xp.sort(a, axis=axis)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    _refuse("argsort", order=order)
    a, axis = _flattened(a, axis)
    return xp.argsort(a, axis=axis)


def searchsorted(a, v, side="left", sorter=None):
    return xp.searchsorted(a, v, side=side, sorter=sorter)


def take(a, indices, axis=None, out=None, mode="raise"):
    _refuse("take", out=out)
    if mode != "raise":
        raise TypeError(f"numpy.take on vkdispatch arrays takes mode='raise' only (an "
                        f"out-of-range index raises IndexError), got {mode!r}")
    a, axis = _flattened(a, axis)
    return xp.take(a, xp.asarray(indices), axis=axis)


def take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, indices, axis = xp.reshape(arr, (-1,)), xp.reshape(indices, (-1,)), 0
    return xp.take_along_axis(arr, indices, axis=axis)


def _fft_adapter(name: str):
    """numpy.fft.<name> (positional n / s and axis / axes, norm=None) as xp.fft's."""
    target = {"fft2": "fftn", "ifft2": "ifftn", "rfft2": "rfftn", "irfft2": "irfftn"}
    fn = getattr(xp.fft, target.get(name, name))
    if name in ("fftshift", "ifftshift"):
        def adapter(x, axes=None):
            return fn(x, axes=axes)
    elif name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        def adapter(a, n=None, axis=-1, norm=None, out=None):
            _refuse(f"fft.{name}", out=out)
            return fn(a, n=n, axis=axis, norm=norm or "backward")
    else:
        default_axes = (-2, -1) if name.endswith("2") else None

        def adapter(a, s=None, axes=default_axes, norm=None, out=None):
            _refuse(f"fft.{name}", out=out)
            return fn(a, s=s, axes=axes, norm=norm or "backward")
    adapter.__name__ = name
    return adapter


FFT_ADAPTERS = {n: _fft_adapter(n) for n in (
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
    "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift")}

ADAPTERS = {f.__name__: f for f in (
    where, nonzero, squeeze, sort, argsort, searchsorted, take, take_along_axis, cumsum, cumprod, flip, roll, repeat, diff, tril, triu, tensordot,
    count_nonzero, dot, reshape, full_like, concatenate, stack, clip,
    *(_reduction(n) for n in ("sum", "prod", "mean", "var", "std", "min", "max", "any",
                              "all")),
    *(_extreme_index(n) for n in ("argmax", "argmin")),
    *(_like(n) for n in ("zeros_like", "ones_like", "empty_like")))}
ADAPTERS["amin"], ADAPTERS["amax"] = ADAPTERS["min"], ADAPTERS["max"]
