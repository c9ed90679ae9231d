"""Twiddle and chirp tables: computed on the host in float64 (exactly rounded to the
compute type), uploaded once per context and read by the kernels through the cache.

One buffer per kernel holds its parts back to back: one section of twiddles per Stockham
stage, the four-step twiddle's low and high parts (W_T^i, W_T^(i*split)) and the Bluestein
chirp; `layout(spec)` gives each part's offset.

A stage of radix R after Ns earlier points multiplies input r of butterfly k by
W_(Ns*R)^(r*k); its section holds that root at (r-1)*Ns + k, so the invocations of a warp
(consecutive k) read consecutive entries: one or two cache lines per load, where one table
of W_n^m read at m = r*k*n/(Ns*R) would spread each load over dozens."""
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


def stage_orders(spec: PassSpec) -> tuple:
    """The radix orders the kernel's transforms run through: the spec's, and for a
    convolution also reversed (its inverse)."""
    if spec.kernel_mul:
        return (tuple(spec.radices), tuple(reversed(spec.radices)))
    return (tuple(spec.radices),)


def stage_part(ns: int, radix: int, order: int = 0) -> str:
    """A convolution's inverse (order 1) reads its own copy: loads of the forward's
    entries would be merged by the compiler, which then keeps every twiddle of the
    forward in registers through the inverse (156 instead of 64 on sm_90)."""
    return f"stage_{ns}_{radix}_{order}"


def layout(spec: PassSpec) -> dict:
    """{part: (offset, length)} of the table `spec` reads; empty when it needs none."""
    parts = {}
    at = 0
    for o, order in enumerate(stage_orders(spec)):
        ns = 1
        for radix in order:
            name = stage_part(ns, radix, o)
            if ns > 1 and name not in parts:
                parts[name] = (at, (radix - 1) * ns)
                at += (radix - 1) * ns
            ns *= radix
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
        if name.startswith("stage_"):
            ns, radix = map(int, name.split("_")[1:3])
            r, k = np.meshgrid(np.arange(1, radix), np.arange(ns), indexing="ij")
            out.append(np.exp(-2j * np.pi * (r * k).ravel() / (ns * radix)))
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
