"""ComputePlan: a kernel written by hand (GLSL or SPIR-V on Vulkan, CUDA C on CUDA,
OpenCL C on OpenCL) with explicit bindings, dispatched through the same CommandGraph
as generated shaders - the way Kompute users work."""
from __future__ import annotations

from typing import Optional, Sequence

from ..base.abi import (BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE,
                        Binding, ProgramInfo, ProgramOptions, check_entry_point)
from ..base.buffer import Buffer
from ..base.context import get_context
from ..execution.command_graph import global_graph
from ..execution.kernel import kernel_from_source
from .launch import _as_dims, check_workgroups

_KINDS = {"buffer": BINDING_STORAGE_BUFFER, "sampled_image": BINDING_SAMPLED_IMAGE,
          "storage_image": BINDING_STORAGE_IMAGE}


class ComputePlan:
    """A compiled hand-written kernel.

    source: GLSL text or SPIR-V bytes (Vulkan), CUDA C (CUDA) or OpenCL C (OpenCL).
    bindings: kinds of the resources in binding order: "buffer", "sampled_image" or
        "storage_image" (Vulkan binding i / kernel parameter i).
    local_size: the workgroup size the source declares (CUDA/OpenCL launch with it).
    push_constant_size: bytes of push constants (Vulkan) / trailing by-value kernel
        arguments are not supported on CUDA/OpenCL: pass data in buffers there.
    specialization: {constant_id: value} for Vulkan specialization constants.
    entry_point: the kernel's name ("main" for GLSL): an ASCII identifier of at most
        base.abi.MAX_ENTRY_POINT characters (PoCL cannot link a kernel named with 255 or more
        and aborts the process on longer names)."""

    def __init__(self, source, bindings: Sequence[str] = ("buffer",), local_size=(64, 1, 1),
                 push_constant_size: int = 0, specialization: Optional[dict] = None,
                 entry_point: str = "main"):
        check_entry_point(entry_point)
        if not isinstance(source, (str, bytes, bytearray)):
            raise TypeError(f"source must be kernel source text (GLSL, CUDA C or OpenCL C) or "
                            f"SPIR-V bytes, got {type(source).__name__}")
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
        if push_constant_size and self.context.codegen_target != "glsl":
            raise ValueError("push constants exist in GLSL/SPIR-V kernels (Vulkan) only; "
                             "pass the values in a buffer on CUDA/OpenCL")
        self.local_size = _as_dims(local_size, "local_size")
        self.info = ProgramInfo(entry_point=entry_point, local_size=self.local_size,
                                bindings=tuple(kinds), uniform_size=push_constant_size,
                                uniform_in_push_constants=True)
        self.kernel = kernel_from_source(self.context, source, self.info,
                                         ProgramOptions.make(specialization))
        self.program = self.kernel.program

    def __call__(self, workgroups, resources: Sequence, push_constants: bytes = b"",
                 graph=None) -> None:
        """Record a launch of `workgroups` with `resources` (Buffers / Images, in binding
        order) and raw `push_constants` bytes into `graph` (default: the global graph)."""
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
        (graph if graph is not None else global_graph()).record(self.kernel, groups, resources,
                                                                push)
