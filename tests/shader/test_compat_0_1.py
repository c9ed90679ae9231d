"""Code written for vkdispatch 0.1 runs unchanged: its shader tutorial's snippets (written
fresh from docs/tutorials/shader_tutorial.rst), its shader arguments (flags, explicit
annotations, defaults), ShaderSource / ShaderBuildError, `buf.shape` in a kernel and
its dtype helpers."""
import dataclasses
import pickle

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.base.errors import ShaderCompileError
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the tutorial's import


def test_tutorial_kernels_run(backend):
    # @vd.shader("buff.size") with a Const, read(0)
    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    assert isinstance(add_scalar.build(), vd.CompiledKernel)        # 0.1's build()
    assert "bias" in add_scalar.source and "bias" in add_scalar.get_src(build=False)
    arr = np.arange(32, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 1.5)
    np.testing.assert_array_equal(buff.read(0), arr + 1.5)
    add_scalar(buff, 1.0, exec_size=buff.size)
    np.testing.assert_array_equal(buff.read(0), arr + 2.5)

    # to_register, and `x[:] = ...` stores into a register
    @vd.shader("buff.size")
    def register_example(buff: Buff[f32]):
        tid = vc.global_invocation_id().x
        expr = vc.sin(tid * 0.1)
        cached = expr.to_register("cached")
        buff[tid] = cached * 2.0 + cached / 3.0

    @vd.shader("buff.size")
    def register_store(buff: Buff[f32]):
        tid = vc.global_invocation_id().x
        value = buff[tid].to_register("value")
        value[:] = value * 0.5 + 1.0
        buff[tid] = value

    # statement-style control flow
    @vd.shader("buff.size")
    def threshold(buff: Buff[f32], cutoff: Const[f32]):
        tid = vc.global_invocation_id().x
        vc.if_statement(buff[tid] > cutoff)
        buff[tid] = 1.0
        vc.else_statement()
        buff[tid] = 0.0
        vc.end()

    def make_unrolled_sum(unroll: int):
        @vd.shader("dst.size")
        def unrolled_sum(src: Buff[f32], dst: Buff[f32]):
            tid = vc.global_invocation_id().x
            base = (tid * unroll).to_register("base")
            acc = vc.new_float_register(0.0)
            for i in range(unroll):
                acc += src[base + i]
            dst[tid] = acc
        return unrolled_sum

    x = np.linspace(-1, 1, 64, dtype=np.float32)
    b = vd.asbuffer(np.zeros(64, np.float32))
    register_example(b)
    t = np.arange(64, dtype=np.float32)
    s = np.sin(t * np.float32(0.1))
    np.testing.assert_allclose(b.read(0), s * 2 + s / 3, rtol=1e-5, atol=1e-6)
    b = vd.asbuffer(x)
    register_store(b)
    np.testing.assert_allclose(b.read(0), x * 0.5 + 1.0, rtol=1e-6)
    b = vd.asbuffer(x)
    threshold(b, 0.25)
    np.testing.assert_array_equal(b.read(0), np.where(x > 0.25, 1.0, 0.0))
    src = vd.asbuffer(x)
    dst = vd.asbuffer(np.zeros(16, np.float32))
    make_unrolled_sum(4)(src, dst)
    np.testing.assert_allclose(dst.read(0), x.reshape(16, 4).sum(1), rtol=1e-5, atol=1e-6)


def test_python_if_on_a_shader_value_raises():
    vd.initialize(backend="dummy")
    try:
        @vd.shader("buff.size")
        def bad_branch(buff: Buff[f32]):
            tid = vc.global_invocation_id().x
            if tid < 10:
                buff[tid] = 1.0

        with pytest.raises(ValueError, match="no Python truth value") as info:   # as 0.1
            bad_branch.get_src()
        assert isinstance(info.value, vd.CodegenError)
    finally:
        vd.shutdown()


