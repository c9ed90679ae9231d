"""When another library cannot see a buffer's memory: a host copy, said once."""
from __future__ import annotations

import warnings

import numpy as np

_warned: set = set()


def shares_memory(buf) -> bool:
    """Whether CUDA libraries can address `buf`'s memory (capabilities.cuda_array_interface)."""
    return bool(buf.context.runtime_context.capabilities.cuda_array_interface)


def host_copy(buf, what: str) -> np.ndarray:
    """`buf`'s contents on the host, warning once per function and backend that the
    exchange copies."""
    key = (what, buf.context.backend)
    if key not in _warned:
        _warned.add(key)
        warnings.warn(f"{what}: the {buf.context.backend} backend's memory cannot be shared "
                      f"with CUDA libraries here, so the data is copied through the host "
                      f"(the CUDA backend shares it: vd.initialize(backend='cuda'))",
                      RuntimeWarning, stacklevel=3)
    return np.from_dlpack(buf, device="cpu")
