"""Fused convolutions: forward FFT, a frequency-domain multiply in registers and the
inverse FFT in one kernel, one pass over memory (vkdispatch 0.1's convolve,
convolve2D, convolve2DR). By default the spectrum is multiplied by the conjugate of a
precomputed kernel spectrum (0.1's behaviour: a cross-correlation); `kernel_map` (a
vd.map using vd.fft.read_op()) replaces that multiply with any in-register operation;
`kernel_num` applies several kernels to one forward transform (the maps tell them apart
with vd.fft.mapped_kernel_index())."""
from __future__ import annotations

import math
from typing import Optional

from .functions import (Call, check_axis, check_buffer, compute_type_of, fft, ifft,
                        map_arguments, transform)
from .hooks import Hooks
from .rfft import _check, irfft, rfft


def _kernel_num(kernel_num) -> int:
    if isinstance(kernel_num, bool) or not isinstance(kernel_num, int) or kernel_num < 1:
        raise ValueError(f"kernel_num must be an int >= 1, got {kernel_num!r}")
    return kernel_num


def convolve(*buffers, kernel_map=None, kernel_num: int = 1,
             buffer_shape: Optional[tuple] = None, graph=None, print_shader: bool = False,
             axis: Optional[int] = None, normalize: bool = True, name: Optional[str] = None,
             transposed_kernel: bool = False, kernel_inner_only: bool = False,
             input_map=None, output_map=None, output_type=None, input_type=None,
             kernel_type=None, compute_type=None, input_signal_range=None) -> None:
    """Along `axis` (default: the last) of the buffer: FFT, multiply each frequency by
    conj(kernel) (a buffer laid out like the signal, or repeating over its leading
    axes) or apply `kernel_map`, inverse FFT (normalized unless normalize=False), in
    place. Arguments in 0.1's order: the output (or output_map's arguments), the input
    (optional; or input_map's), then the kernel buffer (or kernel_map's arguments).

    kernel_num=k: the forward transform is taken once and the kernel step, inverse and
    store run k times in the same kernel; inside kernel_map and output_map,
    vd.fft.mapped_kernel_index() says which (0 .. k-1), so the maps pick each kernel
    and where its result goes (as in 0.1, plain buffers see the same kernel and output
    every time). transposed_kernel=True: the kernel buffer was made by
    vd.fft.transpose (for vd.fft the transposed layout is the plain one, which the
    fused kernel already reads coalesced; the buffer may be larger than the signal).
    kernel_inner_only=True: the kernel buffer holds one kernel for the axes from
    `axis` on (shape buffer_shape[axis:]), used for every index of the axes before."""
    hooks = Hooks(input_map, output_map, kernel_map)
    count = _kernel_num(kernel_num)
    call = Call(buffers, hooks, "convolve", kernel=True)
    shape = call.shape(buffer_shape)
    ax = check_axis(axis, len(shape))
    io = [t for t in (input_type, output_type, kernel_type) if t is not None]
    io += [b.dtype for b in (call.dst, call.src, call.kernel) if b is not None]
    compute = compute_type_of(compute_type, *io)
    kernel_size = None
    if kernel_inner_only:
        if call.kernel is None:
            raise ValueError("kernel_inner_only applies to a kernel buffer; a kernel_map "
                             "indexes its own buffers (op.io_index % the inner size)")
        kernel_size = math.prod(shape[ax:])
        if call.kernel.size < kernel_size:
            raise ValueError(f"kernel_inner_only: the kernel buffer has {call.kernel.size} "
                             f"elements; a kernel of shape {shape[ax:]} needs {kernel_size}")
    if call.kernel is not None:
        mul = ("buffer", call.kernel.dtype.name, "same", True, count)
    else:
        mul = ("map", count)
    transform(call, shape, ax, 1, normalize, compute, graph, print_shader, input_signal_range,
              kernel_mul=mul, kernel_size=kernel_size)


def _kernel_args(kernel, kernel_map) -> tuple:
    if kernel_map is None:
        return (kernel,)
    return tuple(kernel) if isinstance(kernel, (tuple, list)) else (kernel,)


def convolve2D(buffer, kernel, kernel_map=None, buffer_shape: Optional[tuple] = None,
               graph=None, print_shader: bool = False, normalize: bool = True,
               transposed_kernel: bool = False, kernel_inner_only: bool = False,
               input_map=None, output_map=None, output_type=None, input_type=None,
               kernel_type=None, compute_type=None) -> None:
    """2-D convolution over the last two axes, in place: FFT along the last axis
    (reading through `input_map`, given the buffer), the fused convolve along the one
    before, inverse FFT along the last (writing through `output_map`)."""
    check_buffer(buffer)
    if len(buffer.shape) not in (2, 3):
        raise ValueError(f"convolve2D needs a buffer of 2 or 3 dimensions, got shape "
                         f"{buffer.shape}")
    im = map_arguments(input_map, buffer, "input_map")
    om = map_arguments(output_map, buffer, "output_map")
    fft(buffer, *im, graph=graph, print_shader=print_shader, input_map=input_map,
        output_type=output_type, input_type=input_type, compute_type=compute_type)
    convolve(buffer, *_kernel_args(kernel, kernel_map), kernel_map=kernel_map,
             buffer_shape=buffer_shape, graph=graph, print_shader=print_shader,
             axis=len(buffer.shape) - 2, normalize=normalize,
             transposed_kernel=transposed_kernel, kernel_inner_only=kernel_inner_only,
             kernel_type=kernel_type, compute_type=compute_type)
    ifft(*om, buffer, graph=graph, print_shader=print_shader, normalize=normalize,
         output_map=output_map, compute_type=compute_type)


def convolve2DR(buffer, kernel, kernel_map=None, buffer_shape: Optional[tuple] = None,
                transposed_kernel: bool = False, kernel_inner_only: bool = False,
                graph=None, print_shader: bool = False, normalize: bool = True,
                compute_type=None) -> None:
    """convolve2D of a real signal held in a vd.RFFTBuffer (kernel: the spectrum, an
    RFFTBuffer or buffer of its fourier shape): rfft, fused convolve, irfft."""
    _check(buffer, "convolve2DR")
    if len(buffer.real_shape) not in (2, 3):
        raise ValueError(f"convolve2DR needs a buffer of 2 or 3 dimensions, got real shape "
                         f"{buffer.real_shape}")
    rfft(buffer, graph, print_shader, compute_type=compute_type)
    convolve(buffer, *_kernel_args(kernel, kernel_map), kernel_map=kernel_map,
             buffer_shape=buffer_shape, graph=graph, print_shader=print_shader,
             axis=len(buffer.shape) - 2, normalize=normalize,
             transposed_kernel=transposed_kernel, kernel_inner_only=kernel_inner_only,
             compute_type=compute_type)
    irfft(buffer, graph, print_shader, normalize=normalize, compute_type=compute_type)
