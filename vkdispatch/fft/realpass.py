"""Real transforms longer than one workgroup: the packed M-point complex transform runs
as a four-step plan through scratch memory, and the untangling (realpack.py's formulas)
is a separate elementwise kernel that reads the half-spectrum Z from scratch, so it
never overwrites a value another invocation still needs."""
# no `from __future__ import annotations`: the kernels' annotations name a closure's dtype
import functools
import threading
import weakref

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..codegen.functions.builtins import global_invocation_id
from ..codegen.functions.complex import conj
from ..codegen.types import Buff, Const
from ..shader.decorator import shader
from .launch import record_step, scratch
from .registers import times_i
from .spec import Layout


@functools.lru_cache(maxsize=None)
def _untangle(dtype: dt.DType, inverse: bool):
    """X_k (k <= M) from Z in scratch (forward), or Z_k (k < M) from X (inverse);
    `roots` holds exp(-pi i k / M) for k <= M."""
    T = dtype

    def forward(out: Buff[T], z: Buff[T], roots: Buff[T], m: Const[dt.uint32]):
        i = global_invocation_id().x
        row = i // (m + 1)
        k = i % (m + 1)
        a = z[row * m + k % m]
        b = conj(z[row * m + (m - k) % m])
        even = (a + b) * 0.5
        odd = times_i((a - b) * 0.5, -1)
        out[i] = even + odd * roots[k]

    def backward(out: Buff[T], x: Buff[T], roots: Buff[T], m: Const[dt.uint32]):
        i = global_invocation_id().x
        row = i // m
        k = i % m
        a = x[row * (m + 1) + k]
        b = conj(x[row * (m + 1) + m - k])
        even = (a + b) * 0.5
        odd = ((a - b) * 0.5) * conj(roots[k])
        out[i] = even + times_i(odd, 1)

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


def record(ctx, graph, buffer, plan, rows: int, m: int, inverse: bool) -> None:
    """rfft (inverse=False) or irfft of `buffer`'s rows through the two-pass `plan`."""
    n1, n2 = plan.split
    first, second = (s.spec for s in plan.steps)
    total = rows * m
    a = scratch(ctx, first.io_in if inverse else first.io_out, total, 0)
    b = scratch(ctx, first.io_out if inverse else second.io_out, total, 1)
    w = roots(ctx, m, buffer.dtype)
    rows_in = Layout(n1, m, n2, 1)
    if not inverse:
        record_step(ctx, graph, first, buffer, a, rows, n2, 1, Layout(1, m + 1, 0, n2),
                    Layout(1, m, 0, n2))
        record_step(ctx, graph, second, a, b, rows * n1, 1, 1, rows_in, Layout(n1, m, 1, n1))
        _untangle(buffer.dtype, False)(buffer, b, w, m, graph=graph)
        return
    _untangle(buffer.dtype, True)(a, buffer, w, m, graph=graph)
    record_step(ctx, graph, first, a, b, rows, n2, 1, Layout(1, m, 0, n2), Layout(1, m, 0, n2))
    record_step(ctx, graph, second, b, buffer, rows * n1, 1, 1, rows_in,
                Layout(n1, m + 1, 1, n1))
