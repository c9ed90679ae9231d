"""What CUDA libraries take to see a buffer's memory, and when they cannot: a host copy,
said once."""
from __future__ import annotations

import warnings

import numpy as np

_warned: set = set()


def cuda_exporter(buf):
    """A DLPack producer of `buf`'s queue-0 memory as CUDA memory: the buffer itself
    where the runtime has CUDA pointers (the CUDA backend), a cuda_peer.CudaExport where
    a CUDA device maps the runtime's memory (Vulkan on a GPU CUDA reaches, or a CUDA
    allocation Vulkan imported), else None."""
    rctx = buf.context.runtime_context
    if rctx.capabilities.cuda_array_interface:
        return buf
    if not rctx.capabilities.device_memory_export or buf.dtype.base.name == "bool":
        return None
    from .cuda_peer import CudaExport, cuda_peer
    from .dlpack import _buffer_tensor
    peer = cuda_peer(buf.context)
    if peer is None or not peer.shares(buf):
        return None
    return CudaExport(peer, _buffer_tensor(buf))


def shares_memory(buf) -> bool:
    """Whether CUDA libraries can address `buf`'s memory."""
    return cuda_exporter(buf) is not None


def _why_not(buf) -> str:
    rctx = buf.context.runtime_context
    if buf.dtype.base.name == "bool":
        return "bool data is stored as 4-byte values"
    if not rctx.capabilities.device_memory_export:
        return f"the {buf.context.backend} runtime has no memory CUDA can map"
    from .cuda_peer import peer_absence
    reason = peer_absence(buf.context)
    return reason or f"a {buf.memory!r} buffer's memory does not export (only 'device' does)"


def host_copy(buf, what: str) -> np.ndarray:
    """`buf`'s contents on the host, warning once per function and backend that the
    exchange copies, and why."""
    key = (what, buf.context.backend)
    if key not in _warned:
        _warned.add(key)
        warnings.warn(f"{what}: the {buf.context.backend} backend's memory cannot be shared "
                      f"with CUDA libraries here ({_why_not(buf)}), so the data is copied "
                      f"through the host (the CUDA backend shares it: "
                      f"vd.initialize(backend='cuda'))", RuntimeWarning, stacklevel=3)
    return np.from_dlpack(buf, device="cpu")
