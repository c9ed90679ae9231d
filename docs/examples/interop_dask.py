import numpy as np
import dask
import vkdispatch.array_api as xp
from vkdispatch.interop.dask import from_array

data = np.arange(96, dtype=np.float32).reshape(8, 12)
d = from_array(xp.asarray(data), chunks=(4, 6))       # 4 chunks, each a device Array
job = ((d * 2 + 1).map_blocks(xp.sin, dtype=np.float32) - d) / 3
with dask.config.set(scheduler="threads"):
    out = job.compute()                               # concatenated on the device
    col = d.sum(axis=0).compute()
assert isinstance(out, xp.Array)
assert np.allclose(np.asarray(out), (np.sin(data * 2 + 1) - data) / 3, atol=1e-5)
assert np.allclose(np.asarray(col), data.sum(axis=0))
