"""vd.fft's caches, for vkdispatch 0.1's `cache_clear` / `get_cache_info` /
`print_cache_info`: the plans (per device), the kernels built from them, the twiddle and
chirp tables (and Bluestein's kernel spectra), the scratch buffers and the recorded
transforms replayed by later calls of the same layout (per context). Clearing them frees
their device memory (xp.fft's batches kept by the lazy layer's plan cache hold their
tables until that cache drops them); the next transform plans and traces again, and its programs come back from
vkdispatch's program cache (vkdispatch.execution.kernel.kernel_cache) without a recompile."""
from __future__ import annotations

from dataclasses import dataclass

from . import bluestein, functions, launch, plan, realpass, tables


@dataclass(frozen=True)
class CacheInfo:
    """How many entries each of vd.fft's caches holds now."""
    plans: int
    kernels: int
    tables: int
    scratch_buffers: int
    replays: int = 0


def _per_context_len(store, lock) -> int:
    with lock:
        return sum(len(v) for v in list(store.values()))


def get_cache_info() -> CacheInfo:
    """The sizes of vd.fft's caches over every device and context."""
    with plan._caches_lock:
        plans = sum(len(c) for c in plan._caches.values())
    return CacheInfo(plans=plans, kernels=_per_context_len(launch._compiled, launch._lock),
                     tables=_per_context_len(tables._tables, tables._lock) +
                     _per_context_len(realpass._roots, realpass._lock) +
                     _per_context_len(bluestein._kernels, bluestein._lock),
                     scratch_buffers=_per_context_len(launch._scratch, launch._lock),
                     replays=sum(len(v) for v in list(functions._replays.values())))


def print_cache_info() -> None:
    print(get_cache_info())


def cache_clear() -> None:
    """Forget every plan, kernel, table and scratch buffer vd.fft holds (0.1's
    vd.fft.cache_clear). Work already recorded keeps the buffers it uses alive."""
    with plan._caches_lock:
        plan._caches.clear()
    for store, lock in ((launch._compiled, launch._lock), (launch._scratch, launch._lock),
                        (bluestein._kernels, bluestein._lock), (tables._tables, tables._lock),
                        (realpass._roots, realpass._lock)):
        with lock:
            store.clear()
    realpass._untangle.cache_clear()
    functions._replays.clear()
