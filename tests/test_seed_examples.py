"""The examples of the documentation pages this project started from, run as written."""
import subprocess
import sys

import pytest

STRUCTURE_PAGE = '''
import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abreviations import *

# @vd.shader(exec_size=lambda args: args.data.size)
@vd.shader("data.size")
def scale_inplace(data: Buff[f32], alpha: Const[f32]):
    tid = vc.global_invocation_id().x
    data[tid] = data[tid] * alpha

arr = np.arange(16, dtype=np.float32)
buf = vd.asbuffer(arr)
scale_inplace(buf, 2.0)
out = buf.read(0)
print(out) # [0, 2, 4, ...]
assert (out == arr * 2).all()
'''

README_PAGE = '''
import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

for device in vd.get_devices():
    print(device.get_info_string())

# @vd.shader(exec_size=lambda args: args.buff.size)
@vd.shader("buff.size")
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias

arr = np.arange(8, dtype=np.float32)
buff = vd.asbuffer(arr)
# If you want a non-default backend, call vd.initialize(backend=...) first.
add_scalar(buff, 1.5)
print(buff.read(0))
assert (buff.read(0) == arr + 1.5).all()
'''

DUMMY_PAGE = '''
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

vd.initialize(backend='dummy')
vd.set_dummy_context_params(
    subgroup_size=32,
    max_workgroup_size=(128, 1, 1),
    max_workgroup_count=(65535, 65535, 65535),
)
vc.set_codegen_backend('cuda')

# @vd.shader(exec_size=lambda args: args.buff.size)
@vd.shader('buff.size')
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias

src = add_scalar.get_src(line_numbers=True)
print(src)
assert "__global__" in src and "bias" in src
'''

BUFFER_PAGE = '''
import vkdispatch as vd
import numpy as np

# Create a simple numpy array
cpu_data = np.arange(16, dtype=np.int32)
print(f"Original CPU data: {cpu_data}")

# Create a GPU buffer
gpu_buffer = vd.asbuffer(cpu_data)

# Read data back from GPU to CPU to verify
downloaded_data = gpu_buffer.read(0)
print(f"Data downloaded from GPU: {downloaded_data.flatten()}")
assert (downloaded_data.flatten() == cpu_data).all()
'''


@pytest.mark.parametrize("code", [STRUCTURE_PAGE, README_PAGE, BUFFER_PAGE],
                         ids=["code-structure", "readme", "buffers"])
def test_runtime_examples(backend, code):
    env_code = f"import vkdispatch as vd; vd.initialize(backend={backend!r})\n" + code
    out = subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_dummy_codegen_example():
    out = subprocess.run([sys.executable, "-c", DUMMY_PAGE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '__global__' in out.stdout
