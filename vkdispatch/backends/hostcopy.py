"""Large host-memory copies spread over threads (numpy releases the GIL while copying):
one core's memcpy caps staged transfers at a few GB/s on server CPUs. Used by the
backends that stage transfers through pinned or host-visible memory."""
from __future__ import annotations

import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PARALLEL_MIN = 8 << 20     # below this a single memcpy is faster than the hand-off
_WORKERS = max(1, min(8, os.cpu_count() or 1))
_pool = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="vkd-copy")
    return _pool


def copy(dst: np.ndarray, src: np.ndarray) -> None:
    """dst[:] = src for two non-overlapping 1-D uint8 arrays of one length."""
    nbytes = dst.nbytes
    if nbytes < PARALLEL_MIN or _WORKERS == 1:
        np.copyto(dst, src)
        return
    step = -(-nbytes // _WORKERS + 4095) // 4096 * 4096
    spans = [(i, min(i + step, nbytes)) for i in range(0, nbytes, step)]
    for f in [_executor().submit(np.copyto, dst[a:b], src[a:b]) for a, b in spans]:
        f.result()


def pointer_bytes(address: int, nbytes: int) -> np.ndarray:
    """A writable uint8 array over `nbytes` of host memory at integer `address`."""
    return np.ctypeslib.as_array((ctypes.c_uint8 * nbytes).from_address(address))
