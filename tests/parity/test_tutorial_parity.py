"""vkdispatch 0.1's getting-started page, shader launch patterns, data-types page, code
structure example and the reduction / VkFFT parts of its "Reductions and FFT" tutorial,
written fresh from its docs and run unchanged on every backend present. (The shader
tutorial's other snippets are in tests/shader/test_compat_0_1.py, images in
tests/runtime/test_images_01_*.py, contexts, buffers and graphs beside this file.)"""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.codegen.abreviations import *  # noqa: F401,F403 - 0.1's spelling, as its docs

RNG = np.random.default_rng(12)


def test_getting_started_devices_and_quick_start(backend):
    infos = [device.get_info_string() for device in vd.get_devices()]
    assert infos and all(isinstance(s, str) and s.strip() for s in infos)
    label = {"vulkan": "Vulkan", "cuda": "Compute", "opencl": "OpenCL"}[backend]
    assert any(label.lower() in s.lower() for s in infos), infos

    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    @vd.shader(exec_size=lambda args: args.buff.size)     # the "more explicit" form
    def add_scalar_lambda(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    arr = np.arange(8, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 1.5)
    np.testing.assert_array_equal(buff.read(0), arr + 1.5)
    add_scalar_lambda(buff, -0.5)
    np.testing.assert_array_equal(buff.read(0), arr + 1.0)


def test_backend_unavailable_is_an_import_error():
    """0.1's BackendUnavailableError is an ImportError: code that chooses a backend inside
    `try: ... except ImportError:` keeps working (ours is also a vd.VkDispatchError)."""
    assert issubclass(vd.BackendUnavailableError, ImportError)
    assert issubclass(vd.BackendUnavailableError, vd.VkDispatchError)
    for name in ("cuda", "opencl", "vulkan"):
        try:
            vd.initialize(backend=name)
            vd.get_context()
        except ImportError as exc:        # a backend missing here (CUDA on a CPU machine)
            assert isinstance(exc, vd.BackendUnavailableError) and str(exc)
        finally:
            vd.shutdown()


def test_getting_started_codegen_only_workflow(dummy):
    vd.set_dummy_context_params(subgroup_size=32, max_workgroup_size=(128, 1, 1),
                                max_workgroup_count=(65535, 65535, 65535))
    vc.set_codegen_backend("cuda")

    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    src = add_scalar.get_src(line_numbers=True)
    assert 'extern "C" __global__' in src.code
    assert " 1 | " in src.code                        # numbered lines
    assert src.local_size[0] <= 128                   # the dummy device's limit is used
    assert vd.get_context().subgroup_size == 32


def test_shader_tutorial_launch_patterns(backend):
    @vd.shader(exec_size=(1024, 1, 1))
    def fixed(out: Buff[u32]):
        tid = vc.global_invocation_id().x
        out[tid] = tid

    @vd.shader(workgroups=(64, 1, 1), local_size=(128, 1, 1))
    def grouped(out: Buff[u32]):
        tid = vc.global_invocation_id().x
        out[tid] = vc.workgroup_id().x

    @vd.shader(exec_size=lambda args: args.in_buf.size)
    def copy(in_buf: Buff[f32], out_buf: Buff[f32]):
        tid = vc.global_invocation_id().x
        out_buf[tid] = in_buf[tid] * 2.0

    out = vd.Buffer((1024,), vd.uint32)
    fixed(out)
    np.testing.assert_array_equal(out.read(0), np.arange(1024))
    groups = vd.Buffer((64 * 128,), vd.uint32)
    grouped(groups)
    np.testing.assert_array_equal(groups.read(0), np.repeat(np.arange(64), 128))

    x = np.arange(40, dtype=np.float32)
    src, dst = vd.asbuffer(x), vd.asbuffer(np.zeros(40, np.float32))
    copy(src, dst)
    np.testing.assert_array_equal(dst.read(0), 2 * x)
    # per-call override, and 0.1's LaunchParametersHolder methods on a callable's argument
    seen = {}

    def half(args):
        seen["names"], seen["values"] = args.get_names(), args.get_values()
        return args.in_buf.size // 2

    copy(src, dst, exec_size=10)
    copy(dst, dst, exec_size=half)
    assert seen["names"] == ["in_buf", "out_buf"] and seen["values"][0] is dst
    np.testing.assert_array_equal(dst.read(0)[:20], 4 * x[:20])
    np.testing.assert_array_equal(dst.read(0)[20:], 2 * x[20:])
    # exec_size and workgroups are mutually exclusive
    with pytest.raises(ValueError, match="not both"):
        copy(src, dst, exec_size=40, workgroups=(1, 1, 1))


def test_shader_tutorial_mapping_function(backend):
    @vd.map
    def square_value(x: Buff[f32]) -> f32:
        idx = vd.reduce.mapped_io_index()
        return x[idx] * x[idx]

    assert isinstance(square_value, vd.MappingFunction)

    @vd.reduce.reduce(0, mapping_function=square_value)
    def sum_of_squares(a: f32, b: f32) -> f32:
        return a + b

    data = RNG.standard_normal(1000).astype(np.float32)
    got = sum_of_squares(vd.asbuffer(data)).read(0)[0]
    np.testing.assert_allclose(got, np.sum(data.astype(np.float64) ** 2), rtol=1e-4)


def test_code_structure_minimal_example(backend):
    @vd.shader("data.size")
    def scale_inplace(data: Buff[f32], alpha: Const[f32]):
        tid = vc.global_invocation_id().x
        data[tid] = data[tid] * alpha

    arr = np.arange(16, dtype=np.float32)
    buf = vd.asbuffer(arr)
    scale_inplace(buf, 2.0)
    np.testing.assert_array_equal(buf.read(0), arr * 2)


def test_data_types_page(backend):
    """The types the data-types page lists, its predicates, NumPy conversions, and a
    kernel over each shape it names (scalar, complex, vector, matrix)."""
    kinds = {vd.int32: "scalar", vd.uint32: "scalar", vd.float32: "scalar",
             vd.complex64: "complex", vd.mat2: "matrix", vd.mat4: "matrix",
             **{t: "vector" for t in (vd.vec2, vd.vec3, vd.vec4, vd.ivec2, vd.ivec3,
                                      vd.ivec4, vd.uvec2, vd.uvec3, vd.uvec4)}}
    for t, kind in kinds.items():
        assert dt.is_dtype(t) and isinstance(t, vd.dtype)
        assert [dt.is_scalar(t), dt.is_complex(t), dt.is_vector(t), dt.is_matrix(t)] == \
            [kind == k for k in ("scalar", "complex", "vector", "matrix")], t
    for t in (vd.int32, vd.uint32, vd.float32, vd.complex64):
        assert dt.from_numpy_dtype(dt.to_numpy_dtype(t)) is t
    assert not dt.is_dtype(np.float32) and not dt.is_dtype("float32")

    @vd.shader("c.size")
    def double_all(c: Buff[c64], v: Buff[v3], iv: Buff[iv4], m: Buff[m4]):
        i = vc.global_invocation_id().x
        c[i] = c[i] * 2.0
        v[i] = v[i] * 2.0
        iv[i] = iv[i] * 2
        m[i] = m[i] * 2.0

    n = 6
    c = (RNG.standard_normal(n) + 1j * RNG.standard_normal(n)).astype(np.complex64)
    v = RNG.standard_normal((n, 3)).astype(np.float32)
    iv = RNG.integers(-100, 100, (n, 4), dtype=np.int32)
    m = RNG.standard_normal((n, 4, 4)).astype(np.float32)
    bufs = [vd.asbuffer(c), vd.Buffer((n,), vd.vec3), vd.Buffer((n,), vd.ivec4),
            vd.Buffer((n,), vd.mat4)]
    for b, a in zip(bufs[1:], (v, iv, m)):
        b.write(a)
    double_all(*bufs)
    for b, a in zip(bufs, (c, v, iv, m)):
        np.testing.assert_array_equal(b.read(0), a * 2)


def test_to_complex_takes_its_type_from_the_arguments(dummy):
    """As 0.1: float64 parts make complex128, float16 parts complex32, Python numbers and
    float32 complex64; new_complex_register likewise (complex64 with no arguments)."""
    seen = {}

    @vd.shader("out.size")
    def k(out: Buff[c128], d: Buff[f64], h: Buff[f16], s: Buff[f32], z: Buff[c64]):
        i = vc.global_invocation_id().x
        seen["f64"] = vc.to_complex(d[i], 0.0).dtype
        seen["f16"] = vc.to_complex(h[i]).dtype
        seen["f32"] = vc.to_complex(s[i], s[i]).dtype
        seen["num"] = vc.to_complex(1.0, 2.0).dtype
        seen["c64"] = vc.to_complex(z[i]).dtype
        seen["reg"] = vc.new_complex_register(d[i]).dtype
        seen["reg0"] = vc.new_complex_register().dtype
        out[i] = vc.to_complex(d[i], d[i] * 2.0)

    assert "f64vec2" in k.get_src(target="glsl").code or "dvec2" in k.get_src(target="glsl").code
    assert seen == {"f64": vd.complex128, "f16": vd.complex32, "f32": vd.complex64,
                    "num": vd.complex64, "c64": vd.complex64, "reg": vd.complex128,
                    "reg0": vd.complex64}


def test_to_complex_float64_keeps_double_precision(backend):
    if not vd.get_context().device.float64:
        pytest.skip(f"{backend}: the device has no float64")

    @vd.shader("out.size")
    def k(out: Buff[c128], d: Buff[f64]):
        i = vc.global_invocation_id().x
        out[i] = vc.to_complex(d[i], d[i] / 3.0)

    d = RNG.standard_normal(8) * 1e3 + 1 / 3
    out = vd.Buffer((8,), vd.complex128)
    k(out, vd.asbuffer(d))
    np.testing.assert_allclose(out.read(0), d + 1j * (d / 3.0), rtol=1e-14)


def test_reductions_tutorial(backend):
    @vd.reduce.reduce(0)
    def sum_reduce(a: f32, b: f32) -> f32:
        return a + b

    @vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
    def l2_energy_map(buffer: Buff[f32]) -> f32:
        idx = vd.reduce.mapped_io_index()
        v = buffer[idx]
        return v * v

    arr = RNG.random(4096).astype(np.float32)
    buf = vd.asbuffer(arr)
    out = sum_reduce(buf).read(0)
    np.testing.assert_allclose(float(out[0]), arr.sum(dtype=np.float64), rtol=1e-5)
    energy = l2_energy_map(buf).read(0)[0]
    np.testing.assert_allclose(energy, np.sum(arr.astype(np.float64) ** 2), rtol=1e-5)


def test_vkfft_tutorial(backend):
    """0.1's vd.vkfft round trip and plan-cache clearing, where VkFFT runs (CUDA/OpenCL
    through pyvkfft); on Vulkan the call raises UnsupportedFeatureError pointing to vd.fft."""
    complex_signal = (RNG.random(256) + 1j * RNG.random(256)).astype(np.complex64)
    vkfft_buf = vd.asbuffer(complex_signal.copy())
    if vd.get_context().runtime_context.capabilities.native_api is None:
        with pytest.raises(vd.UnsupportedFeatureError, match="vd.fft"):
            vd.vkfft.fft(vkfft_buf)
        np.testing.assert_array_equal(vkfft_buf.read(0), complex_signal)   # nothing ran
        return
    from vkdispatch.vkfft import _native
    try:
        _native.load(_native.api_for(vd.get_context()))
    except vd.BackendUnavailableError as exc:
        pytest.skip(f"{backend}: {exc}")
    vd.vkfft.fft(vkfft_buf)
    np.testing.assert_allclose(vkfft_buf.read(0), np.fft.fft(complex_signal), rtol=1e-4,
                               atol=1e-3)
    vd.vkfft.ifft(vkfft_buf)
    np.testing.assert_allclose(vkfft_buf.read(0), complex_signal, atol=1e-3)
    vd.vkfft.clear_plan_cache()
    assert len(vd.vkfft.plan_cache()) == 0