def test_buffer_shape_signature_flags_and_defaults(backend):
    @vd.shader(exec_size=lambda args: args.data.size)
    def shapes(data: Buff[i32], out: Buff[i32]):
        tid = vc.global_invocation_id().x
        vc.if_statement(tid == 0)
        for k in range(4):
            out[k] = data.shape[k]
        out[4] = vc.unravel_index(vc.to_uvec2(2, 3), data.shape)      # 0.1: first 2 axes
        out[5] = vc.ravel_index(37, data.shape).y                     # (1, 4, 1) of (3, 5, 4)
        vc.end()

    data = vd.asbuffer(np.zeros((3, 5, 2, 2), np.int32))
    out = vd.asbuffer(np.zeros(6, np.int32))
    shapes(data, out)
    np.testing.assert_array_equal(out.read(0), [3, 5, 4, 60, 13, 4])

    def body(a, b, scale):
        tid = vc.global_invocation_id().x
        a[tid] = b[tid] * scale

    scaled = vd.shader(workgroups=(1, 1, 1), local_size=(8, 1, 1),
                       flags=vc.ShaderFlags.NO_EXEC_BOUNDS,
                       arg_type_annotations=[Buff[f32], Buff[f32], Const[f32]],
                       arg_names=["dst", "src", "scale"],
                       arg_defaults=[None, None, 3.0])(body)
    assert [p.name for p in scaled.params] == ["dst", "src", "scale"]
    src = vd.asbuffer(np.arange(8, dtype=np.float32))
    dst = vd.asbuffer(np.zeros(8, np.float32))
    scaled(dst, src)                      # `scale` from arg_defaults
    np.testing.assert_array_equal(dst.read(0), np.arange(8) * 3.0)
    scaled(dst, src=src, scale=0.5)
    np.testing.assert_array_equal(dst.read(0), np.arange(8) * 0.5)


def test_source_printing_and_shader_source(dummy, capsys):
    vc.set_codegen_backend("cuda")

    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    src = add_scalar.get_src()
    assert isinstance(src, vd.ShaderSource) and isinstance(src, str)
    assert src.name == "add_scalar" and src.code == str(src)
    assert 'extern "C" __global__' in src.code and len(src.local_size) == 3
    assert repr(src).startswith("// ====== Source Code for 'add_scalar', workgroup_size:")
    again = pickle.loads(pickle.dumps(src))
    assert again == src and again.name == src.name and again.local_size == src.local_size
    print(add_scalar)
    shown = capsys.readouterr().out
    assert "Source Code for 'add_scalar'" in shown and " 1 | " in shown
    add_scalar.print_src()
    assert capsys.readouterr().out.strip() == src.strip()
    vc.set_shader_print_line_numbers(True)
    try:
        assert vc.get_shader_print_line_numbers() is True
        assert " 1 | " in add_scalar.get_src()
    finally:
        vc.set_shader_print_line_numbers(False)
    with pytest.raises(TypeError, match="True or False"):
        vc.set_shader_print_line_numbers(1)


def test_shader_build_error_carries_source_and_log(dummy, monkeypatch):
    from vkdispatch.shader import shader_function

    def failing_build(ctx, kernel, options):
        raise ShaderCompileError("glslang", "void main() {\n  broken\n}", "ERROR: 2: broken")
    monkeypatch.setattr(shader_function, "build_kernel", failing_build)

    @vd.shader("buff.size")
    def k(buff: Buff[f32]):
        buff[vc.global_invocation_id().x] = 1.0

    with pytest.raises(vd.ShaderBuildError) as info:
        k.build(vd.get_context(), (64, 1, 1), True)
    err = info.value
    assert isinstance(err, ShaderCompileError) and isinstance(err, RuntimeError)
    assert err.compiler_log == "ERROR: 2: broken"
    assert err.shader_source.name == "k" and "   2:   broken" in err.shader_source.code
    assert "failed to build shader 'k'" in str(err)


