import numpy as np
import vkdispatch as vd

# Allocate (contents undefined, like numpy.empty), then write and read.
buf = vd.Buffer((4, 3), vd.float32)
host = np.arange(12, dtype=np.float32).reshape(4, 3)
buf.write(host)
assert np.array_equal(buf.read(0), host)     # read(queue_index) -> numpy array
copies = buf.read()                          # no index: one array per queue
assert len(copies) == vd.get_context().queue_count

# asbuffer uploads an array-like; the dtype follows it (or is given).
ints = vd.asbuffer(np.arange(16, dtype=np.int32))
assert ints.dtype is vd.int32 and ints.shape == (16,)
vecs = vd.asbuffer(np.ones((8, 4), np.float32), vd.vec4)   # trailing axis: components
assert vecs.shape == (8,) and vecs.read(0).shape == (8, 4)

# Writes convert only when no value changes (NumPy's same_kind rule, range-checked).
ints.write(np.arange(16, dtype=np.int64))    # int64 -> int32: every value fits
try:
    ints.write(np.full(16, 0.5))             # float -> int would truncate
except TypeError as exc:
    print("refused:", exc)
else:
    raise AssertionError("expected a TypeError")

# fill, views (no copy) and device-side copies
buf.fill(7.0)
row = buf.view(3, (3,))                      # elements 3..5: the second row
row.write(np.array([1, 2, 3], np.float32))
assert np.array_equal(buf.read(0)[1], [1, 2, 3])
dst = vd.Buffer((4, 3), vd.float32)
vd.copy_buffer(buf, dst)                     # recorded like a kernel
assert np.array_equal(dst.read(0), buf.read(0))

# Device memory is freed when the Buffer is garbage collected, or now:
dst.destroy()
