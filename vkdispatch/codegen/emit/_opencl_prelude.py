"""What an OpenCL C kernel needs before its `__kernel` function: extension pragmas,
the matrix structs and helper functions, collected on first use so a kernel carries
only its own. Each `Prelude` method registers a helper and returns its name."""
from __future__ import annotations

from ...base import dtype as dt

# extensions that are enabled with a pragma, in the order they are printed
_PRAGMA_ORDER = ("cl_khr_fp64", "cl_khr_fp16", "cl_khr_int64_base_atomics",
                 "cl_khr_int64_extended_atomics", "cl_khr_subgroups",
                 "cl_khr_subgroup_non_uniform_arithmetic", "cl_khr_subgroup_shuffle",
                 "cl_khr_subgroup_ballot", "cl_khr_subgroup_non_uniform_vote",
                 "cl_khr_mipmap_image", "cl_khr_3d_image_writes")

# cl_khr_subgroup_shuffle names; Intel devices spell them with an intel_ prefix
_SHUFFLE_MACROS = """#if defined(cl_khr_subgroup_shuffle)
#define VKD_SUB_GROUP_SHUFFLE sub_group_shuffle
#define VKD_SUB_GROUP_SHUFFLE_XOR sub_group_shuffle_xor
#else
#define VKD_SUB_GROUP_SHUFFLE intel_sub_group_shuffle
#define VKD_SUB_GROUP_SHUFFLE_XOR intel_sub_group_shuffle_xor
#endif"""

_LETTERS = "xyzw"