def test_signature_errors_name_the_argument():
    def f(a, b):
        pass
    with pytest.raises(ValueError, match="arg_names has 1"):
        vd.shader("a.size", arg_type_annotations=[Buff[f32], Buff[f32]], arg_names=["a"])(f)
    with pytest.raises(ValueError, match="identifiers"):
        vd.shader("a.size", arg_type_annotations=[Buff[f32], Buff[f32]],
                  arg_names=["a", "no good"])(f)
    with pytest.raises(ValueError, match="need arg_type_annotations"):
        vd.shader("a.size", arg_names=["a", "b"])(f)
    with pytest.raises(TypeError, match="parameter 'b' needs a type annotation"):
        vd.shader("a.size", arg_type_annotations=[Buff[f32], f32])(f)
    with pytest.raises(TypeError, match="complex32 uniforms"):
        Const[c32]


def test_dtype_helpers_match_0_1():
    assert isinstance(vd.float32, vd.dtype) and dt.is_dtype(vd.vec2)
    assert dt.is_scalar(vd.int32) and not dt.is_scalar(vd.complex64)
    assert dt.is_complex(vd.complex32) and dt.is_vector(vd.uhvec3) and dt.is_matrix(vd.mat3)
    assert dt.is_float_dtype(vd.hvec3) and dt.is_integer_dtype(vd.ihvec2)
    assert dt.to_vector(vd.int16, 4) is vd.ihvec4 and dt.to_vector(vd.float32, 1) is vd.float32
    with pytest.raises(ValueError, match="count must be an int from 1 to 4"):
        dt.to_vector(vd.float32, 5)
    assert dt.from_numpy_dtype(np.uint16) is vd.uint16
    assert dt.to_numpy_dtype(vd.complex64) is np.complex64
    with pytest.raises(ValueError, match="no numpy scalar type"):
        dt.to_numpy_dtype(vd.vec3)
    with pytest.raises(ValueError):
        dt.from_numpy_dtype(np.dtype("U3"))
    assert dt.complex_from_float(vd.float16) is vd.complex32
    assert dt.make_floating_dtype(vd.uvec3) is vd.vec3
    assert dt.make_floating_dtype(vd.int16) is vd.float16
    assert dt.cross_type(vd.vec3, vd.float64) is vd.dvec3
    assert dt.cross_multiply_type(vd.mat4, vd.vec4) is vd.vec4
    assert dt.vector_size(vd.hvec3) == 3
    assert dt.cross_vector(vd.vec3, vd.int32) is vd.vec3
    assert dt.cross_matrix(vd.mat2, vd.float32) is vd.mat2
    assert dt.cross_vector_scalar(vd.ivec2, vd.float32) is vd.vec2
    assert dt.cross_scalar_scalar(vd.int16, vd.int32) is vd.int32
    with pytest.raises(ValueError, match="3 and 2 components"):
        dt.cross_vector_vector(vd.vec3, vd.vec2)
    with pytest.raises(ValueError, match="first type must be a matrix"):
        dt.cross_matrix(vd.vec2, vd.mat2)
    # 0.1's attributes
    assert vd.vec3.item_size == 12 and vd.vec3.glsl_type == "vec3"
    assert vd.vec3.child_type is vd.float32 and vd.vec3.child_count == 3
    assert vd.mat2.child_type is vd.vec2 and vd.mat2.shape == (2, 2) and vd.mat2.dimentions == 2
    assert vd.complex64.shape == (2,) and vd.complex64.child_type is vd.float32
    assert vd.float32.shape == (1,) and vd.float32.true_numpy_shape == ()
    assert vd.ivec2.format_str == "(%d, %d)" and vd.uint64.format_str == "%llu"
    # the 16-bit vectors and complex32
    assert (vd.hvec3.itemsize, vd.ihvec3.itemsize, vd.uhvec4.itemsize) == (6, 6, 8)
    assert vd.complex32.itemsize == 4 and vd.complex32.numpy_shape == (2,)
    assert dt.promote(vd.complex32, vd.float16) is vd.complex32
    assert dt.promote(vd.complex32, vd.float32) is vd.complex64
    assert vc.c32 is vd.complex32 and vc.uhv3 is vd.uhvec3 and vc.f32 is vd.float32


