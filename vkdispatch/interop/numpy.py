"""NumPy's dispatch protocols on Arrays, as CuPy has them: `np.sin(x)`,
`np.concatenate([x, y])`, `np.sum(x, axis=0)`, `np.var(x, ddof=1)` run on the device
through vkdispatch.array_api, with NumPy's argument conventions (numpy_functions.py),
and return Arrays. NumPy arrays among the arguments are copied to
the device. A NumPy function with no device implementation raises TypeError naming
it, never a silent round trip through the host."""
from __future__ import annotations

import inspect

import numpy as np

from .. import array_api as xp
from ..base import dtype as dt
from ..array_api import _array
from ..array_api._array import Array
from . import numpy_functions

# NumPy ufunc name -> namespace function, where the names differ
_UFUNC_NAMES = {
    "absolute": "abs", "arccos": "acos", "arccosh": "acosh", "arcsin": "asin",
    "arcsinh": "asinh", "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh",
    "true_divide": "divide", "power": "pow", "invert": "bitwise_invert",
    "bitwise_not": "bitwise_invert", "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift", "conjugate": "conj", "mod": "remainder",
    "rint": "round", "fmax": "maximum", "fmin": "minimum",
}
# NumPy function name -> namespace function, where the names differ; the others are
# looked up by their own name among _FUNCTIONS. NumPy functions whose arguments differ
# from the standard's go through numpy_functions.ADAPTERS instead.
_FUNCTION_NAMES = {"transpose": "permute_dims"}
# NumPy functions whose arguments the namespace's function of that name takes as NumPy
# passes them, when it has one
_FUNCTIONS = frozenset({
    "expand_dims", "broadcast_to", "broadcast_arrays", "astype", "matmul", "tile",
    "moveaxis", "unique_values", "unique_counts", "unique_inverse", "unique_all",
    "permute_dims", "cumulative_sum", "cumulative_prod", "matrix_transpose", "unstack",
})


def _to_device(value):
    """NumPy arrays (and sequences of them) as Arrays, NumPy scalars as Python ones;
    everything else as it is."""
    if isinstance(value, np.ndarray):
        return xp.asarray(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Array, np.ndarray))
                                                for v in value):
        return type(value)(_to_device(v) for v in value)
    return value


def _missing(kind: str, name: str) -> TypeError:
    return TypeError(f"numpy.{name} has no vkdispatch device implementation ({kind}); "
                     f"convert explicitly with numpy.asarray(x) to run it on the host")


def array_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    name = ufunc.__name__
    if method != "__call__":
        raise _missing(f"the ufunc method {method!r}", f"{name}.{method}")
    fn = getattr(xp, _UFUNC_NAMES.get(name, name), None)
    if fn is None or not callable(fn):
        raise _missing("ufunc", name)
    out = kwargs.pop("out", None)
    if kwargs:
        raise TypeError(f"numpy.{name} on vkdispatch arrays takes no {sorted(kwargs)} "
                        f"keyword (only out=, one Array)")
    result = fn(*_numpy_loop_inputs(ufunc, inputs))
    if out is None:
        return result
    targets = out if isinstance(out, tuple) else (out,)
    if len(targets) != 1 or not isinstance(targets[0], Array):
        raise TypeError(f"numpy.{name}: out must be one vkdispatch Array, got {out!r}")
    targets[0][...] = result
    return targets[0]


def _loop_key(value):
    """What NumPy's loop resolution sees of one ufunc input (None: not an input it
    knows): a dtype, or the type of a Python scalar, which NEP 50 keeps weak."""
    if isinstance(value, Array):
        return value.dtype.numpy_dtype
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if isinstance(value, (bool, int, float, complex)):
        return type(value)
    return None


def _numpy_loop_inputs(ufunc, inputs: tuple) -> list:
    """The inputs on the device, cast to the dtypes of the loop NumPy itself would run
    (np.divide of float32 and int64 arrays runs in float64, np.sqrt of ints too),
    so the result dtype is NumPy's; the standard's stricter promotion would refuse
    mixed kinds. Where NumPy picks a dtype the namespace lacks, the inputs go as they
    are and the namespace function says what it takes."""
    keys = [_loop_key(v) for v in inputs]
    loop = None
    if all(k is not None for k in keys):   # (`None in keys` is True of float64: dtype(None))
        try:
            loop = ufunc.resolve_dtypes(tuple(keys) + (None,) * ufunc.nout)[:ufunc.nin]
        except (TypeError, ValueError):
            loop = None
    if loop is not None:
        try:
            wanted = [dt.from_numpy(t) for t in loop]
        except (TypeError, KeyError, ValueError):
            loop = None
    if loop is None or not all(_array.is_array_dtype(t) for t in wanted):
        return [_to_device(v) for v in inputs]
    out = []
    for value, want, t in zip(inputs, loop, wanted):
        if isinstance(value, np.ndarray):
            value = xp.asarray(value.astype(want, copy=False))
        elif isinstance(value, Array) and value.dtype is not t:
            value = xp.astype(value, t)
        else:
            value = _to_device(value)   # scalars stay Python scalars (weak)
        out.append(value)
    return out


def array_function(func, types, args: tuple, kwargs: dict):
    if not all(issubclass(t, (Array, np.ndarray)) for t in types):
        return NotImplemented
    name = func.__name__
    adapter = {"numpy": numpy_functions.ADAPTERS, "numpy.fft": numpy_functions.FFT_ADAPTERS
               }.get(func.__module__, {}).get(name)
    if adapter is not None:
        args = tuple(_to_device(a) for a in args)
        kwargs = {k: _dtype(v) if k == "dtype" else _to_device(v) for k, v in kwargs.items()}
        try:
            bound = inspect.signature(adapter).bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"numpy.{name} on vkdispatch arrays: {exc}") from None
        return adapter(*bound.args, **bound.kwargs)
    target = _FUNCTION_NAMES.get(name, name)
    fn = getattr(xp, target, None) if target in _FUNCTIONS else None
    if fn is None:
        raise _missing("function", name)
    if name == "transpose":
        axes = kwargs.pop("axes", args[1] if len(args) > 1 else None)
        x = _to_device(args[0])
        return fn(x, tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))
    kwargs = {k: _dtype(v) if k == "dtype" else _to_device(v) for k, v in kwargs.items()}
    return fn(*(_to_device(a) for a in args), **kwargs)


def _dtype(value):
    """A NumPy dtype argument (Dask passes np.dtype objects) as the namespace's dtype."""
    if value is None or isinstance(value, dt.DType):
        return value
    try:
        return dt.from_numpy(np.dtype(value))
    except (TypeError, KeyError):
        raise TypeError(f"dtype {value!r} has no vkdispatch equivalent") from None


_array.register_protocol("__array_ufunc__", array_ufunc)
_array.register_protocol("__array_function__", array_function)
