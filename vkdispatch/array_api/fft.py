"""The standard's fft extension (`xp.fft`) through vd.fft's generated kernels: each 1-D
complex transform is a lazy node that records vd.fft's plan for its length (any
length: mixed radix, or Bluestein), with the norm's scale applied on the final store.
n-D transforms run one axis after another.

The real transforms of an even length n whose half n/2 has prime factors up to 13
(vd.fft's Stockham lengths) are packed: the n reals are read as n/2 complex values,
transformed at half the length and untangled into the n//2 + 1 outputs in one kernel
(two passes and an untangling kernel past one workgroup), along any axis, reading the
real input in place (cropped or zero-padded to n as it is read) and writing the half
spectrum directly (irfft: the other way round). Other lengths (odd n, or n/2 with a
larger prime factor) run as complex transforms: rfft transforms the input cast to
complex and keeps the non-negative frequencies; irfft rebuilds the Hermitian-symmetric
spectrum and keeps the real part."""
from __future__ import annotations

import math

from ..base.context import get_context
from ..execution import lazy
from ..execution.replay import prepare_op
from ..fft import functions as transforms
from ..fft import realpass
from ..fft.hooks import Hooks
from ..fft.launch import scratch_roles
from ..fft.plan import is_smooth
from . import _dtypes as d
from ._array import Array, check_axis
from ._elementwise import CAST, apply, where
from ._info import default_float, resolve_device
from ._manipulation import concat, flip, roll

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft",
           "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_COMPLEX_OF = {d.float32: d.complex64, d.float64: d.complex128,
               d.complex64: d.complex64, d.complex128: d.complex128}
_REAL_OF = {d.complex64: d.float32, d.complex128: d.float64}


class _TransformOp:
    """Lazy node op: args (Leaf over contiguous memory at its buffer's start,), the
    transform along `axis` (sign -1 forward, +1 inverse) times `scale`."""
    __slots__ = ("key", "axis", "sign", "scale")

    def __init__(self, axis: int, sign: int, scale: float):
        self.key = ("fft", axis, sign, scale)
        self.axis, self.sign, self.scale = axis, sign, scale

    def record(self, graph, node) -> None:
        if math.prod(node.shape) != 0:
            self.transform(graph, node, _buffers(node))

    def transform(self, graph, node, memory, allocate=None) -> None:
        src, dst = memory
        call = transforms.Call((dst, src), Hooks(), "xp.fft")
        transforms.transform(call, node.shape, self.axis, self.sign, False, node.dtype,
                             graph, scale=self.scale)

    def prepare(self, ctx, node):
        return prepare_op(self, node, _buffers, *scratch_roles(ctx))


class _RealTransformOp:
    """Lazy node op: args (Leaf over contiguous memory at its buffer's start,), the
    packed real transform of length n along `axis`: rfft (the input's `have` reals
    along it, cropped or zero-padded to n) or irfft (inverse; `have` complex values,
    cropped or zero-padded to n//2 + 1), times `scale`."""
    __slots__ = ("key", "axis", "n", "have", "inverse", "scale")

    def __init__(self, axis: int, n: int, have: int, inverse: bool, scale: float):
        self.key = ("irfft" if inverse else "rfft", axis, n, have, scale)
        self.axis, self.n, self.have, self.inverse, self.scale = axis, n, have, inverse, scale

    def record(self, graph, node) -> None:
        if math.prod(node.shape) != 0:
            self.transform(graph, node, _buffers(node))

    def transform(self, graph, node, memory, allocate=None) -> None:
        src, dst = memory
        spectrum = node.args[0].dtype if self.inverse else node.dtype
        # the M-point transform's factor: an inverse's 1/n is 2/n there
        scale = 2 * self.scale if self.inverse else self.scale
        realpass.record(get_context(), graph, src, dst, self.n // 2,
                        math.prod(node.shape[:self.axis]), math.prod(node.shape[self.axis + 1:]),
                        self.inverse, scale, spectrum, True, self.have)

    def prepare(self, ctx, node):
        return prepare_op(self, node, _buffers, *scratch_roles(ctx))


def _buffers(node) -> tuple:
    """(input, output) Buffer views of a transform node: its argument at its own shape,
    its target at the node's."""
    (x,) = node.args
    return (x.view.storage.buffer.view(x.view.offset, x.shape),
            node.target.storage.buffer.view(node.target.offset, node.shape))


