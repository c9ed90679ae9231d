"""GLSL 4.50 for Vulkan, with only the extensions a kernel uses."""
from __future__ import annotations

import math

import numpy as np

from ...base.abi import BINDING_BUFFER_ADDRESS
from ...base import dtype as dt
from .. import ir
from . import _glsl_f32_trig, _glsl_f64
from .base import EmittedKernel, Emitter

_GLSL_RESERVED = frozenset("""
attribute const uniform varying buffer shared coherent volatile restrict readonly writeonly
atomic_uint layout centroid flat smooth noperspective patch sample break continue do for while
switch case default if else subroutine in out inout float double int void bool true false
invariant precise discard return mat2 mat3 mat4 vec2 vec3 vec4 ivec2 ivec3 ivec4 uvec2 uvec3
uvec4 bvec2 bvec3 bvec4 dvec2 dvec3 dvec4 uint lowp mediump highp precision sampler1D
sampler2D sampler3D image1D image2D image3D struct common partition active asm class union
enum typedef template this resource goto inline noinline public static extern external
interface long short half fixed unsigned superp input output filter sizeof cast namespace
using main texture u pc sdata
""".split())

_CMP_VEC = {"lt": "lessThan", "le": "lessThanEqual", "gt": "greaterThan",
            "ge": "greaterThanEqual", "eq": "equal", "ne": "notEqual"}
_CMP_OP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_BUILTIN = {
    "global_invocation_id": "gl_GlobalInvocationID", "local_invocation_id": "gl_LocalInvocationID",
    "workgroup_id": "gl_WorkGroupID", "num_workgroups": "gl_NumWorkGroups",
    "workgroup_size": "gl_WorkGroupSize", "local_invocation_index": "gl_LocalInvocationIndex",
    "subgroup_id": "gl_SubgroupID", "subgroup_size": "gl_SubgroupSize",
    "subgroup_invocation_id": "gl_SubgroupInvocationID", "num_subgroups": "gl_NumSubgroups",
}
# GLSL has these for 32-bit floats only; float64 calls _glsl_f64's helpers
_TRANSCENDENTAL = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
                   "acosh", "atanh", "exp", "exp2", "log", "log2"}

