"""DLPack's C structures (dlpack.h, version 1.0) and capsules over them, with ctypes.

The capsules' destructor and the managed tensors' deleter must run as C: a consumer
may drop a capsule or a tensor while a Python exception is in flight, and a Python
callback (ctypes) then loses that exception. So vkdispatch reuses NumPy's own, taken
from capsules NumPy makes: NumPy's deleter frees the PyMem block of the managed
tensor and releases the Python object in `manager_ctx` (holding the GIL, and doing
nothing once the interpreter is gone); its capsule destructor calls the deleter of a
capsule no consumer took, with any in-flight exception saved. Our block holds the
struct, shape and strides; `manager_ctx` is a `_Keep` owning what the memory needs.
Both behaviours are checked on a probe at import.
"""
from __future__ import annotations

import ctypes
import struct
from ctypes import Structure, c_char_p, c_int, c_int32, c_int64, c_uint8, c_uint16
from ctypes import c_uint32, c_uint64, c_void_p

import numpy as np

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


_capsule_new = _api("PyCapsule_New", ctypes.py_object, c_void_p, c_void_p, c_void_p)
_capsule_is_valid = _api("PyCapsule_IsValid", c_int, c_void_p, c_void_p)
_capsule_get_pointer = _api("PyCapsule_GetPointer", c_void_p, c_void_p, c_void_p)
_capsule_set_name = _api("PyCapsule_SetName", c_int, c_void_p, c_void_p)
_raw_malloc = _api("PyMem_RawMalloc", c_void_p, ctypes.c_size_t)


def _permanent(text: bytes) -> int:
    """A C string that is never freed: a capsule keeps a pointer to its name, and a
    capsule may outlive this module's globals at interpreter exit."""
    ptr = _raw_malloc(len(text) + 1)
    ctypes.memmove(ptr, c_char_p(text), len(text) + 1)
    return ptr


NAME, USED = _permanent(b"dltensor"), _permanent(b"used_dltensor")
NAME_V, USED_V = _permanent(b"dltensor_versioned"), _permanent(b"used_dltensor_versioned")


class _Keep:
    """What one exported tensor keeps alive; its last reference is NumPy's deleter's."""
    __slots__ = ("objects",)
    live = 0

    def __init__(self, objects):
        self.objects = objects
        _Keep.live += 1

    def __del__(self):
        _Keep.live -= 1


def live_count() -> int:
    """How many exported tensors no consumer has released yet (for leak tests)."""
    return _Keep.live


_capsule_get_destructor = _api("PyCapsule_GetDestructor", c_void_p, c_void_p)
_pymem_malloc = _api("PyMem_Malloc", c_void_p, ctypes.c_size_t)
_pymem_free = _api("PyMem_Free", None, c_void_p)
_incref = _api("Py_IncRef", None, ctypes.py_object)
_decref = _api("Py_DecRef", None, ctypes.py_object)


def _numpy_hooks(versioned: bool):
    """(capsule destructor, deleter) addresses of NumPy's capsules of this kind, or None
    where this NumPy makes none or keeps something else in `manager_ctx`."""
    probe = np.arange(2.0)
    try:
        capsule = probe.__dlpack__(max_version=(1, 0)) if versioned else probe.__dlpack__()
    except TypeError:      # a NumPy before DLPack 1.0
        return None
    name, kind = (NAME_V, DLManagedTensorVersioned) if versioned else (NAME, DLManagedTensor)
    if not _capsule_is_valid(id(capsule), name):
        return None
    managed = kind.from_address(_capsule_get_pointer(id(capsule), name))
    if managed.manager_ctx != id(probe):
        return None
    return (_capsule_get_destructor(id(capsule)),
            ctypes.cast(managed.deleter, c_void_p).value)


_HOOKS = {False: _numpy_hooks(False), True: _numpy_hooks(True)}


# A managed tensor made here is one PyMem block: the struct, then shape and strides,
# filled with one struct.pack_into (a ctypes field at a time costs ~20 us a capsule).
_TENSOR = "P ii i BBH P P Q"                       # DLTensor
_LEGACY = "@" + _TENSOR + " P P"                   # + manager_ctx, deleter
_VERSIONED = "@II P P Q " + _TENSOR                # version, manager_ctx, deleter, flags
_layouts: dict = {}     # (versioned, ndim) -> (Struct, head size, ctypes block type)


def _layout(versioned: bool, ndim: int):
    key = (versioned, ndim)
    if key not in _layouts:
        head = struct.Struct(_VERSIONED if versioned else _LEGACY)
        kind = DLManagedTensorVersioned if versioned else DLManagedTensor
        assert head.size == ctypes.sizeof(kind), "DLPack struct layout mismatch"
        full = struct.Struct(head.format + f" {ndim}q {ndim}q")
        _layouts[key] = (full, head.size, ctypes.c_char * full.size)
    return _layouts[key]


def make_capsule(keep, data: int, device: tuple, shape: tuple, strides: tuple,
                 dtype: tuple, flags: int, versioned: bool):
    """A "dltensor_versioned" (or legacy "dltensor") capsule of a tensor at `data`;
    `keep` is held until the consumer releases the tensor. `strides` in elements. A
    versioned capsule is made only where NumPy makes them (it gives the deleter)."""
    if versioned and _HOOKS[True] is None:
        versioned = False
    hooks = _HOOKS[versioned]
    if hooks is None:
        raise BufferError("DLPack export needs NumPy's DLPack capsules (NumPy >= 1.22)")
    ndim = len(shape)
    fmt, head, block_type = _layout(versioned, ndim)
    address = _pymem_malloc(max(fmt.size, 1))
    if not address:
        raise MemoryError("PyMem_Malloc failed for a DLPack tensor")
    owner = _Keep(keep)
    tensor = (data or 0, device[0], device[1], ndim, dtype[0], dtype[1], dtype[2],
              address + head, address + head + 8 * ndim, 0)
    block = block_type.from_address(address)
    if versioned:
        fmt.pack_into(block, 0, VERSION[0], VERSION[1], id(owner), hooks[1], flags,
                      *tensor, *shape, *strides)
    else:
        fmt.pack_into(block, 0, *tensor, id(owner), hooks[1], *shape, *strides)
    _incref(owner)      # manager_ctx's reference, released by NumPy's deleter
    try:
        return _capsule_new(address, NAME_V if versioned else NAME, hooks[0])
    except BaseException:
        _decref(owner)
        _pymem_free(address)
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
