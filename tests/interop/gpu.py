"""What the GPU exchange tests share: torch / CuPy with a CUDA device (or a skip), and
a small kernel that writes through a buffer."""
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


def cuda_library(name: str):
    """Module `name` ("torch" or "cupy"); the test skips where it is missing or (torch)
    has no CUDA device."""
    mod = pytest.importorskip(name)
    if name == "torch" and not mod.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    return mod


@vd.shader("buf.size")
def add_const(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k
