"""The public transforms (vkdispatch 0.1's call shapes): fft/ifft along one axis,
fft2/ifft2 and fft3/ifft3 over the last two/three axes."""
from __future__ import annotations

import math
import weakref
from typing import Optional

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import get_context
from ..execution.command_graph import copy_buffer, global_graph
from ..execution.replay import capture
from . import bluestein
from .hooks import Hooks, _check_map
from .launch import capturing_now, printing, record_plan, scratch_roles
from .plan import SMOOTH_PRIMES, factor, is_smooth, make_plan

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


class Call:
    """The buffers of one call in vkdispatch 0.1's order: the output (or output_map's
    arguments), then the input (or input_map's arguments; default: the output, in
    place), then the kernel (or kernel_map's arguments)."""

    def __init__(self, buffers, hooks: Hooks, what: str, kernel: bool = False):
        args = list(buffers)
        self.hooks = hooks
        self.args = {}
        self.dst = self.src = self.kernel = None
        if not args:
            raise TypeError(f"{what} takes at least one buffer")
        if hooks.has("output_map"):
            self.args["output_map"] = self._take(args, hooks.count("output_map"), what)
        else:
            self.dst = check_buffer(self._take(args, 1, what)[0], "output buffer")
        kernel_args = (hooks.count("kernel_map") if hooks.has("kernel_map") else 1) \
            if kernel else 0
        if hooks.has("input_map"):
            self.args["input_map"] = self._take(args, hooks.count("input_map"), what)
        elif len(args) > kernel_args:
            self.src = check_buffer(args.pop(0), "input buffer")
            if self.dst is not None and self.dst.size != self.src.size:
                raise ValueError(f"{what}: the output buffer has {self.dst.size} elements "
                                 f"and the input {self.src.size}; they must match")
        elif self.dst is not None:
            self.src = self.dst
        else:
            raise TypeError(f"{what}: with output_map and no input_map, pass the input "
                            f"buffer after output_map's arguments")
        if kernel:
            if hooks.has("kernel_map"):
                self.args["kernel_map"] = self._take(args, kernel_args, what)
            else:
                self.kernel = check_buffer(self._take(args, 1, what)[0], "kernel buffer")
        if args:
            raise TypeError(f"{what} got {len(args)} argument(s) more than its output, "
                            f"input{', kernel' if kernel else ''} and maps take")
        self.first = buffers[0]

    @staticmethod
    def _take(args, count, what):
        if len(args) < count:
            raise TypeError(f"{what} is missing arguments (output, then input, then the "
                            f"maps' arguments, in vkdispatch 0.1's order)")
        out = args[:count]
        del args[:count]
        return out

    def shape(self, buffer_shape) -> tuple:
        if buffer_shape is None:
            if not isinstance(self.first, Buffer):
                raise TypeError("give buffer_shape= when the first argument is not a buffer")
            buffer_shape = self.first.shape
        ref = self.dst if self.dst is not None else self.src
        if ref is not None and not self.hooks:
            return check_shape(buffer_shape, ref.size)
        return check_shape(buffer_shape, math.prod(tuple(int(s) for s in buffer_shape)))

    def resources(self) -> tuple:
        buffers, uniforms = {}, {}
        for role, args in self.args.items():
            b, u = self.hooks.values(role, args)
            buffers.update(b)
            uniforms.update(u)
        return buffers, uniforms


def transform(call: Call, shape: tuple, axis: int, sign: int, normalize: bool, compute,
              graph=None, print_shader: bool = False, signal_range=None,
              kernel_mul=None, kernel_size: Optional[int] = None,
              scale: Optional[float] = None) -> None:
    """Record the transform of `call`'s input along `axis` of `shape` into its output
    (with `kernel_mul`: convolve, forward, multiply and inverse in one kernel; a kernel
    buffer repeats every `kernel_size` elements, default its size). `scale` multiplies
    the result on its final store (default: 1/length for a normalized inverse). A plain
    transform (no maps, kernel or signal range) recorded before on buffers of the same
    layout is recorded again from what it recorded then (execution.replay)."""
    ctx = get_context()
    src, dst = call.src, call.dst
    if (call.hooks or kernel_mul is not None or signal_range is not None or print_shader
            or capturing_now()):
        _transform(ctx, call, shape, axis, sign, normalize, compute, graph, print_shader,
                   signal_range, kernel_mul, kernel_size, scale)
        return
    key = (shape, axis, sign, normalize, compute, scale, src is dst,
           (src._base or src) is (dst._base or dst), src.dtype, src.offset, src.size,
           dst.dtype, dst.offset, dst.size)
    per_ctx = _replays.get(ctx)
    if per_ctx is None:
        per_ctx = _replays.setdefault(ctx, {})

    def plain(g, _allocate=None):
        _transform(ctx, call, shape, axis, sign, normalize, compute, g, False, None, None,
                   None, scale)
    replay = per_ctx.get(key)
    if replay is None:
        replay = capture(plain, (src, dst), None, *scratch_roles(ctx)) or False
        if len(per_ctx) >= _MAX_REPLAYS:
            per_ctx.clear()
        per_ctx[key] = replay
    if replay is False:   # not replayable (a copy, or views made of the buffers)
        plain(graph)
    else:
        replay.record(graph if graph is not None else global_graph(), (src, dst))


