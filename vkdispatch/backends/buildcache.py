"""Compiled kernels looked up in memory, then on disk, then built: the one path every
backend's compiler takes (SPIR-V, cubins, OpenCL programs)."""
from __future__ import annotations

import threading
from typing import Callable, Optional

from ..base.cache import DiskCache, MemoryCache

_STRIPES = 64


class BuildCache:
    """memory -> disk -> build, one build per key at a time: a second thread asking for
    a key being built waits for that build instead of compiling it again. Keys are
    spread over a few locks, so builds of different kernels rarely wait on each other.
    `disk` None: the values are not bytes (live program objects), memory only."""

    def __init__(self, memory: MemoryCache, disk: Optional[DiskCache] = None):
        self.memory = memory
        self.disk = disk
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    def get(self, key, build: Callable[[], object]):
        with self._locks[hash(key) % _STRIPES]:
            value = self.memory.get(key)
            if value is None:
                value = self.disk.get(key) if self.disk is not None else None
                if value is None:
                    value = build()
                    if self.disk is not None:
                        self.disk.put(key, value)
                self.memory.put(key, value)
        return value
