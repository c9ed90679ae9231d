"""Shader signatures: the typed parameters read from a function's annotations, or given
explicitly (vkdispatch 0.1's arg_type_annotations / arg_names / arg_defaults)."""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any

from ..base.buffer import Buffer
from ..codegen.types import ParamType, struct_param

_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class ShaderParam:
    name: str
    type: ParamType
    default: Any = _NO_DEFAULT

    @property
    def kind(self) -> str:
        return self.type.kind

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def _check_type(func, name, ann) -> ParamType:
    if dataclasses.is_dataclass(ann) and isinstance(ann, type):
        return struct_param(ann)
    if not isinstance(ann, ParamType):
        raise TypeError(
            f"shader {func.__qualname__}: parameter {name!r} needs a type annotation "
            f"such as Buff[f32], Const[f32], Var[f32] or Img2[f32] (from "
            f"vkdispatch.codegen.abbreviations) or a dataclass of dtype fields, got {ann!r}")
    return ann


def parse_signature(func, annotations=None, names=None, defaults=None) -> tuple:
    """Parameters of `func`, each annotated with Buff[...], Const[...], Var[...] or an
    image type (a default value is kept). Raises TypeError naming the parameter
    otherwise. `annotations` (with optional `names` and `defaults`, lists of the same
    length; a None default means none) replace what the signature says."""
    if annotations is not None:
        return _explicit(func, list(annotations), names, defaults)
    if names is not None or defaults is not None:
        raise ValueError("arg_names and arg_defaults need arg_type_annotations")
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
        ann = _check_type(func, name, hints.get(name, inspect.Parameter.empty))
        params.append(ShaderParam(name, ann, p.default))
    return tuple(params)


def _explicit(func, annotations, names, defaults) -> tuple:
    n = len(annotations)
    if names is None:
        own = [p.name for p in inspect.signature(func).parameters.values()
               if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        names = own if len(own) == n else [f"param{i}" for i in range(n)]
    names = list(names)
    defaults = [None] * n if defaults is None else list(defaults)
    if len(names) != n or len(defaults) != n:
        raise ValueError(f"shader {func.__qualname__}: arg_type_annotations has {n} entries "
                         f"but arg_names has {len(names)} and arg_defaults {len(defaults)}")
    for name in names:
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"shader {func.__qualname__}: arg_names must be identifiers, "
                             f"got {name!r}")
    if len(set(names)) != n:
        raise ValueError(f"shader {func.__qualname__}: arg_names repeat a name: {names}")
    return tuple(ShaderParam(name, _check_type(func, name, ann),
                             _NO_DEFAULT if d is None else d)
                 for name, ann, d in zip(names, annotations, defaults))


def check_buffer_argument(what: str, t: ParamType, value) -> None:
    """TypeError unless `value`, given for parameter `what` annotated `t` (Buff[...]), is
    a vd.Buffer of `t`'s dtype."""
    if not isinstance(value, Buffer):
        raise TypeError(f"{what} is {t!r} and needs a vd.Buffer, got {type(value).__name__}")
    if value.dtype is not t.dtype:
        raise TypeError(f"{what} is {t!r} but the buffer's dtype is {value.dtype.name}")
