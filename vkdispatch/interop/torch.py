"""PyTorch and vkdispatch buffers, over DLPack (torch is imported on first use)."""
from __future__ import annotations

from ..base.buffer import Buffer
from ._fallback import host_copy, shares_memory
from .dlpack import from_dlpack


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.torch needs PyTorch (pip install torch)") from exc
    return torch


def as_torch(buf: Buffer):
    """A torch tensor over `buf`'s memory (queue 0) on the CUDA backend, ordered after
    the buffer's pending work on torch's current stream. On other backends a copy, on
    torch's CUDA device where it has one, with a one-time warning."""
    torch = _torch()
    if shares_memory(buf):
        return torch.from_dlpack(buf)
    tensor = torch.from_numpy(host_copy(buf, "as_torch"))
    return tensor.to("cuda") if torch.cuda.is_available() else tensor


def from_torch(tensor) -> Buffer:
    """A vd.Buffer of a torch tensor: its memory shared on the CUDA backend (the tensor
    kept alive, our queue ordered after torch's current stream), else a copy."""
    return from_dlpack(tensor)
