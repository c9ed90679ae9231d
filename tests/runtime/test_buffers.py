"""vd.Buffer on every real backend: round trips, views, copies, errors, lifetimes."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32

ROUND_TRIP = [vd.int8, vd.uint8, vd.int16, vd.uint16, vd.int32, vd.uint32, vd.int64, vd.uint64,
              vd.float16, vd.float32, vd.float64, vd.complex64, vd.complex128, vd.bool_,
              vd.vec2, vd.vec3, vd.vec4, vd.ivec4, vd.uvec2, vd.mat2, vd.mat4]


def _random(t, shape, rng):
    full = shape + t.numpy_shape
    nd = t.numpy_dtype
    if t.is_bool:
        return rng.integers(0, 2, full).astype(bool)
    if t.is_complex:
        return (rng.standard_normal(full) + 1j * rng.standard_normal(full)).astype(nd)
    if t.is_float:
        return rng.standard_normal(full).astype(nd)
    info = np.iinfo(nd)
    return rng.integers(info.min, info.max, full, dtype=nd, endpoint=True)


@pytest.mark.parametrize("t", ROUND_TRIP, ids=lambda t: t.name)
def test_round_trip_every_dtype(backend, t):
    rng = np.random.default_rng(7)
    data = _random(t, (3, 37), rng)
    buf = vd.asbuffer(data, t)
    out = buf.read(0)
    assert out.shape == data.shape
    np.testing.assert_array_equal(out, data)
    buf.destroy()


def test_documented_buffer_example(backend):
    cpu_data = np.arange(16, dtype=np.int32)
    gpu_buffer = vd.asbuffer(cpu_data)
    np.testing.assert_array_equal(gpu_buffer.read(0).flatten(), cpu_data)
    assert isinstance(gpu_buffer.read(), list) and len(gpu_buffer.read()) == 1


def test_write_shape_and_type_errors(backend):
    buf = vd.Buffer((10,), vd.float32)
    with pytest.raises(ValueError, match="needs 10"):
        buf.write(np.zeros(11, np.float32))
    with pytest.raises(TypeError, match="complex"):
        buf.write(np.zeros(10, np.complex64))
    with pytest.raises(IndexError, match="queue_index"):
        buf.read(5)
    with pytest.raises(ValueError, match="memory must be"):
        vd.Buffer((4,), vd.float32, memory="gpu")
    buf.destroy()
    buf.destroy()  # idempotent
    with pytest.raises(vd.VkDispatchError, match="destroyed"):
        buf.read(0)


@pytest.mark.parametrize("memory", ["device", "host", "shared"])
def test_memory_kinds(backend, memory):
    data = np.linspace(-1, 1, 1001, dtype=np.float32)
    buf = vd.asbuffer(data, memory=memory)
    np.testing.assert_array_equal(buf.read(0), data)


def test_fill_and_views(backend):
    buf = vd.Buffer((64,), vd.float32)
    buf.fill(3.0)
    np.testing.assert_array_equal(buf.read(0), np.full(64, 3.0, np.float32))
    view = buf.view(16, (8,))
    view.write(np.arange(8, dtype=np.float32))
    expect = np.full(64, 3.0, np.float32)
    expect[16:24] = np.arange(8)
    np.testing.assert_array_equal(buf.read(0), expect)
    np.testing.assert_array_equal(view.read(0), np.arange(8, dtype=np.float32))
    with pytest.raises(ValueError, match="exceeds"):
        buf.view(60, (8,))
    assert buf.reshape((8, 8)).read(0).shape == (8, 8)


def test_shader_on_a_view(backend):
    @vd.shader("buff.size")
    def double(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        buff[i] = buff[i] * 2.0

    data = np.arange(256, dtype=np.float32)
    buf = vd.asbuffer(data)
    double(buf.view(64, (64,)))   # 256-byte offset: aligned on every device
    expect = data.copy()
    expect[64:128] *= 2
    np.testing.assert_array_equal(buf.read(0), expect)


def test_copy_buffer(backend):
    src = vd.asbuffer(np.arange(100, dtype=np.int32))
    dst = vd.Buffer((100,), vd.int32)
    vd.copy_buffer(src, dst)
    np.testing.assert_array_equal(dst.read(0), np.arange(100))


def test_out_of_memory_leaves_context_usable(backend):
    with pytest.raises((vd.OutOfMemoryError, vd.DeviceLimitError)):
        vd.Buffer((1 << 48,), vd.float32)
    buf = vd.asbuffer(np.ones(8, np.float32))
    np.testing.assert_array_equal(buf.read(0), np.ones(8))


def test_many_create_destroy_cycles(backend):
    for _ in range(2000):
        b = vd.Buffer((256,), vd.float32)
        b.destroy()
    b = vd.asbuffer(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(b.read(0), np.arange(4))


def test_int_buffer_shader_dtype_mismatch(backend):
    @vd.shader("a.size")
    def inc(a: Buff[i32], k: Const[i32]):
        i = vc.global_invocation_id().x
        a[i] = a[i] + k

    buf = vd.Buffer((4,), vd.float32)
    with pytest.raises(TypeError, match="parameter 'a'"):
        inc(buf, 1)
    with pytest.raises(TypeError, match="parameter 'k'"):
        inc(vd.Buffer((4,), vd.int32), "x")


def test_more_than_2_to_the_30_elements(backend):
    n = (1 << 30) + 64
    dev = vd.get_context().device
    if n > dev.max_allocation_size:
        pytest.skip(f"{dev.name} allocates at most {dev.max_allocation_size} bytes at once")
    buf = vd.Buffer((n,), vd.uint8)
    try:
        assert buf.size == n and buf.nbytes == n
        tail = buf.view(1 << 30, (64,))
        tail.write(np.arange(64, dtype=np.uint8))
        np.testing.assert_array_equal(tail.read(0), np.arange(64))
    finally:
        buf.destroy()


def test_constants_out_of_range_or_fractional_are_errors(backend):
    @vd.shader("a.size")
    def inc2(a: Buff[i32], k: Const[i32]):
        i = vc.global_invocation_id().x
        a[i] = a[i] + k

    buf = vd.asbuffer(np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="does not fit in int32"):
        inc2(buf, 2 ** 40)
    with pytest.raises(ValueError, match="does not fit in int32"):
        inc2(buf, np.int64(2 ** 40))
    with pytest.raises(TypeError, match="parameter 'k'"):
        inc2(buf, 1.5)
    inc2(buf, 2.0)   # an integral float is fine
    np.testing.assert_array_equal(buf.read(0), np.zeros(4) + 2)


def test_read_elements_reads_a_range_of_a_view(backend):
    h = np.arange(100, dtype=np.float32)
    view = vd.asbuffer(h).view(16, (80,))
    np.testing.assert_array_equal(view.read_elements(3, (2, 5)), h[19:29].reshape(2, 5))
    assert view.read_elements(0, ()).shape == () and view.read_elements(0, ()) == 16.0
    flags = vd.asbuffer(np.array([True, False, True]))
    got = flags.read_elements(2, ())
    assert isinstance(got, np.ndarray) and got.dtype == np.bool_ and bool(got)
    for start, shape in ((78, (3,)), (-1, (1,)), (81, ())):
        with pytest.raises(IndexError, match="outside this buffer's 80"):
            view.read_elements(start, shape)


def test_a_destroyed_buffer_or_image_raises_use_after_free_everywhere(backend):
    """The same misuse, the same exception type: reading, writing or viewing a
    destroyed buffer, as passing it to a kernel does."""
    buf = vd.asbuffer(np.zeros(16, np.float32))
    buf.destroy()
    for use in (lambda: buf.read(0), lambda: buf.write(np.ones(16, np.float32)),
                lambda: buf.read_elements(0, (1,)), lambda: buf.handle(0)):
        with pytest.raises(vd.UseAfterFreeError, match="destroyed"):
            use()
    img = vd.Image2D((4, 4), vd.float32)
    img.destroy()
    with pytest.raises(vd.UseAfterFreeError, match="destroyed"):
        img.read(0)
