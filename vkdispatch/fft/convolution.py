"""Fused convolutions: forward FFT, a frequency-domain multiply in registers and the
inverse FFT in one kernel, one pass over memory (vkdispatch 0.1's convolve,
convolve2D, convolve2DR). By default the spectrum is multiplied by the conjugate of a
precomputed kernel spectrum (0.1's behaviour: a cross-correlation); `kernel_map` (a
vd.map using vd.fft.read_op()) replaces that multiply with any in-register operation."""
from __future__ import annotations

from typing import Optional

from .functions import Call, check_axis, check_buffer, compute_type_of, fft, ifft, transform
from .hooks import Hooks
from .rfft import _check, irfft, rfft


def convolve(*buffers, kernel_map=None, buffer_shape: Optional[tuple] = None, graph=None,
             print_shader: bool = False, axis: Optional[int] = None, normalize: bool = True,
             name: Optional[str] = None, input_map=None, output_map=None, output_type=None,
             input_type=None, kernel_type=None, compute_type=None,
             input_signal_range=None) -> None:
    """Along `axis` (default: the last) of the buffer: FFT, multiply each frequency by
    conj(kernel) (a buffer laid out like the signal, or repeating over its leading
    axes) or apply `kernel_map`, inverse FFT (normalized unless normalize=False), in
    place. Arguments in 0.1's order: the output (or output_map's arguments), the input
    (optional; or input_map's), then the kernel buffer (or kernel_map's arguments)."""
    hooks = Hooks(input_map, output_map, kernel_map)
    call = Call(buffers, hooks, "convolve", kernel=True)
    shape = call.shape(buffer_shape)
    ax = check_axis(axis, len(shape))
    io = [t for t in (input_type, output_type, kernel_type) if t is not None]
    io += [b.dtype for b in (call.dst, call.src, call.kernel) if b is not None]
    compute = compute_type_of(compute_type, *io)
    if call.kernel is not None:
        mul = ("buffer", call.kernel.dtype.name, "same", True)
    else:
        mul = ("map",)
    transform(call, shape, ax, 1, normalize, compute, graph, print_shader, input_signal_range,
              kernel_mul=mul)


def convolve2D(buffer, kernel, kernel_map=None, buffer_shape: Optional[tuple] = None,
               graph=None, print_shader: bool = False, normalize: bool = True,
               compute_type=None) -> None:
    """2-D convolution over the last two axes, in place: FFT along the last axis, the
    fused convolve along the one before, inverse FFT along the last."""
    check_buffer(buffer)
    if len(buffer.shape) not in (2, 3):
        raise ValueError(f"convolve2D needs a buffer of 2 or 3 dimensions, got shape "
                         f"{buffer.shape}")
    args = (kernel,) if kernel_map is None else tuple(kernel) if isinstance(
        kernel, (tuple, list)) else (kernel,)
    fft(buffer, graph=graph, print_shader=print_shader, compute_type=compute_type)
    convolve(buffer, *args, kernel_map=kernel_map, buffer_shape=buffer_shape, graph=graph,
             print_shader=print_shader, axis=len(buffer.shape) - 2, normalize=normalize,
             compute_type=compute_type)
    ifft(buffer, graph=graph, print_shader=print_shader, normalize=normalize,
         compute_type=compute_type)


def convolve2DR(buffer, kernel, kernel_map=None, buffer_shape: Optional[tuple] = None,
                graph=None, print_shader: bool = False, normalize: bool = True,
                compute_type=None) -> None:
    """convolve2D of a real signal held in a vd.RFFTBuffer (kernel: the spectrum, an
    RFFTBuffer or buffer of its fourier shape): rfft, fused convolve, irfft."""
    _check(buffer, "convolve2DR")
    if len(buffer.real_shape) not in (2, 3):
        raise ValueError(f"convolve2DR needs a buffer of 2 or 3 dimensions, got real shape "
                         f"{buffer.real_shape}")
    args = (kernel,) if kernel_map is None else tuple(kernel) if isinstance(
        kernel, (tuple, list)) else (kernel,)
    rfft(buffer, graph, print_shader, compute_type=compute_type)
    convolve(buffer, *args, kernel_map=kernel_map, buffer_shape=buffer_shape, graph=graph,
             print_shader=print_shader, axis=len(buffer.shape) - 2, normalize=normalize,
             compute_type=compute_type)
    irfft(buffer, graph, print_shader, normalize=normalize, compute_type=compute_type)
