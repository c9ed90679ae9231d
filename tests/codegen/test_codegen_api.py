"""The user-facing codegen API: error messages, launch-size forms, numpy-like typing,
get_src, and that importing the codegen layer pulls in no GPU package."""
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.codegen.abbreviations import Buff, Const, b1, f16, f32, f64, i8, i16, i32, \
    i64, u8, u16, u32, u64, v3
from vkdispatch.codegen import ir
from vkdispatch.codegen.builder import Builder

HERE = os.path.basename(__file__)


def _line_of(marker: str) -> int:
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return n
    raise AssertionError(marker)


def _add_bias():
    @vd.shader("buf.size")
    def add_bias(buf: Buff[f32], bias: Const[f32]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] + bias
    return add_bias


# ============================================================================ call errors

def test_wrong_argument_count_and_names(backend):
    add_bias = _add_bias()
    buf = vd.asbuffer(np.zeros(10, np.float32))
    with pytest.raises(TypeError, match=r"takes 2 argument\(s\) \(buf, bias\), got 3"):
        add_bias(buf, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"missing argument\(s\) \['bias'\]"):
        add_bias(buf)
    with pytest.raises(TypeError, match="has no parameter 'scale'"):
        add_bias(buf, bias=1.0, scale=2.0)
    with pytest.raises(TypeError, match="multiple values for argument 'buf'"):
        add_bias(buf, 1.0, buf=buf)


def test_wrong_argument_types(backend):
    add_bias = _add_bias()
    ints = vd.asbuffer(np.zeros(10, np.int32))
    floats = vd.asbuffer(np.zeros(10, np.float32))
    with pytest.raises(TypeError, match=r"'buf' is Buff\[float32\] and needs a vd.Buffer, "
                                        r"got ndarray"):
        add_bias(np.zeros(10, np.float32), 1.0)
    with pytest.raises(TypeError, match=r"'buf' is Buff\[float32\] but the buffer's dtype is "
                                        r"int32"):
        add_bias(ints, 1.0)
    with pytest.raises(TypeError, match="'bias' needs a float32 value"):
        add_bias(floats, "one")
    with pytest.raises(TypeError, match="'bias'"):
        add_bias(floats, floats)
    with pytest.raises(TypeError, match="'bias' is float32; got a complex value"):
        add_bias(floats, 1 + 2j)


def test_wrong_uniform_shape(backend):
    @vd.shader("buf.size")
    def scale3(buf: Buff[v3], s: Const[v3]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] * s

    buf = vd.asbuffer(np.zeros((4, 3), np.float32), vd.vec3)
    with pytest.raises(ValueError, match=r"'s' is vec3 \(3 values\); got 2 value\(s\)"):
        scale3(buf, (1.0, 2.0))


# ============================================================================ tracing errors

def test_python_if_names_the_users_line(dummy):
    @vd.shader("buf.size")
    def uses_python_if(buf: Buff[f32]):
        i = vc.global_invocation_id().x
        if buf[i] > 0:  # marker: python-if
            buf[i] = 0.0

    with pytest.raises(vd.CodegenError) as info:
        uses_python_if.get_src()
    msg = str(info.value)
    assert f"{HERE}:{_line_of('marker: python-if')}" in msg, msg
    assert "vc.if_block" in msg


@pytest.mark.parametrize("body", [
    lambda x: x > 0 and x < 1,
    lambda x: not x,
    lambda x: [v for v in x],
    lambda x: range(10)[x],
], ids=["and", "not", "iterate", "python-index"])
def test_python_control_flow_on_shader_values(dummy, body):
    @vd.shader("buf.size")
    def misuse(buf: Buff[f32]):
        body(buf[vc.global_invocation_id().x])

    with pytest.raises(vd.CodegenError, match=HERE):
        misuse.get_src()


