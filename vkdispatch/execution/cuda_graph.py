"""CUDAGraph: capture any sequence of vkdispatch calls into a CUDA graph and replay it."""
from __future__ import annotations

import contextlib

from ..base.buffer import flush_pending
from ..base.context import get_context
from ..base.errors import UnsupportedFeatureError, VkDispatchError


class CUDAGraph:
    """Record vkdispatch work once, replay it with one launch (CUDA backend).

        g = vd.CUDAGraph()
        with g.capture():
            step(a, b); step(b, a)      # recorded, not run
        g.replay()                      # runs both kernels

    Allocate buffers and call each shader once before capturing (building a kernel
    and allocating memory are not allowed while a stream is captured). Host reads of
    buffers inside the block are an error."""

    def __init__(self, queue_index: int = 0):
        self.context = get_context()
        if not self.context.runtime_context.capabilities.graph_capture:
            raise UnsupportedFeatureError(
                f"CUDAGraph needs a runtime with graph capture (the CUDA backend); the active "
                f"backend is {self.context.backend!r} (CommandGraph replays work on every "
                f"backend)")
        self.queue_index = self.context.check_queue(queue_index)
        self._exec = None
        self._signal = None

    @contextlib.contextmanager
    def capture(self):
        rctx = self.context.runtime_context
        if self._exec is not None:
            self._exec.destroy()
            self._exec = None
        flush_pending()
        rctx.begin_capture(self.queue_index)
        try:
            yield self
            flush_pending()
        finally:
            self._exec = rctx.end_capture(self.queue_index)

    def replay(self):
        """Launch the captured work; returns a signal to wait on."""
        if self._exec is None:
            raise VkDispatchError("nothing captured yet: use `with graph.capture():` first")
        flush_pending()
        self._signal = self._exec.launch()
        return self._signal

    def wait(self) -> None:
        if self._signal is not None:
            self._signal.wait()

    def destroy(self) -> None:
        if self._exec is not None:
            self._exec.destroy()
            self._exec = None
