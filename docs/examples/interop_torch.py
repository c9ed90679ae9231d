import numpy as np
import torch
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.interop.torch import as_torch, from_torch


@vd.shader("buf.size")
def add_const(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


buf = vd.asbuffer(np.arange(1024, dtype=np.float32))
add_const(buf, 1.0)
t = as_torch(buf)          # the buffer's memory on the CUDA backend (else a copy),
t.mul_(2)                  # ordered after add_const on torch's current stream
back = from_torch(t)       # vkdispatch's queue waits for torch's work on it
assert np.array_equal(back.read(0), (np.arange(1024) + 1.0) * 2)

x = torch.arange(8, dtype=torch.float32, device="cuda")
xb = vd.asbuffer(x)        # shared on the CUDA backend, else copied
add_const(xb, 3.0)
assert np.array_equal(xb.read(0), np.arange(8) + 3.0)
