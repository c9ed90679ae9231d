"""What the suites share: the backend parameter, the sizes, and timing helpers."""
from __future__ import annotations

import os
import time

import vkdispatch as vd

BACKENDS = ["vulkan", "opencl", "cuda"]


def sizes(default_log2: tuple) -> list:
    """Element counts to run: 2**k for each k of $VKDISPATCH_ASV_SIZES ("20,26"), else
    `default_log2` (small: quick on the CPU drivers)."""
    env = os.environ.get("VKDISPATCH_ASV_SIZES", "").strip()
    logs = [int(k) for k in env.split(",") if k.strip()] if env else list(default_log2)
    return [1 << k for k in logs]


def use_backend(name: str) -> None:
    """Make `name` the active backend; NotImplementedError (asv: skip this parameter
    combination) where this machine has no device for it."""
    try:
        vd.initialize(backend=name)
        vd.get_context()
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        raise NotImplementedError(f"{name}: {exc}") from None


def seconds_per_call(fn, min_time: float = 0.05, max_calls: int = 1000) -> float:
    """Mean seconds of `fn()` over a loop of at least `min_time` seconds (one call at
    least, `max_calls` at most), after one warm-up call: what the track_ figures
    divide by."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or calls >= max_calls:
            return elapsed / calls
