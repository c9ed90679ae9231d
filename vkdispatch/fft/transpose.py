"""vkdispatch 0.1's pre-transposed convolution kernels: `get_transposed_size` and
`transpose`, whose result `convolve(..., transposed_kernel=True)` (and convolve2D /
convolve2DR) read.

0.1 reordered a kernel into the register order of its convolution shader, so that the
strided pass read it coalesced. vd.fft's fused convolution reads the kernel where the
output element it multiplies lives, which neighbouring invocations already read at
neighbouring addresses (row-major, coalesced on every axis), so the transposed layout
here is the plain one: `transpose` copies the kernel (converting its dtype if asked)
into a buffer of `get_transposed_size` elements. 0.1 code that transposes and then
convolves with transposed_kernel=True gets the same results as before."""
from __future__ import annotations

import functools
import math
from typing import Optional

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..codegen.functions.builtins import global_invocation_id
from ..codegen.types import Buff
from ..execution.command_graph import copy_buffer
from ..shader.decorator import shader
from .functions import check_axis, check_buffer, check_complex, compute_type_of


def _shape(shape, what="buffer_shape") -> tuple:
    try:
        shape = tuple(int(s) for s in (shape if hasattr(shape, "__iter__") else (shape,)))
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a tuple of ints, got {shape!r}") from None
    if not shape or any(s <= 0 for s in shape):
        raise ValueError(f"{what} must have positive entries, got {shape}")
    return shape


def get_transposed_size(buffer_shape, axis: Optional[int] = None,
                        compute_type=dt.complex64) -> int:
    """Elements of the buffer vd.fft.transpose writes for a convolution of
    `buffer_shape` along `axis` (here: every element of the shape)."""
    shape = _shape(buffer_shape)
    check_axis(axis, len(shape))
    check_complex(compute_type, "compute_type")
    return math.prod(shape)


@functools.lru_cache(maxsize=None)
def _convert(src_type: dt.DType, dst_type: dt.DType):
    def convert(dst, src):
        i = global_invocation_id().x
        dst[i] = src[i].cast(dst_type)

    convert.__name__ = f"vkd_fft_transpose_{src_type.name}_to_{dst_type.name}"
    return shader("dst.size", arg_type_annotations=[Buff[dst_type], Buff[src_type]])(convert)


def transpose(in_buffer: Buffer, conv_shape=None, axis: Optional[int] = None,
              out_buffer: Optional[Buffer] = None, graph=None, kernel_inner_only: bool = False,
              print_shader: bool = False, input_type=None, output_type=None,
              compute_type=None) -> Buffer:
    """The kernel `in_buffer` (laid out like the signal of shape `conv_shape`, default
    its own shape) in the layout convolve(..., transposed_kernel=True) reads along
    `axis`, written to `out_buffer` (a new buffer of get_transposed_size elements when
    not given), which is returned. kernel_inner_only=True: only the kernel of the axes
    from `axis` on (conv_shape[axis:]) is written. output_type converts
    (complex64 <-> complex128)."""
    check_buffer(in_buffer, "in_buffer")
    if input_type is not None and check_complex(input_type, "input_type") is not in_buffer.dtype:
        raise TypeError(f"input_type {dt.to_dtype(input_type).name} does not match "
                        f"in_buffer's dtype {in_buffer.dtype.name}")
    shape = _shape(in_buffer.shape if conv_shape is None else conv_shape, "conv_shape")
    ax = check_axis(axis, len(shape))
    out_type = in_buffer.dtype if output_type is None else check_complex(output_type,
                                                                          "output_type")
    if out_buffer is not None:
        check_buffer(out_buffer, "out_buffer")
        if output_type is not None and out_buffer.dtype is not out_type:
            raise TypeError(f"out_buffer's dtype {out_buffer.dtype.name} does not match "
                            f"output_type {out_type.name}")
        out_type = out_buffer.dtype
    compute_type_of(compute_type, in_buffer.dtype, out_type)   # checks the device
    need = math.prod(shape[ax:]) if kernel_inner_only else math.prod(shape)
    if in_buffer.size < need:
        raise ValueError(f"in_buffer has {in_buffer.size} elements; a kernel for "
                         f"{'the axes from ' + str(ax) + ' of ' if kernel_inner_only else ''}"
                         f"conv_shape {shape} needs {need}")
    if out_buffer is None:
        out_buffer = Buffer((get_transposed_size(shape, ax),), out_type,
                            context=in_buffer.context)
    if out_buffer.size < need:
        raise ValueError(f"out_buffer has {out_buffer.size} elements, fewer than the "
                         f"{need} of the transposed kernel (vd.fft.get_transposed_size)")
    src, dst = in_buffer.view(0, (need,)), out_buffer.view(0, (need,))
    if out_type is in_buffer.dtype:
        if print_shader:
            print(f"// vd.fft.transpose: a copy of {need} {out_type.name} elements (the "
                  f"transposed layout is the plain one; no kernel)")
        if out_buffer is not in_buffer:
            copy_buffer(src, dst, graph=graph)
    else:
        kernel = _convert(in_buffer.dtype, out_type)
        if print_shader:
            print(kernel)
        kernel(dst, src, graph=graph)
    return out_buffer
