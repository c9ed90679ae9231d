"""A caching pool of device buffers for the lazy layer's results.

Allocating device memory per array result would dominate the host cost of small ops,
so a result whose storage dies gives its Buffer back here, and the next result of the
same byte class takes it. Only kernel outputs come from the pool: their writes are
ordered on the queue after every earlier use of the buffer (the command lists put a
barrier between kernels that touch one allocation), so reuse needs no host wait. A
buffer handed to the user (`Array.buffer`) never comes back."""
from __future__ import annotations

import threading
import weakref

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.context import Context

_MIN_ELEMENTS = 64


def size_class(count: int) -> int:
    """Element counts round up to a power of two (at least _MIN_ELEMENTS), so reuse
    finds a match."""
    n = _MIN_ELEMENTS
    while n < count:
        n <<= 1
    return n


class BufferPool:
    """Free buffers of one context by (dtype, size class); at most `max_bytes` are kept."""

    def __init__(self, context: Context, max_bytes: int = 1 << 30):
        self._context = weakref.ref(context)
        self._free: dict = {}
        self._bytes = 0
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def take(self, dtype: dt.DType, count: int) -> Buffer:
        """A 1-D Buffer of `dtype` with at least `count` elements (contents undefined)."""
        key = (dtype, size_class(count))
        with self._lock:
            free = self._free.get(key)
            while free:
                buf = free.pop()
                self._bytes -= buf.nbytes
                # the garbage collector may have finalized (freed) a buffer that its
                # storage gave back while both died in one reference cycle
                if buf._handles:
                    return buf
        return Buffer((key[1],), dtype, context=self._context())

    def give(self, buffer: Buffer) -> None:
        """Keep `buffer` (one `take` returned) for reuse, or let it go when the pool is
        full. Never destroyed here: records not yet submitted may still use it, and they
        hold it until then."""
        ctx = self._context()
        if ctx is None or ctx.destroyed or not buffer._handles:
            return
        with self._lock:
            if self._bytes + buffer.nbytes <= self.max_bytes:
                self._free.setdefault((buffer.dtype, buffer.size), []).append(buffer)
                self._bytes += buffer.nbytes

    def clear(self) -> None:
        """Let every kept buffer go (freed as soon as no pending record holds it)."""
        with self._lock:
            self._free, self._bytes = {}, 0

    @property
    def cached_bytes(self) -> int:
        return self._bytes


_pools: "weakref.WeakKeyDictionary[Context, BufferPool]" = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def buffer_pool(context: Context) -> BufferPool:
    pool = _pools.get(context)
    if pool is None:
        with _pools_lock:
            pool = _pools.setdefault(context, BufferPool(context))
    return pool
