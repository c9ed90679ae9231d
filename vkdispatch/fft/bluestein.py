"""Lengths with a prime factor above 13: Bluestein's chirp-z transform. X_k = c_k *
sum_n (x_n c_n) conj(c)_(k-n) with c_n = exp(-pi i n^2 / N): the input times the chirp,
zero-padded to a power of two M >= 2N - 1, is transformed, multiplied by the transform
of the conjugate chirp (precomputed on the host, 1/M folded in), transformed back and
multiplied by the chirp: all in one workgroup's registers and shared memory, or past
one workgroup in four passes (two four-step transforms with those steps fused into
their first loads and last stores)."""
from __future__ import annotations

import threading
import weakref

import numpy as np

from ..base.buffer import Buffer
from .launch import capturing_now, printing, record_plan, record_step, scratch
from .plan import UINT32_LIMIT, _split, kernel_shape, make_plan, padded
from .spec import Edge, Layout, PassSpec
from .tables import chirp_values

_kernels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def padded_length(n: int) -> int:
    return 1 << (2 * n - 2).bit_length()


def signal_edge(signal_range, n: int) -> Edge:
    """The load edge of input_signal_range=(start, stop) (None entries: the ends)."""
    if signal_range is None:
        return Edge()
    try:
        start, stop = signal_range
    except (TypeError, ValueError):
        raise ValueError(f"input_signal_range must be a (start, stop) pair, got "
                         f"{signal_range!r}") from None
    start = 0 if start is None else start
    stop = n if stop is None else stop
    if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= n):
        raise ValueError(f"input_signal_range must satisfy 0 <= start < stop <= {n} (the "
                         f"axis length), got {signal_range!r}")
    return Edge(limit=stop if stop < n else 0, start=start)


def kernel_spectrum(ctx, n: int, m: int, sign: int, compute) -> Buffer:
    """FFT_M of the wrapped conjugate chirp, divided by M, on the device (cached)."""
    key = (n, m, sign, compute)
    with _lock:
        per_ctx = _kernels.setdefault(ctx, {})
        buf = per_ctx.get(key)
    if buf is None:
        c = chirp_values(n, n)
        if sign > 0:
            c = np.conj(c)
        b = np.zeros(m, np.complex128)
        b[:n] = np.conj(c)
        b[m - n + 1:] = np.conj(c[1:])[::-1]
        data = (np.fft.fft(b) / m).astype(compute.numpy_dtype)
        buf = Buffer((m,), compute, context=ctx)
        buf.write(data)
        with _lock:
            buf = per_ctx.setdefault(key, buf)
    return buf


def record(ctx, graph, src, dst, n, outer, inner, sign, scale, compute, print_shader) -> None:
    m = padded_length(n)
    chirp = n if sign < 0 else -n
    columns = inner > 1
    spectrum = {"kernel": kernel_spectrum(ctx, n, m, sign, compute)}
    if kernel_shape(m, compute.itemsize, ctx.device, columns) is not None:
        edge = Edge(limit=n, chirp=chirp)
        plan = make_plan(ctx.device, m, columns, sign, scale, src.dtype, dst.dtype, compute,
                         src is dst, load=edge, store=edge,
                         kernel_mul=("buffer", compute.name, "shared", False, 1))
        with printing(print_shader):
            record_plan(ctx, graph, plan, src, dst, outer, inner, length=n, extra=spectrum)
        return
    with printing(print_shader):
        _four_passes(ctx, graph, src, dst, n, m, outer, inner, chirp, scale, compute,
                     spectrum)


def _four_passes(ctx, graph, src, dst, n, m, outer, inner, chirp, scale, compute,
                 spectrum) -> None:
    """A padded length past one workgroup: forward and inverse four-step transforms of
    M, the chirp and zero padding on the first load, the spectrum's multiply on the
    inverse's first load, the crop and chirp on the last store."""
    size, columns, c = compute.itemsize, inner > 1, compute
    m1, m2 = _split(m, size, ctx.device, columns)
    r1, t1, b1 = kernel_shape(m1, size, ctx.device, True)
    r2, t2, b2 = kernel_shape(m2, size, ctx.device, columns)
    split = 1 << max(1, (m.bit_length() + 1) // 2)

    def first(sign, io_in, load):
        return PassSpec(m1, r1, t1, b1, True, sign, 1.0, io_in, c, c, False, twiddle=m,
                        split=split, load=load)

    def second(sign, io_out, s, store=Edge(), outer_split=0):
        return PassSpec(m2, r2, t2, b2, columns, sign, s, c, io_out, c, False, store=store,
                        outer_split=outer_split, pad=padded(m2, size, ctx.device, columns))

    specs = (first(-1, src.dtype, Edge(limit=n, chirp=chirp)), second(-1, c, 1.0),
             first(1, c, Edge(kernel=True)),
             second(1, dst.dtype, scale, Edge(limit=n, chirp=chirp), m1))
    s = inner
    total = outer * m * s
    if total > UINT32_LIMIT:
        raise ValueError(f"vd.fft addresses up to {UINT32_LIMIT} elements with 32-bit "
                         f"indices; the padded transform needs {total}")
    capture = capturing_now()
    a = scratch(ctx, c, total, 0) if not capture else src
    b = scratch(ctx, c, total, 1) if not capture else src
    cols = Layout(1, m * s, 0, m2 * s)
    rows_in = Layout(m1, m * s, m2 * s, s)
    record_step(ctx, graph, specs[0], src, a, outer, m2 * s, s,
                Layout(1, n * s, 0, m2 * s), cols)
    record_step(ctx, graph, specs[1], a, b, outer * m1, s, s, rows_in,
                Layout(m1, m * s, s, m1 * s))
    record_step(ctx, graph, specs[2], b, a, outer, m2 * s, s, cols, cols, extra=spectrum)
    record_step(ctx, graph, specs[3], a, dst, outer * m1, s, s, rows_in,
                Layout(m1, n * s, s, m1 * s))
