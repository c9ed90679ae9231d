"""CUDA C++ (NVRTC, C++17) with a prelude holding only what the kernel uses.

Kernel ABI (the CUDA runtime binds it; see backends/cuda/_program.py):
    extern "C" __global__ void __launch_bounds__(lx*ly*lz) <entry>(<bindings>, <uniforms>)
- bindings in ProgramInfo order: storage buffers `T* __restrict__` (`const T*` when the
  kernel never writes them; bool buffers hold `unsigned int`), sampled images
  `cudaTextureObject_t`, storage images `cudaSurfaceObject_t`;
- then one by-value parameter per UniformField, of the dtype's CUDA type (sizeof equals
  the dtype's itemsize), except bool, passed as `unsigned int` (0 or 1).
Images: texels are 4-vectors of 32-bit components (float4/int4/uint4). Sampling uses the
texture object's own sampler (normalization, filter, addressing); texel_fetch reads the
exact texel at integer coordinates whatever that sampler says (its lod is ignored: CUDA
images here have one level). Storage images are read and written as 16-byte texels (x is
scaled by 16 into the surface's byte offset), so they must be 4-channel 32-bit images;
out-of-range loads give 0 and stores are dropped. image_size asks the texture/surface.
Subgroups are warps of 32: subgroup_invocation_id is the linear thread index % 32.
"""
from __future__ import annotations

import keyword
import math

import numpy as np

from ...base import dtype as dt
from .. import ir
from .base import EmittedKernel, Emitter, safe_identifier, strip_parens
from ._cuda_prelude import Prelude, elem

_CPP_KEYWORDS = """
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast requires return
short signed sizeof static static_assert static_cast struct switch template this thread_local
throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
xor xor_eq main NULL
""".split()
_CUDA_NAMES = """
threadIdx blockIdx blockDim gridDim warpSize dim3 printf memcpy memset malloc free assert
atomicAdd atomicSub atomicMin atomicMax atomicAnd atomicOr atomicXor atomicExch atomicCAS
atomicInc atomicDec __syncthreads __syncwarp __threadfence __threadfence_block __activemask
__shfl_sync __all_sync __any_sync __ffs cudaTextureObject_t cudaSurfaceObject_t tex1D tex2D
tex3D tex1DLod tex2DLod tex3DLod surf1Dread surf2Dread surf3Dread surf1Dwrite surf2Dwrite
surf3Dwrite cudaBoundaryModeZero __half __half2 half half2 std min max abs llabs labs isnan
isinf isfinite signbit sincos sincospi norm norm3d rnorm
""".split() + [f + suffix for f in """
fabs rint hypot fma fmin fmax floor ceil trunc round sqrt rsqrt cbrt rcbrt pow exp exp2 exp10
expm1 log log2 log10 log1p sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh
sinpi cospi erf erfc erfinv erfcinv lgamma tgamma fmod remainder remquo modf frexp ldexp
scalbn nextafter copysign fdim nan j0 j1 y0 y1 jn yn ilogb logb lrint llrint lround llround
nearbyint
""".split() for suffix in ("", "f")]
_VECTOR_BASES = ("char", "uchar", "short", "ushort", "int", "uint", "long", "ulong", "longlong",
                 "ulonglong", "float", "double")
_RESERVED = frozenset(_CPP_KEYWORDS + _CUDA_NAMES + [
    f"{p}{b}{n}" for b in _VECTOR_BASES for n in "1234" for p in ("", "make_")])

_ATOMIC = {"atomic_add": "atomicAdd", "atomic_min": "atomicMin", "atomic_max": "atomicMax",
           "atomic_and": "atomicAnd", "atomic_or": "atomicOr", "atomic_xor": "atomicXor",
           "atomic_exchange": "atomicExch", "atomic_compare_exchange": "atomicCAS"}
_ATOMIC_TYPES = {dt.int32: set(_ATOMIC), dt.uint32: set(_ATOMIC), dt.uint64: set(_ATOMIC),
                 dt.int64: set(_ATOMIC), dt.float32: {"atomic_add", "atomic_exchange"},
                 dt.float64: {"atomic_add"}}
