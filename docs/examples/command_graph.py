import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32


@vd.shader("buff.size")
def axpb(buff: Buff[f32], a: Var[f32], b: Const[f32]):
    i = vc.global_invocation_id().x
    buff[i] = buff[i] * a + b


data = np.linspace(0, 1, 1000, dtype=np.float32)
buf = vd.asbuffer(data)

# Record once: `a` is a bound variable, set before each submission.
graph = vd.CommandGraph()
axpb(buf, graph.bind_var("a"), 1.0, graph=graph)
axpb(buf, 0.5, 0.0, graph=graph)              # a second dispatch, after the first
assert len(graph) == 2

expect = data.copy()
before = vd.stats()
for a in (2.0, -1.0, 3.0):
    graph.set_var("a", a)                     # new value, same recorded commands
    graph.submit()
    expect = (expect * np.float32(a) + np.float32(1.0)) * np.float32(0.5)
graph.wait()
work = vd.stats() - before
assert work.kernels_compiled == 0 and work.submits == 3 * vd.get_context().queue_count
assert np.allclose(buf.read(0), expect, rtol=1e-6)

# One submission, several instances: instance i takes row i of the variable's value.
acc = vd.asbuffer(np.zeros(8, np.float32))
g2 = vd.CommandGraph()
axpb(acc, g2.bind_var("a"), 1.0, graph=g2)
g2.set_var("a", np.array([1.0, 2.0, 3.0], np.float32))
g2.submit(instance_count=3)                   # acc = ((0*1 + 1)*2 + 1)*3 + 1
assert np.allclose(acc.read(0), 10.0)

# Per-dispatch device times
timed = vd.CommandGraph(timestamps=True)
axpb(buf, 1.0, 0.0, graph=timed)
timed.submit()
seconds = timed.timestamps()                  # one entry per dispatch, in record order
print(f"axpb ran for {seconds[0] * 1e6:.1f} us on the device")
