import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buff.size")
def scale(buff: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buff[i] = buff[i] * k


buf = vd.asbuffer(np.ones(4096, np.float32))
scale(buf, 2.0)                               # first call: traced and compiled
buf.read(0)

before = vd.stats()
for k in range(10):
    scale(buf, 1.0 + k)                       # new scalars: uniforms, not new kernels
result = buf.read(0)
delta = vd.stats() - before
print(delta)
assert delta.kernels_compiled == 0
assert delta.dispatches_recorded == 10
assert delta.bytes_from_device == buf.nbytes
assert np.allclose(result, 2.0 * np.prod(np.arange(1.0, 11.0)))
