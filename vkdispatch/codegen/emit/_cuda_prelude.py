"""The CUDA prelude: the type definitions and helper functions one kernel needs.

CUDA's vector types (float2, int4, ...) have no operators, so every vector operation,
conversion, comparison and math function a kernel uses is generated here on demand,
component by component, from one table of scalar semantics (`scalar_template`). The
emitter asks `Prelude` for an expression; the prelude records what that expression
calls and `lines()` prints exactly those definitions, dependencies first.
"""
from __future__ import annotations

import math
import re

from ...base import dtype as dt
from ...base.dtype import DType

XYZW = "xyzw"
_CUSTOM_VECTORS = {"hvec3": "vkd_half3", "hvec4": "vkd_half4", "bvec2": "vkd_bool2", "bvec3": "vkd_bool3",
                   "bvec4": "vkd_bool4"}
# ops that print as C++ operators on vectors and matrices
OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "bit_and": "&", "bit_or": "|",
             "bit_xor": "^", "shl": "<<", "shr": ">>"}
UNARY_OPERATORS = {"neg": "-", "bit_not": "~"}
BOOL_RESULT = frozenset({"lt", "le", "gt", "ge", "eq", "ne", "isnan", "isinf", "logical_and",
                         "logical_or", "logical_not"})
_CMP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_FLOAT_UNARY = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
                "acosh", "atanh", "exp", "exp2", "expm1", "log", "log2", "log1p", "sqrt", "floor",
                "ceil", "trunc")
_SMALL_INTS = (dt.int8, dt.uint8, dt.int16, dt.uint16)
# pi / 180 and 180 / pi, to double precision (the "f" suffix rounds them for float)
_DEG_TO_RAD = repr(math.pi / 180)
_RAD_TO_DEG = repr(180 / math.pi)
_SIMPLE = re.compile(r"^(\(?-?[\w.]+[fu]?l*\)?|[A-Za-z_]\w*(\.[xyzw]|\[\w+\])?)$")


# ----------------------------------------------------------------------------- type facts

def comps(t: DType) -> int:
    """Components as C sees them: complex numbers are 2-vectors."""
    return 2 if t.is_complex else (t.count if t.is_vector else 1)


def elem(t: DType) -> DType:
    """The scalar type of one component."""
    if t.is_complex:
        return dt.complex_part(t)
    return t.base


def as_vector(t: DType) -> DType:
    """Complex numbers as the float 2-vectors they are stored in."""
    return dt.vector_of(elem(t), 2) if t.is_complex else t


def ctor(t: DType) -> str:
    """The function building a vector of type `t` from its components."""
    t = as_vector(t)
    if t is dt.hvec2:
        return "__halves2half2"
    if t.name in _CUSTOM_VECTORS:
        return "vkd_make_" + _CUSTOM_VECTORS[t.name][4:]
    return "make_" + t.cuda


def member_type(t: DType) -> DType:
    """The type of a vector's members (bool vectors keep 0/1 in 32-bit members so that
    their layout matches bool buffers, which store uint32)."""
    return dt.uint32 if t.base is dt.bool_ else elem(t)


def zero(t: DType) -> str:
    b = elem(t)
    if b is dt.bool_:
        s = "false"
    elif b is dt.float16:
        s = "__float2half(0.0f)"
    elif b is dt.float32:
        s = "0.0f"
    elif b is dt.float64:
        s = "0.0"
    else:
        s = f"(({b.cuda})0)"
    n = comps(t)
    return s if n == 1 else f"{ctor(t)}({', '.join([s] * n)})"


def is_simple(arg: str) -> bool:
    """True when repeating `arg` in C costs nothing (a name, member or number)."""
    return bool(_SIMPLE.match(arg))


def _closes_at_end(s: str, start: int) -> bool:
    depth = 0
    for i in range(start, len(s)):
        depth += s[i] == "("
        depth -= s[i] == ")"
        if depth == 0:
            return i == len(s) - 1
    return False


def atom(x: str) -> str:
    """`x` parenthesized unless it already is one term (name, number, call, (...))."""
    if is_simple(x) or (x.startswith("(") and _closes_at_end(x, 0)):
        return x
    m = re.match(r"[A-Za-z_][\w:]*(<[\w ,*]*>)?\(", x)
    if m and _closes_at_end(x, m.end() - 1):
        return x
    return f"({x})"


# ----------------------------------------------------------------------------- scalar semantics

