"""The OpenCL backend (pyopencl; PoCL in CI).

Importing this package imports no pyopencl; `load_runtime()` and `probe()` do.
"""
from __future__ import annotations

from typing import Optional


def load_runtime():
    """Create the OpenCL Runtime; raises BackendUnavailableError when pyopencl or an
    OpenCL platform with a device is missing."""
    from .runtime import OpenCLRuntime
    return OpenCLRuntime()


def probe() -> Optional[str]:
    """None when an OpenCL device can be used, else the reason it cannot (for test
    skips and backend selection). Never raises."""
    try:
        import pyopencl as cl
    except Exception as exc:  # pyopencl not installed or its ICD loader is missing
        return f"pyopencl is not importable ({type(exc).__name__}: {exc})"
    try:
        platforms = cl.get_platforms()
    except Exception as exc:  # no ICD registered: PLATFORM_NOT_FOUND_KHR
        return f"no OpenCL platform ({type(exc).__name__}: {exc})"
    for platform in platforms:
        try:
            if platform.get_devices():
                return None
        except Exception:  # a platform without devices raises DEVICE_NOT_FOUND
            continue
    return "the OpenCL platforms report no device"
