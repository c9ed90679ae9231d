"""DLPack's C structures (dlpack.h, version 1.0) and capsules over them, with ctypes.

Every managed tensor vkdispatch hands out is listed in `_live` (its address -> what
keeps its memory valid) until its deleter runs; the deleter and the capsule
destructor only drop that entry, so a second call is harmless (no double free).

Both are Python callbacks. A consumer may drop a capsule while its own error is set
(numpy does, when it rejects a device), and ctypes calls fail while an error is set,
so the callbacks first take any pending error (PyErr_Fetch), clean up, and put it
back. Nothing leaks and nothing crashes on that path, but a Python callback cannot
hand the error back to its C caller: it is printed as unraisable, and the consumer
raises SystemError without its own message (numpy does).
"""
from __future__ import annotations

import ctypes
import struct
from ctypes import Structure, c_char_p, c_int, c_int32, c_int64, c_uint8, c_uint16
from ctypes import c_uint32, c_uint64, c_void_p

READ_ONLY = 1 << 0    # DLPACK_FLAG_BITMASK_READ_ONLY
IS_COPIED = 1 << 1    # DLPACK_FLAG_BITMASK_IS_COPIED
VERSION = (1, 0)      # the DLPack version of the versioned capsules made here


class DLDevice(Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DLDataType(Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(Structure):   # shape, strides: int64_t* (addresses here)
    _fields_ = [("data", c_void_p), ("device", DLDevice), ("ndim", c_int32),
                ("dtype", DLDataType), ("shape", c_void_p), ("strides", c_void_p),
                ("byte_offset", c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, c_void_p)   # void (*deleter)(DLManagedTensor* self)


class DLManagedTensor(Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c_void_p), ("deleter", DELETER)]


class DLPackVersion(Structure):
    _fields_ = [("major", c_uint32), ("minor", c_uint32)]


class DLManagedTensorVersioned(Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", c_void_p),
                ("deleter", DELETER), ("flags", c_uint64), ("dl_tensor", DLTensor)]


def _api(name, restype, *argtypes):
    """A CPython C-API function (GIL held during the call), typed here so other
    modules' settings of ctypes.pythonapi's shared attributes don't matter."""
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


_DESTRUCTOR = ctypes.CFUNCTYPE(None, c_void_p)
_capsule_new = _api("PyCapsule_New", ctypes.py_object, c_void_p, c_void_p, c_void_p)
_capsule_is_valid = _api("PyCapsule_IsValid", c_int, c_void_p, c_void_p)
_capsule_get_pointer = _api("PyCapsule_GetPointer", c_void_p, c_void_p, c_void_p)
_capsule_set_name = _api("PyCapsule_SetName", c_int, c_void_p, c_void_p)
# Untyped: a typed argument's converter would clear the pending error it must fetch.
_untyped = ctypes.PyDLL(ctypes.pythonapi._name, handle=ctypes.pythonapi._handle)
_err_fetch = _untyped.PyErr_Fetch
_err_fetch.restype = None
_err_restore = _untyped.PyErr_Restore
_err_restore.restype = None
_raw_malloc = _api("PyMem_RawMalloc", c_void_p, ctypes.c_size_t)


def _permanent(text: bytes) -> int:
    """A C string that is never freed: a capsule keeps a pointer to its name, and a
    capsule may outlive this module's globals at interpreter exit."""
    ptr = _raw_malloc(len(text) + 1)
    ctypes.memmove(ptr, c_char_p(text), len(text) + 1)
    return ptr


NAME, USED = _permanent(b"dltensor"), _permanent(b"used_dltensor")
NAME_V, USED_V = _permanent(b"dltensor_versioned"), _permanent(b"used_dltensor_versioned")

_live: dict = {}   # address of a managed tensor made here -> (struct, shape, strides, keep)


def live_count() -> int:
    """How many exported tensors no consumer has released yet (for leak tests)."""
    return len(_live)


# PyErr_Fetch's outputs, made in advance: while an error is set, every call of a C
# function (a ctypes constructor too) fails, except one that clears the error.
# Between the fetch and the reads below no other thread can run (no call releases
# the GIL there), so one set serves every thread.
_SAVED = (c_void_p(), c_void_p(), c_void_p())
_SAVED_REFS = tuple(ctypes.byref(p) for p in _SAVED)


def _take_error() -> tuple:
    _err_fetch(*_SAVED_REFS)
    return (_SAVED[0].value, _SAVED[1].value, _SAVED[2].value)


def _put_error(saved: tuple) -> None:
    if saved[0]:   # raises it here: ctypes prints it as unraisable
        _err_restore(*(c_void_p(v) for v in saved))


@DELETER
def _deleter(address):
    saved = _take_error()
    try:
        _live.pop(address, None)
    finally:
        _put_error(saved)


@_DESTRUCTOR
def _capsule_destructor(capsule):
    saved = _take_error()
    try:
        for name in (NAME_V, NAME):   # renamed "used_..." once a consumer took it
            if _capsule_is_valid(capsule, name):
                _live.pop(_capsule_get_pointer(capsule, name), None)
                break
    finally:
        _put_error(saved)


# A managed tensor made here is one block: the struct, then shape and strides. It is
# filled with one struct.pack_into (a ctypes field at a time costs ~20 us a capsule).
_TENSOR = "P ii i BBH P P Q"                       # DLTensor
_LEGACY = "@" + _TENSOR + " P P"                   # + manager_ctx, deleter
_VERSIONED = "@II P P Q " + _TENSOR                # version, manager_ctx, deleter, flags
_layouts: dict = {}                                # (versioned, ndim) -> (Struct, block type)
_DELETER_ADDRESS = ctypes.cast(_deleter, c_void_p).value
_DESTRUCTOR_PTR = ctypes.cast(_capsule_destructor, c_void_p)


def _layout(versioned: bool, ndim: int):
    key = (versioned, ndim)
    if key not in _layouts:
        head = struct.Struct(_VERSIONED if versioned else _LEGACY)
        kind = DLManagedTensorVersioned if versioned else DLManagedTensor
        assert head.size == ctypes.sizeof(kind), "DLPack struct layout mismatch"
        full = struct.Struct(head.format + f" {ndim}q {ndim}q")
        _layouts[key] = (full, head.size, ctypes.c_char * max(full.size, 1))
    return _layouts[key]


def make_capsule(keep, data: int, device: tuple, shape: tuple, strides: tuple,
                 dtype: tuple, flags: int, versioned: bool):
    """A "dltensor_versioned" (or legacy "dltensor") capsule of a tensor at `data`;
    `keep` is held until the consumer releases the tensor. `strides` in elements."""
    ndim = len(shape)
    fmt, head, block_type = _layout(versioned, ndim)
    block = block_type()
    address = ctypes.addressof(block)
    tensor = (data or 0, device[0], device[1], ndim, dtype[0], dtype[1], dtype[2],
              address + head, address + head + 8 * ndim, 0)
    if versioned:
        fmt.pack_into(block, 0, VERSION[0], VERSION[1], address, _DELETER_ADDRESS, flags,
                      *tensor, *shape, *strides)
    else:
        fmt.pack_into(block, 0, *tensor, address, _DELETER_ADDRESS, *shape, *strides)
    _live[address] = (block, keep)
    try:
        return _capsule_new(address, NAME_V if versioned else NAME, _DESTRUCTOR_PTR)
    except BaseException:
        _live.pop(address, None)
        raise


class Consumed:
    """A tensor taken out of a producer's capsule: `tensor` (a DLTensor), `flags`;
    the producer's deleter runs once, on `release()` or when this is dropped."""

    __slots__ = ("tensor", "flags", "_address", "_deleter", "__weakref__")

    def __init__(self, capsule):
        for name, used, kind in ((NAME_V, USED_V, DLManagedTensorVersioned),
                                 (NAME, USED, DLManagedTensor)):
            if _capsule_is_valid(id(capsule), name):
                break
        else:
            raise TypeError("__dlpack__ returned no unused DLPack capsule "
                            "('dltensor' or 'dltensor_versioned')")
        address = _capsule_get_pointer(id(capsule), name)
        managed = kind.from_address(address)
        if kind is DLManagedTensorVersioned and managed.version.major != VERSION[0]:
            raise BufferError(f"the producer made a DLPack {managed.version.major}."
                              f"{managed.version.minor} capsule; vkdispatch reads 1.x")
        _capsule_set_name(id(capsule), used)   # from here on, the deleter is ours to call
        self.tensor = managed.dl_tensor
        self.flags = managed.flags if kind is DLManagedTensorVersioned else 0
        self._address = address
        self._deleter = managed.deleter

    def shape(self) -> tuple:
        t = self.tensor
        return tuple((c_int64 * t.ndim).from_address(t.shape)) if t.ndim else ()

    def strides(self):
        """Strides in elements, or None (row-major compact)."""
        t = self.tensor
        if not t.strides:
            return None
        return tuple((c_int64 * t.ndim).from_address(t.strides)) if t.ndim else ()

    def release(self) -> None:
        address, self._address = self._address, None
        if address is not None and self._deleter:
            self._deleter(address)

    def __del__(self):
        try:
            self.release()
        except Exception:   # at interpreter exit the producer may be gone
            pass
