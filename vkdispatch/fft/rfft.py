"""Real transforms on `vd.RFFTBuffer`s: rfft/irfft along the last axis as packed
half-length complex transforms (realpack.py), and the 2-D/3-D versions that add complex
transforms along the other axes of the spectrum."""
from __future__ import annotations

import functools
import math
from typing import Optional

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from ..codegen.functions.builtins import global_invocation_id
from ..codegen.functions.complex import make_complex
from ..codegen.functions.math import select
from ..codegen.types import Buff, Const
from ..shader.decorator import shader
from . import bluestein
from .functions import compute_type_of, fft
from . import launch
from .launch import capturing_now, printing
from . import realpass


class RFFTBuffer(Buffer):
    """A complex buffer holding a real signal of shape `real_shape` and its spectrum:
    rows of real_shape[-1] // 2 + 1 complex values (`fourier_shape`); the real values
    fill the start of each row."""

    def __init__(self, shape, fourier_type=dt.complex64):
        shape = tuple(int(s) for s in (shape if hasattr(shape, "__iter__") else (shape,)))
        t = dt.to_dtype(fourier_type)
        if t not in (dt.complex64, dt.complex128):
            raise TypeError(f"fourier_type must be complex64 or complex128, got {t.name}")
        if not shape or shape[-1] < 2 or shape[-1] % 2:
            raise ValueError(f"an RFFTBuffer's last axis must be an even length >= 2 (the "
                             f"packed real transform), got shape {shape}")
        super().__init__(shape[:-1] + (shape[-1] // 2 + 1,), t)
        self.real_shape = shape
        self.fourier_shape = self.shape
        self.real_type = dt.float64 if t is dt.complex128 else dt.float32

    @property
    def var_type(self) -> dt.DType:
        return self.dtype

    def read_fourier(self, index: Optional[int] = None):
        return self.read(index)

    def read_real(self, index: Optional[int] = None):
        """The real signal (real_shape) on queue `index` (all queues: a list)."""
        if index is None:
            return [self.read_real(q) for q in range(self.context.queue_count)]
        packed = self.read(index).view(self.real_type.numpy_dtype)
        return packed[..., :self.real_shape[-1]].copy()

    def write_real(self, data, index: Optional[int] = None) -> None:
        data = np.asarray(data)
        if data.shape != self.real_shape or np.iscomplexobj(data):
            raise ValueError(f"write_real takes real data of shape {self.real_shape}, got "
                             f"{data.dtype} {data.shape}")
        packed = np.zeros(self.shape[:-1] + (2 * self.shape[-1],), self.real_type.numpy_dtype)
        packed[..., :self.real_shape[-1]] = data
        self.write(packed.view(self.dtype.numpy_dtype), index)

    def write_fourier(self, data, index: Optional[int] = None) -> None:
        data = np.asarray(data)
        if data.shape != self.fourier_shape:
            raise ValueError(f"write_fourier takes data of shape {self.fourier_shape}, got "
                             f"{data.shape}")
        self.write(data.astype(self.dtype.numpy_dtype), index)

    def __repr__(self) -> str:
        return f"<vd.RFFTBuffer real_shape={self.real_shape} dtype={self.dtype.name}>"


def asrfftbuffer(data, fourier_type=None) -> RFFTBuffer:
    """A new RFFTBuffer holding the real array `data` (complex128 spectrum for float64
    data, complex64 otherwise, unless `fourier_type` says)."""
    data = np.asarray(data)
    if np.iscomplexobj(data) or data.dtype.kind not in "biuf":
        raise TypeError(f"asrfftbuffer takes a real array, got {data.dtype}")
    if fourier_type is None:
        fourier_type = dt.complex128 if data.dtype == np.float64 else dt.complex64
    buf = RFFTBuffer(data.shape, fourier_type)
    buf.write_real(data)
    return buf


def _check(buffer, what) -> RFFTBuffer:
    if not isinstance(buffer, RFFTBuffer):
        raise TypeError(f"{what} takes a vd.RFFTBuffer (vd.asrfftbuffer(...)), got "
                        f"{type(buffer).__name__}")
    return buffer


def _packed(buffer, inverse, normalize, graph, print_shader, compute_type) -> None:
    ctx = get_context()
    compute = compute_type_of(compute_type, buffer.dtype)
    m = buffer.real_shape[-1] // 2
    rows = math.prod(buffer.real_shape[:-1])
    scale = (1.0 / m if normalize else 2.0) if inverse else 1.0
    with printing(print_shader):
        realpass.record(ctx, graph, buffer, buffer, m, rows, 1, inverse, scale, compute,
                        False, m + 1)


@functools.lru_cache(maxsize=None)
def _zero_outside(dtype: dt.DType):
    """Sets the real samples of each packed row outside [start, stop) to zero."""
    T = dtype
    S = dt.float64 if T is dt.complex128 else dt.float32

    def zero_outside(buf, start, stop, row):
        i = global_invocation_id().x
        k = (i % row) * 2
        v = buf[i]
        zero = S.numpy_dtype.type(0)
        buf[i] = make_complex(select((k >= start) & (k < stop), v.real, zero),
                              select((k + 1 >= start) & (k + 1 < stop), v.imag, zero))

    zero_outside.__name__ = f"vkd_rfft_signal_range_{T.name}"
    u32 = Const[dt.uint32]
    return shader("buf.size", arg_type_annotations=[Buff[T], u32, u32, u32])(zero_outside)


def r2c(buffer, inverse: bool, normalize: bool, buffer_shape, axis, graph, print_shader,
        compute_type, signal_range) -> None:
    """vkdispatch 0.1's fft(..., r2c=True): rfft (or irfft with inverse=True) of an
    RFFTBuffer whose real_shape is `buffer_shape`, along its last axis;
    input_signal_range=(start, stop) (forward only): the real samples outside it are
    taken as zero (a pass zeroes them in the buffer, which the transform overwrites
    anyway)."""
    _check(buffer, "fft(r2c=True)")
    if buffer_shape is not None and tuple(int(s) for s in buffer_shape) != buffer.real_shape:
        raise ValueError(f"fft(r2c=True): buffer_shape must be the RFFTBuffer's real_shape "
                         f"{buffer.real_shape}, got {tuple(buffer_shape)}")
    nd = len(buffer.real_shape)
    if axis is not None and axis not in (-1, nd - 1):
        raise ValueError(f"fft(r2c=True) transforms the last axis of the real shape; got "
                         f"axis={axis!r}")
    if signal_range is not None:
        if inverse:
            raise ValueError("input_signal_range with r2c=True applies to the forward "
                             "(real) transform; inverse=True takes none")
        n = buffer.real_shape[-1]
        edge = bluestein.signal_edge(signal_range, n)
        start, stop = edge.start, edge.limit or n
        if (start, stop) != (0, n):
            kernel = _zero_outside(buffer.dtype)
            if print_shader:
                print(kernel)
            if capturing_now():        # vd.fft.fft_src: collect the source, run nothing
                launch._capture.sources.append(str(kernel.get_src(line_numbers=False)))
            else:
                kernel(buffer, start, stop, buffer.shape[-1], graph=graph)
    _packed(buffer, inverse, normalize, graph, print_shader, compute_type)


def rfft(buffer: RFFTBuffer, graph=None, print_shader: bool = False, name=None,
         compute_type=None) -> None:
    """Real-to-complex transform along the last axis, in place."""
    _packed(_check(buffer, "rfft"), False, True, graph, print_shader, compute_type)


def irfft(buffer: RFFTBuffer, graph=None, print_shader: bool = False, name=None,
          normalize: bool = True, compute_type=None) -> None:
    """Complex-to-real inverse along the last axis, in place (divided by the length
    unless normalize=False)."""
    _packed(_check(buffer, "irfft"), True, normalize, graph, print_shader, compute_type)


def _dims(buffer, what, allowed) -> int:
    nd = len(_check(buffer, what).real_shape)
    if nd not in allowed:
        raise ValueError(f"{what} needs a buffer of {' or '.join(map(str, allowed))} "
                         f"dimensions, got real shape {buffer.real_shape}")
    return nd


def rfft2(buffer: RFFTBuffer, graph=None, print_shader: bool = False, compute_type=None):
    nd = _dims(buffer, "rfft2", (2, 3))
    rfft(buffer, graph, print_shader, compute_type=compute_type)
    fft(buffer, graph=graph, print_shader=print_shader, axis=nd - 2, compute_type=compute_type)


def rfft3(buffer: RFFTBuffer, graph=None, print_shader: bool = False, compute_type=None):
    _dims(buffer, "rfft3", (3,))
    rfft(buffer, graph, print_shader, compute_type=compute_type)
    for axis in (1, 0):
        fft(buffer, graph=graph, print_shader=print_shader, axis=axis, compute_type=compute_type)


def irfft2(buffer: RFFTBuffer, graph=None, print_shader: bool = False, normalize: bool = True,
           compute_type=None):
    nd = _dims(buffer, "irfft2", (2, 3))
    fft(buffer, graph=graph, print_shader=print_shader, axis=nd - 2, inverse=True,
        normalize_inverse=normalize, compute_type=compute_type)
    irfft(buffer, graph, print_shader, normalize=normalize, compute_type=compute_type)


def irfft3(buffer: RFFTBuffer, graph=None, print_shader: bool = False, normalize: bool = True,
           compute_type=None):
    _dims(buffer, "irfft3", (3,))
    for axis in (0, 1):
        fft(buffer, graph=graph, print_shader=print_shader, axis=axis, inverse=True,
            normalize_inverse=normalize, compute_type=compute_type)
    irfft(buffer, graph, print_shader, normalize=normalize, compute_type=compute_type)