_HELPERS = {
    "cmul": """{C} vkd_cmul({C} a, {C} b) {{ return {C}(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }}""",
    # Smith's division: |b|^2 would overflow (or underflow) long before the quotient does
    "cdiv": """{C} vkd_cdiv({C} a, {C} b) {{
    if (abs(b.x) >= abs(b.y)) {{
        {R} r = b.y / b.x, d = b.x + b.y * r;
        return {C}((a.x + a.y * r) / d, (a.y - a.x * r) / d);
    }}
    {R} r = b.x / b.y, d = b.x * r + b.y;
    return {C}((a.x * r + a.y) / d, (a.y * r - a.x) / d);
}}""",
    "cexp": """{C} vkd_cexp({C} a) {{ return exp(a.x) * {C}({S}cos(a.y), {S}sin(a.y)); }}""",
    # |a| as C99 hypot: scaled, since x^2 + y^2 overflows (or underflows) long before |a|
    # does, and an infinite part wins over a NaN
    "cabs": """{R} vkd_cabs({C} a) {{
    if (isinf(a.x) || isinf(a.y)) return isinf(a.x) ? abs(a.x) : abs(a.y);
    {R} m = max(abs(a.x), abs(a.y));
    if (isnan(a.x) || isnan(a.y) || m == {R}(0)) return a.x + a.y + m;
    return m * length(a / m);
}}""",
}
# Signed floor division/modulo from '/' alone: GLSL leaves '%' of negative operands
# undefined, while '/' (OpSDiv) truncates toward zero everywhere.
_INT_HELPERS = {
    "floordiv": "{T} vkd_floordiv({T} a, {T} b) {{ {T} q = a / b; {T} r = a - q * b; "
                "return (r != {Z} && ((r < {Z}) != (b < {Z}))) ? q - {O} : q; }}",
    "mod": "{T} vkd_mod({T} a, {T} b) {{ {T} r = a - (a / b) * b; "
           "return (r != {Z} && ((r < {Z}) != (b < {Z}))) ? r + b : r; }}",
}
# GLSL has no expm1 or log1p. Near 0, where exp(x) - 1 and log(1 + x) lose every digit, a
# series: e^x - 1 to x^8 (truncation 2^-26 for |x| < 1/2), and log(1 + x) as 2 atanh(s),
# s = x / (2 + x), to s^9; elsewhere the plain formula. float16 computes in float32.
_NEAR_ZERO = {
    "expm1": """float vkd_expm1(float x) {
    if (x == 0.0) return x;
    if (!(abs(x) < 0.5)) return exp(x) - 1.0;
    precise float q = 0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334
        + x * (0.0013888889 + x * (1.984127e-04 + x * 2.4801588e-05)))));
    precise float p = x * x * q + x;
    return p;
}""",
    "log1p": """float vkd_log1p(float x) {
    if (x == -1.0) return -uintBitsToFloat(0x7f800000u);
    if (x < -1.0) return uintBitsToFloat(0x7fc00000u);
    if (!(abs(x) < 0.25)) return log(1.0 + x);
    precise float s = x / (2.0 + x);
    precise float z = s * s;
    precise float q = 0.33333334 + z * (0.2 + z * (0.14285715 + z * 0.11111111));
    precise float r = 2.0 * s + 2.0 * s * z * q;
    return r;
}""",
    # lavapipe's float32 sinh, tanh, asinh and atanh lose small arguments (sinh(1e-30) came
    # out 3e-8) and -0, and its atan drops NaN and -0: below 1 (1/2), through the series
    # above, the sign put back from x's bits (so -0 stays -0)
    "sinh": """float vkd_sinh(float x) {
    if (!(abs(x) < 1.0)) return sinh(x);
    float e = vkd_expm1(abs(x));
    float r = 0.5 * (e + e / (e + 1.0));
    return floatBitsToInt(x) < 0 ? -r : r;
}""",
    "tanh": """float vkd_tanh(float x) {
    if (!(abs(x) < 1.0)) return tanh(x);
    float e = vkd_expm1(2.0 * abs(x));
    float r = e / (e + 2.0);
    return floatBitsToInt(x) < 0 ? -r : r;
}""",
    "asinh": """float vkd_asinh(float x) {
    if (!(abs(x) < 0.5)) return asinh(x);
    float a = abs(x);
    float r = vkd_log1p(a + a * a / (1.0 + sqrt(1.0 + a * a)));
    return floatBitsToInt(x) < 0 ? -r : r;
}""",
    "atanh": """float vkd_atanh(float x) {
    if (!(abs(x) < 0.5)) return atanh(x);
    float a = abs(x);
    float r = 0.5 * vkd_log1p(2.0 * a / (1.0 - a));
    return floatBitsToInt(x) < 0 ? -r : r;
}""",
    "atan": """float vkd_atan(float x) {
    if (isnan(x) || abs(x) < 2.44140625e-04) return x;   // 2^-12: atan x rounds to x
    return atan(x);
}""",
}
# float32 sin, cos and tan reduce their argument mod pi/2 first: see _glsl_f32_trig
_NEAR_ZERO.update(_glsl_f32_trig.sources())
# what a _NEAR_ZERO helper calls (emitted before it)
_NEAR_ZERO_USES = {"sinh": "expm1", "tanh": "expm1", "asinh": "log1p", "atanh": "log1p",
                   "sin": "rem_pio2", "cos": "rem_pio2", "tan": "rem_pio2"}
# GLSL leaves atan(y, x) undefined at x = y = 0 and says nothing of NaNs, infinities or
# signed zeros (lavapipe: atan(0, 0) = 3pi/4, atan(NaN, 0.5) = 0); C's atan2 values there
_ATAN2_HELPER = """float vkd_atan2(float y, float x) {
    if (isnan(x) || isnan(y)) return x + y;
    if (y != 0.0 && x != 0.0 && !isinf(x) && !isinf(y)) return atan(y, x);
    bool xneg = floatBitsToInt(x) < 0;
    float r;
    if (y == 0.0) r = xneg ? 3.1415927 : 0.0;
    else if (isinf(x)) r = isinf(y) ? (xneg ? 2.3561945 : 0.7853982) : (xneg ? 3.1415927 : 0.0);
    else r = 1.5707964;
    return floatBitsToInt(y) < 0 ? -r : r;
}"""
# NumPy's (C99's) pow where GLSL leaves it undefined: a negative base needs an integral
# exponent (its parity gives the sign, -0 included); a zero base with a negative
# exponent is an infinity (lavapipe gave 0); 1 to any power, NaN included, is 1
_POW_HELPER = ("{T} vkd_pow({T} x, {T} y) {{\n"
               "    if (y == {T}(0) || x == {T}(1)) return {T}(1);\n"
               "    bool neg = x < {T}(0) || (x == {T}(0) && {T}(1) / x < {T}(0));\n"
               "    {T} m = (x == {T}(0) && y < {T}(0)) ? {T}(1) / {T}(0) : pow(abs(x), y);\n"
               "    if (!neg) return m;\n"
               "    if (floor(y) != y) return x == {T}(0) ? m : {T}(0.0) / {T}(0.0);\n"
               "    return mod(y, {T}(2)) == {T}(1) ? -m : m;\n"
               "}}")