class Prelude:
    def __init__(self, type_name):
        self.tn = type_name
        self._pragmas = set()
        self._typedefs = []
        self._macros = []
        self._helpers = {}     # name -> source, dependencies first

    # ------------------------------------------------------------------ bookkeeping
    def pragma(self, ext: str) -> None:
        self._pragmas.add(ext)

    def _helper(self, name: str, make) -> str:
        if name not in self._helpers:
            source = make()           # may register the helpers it calls first
            self._helpers[name] = source
        return name

    def types(self, dtypes) -> None:
        """Pragmas and structs the kernel's types need."""
        bases = {t.base for t in dtypes}
        if bases & {dt.float64, dt.complex128}:
            self.pragma("cl_khr_fp64")
        if bases & {dt.float16, dt.complex32}:
            self.pragma("cl_khr_fp16")
        for t in sorted((t for t in dtypes if t.is_matrix), key=lambda t: t.count):
            self._typedefs.append(f"typedef struct {{ float m[{t.count}]; }} {t.opencl};")

    def subgroups(self, ext=None) -> None:
        self.pragma("cl_khr_subgroups")
        if ext:
            self.pragma(ext)

    def shuffle_macros(self) -> None:
        if _SHUFFLE_MACROS not in self._macros:
            self._macros.append(_SHUFFLE_MACROS)

    def lines(self) -> list:
        out = [f"#pragma OPENCL EXTENSION {e} : enable" for e in _PRAGMA_ORDER
               if e in self._pragmas]
        out += self._macros + self._typedefs
        for src in self._helpers.values():
            out.append(src)
        return out + [""] if out else out

    # ------------------------------------------------------------------ scalars & vectors
    def float_mod(self, t) -> str:
        T = self.tn(t)
        return self._helper(f"vkd_mod_{T}", lambda: (
            f"{T} vkd_mod_{T}({T} a, {T} b) {{ return a - b * floor(a / b); }}"))

    def int_floor(self, op: str, t) -> str:
        """Floor modulo / floor division of signed integers (C truncates toward zero)."""
        T = self.tn(t)
        name = f"vkd_{op}_{T}"
        # (C result, its floor correction, when the correction applies)
        value, fixed, wrong = {"mod": ("a % b", "r + b", ("r != 0", "(r < 0) != (b < 0)")),
                               "floordiv": ("a / b", "r - 1", ("r * b != a", "(a < 0) != (b < 0)"))}[op]
        if t.is_vector:   # lane masks are -1/0: & combines them, select picks lanes
            pick = f"select(r, {fixed}, ({wrong[0]}) & ({wrong[1]}))"
        else:
            pick = f"({wrong[0]} && ({wrong[1]})) ? ({T})({fixed}) : r"
        return self._helper(name, lambda: (
            f"{T} {name}({T} a, {T} b) {{ {T} r = {value}; return {pick}; }}"))

    def int_sign(self, t) -> str:
        T = self.tn(t)
        # vector comparisons give -1 lanes, scalar ones 1
        expr = "(x < 0) - (x > 0)" if t.is_vector else f"({T})((x > 0) - (x < 0))"
        return self._helper(f"vkd_sign_{T}", lambda: f"{T} vkd_sign_{T}({T} x) {{ return {expr}; }}")

    def fract(self, t) -> str:
        # GLSL's x - floor(x); OpenCL's fract() takes a second output pointer
        T = self.tn(t)
        return self._helper(f"vkd_fract_{T}", lambda: (
            f"{T} vkd_fract_{T}({T} x) {{ return x - floor(x); }}"))

    def vector_component(self, t) -> str:
        """v[i] with a run-time i: OpenCL C has no vector subscript."""
        T = self.tn(t)
        E = self.tn(dt.int32 if t.is_bool else t.base)
        return self._helper(f"vkd_comp_{T}", lambda: (
            f"{E} vkd_comp_{T}({T} v, int i) {{ return (({E}*)&v)[i]; }}"))

    def complex_fn(self, op: str, t) -> str:
        C = self.tn(t)
        R = self.tn(dt.complex_part(t))
        name = f"vkd_{op}_{C}"
        body = {
            "cmul": f"return ({C})(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);",
            # Smith's division: |b|^2 would overflow long before the quotient does
            "cdiv": f"if (fabs(b.x) >= fabs(b.y)) {{ {R} r = b.y / b.x, d = b.x + b.y * r; "
                    f"return ({C})((a.x + a.y * r) / d, (a.y - a.x * r) / d); }} "
                    f"{R} r = b.x / b.y, d = b.x * r + b.y; "
                    f"return ({C})((a.x * r + a.y) / d, (a.y * r - a.x) / d);",
            "cexp": f"{R} e = exp(a.x); return ({C})(e * cos(a.y), e * sin(a.y));",
        }[op]
        params = f"{C} a" if op == "cexp" else f"{C} a, {C} b"
        src = f"{C} {name}({params}) {{ {body} }}"
        return self._helper(name, lambda: src)

    # ------------------------------------------------------------------ atomics
    def float_atomic_add(self, t, space: str) -> str:
        """Atomic float add as a compare-exchange loop on the bit pattern (portable: PoCL and
        many drivers lack cl_ext_float_atomics)."""
        wide = t is dt.float64
        F, U = ("double", "ulong") if wide else ("float", "uint")
        cas = "atom_cmpxchg" if wide else "atomic_cmpxchg"
        if wide:
            self.pragma("cl_khr_int64_base_atomics")
        name = f"vkd_atomic_add_{F}_{space.strip('_')}"
        src = (f"{F} {name}(volatile {space} {F}* p, {F} v) {{\n"
               f"    volatile {space} {U}* q = (volatile {space} {U}*)p;\n"
               f"    {U} old = *q, seen;\n"
               f"    while ((seen = {cas}(q, old, as_{U}(as_{F}(old) + v))) != old) old = seen;\n"
               f"    return as_{F}(old);\n}}")
        return self._helper(name, lambda: src)

    # ------------------------------------------------------------------ matrices
    def matrix_column(self, t) -> str:
        n, M = t.columns, self.tn(t)
        return self._helper(f"vkd_col_{t.name}", lambda: (
            f"float{n} vkd_col_{t.name}({M} a, int i) {{ return vload{n}(i, a.m); }}"))

    def matrix_elementwise(self, op: str, args, exprs, t) -> str:
        """`a op b` / `-a` over every element; operands are matrices or float scalars."""
        M = self.tn(t)
        kinds = "".join("m" if a.dtype.is_matrix else "s" for a in args)
        name = f"vkd_{op}_{t.name}_{kinds}"
        params = ", ".join(f"{M if k == 'm' else 'float'} {p}" for k, p in zip(kinds, "ab"))
        terms = [f"{p}.m[k]" if k == "m" else p for k, p in zip(kinds, "ab")]
        sym = {"add": "+", "sub": "-", "mul": "*", "div": "/"}.get(op)
        value = f"-{terms[0]}" if op == "neg" else f"{terms[0]} {sym} {terms[1]}"
        src = (f"{M} {name}({params}) {{ {M} r; for (int k = 0; k < {t.count}; ++k) "
               f"r.m[k] = {value}; return r; }}")
        return f"{self._helper(name, lambda: src)}({', '.join(exprs)})"

    def outer_product(self, v) -> str:
        """The matrix whose column j is `a * b[j]`."""
        n = v.count
        M = self.tn(dt.from_name(f"mat{n}"))
        name = f"vkd_outer_product_{n}"
        cols = " ".join(f"vstore{n}(a * b.{_LETTERS[j]}, {j}, r.m);" for j in range(n))
        return self._helper(name, lambda: (
            f"{M} {name}(float{n} a, float{n} b) {{ {M} r; {cols} return r; }}"))

    def matrix_construct(self, t, parts) -> str:
        """A matrix from scalars and column vectors in column-major order; one scalar
        makes a diagonal matrix (GLSL's mat2(s))."""
        M, n = self.tn(t), t.columns
        tags = [self.tn(p) for p in parts]
        name = f"vkd_make_{t.name}_" + "_".join(tags)
        params = ", ".join(f"{tag} p{i}" for i, tag in enumerate(tags))
        if len(parts) == 1 and parts[0].is_scalar:
            values = [("p0" if k // n == k % n else "0.0f") for k in range(t.count)]
        else:
            values = []
            for i, p in enumerate(parts):
                values += [f"p{i}.{c}" for c in _LETTERS[:p.count]] if p.is_vector else [f"p{i}"]
        sets = " ".join(f"r.m[{k}] = {v};" for k, v in enumerate(values))
        return self._helper(name, lambda: f"{M} {name}({params}) {{ {M} r; {sets} return r; }}")

    def matrix_fn(self, op: str, first, last) -> str:
        if op == "matmul":
            return self._matmul(first, last)
        M, n = self.tn(first), first.columns
        name = f"vkd_{op}_{first.name}"
        if op == "transpose":
            src = (f"{M} {name}({M} a) {{ {M} r; for (int c = 0; c < {n}; ++c) "
                   f"for (int k = 0; k < {n}; ++k) r.m[c * {n} + k] = a.m[k * {n} + c]; return r; }}")
        elif op == "determinant":
            src = f"float {name}({M} a) {{ return {_det(n, list(range(n)), list(range(n)))}; }}"
        else:
            src = _inverse(name, M, n)
        return self._helper(name, lambda: src)

    def _matmul(self, a, b) -> str:
        if a.is_matrix and b.is_matrix:
            M, n = self.tn(a), a.columns
            mv = self._matmul(a, dt.vector_of(dt.float32, n))
            name = f"vkd_mul_{a.name}_{a.name}"
            src = (f"{M} {name}({M} a, {M} b) {{ {M} r; for (int j = 0; j < {n}; ++j) "
                   f"vstore{n}({mv}(a, vload{n}(j, b.m)), j, r.m); return r; }}")
        elif a.is_matrix:    # sum of columns scaled by the vector's components
            M, n = self.tn(a), a.columns
            name = f"vkd_mul_{a.name}_vec"
            terms = " + ".join(f"vload{n}({c}, a.m) * v.{_LETTERS[c]}" for c in range(n))
            src = f"float{n} {name}({M} a, float{n} v) {{ return {terms}; }}"
        else:                # row vector times matrix: one dot product per column
            M, n = self.tn(b), b.columns
            name = f"vkd_mul_vec_{b.name}"
            terms = ", ".join(f"dot(v, vload{n}({c}, b.m))" for c in range(n))
            src = f"float{n} {name}(float{n} v, {M} b) {{ return (float{n})({terms}); }}"
        return self._helper(name, lambda: src)


def _element(n: int, row: int, col: int) -> str:
    return f"a.m[{col * n + row}]"


def _det(n: int, rows: list, cols: list) -> str:
    """Cofactor expansion along the first of `rows` of the submatrix rows x cols."""
    if len(rows) == 1:
        return _element(n, rows[0], cols[0])
    if len(rows) == 2:
        (r0, r1), (c0, c1) = rows, cols
        return (f"({_element(n, r0, c0)} * {_element(n, r1, c1)} - "
                f"{_element(n, r0, c1)} * {_element(n, r1, c0)})")
    terms = []
    for j, c in enumerate(cols):
        sign = "-" if j % 2 else "+"
        minor = _det(n, rows[1:], cols[:j] + cols[j + 1:])
        terms.append(f"{sign} {_element(n, rows[0], c)} * {minor}")
    return "(" + " ".join(terms).lstrip("+ ") + ")"


def _cofactor(n: int, row: int, col: int) -> str:
    rows = [r for r in range(n) if r != row]
    cols = [c for c in range(n) if c != col]
    minor = _det(n, rows, cols)
    return f"-{minor}" if (row + col) % 2 else minor


def _inverse(name: str, M: str, n: int) -> str:
    """adjugate / determinant; r(i, j) = cofactor(j, i), and the determinant is the first
    row of `a` against the first column of the adjugate."""
    lines = [f"{M} {name}({M} a) {{", f"    {M} r;"]
    for i in range(n):
        for j in range(n):
            lines.append(f"    r.m[{j * n + i}] = {_cofactor(n, j, i)};")
    det = " + ".join(f"{_element(n, 0, j)} * r.m[{j}]" for j in range(n))
    lines += [f"    float d = {det};",
              f"    for (int k = 0; k < {n * n}; ++k) r.m[k] /= d;", "    return r;", "}"]
    return "\n".join(lines)
