"""Host <-> device bytes for tests that drive a RuntimeContext directly."""
import numpy as np


def upload(ctx, array, queue=0, memory="device"):
    handle = ctx.buffer_alloc(queue, array.nbytes, memory)
    ctx.buffer_write(handle, array)
    return handle


def download(ctx, handle, dtype, count, offset=0):
    return np.frombuffer(ctx.buffer_read(handle, np.dtype(dtype).itemsize * count, offset), dtype)
