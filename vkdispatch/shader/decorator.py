"""`@vd.shader`: turn an annotated Python function into a GPU kernel."""
from __future__ import annotations

from .shader_function import ShaderFunction


def shader(exec_size=None, *, local_size=None, workgroups=None, bounds_check=None):
    """Decorate a kernel function.

    Forms: `@vd.shader`, `@vd.shader("buff.size")`, `@vd.shader(exec_size=lambda args:
    args.buff.size)`, `@vd.shader(workgroups=(64, 1, 1), local_size=(64, 1, 1))`.
    With exec_size, invocations past it are skipped (bounds check); with workgroups,
    every invocation of every workgroup runs."""
    if callable(exec_size) and hasattr(exec_size, "__code__") and not _is_size_lambda(exec_size):
        return ShaderFunction(exec_size)

    def wrap(func):
        return ShaderFunction(func, exec_size=exec_size, local_size=local_size,
                              workgroups=workgroups, bounds_check=bounds_check)
    return wrap


def _is_size_lambda(fn) -> bool:
    """A one-argument lambda is an exec_size rule, not the kernel itself."""
    return fn.__name__ == "<lambda>"