_MEMORY_BARRIER = {"all": "__threadfence()", "buffer": "__threadfence()",
                   "image": "__threadfence()", "shared": "__threadfence_block()",
                   "group": "__threadfence_block()"}
_SPECIAL_FLOAT = {  # nan, inf and -inf bit patterns, and the intrinsic reading them
    dt.float32: ("0x7fc00000u", "0x7f800000u", "0xff800000u", "__uint_as_float"),
    dt.float64: ("0x7ff8000000000000ll", "0x7ff0000000000000ll", "(long long)0xfff0000000000000ull",
                 "__longlong_as_double"),
    dt.float16: ("(unsigned short)0x7e00u", "(unsigned short)0x7c00u", "(unsigned short)0xfc00u",
                 "__ushort_as_half"),
}


def _types(e):
    return [a.dtype for a in e.args]


def _elementwise(em, e, a):
    return em.pre.apply(e.op, e.dtype, _types(e), a)


def _index(em, e, a):
    return f"{em.name(e.args[0])}[{a[1]}]"


def _component(em, e, a, lvalue=False):
    t = e.args[0].dtype
    if t.is_matrix:
        return f"{a[0]}[{a[1]}]"
    return em.pre.component(t, a[0], a[1], lvalue)


def _builtin(em, e, a):
    name = e.attrs[0]
    lx, ly, lz = em.pre.local_size
    if name == "global_invocation_id":
        return em.pre.global_id()
    if name == "local_invocation_index":
        return em.pre.local_index()
    if name == "subgroup_invocation_id":
        return em.pre.lane()
    if name == "subgroup_id":
        return f"({em.pre.local_index()} >> 5)"
    return {"local_invocation_id": "threadIdx", "workgroup_id": "blockIdx",
            "num_workgroups": "make_uint3(gridDim.x, gridDim.y, gridDim.z)",
            "workgroup_size": f"make_uint3({lx}u, {ly}u, {lz}u)",
            "subgroup_size": "32u", "num_subgroups": f"{(lx * ly * lz + 31) // 32}u"}[name]


def _atomic(em, e, a):
    t = e.dtype
    if e.op not in _ATOMIC_TYPES.get(t, ()):
        em.unsupported(f"{e.op} on {t.name}")
    ref = f"&{em.lvalue(e.args[0])}"
    if e.args[0].args[0].id in em.coherent:   # CUDA's atomics take no volatile pointer
        ref = f"({em.type_name(t)}*){ref}"
    fn = _ATOMIC[e.op]
    if t is dt.int64 and e.op not in ("atomic_min", "atomic_max"):
        # CUDA has these for unsigned long long only; two's complement makes them agree
        vals = "".join(f", (unsigned long long){x}" for x in a[1:])
        return f"((long long){fn}((unsigned long long*){ref}{vals}))"
    return f"{fn}({ref}{''.join(', ' + x for x in a[1:])})"


def _bitcast(em, e, a):
    src, dst = e.args[0].dtype, e.dtype
    if src.itemsize != dst.itemsize:
        em.unsupported(f"a bitcast from {src.name} ({src.itemsize} bytes) to {dst.name} "
                       f"({dst.itemsize} bytes); the sizes must match")
    return em.pre.bitcast(src, dst, a[0])


def _printf(em, e, a):
    fmt = (e.attrs[0].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           .replace("\t", "\\t").replace("\r", "\\r"))
    args = []
    for node, s in zip(e.args, a):
        if node.dtype is dt.float16:
            s = f"(double)__half2float({s})"
        elif node.dtype is dt.bool_:
            s = f"(int){s}"
        args.append(s)
    return f'printf("{fmt}"{"".join(", " + x for x in args)})'


