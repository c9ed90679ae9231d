import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

rng = np.random.default_rng(1)


# A binary reduction: associative and commutative, with its identity.
@vd.reduce.reduce(0)
def total(a: f32, b: f32) -> f32:
    return a + b


@vd.reduce.reduce("-inf")                       # the type's smallest value
def largest(a: f32, b: f32) -> f32:
    return vc.max(a, b)


data = rng.standard_normal(100_003).astype(np.float32)
buf = vd.asbuffer(data)
s = total(buf)                                  # a new Buffer of shape (1,)
assert s.shape == (1,)
assert np.isclose(s.read(0)[0], data.sum(dtype=np.float64), rtol=1e-4)
assert largest(buf).read(0)[0] == data.max()

# Along axes: the result has the kept axes' shape.
grid = rng.random((6, 5000)).astype(np.float32)
rows = total(vd.asbuffer(grid), axes=1)
assert rows.shape == (6,)
assert np.allclose(rows.read(0), grid.sum(axis=1), rtol=1e-4)


# map_reduce: a mapping function reads element mapped_io_index() of its inputs,
# and its values are reduced with a built-in operation.
@vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
def weighted_dot(x: Buff[f32], w: Buff[f32], scale: Const[f32]) -> f32:
    i = vd.reduce.mapped_io_index()
    return x[i] * w[i] * scale


w = rng.random(data.size).astype(np.float32)
d = weighted_dot(buf, vd.asbuffer(w), 0.5)
want = 0.5 * np.dot(data.astype(np.float64), w)
assert np.isclose(d.read(0)[0], want, rtol=1e-4, atol=1e-3)

# Reductions record into graphs like any kernel call:
graph = vd.CommandGraph()
out = total(buf, graph=graph)
graph.submit()
assert np.isclose(out.read(0)[0], data.sum(dtype=np.float64), rtol=1e-4)
