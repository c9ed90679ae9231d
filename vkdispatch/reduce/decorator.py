"""@vd.reduce.reduce (a binary function) and @vd.reduce.map_reduce (a map stage)."""
from __future__ import annotations

import inspect
import itertools

from ..base import dtype as dt
from ..base.errors import CodegenError
from ..shader.map import MappingFunction, map as make_map
from .operations import ReduceOp
from .reduce_function import ReduceFunction


def reduce(identity, axes=None, group_size=None, mapping_function: MappingFunction = None):
    """Decorate `f(a: T, b: T) -> T`, an associative and commutative binary function with
    `identity` (f(identity, x) == x; "inf" / "-inf" for the type's largest / smallest
    value), into a ReduceFunction over buffers of T (or over what `mapping_function`
    reads; its return type must be T)."""
    def decorator(func) -> ReduceFunction:
        if not callable(func):
            raise TypeError(f"@vd.reduce.reduce decorates a function, got {func!r}")
        out_type = _binary_signature(func)
        if mapping_function is not None:
            if not isinstance(mapping_function, MappingFunction):
                raise TypeError(f"mapping_function must be made with vd.map, got "
                                f"{mapping_function!r}")
            if mapping_function.return_type is not out_type:
                ret = mapping_function.return_type
                raise TypeError(f"mapping_function returns {ret.name if ret else 'nothing'} "
                                f"but the reduction {func.__name__} combines {out_type.name}; "
                                f"they must match")
        op = ReduceOp(func.__name__, func, identity)
        _check_algebra(op, out_type)
        return ReduceFunction(op, group_size, axes, mapping_function, out_type)
    return decorator


def map_reduce(reduction: ReduceOp, axes=None, group_size=None):
    """Decorate a mapping function (typed parameters, a return type; it reads element
    `vd.reduce.mapped_io_index()`) into a ReduceFunction that reduces its values with
    `reduction` (vd.reduce.SubgroupAdd, ..., or a ReduceOp)."""
    if not isinstance(reduction, ReduceOp):
        raise TypeError(f"map_reduce takes a ReduceOp such as vd.reduce.SubgroupAdd, got "
                        f"{reduction!r}")

    def decorator(func) -> ReduceFunction:
        mapping = func if isinstance(func, MappingFunction) else make_map(func)
        if mapping.return_type is None:
            raise TypeError(f"map_reduce: {mapping.name} needs a return annotation (-> f32)")
        return ReduceFunction(reduction, group_size, axes, mapping)
    return decorator


def _binary_signature(func):
    sig = inspect.signature(func)
    if len(sig.parameters) != 2:
        raise TypeError(f"@vd.reduce.reduce: {func.__name__} must take two arguments (a, b), "
                        f"takes {len(sig.parameters)}")
    hints = inspect.get_annotations(func, eval_str=True)
    ret = hints.get("return", inspect.Parameter.empty)
    if ret is inspect.Parameter.empty or ret is None:
        raise ValueError(f"@vd.reduce.reduce: {func.__name__} needs a return annotation, the "
                         f"type it reduces (-> f32)")
    try:
        return dt.to_dtype(ret)
    except TypeError as exc:
        raise TypeError(f"@vd.reduce.reduce: the return annotation of {func.__name__} must be "
                        f"a data type such as f32, got {ret!r}") from exc


def _check_algebra(op: ReduceOp, t) -> None:
    """Where the function also runs on Python numbers, check on small integers that it is
    associative, commutative and that the identity is one: a reduction combines elements
    in any order, so anything else gives results that depend on the launch."""
    if not (t.is_scalar and t.kind in (dt.INT, dt.UINT, dt.FLOAT)) or isinstance(op.identity, str):
        return
    samples = (2, 3, 5, 7)
    try:
        f = op.reduction
        results = {(a, b): f(a, b) for a, b in itertools.product(samples, repeat=2)}
        bad = [(a, b, c) for a, b, c in itertools.product(samples, repeat=3)
               if f(f(a, b), c) != f(a, f(b, c))]
        no_identity = [x for x in samples if f(op.identity, x) != x]
    except (TypeError, ValueError, ArithmeticError, AttributeError, CodegenError):
        return   # it needs shader values: nothing to check on the host
    if bad:
        a, b, c = bad[0]
        raise ValueError(f"@vd.reduce.reduce: {op.name} is not associative (f(f({a}, {b}), {c}) "
                         f"!= f({a}, f({b}, {c}))); a reduction combines elements in any order")
    swapped = [(a, b) for (a, b), v in results.items() if v != results[(b, a)]]
    if swapped:
        a, b = swapped[0]
        raise ValueError(f"@vd.reduce.reduce: {op.name} is not commutative (f({a}, {b}) != "
                         f"f({b}, {a})); a reduction combines elements in any order")
    if no_identity:
        raise ValueError(f"@vd.reduce.reduce: identity {op.identity!r} is not an identity of "
                         f"{op.name} (f({op.identity!r}, {no_identity[0]}) != {no_identity[0]})")
