"""VkFFT plans and their bounded per-context cache.

A plan is a pyvkfft app: VkFFT's kernels compiled for one layout (shape, dtype, axes,
r2c, in place or not, normalization) on one native queue. Making one compiles kernels
(PoCL: about a second), so plans are kept per context, least recently used dropped
first, like CuPy's `cupy.fft.config.get_plan_cache()`."""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..base.context import Context, get_context
from ..base.errors import UnsupportedFeatureError, VkDispatchError

DEFAULT_MAX_PLANS = 16


@dataclass(frozen=True)
class PlanKey:
    """Everything a VkFFT plan is built for. `shape`/`dtype` are what VkFFT transforms:
    for r2c the real array's (in place: with the padded last axis, `r2c_odd` telling an
    odd real length); `normalize` is whether the inverse divides by the size."""

    queue: int              # vkdispatch queue index
    native_queue: int       # the CUstream or cl_command_queue the plan launches on
    shape: tuple
    dtype: str              # numpy dtype name
    axes: tuple
    r2c: bool
    r2c_odd: bool
    inplace: bool
    normalize: bool
    print_shader: bool

    def app_options(self) -> dict:
        """pyvkfft.VkFFTApp's keyword arguments for this key."""
        return dict(shape=self.shape, dtype=np.dtype(self.dtype), axes=self.axes, r2c=self.r2c,
                    r2c_odd=self.r2c_odd, inplace=self.inplace, norm=int(self.normalize),
                    keepShaderCode=int(self.print_shader))


class Plan:
    """One pyvkfft app and the API that runs it."""

    __slots__ = ("key", "app", "api")

    def __init__(self, key: PlanKey, app, api):
        self.key, self.app, self.api = key, app, api

    def run(self, src, dst, native_queue, inverse: bool) -> None:
        try:
            self.api.run(self.app, src, dst, native_queue, inverse)
        except RuntimeError as exc:   # pyvkfft reports VkFFT's launch errors so
            raise VkDispatchError(f"VkFFT failed to run the plan {self.key}: {exc}") from exc


class PlanCache:
    """Plans of one context by PlanKey, at most `max_size` (least recently used dropped
    first). `hits` / `misses` count lookups; `keys()` lists what is cached."""

    def __init__(self, context: Context, max_size: int = DEFAULT_MAX_PLANS):
        self._context = weakref.ref(context)
        self._plans: "OrderedDict[PlanKey, Plan]" = OrderedDict()
        self._lock = threading.RLock()
        self._max_size = _check_size(max_size)
        self.hits = 0
        self.misses = 0

    @property
    def max_size(self) -> int:
        return self._max_size

    @max_size.setter
    def max_size(self, value: int) -> None:
        with self._lock:
            self._max_size = _check_size(value)
            self._trim(self._max_size)

    def get(self, key: PlanKey, api, module, native_queue, may_build: bool = True) -> Plan:
        """The plan for `key`, built with pyvkfft `module` on `native_queue` when missing
        (the queue's device current). `may_build` False: raise instead of building (a
        capture in progress cannot run the allocations and copies a new plan makes)."""
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                self.hits += 1
                return plan
            if not may_build:
                raise VkDispatchError(
                    f"queue {key.queue} is being captured into a graph, and VkFFT has no plan "
                    f"for {key} yet: making one allocates and copies, which a capture "
                    f"cannot hold. Run the same transform once before the capture")
            try:
                app = api.make_app(module, native_queue, **key.app_options())
            except (RuntimeError, ValueError) as exc:
                raise UnsupportedFeatureError(f"VkFFT cannot make a plan for {key}: "
                                              f"{exc}") from exc
            self.misses += 1
            self._trim(self._max_size - 1)
            plan = self._plans[key] = Plan(key, app, api)
            return plan

    def keys(self) -> list:
        with self._lock:
            return list(self._plans)

    def __len__(self) -> int:
        return len(self._plans)

    def __contains__(self, key) -> bool:
        return key in self._plans

    def clear(self) -> None:
        """Drop every plan (their device memory and kernels are freed)."""
        with self._lock:
            self._trim(0)

    def _trim(self, size: int) -> None:
        dropped = []
        while len(self._plans) > max(size, 0):
            dropped.append(self._plans.popitem(last=False)[1])
        if dropped:
            self._release(dropped)

    def _release(self, plans: list) -> None:
        """VkFFT frees a plan's kernels and buffers at once: wait for the queues that
        may still run them (never while they are captured, which a wait would break)."""
        context = self._context()
        if context is not None and not context.destroyed:
            rctx = context.runtime_context
            for queue in sorted({p.key.queue for p in plans}):
                if not rctx.queue_capturing(queue):
                    rctx.queue_wait_idle(queue)
        plans.clear()   # the last references: pyvkfft frees each app now

    destroy = clear    # Context.destroy() releases the plans before the runtime goes

    def __repr__(self) -> str:
        return (f"<vd.vkfft.PlanCache {len(self)}/{self._max_size} plans, "
                f"{self.hits} hits, {self.misses} misses>")


def _check_size(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_size must be an int >= 1, got {value!r}")
    return value


_caches: "weakref.WeakKeyDictionary[Context, PlanCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def plan_cache(context: Context = None) -> PlanCache:
    """The VkFFT plan cache of `context` (default: the current context)."""
    context = context or get_context()
    with _caches_lock:
        cache = _caches.get(context)
        if cache is None:
            cache = _caches[context] = PlanCache(context)
            context.register(cache)
        return cache


def clear_plan_cache() -> None:
    """Drop every cached VkFFT plan of every context (0.1's name)."""
    with _caches_lock:
        caches = list(_caches.values())
    for cache in caches:
        cache.clear()
