"""Process-wide counters (a leaf): what vkdispatch did since start or the last reset.

`vd.stats()` returns a snapshot; tests and users read it to see that a loop compiled
nothing or how many dispatches an operation took. Counts from several threads add up
exactly: each thread counts into its own dict, an owner of a tally under its own lock."""
from __future__ import annotations

import threading
import weakref
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

# Each thread counts into its own dict (no lock on the hot path: only its thread
# writes it); a snapshot sums them. Dicts of finished threads are folded into
# `_retired` when a new thread registers, and a reset moves the baseline instead of
# zeroing counters other threads may be writing.
_tls = threading.local()
_lock = threading.Lock()
_live: list = []                  # (thread, its counter dict)
_retired = dict.fromkeys(NAMES, 0)
_baseline = dict.fromkeys(NAMES, 0)


def _register() -> dict:
    mine = dict.fromkeys(NAMES, 0)
    with _lock:
        for entry in [e for e in _live if not e[0].is_alive()]:
            _live.remove(entry)
            for k, v in entry[1].items():
                _retired[k] += v
        _live.append((threading.current_thread(), mine))
    _tls.counts = mine
    return mine


def count(name: str, n: int = 1) -> None:
    try:
        _tls.counts[name] += n
    except AttributeError:
        _register()[name] += n


# Counters an object bumps under its own lock (see tally): [(weakref to it, counts)]
_tallies: list = []
DISPATCHES_RECORDED = NAMES.index("dispatches_recorded")
SUBMITS = NAMES.index("submits")


def tally(owner) -> list:
    """A list of counters, indexed like NAMES (e.g. SUBMITS), that `owner` bumps
    under a lock of its own: a hot path then skips count()'s function call and
    thread-local look-up. Every snapshot adds it; once `owner` is gone its counts are
    folded into the totals."""
    counts = [0] * len(NAMES)
    with _lock:
        for entry in [e for e in _tallies if e[0]() is None]:
            _tallies.remove(entry)
            for k, v in zip(NAMES, entry[1]):
                _retired[k] += v
        _tallies.append((weakref.ref(owner), counts))
    return counts


def _totals() -> dict:
    totals = dict(_retired)
    for _, counts in _live:
        for k, v in counts.items():
            totals[k] += v
    for _, counts in _tallies:
        for k, v in zip(NAMES, counts):
            totals[k] += v
    return totals


def stats(reset: bool = False) -> Stats:
    """The counters since start (or the last reset); `reset=True` zeroes them after
    taking the snapshot."""
    with _lock:
        totals = _totals()
        snap = Stats(**{k: totals[k] - _baseline[k] for k in NAMES})
        if reset:
            _baseline.update(totals)
    return snap


def reset_stats() -> None:
    stats(reset=True)
