"""PyTorch and vkdispatch buffers, over DLPack (torch is imported on first use)."""
from __future__ import annotations

from ..base.buffer import Buffer
from ._fallback import cuda_exporter, host_copy
from .dlpack import from_dlpack


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.torch needs PyTorch (pip install torch)") from exc
    return torch


def as_torch(buf: Buffer):
    """A torch tensor over `buf`'s memory (queue 0), ordered after the buffer's pending
    work on torch's current stream: on the CUDA backend, and on the Vulkan backend on a
    GPU CUDA also reaches ("device" buffers; see vkdispatch.interop.cuda_peer, where an
    exported timeline semaphore does the ordering, or the host waits where the driver
    has none). Give it back with from_torch(tensor) before vkdispatch writes the memory
    again, so that vkdispatch waits for torch's work. Elsewhere a copy, on torch's CUDA
    device where it has one, with a one-time warning."""
    torch = _torch()
    exporter = cuda_exporter(buf)
    if exporter is not None:
        return torch.from_dlpack(exporter)
    tensor = torch.from_numpy(host_copy(buf, "as_torch"))
    return tensor.to("cuda") if torch.cuda.is_available() else tensor


def from_torch(tensor) -> Buffer:
    """A vd.Buffer of a torch tensor, our queue ordered after torch's current stream,
    the tensor kept alive as long as the buffer uses its memory. Its memory is shared
    on the CUDA backend; on the Vulkan backend (on a GPU CUDA also reaches) for a
    tensor as_torch made (the buffer's own memory) and for one over exportable CUDA
    memory, e.g. torch.from_dlpack of a CuPy array made by
    vkdispatch.interop.cupy.exportable_allocator() (imported into Vulkan once per
    allocation). Tensors of torch's own allocator (cudaMalloc memory, which cannot be
    exported) are copied on the device there, not through the host; through the host
    on other backends."""
    return from_dlpack(tensor)
