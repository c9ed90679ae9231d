import numpy as np
import pytest

from vkdispatch.base.errors import OutOfMemoryError, UseAfterFreeError

DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float16", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("count", [1, 7, 1001])
def test_round_trip(ctx, dtype, count):
    rng = np.random.default_rng(count)
    data = (rng.standard_normal(count) * 100).astype(dtype)
    handle = ctx.buffer_alloc(0, data.nbytes)
    ctx.buffer_write(handle, data)
    back = np.frombuffer(ctx.buffer_read(handle, data.nbytes), dtype)
    ctx.buffer_free(handle)
    assert np.array_equal(back, data)


@pytest.mark.parametrize("memory", ["device", "host", "shared"])
def test_offsets_and_out_buffers(ctx, memory):
    handle = ctx.buffer_alloc(1, 40, memory)
    ctx.buffer_write(handle, np.arange(10, dtype=np.int32))
    ctx.buffer_write(handle, np.array([-1, -2], np.int32), offset=12)
    assert list(np.frombuffer(ctx.buffer_read(handle, 16, offset=8), np.int32)) == [2, -1, -2, 5]
    out = np.zeros(12, np.int32)
    view = ctx.buffer_read(handle, 40, out=out)
    assert out[:10].tolist() == [0, 1, 2, -1, -2, 5, 6, 7, 8, 9] and out[10:].tolist() == [0, 0]
    assert view.nbytes == 40
    ctx.buffer_free(handle)
    ctx.buffer_free(handle)  # idempotent


def test_empty_buffer(ctx):
    handle = ctx.buffer_alloc(0, 0)
    ctx.buffer_write(handle, b"")
    assert ctx.buffer_read(handle, 0).nbytes == 0
    ctx.buffer_free(handle)


def test_argument_errors(ctx):
    handle = ctx.buffer_alloc(0, 16)
    with pytest.raises(ValueError, match="memory must be one of"):
        ctx.buffer_alloc(0, 16, "managed")
    with pytest.raises(ValueError, match="queue must be an int in"):
        ctx.buffer_alloc(5, 16)
    with pytest.raises(ValueError, match="does not fit in the buffer.s 16 bytes"):
        ctx.buffer_write(handle, np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="does not fit in the buffer.s 16 bytes"):
        ctx.buffer_read(handle, 8, offset=12)
    with pytest.raises(ValueError, match="writable buffer of at least 16"):
        ctx.buffer_read(handle, 16, out=bytearray(8))
    with pytest.raises(TypeError, match="buffer protocol"):
        ctx.buffer_write(handle, [1, 2, 3])
    ctx.buffer_free(handle)
    with pytest.raises(ValueError, match="freed"):
        ctx.buffer_read(handle, 4)


def test_allocation_past_the_limit_leaves_the_context_usable(ctx):
    limit = ctx.devices[0].max_allocation_size
    with pytest.raises(OutOfMemoryError, match="CL_DEVICE_MAX_MEM_ALLOC_SIZE"):
        ctx.buffer_alloc(0, limit + 1)
    handle = ctx.buffer_alloc(0, 64)
    ctx.buffer_write(handle, np.arange(16, dtype=np.float32))
    assert np.frombuffer(ctx.buffer_read(handle, 64), np.float32)[15] == 15
    ctx.buffer_free(handle)


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
