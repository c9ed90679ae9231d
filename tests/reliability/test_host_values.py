"""No silent wrong results on the host: sizes that overflow, values that wrap or lose
information, and unclear errors, each raised with the argument's name."""
import pickle

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def add_c(buf: Buff[f32], c: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + c


@pytest.mark.parametrize("shape", [(2 ** 32, 2 ** 32), (3, 2 ** 62), 2 ** 70])
def test_shapes_that_overflow_raise(backend, shape):
    with pytest.raises(ValueError, match="elements"):
        vd.Buffer(shape, vd.float32)


@pytest.mark.parametrize("shape", ["12", b"12", 3.0, (2, 2.5), True, None])
def test_shapes_must_be_integers(backend, shape):
    with pytest.raises(TypeError, match="shape"):
        vd.Buffer(shape, vd.float32)


def test_constant_too_large_names_the_parameter(backend):
    buf = vd.asbuffer(np.zeros(4, np.float32))
    for bad in (1e40, np.float64(1e40)):
        with pytest.raises(ValueError, match="'c'.*float32"):
            add_c(buf, bad)
    assert len(vd.global_graph()) == 0
    add_c(buf, 3.0e38)
    assert np.all(np.isfinite(buf.read(0)))


@pytest.mark.parametrize("dtype,data,error", [
    (vd.int32, [3e10], TypeError),                    # float into int: not same_kind
    (vd.int32, np.array([3 * 10 ** 10]), OverflowError),
    (vd.uint8, [300], OverflowError),
    (vd.uint8, [-1], OverflowError),
    (vd.float32, [1e300], OverflowError),
    (vd.float32, [1 + 2j], TypeError),
    (vd.int32, [1.5], TypeError),
])
def test_writes_never_wrap_or_truncate(backend, dtype, data, error):
    buf = vd.Buffer((1,), dtype)
    with pytest.raises(error):
        buf.write(data)


def test_writes_that_fit_convert(backend):
    for dtype, data, want in ((vd.float32, [1, 2], [1.0, 2.0]), (vd.int32, [7, -8], [7, -8]),
                              (vd.uint8, np.array([0, 255], np.int64), [0, 255]),
                              (vd.float32, np.array([0.5, 2.0]), [0.5, 2.0]),
                              (vd.complex64, [1.0, 2.0], [1, 2])):
        buf = vd.Buffer((2,), dtype)
        buf.write(data)
        np.testing.assert_array_equal(buf.read(0), np.asarray(want))


def test_copies_between_dtypes_raise(backend):
    a = vd.asbuffer(np.arange(4, dtype=np.float32))
    b = vd.Buffer((4,), vd.int32)
    with pytest.raises(TypeError, match="dtype"):
        vd.copy_buffer(a, b)
    big = vd.Buffer((4,), vd.float64)
    with pytest.raises(TypeError, match="dtype"):
        vd.copy_buffer(a, big)


def test_complex_image_data_raises(backend):
    try:
        img = vd.Image2D((4, 4), vd.float32)
    except vd.UnsupportedFeatureError:
        pytest.skip("no images on this device")
    with pytest.raises(TypeError):
        img.write(np.full((4, 4), 1 + 1j))


@pytest.mark.parametrize("call", [lambda b: b.write(None), lambda b: vd.asbuffer(None),
                                  lambda b: vd.asbuffer("abc"), lambda b: b.write("abc")])
def test_none_and_strings_are_refused_clearly(backend, call):
    buf = vd.Buffer((3,), vd.float32)
    with pytest.raises(TypeError, match="numbers|array-like"):
        call(buf)


def test_buffers_cannot_be_pickled(backend):
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(vd.asbuffer(np.zeros(2, np.float32)))


def test_launch_sizes_and_sources_are_checked_clearly(backend):
    def k(b: Buff[f32]):
        i = vc.global_invocation_id().x
        b[i] = 1.0

    buf = vd.Buffer((4,), vd.float32)
    with pytest.raises(TypeError, match="local_size"):
        vd.shader("b.size", local_size="abc")(k)(buf)
    with pytest.raises(ValueError, match="exec_size.*32-bit"):
        vd.shader(exec_size=2 ** 40)(k)(buf)
    with pytest.raises(TypeError, match="source"):
        vd.ComputePlan(None)
    assert len(vd.global_graph()) == 0


def test_loops_past_the_device_loop_limit_raise_while_tracing(backend):
    limit = vd.get_context().device.max_loop_iterations
    if limit is None:
        pytest.skip("this device runs loops of any length")

    def make(outer, inner):
        @vd.shader("b.size")
        def k(b: Buff[f32]):
            i = vc.global_invocation_id().x
            acc = vc.new_float(0.0)
            for _ in vc.range(outer):
                for _ in vc.range(inner):
                    acc += 1.0
            b[i] = acc
        return k

    buf = vd.Buffer((4,), vd.float32)
    with pytest.raises(vd.CodegenError, match="max_loop_iterations"):
        make(2, 40_000)(buf)
    make(2, 100)(buf)
    np.testing.assert_array_equal(buf.read(0), np.full(4, 200, np.float32))
