"""Turn cuda.bindings driver results into values or typed vkdispatch errors.

Every driver call returns a tuple `(CUresult, *outputs)`; `check(result, "cuCall")`
returns the outputs (None, one value, or a tuple) and raises OutOfMemoryError or
DeviceError naming the call otherwise.
"""
from __future__ import annotations

from cuda.bindings import driver

from ...base.errors import DeviceError, OutOfMemoryError

CUresult = driver.CUresult

_OOM = frozenset({CUresult.CUDA_ERROR_OUT_OF_MEMORY})


def describe(err) -> str:
    """'CUDA_ERROR_X: description' of a CUresult (the driver's own words)."""
    try:
        name = CUresult(err).name
    except ValueError:
        name = f"CUresult {int(err)}"
    try:
        e, text = driver.cuGetErrorString(err)
        if not e and text:
            return f"{name}: {text.decode(errors='replace')}"
    except Exception:  # the driver itself is gone; the name is enough
        pass
    return name


def error_for(err, call: str, detail: str = "") -> DeviceError:
    msg = f"{call} failed with {describe(err)}" + (f" ({detail})" if detail else "")
    if err in _OOM:
        return OutOfMemoryError(msg)
    return DeviceError(msg)


def check(result, call: str, detail: str = ""):
    """The outputs of a driver call, or raise naming `call` (and `detail`)."""
    err = result[0]
    if err:
        raise error_for(err, call, detail)
    n = len(result)
    if n == 1:
        return None
    if n == 2:
        return result[1]
    return result[1:]


def quiet(result) -> bool:
    """For teardown paths: True on success; failures are ignored (the resource is
    gone or the context is being torn down anyway)."""
    return not result[0]