def _cmp(op):
    def rule(em, e, a):
        if e.args[0].dtype.is_vector or e.args[1].dtype.is_vector:
            return f"{_CMP_VEC[op]}({a[0]}, {a[1]})"
        return f"({a[0]} {_CMP_OP[op]} {a[1]})"
    return rule


def _logical(sym):
    def rule(em, e, a):
        if e.dtype.is_vector:
            n = e.dtype.count
            parts = ", ".join(f"{a[0]}.{c} {sym} {a[1]}.{c}" for c in "xyzw"[:n])
            return f"{em.type_name(e.dtype)}({parts})"
        return f"({a[0]} {sym} {a[1]})"
    return rule


def _transcendental(name, call):
    def rule(em, e, a):
        t = e.args[0].dtype
        if t.base is dt.float64:
            em.f64_helpers.add((name, t.count if t.is_vector else 1))
            return _glsl_f64.call(name, a)
        return call.format(*a)
    return rule


def _near_zero(name):
    def rule(em, e, a):
        t = e.args[0].dtype
        if t.base is dt.float64:
            return _transcendental(name, "")(em, e, a)
        f32 = dt.with_base(t, dt.float32)
        em.helper_types.add((name, dt.float32))
        em.helper_types.add((name, f32))
        if name in _NEAR_ZERO_USES:
            em.helper_types.add((_NEAR_ZERO_USES[name], dt.float32))
        if t.base is dt.float16:
            return f"{em.type_name(t)}(vkd_{name}({em.type_name(f32)}({a[0]})))"
        return f"vkd_{name}({a[0]})"
    return rule


def _cexp(em, e, a):
    if e.dtype is dt.complex128:
        em.f64_helpers.add(("cexp", 2))
        return _glsl_f64.call("cexp", a)
    return f"vkd_cexp({a[0]})"


def _int_helper(op, float_rule):
    def rule(em, e, a):
        t = e.dtype
        if t.base.is_float:
            return float_rule.format(*a)
        if t.kind == dt.UINT:
            return f"({a[0]} {'%' if op == 'mod' else '/'} {a[1]})"
        em.helper_types.add((op, t.base))
        if t.is_vector:
            em.helper_types.add((op, t))
        return f"vkd_{op}({a[0]}, {a[1]})"
    return rule


def _atan2(em, e, a):
    t = e.dtype
    if t.base is dt.float64:
        return _transcendental("atan2", "")(em, e, a)
    if t is dt.float32:
        em.helper_types.add(("atan2", t))
        return f"vkd_atan2({a[0]}, {a[1]})"
    return f"atan({a[0]}, {a[1]})"


def _pow(em, e, a):
    t = e.dtype
    if t.base is dt.float64:
        return _transcendental("pow", "")(em, e, a)
    if t.is_vector:   # per component: the scalar helper decides each sign separately
        em.helper_types.add(("pow", t.base))
        comps = ", ".join(f"vkd_pow({a[0]}.{c}, {a[1]}.{c})" for c in "xyzw"[:t.count])
        return f"{em.type_name(t)}({comps})"
    em.helper_types.add(("pow", t))
    return f"vkd_pow({a[0]}, {a[1]})"


_BITCAST = {("float", 16): ("float16BitsToInt16", "float16BitsToUint16"),
            ("float", 32): ("floatBitsToInt", "floatBitsToUint"),
            ("float", 64): ("doubleBitsToInt64", "doubleBitsToUint64")}
_TO_FLOAT = {16: ("int16BitsToFloat16", "uint16BitsToFloat16"),
             32: ("intBitsToFloat", "uintBitsToFloat"),
             64: ("int64BitsToDouble", "uint64BitsToDouble")}