_replays: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # ctx -> key -> Replay
_MAX_REPLAYS = 256


def _transform(ctx, call: Call, shape: tuple, axis: int, sign: int, normalize: bool, compute,
               graph, print_shader: bool, signal_range, kernel_mul, kernel_size,
               scale) -> None:
    """transform's planning and recording."""
    src, dst, hooks = call.src, call.dst, call.hooks
    n = shape[axis]
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    if scale is None:
        scale = 1.0 / n if sign > 0 and normalize else 1.0
    if n == 1 and not hooks and kernel_mul is None:
        if src is not dst:
            copy_buffer(src, dst, graph=graph)
        return
    if not is_smooth(n):
        if hooks or kernel_mul is not None:
            raise ValueError(f"maps and convolve need a length of the form 2^a 3^b 5^c 7^d "
                             f"11^e 13^f; got {n}")
        bluestein.record(ctx, graph, src, dst, n, outer, inner, sign, scale, compute,
                         print_shader)
        return
    load = bluestein.signal_edge(signal_range, n)
    plan = make_plan(ctx.device, n, inner > 1, sign, scale,
                     src.dtype if src is not None else compute,
                     dst.dtype if dst is not None else compute, compute,
                     src is dst and src is not None, load=load, kernel_mul=kernel_mul)
    buffers, uniforms = call.resources()
    if call.kernel is not None:
        buffers["kernel"] = call.kernel
        uniforms["kernel_size"] = kernel_size or call.kernel.size
    with printing(print_shader):
        record_plan(ctx, graph, plan, src, dst, outer, inner, extra=buffers,
                    hooks=hooks if hooks else None, extra_uniforms=uniforms)


def fft(*buffers, buffer_shape: Optional[tuple] = None, graph=None, print_shader: bool = False,
        axis: Optional[int] = None, name: Optional[str] = None, inverse: bool = False,
        normalize_inverse: bool = True, r2c: bool = False, input_map=None, output_map=None,
        output_type=None, input_type=None, compute_type=None,
        input_signal_range=None) -> None:
    """Fourier transform along `axis` (default: the last): in place on one buffer, or
    from the second buffer into the first; `input_map` / `output_map` (vd.map
    functions using vd.fft.read_op() / write_op()) replace the loads / stores.
    `inverse=True` transforms back, divided by the length unless
    `normalize_inverse=False`. `input_signal_range=(start, stop)`: the input is zero
    outside [start, stop) along the axis (those loads are skipped).
    r2c=True (0.1's form of rfft / irfft): the one buffer is a vd.RFFTBuffer and
    buffer_shape its real_shape; the same as vd.fft.rfft (irfft with inverse=True)."""
    if r2c:
        if input_map is not None or output_map is not None:
            raise ValueError("fft(r2c=True) takes no input_map / output_map")
        if len(buffers) != 1:
            raise TypeError(f"fft(r2c=True) takes one vd.RFFTBuffer, got {len(buffers)} "
                            f"arguments")
        from .rfft import r2c as real_transform
        real_transform(buffers[0], inverse, normalize_inverse, buffer_shape, axis, graph,
                       print_shader, compute_type, input_signal_range)
        return
    call = Call(buffers, Hooks(input_map, output_map), "fft")
    shape = call.shape(buffer_shape)
    ax = check_axis(axis, len(shape))
    io = [t for t in (input_type, output_type) if t is not None]
    io += [b.dtype for b in (call.dst, call.src) if b is not None]
    compute = compute_type_of(compute_type, *io)
    transform(call, shape, ax, 1 if inverse else -1, normalize_inverse, compute, graph,
              print_shader, input_signal_range)


