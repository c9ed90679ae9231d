"""The generated kernels of a transform without running it (vkdispatch 0.1's *_src and
*_print_src helpers): the call runs on shape-only placeholder buffers while launch.py
collects the kernels' sources instead of recording them."""
from __future__ import annotations

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from ..base.errors import number_lines
from ..codegen.types import BUFFER
from . import convolution as _conv
from . import functions as _fn
from . import rfft as _rf
from .launch import capturing


# between the kernels of a transform that runs several
KERNEL_SEPARATOR = "\n// ---- next kernel ----\n"


def _placeholder(shape, dtype) -> Buffer:
    """A Buffer with a shape and dtype and no memory (never bound: nothing records)."""
    return Buffer._wrap(get_context(), tuple(shape), dt.to_dtype(dtype), [])


def _rplaceholder(real_shape, dtype) -> _rf.RFFTBuffer:
    buf = _rf.RFFTBuffer.__new__(_rf.RFFTBuffer)
    shape = tuple(real_shape[:-1]) + (real_shape[-1] // 2 + 1,)
    buf.__dict__.update(_placeholder(shape, dtype).__dict__)
    buf.real_shape, buf.fourier_shape = tuple(real_shape), shape
    buf.real_type = dt.float64 if dt.to_dtype(dtype) is dt.complex128 else dt.float32
    return buf


def _map_args(m) -> list:
    if m is None:
        return []
    return [_placeholder((1,), t.dtype) if t.kind == BUFFER else 0 for t in m.buffer_types]


def _sources(run, line_numbers=False) -> str:
    with capturing() as sources:
        run()
    text = KERNEL_SEPARATOR.join(sources)
    return number_lines(text) if line_numbers else text


def fft_src(buffer_shape, axis=None, inverse=False, normalize_inverse=True, input_map=None,
            output_map=None, input_signal_range=None, line_numbers=False,
            dtype=dt.complex64, compute_type=None) -> str:
    """The kernels vd.fft.fft would run on a buffer of `buffer_shape` and `dtype`."""
    buf = _placeholder(buffer_shape, dtype)
    args = (_map_args(output_map) or [buf]) + (_map_args(input_map) if input_map else [])
    return _sources(lambda: _fn.fft(*args, buffer_shape=tuple(buffer_shape), axis=axis,
                                    inverse=inverse, normalize_inverse=normalize_inverse,
                                    input_map=input_map, output_map=output_map,
                                    input_signal_range=input_signal_range,
                                    compute_type=compute_type), line_numbers)


def ifft_src(buffer_shape, axis=None, normalize=True, input_map=None, output_map=None,
             **kw) -> str:
    return fft_src(buffer_shape, axis, True, normalize, input_map, output_map, **kw)


def _nd_src(fn, shape, dtype=dt.complex64, **kw) -> str:
    return _sources(lambda: fn(_placeholder(shape, dtype), **kw))


def fft2_src(buffer_shape, dtype=dt.complex64) -> str:
    return _nd_src(_fn.fft2, buffer_shape, dtype)


def ifft2_src(buffer_shape, normalize=True, dtype=dt.complex64) -> str:
    return _nd_src(_fn.ifft2, buffer_shape, dtype, normalize=normalize)


def fft3_src(buffer_shape, dtype=dt.complex64) -> str:
    return _nd_src(_fn.fft3, buffer_shape, dtype)


def ifft3_src(buffer_shape, normalize=True, dtype=dt.complex64) -> str:
    return _nd_src(_fn.ifft3, buffer_shape, dtype, normalize=normalize)


def _real_src(fn, real_shape, dtype=dt.complex64, **kw) -> str:
    return _sources(lambda: fn(_rplaceholder(real_shape, dtype), **kw))


def rfft_src(buffer_shape, dtype=dt.complex64) -> str:
    return _real_src(_rf.rfft, buffer_shape, dtype)


def irfft_src(buffer_shape, normalize=True, dtype=dt.complex64) -> str:
    return _real_src(_rf.irfft, buffer_shape, dtype, normalize=normalize)


def rfft2_src(buffer_shape, dtype=dt.complex64) -> str:
    return _real_src(_rf.rfft2, buffer_shape, dtype)


def irfft2_src(buffer_shape, normalize=True, dtype=dt.complex64) -> str:
    return _real_src(_rf.irfft2, buffer_shape, dtype, normalize=normalize)


def rfft3_src(buffer_shape, dtype=dt.complex64) -> str:
    return _real_src(_rf.rfft3, buffer_shape, dtype)


def irfft3_src(buffer_shape, normalize=True, dtype=dt.complex64) -> str:
    return _real_src(_rf.irfft3, buffer_shape, dtype, normalize=normalize)


def convolve_src(buffer_shape, kernel_map=None, axis=None, normalize=True, input_map=None,
                 output_map=None, dtype=dt.complex64, kernel_type=dt.complex64) -> str:
    """The fused kernel vd.fft.convolve would run."""
    buf = _placeholder(buffer_shape, dtype)
    args = (_map_args(output_map) or [buf]) + _map_args(input_map) + (
        _map_args(kernel_map) if kernel_map else [_placeholder(buffer_shape, kernel_type)])
    return _sources(lambda: _conv.convolve(*args, kernel_map=kernel_map,
                                           buffer_shape=tuple(buffer_shape), axis=axis,
                                           normalize=normalize, input_map=input_map,
                                           output_map=output_map))


def convolve2D_src(buffer_shape, kernel_map=None, normalize=True, dtype=dt.complex64) -> str:
    kernel = _map_args(kernel_map) if kernel_map else _placeholder(buffer_shape, dtype)
    return _sources(lambda: _conv.convolve2D(_placeholder(buffer_shape, dtype), kernel,
                                             kernel_map=kernel_map, normalize=normalize))


def convolve2DR_src(buffer_shape, kernel_map=None, normalize=True, dtype=dt.complex64) -> str:
    buf = _rplaceholder(buffer_shape, dtype)
    kernel = _map_args(kernel_map) if kernel_map else _placeholder(buf.fourier_shape, dtype)
    return _sources(lambda: _conv.convolve2DR(buf, kernel, kernel_map=kernel_map,
                                              normalize=normalize))


def _printer(src_fn):
    def print_src(*args, **kw) -> None:
        print(src_fn(*args, **kw))
    print_src.__name__ = src_fn.__name__.replace("_src", "_print_src")
    print_src.__doc__ = f"Print what {src_fn.__name__} returns."
    return print_src


SOURCES = (fft_src, fft2_src, fft3_src, ifft_src, ifft2_src, ifft3_src, rfft_src, rfft2_src,
           rfft3_src, irfft_src, irfft2_src, irfft3_src, convolve_src, convolve2D_src,
           convolve2DR_src)
PRINTERS = {f.__name__.replace("_src", "_print_src"): _printer(f) for f in SOURCES}
