"""CuPy and vkdispatch buffers, over DLPack (cupy is imported on first use)."""
from __future__ import annotations

from ..base.buffer import Buffer
from ._fallback import host_copy, shares_memory
from .dlpack import from_dlpack


def _cupy():
    try:
        import cupy
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.cupy needs CuPy (pip install cupy-cuda12x)") from exc
    return cupy


def as_cupy(buf: Buffer):
    """A CuPy array over `buf`'s memory (queue 0) on the CUDA backend, ordered after the
    buffer's pending work on CuPy's current stream. On other backends a copy, with a
    one-time warning."""
    cupy = _cupy()
    if shares_memory(buf):
        return cupy.from_dlpack(buf)
    return cupy.asarray(host_copy(buf, "as_cupy"))


def from_cupy(array) -> Buffer:
    """A vd.Buffer of a CuPy array: its memory shared on the CUDA backend (the array kept
    alive, our queue ordered after CuPy's current stream), else a copy."""
    return from_dlpack(array)
