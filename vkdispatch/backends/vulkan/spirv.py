"""A small SPIR-V reader: enough reflection to check a compute module against the
ProgramInfo it is launched with, before any driver sees it (drivers answer a bad
module with VK_ERROR_UNKNOWN, a crash, or a kernel that runs with the wrong layout).

SPIR-V is a stream of little-endian 32-bit words: a header of five (magic 0x07230203,
version 0x00MMmm00, generator, id bound, schema 0), then instructions whose first word
is (word count << 16) | opcode. Only the instructions reflection needs are decoded:
entry points, execution modes, names, decorations, types and global variables.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

from ...base.errors import InvalidArgumentError

MAGIC = 0x07230203

# opcodes
OP_NAME, OP_MEMORY_MODEL, OP_ENTRY_POINT, OP_EXECUTION_MODE = 5, 14, 15, 16
OP_TYPE_IMAGE, OP_TYPE_SAMPLER, OP_TYPE_SAMPLED_IMAGE = 25, 26, 27
OP_TYPE_ARRAY, OP_TYPE_RUNTIME_ARRAY, OP_TYPE_STRUCT, OP_TYPE_POINTER = 28, 29, 30, 32
OP_FUNCTION, OP_FUNCTION_END, OP_VARIABLE, OP_DECORATE = 54, 56, 59, 71
OP_EXECUTION_MODE_ID = 331

# enums
EXECUTION_MODELS = {0: "Vertex", 1: "TessellationControl", 2: "TessellationEvaluation",
                    3: "Geometry", 4: "Fragment", 5: "GLCompute", 6: "Kernel"}
GL_COMPUTE = 5
MODE_LOCAL_SIZE, MODE_LOCAL_SIZE_ID = 17, 38
DECORATION_BLOCK, DECORATION_BUFFER_BLOCK = 2, 3
DECORATION_BUILTIN, BUILTIN_WORKGROUP_SIZE = 11, 25
DECORATION_BINDING, DECORATION_DESCRIPTOR_SET = 33, 34
SC_UNIFORM_CONSTANT, SC_UNIFORM, SC_PUSH_CONSTANT, SC_STORAGE_BUFFER = 0, 2, 9, 12
STORAGE_CLASSES = {0: "UniformConstant", 1: "Input", 2: "Uniform", 3: "Output",
                   4: "Workgroup", 5: "CrossWorkgroup", 6: "Private", 7: "Function",
                   9: "PushConstant", 11: "Image", 12: "StorageBuffer",
                   5349: "PhysicalStorageBuffer"}

# what a descriptor variable is, in ProgramInfo's binding kinds (base/abi.py)
STORAGE_BUFFER, UNIFORM_BUFFER = "storage_buffer", "uniform_buffer"
SAMPLED_IMAGE, STORAGE_IMAGE = "sampled_image", "storage_image"


class SpirvError(InvalidArgumentError):
    """The bytes are not a well-formed SPIR-V module (truncated, garbage, no entry point)."""


@dataclass(frozen=True)
class EntryPoint:
    model: int           # an ExecutionModel (5: GLCompute)
    name: str
    function: int        # the id of its OpFunction

    @property
    def model_name(self) -> str:
        return EXECUTION_MODELS.get(self.model, f"ExecutionModel {self.model}")


@dataclass(frozen=True)
class Resource:
    """A descriptor variable: (set, binding), its kind and its name (OpName, or '')."""
    set: int
    binding: int
    kind: str            # STORAGE_BUFFER, UNIFORM_BUFFER, SAMPLED_IMAGE, STORAGE_IMAGE or
    name: str            # "sampler", "separate image", "unknown (...)"


@dataclass
class Module:
    version: tuple                       # (major, minor)
    bound: int
    entry_points: list = field(default_factory=list)     # [EntryPoint]
    local_size: dict = field(default_factory=dict)       # function id -> (x, y, z)
    resources: list = field(default_factory=list)        # [Resource], in declaration order
    push_constants: list = field(default_factory=list)   # names of PushConstant variables
    workgroup_size_builtin: bool = False   # a WorkgroupSize constant overrides LocalSize

    def entry_point(self, name: str) -> Optional[EntryPoint]:
        """The GLCompute entry point called `name`, or None."""
        for ep in self.entry_points:
            if ep.name == name and ep.model == GL_COMPUTE:
                return ep
        return None

    def describe_entry_points(self) -> str:
        return ", ".join(f"{ep.name!r} ({ep.model_name})" for ep in self.entry_points) or "none"


def _string(words, start: int, end: int) -> tuple:
    """(the nul-terminated literal string from word `start`, the word after it)."""
    raw = bytearray()
    for i in range(start, end):
        chunk = struct.pack("<I", words[i])
        nul = chunk.find(b"\0")
        if nul >= 0:
            raw += chunk[:nul]
            return raw.decode("utf-8", errors="replace"), i + 1
        raw += chunk
    raise SpirvError("malformed SPIR-V: a literal string has no terminating nul")


def words_of(data) -> tuple:
    """The 32-bit words of SPIR-V bytes, after the header checks."""
    data = bytes(data)
    if len(data) % 4:
        raise SpirvError(f"malformed SPIR-V: {len(data)} bytes is not a whole number of "
                         f"32-bit words (truncated?)")
    if len(data) < 20:
        raise SpirvError(f"malformed SPIR-V: {len(data)} bytes, shorter than the 20-byte header")
    magic = int.from_bytes(data[:4], "little")
    if magic != MAGIC:
        swapped = int.from_bytes(data[:4], "big") == MAGIC
        raise SpirvError(f"not SPIR-V: the first word is 0x{magic:08x}, not the magic number "
                         f"0x{MAGIC:08x}" + (" (the module is big-endian; vkdispatch takes "
                                             "little-endian words)" if swapped else ""))
    return struct.unpack(f"<{len(data) // 4}I", data)


def parse(data) -> Module:
    """Reflect SPIR-V bytes; SpirvError (an InvalidArgumentError) when malformed."""
    words = words_of(data)
    version = words[1]
    major, minor = (version >> 16) & 0xFF, (version >> 8) & 0xFF
    if major != 1 or minor > 6 or version & 0xFF0000FF:
        raise SpirvError(f"malformed SPIR-V: version word 0x{version:08x} is no SPIR-V 1.0-1.6")
    bound = words[3]
    if not 0 < bound < (1 << 22):
        raise SpirvError(f"malformed SPIR-V: id bound {bound} is out of range")
    module = Module((major, minor), bound)

    names, decorations, variables, types = {}, {}, [], {}
    functions, memory_model, last_op = set(), False, None
    n, i = len(words), 5
    while i < n:
        count, op = words[i] >> 16, words[i] & 0xFFFF
        if count == 0:
            raise SpirvError(f"malformed SPIR-V: the instruction at word {i} has a word count of 0")
        end = i + count
        if end > n:
            raise SpirvError(f"truncated SPIR-V: the instruction at word {i} (opcode {op}) needs "
                             f"{count} words, {n - i} are left")
        a = words[i + 1:end]
        try:
            if op == OP_ENTRY_POINT:
                name, _ = _string(words, i + 3, end)
                module.entry_points.append(EntryPoint(a[0], name, a[1]))
            elif op in (OP_EXECUTION_MODE, OP_EXECUTION_MODE_ID) and a[1] == MODE_LOCAL_SIZE:
                module.local_size[a[0]] = tuple(a[2:5])
            elif op == OP_NAME:
                names[a[0]] = _string(words, i + 2, end)[0]
            elif op == OP_MEMORY_MODEL:
                memory_model = True
            elif op == OP_DECORATE:
                decorations.setdefault(a[0], {})[a[1]] = a[2] if len(a) > 2 else True
                if a[1] == DECORATION_BUILTIN and a[2] == BUILTIN_WORKGROUP_SIZE:
                    module.workgroup_size_builtin = True
            elif op in (OP_TYPE_IMAGE, OP_TYPE_SAMPLER, OP_TYPE_SAMPLED_IMAGE, OP_TYPE_ARRAY,
                        OP_TYPE_RUNTIME_ARRAY, OP_TYPE_STRUCT, OP_TYPE_POINTER):
                types[a[0]] = (op, a[1:])
            elif op == OP_VARIABLE:
                variables.append((a[0], a[1], a[2]))
            elif op == OP_FUNCTION:
                functions.add(a[1])
        except IndexError:
            raise SpirvError(f"malformed SPIR-V: the instruction at word {i} (opcode {op}) is "
                             f"too short ({count} words)") from None
        last_op, i = op, end

    if not memory_model:
        raise SpirvError("malformed SPIR-V: no OpMemoryModel (garbage after the header?)")
    if not module.entry_points:
        raise SpirvError("malformed SPIR-V: the module has no OpEntryPoint")
    if last_op != OP_FUNCTION_END:
        raise SpirvError("truncated SPIR-V: the module does not end with OpFunctionEnd")
    for ep in module.entry_points:
        if ep.function not in functions:
            raise SpirvError(f"malformed SPIR-V: entry point {ep.name!r} names no function")

    for type_id, var_id, storage in variables:
        deco = decorations.get(var_id, {})
        name = names.get(var_id) or names.get(_pointee(type_id, types), "")
        if storage == SC_PUSH_CONSTANT:
            module.push_constants.append(name)
        if storage not in (SC_UNIFORM_CONSTANT, SC_UNIFORM, SC_STORAGE_BUFFER):
            continue
        if DECORATION_BINDING not in deco and DECORATION_DESCRIPTOR_SET not in deco:
            continue
        kind = _descriptor_kind(storage, type_id, types, decorations)
        module.resources.append(Resource(int(deco.get(DECORATION_DESCRIPTOR_SET, 0)),
                                         int(deco.get(DECORATION_BINDING, 0)), kind, name))
    return module


def _pointee(pointer_type: int, types: dict) -> Optional[int]:
    op, args = types.get(pointer_type, (None, ()))
    return args[1] if op == OP_TYPE_POINTER and len(args) > 1 else None


def _descriptor_kind(storage: int, pointer_type: int, types: dict, decorations: dict) -> str:
    target = _pointee(pointer_type, types)
    while target in types and types[target][0] in (OP_TYPE_ARRAY, OP_TYPE_RUNTIME_ARRAY):
        target = types[target][1][0]           # an array of descriptors: its element
    t_op, t_args = types.get(target, (None, ()))
    if storage == SC_STORAGE_BUFFER:
        return STORAGE_BUFFER
    if storage == SC_UNIFORM:
        if DECORATION_BUFFER_BLOCK in decorations.get(target, {}):
            return STORAGE_BUFFER             # the SPIR-V 1.0 spelling of a storage buffer
        return UNIFORM_BUFFER
    if t_op == OP_TYPE_SAMPLED_IMAGE:
        return SAMPLED_IMAGE
    if t_op == OP_TYPE_IMAGE:                  # (sampled type, Dim, Depth, Arrayed, MS, Sampled, ...)
        return STORAGE_IMAGE if len(t_args) > 5 and t_args[5] == 2 else "separate image"
    if t_op == OP_TYPE_SAMPLER:
        return "sampler"
    return f"unknown ({STORAGE_CLASSES.get(storage, storage)})"
