"""What the GPU exchange tests share: torch / CuPy with a CUDA device (or a skip), the
Vulkan context of a GPU CUDA also reaches, a small kernel that writes through a
buffer, runtimes by name (or a skip) and the count of open file descriptors."""
import os

import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.backends import runtime as rt
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.interop import cuda_peer


def runtime_or_skip(name: str):
    """The runtime `name`; the test skips where it is unavailable."""
    try:
        return rt.load_runtime(name)
    except vd.BackendUnavailableError as exc:
        pytest.skip(str(exc))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


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


def open_vulkan_cuda_peer():
    """Yields the CudaPeer of a Vulkan context on a GPU that is also a CUDA device (a
    fixture's body; skips where there is none)."""
    try:
        vd.initialize(backend="vulkan")
        vulkan_devices = vd.get_devices()
        cuda_uuids = {d.uuid for d in rt.load_runtime("cuda").devices()}
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        pytest.skip(str(exc))
    shared = [d.index for d in vulkan_devices if d.uuid and d.uuid in cuda_uuids]
    if not shared:
        vd.shutdown()
        pytest.skip("no Vulkan device is also a CUDA device here")
    ctx = vd.make_context(device_ids=[shared[0]])
    p = cuda_peer.cuda_peer(ctx)
    assert p is not None, cuda_peer.peer_absence(ctx)
    yield p
    vd.shutdown()
