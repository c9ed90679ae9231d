import numpy as np
import vkdispatch as vd
import vkdispatch.array_api as xp

host = np.arange(12, dtype=np.float32).reshape(3, 4)

# NumPy -> vkdispatch: asbuffer / xp.asarray copy host data to the device;
# vd.from_dlpack takes any DLPack producer (host memory is copied).
buf = vd.asbuffer(host)
buf2 = vd.from_dlpack(host)
assert buf2.shape == (3, 4) and np.array_equal(buf2.read(0), host)

# vkdispatch -> NumPy: Buffer.read, np.asarray (an Array or a Buffer), np.from_dlpack.
x = xp.asarray(host) * 2
assert np.array_equal(np.asarray(x), host * 2)      # __array__: a sync point + copy
assert np.array_equal(np.asarray(buf), host)
# (device="cpu": a host copy; the CUDA backend's capsule is device memory NumPy can't read)
assert np.array_equal(np.from_dlpack(buf, device="cpu"), host)
assert np.array_equal(np.from_dlpack(x, device="cpu"), host * 2)

# Arrays <-> Buffers, no copy:
arr = xp.from_dlpack(buf)                            # an Array over buf's memory
assert np.array_equal(np.asarray(arr), host)
assert xp.from_buffer(buf).buffer is buf

# NumPy's own functions run on the device when given Arrays:
m = np.mean(x, axis=0)
assert isinstance(m, xp.Array) and np.allclose(np.asarray(m), (host * 2).mean(axis=0))