def _bitcast(em, e, a):
    if (e.args[0].dtype, e.dtype) == (dt.float64, dt.uvec2):   # (low word, high word)
        return f"unpackDouble2x32({a[0]})"
    if (e.args[0].dtype, e.dtype) == (dt.uvec2, dt.float64):
        return f"packDouble2x32({a[0]})"
    src, dst = e.args[0].dtype.base, e.dtype.base
    if src.itemsize != dst.itemsize or src.itemsize not in (2, 4, 8):
        em.unsupported(f"bitcast from {src.name} to {dst.name} (GLSL reinterprets 16-, 32- "
                       f"and 64-bit values of equal size)")
    bits = src.itemsize * 8
    if src.is_float and dst.kind in (dt.INT, dt.UINT):
        to_int, to_uint = _BITCAST[("float", bits)]
        return f"{to_int if dst.kind == dt.INT else to_uint}({a[0]})"
    if dst.is_float and src.kind in (dt.INT, dt.UINT):
        from_int, from_uint = _TO_FLOAT[bits]
        return f"{from_int if src.kind == dt.INT else from_uint}({a[0]})"
    return f"{em.type_name(e.dtype)}({a[0]})"   # int <-> uint of one width keeps the bits


def _angle(fn, factor):
    def rule(em, e, a):
        if e.dtype.base is dt.float64:   # GLSL has radians/degrees for 16/32-bit floats only
            return f"({a[0]} * {factor!r}lf)"
        return f"{fn}({a[0]})"
    return rule


def _builtin(em, e, a):
    return _BUILTIN[e.attrs[0]]


def _index(em, e, a):
    array = e.args[0]
    if array.kind == ir.BUFFER:
        if array.id in em.addressed:   # 64-bit address arithmetic: any index is reachable
            n = em.name(array)
            size = _storage(array.dtype).itemsize
            return f"Ref_{n}(u.vkd_addr_{n} + uint64_t({a[1]}) * {size}ul).value"
        return f"{em.name(array)}.data[{a[1]}]"
    return f"{em.name(array)}[{a[1]}]"


def _cast(em, e, a):
    return f"{em.type_name(e.dtype)}({a[0]})"


def _select(em, e, a):
    return f"({a[0]} ? {a[1]} : {a[2]})"


def _subgroup_broadcast(em, e, a):
    if isinstance(e.args[1], ir.Lit):
        return f"subgroupBroadcast({a[0]}, {a[1]})"
    return f"subgroupShuffle({a[0]}, {a[1]})"  # GLSL needs a constant lane for broadcast


def _printf(em, e, a):
    # GLSL strings have no escapes; debugPrintfEXT ends every message with a newline anyway
    fmt = e.attrs[0].rstrip("\n").replace("\n", " ").replace('"', "'").replace("\\", "/")
    return f'debugPrintfEXT("{fmt}"{"".join(", " + x for x in a)})'


def _image_sample(em, e, a):
    if len(a) == 3:
        return f"textureLod({a[0]}, {a[1]}, {a[2]})"
    return f"texture({a[0]}, {a[1]})"


def _image_size(em, e, a):
    v = e.args[0]
    return f"textureSize({a[0]}, 0)" if v.sampled else f"imageSize({a[0]})"


