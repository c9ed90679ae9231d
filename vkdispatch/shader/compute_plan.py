"""ComputePlan: a kernel written by hand (GLSL or SPIR-V on Vulkan, CUDA C on CUDA,
OpenCL C on OpenCL) with explicit bindings, dispatched through the same CommandGraph
as generated shaders - the way Kompute users work."""
from __future__ import annotations

from typing import Optional, Sequence

from ..base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE, Binding, ProgramInfo
from ..base.buffer import Buffer
from ..base.context import get_context
from .launch import _as_dims, check_workgroups

_KINDS = {"buffer": BINDING_STORAGE_BUFFER, "sampled_image": BINDING_SAMPLED_IMAGE,
          "storage_image": BINDING_STORAGE_IMAGE}


class _RawPacker:
    """Stands in for a shader's uniform packer: push-constant bytes are given as is."""

    def __init__(self, size: int):
        self.size = size
        self.fields = []
        self.types = {}

    def pack(self, values: dict) -> bytes:
        return b""


class _Emitted:
    __slots__ = ("source", "info", "target")

    def __init__(self, source, info, target):
        self.source, self.info, self.target = source, info, target


class ComputePlan:
    """A compiled hand-written kernel.

    source: GLSL text or SPIR-V bytes (Vulkan), CUDA C (CUDA) or OpenCL C (OpenCL).
    bindings: kinds of the resources in binding order: "buffer", "sampled_image" or
        "storage_image" (Vulkan binding i / kernel parameter i).
    local_size: the workgroup size the source declares (CUDA/OpenCL launch with it).
    push_constant_size: bytes of push constants (Vulkan) / trailing by-value kernel
        arguments are not supported on CUDA/OpenCL: pass data in buffers there.
    specialization: {constant_id: value} for Vulkan specialization constants.
    entry_point: the kernel's name ("main" for GLSL)."""

    def __init__(self, source, bindings: Sequence[str] = ("buffer",), local_size=(64, 1, 1),
                 push_constant_size: int = 0, specialization: Optional[dict] = None,
                 entry_point: str = "main"):
        self.context = get_context()
        kinds = []
        for i, k in enumerate(bindings):
            if k not in _KINDS:
                raise ValueError(f"bindings[{i}] must be one of {sorted(_KINDS)}, got {k!r}")
            kinds.append(Binding(f"binding{i}", _KINDS[k], i))
        if not isinstance(push_constant_size, int) or push_constant_size < 0 \
                or push_constant_size % 4:
            raise ValueError(f"push_constant_size must be a non-negative multiple of 4, got "
                             f"{push_constant_size!r}")
        if push_constant_size and self.context.backend != "vulkan":
            raise ValueError("push constants exist on the Vulkan backend only; pass the values "
                             "in a buffer on CUDA/OpenCL")
        self.local_size = _as_dims(local_size, "local_size")
        self.info = ProgramInfo(entry_point=entry_point, local_size=self.local_size,
                                bindings=tuple(kinds), uniform_size=push_constant_size,
                                uniform_in_push_constants=True)
        kwargs = {"specialization": dict(specialization)} if specialization else {}
        if specialization and self.context.backend != "vulkan":
            raise ValueError("specialization constants exist on the Vulkan backend only")
        self.program = self.context.runtime_context.create_program(source, self.info, **kwargs)
        self.context.register(self.program)
        # what CommandGraph.record_shader reads; hand-written kernels may reach memory
        # other than through their bindings, so graphs keep every barrier around them
        self.hand_written = True
        self.emitted = _Emitted(source, self.info, self.context.codegen_target)
        self.packer = _RawPacker(push_constant_size)
        self.binding_params = [b.name for b in self.info.bindings]
        self.uniform_params = []

    def __call__(self, workgroups, resources: Sequence, push_constants: bytes = b"",
                 graph=None) -> None:
        """Record a launch of `workgroups` with `resources` (Buffers / Images, in binding
        order) and raw `push_constants` bytes into `graph` (default: the global graph)."""
        from ..execution.command_graph import global_graph
        resources = list(resources)
        if len(resources) != len(self.info.bindings):
            raise ValueError(f"this plan has {len(self.info.bindings)} bindings; got "
                             f"{len(resources)} resources")
        for i, (b, r) in enumerate(zip(self.info.bindings, resources)):
            if b.kind == BINDING_STORAGE_BUFFER and not isinstance(r, Buffer):
                raise TypeError(f"resources[{i}] must be a vd.Buffer, got {type(r).__name__}")
        push = bytes(push_constants)
        if len(push) != self.info.uniform_size:
            raise ValueError(f"push_constants must be exactly {self.info.uniform_size} bytes, got "
                             f"{len(push)}")
        groups = check_workgroups(_as_dims(workgroups, "workgroups"), self.context.device)
        bound = {b.name: r for b, r in zip(self.info.bindings, resources)}
        (graph if graph is not None else global_graph()).record_shader(self, groups, bound, raw_uniform=push)