def test_missing_annotation_names_the_parameter():
    with pytest.raises(TypeError, match="parameter 'bias' needs a type annotation"):
        @vd.shader("buf.size")
        def no_annotation(buf: Buff[f32], bias):
            pass
    with pytest.raises(TypeError, match="parameter 'n' needs a type annotation.*got <class 'int'>"):
        @vd.shader("buf.size")
        def wrong_annotation(buf: Buff[f32], n: int):
            pass


def test_returning_a_value_is_an_error(dummy):
    @vd.shader("buf.size")
    def returns(buf: Buff[f32]):
        return buf[vc.global_invocation_id().x]

    with pytest.raises(TypeError, match="returned .* must return None"):
        returns.get_src()


def test_else_without_if(dummy):
    @vd.shader("buf.size")
    def lone_else(buf: Buff[f32]):
        buf[0] = 1.0
        with vc.else_block():
            buf[1] = 2.0

    @vd.shader("buf.size")
    def double_else(buf: Buff[f32]):
        with vc.if_block(buf[0] > 0):
            buf[1] = 1.0
        with vc.else_block():
            buf[1] = 2.0
        with vc.else_block():
            buf[1] = 3.0

    with pytest.raises(vd.CodegenError, match="must directly follow an if_block"):
        lone_else.get_src()
    with pytest.raises(vd.CodegenError, match="already has an else_block"):
        double_else.get_src()


@pytest.mark.parametrize("assign", [
    lambda buf, vec, bias: buf[0].set(1.0),
    lambda buf, vec, bias: bias.set(2.0),
    lambda buf, vec, bias: setattr(vec[0], "x", 1.0),
    lambda buf, vec, bias: vec[0].__setitem__(1, 1.0),
], ids=["loaded-value", "uniform", "swizzle", "component"])
def test_assigning_to_read_only_values(dummy, assign):
    @vd.shader("buf.size")
    def read_only(buf: Buff[f32], vec: Buff[v3], bias: Const[f32]):
        assign(buf, vec, bias)

    with pytest.raises(vd.CodegenError, match=r"vc\.new"):
        read_only.get_src()


def test_codegen_outside_a_shader():
    with pytest.raises(vd.CodegenError, match="only be called while a shader is being traced"):
        vc.global_invocation_id()


def test_subgroup_op_without_device_support(dummy):
    @vd.shader("buf.size")
    def reduce(buf: Buff[f32]):
        i = vc.global_invocation_id().x
        buf[i] = vc.subgroup_add(buf[i])

    @vd.shader("buf.size")
    def lane(buf: Buff[u32]):
        buf[vc.global_invocation_id().x] = vc.subgroup_invocation_id()

    vd.set_dummy_context_params(subgroup_ops=[])
    with pytest.raises(vd.UnsupportedFeatureError,
                       match=r"vc.subgroup_add needs subgroup 'arithmetic' operations, which "
                             r"device 'vkdispatch dummy device' \(dummy\) does not support"):
        reduce.get_src()
    with pytest.raises(vd.UnsupportedFeatureError, match="subgroup 'basic'"):
        lane.get_src()
    vd.set_dummy_context_params(subgroup_ops=["basic", "arithmetic"])
    assert "subgroupAdd" in reduce.get_src()


def test_dtype_without_device_support(dummy):
    @vd.shader("buf.size")
    def doubles(buf: Buff[f64]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] * 2.0

    vd.set_dummy_context_params(float64=False)
    with pytest.raises(vd.UnsupportedFeatureError, match="type float64 needs float64"):
        doubles.get_src()


# ============================================================================ launch geometry

def _geometry(shader, device, sizes: dict, **kw):
    bound = {name: SimpleNamespace(size=n, shape=(n,) if isinstance(n, int) else n)
             for name, n in sizes.items()}
    return shader.launch_geometry(bound, device, **kw)


def _kernel(**decorator):
    @vd.shader(**decorator)
    def fill(buf: Buff[f32]):
        buf[vc.global_invocation_id().x] = 1.0
    return fill