RULES = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "neg": "(-{0})", "bit_and": "({0} & {1})", "bit_or": "({0} | {1})", "bit_xor": "({0} ^ {1})",
    "shl": "({0} << {1})", "shr": "({0} >> {1})", "bit_not": "(~{0})",
    "lt": _cmp("lt"), "le": _cmp("le"), "gt": _cmp("gt"), "ge": _cmp("ge"), "eq": _cmp("eq"),
    "ne": _cmp("ne"), "logical_and": _logical("&&"), "logical_or": _logical("||"),
    "logical_not": lambda em, e, a: f"not({a[0]})" if e.dtype.is_vector else f"(!{a[0]})",
    "select": _select, "mod": _int_helper("mod", "mod({0}, {1})"),
    "floordiv": _int_helper("floordiv", "floor({0} / {1})"),
    "rsqrt": "inversesqrt({0})", "round": "roundEven({0})",
    "atan2": _atan2,
    "matmul": "({0} * {1})",
    "matrix_comp_mult": "matrixCompMult({0}, {1})", "outer_product": "outerProduct({0}, {1})",
    "radians": _angle("radians", math.pi / 180), "degrees": _angle("degrees", 180 / math.pi),
    "cmul": "vkd_cmul({0}, {1})", "cdiv": "vkd_cdiv({0}, {1})",
    "cexp": _cexp, "expm1": _near_zero("expm1"), "log1p": _near_zero("log1p"),
    "conj": "{T}({0}.x, -{0}.y)", "cabs": "vkd_cabs({0})", "real": "{0}.x", "imag": "{0}.y",
    "cast": _cast, "bitcast": _bitcast, "pow": _pow,
    "construct": lambda em, e, a: f"{em.type_name(e.dtype)}({', '.join(a)})",
    "swizzle": lambda em, e, a: f"{a[0]}.{e.attrs[0]}",
    "component": "{0}[{1}]", "index": _index, "builtin": _builtin,
    "atomic_add": "atomicAdd({0}, {1})", "atomic_min": "atomicMin({0}, {1})",
    "atomic_max": "atomicMax({0}, {1})", "atomic_and": "atomicAnd({0}, {1})",
    "atomic_or": "atomicOr({0}, {1})", "atomic_xor": "atomicXor({0}, {1})",
    "atomic_exchange": "atomicExchange({0}, {1})",
    "atomic_compare_exchange": "atomicCompSwap({0}, {1}, {2})",
    "barrier": "memoryBarrierShared(); barrier()",
    "memory_barrier": lambda em, e, a: {"all": "memoryBarrier()", "buffer": "memoryBarrierBuffer()",
                                        "shared": "memoryBarrierShared()",
                                        "image": "memoryBarrierImage()",
                                        "group": "groupMemoryBarrier()"}[e.attrs[0]],
    "subgroup_add": "subgroupAdd({0})", "subgroup_mul": "subgroupMul({0})",
    "subgroup_min": "subgroupMin({0})", "subgroup_max": "subgroupMax({0})",
    "subgroup_and": "subgroupAnd({0})", "subgroup_or": "subgroupOr({0})",
    "subgroup_xor": "subgroupXor({0})", "subgroup_inclusive_add": "subgroupInclusiveAdd({0})",
    "subgroup_exclusive_add": "subgroupExclusiveAdd({0})",
    "subgroup_shuffle": "subgroupShuffle({0}, {1})",
    "subgroup_shuffle_xor": "subgroupShuffleXor({0}, {1})",
    "subgroup_broadcast": _subgroup_broadcast,
    "subgroup_broadcast_first": "subgroupBroadcastFirst({0})",
    "subgroup_elect": "subgroupElect()", "subgroup_all": "subgroupAll({0})",
    "subgroup_any": "subgroupAny({0})", "subgroup_barrier": "subgroupBarrier()",
    "image_sample": _image_sample, "image_fetch": "texelFetch({0}, {1}, {2})",
    "image_load": "imageLoad({0}, {1})", "image_store": "imageStore({0}, {1}, {2})",
    "image_size": _image_size, "printf": _printf,
}
for _op in _TRANSCENDENTAL:
    RULES[_op] = _near_zero(_op) if _op in _NEAR_ZERO else _transcendental(_op, _op + "({0})")

_SUBGROUP_EXT = {
    "subgroup_elect": "basic", "subgroup_barrier": "basic",
    "subgroup_shuffle": "shuffle", "subgroup_shuffle_xor": "shuffle",
    "subgroup_broadcast": "ballot", "subgroup_broadcast_first": "ballot",
    "subgroup_all": "vote", "subgroup_any": "vote",
}


