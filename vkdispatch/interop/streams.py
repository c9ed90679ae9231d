"""Running vkdispatch work on another library's CUDA stream."""
from __future__ import annotations

import contextlib

from ..base.buffer import flush_pending
from ..base.context import get_context
from ..base.errors import UnsupportedFeatureError


def stream_handle(stream) -> int:
    """The CUstream of a PyTorch stream (`.cuda_stream`), a CuPy stream (`.ptr`) or an
    int handle."""
    for attr in ("cuda_stream", "ptr", "handle"):
        value = getattr(stream, attr, None)
        if isinstance(value, int):
            return value
    if isinstance(stream, int):
        return stream
    raise TypeError(f"expected a torch.cuda.Stream, a cupy Stream or an int CUstream handle, "
                    f"got {type(stream).__name__}")


@contextlib.contextmanager
def cuda_stream(stream, queue_index: int = 0):
    """Send queue `queue_index`'s work to `stream` inside the block, so it orders with
    the other library's work there. Inside a capture that library started
    (`torch.cuda.graph`, CuPy's stream capture) the shader calls become part of its
    graph: pending work is submitted when the block ends."""
    ctx = get_context()
    rctx = ctx.runtime_context
    if not rctx.capabilities.external_streams:
        raise UnsupportedFeatureError(f"cuda_stream needs a runtime with external streams "
                                      f"(the CUDA backend); the active backend is "
                                      f"{ctx.backend!r}")
    ctx.check_queue(queue_index)
    handle = stream_handle(stream)
    flush_pending()
    rctx.set_external_stream(queue_index, handle)
    try:
        yield
        flush_pending()
    finally:
        rctx.set_external_stream(queue_index, None)