def test_shader_context_and_make_shader_function(backend):
    with vc.shader_context() as ctx:
        buf, k = ctx.declare_input_arguments([Buff[f32], Const[f32]], ["buf", "k"], [None, 2.0])
        tid = vc.global_invocation_id().x
        buf[tid] = buf[tid] * k
    desc = ctx.get_description("scale")
    assert [p.name for p in desc.params] == ["buf", "k"] and desc.name == "scale"
    scale = vd.make_shader_function(desc, exec_count=lambda args: args.buf.size)
    x = np.arange(10, dtype=np.float32)
    buf = vd.asbuffer(x)
    scale(buf)
    np.testing.assert_array_equal(buf.read(0), x * 2)
    scale(buf, 0.25)
    np.testing.assert_array_equal(buf.read(0), x * 0.5)
    assert "scale" in scale.get_src().name

    with vc.shader_context(vc.ShaderFlags.NO_EXEC_BOUNDS) as ctx:
        (out,) = ctx.declare_input_arguments([Buff[u32]])
        out[vc.global_invocation_id().x] = vc.global_invocation_id().x * 3
    fill = vd.make_shader_function(ctx.get_description(), local_size=(4, 1, 1),
                                   workgroups=(2, 1, 1))
    out = vd.asbuffer(np.zeros(8, np.uint32))
    fill(out)
    np.testing.assert_array_equal(out.read(0), np.arange(8) * 3)
    with pytest.raises(TypeError, match="ShaderDescription"):
        vd.make_shader_function(fill)


def _print_kernel():
    @vd.shader(exec_size=2)
    def show(a: Buff[v2], n: Buff[i32]):
        i = vc.global_invocation_id().x
        vc.print_vars("item", i, "is", a[i], "100%", n[i])
        vc.print("z", n[i] * 2, separator=",")
        vc.print("m", vc.to_mat2(a[i].x, a[i].y, 5.0, 6.0))   # columns (x, y), (5, 6)
    return show


def test_print_vars_formats_strings_and_vectors(dummy):
    show = _print_kernel()
    glsl = show.get_src(target="glsl")
    assert 'debugPrintfEXT("item %u is (%f, %f) 100%% %d"' in glsl
    assert 'debugPrintfEXT("z,%d"' in glsl
    assert 'printf("item %u is (%f, %f) 100%% %d\\n"' in show.get_src(target="cuda")


def test_print_vars_output(backend, capfd):
    if backend == "vulkan":
        pytest.skip("Vulkan's debugPrintfEXT reaches stdout only through validation layers")
    show = _print_kernel()
    show(vd.asbuffer(np.array([[1.5, 2], [3, 4]], np.float32), vd.vec2),
         vd.asbuffer(np.array([7, 8], np.int32)))
    vd.queue_wait_idle()
    out = capfd.readouterr().out
    assert "item 0 is (1.500000, 2.000000) 100% 7" in out
    assert "item 1 is (3.000000, 4.000000) 100% 8" in out and "z,16" in out
    assert "m \n[3.000000, 5.000000]\n[4.000000, 6.000000]\n" in out


@dataclasses.dataclass
class Affine:
    scale: f32
    offset: v2