def test_exec_size_forms(dummy):
    dev = dummy
    assert _geometry(_kernel(exec_size="buf.size"), dev, {"buf": 1000}) == \
        ((4, 1, 1), (1000, 1, 1), (256, 1, 1))
    assert _geometry(_kernel(exec_size=lambda a: (a.buf.size, 3)), dev, {"buf": 100}) == \
        ((7, 1, 1), (100, 3, 1), (16, 16, 1))
    assert _geometry(_kernel(exec_size=(300, 20)), dev, {"buf": 1}) == \
        ((19, 2, 1), (300, 20, 1), (16, 16, 1))
    assert _geometry(_kernel(exec_size=77), dev, {"buf": 1}) == ((1, 1, 1), (77, 1, 1), (256, 1, 1))
    assert _geometry(_kernel(workgroups=(4, 2), local_size=(64, 1, 1)), dev, {"buf": 1}) == \
        ((4, 2, 1), None, (64, 1, 1))
    # the call can override the decorator's size
    assert _geometry(_kernel(exec_size="buf.size"), dev, {"buf": 1000}, exec_size=5)[1] == \
        (5, 1, 1)


def test_exec_size_errors(dummy):
    with pytest.raises(ValueError, match="exec_size or workgroups, not both"):
        _kernel(exec_size=10, workgroups=(1, 1, 1))
    with pytest.raises(ValueError, match=r"cannot evaluate exec_size 'buff.size' over the "
                                         r"arguments \['buf'\]"):
        _geometry(_kernel(exec_size="buff.size"), dummy, {"buf": 10})
    with pytest.raises(ValueError, match="has no launch size"):
        _geometry(_kernel(), dummy, {"buf": 10})
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        _geometry(_kernel(exec_size=(1, 2, 3, 4)), dummy, {"buf": 10})
    with pytest.raises(vd.DeviceLimitError, match="max_workgroup_invocations"):
        _geometry(_kernel(exec_size=10, local_size=(1024, 2, 1)), dummy, {"buf": 10})


def test_decorator_forms(dummy):
    @vd.shader
    def bare(buf: Buff[f32]):
        buf[0] = 1.0

    assert isinstance(bare, vd.ShaderFunction)
    assert bare.exec_size is None and "bare" in repr(bare)
    assert "Buff[float32]" in repr(bare)


# ============================================================================ get_src

def test_get_src_line_numbers(dummy):
    add_bias = _add_bias()
    plain = add_bias.get_src()
    numbered = add_bias.get_src(line_numbers=True).splitlines()
    lines = plain.splitlines()
    assert len(numbered) == len(lines) > 5
    width = len(str(len(lines)))
    for n, (got, line) in enumerate(zip(numbered, lines), 1):
        assert got == f"{n:>{width}} | {line}"
    assert re.match(r"^ *1 \| #version 450$", numbered[0])


@pytest.mark.parametrize("target,needle", [("glsl", "void main()"), ("cuda", "__global__"),
                                           ("opencl", "__kernel")])
def test_get_src_targets(dummy, target, needle):
    import importlib.util
    if importlib.util.find_spec(f"vkdispatch.codegen.emit.{target}") is None:
        pytest.skip(f"the {target} emitter does not exist yet")
    add_bias = _add_bias()
    assert needle in add_bias.get_src(target=target)
    vc.set_codegen_backend(target)
    assert vc.get_codegen_backend() == target
    assert add_bias.get_src() == add_bias.get_src(target=target)
    with pytest.raises(ValueError, match="codegen backend must be one of"):
        vc.set_codegen_backend("metal")


# ============================================================================ typing

_TYPES = [b1, i8, i16, i32, i64, u8, u16, u32, u64, f16, f32, f64]


def _expected_promotion(a, b):
    """numpy's promote_types, except that operands narrower than 64 bits never give a
    64-bit result (int32 with uint32 -> int32, int32 with float32 -> float32), since GPUs
    run 64-bit types slowly or not at all."""
    r = dt.from_numpy(np.promote_types(a.numpy_dtype, b.numpy_dtype))
    if a.itemsize < 8 and b.itemsize < 8:
        return {dt.int64: dt.int32, dt.float64: dt.float32}.get(r, r)
    return r


