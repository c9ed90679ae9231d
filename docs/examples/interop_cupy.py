import numpy as np
import cupy
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.interop.cupy import as_cupy, from_cupy


@vd.shader("buf.size")
def add_const(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


buf = vd.asbuffer(np.arange(1024, dtype=np.float32))
add_const(buf, 1.0)
a = as_cupy(buf)           # the buffer's memory on the CUDA backend (else a copy)
a *= 2                     # runs after add_const (the hand-off orders the streams)
back = from_cupy(a)
assert np.array_equal(back.read(0), (np.arange(1024) + 1.0) * 2)

with vd.cuda_stream(cupy.cuda.get_current_stream()):   # CUDA backend: run on CuPy's stream
    add_const(back, 1.0)
assert np.array_equal(back.read(0), (np.arange(1024) + 1.0) * 2 + 1)
