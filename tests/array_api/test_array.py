"""The Array object: attributes, indexing as views, __setitem__, in-place operators,
conversions, the namespace protocol and Buffers."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def test_attributes(backend):
    a = xp.asarray(A)
    assert a.shape == (2, 3, 4) and a.ndim == 3 and a.size == 24 and a.dtype == xp.float32
    assert a.device == xp.__array_namespace_info__().default_device()
    assert a.__array_namespace__() is xp
    assert a.__array_namespace__(api_version="2024.12") is xp
    with pytest.raises(ValueError, match="api_version"):
        a.__array_namespace__(api_version="1999.01")
    np.testing.assert_array_equal(np.asarray(a.mT), np.swapaxes(A, -1, -2))
    np.testing.assert_array_equal(np.asarray(a[0].T), A[0].T)
    assert a.to_device(a.device) is a
    with pytest.raises(TypeError):
        xp.Array()


@pytest.mark.parametrize("key", [
    (0,), (1, slice(None, None, -1)), (Ellipsis, 2), (slice(1, None), None, slice(0, 3, 2)),
    (None, Ellipsis, None), (-1, -2, -3), (slice(5, 1, -2),), (Ellipsis,),
])
def test_basic_indexing_is_a_view(backend, key):
    a = xp.asarray(A)
    v = a[key]
    assert v._view.storage is a._view.storage        # no copy
    np.testing.assert_array_equal(np.asarray(v), A[key])
    np.testing.assert_array_equal(np.asarray(v * 2), A[key] * 2)


def test_index_errors(backend):
    a = xp.asarray(A)
    with pytest.raises(IndexError, match="out of bounds"):
        a[2]
    with pytest.raises(IndexError, match="too many"):
        a[0, 0, 0, 0]
    with pytest.raises(IndexError):
        a[1.5]


def test_setitem(backend):
    a = xp.asarray(A.copy())
    expect = A.copy()
    a[0, 1] = 7.0
    expect[0, 1] = 7
    a[..., ::2] = xp.asarray(np.ones(2, dtype=np.float32))
    expect[..., ::2] = 1
    a[1] = a[0] * 2
    expect[1] = expect[0] * 2
    np.testing.assert_array_equal(np.asarray(a), expect)
    with pytest.raises(TypeError):
        a[0] = xp.asarray(np.ones(4, dtype=np.int32))
    with pytest.raises(ValueError, match="broadcast"):
        a[0] = xp.asarray(np.ones(5, dtype=np.float32))


def test_setitem_on_a_pending_array(backend):
    z = xp.zeros((3, 3), dtype=xp.int32)
    z[1, :] = 4
    np.testing.assert_array_equal(np.asarray(z), [[0, 0, 0], [4, 4, 4], [0, 0, 0]])


def test_inplace_operators_keep_the_memory(backend):
    a = xp.asarray(A.copy())
    storage = a._view.storage
    a += 1
    a *= xp.asarray(np.full(4, 2, dtype=np.float32))
    a -= 0.5
    a /= 2
    a **= 2
    assert a._view.storage is storage
    np.testing.assert_allclose(np.asarray(a), (((A + 1) * 2 - 0.5) / 2) ** 2, rtol=1e-6)
    i = xp.asarray(np.arange(6, dtype=np.int32))
    i //= 2
    i %= 2
    i <<= 1
    i |= 1
    np.testing.assert_array_equal(np.asarray(i), (((np.arange(6) // 2) % 2) << 1) | 1)
    with pytest.raises(TypeError, match="floating-point"):
        i /= 2
    b = xp.asarray(np.ones(3, dtype=np.int8))
    with pytest.raises(TypeError, match="dtype"):
        b += xp.asarray(np.ones(3, dtype=np.int16))
    with pytest.raises(ValueError, match="shape"):
        a += xp.asarray(np.ones((5, 2, 3, 4), dtype=np.float32))


def test_inplace_on_a_view_writes_the_base(backend):
    a = xp.asarray(A.copy())
    v = a[1, :, 1:3]
    v += 100
    expect = A.copy()
    expect[1, :, 1:3] += 100
    np.testing.assert_array_equal(np.asarray(a), expect)


def test_scalar_conversions(backend):
    a = xp.asarray(A)
    assert float(a[1, 2, 3]) == 23.0
    assert int(a[0, 0, 1]) == 1
    assert bool(a[0, 0, 1]) is True
    assert complex(a[0, 0, 2]) == 2 + 0j
    assert [1, 2, 3][xp.asarray(1)] == 2
    with pytest.raises(TypeError):
        float(a)
    with pytest.raises(TypeError):
        [1][xp.asarray(1.0)]
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), A.astype(np.float64))
    with pytest.raises(ValueError):
        a.__array__(copy=False)


def test_buffer_round_trip_without_copy(backend):
    buf = vd.asbuffer(A)
    x = xp.from_buffer(buf)
    assert xp.asarray(buf).buffer is buf and x.buffer is buf
    y = (x + 1).buffer
    assert isinstance(y, vd.Buffer) and y.shape == A.shape
    np.testing.assert_array_equal(y.read(0), A + 1)
    with pytest.raises(ValueError, match="strided"):
        x[:, ::2].buffer
    view = buf.view(4, (8,))
    np.testing.assert_array_equal(np.asarray(xp.from_buffer(view)), A.reshape(-1)[4:12])


def test_inplace_operators_on_pending_arrays(backend):
    x = xp.full((3,), 1, dtype=xp.int8)
    x *= xp.full((3,), 2, dtype=xp.int8)
    y = xp.full((), 1.0)
    y /= xp.full((), 2.0)
    s = xp.sum(xp.ones((4,)))
    s += 1.0
    np.testing.assert_array_equal(np.asarray(x), [2, 2, 2])
    assert float(y) == 0.5 and float(s) == 5.0
