"""Mapping-function hooks of FFT kernels (vkdispatch 0.1's shapes): `input_map` reads
each input element, `output_map` writes each output element and `kernel_map` changes
each frequency-domain value of a convolution, all inside the FFT kernel. While a map
runs, `vd.fft.read_op()` / `vd.fft.write_op()` give the element it handles: its
`register` (the value, of the compute type), `io_index` (its flat index in the
transform's buffer shape) and `fft_index` (its index along the transformed axis)."""
from __future__ import annotations

import threading

from ..base.errors import CodegenError
from ..codegen import ir
from ..codegen.functions.memory import new
from ..codegen.types import BUFFER
from ..codegen.variables import ShaderVariable
from ..shader.map import MappingFunction
from ..shader.signature import check_buffer_argument

_tls = threading.local()


class ReadOp:
    """The element an input or kernel map reads: set `register` (register[:] = ...) or
    call read_from_buffer."""

    def __init__(self, register, io_index, fft_index):
        self.register = register
        self.io_index = io_index
        self.fft_index = fft_index

    def read_from_buffer(self, buffer, register=None, io_index=None) -> None:
        """register[:] = buffer[io_index] (both default to this element's; 0.1's
        argument order)."""
        target = self.register if register is None else register
        value = buffer[self.io_index if io_index is None else io_index]
        target[:] = value.cast(target.dtype) if value.dtype is not target.dtype else value


class WriteOp:
    """The element an output map writes: its value `register`."""

    def __init__(self, register, io_index, fft_index):
        self.register = register
        self.io_index = io_index
        self.fft_index = fft_index

    def write_to_buffer(self, buffer, register=None, io_index=None) -> None:
        """buffer[io_index] = register (both default to this element's; 0.1's
        argument order)."""
        value = self.register if register is None else register
        if value.dtype is not buffer.dtype:
            value = value.cast(buffer.dtype)
        buffer[self.io_index if io_index is None else io_index] = value


def read_op() -> ReadOp:
    """The element the running input_map / kernel_map handles."""
    op = getattr(_tls, "read", None)
    if op is None:
        raise CodegenError("vd.fft.read_op() is available only inside an input_map or "
                           "kernel_map while vd.fft generates its kernel")
    return op


def write_op() -> WriteOp:
    """The element the running output_map handles."""
    op = getattr(_tls, "write", None)
    if op is None:
        raise CodegenError("vd.fft.write_op() is available only inside an output_map "
                           "while vd.fft generates its kernel")
    return op


def mapped_kernel_index():
    """Inside a convolve's kernel_map or output_map: which of its `kernel_num` kernels
    is being applied (0, 1, ...; a Python int while the kernel is traced); None
    elsewhere (vkdispatch 0.1's vd.fft.mapped_kernel_index)."""
    return getattr(_tls, "kernel", None)


class kernel_index:
    """`with kernel_index(k):` maps traced inside see mapped_kernel_index() == k."""

    def __init__(self, k: int):
        self.k = k

    def __enter__(self):
        self.saved = getattr(_tls, "kernel", None)
        _tls.kernel = self.k

    def __exit__(self, *exc):
        _tls.kernel = self.saved


def _check_map(m, what):
    if m is not None and not isinstance(m, MappingFunction):
        raise TypeError(f"{what} must be a vd.map mapping function, got {type(m).__name__}")
    return m


class Hooks:
    """The maps of one call; `key` identifies the kernel (maps by identity)."""

    ROLES = ("output_map", "input_map", "kernel_map")
    PREFIX = {"output_map": "om", "input_map": "im", "kernel_map": "km"}

    def __init__(self, input_map=None, output_map=None, kernel_map=None):
        self.maps = {"output_map": _check_map(output_map, "output_map"),
                     "input_map": _check_map(input_map, "input_map"),
                     "kernel_map": _check_map(kernel_map, "kernel_map")}
        self.key = tuple(self.maps[r] for r in self.ROLES)
        self.vars = {}

    def __bool__(self) -> bool:
        return any(self.maps.values())

    def has(self, role) -> bool:
        return self.maps[role] is not None

    def names(self, role) -> list:
        m = self.maps[role]
        return [f"{self.PREFIX[role]}_{n}" for n in m.param_names] if m else []

    def count(self, role) -> int:
        m = self.maps[role]
        return len(m.buffer_types) if m else 0

    def declare(self, b) -> None:
        """Declare every map's parameters in the kernel being traced."""
        for role in self.ROLES:
            m = self.maps[role]
            if m is None:
                continue
            out = []
            for t, name in zip(m.buffer_types, self.names(role)):
                if t.kind == BUFFER:
                    var = b.new_var(t.dtype, ir.BUFFER, name=name, mutable=True)
                else:
                    var = b.new_var(t.dtype, ir.UNIFORM, name=name)
                b.add_param(name, t.kind, var)
                out.append(ShaderVariable(b, var))
            self.vars[role] = out

    def call(self, role, op):
        """Run map `role` on element `op`."""
        attr = "write" if role == "output_map" else "read"
        setattr(_tls, attr, op)
        try:
            self.maps[role].callback(*self.vars[role])
        finally:
            setattr(_tls, attr, None)

    def read(self, role, compute, io_index, fft_index, initial=None) -> ShaderVariable:
        """The value map `role` leaves in a fresh register (starting at `initial`)."""
        reg = new(compute) if initial is None else new(compute, initial)
        self.call(role, ReadOp(reg, io_index, fft_index))
        return ShaderVariable(reg.builder, reg.builder.bind(reg.node))

    def values(self, role, args) -> tuple:
        """({buffer param: Buffer}, {uniform param: value}) of map `role`'s arguments."""
        m = self.maps[role]
        buffers, uniforms = {}, {}
        if m is None:
            return buffers, uniforms
        for t, name, a in zip(m.buffer_types, self.names(role), args):
            if t.kind == BUFFER:
                check_buffer_argument(f"{role} parameter {name[3:]!r}", t, a)
                buffers[name] = a
            else:
                uniforms[name] = a
        return buffers, uniforms
