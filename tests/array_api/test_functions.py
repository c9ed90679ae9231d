"""Creation, manipulation and data-type functions against NumPy, and the namespace."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

A = np.arange(12, dtype=np.float32).reshape(3, 4)


def test_namespace():
    assert xp.__array_api_version__ == "2024.12"
    compat = pytest.importorskip("array_api_compat")
    assert compat.array_namespace(xp.asarray(np.ones(2, dtype=np.float32))) is xp


def test_creation(backend):
    np.testing.assert_array_equal(np.asarray(xp.zeros((2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(np.asarray(xp.ones(4, dtype=xp.int8)), np.ones(4, np.int8))
    np.testing.assert_array_equal(np.asarray(xp.full((2, 2), True)), np.full((2, 2), True))
    np.testing.assert_array_equal(np.asarray(xp.full((2,), 3)), [3, 3])
    np.testing.assert_array_equal(np.asarray(xp.arange(2, 11, 3)), np.arange(2, 11, 3))
    np.testing.assert_array_equal(np.asarray(xp.arange(5, 0, -2)), np.arange(5, 0, -2))
    np.testing.assert_allclose(np.asarray(xp.arange(0.5, 2, 0.25)), np.arange(0.5, 2, 0.25))
    np.testing.assert_allclose(np.asarray(xp.linspace(-1, 2, 7)), np.linspace(-1, 2, 7),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(xp.linspace(0, 1, 4, endpoint=False)),
                               np.linspace(0, 1, 4, endpoint=False))
    np.testing.assert_array_equal(np.asarray(xp.eye(3, 5, k=-1)), np.eye(3, 5, k=-1))
    a = xp.asarray(A)
    np.testing.assert_array_equal(np.asarray(xp.tril(a, k=1)), np.tril(A, k=1))
    np.testing.assert_array_equal(np.asarray(xp.triu(a)), np.triu(A))
    np.testing.assert_array_equal(np.asarray(xp.zeros_like(a)), np.zeros_like(A))
    np.testing.assert_array_equal(np.asarray(xp.full_like(a, 2.5)), np.full_like(A, 2.5))
    assert xp.empty((0, 3)).shape == (0, 3) and np.asarray(xp.empty((0, 3))).shape == (0, 3)
    gx, gy = xp.meshgrid(xp.arange(3), xp.arange(2))
    nx, ny = np.meshgrid(np.arange(3), np.arange(2))
    np.testing.assert_array_equal(np.asarray(gx), nx)
    np.testing.assert_array_equal(np.asarray(gy), ny)


def test_asarray(backend):
    assert xp.asarray([1, 2]).dtype == xp.__array_namespace_info__().default_dtypes()["integral"]
    assert xp.asarray([1.0, 2]).dtype == xp.float32
    assert xp.asarray(True).dtype == xp.bool and xp.asarray(True).shape == ()
    a = xp.asarray(A)
    assert xp.asarray(a) is a
    c = xp.asarray(a, copy=True)
    a[0, 0] = 100.0
    assert float(c[0, 0]) == 0.0
    with pytest.raises(ValueError, match="copy"):
        xp.asarray(A, copy=False)
    with pytest.raises(TypeError):
        xp.asarray(["a"])
    with pytest.raises(TypeError, match="dtype"):
        xp.asarray(A, dtype=np.float32)


def test_float64_needs_device_support(backend):
    info = vd.get_context().device
    if info.float64:
        x = xp.asarray(np.array([1.0, 2.0]))
        assert x.dtype == xp.float64
        np.testing.assert_array_equal(np.asarray(x * 2), [2.0, 4.0])
    else:
        with pytest.raises(TypeError, match=info.name):
            xp.asarray(np.array([1.0]))


def test_manipulation(backend):
    a = xp.asarray(A)
    np.testing.assert_array_equal(np.asarray(xp.reshape(a, (4, 3))), A.reshape(4, 3))
    np.testing.assert_array_equal(np.asarray(xp.reshape(a.T, (-1,))), A.T.reshape(-1))
    with pytest.raises(ValueError, match="copy"):
        xp.reshape(a.T, (-1,), copy=False)
    np.testing.assert_array_equal(np.asarray(xp.permute_dims(xp.reshape(a, (3, 2, 2)),
                                                             (2, 0, 1))),
                                  A.reshape(3, 2, 2).transpose(2, 0, 1))
    np.testing.assert_array_equal(np.asarray(xp.expand_dims(a, axis=-1)), A[..., None])
    np.testing.assert_array_equal(np.asarray(xp.squeeze(a[:1], axis=0)), A[0])
    np.testing.assert_array_equal(np.asarray(xp.flip(a, axis=1)), A[:, ::-1])
    np.testing.assert_array_equal(np.asarray(xp.broadcast_to(a[0], (2, 4))),
                                  np.broadcast_to(A[0], (2, 4)))
    x, y = xp.broadcast_arrays(a, a[:, :1])
    assert x.shape == y.shape == (3, 4)
    np.testing.assert_array_equal(np.asarray(y), np.broadcast_to(A[:, :1], (3, 4)))
    np.testing.assert_array_equal(np.asarray(xp.concat([a, a[:1] * 2])),
                                  np.concatenate([A, A[:1] * 2]))
    np.testing.assert_array_equal(np.asarray(xp.concat([a, a], axis=None)),
                                  np.concatenate([A, A], axis=None))
    np.testing.assert_array_equal(np.asarray(xp.stack([a, a + 1], axis=1)),
                                  np.stack([A, A + 1], axis=1))
    with pytest.raises(ValueError):
        xp.squeeze(a, axis=0)
    with pytest.raises(ValueError):
        xp.broadcast_to(a, (4, 4))
    with pytest.raises(ValueError):
        xp.concat([a, a[:, :2]])


def test_pending_arrays_reshape_and_slice(backend):
    a = xp.asarray(A)
    b = (a * 2)[1:, ::2]
    np.testing.assert_array_equal(np.asarray(b), (A * 2)[1:, ::2])
    np.testing.assert_array_equal(np.asarray(xp.reshape(a + 1, (2, 6))), (A + 1).reshape(2, 6))


def test_data_type_functions(backend):
    a = xp.asarray(A)
    b = xp.astype(a, xp.int16)
    assert b.dtype == xp.int16
    np.testing.assert_array_equal(np.asarray(b), A.astype(np.int16))
    np.testing.assert_array_equal(np.asarray(xp.astype(a > 4, xp.uint8)), (A > 4).astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(xp.astype(a, xp.bool)), A.astype(bool))
    assert xp.astype(a, xp.float32, copy=False) is a


def test_dtype_rules():
    assert xp.result_type(xp.int8, xp.uint8) == xp.int16
    assert xp.result_type(xp.uint32, xp.int32) == xp.int64
    assert xp.result_type(xp.float32, xp.complex64, 1.0) == xp.complex64
    with pytest.raises(TypeError):
        xp.result_type(xp.int32, xp.float32)
    with pytest.raises(TypeError):
        xp.result_type(xp.uint64, xp.int64)
    assert xp.can_cast(xp.int8, xp.int32) and not xp.can_cast(xp.int32, xp.int8)
    assert not xp.can_cast(xp.int32, xp.float32) and xp.can_cast(xp.bool, xp.bool)
    assert xp.finfo(xp.float32).eps == np.finfo(np.float32).eps
    assert xp.finfo(xp.complex128).dtype == xp.float64
    assert xp.iinfo(xp.uint16).max == 65535 and xp.iinfo(xp.int8).min == -128
    assert xp.isdtype(xp.float32, "real floating") and not xp.isdtype(xp.int8, "unsigned integer")
    assert xp.isdtype(xp.uint8, ("bool", "integral")) and xp.isdtype(xp.int8, xp.int8)
    with pytest.raises(ValueError):
        xp.isdtype(xp.int8, "integer")
    with pytest.raises(TypeError):
        xp.finfo(xp.int32)


def test_namespace_info(backend):
    info = xp.__array_namespace_info__()
    dev = info.default_device()
    assert info.devices() == [dev]
    defaults = info.default_dtypes(device=dev)
    assert defaults["real floating"] == xp.float32
    kinds = info.dtypes(kind="integral")
    assert all(xp.isdtype(t, "integral") for t in kinds.values())
    assert "float32" in info.dtypes() and "bool" in info.dtypes()
    assert info.capabilities()["boolean indexing"] is False


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)),
                                   ((2, 3), (3,)), ((1, 2, 3), (5, 3, 2))])
def test_matmul(backend, sa, sb):
    rng = np.random.default_rng(3)
    a = rng.random(sa, dtype=np.float32)
    b = rng.random(sb, dtype=np.float32)
    got = xp.matmul(xp.asarray(a), xp.asarray(b))
    np.testing.assert_allclose(np.asarray(got), a @ b, rtol=1e-5)
    np.testing.assert_allclose(np.asarray((xp.asarray(a) * 2) @ xp.asarray(b)), 2 * a @ b,
                               rtol=1e-5)
    if len(sb) == 2:     # a transposed (strided) operand
        bt = xp.asarray(np.ascontiguousarray(b.T)).T
        np.testing.assert_allclose(np.asarray(xp.asarray(a) @ bt), a @ b, rtol=1e-5)
    with pytest.raises(ValueError, match="align"):
        xp.asarray(a) @ xp.asarray(np.ones((7, 2), dtype=np.float32))


def test_more_manipulation(backend):
    a = xp.asarray(A.reshape(3, 2, 2))
    B = A.reshape(3, 2, 2)
    np.testing.assert_array_equal(np.asarray(xp.moveaxis(a, (0, 1), (2, 0))),
                                  np.moveaxis(B, (0, 1), (2, 0)))
    for i, u in enumerate(xp.unstack(a, axis=1)):
        np.testing.assert_array_equal(np.asarray(u), B[:, i])
    np.testing.assert_array_equal(np.asarray(xp.roll(a, (1, -1), axis=(0, 2))),
                                  np.roll(B, (1, -1), axis=(0, 2)))
    np.testing.assert_array_equal(np.asarray(xp.roll(a, 5)), np.roll(B, 5))
    np.testing.assert_array_equal(np.asarray(xp.tile(a, (2, 1, 3))), np.tile(B, (2, 1, 3)))
    np.testing.assert_array_equal(np.asarray(xp.repeat(a, 2, axis=1)), np.repeat(B, 2, axis=1))
    counts = xp.asarray(np.array([2, 0, 1], dtype=np.int64))
    np.testing.assert_array_equal(np.asarray(xp.repeat(a, counts, axis=0)),
                                  np.repeat(B, [2, 0, 1], axis=0))


def test_vecdot_tensordot_and_sequences_of_arrays(backend):
    rng = np.random.default_rng(9)
    a = rng.random((2, 3, 4), dtype=np.float32)
    b = rng.random((3, 4, 5), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(xp.tensordot(xp.asarray(a), xp.asarray(b))),
                               np.tensordot(a, b), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.tensordot(xp.asarray(a), xp.asarray(b),
                                                       axes=([1], [0]))),
                               np.tensordot(a, b, axes=([1], [0])), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.vecdot(xp.asarray(a), xp.asarray(a))),
                               np.sum(a * a, axis=-1), rtol=1e-5)
    x = xp.asarray(a)
    s = xp.asarray([x[0, 0, 0], x[1, 2, 3]])
    assert s.dtype == xp.float32
    np.testing.assert_array_equal(np.asarray(s), [a[0, 0, 0], a[1, 2, 3]])


def test_reshape_and_tile_take_an_int_or_name_the_bad_argument(backend):
    h = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = xp.asarray(h)
    np.testing.assert_array_equal(np.asarray(xp.reshape(x, -1)), h.reshape(-1))
    np.testing.assert_array_equal(np.asarray(xp.tile(x[0], 2)), np.tile(h[0], 2))
    with pytest.raises(TypeError, match=r"reshape: shape must be a tuple of ints .*'ab'"):
        xp.reshape(x, "ab")
    with pytest.raises(TypeError, match="tile: repetitions must be a tuple of ints"):
        xp.tile(x, 2.5)