def test_dataclass_parameter_gives_one_uniform_per_field(backend):
    @vd.shader("out.size")
    def affine(out: Buff[v2], p: Affine, bias: Const[f32] = 0.5):
        i = vc.global_invocation_id().x
        out[i] = p.offset + p.scale * i + bias

    out = vd.asbuffer(np.zeros((6, 2), np.float32), vd.vec2)
    affine(out, Affine(2.0, (1.0, -1.0)))          # `bias` from the Python default
    i = np.arange(6, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(out.read(0), np.array([1.0, -1.0]) + 2.0 * i + 0.5)
    with pytest.raises(TypeError, match="needs a Affine instance"):
        affine(out, (2.0, (1.0, 1.0)))


def test_named_registers_and_shared_arrays_keep_their_names(dummy):
    @vd.shader(workgroups=(1, 1, 1), local_size=(64, 1, 1))
    def named(out: Buff[f32]):
        tile = vc.shared_buffer(f32, 64, var_name="tile")
        i = vc.global_invocation_id().x
        acc = vc.new_vec2_register(1.0, 2.0, var_name="acc")
        tile[i] = acc.x
        vc.barrier()
        out[i] = tile[63 - i] + acc.swizzle("yx").x

    src = named.get_src(target="glsl")
    assert "shared float tile[64];" in src and "vec2 acc = vec2(1.0, 2.0);" in src


def test_functions_of_numbers_are_computed_in_python():
    assert vc.sin(0.5) == np.sin(0.5) and vc.atan2(1.0, 2.0) == np.arctan2(1.0, 2.0)
    assert vc.min(2, 3) == 2 and isinstance(vc.min(2, 3), int)
    assert vc.clip(5.0, 0.0, 3.0) == 3.0 and vc.clamp(-1, 0, 3) == 0
    assert vc.round_even(2.5) == 2.0 and vc.fract(-1.25) == 0.75
    assert vc.modf(-1.5) == (-0.5, -1.0) and vc.modf(7.0, 3.0) == 1.0
    assert vc.isnan(float("nan")) is True and vc.inversesqrt(4.0) == 0.5
    assert vc.smoothstep(0.0, 1.0, 0.5) == 0.5 and vc.mix(1.0, 3.0, 0.25) == 1.5
    assert np.isnan(vc.sqrt(-1.0))


def test_functions_of_numbers_inside_a_kernel_are_literals(dummy):
    @vd.shader("buf.size")
    def k(buf: Buff[f32]):
        buf[vc.global_invocation_id().x] = vc.cos(0.0) + vc.sqrt(4.0)

    assert "= 3.0" in k.get_src(target="glsl")


def test_statement_style_blocks_must_be_closed(dummy):
    @vd.shader("buf.size")
    def unclosed(buf: Buff[f32]):
        vc.if_statement(buf[0] > 0)
        buf[0] = 1.0

    @vd.shader("buf.size")
    def stray_end(buf: Buff[f32]):
        vc.end()

    @vd.shader("buf.size")
    def returns_value(buf: Buff[f32]):
        vc.return_statement(buf[0])

    @vd.shader("buf.size")
    def nested(buf: Buff[f32]):
        i = vc.global_invocation_id().x
        vc.while_statement(buf[i] > 1.0)
        buf[i] = buf[i] / 2.0
        vc.new_scope(comment="inner")
        vc.if_statement(buf[i] < 0.0)
        vc.return_statement()
        vc.else_if_statement(buf[i] < 0.5)
        buf[i] = 0.5
        vc.end()
        vc.end()
        vc.end()

    with pytest.raises(vd.CodegenError, match="never closed with vc.end"):
        unclosed.get_src()
    with pytest.raises(vd.CodegenError, match=r"vc.end\(\) without an open"):
        stray_end.get_src()
    with pytest.raises(vd.CodegenError, match="returns no value"):
        returns_value.get_src()
    src = nested.get_src(target="glsl")
    assert "while (" in src and "// inner" in src and "return;" in src
    # the else-if's condition loads buf[i] again in the else branch, where it is reached
    else_branch = src[src.index("} else {"):]
    assert "buf.data[" in else_branch.split("< 0.5")[0]
