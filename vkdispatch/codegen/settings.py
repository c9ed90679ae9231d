"""vc.set_codegen_backend: the language the dummy backend emits."""
from __future__ import annotations

from typing import Optional

from ..base import context
from .emit import canonical_target


def set_codegen_backend(name: Optional[str]) -> None:
    """Emit 'glsl', 'cuda' or 'opencl' source while the active backend is dummy (None:
    GLSL). Real backends always get their own language."""
    context.set_codegen_target(None if name is None else canonical_target(name))


def get_codegen_backend() -> Optional[str]:
    return context.get_codegen_target()


# A display preference only (never part of a kernel): whether printing a shader and
# get_src() without line_numbers= number the lines, as vkdispatch 0.1's setter does.
_print_line_numbers = False


def set_shader_print_line_numbers(enabled: bool) -> None:
    global _print_line_numbers
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, got {enabled!r}")
    _print_line_numbers = enabled


def get_shader_print_line_numbers() -> bool:
    return _print_line_numbers
