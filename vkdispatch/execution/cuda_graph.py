"""CUDAGraph: capture any sequence of vkdispatch calls into a CUDA graph and replay it."""
from __future__ import annotations

import contextlib
import threading
from typing import Optional

from ..base.buffer import flush_pending
from ..base.context import get_context
from ..base.errors import UnsupportedFeatureError, VkDispatchError
from ..interop.streams import cuda_stream as on_cuda_stream


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

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the last replay finished (True) or `timeout` seconds passed
        (False)."""
        return self._signal is None or self._signal.wait(timeout) is not False

    def destroy(self) -> None:
        if self._exec is not None:
            self._exec.destroy()
            self._exec = None


# ----------------------------------------------------------------------------- 0.1's names

class CUDAGraphCapture:
    """What `cuda_graph_capture` yields. `cuda_stream`: the stream another library
    captures (vkdispatch's work goes there), or None when vkdispatch captures its own
    work into `graph` (a vd.CUDAGraph: `replay()` runs it)."""

    def __init__(self, cuda_stream=None, graph: Optional[CUDAGraph] = None):
        self.cuda_stream = cuda_stream
        self.graph = graph

    def replay(self):
        if self.graph is None:
            raise VkDispatchError("this capture went to another library's stream "
                                  f"({self.cuda_stream!r}); replay that library's graph")
        return self.graph.replay()


_capture = threading.local()


def get_cuda_capture() -> Optional[CUDAGraphCapture]:
    """The capture this thread is inside (`with vd.cuda_graph_capture(...)`), or None."""
    return getattr(_capture, "current", None)


@contextlib.contextmanager
def cuda_graph_capture(cuda_stream=None, queue_index: int = 0):
    """vkdispatch 0.1's capture block. With `cuda_stream` (a torch/CuPy stream being
    captured, e.g. inside `torch.cuda.graph`), queue `queue_index`'s work goes to that
    stream and becomes part of that library's graph (vd.cuda_stream). Without, the
    block's work is captured into a vd.CUDAGraph, replayed with `capture.replay()` (0.1
    ran it on its own stream uncaptured). CUDA backend only (UnsupportedFeatureError
    elsewhere)."""
    if get_cuda_capture() is not None:
        raise VkDispatchError("cuda_graph_capture blocks do not nest")
    if cuda_stream is not None:
        cap = CUDAGraphCapture(cuda_stream)
        block = on_cuda_stream(cuda_stream, queue_index)
    else:
        cap = CUDAGraphCapture(None, CUDAGraph(queue_index))
        block = cap.graph.capture()
    with block:
        _capture.current = cap
        try:
            yield cap
        finally:
            _capture.current = None
