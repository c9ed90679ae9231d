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
