"""vkdispatch 0.1 code for buffers (its buffer tutorial, the typed allocators, raw
bytes, `vd.Buffer[dtype]` annotations), run unchanged on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Const, f32

# allocator -> (dtype, numpy scalar type, components)
ALLOCATORS = {
    "buffer_u32": (vd.uint32, np.uint32, 1), "buffer_uv2": (vd.uvec2, np.uint32, 2),
    "buffer_uv3": (vd.uvec3, np.uint32, 3), "buffer_uv4": (vd.uvec4, np.uint32, 4),
    "buffer_i32": (vd.int32, np.int32, 1), "buffer_iv2": (vd.ivec2, np.int32, 2),
    "buffer_iv3": (vd.ivec3, np.int32, 3), "buffer_iv4": (vd.ivec4, np.int32, 4),
    "buffer_f32": (vd.float32, np.float32, 1), "buffer_v2": (vd.vec2, np.float32, 2),
    "buffer_v3": (vd.vec3, np.float32, 3), "buffer_v4": (vd.vec4, np.float32, 4),
    "buffer_c64": (vd.complex64, np.complex64, 1), "buffer_u16": (vd.uint16, np.uint16, 1),
    "buffer_i16": (vd.int16, np.int16, 1), "buffer_f16": (vd.float16, np.float16, 1),
    "buffer_hv2": (vd.hvec2, np.float16, 2), "buffer_hv4": (vd.hvec4, np.float16, 4),
    "buffer_f64": (vd.float64, np.float64, 1), "buffer_dv2": (vd.dvec2, np.float64, 2),
    "buffer_dv3": (vd.dvec3, np.float64, 3), "buffer_dv4": (vd.dvec4, np.float64, 4),
    "buffer_hv3": (vd.hvec3, np.float16, 3), "buffer_uhv2": (vd.uhvec2, np.uint16, 2),
    "buffer_uhv3": (vd.uhvec3, np.uint16, 3), "buffer_uhv4": (vd.uhvec4, np.uint16, 4),
    "buffer_ihv2": (vd.ihvec2, np.int16, 2), "buffer_ihv3": (vd.ihvec3, np.int16, 3),
    "buffer_ihv4": (vd.ihvec4, np.int16, 4),
}


def test_typed_allocators_round_trip(backend):
    rng = np.random.default_rng(7)
    for name, (dtype, scalar, count) in ALLOCATORS.items():
        buf = getattr(vd, name)((5, 3))
        assert buf.var_type is dtype and buf.shape == (5, 3)
        assert buf.mem_size == 15 * dtype.itemsize
        shape = (5, 3) if count == 1 else (5, 3, count)
        data = (rng.standard_normal(shape) * 100).astype(scalar)
        if scalar is np.complex64:
            data = data + 1j * data[::-1]
        buf.write(data)
        np.testing.assert_array_equal(buf.read(0), data, err_msg=name)


def test_complex32_buffer_takes_complex_or_float16_pairs(backend):
    """numpy has no complex32: a complex array is stored as float16 (real, imag) pairs,
    never with its imaginary part dropped."""
    data = np.array([1 + 2j, -3.5 + 0.25j, 0, 1j], np.complex64)
    buf = vd.Buffer((4,), vd.complex32)
    buf.write(data)
    pairs = np.stack([data.real, data.imag], axis=-1).astype(np.float16)
    np.testing.assert_array_equal(buf.read(0), pairs)
    buf.write(pairs[::-1].copy())
    np.testing.assert_array_equal(buf.read(0), pairs[::-1])


def test_tutorial_asbuffer_and_0_1_constructor(backend):
    cpu_data = np.arange(16, dtype=np.int32)
    gpu_buffer = vd.asbuffer(cpu_data)
    np.testing.assert_array_equal(gpu_buffer.read(0).flatten(), cpu_data)
    copies = gpu_buffer.read()          # one array per queue
    assert [a.tolist() for a in copies] == [cpu_data.tolist()] * vd.get_context().queue_count
    buf = vd.Buffer(shape=(4, 2), var_type=vd.uint32)
    assert buf.var_type is vd.uint32 and buf.shader_shape == (4, 2, 1, 8)
    assert vd.Buffer((3,), vd.float32).shader_shape == (3, 1, 1, 3)
    with pytest.raises(ValueError, match="at most 3 axes"):
        vd.Buffer((2, 2, 2, 2), vd.float32).shader_shape
    with pytest.raises(TypeError, match="not both"):
        vd.Buffer((2,), vd.int32, var_type=vd.uint32)


def test_write_raw_bytes(backend):
    buf = vd.buffer_f32(8)
    buf.write(np.zeros(8, np.float32))
    head = np.array([1.5, -2.0, 3.25], np.float32)
    buf.write(head.tobytes())                      # fewer bytes than the buffer: a prefix
    want = np.zeros(8, np.float32)
    want[:3] = head
    np.testing.assert_array_equal(buf.read(0), want)
    full = np.arange(8, dtype=np.float32)
    buf.write(bytearray(full.tobytes()), index=0)  # 0.1 named the queue `index`
    np.testing.assert_array_equal(buf.read(index=0), full)
    buf.write(memoryview(full[::-1].copy()))
    np.testing.assert_array_equal(buf.read(0), full[::-1])
    with pytest.raises(ValueError, match="36 bytes; the buffer holds 32"):
        buf.write(bytes(36))


def test_buffer_annotation_in_a_shader(backend):
    @vd.shader("dst.size")
    def axpy(dst: vd.Buffer[vd.float32], src: vd.Buffer[vd.float32], a: Const[f32]):
        i = vc.global_invocation_id().x
        dst[i] = dst[i] + a * src[i]

    x = np.linspace(-1, 1, 100).astype(np.float32)
    y = np.arange(100, dtype=np.float32)
    dst, src = vd.asbuffer(y), vd.asbuffer(x)
    axpy(dst, src, 2.0)
    np.testing.assert_allclose(dst.read(0), y + np.float32(2) * x, rtol=1e-6)


class _HostOnlyCudaArray:
    """Claims __cuda_array_interface__ over a pointer no CUDA device holds."""

    def __init__(self, shape):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": "<f4",
                                         "data": (0x1000, False), "version": 3}


def test_asbuffer_of_a_cuda_array_interface_object(backend):
    ctx = vd.get_context()
    if ctx.runtime_context.capabilities.external_memory:
        pytest.skip("wrapping real CUDA arrays: tests/parity/test_cuda_parity.py")
    # elsewhere the data is copied through a CUDA runtime; one with no device for the
    # pointer (or no CUDA at all) raises instead of giving a buffer of garbage
    with pytest.raises((vd.BackendUnavailableError, vd.InvalidArgumentError,
                        vd.DeviceError)) as info:
        vd.asbuffer(_HostOnlyCudaArray((4,)))
    if info.type is vd.BackendUnavailableError:
        assert "reads it through CUDA, which is unavailable" in str(info.value)
    with pytest.raises(AttributeError, match="external memory"):
        vd.from_cuda_array(_HostOnlyCudaArray((4,)))
    bad = _HostOnlyCudaArray((4,))
    bad.__cuda_array_interface__ = {"shape": (4,)}
    with pytest.raises(ValueError, match="'shape', 'typestr' and 'data'"):
        vd.asbuffer(bad)