def _image(op):
    def rule(em, e, a):
        img = e.args[0]
        texel = dt.vector_of(img.dtype, 4)
        if img.dtype not in (dt.float32, dt.int32, dt.uint32):
            em.unsupported(f"images of {img.dtype.name} texels (use f32, i32 or u32)")
        if op == "fetch":
            a = a[:2]   # one mip level: the lod has nothing to choose
        if img.arrayed:
            return em.pre.layered_image(op, texel, a)
        return em.pre.image(op, img.dim, texel, a)
    return rule


def _subgroup(em, e, a):
    t = e.args[0].dtype
    if t.is_matrix or t.is_complex:
        em.unsupported(f"{e.op} of {t.name}")
    return em.pre.subgroup(e.op, t, a)


RULES = {
    **{op: _elementwise for op in (
        "add", "sub", "mul", "div", "neg", "bit_and", "bit_or", "bit_xor", "shl", "shr",
        "bit_not", "lt", "le", "gt", "ge", "eq", "ne", "logical_and", "logical_or",
        "logical_not", "min", "max", "pow", "atan2", "abs", "sign", "clamp", "mix", "fma",
        "step", "smoothstep", "isnan", "isinf", "matmul", "sin", "cos", "tan", "asin", "acos",
        "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp", "exp2", "expm1", "log",
        "log2", "log1p", "sqrt", "rsqrt", "floor", "ceil", "round", "trunc", "fract", "mod",
        "floordiv", "radians", "degrees")},
    "matrix_comp_mult": lambda em, e, a: em.pre.matrix_comp_mult(e.dtype, a),
    "outer_product": lambda em, e, a: em.pre.outer_product(e.args[0].dtype, a),
    "any": lambda em, e, a: em.pre.reduce_bool("any", e.args[0].dtype, a[0]),
    "all": lambda em, e, a: em.pre.reduce_bool("all", e.args[0].dtype, a[0]),
    "select": "({0} ? {1} : {2})",
    **{op: (lambda em, e, a: em.pre.geometry(e.op, _types(e), a))
       for op in ("dot", "cross", "length", "distance", "normalize")},
    **{op: (lambda em, e, a: em.pre.matrix_fn(e.op, e.args[0].dtype, a[0]))
       for op in ("transpose", "determinant", "inverse")},
    **{op: (lambda em, e, a: em.pre.complex_fn(e.op, e.args[0].dtype, a))
       for op in ("cmul", "cdiv", "conj", "cexp", "cabs")},
    "real": "{0}.x", "imag": "{0}.y",
    "cast": lambda em, e, a: em.pre.cast(e.args[0].dtype, e.dtype, a[0]),
    "bitcast": _bitcast,
    "construct": lambda em, e, a: em.pre.construct(e.dtype, _types(e), a),
    "swizzle": lambda em, e, a: em.pre.swizzle(e.args[0].dtype, e.attrs[0], a[0]),
    "component": _component, "index": _index, "builtin": _builtin,
    **{op: _atomic for op in _ATOMIC},
    "barrier": "__syncthreads()",
    "memory_barrier": lambda em, e, a: _MEMORY_BARRIER[e.attrs[0]],
    **{op: _subgroup for op in (
        "subgroup_add", "subgroup_mul", "subgroup_min", "subgroup_max", "subgroup_and",
        "subgroup_or", "subgroup_xor", "subgroup_inclusive_add", "subgroup_exclusive_add",
        "subgroup_shuffle", "subgroup_shuffle_xor", "subgroup_broadcast",
        "subgroup_broadcast_first")},
    "subgroup_elect": lambda em, e, a: f"({em.pre.lane()} == (unsigned int)(__ffs(__activemask()) - 1))",
    "subgroup_all": "(__all_sync(__activemask(), {0}) != 0)",
    "subgroup_any": "(__any_sync(__activemask(), {0}) != 0)",
    "subgroup_barrier": "__syncwarp(__activemask())",
    "image_sample": _image("sample"), "image_fetch": _image("fetch"),
    "image_load": _image("load"), "image_store": _image("store"),
    "image_size": lambda em, e, a: em.pre.image_size(
        e.args[0].dim, e.args[0].sampled, a[0], f"{a[1]}.z" if e.args[0].arrayed else None),
    "printf": _printf,
}