def _trace_types(fn, *types):
    """Run `fn` on symbolic values of `types` in a scratch builder; return its result."""
    b = Builder("types")
    with b.active():
        args = [vc.ShaderVariable(b, b.new_var(t, ir.UNIFORM, name=f"p{k}"))
                for k, t in enumerate(types)]
        return fn(*args)


@pytest.mark.parametrize("a", _TYPES, ids=lambda t: t.name)
def test_binary_promotion_follows_numpy(a):
    for b in _TYPES:
        got = _trace_types(lambda x, y: x + y, a, b).dtype
        want = dt.int32 if (a is dt.bool_ and b is dt.bool_) else _expected_promotion(a, b)
        assert got is want, f"{a.name} + {b.name} gave {got.name}, expected {want.name}"


@pytest.mark.parametrize("t,scalar,want", [
    (i32, 1, i32), (i8, 3, i8), (u16, 7, u16), (u32, 2, u32), (b1, 1, i32), (b1, True, i32),
    (i32, 1.5, f32), (u8, 0.5, f32), (i64, 2.5, f64), (f16, 3.3, f16), (f32, 1.0, f32),
    (f64, 1.0, f64), (f32, 1j, dt.complex64), (f64, 2j, dt.complex128),
    (f32, np.float64(1.0), f64), (i8, np.int16(1), i16),
], ids=str)
def test_python_scalars_are_weak(t, scalar, want):
    """NEP 50: a python scalar takes the other operand's type (a narrow int with a python
    float gives float32 here; numpy's float64 is slow on GPUs). numpy scalars are strong.
    bool + bool adds as int32 (numpy's bool add is a logical or)."""
    got = _trace_types(lambda x: x + scalar, t).dtype
    assert got is want, f"{t.name} + {scalar!r} gave {got.name}, expected {want.name}"


@pytest.mark.parametrize("op,want", [
    (lambda x, y: x / y, f32), (lambda x, y: x // y, i32), (lambda x, y: x % y, i32),
    (lambda x, y: x ** y, f32), (lambda x, y: x < y, b1), (lambda x, y: vc.sqrt(x), f32),
    (lambda x, y: vc.atan2(x, y), f32), (lambda x, y: vc.min(x, y), i32),
], ids=["truediv", "floordiv", "mod", "pow", "lt", "sqrt", "atan2", "min"])
def test_int_operand_result_types(op, want):
    assert _trace_types(op, i32, i32).dtype is want


@pytest.mark.parametrize("t,scalar", [(u32, -1), (u8, 300), (i8, 200)], ids=str)
def test_python_int_out_of_range_raises(t, scalar):
    with pytest.raises(OverflowError):
        _trace_types(lambda x: x + scalar, t)


def test_type_errors_name_the_operands():
    with pytest.raises(TypeError, match="needs integer operands, got float32 and int32"):
        _trace_types(lambda x, y: x & y, f32, i32)
    with pytest.raises(TypeError, match="cannot negate uint32"):
        _trace_types(lambda x: -x, u32)
    with pytest.raises(TypeError, match="complex numbers are not ordered"):
        _trace_types(lambda x, y: x < y, dt.complex64, f32)
    with pytest.raises(TypeError, match="cannot combine vectors vec3 and vec2"):
        _trace_types(lambda x, y: x + y, v3, dt.vec2)
    with pytest.raises(TypeError, match="cannot use 'a'"):
        _trace_types(lambda x: x + "a", f32)


# ============================================================================ imports

def test_import_pulls_in_no_gpu_package():
    code = ("import sys, vkdispatch, vkdispatch.codegen; "
            "print(sorted(m for m in ('vulkan', 'cuda', 'pyopencl', 'cffi') if m in sys.modules))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
