"""Packed real transforms (realpack.py's formulas) of any layout: along the middle axis
of (outer, length, inner) arrays, the real side either an RFFTBuffer's complex rows or
an array of reals (`pairs`). One kernel where the half-length transform fits a
workgroup; past that a four-step plan through scratch memory and a separate untangling
kernel that reads the half-spectrum Z from scratch, so it never overwrites a value
another invocation still needs."""
# no `from __future__ import annotations`: the kernels' annotations name a closure's dtype
import functools
import threading
import weakref

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..codegen.functions.builtins import global_invocation_id
from ..codegen.functions.complex import conj, make_complex
from ..codegen.functions.math import select
from ..codegen.types import Buff, Const
from ..shader.decorator import shader
from .launch import record_step, scratch
from .plan import UINT32_LIMIT, kernel_shape, make_plan
from .registers import times_i
from .spec import Edge, Layout


@functools.lru_cache(maxsize=None)
def _untangle(dtype: dt.DType, inverse: bool):
    """X_k (k <= M) from Z in scratch (forward), or 2 Z_k (k < M) from X (inverse), along
    the middle axis of (outer, ., inner); the inverse reads `have` entries of X per
    transform (zero past them) and drops the imaginary parts of X_0 and X_M; `roots`
    holds exp(-pi i k / M) for k <= M."""
    T = dtype
    real = dt.complex_part(T).numpy_dtype.type
    zero, half = real(0), real(0.5)
    u32 = Const[dt.uint32]

    def forward(out: Buff[T], z: Buff[T], roots: Buff[T], m: u32, inner: u32):
        i = global_invocation_id().x
        c = i % inner
        k = (i // inner) % (m + 1)
        row = (i // inner) // (m + 1) * m * inner + c
        a = z[row + (k % m) * inner]
        b = conj(z[row + ((m - k) % m) * inner])
        out[i] = ((a + b) + times_i(a - b, -1) * roots[k]) * half

    def backward(out: Buff[T], x: Buff[T], roots: Buff[T], m: u32, inner: u32, have: u32):
        i = global_invocation_id().x
        c = i % inner
        k = (i // inner) % m
        row = (i // inner) // m * have * inner + c
        a = x[row + select(k < have, k, 0) * inner]
        b = x[row + select(m - k < have, m - k, 0) * inner]
        a = make_complex(select(k < have, a.real, zero),
                         select((k < have) & (k != 0), a.imag, zero))
        b = make_complex(select(m - k < have, b.real, zero),
                         select((m - k < have) & (k != 0), -b.imag, zero))
        out[i] = (a + b) + times_i((a - b) * conj(roots[k]), 1)

    fn = backward if inverse else forward
    fn.__name__ = f"vkd_{'irfft' if inverse else 'rfft'}_untangle_{T.name}"
    return shader("out.size")(fn)


_roots: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def roots(ctx, m: int, dtype) -> Buffer:
    """exp(-pi i k / M) for k <= M on the device (cached per context)."""
    with _lock:
        per_ctx = _roots.setdefault(ctx, {})
        buf = per_ctx.get((m, dtype))
    if buf is None:
        buf = Buffer((m + 1,), dtype, context=ctx)
        buf.write(np.exp(-1j * np.pi * np.arange(m + 1) / m).astype(dtype.numpy_dtype))
        with _lock:
            buf = per_ctx.setdefault((m, dtype), buf)
    return buf


def record(ctx, graph, src: Buffer, dst: Buffer, m: int, outer: int, inner: int,
           inverse: bool, scale: float, compute, pairs: bool, have: int) -> None:
    """rfft (src: the real side, dst: the spectrum) or irfft (inverse=True: the other
    way) of length 2m along the middle axis of (outer, ., inner), times `scale` (of
    the M-point transform: an inverse's 1/N is 2/N here). The real side holds 2m reals
    per transform (`pairs`) or M + 1 complex values (an RFFTBuffer's rows); the input
    has `have` entries per transform (reals or complex values): past them it reads as
    zero, and a longer input is cropped. The spectrum holds M + 1."""
    spectrum = src.dtype if inverse else dst.dtype
    total = outer * (m + 1) * inner
    if 2 * total > UINT32_LIMIT:
        raise ValueError(f"vd.fft addresses up to {UINT32_LIMIT} elements with 32-bit "
                         f"indices; this real transform needs {2 * total}")
    whole = 2 * m if pairs and not inverse else m + 1
    edge = Edge(limit=have) if have < whole else Edge()
    side = "" if not pairs else "out" if inverse else "in"
    width = 2 if pairs else 1          # reals per complex element on the real side
    real_row = 2 * m if pairs else m + 1
    columns = inner > 1
    sign = 1 if inverse else -1
    if inverse:
        scale *= 0.5      # the inverse untangling gives 2 Z
    if kernel_shape(m, compute.itemsize, ctx.device, columns, not inverse) is None:
        _four_step(ctx, graph, src, dst, m, outer, inner, inverse, scale, compute, side,
                   have, edge, spectrum, real_row, width)
        return
    plan = make_plan(ctx.device, m, columns, sign, scale, src.dtype, dst.dtype, compute,
                     src is dst, load=edge, real="c2r" if inverse else "r2c", pairs=side)
    if inverse:
        lin = Layout(1, have * inner, 0, inner)
        lout = Layout(1, real_row * inner, 0, width * inner)
    else:
        lin = Layout(1, have * inner, 0, width * inner)
        lout = Layout(1, (m + 1) * inner, 0, inner)
    record_step(ctx, graph, plan.steps[0].spec, src, dst, outer, inner, inner, lin, lout)


def _four_step(ctx, graph, src, dst, m, outer, inner, inverse, scale, compute, side, have,
               edge, spectrum, real_row, width) -> None:
    """The M-point transform in two passes through scratch, the untangling apart."""
    plan = make_plan(ctx.device, m, inner > 1, 1 if inverse else -1, scale, src.dtype,
                     dst.dtype, compute, False, load=Edge() if inverse else edge, pairs=side)
    n1, n2 = plan.split
    first, second = (s.spec for s in plan.steps)
    total = outer * m * inner
    w = roots(ctx, m, spectrum)
    cols = Layout(1, m * inner, 0, n2 * inner)
    rows_in = Layout(n1, m * inner, n2 * inner, inner)
    if not inverse:
        a = scratch(ctx, compute, total, 0)
        b = scratch(ctx, spectrum, total, 1)
        record_step(ctx, graph, first, src, a, outer, n2 * inner, inner,
                    Layout(1, have * inner, 0, width * n2 * inner), cols)
        record_step(ctx, graph, second, a, b, outer * n1, inner, inner, rows_in,
                    Layout(n1, m * inner, inner, n1 * inner))
        _untangle(spectrum, False)(dst, b, w, m, inner, graph=graph)
        return
    a = scratch(ctx, spectrum, total, 0)
    b = scratch(ctx, compute, total, 1)
    _untangle(spectrum, True)(a, src, w, m, inner, have, graph=graph)
    record_step(ctx, graph, first, a, b, outer, n2 * inner, inner, cols, cols)
    record_step(ctx, graph, second, b, dst, outer * n1, inner, inner, rows_in,
                Layout(n1, real_row * inner, width * inner, width * n1 * inner))
