"""The kernel ABI (a leaf): what a runtime must know to build and launch a generated
kernel - its bindings, its uniform fields and their packing. Codegen produces it,
backends consume it; both import it from here, so neither imports the other."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import dtype as dt
from .errors import InvalidArgumentError

BINDING_STORAGE_BUFFER = "storage_buffer"
BINDING_UNIFORM_BUFFER = "uniform_buffer"
BINDING_SAMPLED_IMAGE = "sampled_image"
BINDING_STORAGE_IMAGE = "storage_image"
# a buffer the kernel reaches through its device address, which the runtime writes into
# the uniform block at `uniform_offset` (Vulkan, for buffers over maxStorageBufferRange)
BINDING_BUFFER_ADDRESS = "buffer_address"


@dataclass(frozen=True)
class Binding:
    """One resource a kernel reads or writes, in kernel-parameter order."""

    name: str
    kind: str          # BINDING_*
    index: int         # Vulkan binding number / CUDA & OpenCL parameter position
    dtype: str = ""    # element dtype name (images: texel scalar); informative
    dim: int = 1       # images: 1, 2 or 3
    writable: bool = True
    uniform_offset: int = -1   # buffer_address: where its 8-byte address goes in the uniforms
    arrayed: bool = False      # images: an array of layers the kernel indexes
    filtered: bool = False     # sampled images: read through the bound sampler (not only fetched)


@dataclass(frozen=True)
class UniformField:
    name: str
    dtype: str         # vkdispatch dtype name
    offset: int        # byte offset in the packed uniform block (std430)
    size: int          # bytes


@dataclass(frozen=True)
class ProgramInfo:
    """What the runtime must know to build and launch a generated kernel."""

    entry_point: str
    local_size: tuple                  # (x, y, z)
    bindings: tuple = ()               # tuple[Binding]
    uniforms: tuple = ()               # tuple[UniformField], packed per std430
    uniform_size: int = 0
    uniform_in_push_constants: bool = True   # Vulkan: push constants, else UBO at `uniform_binding`
    uniform_binding: int = -1
    shared_memory: int = 0             # static bytes, checked against the device limit
    features: frozenset = frozenset()  # device features the kernel needs (names of DeviceInfo flags)


# PoCL names a file after the kernel and aborts the process (no error) when the kernel's
# name has 254 characters or more: entry points are held to this on every backend
MAX_ENTRY_POINT = 128


def check_entry_point(name) -> str:
    """`name` if it is an entry point every backend can build: an ASCII identifier of at
    most MAX_ENTRY_POINT characters (TypeError for a non-str, else InvalidArgumentError)."""
    if not isinstance(name, str):
        raise TypeError(f"entry_point must be a str, got {type(name).__name__}")
    if not (name.isascii() and name.isidentifier()):
        raise InvalidArgumentError(f"entry_point must be an ASCII identifier (letters, "
                                   f"digits, '_'), got {name[:80]!r}")
    if len(name) > MAX_ENTRY_POINT:
        raise InvalidArgumentError(f"entry_point has {len(name)} characters; at most "
                                   f"{MAX_ENTRY_POINT} work on every backend (PoCL aborts "
                                   f"the process on names of 254 or more): {name[:40]}...")
    return name


@dataclass(frozen=True)
class ProgramOptions:
    """How a runtime builds a program, the same type on every backend. A backend that
    cannot honour an option raises UnsupportedFeatureError naming it.

    specialization: ((constant_id, value), ...) Vulkan specialization constants.
    build_flags: extra compiler flags (OpenCL C build options, NVRTC options)."""

    specialization: tuple = ()
    build_flags: tuple = ()

    @classmethod
    def make(cls, specialization=None, build_flags=()) -> "ProgramOptions":
        spec = tuple(sorted((int(k), v) for k, v in dict(specialization or {}).items()))
        return cls(spec, tuple(str(f) for f in build_flags))

    def __bool__(self) -> bool:
        return bool(self.specialization or self.build_flags)


NO_OPTIONS = ProgramOptions()


# (numpy kind, itemsize) -> struct code with standard sizes
_STRUCT_CODES = {("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q",
                 ("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q",
                 ("f", 2): "e", ("f", 4): "f", ("f", 8): "d"}


class UniformPacker:
    """Packs Const/Var values into the uniform bytes a ProgramInfo describes."""

    def __init__(self, info):
        self.size = info.uniform_size
        self.fields = []
        self.types = {f.name: dt.from_name(f.dtype) for f in info.uniforms}
        self._fast = []    # (name, offset, struct format, python types accepted) per field
        for f in info.uniforms:
            t = dt.from_name(f.dtype)
            nd = dt.storage_numpy_dtype(t)
            self.fields.append((f.name, f.offset, t, nd))
            fast = None
            code = _STRUCT_CODES.get((nd.kind, nd.itemsize))
            if code and not t.is_matrix:
                accepted = (float, int) if t.is_float else (int,)
                fast = (struct.Struct(f"<{t.count}{code}"), accepted)
            self._fast.append(fast)
        self._whole, self._counts = self._whole_layout()
        self._vectors = any(n > 1 for n in self._counts)

    def _whole_layout(self):
        """One struct for the whole block when every field is plain numbers (the fast
        path of `pack_sequence`), with each field's component count."""
        if any(f is None for f in self._fast):
            return None, ()
        fmt, pos = "<", 0
        for (name, offset, t, nd), (one, _) in sorted(zip(self.fields, self._fast),
                                                      key=lambda x: x[0][1]):
            fmt += f"{offset - pos}x" if offset > pos else ""
            fmt += one.format[1:]
            pos = offset + one.size
        fmt += f"{self.size - pos}x" if self.size > pos else ""
        order = sorted(range(len(self.fields)), key=lambda i: self.fields[i][1])
        if order != list(range(len(self.fields))):
            return None, ()
        return struct.Struct(fmt), tuple(t.count for _, _, t, _ in self.fields)

    def flat_layout(self):
        """(struct.Struct packing the whole block from flat numbers in field order, the
        component count of each field), or None when some field is not plain numbers:
        for producers that generate their own binder (see `pack_sequence`)."""
        return None if self._whole is None else (self._whole, self._counts)

    def pack_sequence(self, values) -> Optional[bytes]:
        """The block for `values` given in field order, or None when struct cannot pack
        them as they are (a value of another kind, out of range, a vector given as other
        than a tuple): then `pack` converts or names the problem. Where this answers it
        equals `pack`: struct converts numbers as numpy's casts do and refuses the rest."""
        whole = self._whole
        if whole is None or len(values) != len(self._counts):
            return None
        if self._vectors:
            flat = []
            for v, n in zip(values, self._counts):
                if n == 1:
                    flat.append(v)
                elif type(v) is tuple and len(v) == n:
                    flat.extend(v)
                else:
                    return None
            values = flat
        try:
            return whole.pack(*values)
        except (struct.error, OverflowError, TypeError):
            return None

    def pack(self, values: dict) -> bytes:
        out = bytearray(self.size)
        for (name, offset, t, nd), fast in zip(self.fields, self._fast):
            value = values[name]
            raw = None
            if fast is not None:   # plain Python numbers: skip numpy (most calls)
                packer, accepted = fast
                parts = value if type(value) is tuple else (value,)
                if len(parts) == t.count and all(type(v) in accepted for v in parts):
                    try:
                        raw = packer.pack(*parts)
                    except (struct.error, OverflowError):
                        raise ValueError(f"parameter {name!r}: {value!r} does not fit in "
                                         f"{t.name}") from None
            if raw is None:
                raw = self.encode(name, value, t, nd)
            out[offset:offset + len(raw)] = raw
        return bytes(out)

    @staticmethod
    def encode(name, value, t, nd) -> bytes:
        if hasattr(value, "__array__") and not isinstance(value, (np.ndarray, np.generic)):
            # a device buffer or array: numpy would copy it to the host, silently
            raise TypeError(f"parameter {name!r} is a {t.name} constant; got {type(value).__name__}")
        try:
            arr = np.asarray(value)
            if t.is_complex:
                if arr.dtype.kind not in "biufc":
                    raise TypeError
                arr = arr.astype(nd)
            else:
                if arr.dtype.kind == "c":
                    raise TypeError(f"parameter {name!r} is {t.name}; got a complex value")
                if arr.dtype.kind not in "biuf":
                    raise TypeError
                if nd.kind in "iu" and arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
                    raise TypeError(f"{t.name} takes integers")
                source = arr
                with np.errstate(over="ignore", invalid="ignore"):
                    arr = arr.astype(nd)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"parameter {name!r} needs a {t.name} value, got {value!r}"
                            + (f" ({exc})" if str(exc) else "")) from None
        if nd.kind == "f" and not t.is_complex and np.any(np.isinf(arr) & np.isfinite(source)):
            raise ValueError(f"parameter {name!r}: {value!r} does not fit in {t.name} (largest "
                             f"{np.finfo(nd).max:g})")
        if nd.kind in "iu" and arr.size and not t.is_complex:
            info = np.iinfo(nd)   # numpy's cast would wrap silently
            if source.min() < info.min or source.max() > info.max:
                raise ValueError(f"parameter {name!r}: {value!r} does not fit in {t.name} "
                                 f"[{info.min}, {info.max}]")
        if arr.size != t.count and not (t.is_complex and arr.size == 1):
            raise ValueError(f"parameter {name!r} is {t.name} ({t.count} values); got "
                             f"{arr.size} value(s)")
        return np.ascontiguousarray(arr).tobytes()
