import pickle

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.base import dtype as dt


@pytest.mark.parametrize("t", dt.SCALARS, ids=lambda t: t.name)
def test_scalar_numpy_round_trip(t):
    assert dt.to_dtype(t.numpy_dtype) is t
    assert dt.to_dtype(t.name) is t
    if t is not dt.bool_:
        assert t.itemsize == t.numpy_dtype.itemsize
    assert pickle.loads(pickle.dumps(t)) is t


def test_vectors_and_matrices():
    assert dt.vec3.count == 3 and dt.vec3.itemsize == 12 and dt.vec3.alignment == 16
    assert dt.vec4.numpy_shape == (4,)
    assert dt.mat4.numpy_shape == (4, 4) and dt.mat4.itemsize == 64
    assert dt.vector_of(dt.int32, 3) is dt.ivec3
    assert dt.with_base(dt.vec3, dt.uint32) is dt.uvec3
    for t in dt.ALL:
        assert t.glsl and t.cuda and t.opencl


@pytest.mark.parametrize("a", [t for t in dt.SCALARS if not t.is_complex], ids=lambda t: t.name)
@pytest.mark.parametrize("b", [t for t in dt.SCALARS if not t.is_complex], ids=lambda t: t.name)
def test_promotion_matches_numpy_except_64_bit_widening(a, b):
    got = dt.promote_scalars(a, b)
    want = dt.to_dtype(np.promote_types(a.numpy_dtype, b.numpy_dtype))
    narrow = a.itemsize < 8 and b.itemsize < 8
    if narrow and want is dt.int64:
        assert got is dt.int32  # the documented GPU-friendly exceptions
    elif narrow and want is dt.float64:
        assert got is dt.float32
    else:
        assert got is want


def test_weak_python_scalars():
    assert dt.weak_promote(dt.int8, 3) is dt.int8
    assert dt.weak_promote(dt.int32, 1.5) is dt.float32
    assert dt.weak_promote(dt.float16, 2.0) is dt.float16
    assert dt.weak_promote(dt.float64, 1j) is dt.complex128
    assert dt.weak_promote(dt.uint32, True) is dt.uint32


def test_vector_promotion_and_errors():
    assert dt.promote(dt.vec3, dt.float32) is dt.vec3
    assert dt.promote(dt.ivec2, dt.float32) is dt.vec2
    with pytest.raises(TypeError, match="different lengths"):
        dt.promote(dt.vec2, dt.vec3)


def test_bad_names_are_clear():
    with pytest.raises(TypeError, match="cannot interpret"):
        dt.to_dtype(object())
    with pytest.raises(ValueError, match="unknown dtype name"):
        dt.from_name("float128")
    with pytest.raises(TypeError, match="no vkdispatch equivalent"):
        dt.to_dtype(np.dtype("U4"))


def test_dlpack_codes():
    assert dt.float32.dlpack == (2, 32, 1)
    assert dt.uint8.dlpack == (1, 8, 1)
    assert dt.complex64.dlpack == (5, 64, 1)
    assert dt.vec4.dlpack == (2, 32, 1)


def test_public_names():
    assert vd.float32 is dt.float32 and vd.complex64 is dt.complex64
