"""CuPy and vkdispatch buffers, over DLPack (cupy is imported on first use)."""
from __future__ import annotations

from ..base.buffer import Buffer
from ._fallback import cuda_exporter, host_copy
from .dlpack import from_dlpack


def _cupy():
    try:
        import cupy
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.cupy needs CuPy (pip install cupy-cuda12x)") from exc
    return cupy


def as_cupy(buf: Buffer):
    """A CuPy array over `buf`'s memory (queue 0), ordered after the buffer's pending
    work on CuPy's current stream: on the CUDA backend, and on the Vulkan backend on a
    GPU CUDA also reaches (as vkdispatch.interop.torch.as_torch). Give it back with
    from_cupy(array) before vkdispatch writes the memory again. On other backends a
    copy, with a one-time warning."""
    cupy = _cupy()
    exporter = cuda_exporter(buf)
    if exporter is not None:
        return cupy.from_dlpack(exporter)
    return cupy.asarray(host_copy(buf, "as_cupy"))


def from_cupy(array) -> Buffer:
    """A vd.Buffer of a CuPy array, our queue ordered after CuPy's current stream: its
    memory shared on the CUDA backend (the array kept alive) and on the Vulkan backend
    for an array as_cupy made; other arrays are copied (on the device where CUDA maps
    Vulkan memory)."""
    return from_dlpack(array)
