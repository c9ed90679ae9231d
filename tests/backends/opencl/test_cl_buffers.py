import numpy as np
import pytest

from vkdispatch.base.errors import UseAfterFreeError

def test_ten_thousand_alloc_free_cycles(ctx):
    live = len(ctx._buffers)
    for i in range(10_000):
        handle = ctx.buffer_alloc(i % 2, 256 + (i % 7) * 4)
        ctx.buffer_free(handle)
    assert len(ctx._buffers) == live
    handle = ctx.buffer_alloc(0, 4)
    ctx.buffer_write(handle, np.int32(7))
    assert np.frombuffer(ctx.buffer_read(handle, 4), np.int32)[0] == 7
    ctx.buffer_free(handle)


def test_destroy_releases_live_buffers(cl_runtime):
    ctx = cl_runtime.create_context([0], [1])
    handles = [ctx.buffer_alloc(0, 1024) for _ in range(4)]
    ctx.destroy()
    assert all(h.freed for h in handles)
    ctx.buffer_free(handles[0])  # still harmless
    ctx.destroy()
    with pytest.raises(UseAfterFreeError, match="destroyed"):
        ctx.buffer_alloc(0, 16)
