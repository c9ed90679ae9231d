"""Compiled kernels looked up in memory, then on disk, then built: the one path every
backend's compiler takes (SPIR-V, cubins, OpenCL programs). A disk entry can be checked
before use (`validate`) and dropped when its payload proves bad (`evict`), so a bad
entry costs one recompile instead of breaking its kernel for good."""
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
        self.rejected = 0      # disk entries that failed `validate`

    def get(self, key, build: Callable[[], object],
            validate: Optional[Callable[[object], bool]] = None, fresh: bool = False):
        """The value of `key`. `validate(payload)` False: a disk entry is bad, so it is
        dropped and built again. `fresh`: build even when cached (replacing the entries)."""
        with self._locks[hash(key) % _STRIPES]:
            value = None if fresh else self.memory.get(key)
            if value is None:
                value = None if fresh or self.disk is None else self.disk.get(key)
                if value is not None and validate is not None and not validate(value):
                    self.disk.delete(key)
                    self.rejected += 1
                    value = None
                if value is None:
                    value = build()
                    if self.disk is not None:
                        self.disk.put(key, value)
                self.memory.put(key, value)
        return value

    def evict(self, key) -> None:
        """Forget `key` in memory and on disk (its payload failed where it was used)."""
        with self._locks[hash(key) % _STRIPES]:
            self.memory.pop(key)
            if self.disk is not None:
                self.disk.delete(key)