class CUDAEmitter(Emitter):
    target = "cuda"
    rules = RULES
    reserved = _RESERVED

    def __init__(self, kernel, entry_point="vkdispatch_main", site_base: int = 0):
        entry_point = safe_identifier(entry_point, "vkd_kernel_", lambda s: (
            s in _RESERVED or keyword.iskeyword(s) or s.startswith(("vkd_", "__"))))
        super().__init__(kernel, entry_point, site_base=site_base)
        self.pre = Prelude(kernel.local_size)
        self._tmp = 0

    # ------------------------------------------------------------------ names & types
    def name(self, var: ir.Var) -> str:
        # helpers are all vkd_-prefixed; keep user locals out of that namespace
        if var.id not in self._names and var.name.startswith("vkd_") and var.kind not in (
                ir.BUFFER, ir.UNIFORM, ir.IMAGE):
            var = ir.Var(var.id, "u" + var.name, var.dtype, var.kind)
        return super().name(var)

    def type_name(self, t) -> str:
        return self.pre.ctype(t)

    def var_ref(self, var: ir.Var) -> str:
        if var.kind == ir.UNIFORM and var.dtype is dt.bool_:
            return f"({self.name(var)} != 0u)"
        return self.name(var)

    def report_call(self, site: int, ref) -> str:
        array, idx = ref.args
        return (f"{self.REPORT_FN}({self.name(self.debug_var)}, {site}u, "
                f"(unsigned long long)(long long)({self.expr(idx)}), "
                f"(unsigned long long)({self.report_length(array)}))")

    def report_helper(self) -> list:
        if self.debug_var is None:
            return []
        at = ir.DEBUG_LAYOUT
        return [f"__device__ unsigned int {self.REPORT_FN}(unsigned int* d, unsigned int site, "
                f"unsigned long long i, unsigned long long n) {{",
                f"    atomicAdd(d + {at['count']}, 1u);",
                f"    if (atomicCAS(d + {at['site']}, 0u, site) == 0u) {{",
                f"        d[{at['index']}] = (unsigned int)i;",
                f"        d[{at['index'] + 1}] = (unsigned int)(i >> 32);",
                f"        d[{at['length']}] = (unsigned int)n;",
                f"        d[{at['length'] + 1}] = (unsigned int)(n >> 32);",
                "    }",
                "    return 0u;",
                "}", ""]

    # ------------------------------------------------------------------ literals
    def literal(self, lit: ir.Lit) -> str:
        t, v = lit.dtype, lit.value
        if isinstance(v, (tuple, list)):      # vector literal
            parts = [self.literal(ir.Lit(x, elem(t))) for x in v]
            return self.pre.construct(t, [elem(t)] * len(parts), parts)
        if t is dt.bool_:
            return "true" if v else "false"
        if t.is_complex:
            part = elem(t)
            c = complex(v)
            return self.pre.construct(t, [part, part], [self.float_lit(c.real, part),
                                                        self.float_lit(c.imag, part)])
        if t.is_float:
            return self.float_lit(float(v), t)
        v = int(v)
        if t is dt.int32:
            return str(v) if v != -2 ** 31 else "(-2147483647 - 1)"
        if t is dt.uint32:
            return f"{v}u"
        if t is dt.int64:
            return f"{v}ll" if v != -2 ** 63 else "(-9223372036854775807ll - 1)"
        if t is dt.uint64:
            return f"{v}ull"
        return f"(({t.cuda}){v}{'u' if t.kind == dt.UINT else ''})"

    def float_lit(self, v: float, t) -> str:
        if t is not dt.float64:
            with np.errstate(over="ignore"):   # values past the type's range are infinite
                v = float(t.numpy_dtype.type(v))
        if t is dt.float16:
            self.pre.fp16 = True
            if math.isnan(v) or math.isinf(v):
                return self.special_float(v, t)
            return f"__float2half({self.float_literal(v, dt.float32, 'f')})"
        s = self.float_literal(v, t, "f" if t is dt.float32 else "")
        return f"({s})" if s.startswith("-") else s

    def special_float(self, value, t):
        nan, inf, ninf, fn = _SPECIAL_FLOAT[t]
        return f"{fn}({nan if value != value else inf if value > 0 else ninf})"

    # ------------------------------------------------------------------ statements
    def lvalue(self, node) -> str:
        """`node` as an assignable expression (a reference, never a copy)."""
        if isinstance(node, ir.Var):
            return self.name(node)
        if node.op == "index":
            return f"{self.name(node.args[0])}[{self.expr(node.args[1])}]"
        if node.op == "swizzle":
            return f"{self.lvalue(node.args[0])}.{node.attrs[0]}"
        if node.op == "component":
            return _component(self, node, [self.lvalue(node.args[0]), self.expr(node.args[1])],
                              lvalue=True)
        raise TypeError(f"cannot assign to {node!r}")

    def stmt(self, s, depth: int) -> list:
        if isinstance(s, ir.Assign):
            pad = self.indent_unit * depth
            t = s.target
            if isinstance(t, ir.Expr) and t.op == "swizzle" and len(t.attrs[0]) > 1:
                # v.zx = value: CUDA vectors have no swizzles; store the parts one by one
                self._tmp += 1
                tmp = f"vkd_t{self._tmp}"
                base = self.lvalue(t.args[0])
                parts = " ".join(f"{base}.{c} = {tmp}.{'xyzw'[k]};" for k, c in enumerate(t.attrs[0]))
                value = strip_parens(self.expr(s.value))
                return [f"{pad}{{ const {self.type_name(t.dtype)} {tmp} = {value}; {parts} }}"]
            return [f"{pad}{self.lvalue(t)} = {strip_parens(self.expr(s.value))};"]
        return super().stmt(s, depth)

    # ------------------------------------------------------------------ kernel
    def _volatile(self, t) -> str:
        """Coherent buffers are volatile (loads reach L2, past a stale L1); CUDA's vector
        and struct types have no volatile copies, so scalars only."""
        if not t.is_scalar or t.is_complex or t.itemsize < 4:
            self.unsupported(f"coherent access to a buffer of {t.name} (32/64-bit scalars "
                             f"only on CUDA)")
        return "volatile "

    def _params(self) -> list:
        by_name = {p.name: p for p in self.kernel.params}
        out = []
        for b in self.info.bindings:
            v = by_name[b.name].var
            if v.kind == ir.BUFFER:
                st = dt.uint32 if v.dtype is dt.bool_ else v.dtype
                const = "" if v.id in self.written else "const "
                if v.id in self.coherent:
                    const += self._volatile(st)
                out.append(f"{const}{self.type_name(st)}* __restrict__ {self.name(v)}")
            else:
                kind = "cudaTextureObject_t" if v.sampled else "cudaSurfaceObject_t"
                out.append(f"{kind} {self.name(v)}")
        for f in self.info.uniforms:
            v = by_name[f.name].var
            tn = "unsigned int" if v.dtype is dt.bool_ else self.type_name(v.dtype)
            out.append(f"{tn} {self.name(v)}")
        return out

    def emit(self) -> EmittedKernel:
        params = self._params()
        shared = [f"    __shared__ {self.type_name(v.dtype)} {self.name(v)}[{v.length}];"
                  for v in self.kernel.shared]
        body = self.body_lines()          # rendering the body collects the prelude
        lx, ly, lz = self.pre.local_size
        lines = self.pre.lines()
        if lines:
            lines.append("")
        lines += self.report_helper()
        sig = ", ".join(params)
        if len(sig) > 80:
            sig = "\n        " + ",\n        ".join(params)
        lines += [f'extern "C" __global__ void __launch_bounds__({lx * ly * lz}) '
                  f"{self.entry_point}({sig}) {{"] + shared + body + ["}", ""]
        return EmittedKernel("\n".join(lines), self.info, self.target)
