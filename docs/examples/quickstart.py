import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buff.size")            # or exec_size=lambda args: args.buff.size
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias


arr = np.arange(8, dtype=np.float32)
buff = vd.asbuffer(arr)            # upload: a vd.Buffer of 8 float32
add_scalar(buff, 1.5)              # recorded, submitted at the next host access
result = buff.read(0)              # the copy on queue 0, as a NumPy array
print(result)                      # [1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5]
assert np.array_equal(result, arr + 1.5)
