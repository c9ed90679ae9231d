"""Explicit caches (a leaf module). `DiskCache` stores compiled binaries under the user
cache dir; entries are written atomically with a checksum so a corrupt file is a miss.
Disk keys hold the compiler's version and the vkdispatch version (`package_version`), so
an upgrade of either never loads what the other compiled."""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

from . import stats

_MAGIC = b"VKDC1\n"


def cache_root() -> Path:
    """$VKDISPATCH_CACHE_DIR, else $XDG_CACHE_HOME/vkdispatch, else ~/.cache/vkdispatch."""
    env = os.environ.get("VKDISPATCH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vkdispatch"


def package_version() -> str:
    """The vkdispatch version (its `__version__`, else the installed distribution's)."""
    version = getattr(sys.modules.get("vkdispatch"), "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version
            version = dist_version("vkdispatch")
        except Exception:
            version = "unknown"
    return str(version)


def digest(*parts) -> str:
    """A stable hex key over the reprs of `parts` (strings and bytes taken as they are)."""
    h = hashlib.sha256()
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


class DiskCache:
    """A directory of binaries keyed by hex digests. Disabled with VKDISPATCH_DISK_CACHE=0.
    `kernels`: the entries are compiled kernels (their hits count as `disk_cache_hits`
    in vd.stats())."""

    def __init__(self, namespace: str, kernels: bool = True):
        self.namespace = namespace
        self.kernels = kernels
        self.enabled = os.environ.get("VKDISPATCH_DISK_CACHE", "1") != "0"
        self.hits = 0
        self.misses = 0

    @property
    def directory(self) -> Path:
        return cache_root() / self.namespace

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def delete(self, key: str) -> None:
        """Drop `key`'s entry (a payload that proved bad); a missing one is fine."""
        try:
            self._path(key).unlink()
        except OSError:
            pass

    def get(self, key: str) -> Optional[bytes]:
        if not self.enabled:
            return None
        try:
            raw = self._path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        if raw.startswith(_MAGIC) and len(raw) >= len(_MAGIC) + 32:
            check, payload = raw[len(_MAGIC):len(_MAGIC) + 32], raw[len(_MAGIC) + 32:]
            if hashlib.sha256(payload).digest() == check:
                self.hits += 1
                if self.kernels:
                    stats.count("disk_cache_hits")
                return payload
        self.misses += 1
        return None

    def put(self, key: str, payload: bytes) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full disk only costs a recompile


class MemoryCache:
    """A thread-safe dict cache with printable keys and hit/miss counts."""

    def __init__(self, name: str):
        self.name = name
        self._data = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            if key in self._data:
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value

    def pop(self, key) -> None:
        with self._lock:
            self._data.pop(key, None)

    def keys(self):
        with self._lock:
            return list(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<MemoryCache {self.name}: {len(self)} entries, {self.hits} hits, {self.misses} misses>"
