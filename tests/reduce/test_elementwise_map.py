"""Reductions through an ElementwiseMap (the array layer's `sum(a * b)`): the reduction
loads the leaves itself, four at a time where they are 32-bit and 16-byte aligned,
against NumPy on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.base import dtype as dt
from vkdispatch.reduce import engine
from vkdispatch.reduce.elementwise import ElementwiseMap
from vkdispatch.reduce.stage import ROW, ROW4

RNG = np.random.default_rng(5)


def _axpy_body(leaves, scalars):
    a, b = leaves
    return a * b + scalars[0]


AXPY = ElementwiseMap("axpy", (dt.float32, dt.float32), (dt.float32,), _axpy_body, dt.float32)
# int32 leaves, exact sums
IPROD = ElementwiseMap("iprod", (dt.int32, dt.int32), (), lambda v, s: v[0] * v[1], dt.int32)


def _families(emap) -> set:
    """The kernel families the reductions over `emap` built in this context."""
    ctx = vd.get_context()
    return {key[0] for (op, _, m, *_), red in engine._reductions.items() if m is emap
            for key in red._kernels.get(ctx, {})}


def _offset_buffers(a, b, offsets):
    """Buffers holding a and b at element offsets `offsets` (junk before them)."""
    out = []
    for x, off in zip((a, b), offsets):
        host = np.concatenate([np.full(off, 1e6, x.dtype), x])
        out.append(vd.asbuffer(host))
    return out


@pytest.mark.parametrize("n", [1, 3, 4, 4099, 1 << 18])
@pytest.mark.parametrize("offsets", [(0, 0), (4, 8), (1, 3)])
def test_full_sum_matches_numpy(backend, n, offsets):
    a, b = (RNG.random(n, dtype=np.float32) for _ in range(2))
    ba, bb = _offset_buffers(a, b, offsets)
    out = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [ba, offsets[0], bb, offsets[1], 0.5],
                                   map_func=AXPY, shape=(n,))
    want = np.sum(a.astype(np.float64) * b + 0.5)
    np.testing.assert_allclose(out.read(0)[0], want, rtol=2e-6 * max(1, np.log2(n)))


def test_aligned_leaves_are_read_as_vectors(backend):
    n = 1 << 16
    a, b = (RNG.integers(-50, 50, n, dtype=np.int32) for _ in range(2))
    aligned = _offset_buffers(a, b, (4, 8))
    misaligned = _offset_buffers(a, b, (4, 2))
    want = int(np.sum(a.astype(np.int64) * b))
    got = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [aligned[0], 4, aligned[1], 8],
                                   map_func=IPROD, shape=(n,))
    assert int(got.read(0)[0]) == want
    assert ROW4 in _families(IPROD)
    got = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [misaligned[0], 4, misaligned[1], 2],
                                   map_func=IPROD, shape=(n,))
    assert int(got.read(0)[0]) == want
    assert ROW in _families(IPROD)


@pytest.mark.parametrize("shape,axes", [((64, 1000), (1,)), ((37, 12), (1,)), ((8, 300), (0,)),
                                        ((5, 6, 40), (0, 2))])
def test_axis_sums_match_numpy(backend, shape, axes):
    a, b = (RNG.integers(-9, 9, shape, dtype=np.int32) for _ in range(2))
    ba, bb = vd.asbuffer(a.ravel()), vd.asbuffer(b.ravel())
    out = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [ba, 0, bb, 0], map_func=IPROD,
                                   shape=shape, axes=axes)
    np.testing.assert_array_equal(out.read(0).reshape(out.shape),
                                  np.sum(a.astype(np.int64) * b, axis=axes))


def test_leaf_too_short_names_it(backend):
    a = vd.asbuffer(np.ones(10, np.float32))
    with pytest.raises(ValueError, match=r"leaf 1 must hold 10 elements from offset 4, but has 10"):
        vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [a, 0, a, 4, 1.0], map_func=AXPY,
                                 shape=(10,))
