"""The CUDA backend: cuda-python's driver API and NVRTC.

Importing this package imports no CUDA module; `load_runtime()` does. `nvrtc` (the
compiler) needs no GPU, so CI can compile every generated CUDA kernel.
"""
from __future__ import annotations

from typing import Optional


def load_runtime():
    """Create the CUDA Runtime; raises BackendUnavailableError when the driver, a
    device or cuda-python is missing."""
    from .runtime import CudaRuntime
    return CudaRuntime()


def probe() -> Optional[str]:
    """None when a CUDA device can be used, else the reason it cannot (for test skips
    and backend selection). Never raises."""
    try:
        from cuda.bindings import driver
    except Exception as exc:  # cuda-python not installed
        return f"cuda-python is not importable ({type(exc).__name__}: {exc})"
    try:
        (err,) = driver.cuInit(0)
        if err != driver.CUresult.CUDA_SUCCESS:
            return f"cuInit failed with {err.name}"
        err, count = driver.cuDeviceGetCount()
        if err != driver.CUresult.CUDA_SUCCESS:
            return f"cuDeviceGetCount failed with {err.name}"
    except Exception as exc:  # no libcuda (no driver installed)
        return f"the CUDA driver is unavailable ({type(exc).__name__}: {exc})"
    if count == 0:
        return "the CUDA driver reports no device"
    return None