def scalar_template(op: str, t: DType) -> str:
    """C for `op` on scalars of type `t` (not float16) as a format string over the operand
    strings {0}, {1}, {2} and {T} (the type); a template containing `return` is a
    function body."""
    T = t.cuda
    if op in _CMP:
        return f"({{0}} {_CMP[op]} {{1}})"
    if t is dt.bool_:
        return {"logical_and": "({0} && {1})", "logical_or": "({0} || {1})",
                "logical_not": "(!{0})", "bit_and": "({0} && {1})", "bit_or": "({0} || {1})",
                "bit_xor": "({0} != {1})", "min": "({0} && {1})", "max": "({0} || {1})"}[op]
    if t.is_float:
        f = "f" if t is dt.float32 else ""
        one, zero_ = ("1.0f", "0.0f") if f else ("1.0", "0.0")
        if op in _FLOAT_UNARY:
            return f"{op}{f}({{0}})"
        table = {
            "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})",
            "div": "({0} / {1})", "neg": "(-{0})",
            "mod": f"({{0}} - {{1}} * floor{f}({{0}} / {{1}}))",
            "floordiv": f"floor{f}({{0}} / {{1}})",
            "pow": f"pow{f}({{0}}, {{1}})", "atan2": f"atan2{f}({{0}}, {{1}})",
            "min": f"fmin{f}({{0}}, {{1}})", "max": f"fmax{f}({{0}}, {{1}})",
            "abs": f"fabs{f}({{0}})", "round": f"rint{f}({{0}})", "rsqrt": f"rsqrt{f}({{0}})",
            "fract": f"({{0}} - floor{f}({{0}}))",
            # GLSL sign: -1, 0 or 1, and NaN stays NaN
            "sign": f"({{0}} > {zero_} ? {one} : ({{0}} < {zero_} ? -{one} : {{0}}))",
            "clamp": f"fmin{f}(fmax{f}({{0}}, {{1}}), {{2}})",
            "mix": f"({{0}} * ({one} - {{2}}) + {{1}} * {{2}})",
            "fma": f"fma{f}({{0}}, {{1}}, {{2}})",
            "step": f"({{1}} < {{0}} ? {zero_} : {one})",
            "smoothstep": (f"{T} t = fmin{f}(fmax{f}(({{2}} - {{0}}) / ({{1}} - {{0}}), {zero_}), "
                           f"{one}); return t * t * (({T})3 - ({T})2 * t);"),
            "isnan": "isnan({0})", "isinf": "isinf({0})",
            "radians": f"({{0}} * {_DEG_TO_RAD}{f})", "degrees": f"({{0}} * {_RAD_TO_DEG}{f})",
        }
        return table[op]
    small = t in _SMALL_INTS
    signed = t.kind == dt.INT

    def wrap(s):  # C promotes small ints to int; keep the IR's type
        return f"(({T}){s})" if small else s

    if op == "mul" and t is dt.uint16:   # 65535 * 65535 overflows a (promoted) int
        return "((unsigned short)((unsigned int){0} * (unsigned int){1}))"
    simple = {"add": "+", "sub": "-", "mul": "*", "div": "/", "bit_and": "&", "bit_or": "|",
              "bit_xor": "^", "shl": "<<", "shr": ">>"}
    if op in simple:
        return wrap(f"({{0}} {simple[op]} {{1}})")
    table = {
        "neg": wrap("(-{0})"), "bit_not": wrap("(~{0})"),
        "min": "({1} < {0} ? {1} : {0})", "max": "({0} < {1} ? {1} : {0})",
        "clamp": "{T} m = {0} < {1} ? {1} : {0}; return {2} < m ? {2} : m;",
        "abs": wrap("({0} < 0 ? -{0} : {0})") if signed else "{0}",
        "sign": f"(({T})(({{0}} > 0) - ({{0}} < 0)))" if signed else f"(({T})({{0}} > 0))",
        # floor modulo / division like numpy: the result takes the divisor's sign
        "mod": ("{T} r = {0} % {1}; return ({T})((r != 0 && ((r < 0) != ({1} < 0))) ? r + {1} : r);"
                if signed else wrap("({0} % {1})")),
        "floordiv": ("{T} q = {0} / {1}; return ({T})((q * {1} != {0} && (({0} < 0) != ({1} < 0)))"
                     " ? q - 1 : q);" if signed else wrap("({0} / {1})")),
    }
    return table[op]


def cast_scalar(src: DType, dst: DType, x: str) -> str:
    """`x` of scalar type `src` converted to scalar type `dst` (numeric conversion)."""
    if src is dst:
        return x
    if dst is dt.bool_:
        return f"(__half2float({x}) != 0.0f)" if src is dt.float16 else f"({x} != 0)"
    if dst is dt.float16:
        if src is dt.float64:
            return f"__double2half({x})"
        return f"__float2half({x})" if src is dt.float32 else f"__float2half((float){atom(x)})"
    if src is dt.float16:
        return f"__half2float({x})" if dst is dt.float32 else f"(({dst.cuda})__half2float({x}))"
    return f"(({dst.cuda}){atom(x)})"


_BITCAST = {("float32", "int32"): "__float_as_int", ("float32", "uint32"): "__float_as_uint",
            ("int32", "float32"): "__int_as_float", ("uint32", "float32"): "__uint_as_float",
            ("float64", "int64"): "__double_as_longlong",
            ("int64", "float64"): "__longlong_as_double",
            ("float16", "int16"): "__half_as_short", ("float16", "uint16"): "__half_as_ushort",
            ("int16", "float16"): "__short_as_half", ("uint16", "float16"): "__ushort_as_half"}


# ----------------------------------------------------------------------------- the prelude

