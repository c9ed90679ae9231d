"""Variables, arrays, atomics and barriers."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ir, ops
from ..builder import codegen_error, current
from ..variables import ShaderVariable, convert, load_node, to_node


def new(dtype, *args, var_name=None) -> ShaderVariable:
    """A mutable local of `dtype`, initialized from `args` (components, or one value);
    with no args it is zero-initialized. `var_name` names it in the source."""
    b = current()
    return ShaderVariable(b, b.bind(construct(b, dtype, args), mutable=True, name=var_name))


def construct(b, dtype, args):
    """The IR value of `dtype` built from `args` (components, or one value to convert;
    none: zero)."""
    t = dt.to_dtype(dtype)
    b.require_dtype(t)
    if not args:
        init = convert(ir.Lit(0, dt.int32), t) if not t.is_complex else ir.Lit(0j, t)
    elif len(args) == 1:
        init = convert(to_node(args[0], t), t)
    else:
        base = dt.complex_part(t) if t.is_complex else t.base
        parts = [to_node(a, base) for a in args]
        want = 2 if t.is_complex else t.count
        if sum(p.dtype.count for p in parts) != want:
            raise TypeError(f"{t.name} needs {want} components, got {len(args)} arguments")
        init = ops.make("construct", *[convert(p, dt.with_base(p.dtype, base)) for p in parts],
                        dtype=t)
    return init


def _typed_new(t, name=None):
    def f(*args, var_name=None):
        return new(t, *args, var_name=var_name)
    f.__name__ = name or f"new_{t.name}"
    f.__doc__ = f"A mutable {t.name} variable."
    return f


new_register = new   # vkdispatch 0.1's names: new_<type>_register(*args, var_name=None)
_REGISTER_NAMES = {"float16": dt.float16, "float": dt.float32, "float64": dt.float64,
                   "int16": dt.int16, "int": dt.int32, "int64": dt.int64, "uint16": dt.uint16,
                   "uint": dt.uint32, "uint64": dt.uint64, "complex": dt.complex64,
                   "complex32": dt.complex32, "complex64": dt.complex64, "complex128": dt.complex128,
                   **{v: dt.from_name(v) for v in (
                       "hvec2", "hvec3", "hvec4", "vec2", "vec3", "vec4", "dvec2", "dvec3",
                       "dvec4", "ihvec2", "ihvec3", "ihvec4", "ivec2", "ivec3", "ivec4",
                       "uhvec2", "uhvec3", "uhvec4", "uvec2", "uvec3", "uvec4", "mat2", "mat3",
                       "mat4")}}
REGISTERS = {f"new_{k}_register": _typed_new(t, f"new_{k}_register")
             for k, t in _REGISTER_NAMES.items()}


def new_complex_register(*args, var_name=None) -> ShaderVariable:
    """0.1's new_complex_register: a mutable complex variable of the type its arguments give
    (complex64 with none; see casts.complex_type_of)."""
    from .casts import complex_type_of
    return new(complex_type_of(args), *args, var_name=var_name)


REGISTERS["new_complex_register"] = new_complex_register


new_float = _typed_new(dt.float32)
new_double = _typed_new(dt.float64)
new_int = _typed_new(dt.int32)
new_uint = _typed_new(dt.uint32)
new_bool = _typed_new(dt.bool_)
new_complex = _typed_new(dt.complex64)
new_vec2 = _typed_new(dt.vec2)
new_vec3 = _typed_new(dt.vec3)
new_vec4 = _typed_new(dt.vec4)
new_ivec2 = _typed_new(dt.ivec2)
new_ivec3 = _typed_new(dt.ivec3)
new_ivec4 = _typed_new(dt.ivec4)
new_uvec2 = _typed_new(dt.uvec2)
new_uvec3 = _typed_new(dt.uvec3)
new_uvec4 = _typed_new(dt.uvec4)
new_mat2 = _typed_new(dt.mat2)
new_mat3 = _typed_new(dt.mat3)
new_mat4 = _typed_new(dt.mat4)


def shared_buffer(dtype, size: int, var_name=None) -> ShaderVariable:
    """A workgroup-shared array of `size` elements (checked against the device's limit
    when the shader is built); `var_name` names it in the source."""
    b = current()
    t = dt.to_dtype(dtype)
    b.require_dtype(t)
    if t is dt.bool_:
        raise TypeError("shared arrays of bool are not supported; use uint32")
    sv = ShaderVariable(b, b.add_shared(t, size, var_name))
    sv.scope = b.root_scope      # shared arrays belong to the whole kernel
    return sv


def local_array(dtype, size: int) -> ShaderVariable:
    """A per-invocation array of `size` elements."""
    b = current()
    t = dt.to_dtype(dtype)
    if not isinstance(size, int) or size <= 0:
        raise codegen_error(f"local array size must be a positive int, got {size!r}")
    if t is dt.bool_:
        raise TypeError("local arrays of bool are not supported; use uint32")
    var = b.new_var(t, ir.LOCAL_ARRAY, length=size, mutable=True)
    b.emit(ir.Declare(var, None))
    return ShaderVariable(b, var)


# ----------------------------------------------------------------------------- atomics

def _atomic_target(target):
    if not isinstance(target, ShaderVariable) or target.node is None or target.ref is None:
        raise codegen_error("atomics take a buffer or shared-array element, e.g. "
                            "vc.atomic_add(buf[i], 1)")
    ref = target.ref
    array = ref.args[0]
    if array.kind not in (ir.BUFFER, ir.SHARED):
        raise codegen_error("atomics need a buffer or shared-array element")
    return ref


def _check_atomic_type(b, ref, op):
    t = ref.dtype
    if t in (dt.int32, dt.uint32):
        return
    if t in (dt.int64, dt.uint64):
        b.require("int64_atomics", f"{op} on {t.name}")
        return
    if t is dt.float32 and op in ("atomic_add", "atomic_exchange"):
        b.require("float32_atomic_add", f"{op} on float32")
        return
    if t is dt.float64 and op == "atomic_add":
        b.require("float64_atomic_add", f"{op} on float64")
        return
    raise TypeError(f"{op} is not available for {t.name} (int32/uint32"
                    f"{', 64-bit ints' if op != 'atomic_add' else ', 64-bit ints, float32/64'})")


def _atomic(op):
    def f(target, value):
        ref = _atomic_target(target)
        b = target.builder
        _check_atomic_type(b, ref, op)
        node = ops.make(op, ref, convert(to_node(value, ref.dtype), ref.dtype))
        return ShaderVariable(b, b.bind(node))
    f.__name__ = op
    f.__doc__ = f"{op.replace('_', ' ')} on a buffer/shared element; returns the old value."
    return f


atomic_add = _atomic("atomic_add")
atomic_min = _atomic("atomic_min")
atomic_max = _atomic("atomic_max")
atomic_and = _atomic("atomic_and")
atomic_or = _atomic("atomic_or")
atomic_xor = _atomic("atomic_xor")
atomic_exchange = _atomic("atomic_exchange")


def atomic_compare_exchange(target, compare, value):
    """Store `value` if the element equals `compare`; returns the old value."""
    ref = _atomic_target(target)
    b = target.builder
    _check_atomic_type(b, ref, "atomic_compare_exchange")
    node = ops.make("atomic_compare_exchange", ref,
                    convert(to_node(compare, ref.dtype), ref.dtype),
                    convert(to_node(value, ref.dtype), ref.dtype))
    return ShaderVariable(b, b.bind(node))


def coherent_read(element) -> ShaderVariable:
    """Read a buffer element past this workgroup's caches, so it sees what other
    workgroups wrote before a memory_barrier("buffer") and an atomic that this one then
    observed (the "last workgroup finishes" pattern). Its whole buffer becomes coherent
    (GLSL `coherent`, CUDA/OpenCL `volatile`; CUDA: 32/64-bit scalars only)."""
    if not isinstance(element, ShaderVariable) or element.ref is None \
            or element.ref.args[0].kind != ir.BUFFER:
        raise codegen_error("coherent_read takes a buffer element, e.g. "
                            "vc.coherent_read(buf[i])")
    ref = element.ref
    node = ops.make("index", *ref.args, dtype=ref.dtype, attrs=ref.attrs + (ir.COHERENT,))
    b = element.builder
    return ShaderVariable(b, b.bind(load_node(node)))


# ----------------------------------------------------------------------------- barriers

def barrier():
    """Workgroup execution barrier that also orders shared-memory accesses. Every
    invocation of the workgroup must reach it (no early return before it)."""
    current().emit(ir.Eval(ops.make("barrier")))


def memory_barrier(scope: str = "all"):
    """Order this invocation's memory accesses: scope "all", "buffer", "shared", "image",
    or "group" (all kinds, as seen by the invocation's own workgroup)."""
    if scope not in ops.MEMORY_SCOPES:
        raise ValueError(f"scope must be one of {list(ops.MEMORY_SCOPES)}, got {scope!r}")
    current().emit(ir.Eval(ops.make("memory_barrier", attrs=(scope,))))


def memory_barrier_shared():
    memory_barrier("shared")


def memory_barrier_buffer():
    memory_barrier("buffer")


def memory_barrier_image():
    memory_barrier("image")


def group_memory_barrier():
    """GLSL groupMemoryBarrier: order accesses of every kind within the workgroup."""
    memory_barrier("group")


# ----------------------------------------------------------------------------- debugging

def printf(fmt: str, *args):
    """C-style printf from the kernel (CUDA/OpenCL printf; GLSL debugPrintfEXT, which shows
    with validation layers on). Use %d %u %f %x; vectors are not expanded."""
    b = current()
    if not isinstance(fmt, str):
        raise TypeError("printf format must be a str")
    nodes = [to_node(a) for a in args]
    for n in nodes:
        if not n.dtype.is_scalar or n.dtype.is_complex:
            raise TypeError(f"printf arguments must be real scalars, got {n.dtype.name}")
    b.emit(ir.Eval(ops.make("printf", *nodes, attrs=(fmt,))))


def print_vars(*args, sep: str = " ", separator=None):
    """printf of several values with a default format per type; str arguments are
    printed as they are, vectors and complex numbers component by component.
    `separator` is vkdispatch 0.1's name for `sep`."""
    if separator is not None:
        sep = separator
    fmts, values = [], []
    for a in args:
        if isinstance(a, str):
            fmts.append(a.replace("%", "%%"))
            continue
        v = a if isinstance(a, ShaderVariable) else ShaderVariable(current(), to_node(a))
        t = v.dtype
        if not t.is_scalar and not isinstance(v.node, ir.Var):   # computed once, printed in parts
            v = ShaderVariable(v.builder, v.builder.bind(v.node))
        if t.is_matrix:           # row by row, as 0.1 printed them
            n = t.columns
            row = "[" + ", ".join(["%f"] * n) + "]"
            fmts.append("\n" + "\n".join([row] * n) + "\n")
            values += [v[c][r] for r in range(n) for c in range(n)]
            continue
        parts = ([v.real, v.imag] if t.is_complex else
                 [v[k] for k in range(t.count)] if t.is_vector else [v])
        one = _format(parts[0].dtype)
        fmts.append(one if len(parts) == 1 else "(" + ", ".join([one] * len(parts)) + ")")
        values += parts
    printf(sep.join(fmts) + "\n", *values)


def _format(t) -> str:
    if t.is_float:
        return "%f"
    if t.itemsize == 8:
        return "%llu" if t.kind == dt.UINT else "%lld"
    return "%u" if t.kind == dt.UINT else "%d"


def comment(text, preceding_new_line: bool = True):
    """A comment in the generated source (`preceding_new_line` is accepted for
    vkdispatch 0.1 code; comments always start on their own line)."""
    current().emit(ir.Eval(ops.make("comment", attrs=(str(text),))))
