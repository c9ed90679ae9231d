"""Large host-memory copies spread over threads (numpy releases the GIL while copying):
one core's memcpy caps staged transfers at a few GB/s on server CPUs."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._vk import ffi

PARALLEL_MIN = 8 << 20     # below this a single memmove is faster than the hand-off
_WORKERS = max(1, min(8, os.cpu_count() or 1))
_pool = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="vkd-copy")
    return _pool


def memmove(dst, src, nbytes: int) -> None:
    """Copy `nbytes` between two cffi pointers (non-overlapping)."""
    if nbytes < PARALLEL_MIN or _WORKERS == 1:
        ffi.memmove(dst, src, nbytes)
        return
    d = np.frombuffer(ffi.buffer(dst, nbytes), np.uint8)
    s = np.frombuffer(ffi.buffer(src, nbytes), np.uint8)
    step = -(-nbytes // _WORKERS + 4095) // 4096 * 4096
    spans = [(i, min(i + step, nbytes)) for i in range(0, nbytes, step)]
    for f in [_executor().submit(np.copyto, d[a:b], s[a:b]) for a, b in spans]:
        f.result()
