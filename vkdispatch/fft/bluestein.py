"""Lengths with a prime factor above 13: Bluestein's chirp-z transform as one fused
kernel. X_k = c_k * sum_n (x_n c_n) conj(c)_(k-n) with c_n = exp(-pi i n^2 / N): the
input times the chirp, zero-padded to a power of two M >= 2N - 1, is transformed,
multiplied by the transform of the conjugate chirp (precomputed on the host, 1/M folded
in), transformed back and multiplied by the chirp, all in one workgroup's registers and
shared memory."""
from __future__ import annotations

import threading
import weakref

import numpy as np

from ..base.buffer import Buffer
from ..base.errors import DeviceLimitError
from .launch import record_plan, source
from .plan import kernel_shape, limits, make_plan
from .spec import Edge
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
    if kernel_shape(m, compute.itemsize, ctx.device, inner > 1) is None:
        raise DeviceLimitError(
            f"length {n} has a prime factor above 13 and needs a Bluestein transform of "
            f"{m} elements, more than one workgroup holds on {ctx.device.name} "
            f"({limits(ctx.device)[0]} bytes of shared memory); use a length of the form "
            f"2^a 3^b 5^c 7^d 11^e 13^f, or at most {_largest(ctx, compute, inner > 1)}")
    edge = Edge(limit=n, chirp=n)
    plan = make_plan(ctx.device, m, inner > 1, sign, scale, src.dtype, dst.dtype, compute,
                     src is dst, load=edge, store=edge,
                     kernel_mul=("buffer", compute.name, "shared", False))
    if print_shader:
        print(source(ctx, plan.steps[0].spec))
    record_plan(ctx, graph, plan, src, dst, outer, inner, length=n,
                extra={"kernel": kernel_spectrum(ctx, n, m, sign, compute)})


def _largest(ctx, compute, columns) -> int:
    m = 2
    while kernel_shape(m * 2, compute.itemsize, ctx.device, columns) is not None:
        m *= 2
    return m // 2
