"""`ShaderVariable`: the Python face of a traced value, with numpy-like operators.

Values have snapshot semantics, like Python numbers: an expression is kept as a tree only
while it depends on nothing that can change (parameters, literals, builtins, immutable
locals); anything that reads memory or a mutable variable is bound to a fresh local at
the point the Python code ran, so later stores never change an earlier value.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..base import dtype as dt
from ..base.dtype import DType
from ..base.errors import CodegenError
from . import ir, ops
from .builder import Builder, codegen_error, current, user_location

_MAX_TREE = 24
_SWIZZLE_SETS = ("xyzw", "rgba")


def _tree_size(node, limit=_MAX_TREE + 1) -> int:
    if not isinstance(node, ir.Expr):
        return 1
    total = 1
    for a in node.args:
        total += _tree_size(a, limit)
        if total > limit:
            break
    return total


def _is_stable(node) -> bool:
    """True when re-evaluating `node` later gives the same value."""
    for n in ir.walk_nodes(node):
        if isinstance(n, ir.Var) and (n.mutable or n.kind in (ir.SHARED, ir.LOCAL_ARRAY,
                                                               ir.BUFFER)):
            return False
        if isinstance(n, ir.Expr) and not ops.OPS[n.op].pure:
            return False
    return True


def python_literal(value, like: DType = None) -> ir.Lit:
    """A python/numpy scalar as a literal, weakly typed against `like` (NEP 50)."""
    if isinstance(value, np.generic):
        return ir.Lit(value.item(), dt.to_dtype(value.dtype))
    if isinstance(value, (bool, numbers.Number)):
        t = dt.weak_promote(like.base, value) if like is not None else dt.python_scalar_dtype(value)
        if t.is_complex and not isinstance(value, complex):
            value = complex(value)
        if t.is_integer and isinstance(value, int) and not isinstance(value, bool):
            info = np.iinfo(t.numpy_dtype)
            if not info.min <= value <= info.max:   # NEP 50: no silent wrap-around
                raise OverflowError(f"Python integer {value} is out of bounds for {t.name} "
                                    f"[{info.min}, {info.max}]; cast one operand explicitly")
        return ir.Lit(value, t)
    raise TypeError(f"cannot use {value!r} of type {type(value).__name__} in a shader "
                    f"expression (expected a shader variable or a number)")


def to_node(value, like: DType = None):
    if isinstance(value, ShaderVariable):
        return value.node
    if isinstance(value, (ir.Var, ir.Lit, ir.Expr)):
        return value
    if isinstance(value, (tuple, list)):
        parts = [to_node(v, like) for v in value]
        base = parts[0].dtype.base
        for p in parts[1:]:
            base = dt.promote_scalars(base, p.dtype.base)
        target = dt.vector_of(base, sum(p.dtype.count for p in parts))
        return ops.make("construct", *[convert(p, dt.with_base(p.dtype, base)) for p in parts],
                        dtype=target)
    return python_literal(value, like)


def convert(node, target: DType):
    """`node` converted to `target` (numeric casts; real -> complex adds a zero imaginary)."""
    src = node.dtype
    if src is target:
        return node
    if isinstance(node, ir.Lit) and target.is_scalar and not target.is_complex:
        if src.is_complex:
            raise TypeError(f"cannot convert complex {node.value!r} to {target.name}")
        py = {dt.BOOL: bool, dt.INT: int, dt.UINT: int, dt.FLOAT: float}[target.kind]
        return ir.Lit(py(node.value), target)
    if target.is_complex:
        if src.is_complex:
            return ops.make("cast", node, dtype=target)
        if not src.is_scalar:
            raise TypeError(f"cannot convert {src.name} to {target.name}")
        part = dt.complex_part(target)
        real = convert(node, part)
        if isinstance(real, ir.Lit):
            return ir.Lit(complex(real.value), target)
        return ops.make("construct", real, ir.Lit(0.0, part), dtype=target)
    if src.is_complex:
        raise TypeError(f"cannot convert complex {src.name} to {target.name}; "
                        f"take .real / .imag or abs() first")
    if not target.is_scalar and src.is_scalar:
        return ops.make("construct", convert(node, target.base), dtype=target)
    if target.count != src.count:
        raise TypeError(f"cannot convert {src.name} to {target.name}")
    return ops.make("cast", node, dtype=target)


_CARRY_FIX = ("declare the variable before the block - x = vc.new_float(0.0) (vc.new_int, "
              "vc.new_vec3, ..., or vc.new(dtype, value)) - and assign to it inside the "
              "block with x.set(value), x[:] = value or x += value")


def _ended_block_error(value: "ShaderVariable"):
    block = value.scope.ended()
    return codegen_error(
        f"this value was made inside the {block.kind} at {block.where}, which has ended, so "
        f"it cannot be used here: a block is traced once, and what it makes exists only "
        f"inside it (after an if_block it could be uninitialized; after a loop it would be "
        f"the last iteration's). To carry a value out of a block, {_CARRY_FIX}")


class TruthValueError(CodegenError, ValueError):
    """A shader value was used as a Python bool (a ValueError too, as in vkdispatch 0.1)."""


class ShaderVariable:
    """A typed value in a traced kernel. Arithmetic, comparisons and bitwise operators
    follow numpy's promotion; use `vc.if_block(...)` rather than Python `if` on them."""

    __slots__ = ("builder", "_node", "ref", "scope")

    def __init__(self, builder: Builder, node, ref=None):
        self.builder = builder
        self._node = node
        self.ref = ref   # lvalue this value was loaded from (for atomics, +=)
        self.scope = builder.scope   # the block it was made in: it exists only there

    @property
    def node(self):
        """The IR of this value; CodegenError when it is used after the block (if/else
        branch, loop body) it was made in has ended."""
        if not self.scope.alive:
            raise _ended_block_error(self)
        return self._node

    # ------------------------------------------------------------------ basics
    @property
    def dtype(self) -> DType:
        return self.node.dtype

    @property
    def var_type(self) -> DType:  # vkdispatch 0.1 name
        return self.node.dtype

    def __repr__(self) -> str:
        return f"<ShaderVariable {self._node!r}>"

    def __bool__(self):
        raise TruthValueError(f"{user_location()}: a shader value has no Python truth "
                              f"value; use `with vc.if_block(cond):` (or vc.select) instead "
                              f"of `if`, `and`, `or`, `not` or `while` on shader values")

    def __iter__(self):
        raise codegen_error("shader values cannot be iterated in Python; use "
                            "`for i in vc.range(n):` to emit a loop")

    def __index__(self):
        raise codegen_error("a shader value cannot be used as a Python index or length")

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ wrapping
    def _new(self, node) -> "ShaderVariable":
        return wrap(self.builder, node)

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, op, other, reverse=False):
        a = self.node
        b = to_node(other, a.dtype)
        if reverse:
            a, b = b, a
        return self._new(binary_node(op, a, b))

    def __add__(self, o): return self._binary("add", o)
    def __radd__(self, o): return self._binary("add", o, True)
    def __sub__(self, o): return self._binary("sub", o)
    def __rsub__(self, o): return self._binary("sub", o, True)
    def __mul__(self, o): return self._binary("mul", o)
    def __rmul__(self, o): return self._binary("mul", o, True)
    def __truediv__(self, o): return self._binary("div", o)
    def __rtruediv__(self, o): return self._binary("div", o, True)
    def __floordiv__(self, o): return self._binary("floordiv", o)
    def __rfloordiv__(self, o): return self._binary("floordiv", o, True)
    def __mod__(self, o): return self._binary("mod", o)
    def __rmod__(self, o): return self._binary("mod", o, True)
    def __pow__(self, o): return self._binary("pow", o)
    def __rpow__(self, o): return self._binary("pow", o, True)
    def __matmul__(self, o): return self._binary("matmul", o)
    def __rmatmul__(self, o): return self._binary("matmul", o, True)
    def __and__(self, o): return self._binary("bit_and", o)
    def __rand__(self, o): return self._binary("bit_and", o, True)
    def __or__(self, o): return self._binary("bit_or", o)
    def __ror__(self, o): return self._binary("bit_or", o, True)
    def __xor__(self, o): return self._binary("bit_xor", o)
    def __rxor__(self, o): return self._binary("bit_xor", o, True)
    def __lshift__(self, o): return self._binary("shl", o)
    def __rlshift__(self, o): return self._binary("shl", o, True)
    def __rshift__(self, o): return self._binary("shr", o)
    def __rrshift__(self, o): return self._binary("shr", o, True)
    def __lt__(self, o): return self._binary("lt", o)
    def __le__(self, o): return self._binary("le", o)
    def __gt__(self, o): return self._binary("gt", o)
    def __ge__(self, o): return self._binary("ge", o)
    def __eq__(self, o): return self._binary("eq", o)
    def __ne__(self, o): return self._binary("ne", o)

    def __neg__(self):
        t = self.dtype
        if t.kind == dt.UINT or t.is_bool:
            raise TypeError(f"cannot negate {t.name} (an unsigned/bool value)")
        return self._new(ops.make("neg", self.node))

    def __pos__(self):
        return self

    def __invert__(self):
        if self.dtype.base.is_bool:
            return self._new(ops.make("logical_not", self.node))
        if not self.dtype.is_integer:
            raise TypeError(f"~ needs an integer or bool operand, got {self.dtype.name}")
        return self._new(ops.make("bit_not", self.node))

    def __abs__(self):
        if self.dtype.is_complex:
            return self._new(ops.make("cabs", self.node))
        if self.dtype.kind in (dt.UINT, dt.BOOL):
            return self
        return self._new(ops.make("abs", self.node))

    # in-place operators: mutate a mutable local; otherwise rebind like Python numbers
    def _inplace(self, op, other):
        node = self.node
        if isinstance(node, ir.Var) and node.mutable and node.kind == ir.LOCAL:
            value = binary_node(op, node, to_node(other, node.dtype))
            self.builder.emit(ir.Assign(node, convert(value, node.dtype)))
            return self
        return self._binary(op, other)

    def __iadd__(self, o): return self._inplace("add", o)
    def __isub__(self, o): return self._inplace("sub", o)
    def __imul__(self, o): return self._inplace("mul", o)
    def __itruediv__(self, o): return self._inplace("div", o)
    def __ifloordiv__(self, o): return self._inplace("floordiv", o)
    def __imod__(self, o): return self._inplace("mod", o)
    def __ipow__(self, o): return self._inplace("pow", o)
    def __iand__(self, o): return self._inplace("bit_and", o)
    def __ior__(self, o): return self._inplace("bit_or", o)
    def __ixor__(self, o): return self._inplace("bit_xor", o)
    def __ilshift__(self, o): return self._inplace("shl", o)
    def __irshift__(self, o): return self._inplace("shr", o)

    # ------------------------------------------------------------------ assignment
    def set(self, value) -> None:
        """Assign a new value to a mutable variable (made with vc.new / vc.new_*)."""
        node = self.node
        if not (isinstance(node, ir.Var) and node.mutable and node.kind == ir.LOCAL):
            raise codegen_error("only variables made with vc.new(...) can be assigned; "
                                "this value is read-only")
        self.builder.emit(ir.Assign(node, convert(to_node(value, node.dtype), node.dtype)))

    def cast(self, dtype) -> "ShaderVariable":
        return self._new(convert(self.node, dt.to_dtype(dtype)))

    def copy(self, var_name=None) -> "ShaderVariable":
        """A new mutable variable holding this value (`var_name` names it in the source)."""
        return ShaderVariable(self.builder, self.builder.bind(self.node, mutable=True,
                                                              name=var_name))

    # vkdispatch 0.1's names
    def to_register(self, var_name=None) -> "ShaderVariable":
        """This value computed once into a new mutable variable (same as copy)."""
        return self.copy(var_name)

    def set_value(self, value) -> None:
        self.set(value)

    def to_dtype(self, dtype) -> "ShaderVariable":
        return self.cast(dtype)

    def swizzle(self, components: str) -> "ShaderVariable":
        """`v.swizzle("zyx")` is `v.zyx`."""
        if not isinstance(components, str):
            raise TypeError(f"swizzle takes a str of components such as 'xy', got "
                            f"{components!r}")
        return getattr(self, components)

    def conjugate(self) -> "ShaderVariable":
        node = self.node
        if not node.dtype.is_complex:
            return self
        return self._new(ops.make("conj", node))

    # ------------------------------------------------------------------ components
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        node = object.__getattribute__(self, "node")
        t = node.dtype
        if name in ("real", "imag") and t.is_complex:
            return self._new(ops.make(name, node))
        if name in ("shape", "size", "length") and isinstance(node, ir.Var) and node.length:
            return node.length if name != "shape" else (node.length,)
        if name == "shape" and isinstance(node, ir.Var) and node.kind == ir.BUFFER:
            return ShaderVariable(self.builder, self.builder.param_shape(node))
        letters = _swizzle_letters(name, t)
        if letters is None:
            raise AttributeError(f"{t.name} value has no attribute {name!r}")
        return self._new(ops.make("swizzle", node, attrs=(letters,)))

    def __setattr__(self, name, value):
        if name in ShaderVariable.__slots__:
            object.__setattr__(self, name, value)
            return
        node = self.node
        letters = _swizzle_letters(name, node.dtype)
        if letters is None:
            raise AttributeError(f"cannot set attribute {name!r} on a shader value")
        target = ops.make("swizzle", node, attrs=(letters,))
        self._assign_to(target, value)

    def _assign_to(self, target, value):
        node = self.node
        if not (isinstance(node, ir.Var) and node.mutable):
            raise codegen_error("components can only be assigned on variables made with vc.new(...)")
        self.builder.emit(ir.Assign(target, convert(to_node(value, target.dtype), target.dtype)))

    def __getitem__(self, index):
        node = self.node
        if isinstance(index, slice):
            if index == slice(None):
                return self
            raise codegen_error("only [:] slices are supported on shader values")
        if isinstance(node, ir.Var) and node.kind in (ir.BUFFER, ir.SHARED, ir.LOCAL_ARRAY):
            ref = self._element_ref(index)
            loaded = self.builder.bind(load_node(ref))
            return ShaderVariable(self.builder, loaded, ref=ref)
        t = node.dtype
        if t.is_vector or t.is_matrix:
            if isinstance(index, int):
                n = t.columns if t.is_matrix else t.count
                if not -n <= index < n:
                    raise IndexError(f"index {index} out of range for {t.name}")
                index %= n
            idx = to_node(index, dt.int32)
            if not idx.dtype.is_integer:
                raise TypeError(f"vector index must be an integer, got {idx.dtype.name}")
            if t.is_vector and isinstance(idx, ir.Lit):
                return self._new(ops.make("swizzle", node, attrs=("xyzw"[idx.value],)))
            return self._new(ops.make("component", node, convert(idx, dt.int32)))
        raise codegen_error(f"a {t.name} value cannot be indexed")

    def __setitem__(self, index, value):
        node = self.node
        if isinstance(index, slice) and index == slice(None):
            self.set(value)
            return
        if isinstance(node, ir.Var) and node.kind in (ir.BUFFER, ir.SHARED, ir.LOCAL_ARRAY):
            if not node.writable:
                raise codegen_error(f"{node.name} is read-only")
            ref = self._element_ref(index)
            self.builder.emit(ir.Assign(ref, store_value(ref, value)))
            return
        t = node.dtype
        if t.is_vector or t.is_matrix:
            if isinstance(index, int):
                n = t.columns if t.is_matrix else t.count
                index %= n
            idx = convert(to_node(index, dt.int32), dt.int32)
            target = (ops.make("swizzle", node, attrs=("xyzw"[idx.value],))
                      if t.is_vector and isinstance(idx, ir.Lit)
                      else ops.make("component", node, idx))
            self._assign_to(target, value)
            return
        raise codegen_error(f"a {t.name} value cannot be indexed")

    def _element_ref(self, index):
        node = self.node
        if isinstance(index, tuple) and len(index) == 1:   # buf[(i,)], as 0.1 accepts
            index = index[0]
        if isinstance(index, tuple):
            raise codegen_error("buffers are indexed with one flat index; use "
                                "vc.ravel_index(...) for several dimensions")
        idx = to_node(index, dt.uint32)
        if not (idx.dtype.is_scalar and idx.dtype.is_integer):
            raise TypeError(f"buffer index must be an integer scalar, got {idx.dtype.name}")
        if isinstance(idx, ir.Lit) and node.length and not 0 <= idx.value < node.length:
            raise IndexError(f"index {idx.value} out of range for array of {node.length}")
        ref = ops.make("index", node, idx, dtype=storage_type(node.dtype))
        if self.builder.report:         # debug mode: reports name the access's line
            self.builder.locations[id(ref)] = (ref, user_location())
        return ref


