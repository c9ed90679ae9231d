"""A shader's generated source as vkdispatch 0.1 handed it out (`ShaderSource`), and the
error a failed build raises (`ShaderBuildError`)."""
from __future__ import annotations

from typing import Optional

from ..base.errors import ShaderCompileError


class ShaderSource(str):
    """The generated source: a str (print it, search it) that also has 0.1's fields
    `name`, `code` (the same text) and `local_size`; its repr starts with a header line
    naming the shader."""

    name: str
    local_size: tuple

    def __new__(cls, name: str, code: str, local_size: tuple):
        s = super().__new__(cls, code)
        s.name = name
        s.local_size = tuple(local_size)
        return s

    @property
    def code(self) -> str:
        return str(self)

    def __getnewargs__(self):   # pickling rebuilds it with its fields
        return (self.name, str(self), self.local_size)

    def __repr__(self) -> str:
        return (f"// ====== Source Code for '{self.name}', workgroup_size: {self.local_size} "
                f"======\n{self.code}")


class ShaderBuildError(ShaderCompileError):
    """A shader's generated source did not compile. 0.1's fields: `shader_source` (a
    ShaderSource with line numbers) and `compiler_log`; also those of ShaderCompileError
    (`compiler`, `source`, `log`)."""

    def __init__(self, shader_name: str, error: ShaderCompileError, local_size: tuple):
        super().__init__(error.compiler, error.source, error.log)
        self.args = (f"failed to build shader {shader_name!r}: {self.args[0]}",)
        self.shader_source = ShaderSource(shader_name, number_code(error.source), local_size)
        self.compiler_log: Optional[str] = error.log


def number_code(source: str) -> str:
    """`source` with 0.1's line-number prefixes ("   1: ...")."""
    return "".join(f"{i + 1:4d}: {line}\n" for i, line in enumerate(source.split("\n")))
