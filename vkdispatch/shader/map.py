"""Mapping functions: a typed Python function that a library (reductions, FFT hooks)
applies inside a kernel it generates, e.g. to read and transform its input.

    @vd.map
    def square(buf: Buff[f32]) -> f32:
        i = vd.reduce.mapped_io_index()
        return buf[i] * buf[i]

The function's parameters are the extra kernel parameters it needs (Buff[...],
Const[...], Var[...]); the generating library declares them and calls `callback` with
them while it traces its kernel."""
from __future__ import annotations

import inspect
from typing import Callable, Optional, Sequence

from ..base import dtype as dt
from ..base.dtype import DType
from ..codegen.builder import codegen_error, current
from ..codegen.types import ParamType
from ..codegen.variables import ShaderVariable, convert, to_node, wrap
from .signature import parse_signature


class MappingFunction:
    """A Python function applied inside a generated kernel.

    buffer_types: the annotation of each parameter (Buff[f32], Const[i32], ...), in order.
    return_type: the DType of the value it returns, or None when it returns nothing.
    mapping_function: the Python function.
    Two MappingFunctions are equal only when they are the same object; the kernels that
    use them are still cached by structure, so equal bodies compile once."""

    __slots__ = ("mapping_function", "buffer_types", "return_type", "name", "param_names",
                 "__weakref__")

    def __init__(self, mapping_function: Callable, buffer_types: Sequence[ParamType],
                 return_type: Optional[DType]):
        self.mapping_function = mapping_function
        self.buffer_types = list(buffer_types)
        self.return_type = return_type
        self.name = getattr(mapping_function, "__name__", "mapping_function")
        self.param_names = _param_names(mapping_function, len(self.buffer_types))

    def __repr__(self) -> str:
        args = ", ".join(repr(t) for t in self.buffer_types)
        ret = self.return_type.name if self.return_type is not None else "None"
        return f"<vd.map {self.name}({args}) -> {ret}>"

    def callback(self, *args) -> Optional[ShaderVariable]:
        """Apply the function to `args` (shader values of the declared types) in the
        kernel being traced; returns its value converted to `return_type` (None when
        that is None)."""
        if len(args) != len(self.buffer_types):
            raise TypeError(f"mapping function {self.name} takes {len(self.buffer_types)} "
                            f"argument(s) {self.buffer_types}, got {len(args)}")
        for i, (t, a) in enumerate(zip(self.buffer_types, args)):
            if isinstance(a, ShaderVariable) and a.dtype is not t.dtype:
                raise TypeError(f"mapping function {self.name}: argument {i} is declared "
                                f"{t!r} but got a {a.dtype.name} value")
        result = self.mapping_function(*args)
        if self.return_type is None:
            if result is not None:
                raise codegen_error(f"mapping function {self.name} has no return annotation "
                                    f"but returned {result!r}; annotate it (-> f32)")
            return None
        if result is None:
            raise codegen_error(f"mapping function {self.name} must return a "
                                f"{self.return_type.name} value, returned None")
        node = convert(to_node(result, self.return_type), self.return_type)
        return wrap(result.builder if isinstance(result, ShaderVariable) else current(), node)


def _param_names(func, count: int) -> tuple:
    """The function's parameter names (a generated kernel names its parameters after
    them, so errors name them too), or arg0, arg1, ... where they cannot be read."""
    try:
        names = tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        names = ()
    return names if len(names) == count else tuple(f"arg{i}" for i in range(count))


def map(func: Optional[Callable] = None, return_type=None,  # noqa: A001 - 0.1's name
        input_types: Optional[Sequence[ParamType]] = None):
    """Make a MappingFunction of `func`. Its parameters' types come from its annotations
    (or `input_types`), its return type from its return annotation (or `return_type`).
    Usable as `@vd.map` or `vd.map(func, return_type=f32, input_types=[Buff[f32]])`."""
    if func is None:
        return lambda f: map(f, return_type, input_types)
    if not callable(func):
        raise TypeError(f"vd.map takes a function, got {type(func).__name__}")
    if input_types is None:
        types = [p.type for p in parse_signature(func)]
    else:
        types = list(input_types)
        for i, t in enumerate(types):
            if not isinstance(t, ParamType):
                raise TypeError(f"input_types[{i}] must be a parameter type such as Buff[f32] "
                                f"or Const[i32], got {t!r}")
    if return_type is None:
        return_type = _return_annotation(func)
    else:
        return_type = dt.to_dtype(return_type)
    return MappingFunction(func, types, return_type)


def _return_annotation(func) -> Optional[DType]:
    try:
        hints = inspect.get_annotations(func, eval_str=True)
    except Exception as exc:
        raise TypeError(f"cannot evaluate the annotations of {func.__qualname__}: {exc}") from exc
    ann = hints.get("return", inspect.Parameter.empty)
    if ann is inspect.Parameter.empty or ann is None:
        return None
    try:
        return dt.to_dtype(ann)
    except (TypeError, ValueError, KeyError) as exc:
        raise TypeError(f"mapping function {func.__qualname__}: the return annotation must be "
                        f"a data type such as f32 or vd.float32, got {ann!r}") from exc
