"""Shader signatures: the typed parameters read from a function's annotations."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

from ..codegen.types import ParamType


@dataclass(frozen=True)
class ShaderParam:
    name: str
    type: ParamType

    @property
    def kind(self) -> str:
        return self.type.kind


def parse_signature(func) -> tuple:
    """Parameters of `func`, each annotated with Buff[...], Const[...], Var[...] or an
    image type. Raises TypeError naming the parameter otherwise."""
    sig = inspect.signature(func)
    try:
        hints = inspect.get_annotations(func, eval_str=True)
    except Exception as exc:
        raise TypeError(f"cannot evaluate the annotations of {func.__qualname__}: {exc}") from exc
    params = []
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"shader {func.__qualname__}: *args/**kwargs are not supported "
                            f"(parameter {name!r})")
        ann = hints.get(name, inspect.Parameter.empty)
        if not isinstance(ann, ParamType):
            raise TypeError(
                f"shader {func.__qualname__}: parameter {name!r} needs a type annotation "
                f"such as Buff[f32], Const[f32], Var[f32] or Img2[f32] (from "
                f"vkdispatch.codegen.abbreviations), got {ann!r}")
        params.append(ShaderParam(name, ann))
    return tuple(params)
