"""ReduceFunction: what @vd.reduce.reduce and @vd.reduce.map_reduce return."""
from __future__ import annotations

from typing import Optional

from ..base.context import get_context
from ..base.errors import number_lines
from ..codegen.emit import emit
from ..execution.kernel import preserves_inf_nan
from .engine import Reduction
from .operations import ReduceOp
from .stage import COLUMN, ROW, ROW4, VECTOR_TYPES

# a call without axes= reduces the axes given to the decorator
_DECORATOR_AXES = object()


class ReduceFunction:
    """A reduction callable on buffers: `f(*inputs, graph=None)` records it and returns
    the result buffer - shape (1,) when every axis is reduced (`out.read(0)[0]` is the
    value), else the shape of the kept axes. The inputs are the mapping function's
    arguments (one buffer without a mapping function); the shape reduced is the first
    buffer's. `axes` (constructor or call) picks the axes; None reduces all."""

    def __init__(self, reduction: ReduceOp, group_size: Optional[int] = None, axes=None,
                 mapping_function=None, input_type=None):
        out_type = mapping_function.return_type if mapping_function is not None else input_type
        if out_type is None:
            raise TypeError("ReduceFunction needs a mapping_function with a return type, or "
                            "input_type (the dtype of the buffer it reduces)")
        self.reduction = reduction
        self.axes = axes
        self.group_size = group_size
        self.map_func = mapping_function
        self.out_type = out_type
        self.name = reduction.name
        self._engine = Reduction(reduction, out_type, mapping_function, None if
                                 mapping_function is not None else input_type, group_size)

    @property
    def input_types(self) -> list:
        return self._engine.input_params()

    def __repr__(self) -> str:
        args = ", ".join(repr(t) for t in self.input_types)
        return f"<vd.reduce {self.name}({args}) -> {self.out_type.name}, axes={self.axes}>"

    def __call__(self, *args, graph=None, axes=_DECORATOR_AXES, shape=None):
        return self._engine(args, shape=shape,
                            axes=self.axes if axes is _DECORATOR_AXES else axes,
                            graph=graph, what=f"reduction {self.name!r}")

    def get_src(self, line_numbers: bool = False, target: Optional[str] = None) -> list:
        """[first stage, second stage] sources of a reduction (reading the inputs, then
        combining the partials) for the current context's device and language (or
        `target`). A full reduction of real 32/64-bit scalars runs the first stage's
        variant whose last workgroup combines the partials (one dispatch). Axis
        reductions that keep inner axes use `get_column_src()`."""
        return [self._src(self._row_family(True), True, line_numbers, target),
                self._src(self._row_family(False), False, line_numbers, target)]

    def _row_family(self, first: bool) -> str:
        """The kernel a full reduction of an aligned buffer runs (ROW4: vector loads)."""
        e = self._engine
        plain = not first or e.map_func is None
        return ROW4 if plain and (e.input_type if first else e.out_type) in VECTOR_TYPES else ROW

    def get_column_src(self, line_numbers: bool = False, target: Optional[str] = None) -> str:
        """The source of the kernel that reduces along an axis with kept axes after it."""
        return self._src(COLUMN, True, line_numbers, target)

    def _src(self, family, first, line_numbers, target) -> str:
        ctx = get_context()
        kernel = self._engine.spec(family, first, ctx.device).trace(ctx.device, True)
        src = emit(kernel, target or ctx.codegen_target, kernel.name,
                   preserve_inf_nan=preserves_inf_nan(ctx)).source
        return number_lines(src) if line_numbers else src

    def print_src(self, line_numbers: bool = False) -> None:
        first, second = self.get_src(line_numbers)
        print(f"// Reduction stage 1:\n{first}\n// Reduction stage 2:\n{second}")
