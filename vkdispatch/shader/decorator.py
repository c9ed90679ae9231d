"""`@vd.shader`: turn an annotated Python function into a GPU kernel."""
from __future__ import annotations

from ..codegen.types import ShaderFlags
from .shader_function import ShaderFunction
from .signature import parse_signature


def shader(exec_size=None, local_size=None, workgroups=None, flags=ShaderFlags.NONE,
           arg_type_annotations=None, arg_names=None, arg_defaults=None, *,
           bounds_check=None, memory_checks=True):
    """Decorate a kernel function.

    Forms: `@vd.shader`, `@vd.shader("buff.size")`, `@vd.shader(exec_size=lambda args:
    args.buff.size)`, `@vd.shader(workgroups=(64, 1, 1), local_size=(64, 1, 1))`.
    With exec_size, invocations past it are skipped (bounds check); with workgroups,
    every invocation of every workgroup runs.

    An exec_size / workgroups string is an expression over the argument names that may
    use only attributes not starting with '_' (buf.size), subscripts (img.shape[0]),
    numbers, tuples, + - * // % and calls of len, min, max and int; anything else raises
    ValueError naming the construct. It, a lambda or a number must give an int or a
    tuple of up to 3 ints.

    vkdispatch 0.1's arguments: `flags` (vc.ShaderFlags; NO_EXEC_BOUNDS is
    bounds_check=False), and `arg_type_annotations` (with optional `arg_names` and
    `arg_defaults`, lists as long; a None default means none) to declare the parameters
    instead of the function's annotations. Parameters' Python defaults are used when a
    call leaves them out.

    memory_checks (default True): the kernel never touches memory outside its arrays.
    Every element access of a buffer (a view: of the view), shared array or local array
    is guarded by its index: a read past the end gives 0, a write or an atomic past the
    end is not performed (the atomic returns 0). Buffers' element counts are read from
    the bound descriptor (Vulkan) or passed as hidden kernel arguments (CUDA, OpenCL,
    Vulkan buffers reached by device address) that the call fills in. The cost is one
    well-predicted compare per access. `memory_checks=False` turns the guards off for
    hand-tuned kernels whose indices are known to be in range: an index past the end
    is then undefined behaviour (it may corrupt memory or crash the process).
    `memory_checks="report"` also reports the first out-of-range access: the host
    raises vd.OutOfBoundsError after the submit that ran it, naming the shader, the
    array, read/write/atomic, the index, the array's length and the line of the access.
    Debug mode (`vd.initialize(debug=True)`) makes every shader report, those with
    memory_checks=False too."""
    if callable(exec_size) and hasattr(exec_size, "__code__") and not _is_size_lambda(exec_size):
        return ShaderFunction(exec_size)
    flags = ShaderFlags(flags)
    if flags & ShaderFlags.NO_EXEC_BOUNDS:
        if bounds_check:
            raise ValueError("flags=ShaderFlags.NO_EXEC_BOUNDS contradicts bounds_check=True")
        bounds_check = False

    def wrap(func):
        params = parse_signature(func, arg_type_annotations, arg_names, arg_defaults)
        return ShaderFunction(func, exec_size=exec_size, local_size=local_size,
                              workgroups=workgroups, bounds_check=bounds_check,
                              memory_checks=memory_checks, params=params)
    return wrap


def _is_size_lambda(fn) -> bool:
    """A one-argument lambda is an exec_size rule, not the kernel itself."""
    return fn.__name__ == "<lambda>"