def ifft(*buffers, graph=None, print_shader: bool = False, axis: Optional[int] = None,
         name: Optional[str] = None, normalize: bool = True, input_map=None, output_map=None,
         output_type=None, input_type=None, compute_type=None, buffer_shape=None) -> None:
    """Inverse transform along `axis`, divided by the length unless normalize=False."""
    fft(*buffers, buffer_shape=buffer_shape, graph=graph, print_shader=print_shader, axis=axis,
        inverse=True, normalize_inverse=normalize, input_map=input_map, output_map=output_map,
        output_type=output_type, input_type=input_type, compute_type=compute_type)


def map_arguments(m, buffer, what: str) -> tuple:
    """The arguments vd.fft's 2-D/3-D helpers give map `m` (0.1's: the buffer itself,
    for a map of one parameter; none for a map of none)."""
    m = _check_map(m, what)
    if m is None or not m.buffer_types:
        return ()
    if len(m.buffer_types) != 1:
        raise TypeError(f"{what} of a 2-D/3-D helper takes no parameter or one (it is "
                        f"given the buffer itself), got {len(m.buffer_types)}; use "
                        f"vd.fft.fft along each axis to pass other arguments")
    return (buffer,)


def _nd(buffer, graph, print_shader, inverse, normalize, compute_type, axes, what,
        input_map=None, output_map=None, input_type=None, output_type=None):
    """The transform along each of `axes` in turn, in place; the first pass reads
    through `input_map`, the last writes through `output_map` (0.1's order)."""
    check_buffer(buffer)
    nd = len(buffer.shape)
    need = {2: (2, 3), 3: (3,)}[len(axes)]
    if nd not in need:
        raise ValueError(f"{what} needs a buffer of {' or '.join(map(str, need))} "
                         f"dimensions, got shape {buffer.shape}")
    im = map_arguments(input_map, buffer, "input_map")
    om = map_arguments(output_map, buffer, "output_map")
    last = len(axes) - 1
    for i, axis in enumerate(axes):
        imap = input_map if i == 0 else None
        omap = output_map if i == last else None
        args = (om if omap is not None else (buffer,)) + (im if imap is not None else ())
        if omap is not None and imap is None:
            args += (buffer,)
        fft(*args, buffer_shape=buffer.shape, graph=graph, print_shader=print_shader,
            axis=nd + axis, inverse=inverse, normalize_inverse=normalize, input_map=imap,
            output_map=omap, input_type=input_type, output_type=output_type,
            compute_type=compute_type)


def fft2(buffer: Buffer, graph=None, print_shader: bool = False, input_map=None,
         output_map=None, output_type=None, input_type=None, compute_type=None) -> None:
    """Transform over the last two axes, in place (`input_map` reads the first pass,
    `output_map` writes the last; each is given the buffer if it takes a parameter)."""
    _nd(buffer, graph, print_shader, False, True, compute_type, (-2, -1), "fft2",
        input_map, output_map, input_type, output_type)


def ifft2(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True,
          input_map=None, output_map=None, output_type=None, input_type=None,
          compute_type=None) -> None:
    _nd(buffer, graph, print_shader, True, normalize, compute_type, (-2, -1), "ifft2",
        input_map, output_map, input_type, output_type)


def fft3(buffer: Buffer, graph=None, print_shader: bool = False, input_map=None,
         output_map=None, output_type=None, input_type=None, compute_type=None) -> None:
    """Transform over all three axes, in place (maps as in fft2)."""
    _nd(buffer, graph, print_shader, False, True, compute_type, (-3, -2, -1), "fft3",
        input_map, output_map, input_type, output_type)


def ifft3(buffer: Buffer, graph=None, print_shader: bool = False, normalize: bool = True,
          input_map=None, output_map=None, output_type=None, input_type=None,
          compute_type=None) -> None:
    _nd(buffer, graph, print_shader, True, normalize, compute_type, (-3, -2, -1), "ifft3",
        input_map, output_map, input_type, output_type)


def pad_dim(dim: int, max_register_count: Optional[int] = None) -> int:
    """The smallest length >= `dim` whose prime factors are all at most
    min(max_register_count, 13) (default 13): a length vd.fft transforms with its
    Stockham stages, without Bluestein's padding (vkdispatch 0.1's pad_dim)."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
        raise ValueError(f"dim must be an int > 0, got {dim!r}")
    limit = SMOOTH_PRIMES[-1]
    if max_register_count is not None:
        if isinstance(max_register_count, bool) or not isinstance(max_register_count, int) \
                or max_register_count < 2:
            raise ValueError(f"max_register_count must be an int >= 2, got "
                             f"{max_register_count!r}")
        limit = min(limit, max_register_count)
    while any(p > limit for p in factor(dim)):
        dim += 1
    return dim
