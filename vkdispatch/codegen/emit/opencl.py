"""OpenCL C as PoCL builds it: 1.2, except what only 2.0/3.0 have (read_write images,
the cl_khr_subgroup_* functions, mipmapped reads), used only when a kernel needs it.

Representation choices the rules below rely on:
- scalar bools are C `bool`/int 0-1; bool vectors are int vectors holding -1 (true) / 0,
  what OpenCL vector comparisons return and what any/all/select test (the sign bit);
- bool uniforms arrive as `uint` (kernel arguments cannot be bool), bool buffers hold uint;
- 3-component vectors in buffers and shared arrays are packed scalar arrays read with
  vload3/vstore3 (12 bytes per element, as vkdispatch lays them out);
- matrices are `vkd_matN` structs of N*N floats, column-major like GLSL (m[c*N + r]);
- helpers (complex, floor-mod, matrices, float atomics) are emitted only when used.
The prelude pieces live in `_opencl_prelude.py`.
"""
from __future__ import annotations

import re

from ...base import dtype as dt
from .. import ir
from ._opencl_prelude import Prelude
from .base import EmittedKernel, Emitter, safe_identifier, strip_parens

_TYPES = "char uchar short ushort int uint long ulong float double half bool".split()
_RESERVED = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while bool true false _Bool _Complex _Imaginary
__kernel kernel __global global __local local __constant constant __private private
__generic generic __read_only read_only __write_only write_only __read_write read_write
uniform pipe half uchar ushort uint ulong size_t ptrdiff_t intptr_t uintptr_t complex
imaginary quad vector image1d_t image1d_array_t image1d_buffer_t image2d_t image2d_array_t
image3d_t image2d_depth_t image2d_array_depth_t sampler_t event_t queue_t clk_event_t
reserve_id_t ndrange_t cl_mem_fence_flags memory_order memory_scope
sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh sinpi cospi tanpi exp exp2
exp10 expm1 log log2 log10 log1p logb sqrt rsqrt cbrt floor ceil rint round trunc fract pow
pown powr rootn fabs fmin fmax fmod fdim min max abs abs_diff clamp mix fma mad step
smoothstep sign isnan isinf isfinite isnormal signbit isequal isnotequal isgreater isless
dot cross length distance normalize fast_length fast_distance fast_normalize any all select
bitselect printf barrier mem_fence hypot copysign sincos modf ldexp frexp ilogb degrees
radians erf erfc tgamma lgamma lgamma_r nan nextafter remainder remquo maxmag minmag
upsample popcount clz ctz rotate mad24 mul24 mad_hi mul_hi mad_sat add_sat sub_sat hadd
rhadd shuffle shuffle2 prefetch wait_group_events async_work_group_copy
async_work_group_strided_copy work_group_barrier work_group_reduce_add
NAN INFINITY MAXFLOAT HUGE_VAL HUGE_VALF
sampler image main vkd_mat2 vkd_mat3 vkd_mat4 vkd_texel_sampler
""".split()) | frozenset(f"{t}{n}" for t in _TYPES for n in (2, 3, 4, 8, 16))

_CMP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_ARITH = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
# 3-vector builtins: the OpenCL query for each component
_BUILTIN_QUERY = {"global_invocation_id": "get_global_id", "local_invocation_id": "get_local_id",
                  "workgroup_id": "get_group_id", "num_workgroups": "get_num_groups"}
_SUBGROUP_BUILTIN = {"subgroup_id": "get_sub_group_id()", "subgroup_size": "get_sub_group_size()",
                     "subgroup_invocation_id": "get_sub_group_local_id()",
                     "num_subgroups": "get_num_sub_groups()"}
# subgroup collectives: (OpenCL function, extension beyond cl_khr_subgroups or None)
_SUBGROUP_FN = {
    "subgroup_add": ("sub_group_reduce_add", None),
    "subgroup_min": ("sub_group_reduce_min", None),
    "subgroup_max": ("sub_group_reduce_max", None),
    "subgroup_inclusive_add": ("sub_group_scan_inclusive_add", None),
    "subgroup_exclusive_add": ("sub_group_scan_exclusive_add", None),
    "subgroup_mul": ("sub_group_non_uniform_reduce_mul", "cl_khr_subgroup_non_uniform_arithmetic"),
    "subgroup_and": ("sub_group_non_uniform_reduce_and", "cl_khr_subgroup_non_uniform_arithmetic"),
    "subgroup_or": ("sub_group_non_uniform_reduce_or", "cl_khr_subgroup_non_uniform_arithmetic"),
    "subgroup_xor": ("sub_group_non_uniform_reduce_xor", "cl_khr_subgroup_non_uniform_arithmetic"),
    "subgroup_shuffle": ("VKD_SUB_GROUP_SHUFFLE", "cl_khr_subgroup_shuffle"),
    "subgroup_shuffle_xor": ("VKD_SUB_GROUP_SHUFFLE_XOR", "cl_khr_subgroup_shuffle"),
    "subgroup_broadcast": ("sub_group_broadcast", None),
    "subgroup_broadcast_first": ("sub_group_broadcast_first", "cl_khr_subgroup_ballot"),
}
_ATOMIC_SUFFIX = {"atomic_add": "add", "atomic_min": "min", "atomic_max": "max",
                  "atomic_and": "and", "atomic_or": "or", "atomic_xor": "xor",
                  "atomic_exchange": "xchg", "atomic_compare_exchange": "cmpxchg"}
_TEXEL = {dt.float32: "f", dt.int32: "i", dt.uint32: "ui"}
_ATOM = re.compile(r"[A-Za-z_]\w*(\.\w+|\[[^\[\]]*\])*$")


def _atom(s: str) -> str:
    """`s` wrapped in parentheses unless it is already a primary expression."""
    if _ATOM.match(s):
        return s
    if re.match(r"[A-Za-z_]\w*\(", s) and _closes_at_end(s, s.index("(")):
        return s
    if s.startswith("(") and _closes_at_end(s, 0):
        return s
    return f"({s})"


def _closes_at_end(s: str, start: int) -> bool:
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i == len(s) - 1
    return False


def _packed3(var: ir.Var) -> bool:
    """Arrays whose 3-vectors are stored as packed scalars (vload3/vstore3)."""
    return var.kind in (ir.BUFFER, ir.SHARED) and var.dtype.is_vector and var.dtype.count == 3


def _is_bvec(t) -> bool:
    return t.is_vector and t.is_bool


# ----------------------------------------------------------------------------- rules

def _widened(em, args, exprs, t):
    """Operand strings with scalars splatted to the vector type `t` (OpenCL builtins want
    equal argument types; bool scalars become -1/0 lanes)."""
    out = []
    for node, s in zip(args, exprs):
        if t.is_vector and node.dtype.is_scalar:
            lane = f"-(int)({s})" if node.dtype.is_bool else s
            s = f"({em.type_name(t)})({lane})"
        out.append(s)
    return out


def _call(fn):
    def rule(em, e, a):
        return f"{fn}({', '.join(_widened(em, e.args, a, e.dtype))})"
    return rule


def _arith(op):
    def rule(em, e, a):
        if e.dtype.is_matrix:
            return em.prelude.matrix_elementwise(op, e.args, a, e.dtype)
        return f"({a[0]} {_ARITH[op]} {a[1]})"
    return rule


def _neg(em, e, a):
    if e.dtype.is_matrix:
        return em.prelude.matrix_elementwise("neg", e.args, a, e.dtype)
    return f"(-{a[0]})"


def _cmp(op):
    def rule(em, e, a):
        ta, tb = e.args[0].dtype, e.args[1].dtype
        if ta.is_complex or tb.is_complex:   # complex == complex is one bool
            return f"{'all' if op == 'eq' else 'any'}({a[0]} {_CMP[op]} {a[1]})"
        if not e.dtype.is_vector:
            return f"({a[0]} {_CMP[op]} {a[1]})"
        vec = ta if ta.is_vector else tb
        x, y = _widened(em, e.args, a, vec)
        return em.lanes_to_bvec(f"({x} {_CMP[op]} {y})", vec)
    return rule


def _logical(sym):
    def rule(em, e, a):
        if e.dtype.is_vector:
            a = _widened(em, e.args, a, e.dtype)
        return f"({a[0]} {sym} {a[1]})"
    return rule


def _select(em, e, a):
    cond, t = e.args[0].dtype, e.dtype
    x, y = _widened(em, e.args[1:], a[1:], t)
    if cond.is_vector:   # lane-wise: the condition's lanes must match the values' width
        mask = {1: "char", 2: "short", 4: "int", 8: "long"}[t.base.itemsize]
        c = a[0] if t.base.itemsize == 4 else f"convert_{mask}{t.count}({a[0]})"
        return f"select({y}, {x}, {c})"
    return f"({a[0]} ? {x} : {y})"


def _abs(em, e, a):
    t = e.dtype
    if t.base.is_float:
        return f"fabs({a[0]})"
    if t.kind == dt.UINT:
        return a[0]
    return f"as_{em.type_name(t)}(abs({a[0]}))"   # OpenCL abs(int) returns the unsigned type


def _sign(em, e, a):
    t = e.dtype
    if t.base.is_float:
        return f"sign({a[0]})"
    return f"{em.prelude.int_sign(t)}({a[0]})"


def _minmax(fn):
    def rule(em, e, a):
        name = ("f" + fn) if e.dtype.base.is_float else fn
        return f"{name}({', '.join(_widened(em, e.args, a, e.dtype))})"
    return rule


def _mod(op):
    def rule(em, e, a):
        t = e.dtype
        x, y = _widened(em, e.args, a, t)
        if t.base.is_float:
            return f"floor({x} / {y})" if op == "floordiv" else f"{em.prelude.float_mod(t)}({x}, {y})"
        if t.kind == dt.UINT:
            return f"({x} {'%' if op == 'mod' else '/'} {y})"
        return f"{em.prelude.int_floor(op, t)}({x}, {y})"
    return rule


def _classify(fn):
    def rule(em, e, a):
        t = e.args[0].dtype
        s = f"{fn}({a[0]})"
        return em.lanes_to_bvec(s, t) if t.is_vector else s
    return rule


def _fract(em, e, a):
    return f"{em.prelude.fract(e.dtype)}({a[0]})"


def _complex_fn(op):
    def rule(em, e, a):
        return f"{em.prelude.complex_fn(op, e.dtype)}({', '.join(a)})"
    return rule


def _matrix_fn(op):
    def rule(em, e, a):
        return f"{em.prelude.matrix_fn(op, e.args[0].dtype, e.args[-1].dtype)}({', '.join(a)})"
    return rule


def _cast(em, e, a):
    src, t = e.args[0].dtype, e.dtype
    x = a[0]
    if src is t:
        return x
    tn = em.type_name(t)
    if t.is_complex:                       # complex <-> complex: float2 <-> double2
        return f"convert_{tn}({x})"
    if t.is_scalar:
        if t.is_bool:
            return f"({x} != ({em.type_name(src)})0)"
        return f"(({tn}){x})"
    if _is_bvec(t):
        return em.lanes_to_bvec(f"({x} != ({em.type_name(src)})(0))", src)
    if _is_bvec(src):
        lanes = f"(-{_atom(x)})"           # -1 -> 1
        return lanes if t.base is dt.int32 else f"convert_{tn}({lanes})"
    return f"convert_{tn}({x})"


def _bitcast(em, e, a):
    return f"as_{em.type_name(e.dtype)}({a[0]})"


def _construct(em, e, a):
    t = e.dtype
    if t.is_matrix:
        return f"{em.prelude.matrix_construct(t, [p.dtype for p in e.args])}({', '.join(a)})"
    if _is_bvec(t):
        a = [f"-(int)({s})" if p.dtype.is_scalar else s for p, s in zip(e.args, a)]
    return f"({em.type_name(t)})({', '.join(a)})"


def _swizzle(em, e, a):
    src, letters = e.args[0], e.attrs[0]
    if isinstance(src, ir.Expr) and src.op == "builtin" and src.attrs[0] in em.vec3_builtins:
        parts = [em.builtin_component(src.attrs[0], "xyzw".index(c)) for c in letters]
        if len(parts) == 1:
            return parts[0]
        return f"({em.type_name(e.dtype)})({', '.join(parts)})"
    s = f"{_atom(a[0])}.{letters}"
    return f"({s} != 0)" if _is_bvec(src.dtype) and len(letters) == 1 else s


def _component(em, e, a):
    t = e.args[0].dtype
    if t.is_matrix:
        return f"{em.prelude.matrix_column(t)}({a[0]}, {a[1]})"
    s = f"{em.prelude.vector_component(t)}({a[0]}, {a[1]})"
    return f"({s} != 0)" if t.is_bool else s


def _index(em, e, a):
    array = e.args[0]
    name = em.name(array)
    t = array.dtype
    s = f"vload3({a[1]}, {name})" if _packed3(array) else f"{name}[{a[1]}]"
    if _is_bvec(t) and array.kind == ir.BUFFER:   # stored as 1/0 lanes
        s = f"({s} != 0)"
    return s


def _builtin(em, e, a):
    name = e.attrs[0]
    if name in em.vec3_builtins:
        parts = ", ".join(em.builtin_component(name, k) for k in range(3))
        return f"(uint3)({parts})"
    if name == "local_invocation_index":
        lx, ly, _ = em.kernel.local_size
        return (f"((uint)(get_local_id(0) + {lx} * (get_local_id(1) + {ly} * "
                f"get_local_id(2))))")
    em.prelude.subgroups()
    return _SUBGROUP_BUILTIN[name]


def _atomic(op):
    def rule(em, e, a):
        ref = e.args[0]
        array = ref.args[0]
        space = "__global" if array.kind == ir.BUFFER else "__local"
        ptr = f"&{em.name(array)}[{em.expr(ref.args[1])}]"
        t = ref.dtype
        values = ", ".join(a[1:])
        if t.is_float:
            if op == "atomic_add":
                return f"{em.prelude.float_atomic_add(t, space)}({ptr}, {values})"
            if op == "atomic_exchange" and t is dt.float32:
                return f"atomic_xchg({ptr}, {values})"
            if op == "atomic_exchange" and t is dt.float64:
                em.prelude.pragma("cl_khr_int64_base_atomics")
                return (f"as_double(atom_xchg((volatile {space} ulong*){ptr}, "
                        f"as_ulong({values})))")
            em.unsupported(f"{op} on {t.name} (OpenCL has float atomic add and exchange only)")
        if t.itemsize == 8:
            suffix = _ATOMIC_SUFFIX[op]
            base = suffix in ("add", "xchg", "cmpxchg")
            em.prelude.pragma("cl_khr_int64_base_atomics" if base else
                              "cl_khr_int64_extended_atomics")
            return f"atom_{suffix}({ptr}, {values})"
        if t.itemsize != 4:
            em.unsupported(f"{op} on {t.name} (OpenCL atomics take 32- or 64-bit integers)")
        return f"atomic_{_ATOMIC_SUFFIX[op]}({ptr}, {values})"
    return rule


def _memory_barrier(em, e, a):
    flags = {"all": "CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE", "shared": "CLK_LOCAL_MEM_FENCE",
             "buffer": "CLK_GLOBAL_MEM_FENCE", "image": "CLK_GLOBAL_MEM_FENCE",
             "group": "CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE"}[e.attrs[0]]
    return f"mem_fence({flags})"


def _subgroup(em, e, a):
    fn, ext = _SUBGROUP_FN[e.op]
    em.prelude.subgroups(ext)
    if e.op.startswith("subgroup_shuffle"):
        em.prelude.shuffle_macros()
    t = e.args[0].dtype
    if t.is_matrix or t.is_complex:
        em.unsupported(f"{e.op} of {t.name} values (OpenCL sub-group functions take scalars)")
    extra = "".join(", " + s for s in a[1:])
    if t.is_bool and e.op in ("subgroup_and", "subgroup_or", "subgroup_xor"):
        fn = fn.replace("reduce_", "reduce_logical_")
    if t.is_vector:    # the OpenCL collectives take scalars: one call per lane
        lanes = []
        for c in "xyzw"[:t.count]:
            lane = f"{_atom(a[0])}.{c}"
            if t.is_bool:   # -1/0 lanes in, -1/0 lanes out
                lanes.append(f"-(int){em.subgroup_lane(fn, f'({lane} != 0)', dt.bool_, extra)}")
            else:
                lanes.append(em.subgroup_lane(fn, lane, t.base, extra))
        return f"({em.type_name(t)})({', '.join(lanes)})"
    return em.subgroup_lane(fn, a[0], t, extra)


def _subgroup_vote(fn):
    def rule(em, e, a):
        em.prelude.subgroups()
        return f"({fn}((int)({a[0]})) != 0)"
    return rule


def _subgroup_elect(em, e, a):
    em.prelude.subgroups("cl_khr_subgroup_non_uniform_vote")
    return "(sub_group_elect() != 0)"


def _subgroup_barrier(em, e, a):
    em.prelude.subgroups()
    return "sub_group_barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)"


def _image_read(em, e, a):
    img = e.args[0]
    fn = f"read_image{em.texel_suffix(img)}"
    coords = em.image_coords(img, a[1], e.args[1].dtype)
    if e.op == "image_load":
        return f"{fn}({a[0]}, {coords})"
    if e.op == "image_fetch":
        sampler = "vkd_texel_sampler"
        em.uses_texel_sampler = True
        lod = e.args[2]
        if isinstance(lod, ir.Lit) and lod.value == 0:
            return f"{fn}({a[0]}, {sampler}, {coords})"
        # mip levels need float coordinates: texel centres of the nearest sampler
        if img.arrayed:   # texel centres in x, y; the layer index as it is
            coords = f"(float4)(convert_float2(({a[1]}).xy) + 0.5f, (float)(({a[1]}).z), 0.0f)"
        else:
            coords = em.image_coords(img, f"(convert_float{img.dim if img.dim > 1 else ''}({a[1]}) + 0.5f)",
                                     dt.vector_of(dt.float32, img.dim))
        return em.mip_read(fn, a[0], sampler, coords, f"(float)({a[2]})")
    sampler = em.sampler_name(img)
    if len(a) == 3 and not (isinstance(e.args[2], ir.Lit) and e.args[2].value == 0):
        return em.mip_read(fn, a[0], sampler, coords, a[2])
    return f"{fn}({a[0]}, {sampler}, {coords})"


def _image_store(em, e, a):
    img = e.args[0]
    if img.dim == 3:      # optional in OpenCL C 1.2
        em.prelude.pragma("cl_khr_3d_image_writes")
    coords = em.image_coords(img, a[1], e.args[1].dtype)
    return f"write_image{em.texel_suffix(img)}({a[0]}, {coords}, {a[2]})"


def _image_size(em, e, a):
    dim = e.args[0].dim
    if e.args[0].arrayed:   # the layer count last, as GLSL's textureSize gives it
        return f"(int3)(get_image_dim({a[0]}), (int)get_image_array_size({a[0]}))"
    if dim == 1:
        return f"get_image_width({a[0]})"
    return f"get_image_dim({a[0]})" if dim == 2 else f"get_image_dim({a[0]}).xyz"


def _printf(em, e, a):
    fmt = e.attrs[0].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    args = []
    for node, s in zip(e.args, a):
        t = node.dtype
        if t.is_bool or (t.is_integer and t.itemsize < 4):   # no varargs promotion rules to trust
            s = f"({'uint' if t.kind == dt.UINT else 'int'})({s})"
        elif t is dt.float16:
            s = f"(float)({s})"
        args.append(", " + s)
    return f'printf("{fmt}"{"".join(args)})'


RULES = {
    "add": _arith("add"), "sub": _arith("sub"), "mul": _arith("mul"), "div": _arith("div"),
    "neg": _neg, "bit_and": "({0} & {1})", "bit_or": "({0} | {1})", "bit_xor": "({0} ^ {1})",
    "shl": "({0} << {1})", "shr": "({0} >> {1})", "bit_not": "(~{0})",
    "lt": _cmp("lt"), "le": _cmp("le"), "gt": _cmp("gt"), "ge": _cmp("ge"), "eq": _cmp("eq"),
    "ne": _cmp("ne"), "logical_and": _logical("&&"), "logical_or": _logical("||"),
    "logical_not": "(!{0})", "select": _select, "abs": _abs, "sign": _sign,
    "min": _minmax("min"), "max": _minmax("max"), "mod": _mod("mod"),
    "floordiv": _mod("floordiv"), "pow": _call("pow"), "atan2": _call("atan2"),
    "round": "rint({0})", "fract": _fract, "clamp": _call("clamp"), "mix": _call("mix"),
    "fma": _call("fma"), "step": _call("step"), "smoothstep": _call("smoothstep"),
    "isnan": _classify("isnan"), "isinf": _classify("isinf"),
    "radians": _call("radians"), "degrees": _call("degrees"),
    "matrix_comp_mult": lambda em, e, a: em.prelude.matrix_elementwise("mul", e.args, a, e.dtype),
    "outer_product": lambda em, e, a: f"{em.prelude.outer_product(e.args[0].dtype)}({a[0]}, {a[1]})",
    "matmul": _matrix_fn("matmul"), "transpose": _matrix_fn("transpose"),
    "determinant": _matrix_fn("determinant"), "inverse": _matrix_fn("inverse"),
    "cmul": _complex_fn("cmul"), "cdiv": _complex_fn("cdiv"), "cexp": _complex_fn("cexp"),
    "conj": lambda em, e, a: f"({a[0]} * ({em.type_name(e.dtype)})(1, -1))",
    "cabs": lambda em, e, a: f"hypot({_atom(a[0])}.x, {_atom(a[0])}.y)",   # C99: no overflow
    "real": lambda em, e, a: f"{_atom(a[0])}.x",
    "imag": lambda em, e, a: f"{_atom(a[0])}.y",
    "cast": _cast, "bitcast": _bitcast, "construct": _construct, "swizzle": _swizzle,
    "component": _component, "index": _index, "builtin": _builtin,
    "barrier": "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)",
    "memory_barrier": _memory_barrier,
    "subgroup_all": _subgroup_vote("sub_group_all"), "subgroup_any": _subgroup_vote("sub_group_any"),
    "subgroup_elect": _subgroup_elect, "subgroup_barrier": _subgroup_barrier,
    "image_sample": _image_read, "image_fetch": _image_read, "image_load": _image_read,
    "image_store": _image_store, "image_size": _image_size, "printf": _printf,
}
RULES.update({op: _atomic(op) for op in _ATOMIC_SUFFIX})
RULES.update({op: _subgroup for op in _SUBGROUP_FN})


class OpenCLEmitter(Emitter):
    target = "opencl"
    rules = RULES
    reserved = _RESERVED
    reserved_prefixes = ("__", "get_", "atomic_", "atom_", "sub_group_", "convert_", "as_",
                         "vload", "vstore", "read_image", "write_image", "native_", "half_",
                         "CLK_", "M_", "FLT_", "DBL_", "HALF_", "CL_")
    vec3_builtins = frozenset(_BUILTIN_QUERY) | {"workgroup_size"}

    def __init__(self, kernel, entry_point="vkdispatch_main", site_base: int = 0):
        entry_point = safe_identifier(entry_point, "vkd_", lambda s: (
            s in _RESERVED or s.startswith(self.reserved_prefixes)))
        super().__init__(kernel, entry_point, site_base=site_base)
        self._taken.add(entry_point)
        self.prelude = Prelude(self.type_name)
        self.uses_texel_sampler = False
        self._samplers = {}

    # ------------------------------------------------------------------ types & literals
    def type_name(self, t) -> str:
        return t.opencl

    def lanes_to_bvec(self, lanes: str, operand) -> str:
        """A vector comparison's result as a bvec (int lanes): OpenCL gives lanes as wide
        as the operands' elements (long for double, short for half)."""
        if operand.base.itemsize == 4:
            return lanes
        return f"convert_int{operand.count}({lanes})"

    def literal(self, lit: ir.Lit) -> str:
        t, v = lit.dtype, lit.value
        if t.is_vector:
            return f"({t.opencl})({', '.join(self.literal(ir.Lit(x, t.base)) for x in v)})"
        if t is dt.bool_:
            return "true" if v else "false"
        if t.is_complex:
            part = dt.complex_part(t)
            c = complex(v)
            return f"({t.opencl})({self.literal(ir.Lit(c.real, part))}, {self.literal(ir.Lit(c.imag, part))})"
        if t is dt.float16:
            return f"((half){self.literal(ir.Lit(v, dt.float32))})"
        if t.is_float:
            s = self.float_literal(float(v), t, "f" if t is dt.float32 else "")
            return f"({s})" if s.startswith("-") else s
        v = int(v)
        if t is dt.int32:
            return str(v) if v >= 0 else ("(-2147483647 - 1)" if v == -2 ** 31 else f"({v})")
        if t is dt.int64:
            return f"{v}L" if v >= 0 else ("(-9223372036854775807L - 1L)" if v == -2 ** 63
                                           else f"({v}L)")
        if t is dt.uint32:
            return f"{v}u"
        if t is dt.uint64:
            return f"{v}UL"
        return f"(({t.opencl}){v})"

    def special_float(self, value, t) -> str:
        s = "NAN" if value != value else ("INFINITY" if value > 0 else "(-INFINITY)")
        return s if t is dt.float32 else f"((double){s})"

    # ------------------------------------------------------------------ debug reports
    def report_call(self, site: int, ref) -> str:
        array, idx = ref.args
        return (f"{self.REPORT_FN}({self.name(self.debug_var)}, {site}u, "
                f"(ulong)(long)({self.expr(idx)}), (ulong)({self.report_length(array)}))")

    def report_helper(self) -> list:
        if self.debug_var is None:
            return []
        at = ir.DEBUG_LAYOUT
        return [f"uint {self.REPORT_FN}(__global uint* d, uint site, ulong i, ulong n) {{",
                f"    atomic_inc(d + {at['count']});",
                f"    if (atomic_cmpxchg(d + {at['site']}, 0u, site) == 0u) {{",
                f"        d[{at['index']}] = (uint)i;",
                f"        d[{at['index'] + 1}] = (uint)(i >> 32);",
                f"        d[{at['length']}] = (uint)n;",
                f"        d[{at['length'] + 1}] = (uint)(n >> 32);",
                "    }",
                "    return 0u;",
                "}", ""]

    # ------------------------------------------------------------------ references
    def var_ref(self, var: ir.Var) -> str:
        if var.kind == ir.UNIFORM and var.dtype is dt.bool_:
            return f"({self.name(var)} != 0u)"   # bool arguments travel as uint
        return self.name(var)

    def builtin_component(self, name: str, k: int) -> str:
        if name == "workgroup_size":
            return f"{self.kernel.local_size[k]}u"
        return f"(uint){_BUILTIN_QUERY[name]}({k})"

    def subgroup_lane(self, fn, x, t, extra) -> str:
        """One scalar collective; bools and 8/16-bit integers go through int/uint, which
        gives the same bits back (wrap-around add/mul, min/max and bitwise ops agree)."""
        if t.is_bool:
            return f"({fn}((int)({x}){extra}) != 0)"
        if t.is_integer and t.itemsize < 4:
            wide = "uint" if t.kind == dt.UINT else "int"
            return f"(({t.opencl}){fn}(({wide})({x}){extra}))"
        return f"{fn}({x}{extra})"

    # ------------------------------------------------------------------ images
    def texel_suffix(self, img: ir.Var) -> str:
        s = _TEXEL.get(img.dtype)
        if s is None:
            self.unsupported(f"images of {img.dtype.name} texels (use f32, i32 or u32)")
        return s

    def image_coords(self, img: ir.Var, coords: str, t) -> str:
        if img.dim == 3 or img.arrayed:   # OpenCL addresses these with 4-vectors
            return f"({dt.vector_of(t.base, 4).opencl})({coords}, 0)"
        return coords

    def mip_read(self, fn, img, sampler, coords, lod) -> str:
        self.prelude.pragma("cl_khr_mipmap_image")
        return f"{fn}({img}, {sampler}, {coords}, {lod})"

    def sampler_name(self, img: ir.Var) -> str:
        return self._samplers[img.id]

    def _image_access(self) -> dict:
        """image var id -> set of {"read", "write"} from the kernel body."""
        access = {}
        for n in ir.all_nodes(self.kernel):
            if isinstance(n, ir.Expr) and n.op in ("image_load", "image_store"):
                kind = "read" if n.op == "image_load" else "write"
                access.setdefault(n.args[0].id, set()).add(kind)
        return access

    def _fresh(self, base: str) -> str:
        n, k = base, 1
        while n in self._taken:
            n = f"{base}_{k}"
            k += 1
        self._taken.add(n)
        return n

    # ------------------------------------------------------------------ statements
    def stmt(self, s, depth: int) -> list:
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.Expr):
            return [self.indent_unit * depth + self.store(s.target, s.value)]
        return super().stmt(s, depth)

    def store(self, target: ir.Expr, value) -> str:
        """`target = value;` for lvalues OpenCL C cannot assign directly."""
        v = strip_parens(self.expr(value))
        base = target.args[0]
        name = self.name(base)
        if target.op == "index":
            idx = self.expr(target.args[1])
            if _is_bvec(base.dtype) and base.kind == ir.BUFFER:
                v = f"(-{_atom(v)})"                  # bool lanes are stored as 1/0
            if _packed3(base):
                return f"vstore3({v}, {idx}, {name});"
            return f"{name}[{idx}] = {v};"
        if target.op == "swizzle":
            letters = target.attrs[0]
            if _is_bvec(base.dtype) and len(letters) == 1:
                v = f"-(int)({v})"
            return f"{name}.{letters} = {v};"
        idx = self.expr(target.args[1])          # component
        t = base.dtype
        if t.is_matrix:
            return f"vstore{t.columns}({v}, {idx}, {name}.m);"
        if t.is_bool:
            v = f"-(int)({v})"
        return f"(({self.type_name(t.base if not t.is_bool else dt.int32)}*)&{name})[{idx}] = {v};"

    # ------------------------------------------------------------------ assembly
    def _params(self) -> list:
        by_name = {p.name: p for p in self.kernel.params}
        access = self._image_access()
        out = []
        for b in sorted(self.info.bindings, key=lambda b: b.index):
            v = by_name[b.name].var
            name = self.name(v)
            if v.kind == ir.BUFFER:
                t = dt.uint32 if v.dtype is dt.bool_ else v.dtype
                elem = self.type_name(t.base if _packed3(v) else t)
                const = "" if v.id in self.written else "const "
                if v.id in self.coherent:   # loads are not cached past a mem_fence
                    const += "volatile "
                out.append(f"__global {const}{elem}* {name}")
                continue
            self.texel_suffix(v)
            image_t = f"image{v.dim}d{'_array' if v.arrayed else ''}_t"
            if v.sampled:
                out += [f"read_only {image_t} {name}", f"sampler_t {self._samplers[v.id]}"]
            else:
                used = access.get(v.id, {"read"})
                qual = ("read_write" if used == {"read", "write"} else
                        "write_only" if used == {"write"} else "read_only")
                out.append(f"{qual} {image_t} {name}")
        for f in self.info.uniforms:
            v = by_name[f.name].var
            tn = "uint" if v.dtype is dt.bool_ else self.type_name(v.dtype)
            out.append(f"{tn} {self.name(v)}")
        return out

    def _local_decls(self) -> list:
        pad = self.indent_unit
        lines = []
        for v in self.kernel.shared:
            if _packed3(v):
                lines.append(f"{pad}__local {self.type_name(v.dtype.base)} {self.name(v)}"
                             f"[{3 * v.length}];")
            else:
                lines.append(f"{pad}__local {self.type_name(v.dtype)} {self.name(v)}[{v.length}];")
        if self.uses_texel_sampler:
            lines.append(f"{pad}const sampler_t vkd_texel_sampler = CLK_NORMALIZED_COORDS_FALSE | "
                         f"CLK_ADDRESS_CLAMP_TO_EDGE | CLK_FILTER_NEAREST;")
        return lines

    def emit(self) -> EmittedKernel:
        for p in self.kernel.params:        # a sampled image's sampler follows it
            if p.var.kind == ir.IMAGE and p.var.sampled:
                self._samplers[p.var.id] = self._fresh(f"{self.name(p.var)}_sampler")
        self.prelude.types(self.dtypes)
        body = self.body_lines()             # rendering the body collects the prelude
        params = self._params()
        lx, ly, lz = self.kernel.local_size
        lines = self.prelude.lines()
        lines += self.report_helper()
        lines += [f"__kernel __attribute__((reqd_work_group_size({lx}, {ly}, {lz})))",
                  f"void {self.entry_point}({', '.join(params)}) {{"]
        lines += self._local_decls() + body + ["}", ""]
        return EmittedKernel("\n".join(lines), self.info, self.target)
