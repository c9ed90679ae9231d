"""Turn pyopencl errors into typed vkdispatch errors naming the call."""
from __future__ import annotations

import pyopencl as cl

from ...base.errors import DeviceError, OutOfMemoryError

_STATUS = cl.status_code
# Codes that mean "no memory for this": the context itself stays usable.
_OOM = frozenset({_STATUS.MEM_OBJECT_ALLOCATION_FAILURE, _STATUS.OUT_OF_RESOURCES,
                  _STATUS.OUT_OF_HOST_MEMORY})


def error_for(exc: Exception, call: str, detail: str = "") -> DeviceError:
    """The vkdispatch error for a pyopencl exception raised by `call`."""
    code = getattr(exc, "code", None)
    msg = f"{call} failed: {exc}" + (f" ({detail})" if detail else "")
    if code in _OOM:
        return OutOfMemoryError(msg)
    return DeviceError(msg)