def _packs(n: int, have: int) -> bool:
    """Whether a real transform of length n (from `have` input entries) runs packed."""
    return n % 2 == 0 and have > 0 and is_smooth(n // 2)


def _check_norm(norm) -> str:
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    return norm


def _scale(norm: str, n: int, sign: int) -> float:
    """The factor of a transform of length n: 1/n on the side `norm` names."""
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    if (norm == "backward") == (sign > 0):
        return 1.0 / n
    return 1.0


def _check_array(x, name: str, kinds: str) -> None:
    if not isinstance(x, Array):
        raise TypeError(f"fft.{name} takes an array, got {type(x).__name__}")
    allowed = {"complex": (d.complex64, d.complex128, d.float32, d.float64),
               "real": (d.float32, d.float64)}[kinds]
    if x.dtype not in allowed:
        what = "real floating-point" if kinds == "real" else "floating-point"
        raise TypeError(f"fft.{name} takes {what} arrays, got {x.dtype.name}")


def _check_n(n, name: str, what: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"fft.{name}: {what} must be a positive int, got {n!r}")


def _resized(x: Array, axis: int, n: int) -> Array:
    """`x` cropped or zero-padded to length n along `axis` (the standard's n)."""
    have = x.shape[axis]
    if n == have:
        return x
    if n < have:
        return x[tuple(slice(0, n) if i == axis else slice(None) for i in range(x.ndim))]
    from ._creation import zeros
    pad = tuple(n - have if i == axis else s for i, s in enumerate(x.shape))
    return concat([x, zeros(pad, dtype=x.dtype, device=x.device)], axis=axis)


def _at_start(x: Array) -> lazy.Leaf:
    """A Leaf over `x`'s value in contiguous memory starting at its buffer's start (a
    view elsewhere is copied: a buffer bound at an element offset may break a
    device's binding alignment)."""
    view = x._view
    if view is not None and (view.offset or
                             view.strides != lazy.contiguous_strides(x.shape)):
        x = Array._record(CAST, (x._arg(),), x.shape, x.dtype, x.device)
    return lazy.Leaf(x._placed(), x.shape, x.dtype)


def _c2c(x: Array, n, axis, norm, sign: int, name: str) -> Array:
    """The complex transform of `x` (converted to complex) along `axis`, resized to n."""
    norm = _check_norm(norm)
    axis = check_axis(axis, x.ndim)
    if n is not None:
        _check_n(n, name)
        x = _resized(x, axis, n)
    t = _COMPLEX_OF[x.dtype]
    if x.dtype is not t:
        x = Array._record(CAST, (x._arg(),), x.shape, t, x.device)
    length = x.shape[axis]
    if length == 0:
        raise ValueError(f"fft.{name}: the transformed axis is empty (pass n >= 1)")
    op = _TransformOp(axis, sign, _scale(norm, length, sign))
    return Array._record(op, (_at_start(x),), x.shape, t, x.device)


def fft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    _check_array(x, "fft", "complex")
    return _c2c(x, n, axis, norm, -1, "fft")


def ifft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    _check_array(x, "ifft", "complex")
    return _c2c(x, n, axis, norm, 1, "ifft")


def _axes_and_sizes(x: Array, s, axes, name: str) -> tuple:
    """(axes, sizes) of an n-D transform, as the standard reads s and axes."""
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    else:
        axes = tuple(axes)
    axes = tuple(check_axis(a, x.ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"fft.{name}: axes {axes} repeat an axis")
    if s is None:
        sizes = tuple(x.shape[a] for a in axes)
    else:
        s = tuple(s)
        if len(s) != len(axes):
            raise ValueError(f"fft.{name}: s has {len(s)} entries and axes {len(axes)}")
        sizes = tuple(x.shape[a] if k == -1 else k for k, a in zip(s, axes))
        for k in sizes:
            _check_n(k, name, "each entry of s")
    return axes, sizes


def fftn(x, /, *, s=None, axes=None, norm="backward") -> Array:
    _check_array(x, "fftn", "complex")
    axes, sizes = _axes_and_sizes(x, s, axes, "fftn")
    for a, k in zip(axes, sizes):
        x = _c2c(x, k, a, norm, -1, "fftn")
    return x if axes else _c2c_none(x)


def ifftn(x, /, *, s=None, axes=None, norm="backward") -> Array:
    _check_array(x, "ifftn", "complex")
    axes, sizes = _axes_and_sizes(x, s, axes, "ifftn")
    for a, k in zip(axes, sizes):
        x = _c2c(x, k, a, norm, 1, "ifftn")
    return x if axes else _c2c_none(x)


def _c2c_none(x: Array) -> Array:
    """A transform over no axes: the input as complex."""
    t = _COMPLEX_OF[x.dtype]
    return x if x.dtype is t else Array._record(CAST, (x._arg(),), x.shape, t, x.device)


def _half(x: Array, axis: int, length: int) -> Array:
    """The non-negative frequencies of a length-`length` spectrum along `axis`."""
    keep = length // 2 + 1
    return x[tuple(slice(0, keep) if i == axis else slice(None) for i in range(x.ndim))]


def rfft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    _check_array(x, "rfft", "real")
    axis = check_axis(axis, x.ndim)
    have = x.shape[axis]
    if n is not None:
        _check_n(n, "rfft")
    if _packs(have if n is None else n, have):
        n = have if n is None else n
        op = _RealTransformOp(axis, n, have, False, _scale(_check_norm(norm), n, -1))
        shape = x.shape[:axis] + (n // 2 + 1,) + x.shape[axis + 1:]
        return Array._record(op, (_at_start(x),), shape, _COMPLEX_OF[x.dtype], x.device)
    out = _c2c(x, n, axis, norm, -1, "rfft")
    return _half(out, axis, out.shape[axis])


def _hermitian(x: Array, axis: int, n: int) -> Array:
    """The full length-n spectrum along `axis` whose first n//2 + 1 entries are x's
    (cropped or zero-padded), the rest their mirrored conjugates."""
    h = n // 2 + 1
    x = _resized(x, axis, h)
    mirror = x[tuple(slice(1, n - h + 1) if i == axis else slice(None)
                     for i in range(x.ndim))]
    if mirror.shape[axis] == 0:
        return x
    return concat([x, apply("conj", flip(mirror, axis=axis))], axis=axis)


def irfft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    _check_array(x, "irfft", "complex")
    axis = check_axis(axis, x.ndim)
    if n is None:
        n = 2 * (x.shape[axis] - 1)
        if n < 1:
            raise ValueError(f"fft.irfft: an axis of {x.shape[axis]} entries gives no "
                             f"output length; pass n >= 1")
    _check_n(n, "irfft")
    x = _c2c_none(x)
    if _packs(n, x.shape[axis]):
        op = _RealTransformOp(axis, n, x.shape[axis], True, _scale(_check_norm(norm), n, 1))
        shape = x.shape[:axis] + (n,) + x.shape[axis + 1:]
        return Array._record(op, (_at_start(x),), shape, _REAL_OF[x.dtype], x.device)
    full = _hermitian(x, axis, n)
    return apply("real", _c2c(full, None, axis, norm, 1, "irfft"))


def rfftn(x, /, *, s=None, axes=None, norm="backward") -> Array:
    _check_array(x, "rfftn", "real")
    axes, sizes = _axes_and_sizes(x, s, axes, "rfftn")
    if not axes:
        raise ValueError("fft.rfftn needs at least one axis")
    out = rfft(x, n=sizes[-1], axis=axes[-1], norm=norm)
    for a, k in zip(axes[:-1], sizes[:-1]):
        out = _c2c(out, k, a, norm, -1, "rfftn")
    return out


def irfftn(x, /, *, s=None, axes=None, norm="backward") -> Array:
    _check_array(x, "irfftn", "complex")
    axes, sizes = _axes_and_sizes(x, s, axes, "irfftn")
    if not axes:
        raise ValueError("fft.irfftn needs at least one axis")
    if s is None:    # the last axis holds n//2 + 1 entries of an even length n
        sizes = sizes[:-1] + (2 * (x.shape[axes[-1]] - 1),)
    for a, k in zip(axes[:-1], sizes[:-1]):
        x = _c2c(x, k, a, norm, 1, "irfftn")
    return irfft(x, n=sizes[-1], axis=axes[-1], norm=norm)


_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def hfft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    """The transform of a Hermitian-symmetric signal given by its first half: a real
    spectrum of length n (irfft of the conjugate, with the norm's side swapped)."""
    _check_array(x, "hfft", "complex")
    _check_norm(norm)
    return irfft(apply("conj", _c2c_none(x)), n=n, axis=axis, norm=_SWAPPED[norm])


def ihfft(x, /, *, n=None, axis=-1, norm="backward") -> Array:
    _check_array(x, "ihfft", "real")
    _check_norm(norm)
    return apply("conj", rfft(x, n=n, axis=axis, norm=_SWAPPED[norm]))


def _freq_dtype(dtype, device, name: str):
    device = resolve_device(device)
    t = default_float(device) if dtype is None else dtype
    if t not in (d.float32, d.float64):
        raise TypeError(f"fft.{name}: dtype must be a real floating-point dtype, got "
                        f"{getattr(t, 'name', t)!r}")
    return t, device


def fftfreq(n, /, *, d=1.0, dtype=None, device=None) -> Array:
    """Sample frequencies of a length-n transform: [0, 1, ..., -2, -1] / (d * n)."""
    from ._creation import arange
    _check_n(n, "fftfreq")
    t, device = _freq_dtype(dtype, device, "fftfreq")
    k = arange(n, dtype=t, device=device)
    shifted = apply("subtract", k, float(n))
    k = where(apply("less", k, float((n + 1) // 2)), k, shifted)
    return apply("divide", k, float(d * n))


def rfftfreq(n, /, *, d=1.0, dtype=None, device=None) -> Array:
    """Sample frequencies of rfft's output: [0, 1, ..., n//2] / (d * n)."""
    from ._creation import arange
    _check_n(n, "rfftfreq")
    t, device = _freq_dtype(dtype, device, "rfftfreq")
    return apply("divide", arange(n // 2 + 1, dtype=t, device=device), float(d * n))


def _shift(x, axes, name: str, sign: int) -> Array:
    if not isinstance(x, Array):
        raise TypeError(f"fft.{name} takes an array, got {type(x).__name__}")
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    axes = tuple(check_axis(a, x.ndim) for a in axes)
    if not axes:
        return x
    shifts = tuple(sign * (x.shape[a] // 2) for a in axes)
    return roll(x, shifts, axis=axes)


def fftshift(x, /, *, axes=None) -> Array:
    """The zero frequency moved to the middle along `axes` (default: all)."""
    return _shift(x, axes, "fftshift", 1)


def ifftshift(x, /, *, axes=None) -> Array:
    """fftshift undone."""
    return _shift(x, axes, "ifftshift", -1)
