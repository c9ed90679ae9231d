"""Real transforms on `vd.RFFTBuffer`s: rfft/irfft along the last axis as packed
half-length complex transforms (realpack.py), and the 2-D/3-D versions that add complex
transforms along the other axes of the spectrum."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from .functions import compute_type_of, fft
from .launch import record_step, source
from . import realpass
from .plan import kernel_shape, make_plan
from .spec import Layout


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
    sign = 1 if inverse else -1
    if kernel_shape(m, compute.itemsize, ctx.device, False) is None:
        # past one workgroup: a two-pass complex plan and a separate untangling kernel
        plan = make_plan(ctx.device, m, False, sign, scale, buffer.dtype, buffer.dtype,
                         compute, False)
        if print_shader:
            for step in plan.steps:
                print(source(ctx, step.spec))
        realpass.record(ctx, graph, buffer, plan, rows, m, inverse)
        return
    plan = make_plan(ctx.device, m, False, sign, scale, buffer.dtype, buffer.dtype, compute,
                     True, real="c2r" if inverse else "r2c")
    spec = plan.steps[0].spec
    if print_shader:
        print(source(ctx, spec))
    lay = Layout(1, m + 1, 0, 1)
    record_step(ctx, graph, spec, buffer, buffer, rows, 1, 1, lay, lay)


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