class Prelude:
    """Definitions a kernel needs, in dependency order. Every method returns C text
    to put in the kernel and records the helpers that text calls."""

    def __init__(self, local_size: tuple):
        self.local_size = tuple(local_size) + (1,) * (3 - len(local_size))
        self.fp16 = False
        self.types: dict[str, str] = {}
        self.funcs: dict[tuple, str] = {}

    def lines(self) -> list:
        out = ["#include <cuda_fp16.h>"] if self.fp16 else []
        return out + list(self.types.values()) + list(self.funcs.values())

    def _define(self, key, make) -> None:
        """Add the definition `make()` under `key` once. `make` runs first, so the
        helpers it asks for are defined before it."""
        if key not in self.funcs:
            text = make()
            self.funcs.setdefault(key, text)

    # ------------------------------------------------------------------ types
    def ctype(self, t: DType) -> str:
        """The C name of `t`, defining it first where CUDA lacks it."""
        b = t.base
        if b in (dt.float16, dt.complex32):
            self.fp16 = True
        name = t.cuda
        if name in self.types or not name.startswith("vkd_"):
            return name
        if t.is_matrix:
            n = t.columns
            col = self.ctype(dt.vector_of(dt.float32, n))
            self.types[name] = (
                f"struct {name} {{\n    {col} c[{n}];\n"
                f"    __device__ {col}& operator[](int i) {{ return c[i]; }}\n"
                f"    __device__ const {col}& operator[](int i) const {{ return c[i]; }}\n}};")
            return name
        mt = member_type(t)
        n = t.count
        members = ", ".join(XYZW[:n])
        align = f"__align__({mt.itemsize * n}) " if n != 3 else ""
        ps = ", ".join(f"{elem(t).cuda} {c}" for c in XYZW[:n])
        sets = " ".join(f"r.{c} = {c};" for c in XYZW[:n])
        self.types[name] = (f"struct {align}{name} {{ {mt.cuda} {members}; }};\n"
                            f"__device__ inline {name} {ctor(t)}({ps}) {{ {name} r; {sets} return r; }}")
        return name

    # ------------------------------------------------------------------ scalars
    def scalar(self, op: str, t: DType, args: list) -> str:
        """`op` on scalar operands of type `t`."""
        if t is dt.float16 and op not in ("add", "sub", "mul", "div", "neg"):
            self.fp16 = True
            inner = self.scalar(op, dt.float32, [f"__half2float({a})" for a in args])
            return inner if op in BOOL_RESULT else f"__float2half({inner})"
        tmpl = scalar_template(op, t)
        repeated = any(tmpl.count("{%d}" % i) > 1 for i in range(len(args)))
        if "return" in tmpl or (repeated and not all(is_simple(a) for a in args)):
            return f"{self._scalar_fn(op, t, tmpl, len(args))}({', '.join(args)})"
        return tmpl.format(*args, T=t.cuda)

    def _scalar_fn(self, op, t, tmpl, arity) -> str:
        name = f"vkd_{op}"
        ps = "abc"[:arity]

        def make():
            body = tmpl.format(*ps, T=t.cuda)
            if "return" not in body:
                body = f"return {body};"
            ret = "bool" if op in BOOL_RESULT else t.cuda
            params = ", ".join(f"{t.cuda} {p}" for p in ps)
            return f"__device__ inline {ret} {name}({params}) {{ {body} }}"
        self._define(("scalar", op, t.name), make)
        return name

    # ------------------------------------------------------------------ elementwise
    def apply(self, op: str, ret: DType, ts: list, args: list) -> str:
        """Elementwise `op` (arithmetic, bitwise, comparison, logic, math) for operand
        types `ts`: scalars inline, vectors through operators or helpers."""
        if ret.is_matrix or any(t.is_matrix for t in ts):
            return self.matrix_op(op, ret, ts, args)
        if op in ("eq", "ne") and ts[0].is_complex:
            name = self._complex_eq(ts[0])
            return f"{'' if op == 'eq' else '!'}{name}({args[0]}, {args[1]})"
        if all(comps(t) == 1 for t in ts) and comps(ret) == 1:
            return self.scalar(op, ts[0], args)
        ret, ts = as_vector(ret), [as_vector(t) for t in ts]
        if op in OPERATORS or op in UNARY_OPERATORS:
            sym = self.operator(op, ret, ts)
            return f"({sym}{args[0]})" if len(args) == 1 else f"({args[0]} {sym} {args[1]})"
        return f"{self.vector_fn(op, ret, ts)}({', '.join(args)})"

    def _component_args(self, ts, names, k):
        return [f"{p}.{XYZW[k]}" if comps(t) > 1 else p for t, p in zip(ts, names)]

    def _elementwise(self, key, name, ret, ts, comp):
        """Define `ret name(ts...)` whose component k is `comp(k, component args)`."""
        names = "abc"[:len(ts)]

        def make():
            n = comps(ret)
            parts = [comp(self._component_args(ts, names, k)) for k in range(n)]
            params = ", ".join(f"{self.ctype(t)} {p}" for t, p in zip(ts, names))
            return (f"__device__ inline {self.ctype(ret)} {name}({params}) "
                    f"{{ return {ctor(ret)}({', '.join(parts)}); }}")
        self._define(key, make)
        return name

    def vector_fn(self, op, ret, ts) -> str:
        base = next(elem(t) for t in ts if comps(t) > 1) if any(comps(t) > 1 for t in ts) \
            else elem(ts[0])
        name = f"vkd_{op}"
        return self._elementwise(("vec", name, ret.name, tuple(t.name for t in ts)), name, ret, ts,
                                 lambda a: self.scalar(op, base, a))

    def operator(self, op, ret, ts) -> str:
        """Define the C++ operator for `op` on these (vector) types; returns its symbol."""
        sym = OPERATORS.get(op) or UNARY_OPERATORS[op]
        if ret is dt.hvec2 and op in ("add", "sub", "mul", "div", "neg") and \
                all(t is dt.hvec2 for t in ts):
            return sym   # cuda_fp16.h defines these
        base = next(elem(t) for t in ts if comps(t) > 1)
        self._elementwise(("op", op, ret.name, tuple(t.name for t in ts)), f"operator{sym}", ret,
                          ts, lambda a: self.scalar(op, base, a))
        return sym

    def cast(self, src: DType, dst: DType, x: str) -> str:
        if src is dst or (src.is_matrix and dst.is_matrix and src.count == dst.count):
            return x
        if comps(src) == 1 and comps(dst) == 1:
            self.ctype(src), self.ctype(dst)
            return cast_scalar(src, dst, x)
        s, d = as_vector(src), as_vector(dst)
        if s.cuda == d.cuda:
            return x
        name = f"vkd_to_{dst.name}"
        self._elementwise(("cast", dst.name, s.name), name, d, [s],
                          lambda a: cast_scalar(elem(s), elem(d), a[0]))
        return f"{name}({x})"

    def bitcast(self, src: DType, dst: DType, x: str) -> str:
        if src.cuda == dst.cuda:
            return x
        f = _BITCAST.get((src.name, dst.name))
        if f:
            return f"{f}({x})"
        if src.is_integer and dst.is_integer and src.itemsize == dst.itemsize:
            return f"(({dst.cuda}){atom(x)})"
        self._define(("bitcast",), lambda: (
            "template <class D, class S> __device__ inline D vkd_bitcast(S s) {\n"
            "    static_assert(sizeof(D) == sizeof(S), \"bitcast between types of different sizes\");\n"
            "    D d; memcpy(&d, &s, sizeof(D)); return d;\n}"))
        return f"vkd_bitcast<{self.ctype(dst)}>({x})"

    # ------------------------------------------------------------------ construction
    def construct(self, t: DType, ts: list, args: list) -> str:
        """A vector, matrix or complex number of type `t` from scalar/vector parts."""
        if t.is_matrix:
            return self._make_matrix(t, ts, args)
        self.ctype(t)
        n = comps(t)
        if len(args) == n and all(comps(a) == 1 for a in ts):
            return f"{ctor(t)}({', '.join(args)})"
        name = f"vkd_make_{as_vector(t).name}"
        names = [f"p{i}" for i in range(len(ts))]

        def make():
            flat = []
            for at, p in zip(ts, names):
                flat += [p] if comps(at) == 1 else [f"{p}.{c}" for c in XYZW[:comps(at)]]
            if len(flat) == 1:
                flat *= n   # a scalar fills every component
            params = ", ".join(f"{self.ctype(a)} {p}" for a, p in zip(ts, names))
            return (f"__device__ inline {self.ctype(t)} {name}({params}) "
                    f"{{ return {ctor(t)}({', '.join(flat[:n])}); }}")
        self._define(("make", as_vector(t).name, tuple(a.name for a in ts)), make)
        return f"{name}({', '.join(args)})"

    def _make_matrix(self, t, ts, args) -> str:
        n = t.columns
        name = f"vkd_make_mat{n}"
        names = [f"p{i}" for i in range(len(ts))]

        def make():
            tn = self.ctype(t)
            body = [f"{tn} r;"]
            if len(ts) == 1 and ts[0].is_matrix:      # GLSL: upper left, identity elsewhere
                m = ts[0].columns
                for j in range(n):
                    parts = [f"p0.c[{j}].{XYZW[i]}" if i < m and j < m else
                             ("1.0f" if i == j else "0.0f") for i in range(n)]
                    body.append(f"r.c[{j}] = make_float{n}({', '.join(parts)});")
            elif len(ts) == 1 and comps(ts[0]) == 1:  # GLSL: a scalar sets the diagonal
                for j in range(n):
                    parts = ["p0" if i == j else "0.0f" for i in range(n)]
                    body.append(f"r.c[{j}] = make_float{n}({', '.join(parts)});")
            else:                                     # components in column-major order
                flat = []
                for at, p in zip(ts, names):
                    flat += [p] if comps(at) == 1 else [f"{p}.{c}" for c in XYZW[:comps(at)]]
                for j in range(n):
                    body.append(f"r.c[{j}] = make_float{n}({', '.join(flat[j * n:(j + 1) * n])});")
            params = ", ".join(f"{self.ctype(a)} {p}" for a, p in zip(ts, names))
            return (f"__device__ inline {tn} {name}({params}) {{\n    "
                    + "\n    ".join(body + ["return r;"]) + "\n}")
        self._define(("make", t.name, tuple(a.name for a in ts)), make)
        return f"{name}({', '.join(args)})"

    def swizzle(self, t: DType, letters: str, x: str) -> str:
        b = elem(t)
        if len(letters) == 1:
            return f"((bool){x}.{letters})" if b is dt.bool_ else f"{x}.{letters}"
        out = dt.vector_of(b, len(letters))
        self.ctype(out)
        if is_simple(x):
            return f"{ctor(out)}({', '.join(f'{x}.{c}' for c in letters)})"
        name = f"vkd_swizzle_{letters}"
        self._define(("swizzle", letters, as_vector(t).name), lambda: (
            f"__device__ inline {self.ctype(out)} {name}({self.ctype(as_vector(t))} v) "
            f"{{ return {ctor(out)}({', '.join(f'v.{c}' for c in letters)}); }}"))
        return f"{name}({x})"

    def component(self, t: DType, x: str, i: str, lvalue: bool = False) -> str:
        """Element `i` (dynamic) of vector `x`; a reference to it when `lvalue`."""
        n = comps(t)
        mt = member_type(t)
        name = "vkd_ref" if lvalue else "vkd_get"

        def make():
            pick = " : ".join(f"i == {k} ? v.{XYZW[k]}" for k in range(n - 1)) + f" : v.{XYZW[n - 1]}"
            tn = self.ctype(as_vector(t))
            if lvalue:
                return f"__device__ inline {mt.cuda}& {name}({tn}& v, int i) {{ return {pick}; }}"
            ret = elem(t).cuda
            return f"__device__ inline {ret} {name}({tn} v, int i) {{ return ({ret})({pick}); }}"
        self._define((name, as_vector(t).name), make)
        return f"{name}({x}, {i})"

    # ------------------------------------------------------------------ vectors
    def reduce_bool(self, op: str, t: DType, x: str) -> str:
        name = f"vkd_{op}"
        sym = " || " if op == "any" else " && "
        self._define((name, t.name), lambda: (
            f"__device__ inline bool {name}({self.ctype(t)} v) "
            f"{{ return {sym.join(f'v.{c}' for c in XYZW[:t.count])}; }}"))
        return f"{name}({x})"

    def geometry(self, op: str, ts: list, args: list) -> str:
        """dot, length, distance, normalize, cross."""
        t = ts[0]
        b = elem(t)
        n = t.count
        name = f"vkd_{op}"
        T, S = self.ctype(t), self.ctype(b)

        def make():
            if op == "dot":
                terms = [self.scalar("mul", b, [f"a.{c}", f"b.{c}"]) for c in XYZW[:n]]
                body = terms[0]
                for term in terms[1:]:
                    body = self.scalar("add", b, [body, term])
                return f"__device__ inline {S} vkd_dot({T} a, {T} b) {{ return {body}; }}"
            if op == "length":
                d = self.geometry("dot", [t, t], ["a", "a"])
                return f"__device__ inline {S} vkd_length({T} a) {{ return {self.scalar('sqrt', b, [d])}; }}"
            if op == "distance":
                diff = self.apply("sub", t, [t, t], ["a", "b"])
                return (f"__device__ inline {S} vkd_distance({T} a, {T} b) "
                        f"{{ return {self.geometry('length', [t], [diff])}; }}")
            if op == "normalize":
                q = self.apply("div", t, [t, b], ["a", self.geometry("length", [t], ["a"])])
                return f"__device__ inline {T} vkd_normalize({T} a) {{ return {q}; }}"
            # cross
            parts = []
            for i, j in (("y", "z"), ("z", "x"), ("x", "y")):
                parts.append(self.scalar("sub", b, [self.scalar("mul", b, [f"a.{i}", f"b.{j}"]),
                                                    self.scalar("mul", b, [f"a.{j}", f"b.{i}"])]))
            return (f"__device__ inline {T} vkd_cross({T} a, {T} b) "
                    f"{{ return {ctor(t)}({', '.join(parts)}); }}")
        self._define((name, t.name), make)
        return f"{name}({', '.join(args)})"

    # ------------------------------------------------------------------ complex numbers
    def complex_fn(self, op: str, t: DType, args: list) -> str:
        if t is dt.complex32:   # computed in complex64: CUDA's half math lacks sincos/hypot
            self.fp16 = True
            inner = self.complex_fn(op, dt.complex64, [f"__half22float2({a})" for a in args])
            return f"__float2half({inner})" if op == "cabs" else f"__float22half2_rn({inner})"
        C = self.ctype(t)
        R = elem(t).cuda
        f = "f" if elem(t) is dt.float32 else ""
        mk = ctor(t)
        bodies = {
            "cmul": f"return {mk}(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);",
            # Smith's division: |b|^2 would overflow long before the quotient does
            "cdiv": (f"if (fabs(b.x) >= fabs(b.y)) {{ {R} r = b.y / b.x, d = b.x + b.y * r; "
                     f"return {mk}((a.x + a.y * r) / d, (a.y - a.x * r) / d); }} "
                     f"{R} r = b.x / b.y, d = b.x * r + b.y; "
                     f"return {mk}((a.x * r + a.y) / d, (a.y * r - a.x) / d);"),
            "conj": f"return {mk}(a.x, -a.y);",
            # exp(x) * (cos y, sin y); a zero imaginary part stays exactly zero (no inf * 0)
            "cexp": (f"{R} e = exp{f}(a.x), s, c; sincos{f}(a.y, &s, &c); "
                     f"return {mk}(e * c, a.y == 0 ? a.y : e * s);"),
            "cabs": f"return hypot{f}(a.x, a.y);",
        }
        ret = R if op == "cabs" else C
        params = f"{C} a, {C} b" if op in ("cmul", "cdiv") else f"{C} a"
        name = f"vkd_{op}"
        self._define((name, t.name), lambda: f"__device__ inline {ret} {name}({params}) {{ {bodies[op]} }}")
        return f"{name}({', '.join(args)})"

    def _complex_eq(self, t) -> str:
        C = self.ctype(t)
        self._define(("ceq", t.name), lambda: (
            f"__device__ inline bool vkd_ceq({C} a, {C} b) {{ return a.x == b.x && a.y == b.y; }}"))
        return "vkd_ceq"

    # ------------------------------------------------------------------ matrices
    def matrix_op(self, op: str, ret: DType, ts: list, args: list) -> str:
        """Matrix arithmetic with GLSL meaning: `*` of matrices/vectors is the linear
        algebra product (column-major, m[i] is column i); other ops go column-wise."""
        if op in ("eq", "ne"):
            name = self._matrix_eq(ts[0])
            return f"{'' if op == 'eq' else '!'}{name}({args[0]}, {args[1]})"
        if op == "matmul":
            op = "mul"
        sym = OPERATORS.get(op) or UNARY_OPERATORS.get(op)
        if sym is None:
            raise TypeError(f"{op} is not defined for matrices")
        key = ("mat", op, tuple(t.name for t in ts))
        self._define(key, lambda: self._matrix_operator(op, sym, ret, ts))
        return f"({sym}{args[0]})" if len(args) == 1 else f"({args[0]} {sym} {args[1]})"

    def _matrix_operator(self, op, sym, ret, ts) -> str:
        names = "ab"[:len(ts)]
        params = ", ".join(f"{self.ctype(t)} {p}" for t, p in zip(ts, names))
        head = f"__device__ inline {self.ctype(ret)} operator{sym}({params})"
        m = next(t for t in ts if t.is_matrix)
        n = m.columns
        col = dt.vector_of(dt.float32, n)
        if op == "mul" and not any(t.is_scalar for t in ts):
            a, b = ts
            if a.is_matrix and b.is_matrix:      # column j of A*B is A * (column j of B)
                self.matrix_op("mul", col, [a, col], ["x", "y"])
                cols = "\n    ".join(f"r.c[{j}] = a * b.c[{j}];" for j in range(n))
                return f"{head} {{\n    {self.ctype(ret)} r;\n    {cols}\n    return r;\n}}"
            if a.is_matrix:                      # (A v)_i = sum_k A[k][i] v[k]
                parts = [" + ".join(f"a.c[{k}].{XYZW[i]} * b.{XYZW[k]}" for k in range(n))
                         for i in range(n)]
            else:                                # (v A)_j = dot(v, A[j])
                parts = [" + ".join(f"a.{XYZW[k]} * b.c[{j}].{XYZW[k]}" for k in range(n))
                         for j in range(n)]
            return f"{head} {{ return {ctor(col)}({', '.join(parts)}); }}"
        # column-wise: matrix op matrix, matrix op scalar, scalar op matrix, -matrix
        col_ts = [col if t.is_matrix else t for t in ts]
        col_args = [f"{p}.c[j]" if t.is_matrix else p for t, p in zip(ts, names)]
        expr = self.apply(op, col, col_ts, col_args)
        return (f"{head} {{\n    {self.ctype(ret)} r;\n    for (int j = 0; j < {n}; ++j) "
                f"r.c[j] = {expr};\n    return r;\n}}")

    def _matrix_eq(self, t) -> str:
        n = t.columns
        M = self.ctype(t)
        test = " && ".join(f"a.c[{j}].{c} == b.c[{j}].{c}" for j in range(n) for c in XYZW[:n])
        self._define(("meq", t.name), lambda: (
            f"__device__ inline bool vkd_eq({M} a, {M} b) {{ return {test}; }}"))
        return "vkd_eq"

    def matrix_comp_mult(self, t: DType, args: list) -> str:
        """`a` times `b` element by element (GLSL matrixCompMult)."""
        M, n = self.ctype(t), t.columns
        col = dt.vector_of(dt.float32, n)

        def make():
            prod = self.apply("mul", col, [col, col], ["a.c[j]", "b.c[j]"])
            return (f"__device__ inline {M} vkd_matrix_comp_mult({M} a, {M} b) {{\n    {M} r;\n"
                    f"    for (int j = 0; j < {n}; ++j) r.c[j] = {prod};\n    return r;\n}}")
        self._define(("matrix_comp_mult", t.name), make)
        return f"vkd_matrix_comp_mult({', '.join(args)})"

    def outer_product(self, v: DType, args: list) -> str:
        """The matrix whose column j is `a * b[j]` (GLSL outerProduct)."""
        n = v.count
        m = dt.from_name(f"mat{n}")
        M, V = self.ctype(m), self.ctype(v)

        def make():
            cols = "\n    ".join(
                f"r.c[{j}] = {self.apply('mul', v, [v, dt.float32], ['a', f'b.{XYZW[j]}'])};"
                for j in range(n))
            return (f"__device__ inline {M} vkd_outer_product({V} a, {V} b) {{\n    {M} r;\n"
                    f"    {cols}\n    return r;\n}}")
        self._define(("outer_product", v.name), make)
        return f"vkd_outer_product({', '.join(args)})"

    def matrix_fn(self, op: str, t: DType, x: str) -> str:
        """transpose, determinant, inverse."""
        n = t.columns
        M = self.ctype(t)
        e = [[f"m.c[{c}].{XYZW[r]}" for c in range(n)] for r in range(n)]   # e[row][col]
        name = f"vkd_{op}"

        def make():
            if op == "transpose":
                cols = [f"make_float{n}({', '.join(e[c][r] for r in range(n))})" for c in range(n)]
                body = "\n    ".join(f"r.c[{r}] = {cols[r]};" for r in range(n))
                return (f"__device__ inline {M} vkd_transpose({M} m) {{\n    {M} r;\n    {body}\n"
                        f"    return r;\n}}")
            if op == "determinant":
                return f"__device__ inline float vkd_determinant({M} m) {{ return {_det(e)}; }}"
            lines = [f"float d = {_det(e)};", f"{M} r;"]
            for row in range(n):          # inverse[row][col] = cofactor(col, row) / det
                for col in range(n):
                    minor = [[e[i][j] for j in range(n) if j != row] for i in range(n) if i != col]
                    sign = "" if (row + col) % 2 == 0 else "-"
                    lines.append(f"r.c[{col}].{XYZW[row]} = {sign}({_det(minor)}) / d;")
            return (f"__device__ inline {M} vkd_inverse({M} m) {{\n    "
                    + "\n    ".join(lines + ["return r;"]) + "\n}")
        self._define((name, t.name), make)
        return f"{name}({x})"

    # ------------------------------------------------------------------ invocation ids
    def local_index(self) -> str:
        lx, ly, lz = self.local_size
        idx = "threadIdx.x"
        if lz > 1:
            idx += f" + {lx}u * (threadIdx.y + {ly}u * threadIdx.z)"
        elif ly > 1:
            idx += f" + {lx}u * threadIdx.y"
        self._define(("local_index",), lambda: (
            f"__device__ inline unsigned int vkd_local_index() {{ return {idx}; }}"))
        return "vkd_local_index()"

    def global_id(self) -> str:
        parts = [f"blockIdx.{a} * {n}u + threadIdx.{a}" if n > 1 else f"blockIdx.{a}"
                 for a, n in zip("xyz", self.local_size)]
        self._define(("global_id",), lambda: (
            "__device__ inline uint3 vkd_global_invocation_id() "
            f"{{ return make_uint3({', '.join(parts)}); }}"))
        return "vkd_global_invocation_id()"

    def lane(self) -> str:
        """Lane in the warp: warps are consecutive runs of 32 linear thread indices."""
        self._define(("lane",), lambda: (
            f"__device__ inline unsigned int vkd_lane() {{ return {self.local_index()} & 31u; }}"))
        return "vkd_lane()"

    # ------------------------------------------------------------------ subgroups
    def shfl(self, t: DType) -> str:
        """`vkd_shfl(x, lane, mask)`: x from another lane, for any scalar/vector type."""
        def make():
            T = self.ctype(t)
            head = f"__device__ inline {T} vkd_shfl({T} x, int src, unsigned int m)"
            if comps(t) > 1 and t is not dt.hvec2:
                mt = member_type(t)
                self.shfl(mt)
                parts = ", ".join(f"vkd_shfl(x.{c}, src, m)" for c in XYZW[:comps(t)])
                return f"{head} {{ return {ctor(t)}({parts}); }}"
            if t is dt.bool_:
                return f"{head} {{ return __shfl_sync(m, (int)x, src) != 0; }}"
            if t in _SMALL_INTS:
                return f"{head} {{ return ({T})__shfl_sync(m, (int)x, src); }}"
            return f"{head} {{ return __shfl_sync(m, x, src); }}"
        self._define(("shfl", as_vector(t).name), make)
        return "vkd_shfl"

    def subgroup(self, op: str, t: DType, args: list) -> str:
        T = self.ctype(t)
        name = f"vkd_{op}"
        lane = self.lane()
        self.shfl(t)

        def make():
            if op in ("subgroup_inclusive_add", "subgroup_exclusive_add"):
                return self._scan(op, t, T, lane)
            kind = op[len("subgroup_"):]
            if kind in ("shuffle", "broadcast"):
                return (f"__device__ inline {T} {name}({T} x, unsigned int src) "
                        f"{{ return vkd_shfl(x, (int)src, __activemask()); }}")
            if kind == "shuffle_xor":
                return (f"__device__ inline {T} {name}({T} x, unsigned int mask) "
                        f"{{ return vkd_shfl(x, (int)({lane} ^ mask), __activemask()); }}")
            if kind == "broadcast_first":
                return (f"__device__ inline {T} {name}({T} x) {{ unsigned int m = __activemask(); "
                        f"return vkd_shfl(x, __ffs(m) - 1, m); }}")
            kind = {"and": "bit_and", "or": "bit_or", "xor": "bit_xor"}.get(kind, kind)
            combine = self.apply(kind, t, [t, t], ["x", "y"])
            accumulate = self.apply(kind, t, [t, t], ["r", "y"])
            # all 32 lanes active: a butterfly; else visit the active lanes one by one
            # (a butterfly would read inactive lanes, whose values are undefined)
            return (f"__device__ inline {T} {name}({T} x) {{\n"
                    f"    unsigned int m = __activemask();\n"
                    f"    if (m == 0xffffffffu) {{\n"
                    f"        for (int o = 16; o > 0; o >>= 1) {{\n"
                    f"            {T} y = vkd_shfl(x, (int)({lane} ^ o), m); x = {combine};\n        }}\n"
                    f"        return x;\n    }}\n"
                    f"    {T} r = vkd_shfl(x, __ffs(m) - 1, m);\n"
                    f"    for (unsigned int rest = m & (m - 1); rest; rest &= rest - 1) {{\n"
                    f"        {T} y = vkd_shfl(x, __ffs(rest) - 1, m); r = {accumulate};\n"
                    f"    }}\n    return r;\n}}")
        self._define((name, t.name), make)
        return f"{name}({', '.join(args)})"

    def _scan(self, op, t, T, lane) -> str:
        name = f"vkd_{op}"
        plus = self.apply("add", t, [t, t], ["r", "y"])
        z = zero(t)
        inclusive = op == "subgroup_inclusive_add"
        tail = ("    return x;" if inclusive else
                f"    {T} y = vkd_shfl(x, lane == 0u ? 0 : (int)lane - 1, m);\n"
                f"    return lane == 0u ? {z} : y;")
        return (f"__device__ inline {T} {name}({T} x) {{\n"
                f"    unsigned int m = __activemask(), lane = {lane};\n"
                f"    if (m == 0xffffffffu) {{\n"
                f"        for (unsigned int o = 1; o < 32u; o <<= 1) {{\n"
                f"            {T} r = x, y = vkd_shfl(x, (int)(lane >= o ? lane - o : lane), m);\n"
                f"            if (lane >= o) x = {plus};\n        }}\n"
                + "\n".join("    " + s for s in tail.split("\n")) + "\n    }\n"
                f"    {T} r = {z};\n"
                f"    for (unsigned int rest = m; rest; rest &= rest - 1) {{\n"
                f"        unsigned int src = __ffs(rest) - 1; {T} y = vkd_shfl(x, (int)src, m);\n"
                f"        if (src {'<=' if inclusive else '<'} lane) r = {plus};\n"
                f"    }}\n    return r;\n}}")

    # ------------------------------------------------------------------ images
    def image(self, op: str, dim: int, texel: DType, args: list) -> str:
        """Image access helpers. Texels are 4-vectors of 32-bit components."""
        T = self.ctype(texel)
        coord_f = self.ctype(dt.vector_of(dt.float32, dim))
        coord_i = self.ctype(dt.vector_of(dt.int32, dim))
        axes = ("c",) if dim == 1 else tuple(f"c.{a}" for a in XYZW[:dim])
        # the runtime makes 1-D images 2-D arrays of height 1; row 0's centre is y = 0.5
        # whether or not the sampler normalizes coordinates
        hw = 2 if dim == 1 else dim
        axes_f = ("c", "0.5f") if dim == 1 else axes
        axes_i = ("c", "0") if dim == 1 else axes
        if op == "sample":
            lod = len(args) == 3
            name = f"vkd_sample{dim}d{'_lod' if lod else ''}"
            call = f"tex{hw}D{'Lod' if lod else ''}<T>(t, {', '.join(axes_f)}{', lod' if lod else ''})"
            self._define((name,), lambda: (
                f"template <class T> __device__ inline T {name}(cudaTextureObject_t t, {coord_f} c"
                f"{', float lod' if lod else ''}) {{ return {call}; }}"))
            return f"{name}<{T}>({', '.join(args)})"
        if op == "fetch":
            # `tex` with integer coordinates reads texel (x, y, z) unfiltered, whatever the
            # texture's sampler says about normalization and filtering
            kind = {dt.float32: ("f32", "f"), dt.int32: ("s32", "r"), dt.uint32: ("u32", "r")}[texel.base]
            vec = ", ".join(f"%{5 + i}" for i in range(4 if hw == 3 else hw))
            ins = ", ".join(f'"r"({a})' for a in axes_i) + (', "r"(0)' if hw == 3 else "")
            name = f"vkd_fetch{dim}d_{T}"
            self._define((name,), lambda: (
                f"__device__ inline {T} {name}(cudaTextureObject_t t, {coord_i} c) {{\n"
                f"    {T} r;\n"
                f"    asm(\"tex.{hw}d.v4.{kind[0]}.s32 {{%0, %1, %2, %3}}, [%4, {{{vec}}}];\"\n"
                f"        : {', '.join(f'{chr(34)}={kind[1]}{chr(34)}(r.{c})' for c in XYZW)}\n"
                f"        : \"l\"(t), {ins});\n    return r;\n}}"))
            return f"{name}({args[0]}, {args[1]})"
        if op in ("load", "store"):
            # surfaces address x in bytes; texels are 16 bytes (4 x 32-bit), see emit/cuda.py
            bx = ", ".join(("c" if dim == 1 else "c.x") + " * (int)sizeof(T)" if i == 0 else a
                           for i, a in enumerate(axes_i))
            if op == "load":
                name = f"vkd_image_load{dim}d"
                self._define((name,), lambda: (
                    f"template <class T> __device__ inline T {name}(cudaSurfaceObject_t s, {coord_i} c) "
                    f"{{ return surf{hw}Dread<T>(s, {bx}, cudaBoundaryModeZero); }}"))
                return f"{name}<{T}>({args[0]}, {args[1]})"
            name = f"vkd_image_store{dim}d"
            self._define((name,), lambda: (
                f"template <class T> __device__ inline void {name}(cudaSurfaceObject_t s, {coord_i} c, T v) "
                f"{{ surf{hw}Dwrite(v, s, {bx}, cudaBoundaryModeZero); }}"))
            return f"{name}({', '.join(args)})"
        raise KeyError(op)

    def layered_image(self, op: str, texel: DType, args: list) -> str:
        """Sampled 2-D layered textures (Image2DArray): coordinates (x, y, layer)."""
        T = self.ctype(texel)
        if op == "sample":
            lod = len(args) == 3
            name = f"vkd_sample2d_layered{'_lod' if lod else ''}"
            call = (f"tex2DLayered{'Lod' if lod else ''}<T>(t, c.x, c.y, (int)rintf(c.z)"
                    f"{', lod' if lod else ''})")
            self._define((name,), lambda: (
                f"template <class T> __device__ inline T {name}(cudaTextureObject_t t, float3 c"
                f"{', float lod' if lod else ''}) {{ return {call}; }}"))
            return f"{name}<{T}>({', '.join(args)})"
        if op == "fetch":
            # tex.a2d takes {layer, x, y, unused}; integer coordinates read one texel unfiltered
            kind = {dt.float32: ("f32", "f"), dt.int32: ("s32", "r"), dt.uint32: ("u32", "r")}[texel.base]
            name = f"vkd_fetch2d_layered_{T}"
            self._define((name,), lambda: (
                f"__device__ inline {T} {name}(cudaTextureObject_t t, int3 c) {{\n"
                f"    {T} r;\n"
                f"    asm(\"tex.a2d.v4.{kind[0]}.s32 {{%0, %1, %2, %3}}, [%4, {{%5, %6, %7, %8}}];\"\n"
                f"        : {', '.join(f'{chr(34)}={kind[1]}{chr(34)}(r.{c})' for c in XYZW)}\n"
                f"        : \"l\"(t), \"r\"(c.z), \"r\"(c.x), \"r\"(c.y), \"r\"(0));\n"
                f"    return r;\n}}"))
            return f"{name}({args[0]}, {args[1]})"
        raise KeyError(op)

    def image_size(self, dim: int, sampled: bool, x: str, layers: str = None) -> str:
        """The image's size; an arrayed one's layer count is `layers` (the launcher's
        hidden uniform): NVIDIA's driver 580 fails to load a kernel holding txq.array_size."""
        ins, handle = ("txq", "cudaTextureObject_t") if sampled else ("suq", "cudaSurfaceObject_t")
        name = f"vkd_{'texture' if sampled else 'surface'}_size{dim}d{'_layered' if layers else ''}"
        fields = ("width", "height", "depth")[:dim]
        n = len(fields) + (1 if layers else 0)

        def make():
            q = [f'    asm("{ins}.{w}.b32 %0, [%1];" : "=r"(s{i}) : "l"(h));'
                 for i, w in enumerate(fields)]
            ret = self.ctype(dt.vector_of(dt.int32, n))
            vals = [f"(int)s{i}" for i in range(len(fields))] + (["layers"] if layers else [])
            res = vals[0] if n == 1 else f"make_int{n}({', '.join(vals)})"
            return (f"__device__ inline {ret} {name}({handle} h{', int layers' if layers else ''}) {{\n"
                    f"    unsigned int {', '.join(f's{i}' for i in range(len(fields)))};\n"
                    + "\n".join(q) + f"\n    return {res};\n}}")
        self._define((name,), make)
        return f"{name}({x}{', ' + layers if layers else ''})"


def _det(e) -> str:
    """Determinant of the square matrix of element strings e[row][col] (Laplace expansion
    along the first row)."""
    n = len(e)
    if n == 1:
        return e[0][0]
    if n == 2:
        return f"{e[0][0]} * {e[1][1]} - {e[0][1]} * {e[1][0]}"
    terms = []
    for j in range(n):
        minor = [[e[i][k] for k in range(n) if k != j] for i in range(1, n)]
        terms.append(f"{'-' if j % 2 else '+'} {e[0][j]} * ({_det(minor)})")
    s = " ".join(terms)
    return s[2:] if s.startswith("+ ") else s
