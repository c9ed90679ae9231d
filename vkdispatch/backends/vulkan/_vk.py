"""The cffi layer under the Vulkan backend.

We call the `vulkan` package's raw cffi `lib` (the loader, dlopen'ed) rather than its
keyword wrappers: those build every struct through Python keyword constructors
(20-40 us each), the raw calls cost about a microsecond. `check` turns a failed
VkResult into a typed vkdispatch error that names the call.
"""
from __future__ import annotations

import numpy as np
import vulkan as vk
from vulkan._vulkan import ffi, lib

from ...base.errors import DeviceError, InvalidArgumentError, OutOfMemoryError
from .. import hostcopy

__all__ = ["vk", "ffi", "lib", "NULL", "check", "call", "new", "out", "enumerate_",
           "cstrings", "chain", "version_tuple", "make_version", "UINT64_MAX", "WHOLE_SIZE",
           "memmove"]

NULL = ffi.NULL
UINT64_MAX = 2 ** 64 - 1
WHOLE_SIZE = UINT64_MAX      # the vulkan package spells VK_WHOLE_SIZE as -1
_RESULT_NAMES = dict(ffi.typeof("VkResult").elements)   # value -> "VK_ERROR_..."
_OOM_RESULTS = frozenset({
    vk.VK_ERROR_OUT_OF_HOST_MEMORY, vk.VK_ERROR_OUT_OF_DEVICE_MEMORY,
    vk.VK_ERROR_OUT_OF_POOL_MEMORY, vk.VK_ERROR_FRAGMENTED_POOL,
    vk.VK_ERROR_TOO_MANY_OBJECTS,
})


def result_name(result: int) -> str:
    return _RESULT_NAMES.get(result, f"VkResult {result}")


def error(result: int, call: str, detail: str = "") -> DeviceError:
    msg = f"{call} failed with {result_name(result)}" + (f" ({detail})" if detail else "")
    return (OutOfMemoryError if result in _OOM_RESULTS else DeviceError)(msg)


def check(result: int, call: str, detail: str = "") -> int:
    """Return a non-error VkResult (VK_SUCCESS, VK_TIMEOUT, VK_INCOMPLETE...), raise otherwise."""
    if result < 0:
        raise error(result, call, detail)
    return result


def call(name: str, *args, detail: str = "") -> int:
    """`lib.<name>(*args)`, checked."""
    return check(getattr(lib, name)(*args), name, detail)


def device_function(device, name: str):
    """Extension entry point `name` of `device` (vkGetDeviceProcAddr), typed as its
    PFN_; InvalidArgumentError where the device has none."""
    fn = ffi.cast(f"PFN_{name}", lib.vkGetDeviceProcAddr(device.handle, name.encode()))
    if fn == ffi.NULL:
        raise InvalidArgumentError(f"{device.phys.name} has no {name}")
    return fn


def new(ctype: str, **fields):
    """A zeroed `ctype *` with `fields` assigned. Pointer fields do not keep their
    targets alive: the caller holds them until the Vulkan call returns."""
    p = ffi.new(ctype + " *")
    for k, v in fields.items():
        setattr(p, k, v)
    return p


def out(ctype: str):
    """Storage for one output value of `ctype` (read it as `p[0]`)."""
    return ffi.new(ctype + " *")


def enumerate_(fn, name: str, ctype: str, *args):
    """The two-call idiom of vkEnumerate*/vkGet*: a cdata array owning the results
    (items are references into it: use them while the array is held)."""
    count = ffi.new("uint32_t *")
    r = fn(*args, count, NULL)
    if r is not None:
        check(r, name)
    arr = ffi.new(f"{ctype}[]", count[0])
    if count[0]:
        r = fn(*args, count, arr)
        if r is not None:
            check(r, name)
    return arr


def cstrings(names):
    """(char*[] array, keepalive) for a list of Python strings."""
    keep = [ffi.new("char[]", n.encode()) for n in names]
    return ffi.new("char *[]", keep) if keep else NULL, keep


def chain(structs) -> None:
    """Link `structs` (each a cdata pointer with sType set) through pNext, in order."""
    for a, b in zip(structs, structs[1:]):
        a.pNext = ffi.cast("void *", b)


def string(chars) -> str:
    return ffi.string(chars).decode(errors="replace")


def make_version(major: int, minor: int, patch: int = 0) -> int:
    return (major << 22) | (minor << 12) | patch


def version_tuple(v: int) -> tuple:
    return ((v >> 22) & 0x7F, (v >> 12) & 0x3FF, v & 0xFFF)


def memmove(dst, src, nbytes: int) -> None:
    """Copy `nbytes` between two non-overlapping cffi pointers (large copies on threads)."""
    if nbytes < hostcopy.PARALLEL_MIN:
        ffi.memmove(dst, src, nbytes)
    else:
        hostcopy.copy(np.frombuffer(ffi.buffer(dst, nbytes), np.uint8),
                      np.frombuffer(ffi.buffer(src, nbytes), np.uint8))
