"""Variables, arrays, atomics and barriers."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ir, ops
from ..builder import codegen_error, current
from ..variables import ShaderVariable, convert, to_node


def new(dtype, *args) -> ShaderVariable:
    """A mutable local of `dtype`, initialized from `args` (components, or one value);
    with no args it is zero-initialized."""
    b = current()
    t = dt.to_dtype(dtype)
    b.require_dtype(t)
    if not args:
        init = convert(ir.Lit(0, dt.int32), t) if not t.is_complex else ir.Lit(0j, t)
    elif len(args) == 1:
        init = convert(to_node(args[0], t), t)
    else:
        base = (dt.float64 if t is dt.complex128 else dt.float32) if t.is_complex else t.base
        parts = [to_node(a, base) for a in args]
        want = 2 if t.is_complex else t.count
        if sum(p.dtype.count for p in parts) != want:
            raise TypeError(f"{t.name} needs {want} components, got {len(args)} arguments")
        init = ops.make("construct", *[convert(p, dt.with_base(p.dtype, base)) for p in parts],
                        dtype=t)
    return ShaderVariable(b, b.bind(init, mutable=True))


def _typed_new(t):
    def f(*args):
        return new(t, *args)
    f.__name__ = f"new_{t.name}"
    f.__doc__ = f"A mutable {t.name} variable."
    return f


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


def shared_buffer(dtype, size: int) -> ShaderVariable:
    """A workgroup-shared array of `size` elements (checked against the device's limit
    when the shader is built)."""
    b = current()
    t = dt.to_dtype(dtype)
    b.require_dtype(t)
    if t is dt.bool_:
        raise TypeError("shared arrays of bool are not supported; use uint32")
    sv = ShaderVariable(b, b.add_shared(t, size))
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


# ----------------------------------------------------------------------------- barriers

def barrier():
    """Workgroup execution barrier that also orders shared-memory accesses. Every
    invocation of the workgroup must reach it (no early return before it)."""
    current().emit(ir.Eval(ops.make("barrier")))


def memory_barrier(scope: str = "all"):
    """Order this invocation's memory accesses: scope "all", "buffer", "shared" or "image"."""
    if scope not in ("all", "buffer", "shared", "image"):
        raise ValueError(f"scope must be 'all', 'buffer', 'shared' or 'image', got {scope!r}")
    current().emit(ir.Eval(ops.make("memory_barrier", attrs=(scope,))))


def memory_barrier_shared():
    memory_barrier("shared")


def memory_barrier_buffer():
    memory_barrier("buffer")


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


def print_vars(*args, sep: str = " "):
    """printf of several scalars with a default format per type."""
    fmts = []
    for a in args:
        t = to_node(a).dtype
        fmts.append("%f" if t.base.is_float else ("%u" if t.kind == dt.UINT else "%d"))
    printf(sep.join(fmts) + "\n", *args)
