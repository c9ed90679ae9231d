"""The public transforms (vkdispatch 0.1's call shapes): fft/ifft along one axis,
fft2/ifft2 and fft3/ifft3 over the last two/three axes."""
from __future__ import annotations

import math
from typing import Optional

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from . import bluestein
from .launch import record_plan, source
from .plan import is_smooth, make_plan

COMPLEX = (dt.complex64, dt.complex128)


def check_complex(t, what: str) -> dt.DType:
    t = dt.to_dtype(t)
    if t not in COMPLEX:
        raise TypeError(f"{what} must be complex64 or complex128, got {t.name}")
    return t


def check_buffer(buf, what: str = "buffer") -> Buffer:
    if not isinstance(buf, Buffer):
        raise TypeError(f"{what} must be a vd.Buffer, got {type(buf).__name__}")
    check_complex(buf.dtype, f"{what}'s dtype")
    return buf


def check_axis(axis, ndim: int, what: str = "axis") -> int:
    if axis is None:
        return ndim - 1
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"{what} must be an int in [{-ndim}, {ndim}) for a "
                         f"{ndim}-D buffer, got {axis!r}")
    return axis % ndim


def compute_type_of(compute_type, *io) -> dt.DType:
    """The register type: `compute_type` when given, else the widest I/O type."""
    ctx = get_context()
    if compute_type is None:
        t = dt.complex128 if dt.complex128 in io else dt.complex64
    else:
        t = check_complex(compute_type, "compute_type")
    if t is dt.complex128 and not ctx.device.float64:
        raise TypeError(f"complex128 needs float64, which {ctx.device.name} lacks; use "
                        f"complex64")
    return t


def check_shape(shape, size: int) -> tuple:
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) != size or any(s <= 0 for s in shape):
        raise ValueError(f"buffer_shape {shape} must have positive entries and the "
                         f"buffer's {size} elements")
    return shape


def transform(src: Buffer, dst: Buffer, shape: tuple, axis: int, sign: int, normalize: bool,
              compute, graph=None, print_shader: bool = False, signal_range=None) -> None:
    """Record the transform of `src` along `axis` of `shape` into `dst`."""
    ctx = get_context()
    n = shape[axis]
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    scale = 1.0 / n if sign > 0 and normalize else 1.0
    if n == 1:
        if src is not dst:
            from ..execution.command_graph import copy_buffer
            copy_buffer(src, dst, graph=graph) if graph is not None else copy_buffer(src, dst)
        return
    if not is_smooth(n):
        bluestein.record(ctx, graph, src, dst, n, outer, inner, sign, scale, compute,
                         print_shader)
        return
    load = bluestein.signal_edge(signal_range, n)
    plan = make_plan(ctx.device, n, inner > 1, sign, scale, src.dtype, dst.dtype, compute,
                     src is dst, load=load)
    if print_shader:
        for step in plan.steps:
            print(source(ctx, step.spec))
    record_plan(ctx, graph, plan, src, dst, outer, inner)


def _buffers(buffers, what: str):
    """(dst, src) of a call with one buffer (in place) or two (output, then input)."""
    if len(buffers) == 1:
        return check_buffer(buffers[0], "buffer"), buffers[0]
    if len(buffers) == 2:
        dst, src = check_buffer(buffers[0], "output buffer"), check_buffer(buffers[1], "input buffer")
        if dst.size != src.size:
            raise ValueError(f"{what}: the output buffer has {dst.size} elements and the "
                             f"input {src.size}; they must match")
        return dst, src
    raise TypeError(f"{what} takes one buffer (in place) or two (output, input), got "
                    f"{len(buffers)}")


def fft(*buffers: Buffer, buffer_shape: Optional[tuple] = None, graph=None,
        print_shader: bool = False, axis: Optional[int] = None, name: Optional[str] = None,
        inverse: bool = False, normalize_inverse: bool = True, compute_type=None,
        input_signal_range=None) -> None:
    """Fourier transform along `axis` (default: the last), in place on one buffer or
    from the second buffer into the first. `inverse=True` transforms back, divided by
    the length unless `normalize_inverse=False`. `input_signal_range=(start, stop)`
    says the input is zero outside [start, stop) along the axis (those loads are
    skipped)."""
    dst, src = _buffers(buffers, "fft")
    shape = check_shape(buffer_shape if buffer_shape is not None else dst.shape, dst.size)
    ax = check_axis(axis, len(shape))
    compute = compute_type_of(compute_type, dst.dtype, src.dtype)
    transform(src, dst, shape, ax, 1 if inverse else -1, normalize_inverse, compute, graph,
              print_shader, input_signal_range)


def ifft(*buffers: Buffer, graph=None, print_shader: bool = False, axis: Optional[int] = None,
         name: Optional[str] = None, normalize: bool = True, buffer_shape=None,
         compute_type=None) -> None:
    """Inverse transform along `axis`, divided by the length unless normalize=False."""
    fft(*buffers, buffer_shape=buffer_shape, graph=graph, print_shader=print_shader, axis=axis,
        inverse=True, normalize_inverse=normalize, compute_type=compute_type)


def _nd(buffer, graph, print_shader, inverse, normalize, compute_type, axes, what):
    check_buffer(buffer)
    nd = len(buffer.shape)
    need = {2: (2, 3), 3: (3,)}[len(axes)]
    if nd not in need:
        raise ValueError(f"{what} needs a buffer of {' or '.join(map(str, need))} "
                         f"dimensions, got shape {buffer.shape}")
    for axis in axes:
        fft(buffer, graph=graph, print_shader=print_shader, axis=nd + axis, inverse=inverse,
            normalize_inverse=normalize, compute_type=compute_type)


def fft2(buffer: Buffer, graph=None, print_shader: bool = False, compute_type=None) -> None:
    """Transform over the last two axes, in place."""
    _nd(buffer, graph, print_shader, False, True, compute_type, (-2, -1), "fft2")


def ifft2(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True,
          compute_type=None) -> None:
    _nd(buffer, graph, print_shader, True, normalize, compute_type, (-2, -1), "ifft2")


def fft3(buffer: Buffer, graph=None, print_shader: bool = False, compute_type=None) -> None:
    """Transform over all three axes, in place."""
    _nd(buffer, graph, print_shader, False, True, compute_type, (-3, -2, -1), "fft3")


def ifft3(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True,
          compute_type=None) -> None:
    _nd(buffer, graph, print_shader, True, normalize, compute_type, (-3, -2, -1), "ifft3")
