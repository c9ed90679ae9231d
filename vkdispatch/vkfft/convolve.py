"""2-D convolution through VkFFT: FFT, multiply by a kernel's spectrum, inverse FFT.

0.1's VkFFT did the multiply inside its own kernels, on a kernel laid out by
`transpose_kernel2D`; pyvkfft does not expose that, so here the multiply is a
vkdispatch shader between two VkFFT transforms (all on the same queue, in order),
and `transpose_kernel2D` leaves the kernel's plain 2-D spectrum."""
import math

import vkdispatch.codegen as vc

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..codegen.abbreviations import Buff, Const, u32
from ..shader.decorator import shader
from . import _native
from . import transforms as tr

_shaders: dict = {}


def _multiply_shader(ctype: dt.DType, conjugate: bool):
    """buf[i] *= kernel[i % kernel_size] (conjugated when asked): one kernel spectrum
    per 2-D slab, broadcast over the leading axes it does not have."""
    key = ("multiply", ctype, conjugate)
    if key not in _shaders:
        @shader(exec_size=lambda args: args.buf.size)
        def multiply(buf: Buff[ctype], kernel: Buff[ctype], kernel_size: Const[u32]):
            i = vc.global_invocation_id().x
            k = kernel[i % kernel_size]
            buf[i] = vc.mult_complex(buf[i], vc.conj(k) if conjugate else k)
        _shaders[key] = multiply
    return _shaders[key]


def _zero_shader(ctype: dt.DType):
    """Zero the elements whose row is in [row_lo, row_hi) or column in [col_lo, col_hi)
    of each (rows, cols) slab: what VkFFT's zero padding takes as zero."""
    key = ("zero", ctype)
    if key not in _shaders:
        @shader(exec_size=lambda args: args.buf.size)
        def zero_padding(buf: Buff[ctype], rows: Const[u32], cols: Const[u32],
                         row_lo: Const[u32], row_hi: Const[u32], col_lo: Const[u32],
                         col_hi: Const[u32]):
            i = vc.global_invocation_id().x
            col = i % cols
            row = (i / cols) % rows
            inside = ((row >= row_lo) & (row < row_hi)) | ((col >= col_lo) & (col < col_hi))
            with vc.if_block(inside):
                buf[i] = vc.make_complex(0.0, 0.0) if ctype is dt.complex64 else \
                    vc.make_complex(vc.new_double(0.0), vc.new_double(0.0))
        _shaders[key] = zero_padding
    return _shaders[key]


def _check_padding(padding, shape2: tuple) -> tuple:
    """0.1's padding: up to two (left, right) pairs for the last two axes; the elements
    with an index in [left, right) along that axis are taken as zero."""
    if isinstance(padding, (str, bytes)):
        raise TypeError(f"padding must be up to two (left, right) pairs, got {padding!r}")
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except (TypeError, ValueError):
        raise TypeError(f"padding must be up to two (left, right) pairs of ints, "
                        f"got {padding!r}") from None
    if not 1 <= len(pairs) <= 2 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"padding must be one or two (left, right) pairs (rows, then "
                         f"columns), got {padding!r}")
    out = []
    for (lo, hi), n in zip(pairs + [(0, 0)] * (2 - len(pairs)), shape2):
        if not 0 <= lo <= hi <= n:
            raise ValueError(f"padding range ({lo}, {hi}) must satisfy 0 <= left <= right "
                             f"<= {n} (the axis length)")
        out.append((lo, hi))
    return tuple(out)


def _planes(buffer: Buffer, name: str) -> tuple:
    tr.check_buffer(buffer, name)
    tr.check_complex(buffer, name)
    if len(buffer.shape) < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (the last two are "
                         f"transformed), got shape {buffer.shape}")
    return buffer.shape[-2:]


def transpose_kernel2D(kernel: Buffer, shape=None, graph=None,
                       keep_shader_code: bool = False) -> None:
    """Prepare `kernel` for convolve2D: its 2-D FFT over the last two axes, in place.
    `shape`: the kernel's shape if not the buffer's ((batch,) rows, cols)."""
    tr.check_buffer(kernel, "kernel")
    _native.api_for(kernel.context)
    if shape is not None:
        shape = tr.check_shape(shape, "shape")
        if len(shape) not in (2, 3):
            raise ValueError(f"shape must be (rows, cols) or (batch, rows, cols), got {shape}")
        kernel = kernel.reshape(shape)
    _planes(kernel, "kernel")
    tr.fft(kernel, graph=graph, print_shader=keep_shader_code, axis=(-2, -1))


def convolve2D(buffer: Buffer, kernel: Buffer, normalize: bool = False,
               conjugate_kernel: bool = False, graph=None, keep_shader_code: bool = False,
               padding=None) -> None:
    """Circular 2-D convolution of `buffer` (over its last two axes, leading axes
    batched) with a kernel prepared by transpose_kernel2D, in place: the inverse FFT
    of fft2(buffer) * kernel (conjugated: correlation), divided by rows * cols when
    `normalize`. `kernel` has the shape of one slab (rows, cols), broadcast over the
    batch, or of the trailing axes of `buffer` (one kernel per slab). `padding`: up to
    two (left, right) pairs, for rows then columns: those elements are taken as zero
    (they are zeroed first, as 0.1's VkFFT zero padding skipped reading them).
    `graph`: where the work before it is recorded (None: the global graph)."""
    tr.check_buffer(buffer, "buffer")
    _native.api_for(buffer.context)
    graph = tr.check_graph(graph)
    rows, cols = _planes(buffer, "buffer")
    _planes(kernel, "kernel")
    if kernel.dtype is not buffer.dtype:
        raise TypeError(f"kernel must be {buffer.dtype.name} like buffer, got "
                        f"{kernel.dtype.name}")
    trailing = buffer.shape[len(buffer.shape) - len(kernel.shape):]
    if len(kernel.shape) > len(buffer.shape) or kernel.shape != trailing:
        raise ValueError(f"kernel shape {kernel.shape} must be (rows, cols) = {(rows, cols)} "
                         f"or trailing axes of buffer's shape {buffer.shape}")
    if kernel.context is not buffer.context:
        raise ValueError("kernel and buffer belong to different contexts")
    if padding is not None:
        (r0, r1), (c0, c1) = _check_padding(padding, (rows, cols))
        _zero_shader(buffer.dtype)(buffer, rows, cols, r0, r1, c0, c1, graph=graph)
    axes = (len(buffer.shape) - 2, len(buffer.shape) - 1)
    tr.fft(buffer, graph=graph, print_shader=keep_shader_code, axis=axes)
    _multiply_shader(buffer.dtype, bool(conjugate_kernel))(buffer, kernel,
                                                           math.prod(kernel.shape), graph=graph)
    tr.ifft(buffer, graph=graph, print_shader=keep_shader_code, axis=axes,
            normalize=bool(normalize))
