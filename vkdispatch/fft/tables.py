"""Twiddle and chirp tables: computed on the host in float64 (exactly rounded to the
compute type), uploaded once per context and read by the kernels through the cache.

One buffer per kernel holds its parts back to back: the stage roots W_n^m (m < n), the
four-step twiddle's low and high parts (W_T^i, W_T^(i*split)) and the Bluestein chirp;
`layout(spec)` gives each part's offset."""
from __future__ import annotations

import threading
import weakref

import numpy as np

from ..base.buffer import Buffer
from .spec import PassSpec


def chirp_values(n: int, count: int) -> np.ndarray:
    """exp(-pi i e^2 / n) for e < count, with e^2 reduced mod 2n in integers first."""
    e = np.arange(count, dtype=np.int64)
    return np.exp(-1j * np.pi * ((e * e) % (2 * n)) / n)


def layout(spec: PassSpec) -> dict:
    """{part: (offset, length)} of the table `spec` reads; empty when it needs none."""
    parts = {}
    at = 0
    if len(spec.radices) > 1 or spec.kernel_mul:
        parts["roots"] = (at, spec.n)
        at += spec.n
    if spec.twiddle:
        hi = -(-spec.twiddle // spec.split)
        parts["lo"] = (at, spec.split)
        parts["hi"] = (at + spec.split, hi)
        at += spec.split + hi
    if spec.real:
        parts["real"] = (at, spec.n + 1)
        at += spec.n + 1
    for side, edge in (("chirp_in", spec.load), ("chirp_out", spec.store)):
        if edge.chirp:
            count = edge.limit or spec.twiddle or spec.n
            parts[side] = (at, count)
            at += count
    return parts


def values(spec: PassSpec) -> np.ndarray:
    """The table's contents (forward roots; inverse kernels conjugate them)."""
    out = []
    for name, (_, length) in layout(spec).items():
        if name == "roots":
            out.append(np.exp(-2j * np.pi * np.arange(length) / spec.n))
        elif name == "lo":
            out.append(np.exp(-2j * np.pi * np.arange(length) / spec.twiddle))
        elif name == "real":
            out.append(np.exp(-1j * np.pi * np.arange(length) / spec.n))
        elif name == "hi":
            out.append(np.exp(-2j * np.pi * (np.arange(length) * spec.split % spec.twiddle)
                              / spec.twiddle))
        else:
            edge = spec.load if name == "chirp_in" else spec.store
            out.append(chirp_values(abs(edge.chirp), length))
    return np.concatenate(out) if out else np.zeros(1, np.complex128)


_tables: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_MAX_TABLES = 128


def table_buffer(context, spec: PassSpec) -> Buffer:
    """The device copy of `spec`'s table in `context` (made on first use)."""
    key = (tuple(layout(spec).items()), spec.n, spec.twiddle, spec.split, spec.load.chirp,
           spec.store.chirp, spec.real, spec.compute)
    with _lock:
        per_ctx = _tables.setdefault(context, {})
        buf = per_ctx.get(key)
    if buf is None:
        data = values(spec).astype(spec.compute.numpy_dtype)
        buf = Buffer((data.size,), spec.compute, context=context)
        buf.write(data)
        with _lock:
            if len(per_ctx) >= _MAX_TABLES:
                per_ctx.clear()
            buf = per_ctx.setdefault(key, buf)
    return buf