def _swizzle_letters(name: str, t: DType):
    """Normalized xyzw letters of a swizzle `name` valid on `t`, or None."""
    if not (t.is_vector or (t.is_complex)) or not 1 <= len(name) <= 4:
        return None
    n = 2 if t.is_complex else t.count
    for letters in _SWIZZLE_SETS:
        if all(c in letters[:n] for c in name):
            return "".join("xyzw"[letters.index(c)] for c in name)
    return None


def storage_type(t: DType) -> DType:
    """How an array element of type `t` is stored: bools as uint32 (GLSL bools have no
    memory layout), everything else as itself."""
    return dt.uint32 if t is dt.bool_ else t


def load_node(ref: ir.Expr):
    """The value of an array element."""
    if ref.args[0].dtype is dt.bool_:
        return ops.make("ne", ref, ir.Lit(0, dt.uint32))
    return ref


def store_value(ref: ir.Expr, value):
    return convert(to_node(value, ref.dtype), ref.dtype)


# ----------------------------------------------------------------------------- node rules

_INT_ONLY = {"bit_and", "bit_or", "bit_xor", "shl", "shr"}
_FLOAT_RESULT = {"div", "pow", "atan2"}


def binary_node(op: str, a, b):
    """The typed Expr for `a op b` with numpy-like promotion and explicit conversions."""
    ta, tb = a.dtype, b.dtype
    if op == "matmul":
        return ops.make("matmul", a, b)
    if op in ("bit_and", "bit_or", "bit_xor") and ta.base.is_bool and tb.base.is_bool:
        return ops.make({"bit_and": "logical_and", "bit_or": "logical_or",
                         "bit_xor": "ne"}[op], a, b)
    if op in ("mul", "div") and (ta.is_matrix or tb.is_matrix):
        if op == "div" or not (ta.is_scalar or tb.is_scalar):
            raise TypeError("use `@` for matrix products; `*` only scales a matrix by a scalar")
    t = dt.promote(ta, tb)
    if op in _INT_ONLY:
        if not t.is_integer:
            raise TypeError(f"{op} needs integer operands, got {ta.name} and {tb.name}")
        if op in ("shl", "shr"):
            return ops.make(op, convert(a, t), convert(b, dt.with_base(tb, t.base)), dtype=t)
    if op in _FLOAT_RESULT and t.base.kind in (dt.INT, dt.UINT, dt.BOOL):
        t = dt.with_base(t, dt.float32)
    if op in ("lt", "le", "gt", "ge") and t.is_complex:
        raise TypeError("complex numbers are not ordered")
    if t.is_complex and op in ("mul", "div"):
        if ta.is_complex and tb.is_complex:
            return ops.make("cmul" if op == "mul" else "cdiv", convert(a, t), convert(b, t))
        real = dt.complex_part(t)
        if op == "div" and not tb.is_complex:
            return ops.make("div", convert(a, t), convert(b, real), dtype=t)
        if op == "mul":
            ca = convert(a, t) if ta.is_complex else convert(a, real)
            cb = convert(b, t) if tb.is_complex else convert(b, real)
            return ops.make("mul", ca, cb, dtype=t)
        return ops.make("cdiv", convert(a, t), convert(b, t))
    if t.is_complex and op not in ("add", "sub", "eq", "ne"):
        raise TypeError(f"{op} is not defined for complex numbers")
    if t.is_bool and op in ("add", "sub", "mul", "floordiv", "mod"):
        t = dt.int32
    if op in ("lt", "le", "gt", "ge", "eq", "ne"):
        # both sides get the promoted shape: GLSL compares vectors only with vectors
        return ops.make(op, convert(a, t), convert(b, t))
    if op == "pow" and isinstance(b, ir.Lit) and b.value == 2 and not t.is_complex:
        ca = convert(a, t)
        return ops.make("mul", ca, ca, dtype=t)   # exact, as numpy does for x ** 2
    if (ta.is_matrix or tb.is_matrix) and op == "mul":
        m = a if ta.is_matrix else b
        s = b if ta.is_matrix else a
        return ops.make("mul", m, convert(s, dt.float32), dtype=m.dtype)
    ca = convert(a, dt.with_base(ta, t.base))
    cb = convert(b, dt.with_base(tb, t.base))
    return ops.make(op, ca, cb, dtype=t)


def wrap(builder: Builder, node) -> ShaderVariable:
    """A ShaderVariable for `node`, binding it to a local when it must be snapshotted."""
    if isinstance(node, ir.Expr) and (not _is_stable(node) or _tree_size(node) > _MAX_TREE):
        node = builder.bind(node)
    return ShaderVariable(builder, node)


def var(value) -> ShaderVariable:
    """Lift a python value or ShaderVariable into the active builder."""
    if isinstance(value, ShaderVariable):
        return value
    return wrap(current(), to_node(value))
