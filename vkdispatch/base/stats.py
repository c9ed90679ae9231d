"""Process-wide counters (a leaf): what vkdispatch did since start or the last reset.

`vd.stats()` returns a snapshot; tests and users read it to see that a loop compiled
nothing or how many dispatches an operation took. Counting takes a lock, so counts from
several threads add up exactly."""
from __future__ import annotations

import threading
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Stats:
    """A snapshot of the counters.

    kernels_compiled: programs a compiler (glslang, NVRTC, the OpenCL driver) built;
    memory_cache_hits: kernels found already built in this process (by structure);
    disk_cache_hits: compiled binaries loaded from the on-disk cache instead;
    dispatches_recorded: kernel launches recorded into command graphs;
    submits: command-graph submissions;
    bytes_to_device / bytes_from_device: host<->device transfer volume."""

    kernels_compiled: int = 0
    memory_cache_hits: int = 0
    disk_cache_hits: int = 0
    dispatches_recorded: int = 0
    submits: int = 0
    bytes_to_device: int = 0
    bytes_from_device: int = 0

    def __sub__(self, other: "Stats") -> "Stats":
        """The counts between two snapshots: `after - before`."""
        return Stats(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(Stats)))


NAMES = tuple(f.name for f in fields(Stats))
_counts = dict.fromkeys(NAMES, 0)
_lock = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with _lock:
        _counts[name] += n


def stats(reset: bool = False) -> Stats:
    """The counters since start (or the last reset); `reset=True` zeroes them after
    taking the snapshot."""
    with _lock:
        snap = Stats(**_counts)
        if reset:
            for k in _counts:
                _counts[k] = 0
    return snap


def reset_stats() -> None:
    stats(reset=True)
