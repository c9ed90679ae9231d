"""vkdispatch 0.1's inline tracing: write a kernel's body in a `with` block instead of a
function, then launch it with vd.make_shader_function.

    with vc.shader_context() as ctx:
        buf, k = ctx.declare_input_arguments([Buff[f32], Const[f32]], ["buf", "k"])
        buf[vc.global_invocation_id().x] *= k
    scale = vd.make_shader_function(ctx.get_description("scale"), exec_count=...)

The body is traced once, for the current context's device, with every array access
guarded (memory checks) and, unless ShaderFlags.NO_EXEC_BOUNDS, the invocations past
the exec size skipped."""
from __future__ import annotations

import contextlib
import dataclasses
from typing import NamedTuple, Optional

from ..base import context as _context
from . import ir
from .builder import Builder, codegen_error
from .trace import declare
from .types import ParamType, ShaderFlags, struct_param

NO_DEFAULT = object()


class DeclaredParam(NamedTuple):
    name: str
    type: ParamType
    default: object = NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


class ShaderDescription:
    """A kernel traced in a shader_context: its name, parameters, whether it skips the
    invocations past the exec size, and the traced IR (any local size)."""

    def __init__(self, name: str, params: tuple, bounds_check: bool, kernel: ir.Kernel):
        self.name = name
        self.params = params
        self.bounds_check = bounds_check
        self._kernel = kernel

    def kernel(self, local_size: tuple) -> ir.Kernel:
        """The traced kernel with `local_size` (nothing in the body depends on it)."""
        k = self._kernel
        return ir.Kernel(k.name, k.params, k.shared, k.body, tuple(local_size),
                         k.memory_checks, k.sites)

    def __repr__(self) -> str:
        sig = ", ".join(f"{p.name}: {p.type!r}" for p in self.params)
        return f"<vc.ShaderDescription {self.name}({sig})>"


class ShaderContext:
    def __init__(self, flags=ShaderFlags.NONE):
        self.flags = ShaderFlags(flags)
        self.builder = Builder("shader", _context.get_context().device)
        self.params: Optional[tuple] = None
        self._description: Optional[ShaderDescription] = None

    def declare_input_arguments(self, type_annotations, names=None, defaults=None) -> list:
        """The values of parameters of types `type_annotations` (Buff[f32], Const[i32],
        ...), named `names` (default param0, param1, ...), with `defaults` (None: none).
        Call once, before the body."""
        if self.params is not None:
            raise codegen_error("declare_input_arguments was already called in this "
                                "shader_context")
        types = list(type_annotations)
        n = len(types)
        names = [f"param{i}" for i in range(n)] if names is None else list(names)
        defaults = [None] * n if defaults is None else list(defaults)
        if len(names) != n or len(defaults) != n:
            raise ValueError(f"type_annotations has {n} entries but names has {len(names)} "
                             f"and defaults {len(defaults)}")
        types = [struct_param(t) if dataclasses.is_dataclass(t) and isinstance(t, type) else t
                 for t in types]
        for name, t in zip(names, types):
            if not (isinstance(name, str) and name.isidentifier()):
                raise ValueError(f"parameter names must be identifiers, got {name!r}")
            if not isinstance(t, ParamType):
                raise TypeError(f"parameter {name!r} needs a type such as Buff[f32], "
                                f"Const[f32], Var[f32] or Img2[f32], got {t!r}")
        if len(set(names)) != n:
            raise ValueError(f"parameter names repeat: {names}")
        self.params = tuple(DeclaredParam(nm, t, NO_DEFAULT if d is None else d)
                            for nm, t, d in zip(names, types, defaults))
        bounds = not self.flags & ShaderFlags.NO_EXEC_BOUNDS
        return declare(self.builder, self.params, bounds, memory_checks=True)

    def get_description(self, name: Optional[str] = None) -> ShaderDescription:
        """The traced kernel, named `name` (default "shader"); ends the tracing."""
        if self._description is None:
            if self.params is None:
                self.declare_input_arguments([])
            b = self.builder
            b.name = "shader" if name is None else str(name)
            kernel = b.finish((1, 1, 1))
            bounds = not self.flags & ShaderFlags.NO_EXEC_BOUNDS
            self._description = ShaderDescription(b.name, self.params, bounds, kernel)
        return self._description


@contextlib.contextmanager
def shader_context(flags=ShaderFlags.NONE):
    """Trace a kernel body written inline (see the module docstring)."""
    ctx = ShaderContext(flags)
    with ctx.builder.active():
        yield ctx
