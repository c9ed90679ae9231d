"""fft/ifft/rfft/irfft (1-3 D) on vkdispatch buffers through VkFFT, 0.1's call shapes.

Transforms run at the call, on every queue of the buffer's context, after the work
recorded before them (pending command graphs are submitted first) and before the work
recorded after (VkFFT launches on the queue's own stream / in-order queue)."""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer, flush_pending
from ..base.errors import UnsupportedFeatureError
from ..execution.command_graph import CommandGraph, copy_buffer, global_graph
from . import _native
from .plans import PlanKey, plan_cache

_REAL_OF = {dt.complex64: dt.float32, dt.complex128: dt.float64}


@dataclass(frozen=True)
class Transform:
    """One VkFFT call, checked: what to run on which buffers."""

    src: Buffer              # read
    dst: Buffer              # written (src itself in place)
    shape: tuple             # the array VkFFT is told about (see PlanKey)
    dtype: dt.DType          # its element type
    axes: tuple
    r2c: bool
    r2c_odd: bool
    inverse: bool
    normalize: bool
    print_shader: bool

    @property
    def inplace(self) -> bool:
        return self.src is self.dst


def check_buffer(buffer, name: str) -> Buffer:
    if not isinstance(buffer, Buffer):
        raise TypeError(f"{name} must be a vd.Buffer, got {type(buffer).__name__}")
    buffer._check_alive()
    return buffer


def check_complex(buffer: Buffer, name: str) -> None:
    if buffer.dtype not in _REAL_OF:
        raise TypeError(f"{name} must hold complex64 or complex128 values for VkFFT, got a "
                        f"{buffer.dtype.name} buffer")


def check_graph(graph) -> CommandGraph:
    """The graph the caller's work before the transform is recorded in: `graph`, else this
    thread's global graph. VkFFT launches at the call, after that graph's records; a graph
    that keeps its records to replay them cannot hold a VkFFT launch."""
    g = global_graph() if graph is None else graph
    if not isinstance(g, CommandGraph):
        raise TypeError(f"graph must be a vd.CommandGraph or None, got {type(g).__name__}")
    if not g.reset_on_submit:
        raise ValueError(
            "graph must be None or a graph that runs its records once "
            "(CommandGraph(reset_on_submit=True)); VkFFT runs its own kernels at the call "
            "and cannot be recorded into a graph that keeps its records to replay (one "
            "passed as graph= or set with vd.set_global_graph). vd.fft records into graphs")
    return g


def normalize_axes(axis, ndim: int, name: str = "axis") -> tuple:
    """`axis` (None: the last; an int or a sequence of ints, negative from the end) as
    sorted distinct non-negative axes of an `ndim`-D buffer."""
    if ndim == 0:
        raise ValueError(f"{name}: a 0-D buffer has no axis to transform")
    if axis is None:
        return (ndim - 1,)
    items = [axis] if isinstance(axis, (int, np.integer)) else axis
    try:
        items = list(items)
    except TypeError:
        items = None
    if items is None or any(isinstance(a, (bool, np.bool_)) or
                            not isinstance(a, (int, np.integer)) for a in items):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {axis!r}")
    out = []
    for a in map(int, items):
        if not -ndim <= a < ndim:
            raise ValueError(f"{name} {a} is out of range for a {ndim}-D buffer; valid: "
                             f"{-ndim} to {ndim - 1}")
        out.append(a % ndim)
    if len(set(out)) != len(out) or not out:
        raise ValueError(f"{name} must name distinct axes (at least one), got {axis!r}")
    return tuple(sorted(out))


def check_shape(given, name: str) -> tuple:
    try:
        shape = tuple(operator.index(s) for s in given)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {given!r}") from None
    if not shape or any(s < 0 for s in shape):
        raise ValueError(f"{name} must be a non-empty tuple of non-negative ints, got {given!r}")
    return shape


def complex_transform(buffer, input_buffer, buffer_shape, axis, inverse, normalize,
                      print_shader) -> Transform:
    """A complex-to-complex transform of `input_buffer` (None: `buffer`, in place) into
    `buffer`, both seen with `buffer_shape` (default: the buffer's shape)."""
    check_complex(buffer, "buffer")
    shape = buffer.shape if buffer_shape is None else check_shape(buffer_shape, "buffer_shape")
    if math.prod(shape) != buffer.size:
        raise ValueError(f"buffer_shape {shape} has {math.prod(shape)} elements; the buffer "
                         f"has {buffer.size}")
    src = buffer
    if input_buffer is not None:
        src = check_buffer(input_buffer, "input_buffer")
        if src.dtype is not buffer.dtype or src.size != buffer.size:
            raise ValueError(f"input_buffer must match buffer's dtype and size "
                             f"({buffer.dtype.name}, {buffer.size} elements), got "
                             f"{src.dtype.name} with {src.size}")
    return Transform(src, buffer, shape, buffer.dtype, normalize_axes(axis, len(shape)),
                     False, False, inverse, normalize, print_shader)