class GLSLEmitter(Emitter):
    target = "glsl"
    rules = RULES
    reserved = _GLSL_RESERVED
    implicit_lengths = True    # a bound range's length is `.length()` of its array

    def __init__(self, kernel, entry_point="main", push_constant_limit: int = 0,
                 address_params=frozenset(), image_formats=None, site_base: int = 0,
                 preserve_inf_nan=frozenset()):
        super().__init__(kernel, "main", push_constant_limit,   # GLSL entry points are main
                         address_params, site_base)
        self.preserve_inf_nan = preserve_inf_nan
        # storage image parameter -> GLSL format qualifier of the image it will be given
        self.image_formats = {name: _format_qualifier(*f) for name, f in (image_formats or {}).items()}
        by_name = {p.name: p.var for p in kernel.params}
        self.address_bindings = [b for b in self.info.bindings
                                 if b.kind == BINDING_BUFFER_ADDRESS]
        self.addressed = {by_name[b.name].id for b in self.address_bindings}
        self.loaded_images = {n.args[0].id for n in ir.all_nodes(kernel)
                              if isinstance(n, ir.Expr) and n.op == "image_load"
                              and not n.args[0].sampled}
        self.helper_types = set()   # (helper name, DType) pairs the body asked for
        self.f64_helpers = set()    # (float64 function, components) pairs, see _glsl_f64

    # ------------------------------------------------------------------ memory checks
    def as_unsigned(self, s: str, wide: bool) -> str:
        return f"{'uint64_t' if wide else 'uint'}({s})"

    def buffer_in_bounds(self, array, idx, wide: bool) -> str:
        i = self.as_unsigned(self.expr(idx), True if array.id in self.addressed else wide)
        if array.id in self.addressed:   # no descriptor: the launcher passes the count
            return f"({i} < {self.var_ref(self.lengths[array.id])})"
        n = f"uint({self.name(array)}.data.length())"
        return f"({i} < {'uint64_t(' + n + ')' if wide else n})"

    def report_call(self, site: int, ref) -> str:
        # 32-bit words only: the index and count travel as (low, high) halves
        array, idx = ref.args
        i, t = self.expr(idx), idx.dtype
        if t.itemsize == 8:
            hi = f"uint({i} >> 32)"
        elif t.kind == dt.INT:
            hi = f"uint(int({i}) >> 31)"          # the sign, extended
        else:
            hi = "0u"
        if array.kind == ir.BUFFER and array.id in self.addressed:
            n = self.var_ref(self.lengths[array.id])
            count = f"uint({n}), uint({n} >> 32)"
        elif array.kind == ir.BUFFER:
            count = f"uint({self.name(array)}.data.length()), 0u"
        else:
            count = f"{array.length}u, 0u"
        return f"{self.REPORT_FN}({site}u, uint({i}), {hi}, {count})"

    def report_helper(self) -> list:
        if self.debug_var is None:
            return []
        d = f"{self.name(self.debug_var)}.data"
        at = ir.DEBUG_LAYOUT
        return [f"uint {self.REPORT_FN}(uint site, uint ilo, uint ihi, uint nlo, uint nhi) {{",
                f"    atomicAdd({d}[{at['count']}], 1u);",
                f"    if (atomicCompSwap({d}[{at['site']}], 0u, site) == 0u) {{",
                f"        {d}[{at['index']}] = ilo;",
                f"        {d}[{at['index'] + 1}] = ihi;",
                f"        {d}[{at['length']}] = nlo;",
                f"        {d}[{at['length'] + 1}] = nhi;",
                "    }",
                "    return 0u;",
                "}"]

    # ------------------------------------------------------------------ literals
    def literal(self, lit: ir.Lit) -> str:
        t, v = lit.dtype, lit.value
        if t is dt.bool_:
            return "true" if v else "false"
        if t.is_complex:
            part = dt.complex_part(t)
            c = complex(v)
            return f"{self.type_name(t)}({self.float_lit(c.real, part)}, {self.float_lit(c.imag, part)})"
        if t.is_float:
            return self.float_lit(v, t)
        if t is dt.int32:
            return str(int(v)) if v != -2 ** 31 else "(-2147483647 - 1)"
        if t is dt.uint32:
            return f"{int(v)}u"
        if t is dt.int64:
            return f"{int(v)}l"
        if t is dt.uint64:
            return f"{int(v)}ul"
        return f"{self.type_name(t)}({int(v)})"

    def float_lit(self, v, t):
        if t is dt.float16:   # the exact half value, so no second rounding happens
            return f"float16_t({self.float_literal(float(np.float16(v)), dt.float32)})"
        return self.float_literal(float(v), t, "lf" if t is dt.float64 else "")

    def special_float(self, value, t):
        # float64 from two 32-bit halves: a 64-bit literal would need the int64 extension
        bits = {dt.float64: ("uvec2(0u, 0x7ff80000u)", "uvec2(0u, 0x7ff00000u)", "packDouble2x32"),
                dt.float32: ("0x7fc00000u", "0x7f800000u", "uintBitsToFloat"),
                dt.float16: ("0x7fc00000u", "0x7f800000u", "uintBitsToFloat")}[t]
        if value != value:
            s = f"{bits[2]}({bits[0]})"
        else:
            s = f"{bits[2]}({bits[1]})"
            if value < 0:
                s = f"(-{s})"
        return s if t is not dt.float16 else f"float16_t({s})"

    # ------------------------------------------------------------------ declarations
    def var_ref(self, var):
        if var.kind == ir.UNIFORM:
            return f"u.{self.name(var)}"
        return self.name(var)

    def _kept_float_widths(self) -> list:
        """The float widths this kernel uses whose specials it declares kept."""
        bases = {t.base for t in self.dtypes}
        used = {32: bases & {dt.float32, dt.complex64}, 64: bases & {dt.float64, dt.complex128}}
        return [bits for bits in (32, 64) if bits in self.preserve_inf_nan and used[bits]]

    def _extensions(self) -> list:
        ext = []
        bases = {t.base for t in self.dtypes}
        if dt.float16 in bases:
            ext += ["GL_EXT_shader_explicit_arithmetic_types_float16", "GL_EXT_shader_16bit_storage"]
        if bases & {dt.int16, dt.uint16}:
            ext += ["GL_EXT_shader_explicit_arithmetic_types_int16", "GL_EXT_shader_16bit_storage"]
        if bases & {dt.int8, dt.uint8}:
            ext += ["GL_EXT_shader_explicit_arithmetic_types_int8", "GL_EXT_shader_8bit_storage"]
        if bases & {dt.int64, dt.uint64} or self.addressed:
            ext.append("GL_EXT_shader_explicit_arithmetic_types_int64")
        if self.addressed:
            ext.append("GL_EXT_buffer_reference")
        ext.append("GL_EXT_scalar_block_layout")
        sg = {_SUBGROUP_EXT.get(op, "arithmetic") for op in self.ops if op.startswith("subgroup")}
        if any(isinstance(n, ir.Expr) and n.op == "builtin" and
               (n.attrs[0].startswith("subgroup") or n.attrs[0] == "num_subgroups")
               for n in ir.all_nodes(self.kernel)):
            sg.add("basic")
        if sg:
            sg.add("basic")
            ext += [f"GL_KHR_shader_subgroup_{k}" for k in sorted(sg)]
        for n in ir.all_nodes(self.kernel):
            if isinstance(n, ir.Expr) and n.op.startswith("atomic"):
                t = n.dtype
                if t.is_float:
                    ext.append("GL_EXT_shader_atomic_float")
                elif t.itemsize == 8:
                    ext.append("GL_EXT_shader_atomic_int64")
        if "printf" in self.ops:
            ext.append("GL_EXT_debug_printf")
        if self._kept_float_widths():
            ext.append("GL_EXT_spirv_intrinsics")
        params = {p.var.id: p.name for p in self.kernel.params}
        if any(params[i] not in self.image_formats for i in self.loaded_images):
            ext.append("GL_EXT_shader_image_load_formatted")   # read without a format qualifier
        seen, out = set(), []
        for e in ext:
            if e not in seen:
                seen.add(e)
                out.append(e)
        return out

    def _image_type(self, v: ir.Var) -> str:
        prefix = {dt.float32: "", dt.int32: "i", dt.uint32: "u"}.get(v.dtype)
        if prefix is None:
            self.unsupported(f"images of {v.dtype.name} texels (use f32, i32 or u32)")
        return f"{prefix}{'sampler' if v.sampled else 'image'}{v.dim}D{'Array' if v.arrayed else ''}"

    def _param_decls(self) -> list:
        lines, info = [], self.info
        by_name = {p.name: p for p in self.kernel.params}
        for b in info.bindings:
            v = by_name[b.name].var
            name = self.name(v)
            if v.kind == ir.BUFFER:
                access = "" if v.id in self.written else "readonly "
                if v.id in self.coherent:
                    access = "coherent " + access
                t = _storage(v.dtype)
                element = self.type_name(t)
                if b.kind == BINDING_BUFFER_ADDRESS:
                    align = t.base.itemsize // (2 if t.is_complex else 1)
                    lines.append(f"layout(buffer_reference, scalar, buffer_reference_align = "
                                 f"{align}) {access}buffer Ref_{name} {{ {element} value; }};")
                else:
                    lines.append(f"layout(set = 0, binding = {b.index}, scalar) {access}buffer "
                                 f"Buffer_{name} {{ {element} data[]; }} {name};")
            elif v.sampled:
                lines.append(f"layout(set = 0, binding = {b.index}) uniform {self._image_type(v)} {name};")
            else:
                access = "" if v.id in self.loaded_images else "writeonly "
                fmt = self.image_formats.get(b.name)
                where = f"set = 0, binding = {b.index}" + (f", {fmt}" if fmt else "")
                lines.append(f"layout({where}) uniform {access}{self._image_type(v)} {name};")
        if info.uniform_size:
            fields = [f"    uint64_t vkd_addr_{self.name(by_name[b.name].var)};"
                      for b in self.address_bindings]
            for f in info.uniforms:
                v = by_name[f.name].var
                fields.append(f"    {self.type_name(v.dtype)} {self.name(v)};")
            where = ("push_constant, scalar" if info.uniform_in_push_constants else
                     f"set = 0, binding = {info.uniform_binding}, scalar")
            lines.append(f"layout({where}) uniform Uniforms {{\n" + "\n".join(fields) + "\n} u;")
        for v in self.kernel.shared:
            lines.append(f"shared {self.type_name(v.dtype)} {self.name(v)}[{v.length}];")
        return lines

    def _helper_lines(self) -> list:
        out = []
        complex_types = [(c, r) for t, c, r in ((dt.complex32, "f16vec2", "float16_t"),
                                                (dt.complex64, "vec2", "float"),
                                                (dt.complex128, "dvec2", "double"))
                         if t in self.dtypes]
        out += _glsl_f64.helper_lines(self.f64_helpers)
        if "cexp" in self.ops and dt.complex64 in self.dtypes:   # vec2's calls vkd_sin, vkd_cos
            self.helper_types |= {(n, dt.float32) for n in ("sin", "cos", "rem_pio2")}
        # scalar helpers first: the vector ones call them per component, the complex ones
        # (after these) vkd_sin and vkd_cos
        used = set(_NEAR_ZERO_USES.values())   # before the helpers that call them
        order = sorted(self.helper_types,
                       key=lambda x: (x[1].count, x[0] not in used, x[0], x[1].name))
        for op, t in order:
            tn = self.type_name(t)
            if op == "pow":
                out.append(_POW_HELPER.format(T=tn))
            elif op == "atan2":
                out.append(_ATAN2_HELPER)
            elif op in _NEAR_ZERO:
                comps = ", ".join(f"vkd_{op}(a.{c})" for c in "xyzw"[:t.count])
                out.append(f"{tn} vkd_{op}({tn} a) {{ return {tn}({comps}); }}" if t.is_vector
                           else _NEAR_ZERO[op])
            elif t.is_vector:
                comps = ", ".join(f"vkd_{op}(a.{c}, b.{c})" for c in "xyzw"[:t.count])
                out.append(f"{tn} vkd_{op}({tn} a, {tn} b) {{ return {tn}({comps}); }}")
            else:
                out.append(_INT_HELPERS[op].format(T=tn, Z=f"{tn}(0)", O=f"{tn}(1)"))
        for op in ("cmul", "cdiv", "cexp", "cabs"):
            if op in self.ops:
                out += [_HELPERS[op].format(C=c, R=r, S="vkd_" if c == "vec2" else "")
                        for c, r in complex_types if not (op == "cexp" and c == "dvec2")]
        return out + self.report_helper()

    def emit(self) -> EmittedKernel:
        body = self.body_lines()          # rendering the body collects needed helpers
        lx, ly, lz = self.kernel.local_size
        lines = ["#version 450"]
        lines += [f"#extension {e} : require" for e in self._extensions()]
        for bits in self._kept_float_widths():   # SignedZeroInfNanPreserve (4461)
            lines.append('spirv_execution_mode(extensions = ["SPV_KHR_float_controls"], '
                         f'capabilities = [4466], 4461, {bits});')
        lines.append(f"layout(local_size_x = {lx}, local_size_y = {ly}, local_size_z = {lz}) in;")
        lines += self._param_decls()
        helpers = self._helper_lines()
        if helpers:
            lines += [""] + helpers
        lines += ["", "void main() {"] + body + ["}", ""]
        return EmittedKernel("\n".join(lines), self.info, self.target)


_FORMAT_SUFFIX = {"float32": "32f", "float16": "16f", "int32": "32i", "uint32": "32ui",
                  "int16": "16i", "uint16": "16ui", "int8": "8i", "uint8": "8ui"}


def _format_qualifier(dtype: str, channels: int) -> str:
    """GLSL's image format qualifier for `channels` (1, 2 or 4) components of `dtype`."""
    if dtype not in _FORMAT_SUFFIX or channels not in (1, 2, 4):
        raise ValueError(f"no GLSL image format for {channels} channel(s) of {dtype!r}")
    return {1: "r", 2: "rg", 4: "rgba"}[channels] + _FORMAT_SUFFIX[dtype]


def _storage(t):
    return dt.uint32 if t is dt.bool_ else t
