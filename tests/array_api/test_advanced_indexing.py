"""take, take_along_axis, nonzero, integer-array and boolean-mask indexing against NumPy
(generated gather / scatter / compaction kernels on every backend)."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

from ..codegen.targets import emit_and_compile

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 5, 6)).astype(np.float32)
I64 = np.array([3, -1, 0, 2, -4, 3])


def check(got, expected):
    got = np.asarray(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_take(backend):
    x = xp.asarray(A)
    for axis in (0, 1, 2, -1):
        n = A.shape[axis]
        idx = np.array([0, n - 1, -n, -1, 1, 1])
        check(xp.take(x, xp.asarray(idx), axis=axis), np.take(A, idx, axis=axis))
    v = A[0, 0]
    check(xp.take(x[0, 0], xp.asarray(I64[:4])), np.take(v, I64[:4]))
    for t in (np.int32, np.uint8):
        idx = np.array([4, 0, 2], dtype=t)
        check(xp.take(x, xp.asarray(idx), axis=1), np.take(A, idx, axis=1))
    check(xp.take(x, xp.asarray(np.zeros(0, np.int64)), axis=2), np.take(A, [], axis=2))


def test_take_views_and_pending_inputs(backend):
    x = xp.asarray(A)
    idx = xp.asarray(np.array([1, -1, 0]))
    check(xp.take(x[::2, :, 1::2], idx, axis=2), np.take(A[::2, :, 1::2], [1, -1, 0], axis=2))
    check(xp.take(x[1].T, idx, axis=0), np.take(A[1].T, [1, -1, 0], axis=0))
    check(xp.take(x * 2 + 1, idx, axis=1), np.take(A * 2 + 1, [1, -1, 0], axis=1))
    pending_idx = xp.asarray(np.array([0, 1, 2])) - 1        # -1, 0, 1
    out = xp.take(x, pending_idx, axis=0) * 3                  # usable in later lazy ops
    check(out, np.take(A, [-1, 0, 1], axis=0) * 3)
    check(xp.take(x, idx[::-1], axis=1), np.take(A, [0, -1, 1], axis=1))


def test_take_along_axis(backend):
    x = xp.asarray(A)
    for axis in (0, 1, -1):
        idx = np.argsort(A, axis=axis)[..., :] - A.shape[axis] * (RNG.random(A.shape) < .3)
        check(xp.take_along_axis(x, xp.asarray(idx), axis=axis),
              np.take_along_axis(A, idx, axis=axis))
    idx = RNG.integers(-6, 6, size=(1, 5, 9))            # broadcast over axis 0, longer
    check(xp.take_along_axis(x, xp.asarray(idx), axis=2), np.take_along_axis(A, idx, axis=2))
    row = A[:1]                                           # x broadcast against the indices
    idx = RNG.integers(0, 6, size=(3, 5, 2))
    check(xp.take_along_axis(x[:1], xp.asarray(idx)), np.take_along_axis(
        np.broadcast_to(row, (3, 5, 6)), idx, axis=-1))
    check(xp.take_along_axis(xp.permute_dims(x[:, ::2], (2, 1, 0)), xp.asarray(np.zeros((6, 3, 0), np.int64)), axis=2),
          np.zeros((6, 3, 0), np.float32))


def test_integer_array_getitem(backend):
    x = xp.asarray(A)
    i = np.array([[0, -1], [2, 3]])
    j = np.array([4, -5])
    xi, xj = xp.asarray(i), xp.asarray(j)
    check(x[xi], A[i])
    check(x[xi, xj], A[i, j])                 # broadcast (2, 2) with (2,)
    check(x[xi, xj, 2], A[i, j, 2])           # integers zip in
    check(x[1, xj, -1], A[1, j, -1])
    check(x[:, xj], A[:, j])
    check(x[xi, :, xj], A[i, :, j])           # not adjacent: index dimensions first
    check(x[..., xj], A[..., j])
    check(x[None, 1:, xj], A[None, 1:, j])
    check(x[xp.asarray(2), xp.asarray(-1), 3], A[2, -1, 3])   # 0-d arrays: one element
    check(x[::2, ::-1][xp.asarray(np.array([1, -2]))], A[::2, ::-1][[1, -2]])
    check(x[xp.asarray(np.array([1, 2], np.int8)), 0], A[[1, 2], 0])
    check(x[xp.asarray(np.zeros((0, 2), np.int64))], A[np.zeros((0, 2), np.int64)])


def test_integer_array_setitem(backend):
    host = A.copy()
    x = xp.asarray(host)
    i = np.array([0, -1, 2])
    x[xp.asarray(i), 1] = 5.0
    host[i, 1] = 5.0
    v = RNG.standard_normal((3, 6)).astype(np.float32)
    x[xp.asarray(i), 2] = xp.asarray(v)
    host[i, 2] = v
    x[1, :, xp.asarray(np.array([0, 5]))] = xp.asarray(np.float32([[1], [2]]))
    host[1, :, [0, 5]] = np.float32([[1], [2]])     # not adjacent: selection (2, 5)
    check(x, host)


@pytest.fixture(params=["serial", "workgroups"])
def compaction(request, monkeypatch):
    """Both compaction kernels on every backend (CPU drivers pick the serial ones)."""
    from vkdispatch.array_api import _compact
    monkeypatch.setattr(_compact, "WORKGROUPS_ON_CPU", request.param == "workgroups")
    return request.param


def test_nonzero(backend, compaction):
    default = xp.__array_namespace_info__().default_dtypes()["indexing"]
    cases = [np.array([0, 3, 0, -1, 2], np.int32), A > 0.5, A[0] - A[0],
             np.zeros((0,), np.float32), np.zeros((3, 0), bool), np.ones((2, 3), bool),
             np.array([0j, 1j, 2 + 0j], np.complex64)]
    for host in cases:
        got = xp.nonzero(xp.asarray(host))
        want = np.nonzero(host)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == default and g.shape == w.shape
            np.testing.assert_array_equal(np.asarray(g), w)
    x = xp.asarray(A)
    got = xp.nonzero(xp.permute_dims(x[::2, 1:], (2, 0, 1)) > 0)                 # a strided, pending input
    for g, w in zip(got, np.nonzero(A[::2, 1:].transpose(2, 0, 1) > 0)):
        np.testing.assert_array_equal(np.asarray(g), w)
    with pytest.raises(ValueError, match="0-d"):
        xp.nonzero(xp.asarray(1.0))


def test_nonzero_long(backend, compaction):
    n = 2 ** 22 + 3
    host = RNG.random(n) < 0.4
    host[-1] = True
    (got,) = xp.nonzero(xp.asarray(host))
    np.testing.assert_array_equal(np.asarray(got), np.nonzero(host)[0])


def test_compaction_block_edges(backend, compaction, monkeypatch):
    """Lengths around the chunk (128, 256) and block sizes, densities 0 to 1, and
    workgroups taking several blocks each."""
    from vkdispatch.array_api import _compact_kernels
    monkeypatch.setattr(_compact_kernels.Variant, "groups", lambda v, ctx, nb: (3, 1, 1))
    for n in (1, 127, 128, 129, 257, 4096 * 256 + 1):
        for p in (0.0, 0.02, 0.5, 1.0):
            host = RNG.random(n) < p
            (got,) = xp.nonzero(xp.asarray(host))
            np.testing.assert_array_equal(np.asarray(got), np.nonzero(host)[0])


def test_past_the_storage_buffer_range(backend):
    """Arrays over 128 MiB (lavapipe's maxStorageBufferRange) are reached by device
    address in the gather, scatter and compaction kernels."""
    n = 2 ** 25 + 64
    x = xp.arange(n, dtype=xp.int32)
    check(xp.take(x, xp.asarray(np.array([0, n - 1, -2]))), np.int32([0, n - 1, n - 2]))
    m = x >= n - 3
    check(x[m], np.arange(n - 3, n, dtype=np.int32))
    x[m] = xp.asarray(np.int32([1, 2, 3]))
    check(x[-4:], np.int32([n - 4, 1, 2, 3]))


def test_mask_getitem(backend, compaction):
    x = xp.asarray(A)
    for mask in (A > 0, A[..., 0] > 0, A[:, 0, 0] > 0, np.zeros(A.shape, bool),
                 np.ones((4, 5), bool), np.zeros((0, 5), bool), np.zeros((4, 0, 6), bool)):
        want = A[mask] if 0 not in mask.shape else np.zeros(
            (0,) + A.shape[mask.ndim:], np.float32)
        check(x[xp.asarray(mask)], want)
    m = A[0] > 0
    check(x[1:, xp.asarray(m)], A[1:, m])
    check(x[..., xp.asarray(m[0])], A[..., m[0]])
    check(x[2, xp.asarray(m)], A[2, m])
    t = x[xp.asarray(True)]
    check(t, A[None])
    x[0, 0, 0] = 5.0                                    # advanced indexing copies
    check(t, A[None])
    x[0, 0, 0] = float(A[0, 0, 0])
    check(x[xp.asarray(False)], A[None][:0])
    check(x[::-1, 1:][x[::-1, 1:] > 0], A[::-1, 1:][A[::-1, 1:] > 0])   # strided, pending
    e = xp.asarray(np.zeros((0, 3), np.float32))
    check(e[xp.asarray(np.zeros((0, 3), bool))], np.zeros(0, np.float32))
    ints = xp.asarray(np.arange(10, dtype=np.int16))
    check(ints[ints % 3 == 0], np.arange(0, 10, 3, dtype=np.int16))


def test_mask_setitem(backend):
    host = A.copy()
    x = xp.asarray(host)
    mask = A > 0.3
    x[xp.asarray(mask)] = -1.0
    host[mask] = -1.0
    check(x, host)
    row = A[:, 0, 0] > 0                                # selected rows take a broadcast value
    value = RNG.standard_normal(6).astype(np.float32)
    x[xp.asarray(row[:, None].repeat(5, 1))] = xp.asarray(value)
    host[row[:, None].repeat(5, 1)] = value
    check(x, host)
    m = A[0] < 0                                        # as many values as True elements
    values = RNG.standard_normal(int(m.sum())).astype(np.float32)
    x[1][xp.asarray(m)] = xp.asarray(values)
    host[1][m] = values
    check(x, host)
    x[xp.asarray(np.zeros(A.shape, bool))] = 9.0        # all False: nothing changes
    x[2:, xp.asarray(np.ones((5, 6), bool))] = xp.asarray(np.float32(4))   # all True, 0-d
    host[2:] = 4
    check(x, host)
    x[xp.asarray(False)] = 7.0
    check(x, host)
    x[xp.asarray(True)] = xp.asarray(np.float32(3))
    check(x, np.full_like(host, 3))
    y, h = xp.asarray(A[0]), A[0].copy()             # values and indices in the memory written
    y[xp.asarray(np.array([False, True, True, False, True]))] = y[:3]
    h[[1, 2, 4]] = h[:3].copy()
    y[xp.asarray(np.array([0, 1])), xp.asarray(np.array([0, 1]))] = y[1:3, 0]
    h[[0, 1], [0, 1]] = h[1:3, 0].copy()
    check(y, h)
    z = xp.asarray(np.array([1, 0, 3, 2]))
    z[z] = z + 10                                       # z's own values index it
    check(z, np.array([10, 11, 12, 13]))
    b = xp.asarray(np.array([True, False, True]))
    b[b] = False                                        # a mask over its own memory
    check(b, np.zeros(3, bool))
    with pytest.raises(ValueError, match="broadcast"):
        x[xp.asarray(A > 0)] = xp.asarray(np.ones(3, np.float32))
    with pytest.raises(TypeError):
        x[xp.asarray(A > 0)] = xp.asarray(np.ones(2, np.complex64))


def test_empty_arrays_take_writes(backend):
    # contiguous strides of shape (2, 0) are (0, 1): not a broadcast view
    x = xp.zeros((2, 0))
    x[...] = 1.0
    x[xp.asarray(np.zeros((2, 0), bool))] = 2.0
    x[xp.asarray(np.array([1]))] = 3.0
    check(x, np.zeros((2, 0), np.float32))


def test_bad_indices(backend):
    x = xp.asarray(A)
    with pytest.raises(IndexError, match="integer"):
        xp.take(x, xp.asarray(np.float32([1])), axis=0)
    with pytest.raises(IndexError, match="integer or bool"):
        x[xp.asarray(np.float32([1]))]
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 1 with size 5"):
        xp.take(x, xp.asarray(np.array([0, 9])), axis=1)
    with pytest.raises(IndexError, match="index -7 is out of bounds"):
        x[:, :, xp.asarray(np.array([-7, 0]))]
    with pytest.raises(IndexError, match="out of bounds"):
        xp.take_along_axis(x, xp.asarray(np.full((4, 5, 1), 6)), axis=2)
    with pytest.raises(IndexError, match="does not match"):
        x[xp.asarray(np.ones((4, 6), bool))]
    with pytest.raises(IndexError, match="too many"):
        x[xp.asarray(np.ones((4, 5, 6, 1), bool))]
    with pytest.raises(IndexError, match="broadcast"):
        x[xp.asarray(np.array([0, 1])), xp.asarray(np.array([0, 1, 2]))]
    with pytest.raises(ValueError, match="needs an axis"):
        xp.take(x, xp.asarray(np.array([0])))
    with pytest.raises(ValueError, match="1-D"):
        xp.take(x, xp.asarray(np.zeros((1, 1), np.int64)), axis=0)
    with pytest.raises(ValueError, match="rank"):
        xp.take_along_axis(x, xp.asarray(np.zeros((4, 5), np.int64)), axis=0)
    with pytest.raises(TypeError):
        xp.take(A, xp.asarray(np.array([0])), axis=0)
    np.testing.assert_array_equal(np.asarray(x), A)     # nothing was written


def test_repeated_calls_compile_nothing(backend):
    x = xp.asarray(A)
    idx = xp.asarray(np.array([1, 0]))
    mask = xp.asarray(A > 0)

    def run(k):
        y = x + k
        y[mask] = float(k)
        return (np.asarray(xp.take(y, idx, axis=1)), np.asarray(y[mask]),
                np.asarray(xp.nonzero(mask)[2]))
    run(0)
    before = vd.stats()
    got = run(1)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta
    host = A + 1
    host[A > 0] = 1
    np.testing.assert_array_equal(got[0], np.take(host, [1, 0], axis=1))
    np.testing.assert_array_equal(got[1], host[A > 0])


def test_kernels_emit_for_every_target(dummy):
    """The gather/scatter and compaction kernels emit for GLSL, CUDA and OpenCL (and
    compile with NVRTC where it is installed: the CUDA backend is not on this CI)."""
    from vkdispatch.array_api import _compact_kernels, _gather
    from vkdispatch.codegen.builder import Builder
    kernels = [_gather._generate(False, 3, xp.float32, (xp.int64, xp.uint8), dummy),
               _gather._generate(True, 2, xp.bool, (xp.int32,), dummy),
               _compact_kernels.scan(Builder("vkd_mask_scan", dummy))]
    for v in (_compact_kernels.SERIAL, _compact_kernels.WORKGROUPS):
        kernels += [v.count(Builder("vkd_mask_count", dummy)),
                    v.coords(Builder("vkd_mask_coords", dummy), 2, xp.int64)]
    emit_and_compile(kernels)


def test_take_checks_its_indices_with_one_read(backend):
    """In-range indices cost one reduction and one small read (not a minimum and a
    maximum read apart); indices whose dtype cannot leave the axis cost none."""
    x = xp.asarray(np.arange(300, dtype=np.float32))
    idx = xp.asarray(np.array([0, 299, -300, 7], np.int32))
    np.asarray(xp.take(x, idx))
    before = vd.stats()
    got = xp.take(x, idx)
    spent = vd.stats() - before
    assert spent.submits == 1 and spent.bytes_from_device <= 4, spent
    np.testing.assert_array_equal(np.asarray(got), np.arange(300)[[0, 299, -300, 7]])
    small = xp.asarray(np.array([0, 255, 9], np.uint8))    # every uint8 is in [-300, 300)
    before = vd.stats()
    got = xp.take(x, small)
    assert (vd.stats() - before).submits == 0
    np.testing.assert_array_equal(np.asarray(got), np.arange(300)[[0, 255, 9]])
    with pytest.raises(IndexError, match="index 300 is out of bounds for axis 0 with size 300"):
        xp.take(x, xp.asarray(np.array([3, 300], np.int16)))