def _default_real_shape(buffer: Buffer) -> tuple:
    """An rfft buffer's real shape: its `real_shape` (vd.RFFTBuffer), else an even real
    length: (..., 2 * (n - 1)) for a complex last axis of n."""
    real = getattr(buffer, "real_shape", None)
    if real is not None:
        return tuple(real)
    return buffer.shape[:-1] + (2 * (buffer.shape[-1] - 1),)


def real_transform(buffer, input_buffer, buffer_shape, axis, inverse, normalize,
                   print_shader) -> Transform:
    """A real<->complex transform. In place, `buffer` is complex (..., n // 2 + 1) and
    holds the real data of shape `buffer_shape` (..., n) with rows padded to
    2 * (n // 2 + 1) reals (VkFFT's and 0.1's RFFTBuffer layout). Out of place, the
    real side is its own buffer of shape (..., n): `input_buffer` for rfft, `buffer`
    for irfft; the other side is complex (..., n // 2 + 1)."""
    if input_buffer is None:
        check_complex(buffer, "buffer")
        normalize_axes(None, len(buffer.shape), "buffer")   # raises for a 0-D buffer
        real = (_default_real_shape(buffer) if buffer_shape is None
                else check_shape(buffer_shape, "buffer_shape"))
        half = buffer.shape
        src = dst = buffer
        rdtype = _REAL_OF[buffer.dtype]
    else:
        src = check_buffer(input_buffer, "input_buffer")
        cplx, rbuf = (src, buffer) if inverse else (buffer, src)
        cname, rname = ("input_buffer", "buffer") if inverse else ("buffer", "input_buffer")
        check_complex(cplx, cname)
        rdtype = _REAL_OF[cplx.dtype]
        if rbuf.dtype is not rdtype:
            raise TypeError(f"{rname} must be a {rdtype.name} buffer (the real side of a "
                            f"{cplx.dtype.name} transform), got {rbuf.dtype.name}")
        real = rbuf.shape if buffer_shape is None else check_shape(buffer_shape, "buffer_shape")
        normalize_axes(None, len(real), rname)              # raises for a 0-D buffer
        if math.prod(real) != rbuf.size:
            raise ValueError(f"buffer_shape {real} does not fit {rname}'s {rbuf.size} elements")
        half = cplx.shape
        dst = buffer
    want = real[:-1] + (real[-1] // 2 + 1,)
    if tuple(half) != want:
        raise ValueError(f"a real shape of {real} needs a complex side of shape {want} "
                         f"(n // 2 + 1 along the last axis), got {tuple(half)}")
    axes = normalize_axes(axis, len(real))
    if len(real) - 1 not in axes:
        raise ValueError(f"axis must include the last axis for rfft/irfft (VkFFT transforms "
                         f"real data along it), got axes {axes}")
    if all(real[a] == 1 for a in axes):
        raise UnsupportedFeatureError(f"VkFFT needs a transformed axis longer than 1; every "
                                      f"axis {axes} of the real shape {real} has length 1")
    shape = real if input_buffer is not None else real[:-1] + (2 * want[-1],)
    odd = input_buffer is None and real[-1] % 2 == 1   # VkFFT's in-place padding of n + 1
    return Transform(src, dst, shape, rdtype, axes, True, odd, inverse, normalize,
                     print_shader)


def run(t: Transform, graph: CommandGraph) -> None:
    """Run `t` on every queue of the buffers' context, after the work recorded so far
    (in `graph`, from check_graph, and in every thread's global graph)."""
    context = t.dst.context
    api = _native.api_for(context)
    if t.src.context is not context:
        raise ValueError("input_buffer and buffer belong to different contexts")
    if t.dst.size == 0:
        return
    if not t.r2c and all(t.shape[a] == 1 for a in t.axes):
        if not t.inplace:   # a length-1 transform is the identity (VkFFT refuses it)
            copy_buffer(t.src, t.dst, graph=graph)
        return
    module = _native.load(api)
    np_dtype = dt.storage_numpy_dtype(t.dtype)
    cache = plan_cache(context)
    rctx = context.runtime_context
    flush_pending()
    if len(graph):        # a graph of the caller's, which host accesses do not submit
        graph.submit()
    for queue in range(context.queue_count):
        with rctx.native_queue(queue) as native_queue:
            key = PlanKey(queue, api.queue_key(native_queue), t.shape, np_dtype.name, t.axes,
                          t.r2c, t.r2c_odd, t.inplace, t.normalize or not t.inverse,
                          t.print_shader)
            plan = cache.get(key, api, module, native_queue,
                             may_build=not rctx.queue_capturing(queue))
            src = _operand(rctx, t.src, queue, t.shape, np_dtype, t, is_src=True)
            dst = None if t.inplace else _operand(rctx, t.dst, queue, t.shape, np_dtype, t,
                                                  is_src=False)
            plan.run(src, dst, native_queue, t.inverse)


def _operand(rctx, buffer: Buffer, queue: int, shape: tuple, np_dtype, t: Transform,
             is_src: bool) -> _native.Operand:
    """`buffer` as pyvkfft sees it: out-of-place r2c has a complex side of
    (..., n // 2 + 1); every other operand has the transform's shape and dtype."""
    complex_side = t.r2c and not t.inplace and is_src == t.inverse
    if complex_side:
        shape = shape[:-1] + (shape[-1] // 2 + 1,)
        np_dtype = dt.storage_numpy_dtype(buffer.dtype)
    return _native.Operand(rctx.native_memory(buffer.handle(queue)), shape, np_dtype)


# ----------------------------------------------------------------------------- 0.1's API

def fft(buffer: Buffer, input_buffer: Optional[Buffer] = None, buffer_shape=None, graph=None,
        print_shader: bool = False, axis=None, inverse: bool = False,
        normalize_inverse: bool = True, r2c: bool = False) -> None:
    """FFT of `buffer` in place along `axis` (default the last; an int or a sequence of
    axes; the other axes are batched). With `input_buffer`, read it and write
    `buffer` (out of place). `inverse` runs the inverse transform, divided by the size
    when `normalize_inverse` (numpy.fft.ifft's convention). `r2c`: a real transform
    (see rfft/irfft), `buffer_shape` the real data's shape. `print_shader`: VkFFT prints
    its kernels when it builds the plan. `graph`: where the work before it is recorded
    (None: the global graph); VkFFT runs at the call, after that work."""
    check_buffer(buffer, "buffer")
    _native.api_for(buffer.context)
    graph = check_graph(graph)
    make = real_transform if r2c else complex_transform
    run(make(buffer, input_buffer, buffer_shape, axis, bool(inverse), bool(normalize_inverse),
             bool(print_shader)), graph)


def ifft(buffer: Buffer, graph=None, print_shader: bool = False, axis=None,
         normalize: bool = True, input_buffer: Optional[Buffer] = None) -> None:
    """Inverse FFT along `axis` (default the last), divided by the transform's size unless
    `normalize` is False."""
    fft(buffer, input_buffer=input_buffer, graph=graph, print_shader=print_shader, axis=axis,
        inverse=True, normalize_inverse=normalize)


def _last_axes(buffer: Buffer, n: int, name: str) -> tuple:
    check_buffer(buffer, "buffer")
    ndim = len(getattr(buffer, "real_shape", None) or buffer.shape)
    if ndim < n:
        raise ValueError(f"{name} needs a buffer of at least {n} dimensions, got shape "
                         f"{buffer.shape}")
    return tuple(range(ndim - n, ndim))


def fft2(buffer: Buffer, graph=None, print_shader: bool = False) -> None:
    """2-D FFT over the last two axes (leading axes batched)."""
    fft(buffer, graph=graph, print_shader=print_shader, axis=_last_axes(buffer, 2, "fft2"))


def fft3(buffer: Buffer, graph=None, print_shader: bool = False) -> None:
    """3-D FFT over the last three axes (leading axes batched)."""
    fft(buffer, graph=graph, print_shader=print_shader, axis=_last_axes(buffer, 3, "fft3"))


def ifft2(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True) -> None:
    ifft(buffer, graph=graph, print_shader=print_shader, normalize=normalize,
         axis=_last_axes(buffer, 2, "ifft2"))


def ifft3(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True) -> None:
    ifft(buffer, graph=graph, print_shader=print_shader, normalize=normalize,
         axis=_last_axes(buffer, 3, "ifft3"))


def rfft(buffer: Buffer, graph=None, print_shader: bool = False, axis=None,
         input_buffer: Optional[Buffer] = None) -> None:
    """Real-to-complex FFT. In place, `buffer` is complex of shape (..., n // 2 + 1)
    holding real data of shape `buffer.real_shape` (a vd.RFFTBuffer; a plain buffer is
    taken as an even n = 2 * (last - 1)), rows padded to 2 * (n // 2 + 1) reals. Out of
    place, `input_buffer` is the real (..., n) buffer. `axis` must include the last."""
    fft(buffer, input_buffer=input_buffer, graph=graph, print_shader=print_shader, axis=axis,
        r2c=True)


def irfft(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True,
          axis=None, input_buffer: Optional[Buffer] = None) -> None:
    """Complex-to-real inverse of rfft (same layouts; out of place, `input_buffer` is the
    complex side and `buffer` the real one). VkFFT may overwrite a complex input of a
    multi-dimensional transform."""
    fft(buffer, input_buffer=input_buffer, graph=graph, print_shader=print_shader, axis=axis,
        inverse=True, normalize_inverse=normalize, r2c=True)


def rfft2(buffer: Buffer, graph=None, print_shader: bool = False) -> None:
    rfft(buffer, graph=graph, print_shader=print_shader, axis=_last_axes(buffer, 2, "rfft2"))


def rfft3(buffer: Buffer, graph=None, print_shader: bool = False) -> None:
    rfft(buffer, graph=graph, print_shader=print_shader, axis=_last_axes(buffer, 3, "rfft3"))


def irfft2(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True) -> None:
    irfft(buffer, graph=graph, print_shader=print_shader, normalize=normalize,
          axis=_last_axes(buffer, 2, "irfft2"))


def irfft3(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True) -> None:
    irfft(buffer, graph=graph, print_shader=print_shader, normalize=normalize,
          axis=_last_axes(buffer, 3, "irfft3"))
