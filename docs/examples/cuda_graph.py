import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

# CUDA backend only: capture vkdispatch calls into a CUDA graph, replay with one launch.


@vd.shader("buf.size")
def axpb(buf: Buff[f32], a: Const[f32], b: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * a + b


x = vd.asbuffer(np.ones(4096, np.float32))
axpb(x, 1.0, 0.0)                  # build the kernel before capturing
vd.queue_wait_idle()

graph = vd.CUDAGraph()
with graph.capture():              # recorded, not run
    axpb(x, 2.0, 1.0)
    axpb(x, 0.5, 0.0)
for _ in range(3):
    graph.replay()                 # x = (2x + 1) / 2
graph.wait()
assert np.allclose(x.read(0), 1.0 + 0.5 + 0.5 + 0.5)
