"""sort, argsort and searchsorted against NumPy: every real dtype, axes, lengths that
fit a tile and longer ones (global merge passes), NaNs and signed zeros, stability,
descending order, views and pending inputs, bad arguments."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.array_api import _radix_kernels, _sort_kernels, _sorting

from ..codegen.targets import emit_and_compile

RNG = np.random.default_rng(7)


def _ref_argsort(a, axis, descending):
    """NumPy's stable argsort; descending keeps equal elements in their order (NaNs
    first, as array-api-strict's descending sort)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(a, axis=axis), axis=axis, kind="stable")
    return a.shape[axis] - 1 - np.flip(flipped, axis=axis)


def _check(x, a, axis=-1, descending=False):
    want = _ref_argsort(a, axis, descending)
    got = np.asarray(xp.argsort(x, axis=axis, descending=descending))
    assert got.dtype == np.int64 or got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    values = np.asarray(xp.sort(x, axis=axis, descending=descending))
    expect = np.take_along_axis(a, want, axis=axis)
    assert values.dtype == a.dtype
    np.testing.assert_array_equal(values, expect)
    if a.dtype.kind == "f":   # the zeros keep their signs (elements are moved, not rebuilt)
        np.testing.assert_array_equal(np.signbit(values), np.signbit(expect))


def _floats(shape):
    a = RNG.integers(-4, 5, shape).astype(np.float32)     # many ties
    flat = a.reshape(-1)
    flat[::7] = np.nan
    flat[1::5] = -0.0
    flat[2::9] = np.inf
    flat[3::11] = -np.inf
    return a


@pytest.mark.parametrize("shape,axis", [((13,), 0), ((1,), -1), ((8,), 0), ((3, 64), 1),
                                        ((5, 6), 0), ((2, 3, 33), -2), ((4, 2, 5), 2)])
def test_sort_and_argsort_match_numpy(backend, shape, axis):
    a = _floats(shape)
    for descending in (False, True):
        _check(xp.asarray(a), a, axis, descending)


def test_every_real_dtype(backend):
    info = xp.__array_namespace_info__()
    names = info.dtypes(kind=("integral", "real floating"))
    if backend == "opencl":     # PoCL compiles each key type's kernels in seconds
        names = {n: t for n, t in names.items() if n in ("int8", "uint64", "float32",
                                                         "float64")}
    for name, t in names.items():
        t_np = np.dtype(name)
        if t_np.kind == "f":
            a = RNG.normal(size=40).astype(t_np)
            a[::6], a[1::8], a[2::9] = np.nan, -0.0, np.inf
        else:
            lim = np.iinfo(t_np)
            a = RNG.integers(lim.min, lim.max, 40, dtype=t_np, endpoint=True)
            a[::5], a[1::5], a[2::7] = lim.max, lim.min, 0
        for descending in (False, True):
            _check(xp.asarray(a), a, descending=descending)
    flags = RNG.integers(0, 2, 33).astype(bool)
    _check(xp.asarray(flags), flags)
    _check(xp.asarray(flags), flags, descending=True)


def test_stable_with_many_ties(backend):
    a = RNG.integers(0, 3, (4, 300)).astype(np.int32)
    x = xp.asarray(a)
    np.testing.assert_array_equal(np.asarray(xp.argsort(x)), np.argsort(a, kind="stable"))
    np.testing.assert_array_equal(np.asarray(xp.argsort(x, stable=False)),
                                  np.argsort(a, kind="stable"))
    _check(x, a, axis=0, descending=True)


@pytest.fixture
def fresh_plans(backend):
    """No plan made before (or kept after) a test that changes how sorts record: a
    later flush of a structure replays what its first recorded."""
    from vkdispatch.execution import plan
    plan.plan_cache(vd.get_context()).clear()
    yield
    plan.plan_cache(vd.get_context()).clear()


@pytest.fixture(params=["serial", "workgroups"])
def radix(request, monkeypatch, fresh_plans):
    """The radix sort's variant: serial tile walks (CPU drivers) or the GPU kernels,
    which CPU drivers run too when asked; groups of 2 tiles a row at most, so short
    rows have several."""
    monkeypatch.setattr(_sorting, "WORKGROUPS_ON_CPU", request.param == "workgroups")
    monkeypatch.setattr(_sorting, "MAX_GROUPS_PER_ROW", 2)
    return request.param


def _radix_cases(backend, radix):
    """(dtype, shape, axis): rows longer than a sort tile (4096 slots), the 64-bit
    keys' 16 passes, narrow keys' fewer passes, batched rows along other axes."""
    cases = [("float32", (4500, 3), 0), ("int64", (3, 4100, 2), 1), ("int8", (2, 5000), 1),
             ("float64", (6001,), 0), ("uint16", (4097,), 0), ("bool", (4300, 2), 0),
             ("uint32", (8192,), 0), ("int32", (2, 4500), -1), ("uint64", (4200,), 0)]
    if backend == "opencl":     # PoCL compiles a kernel in ~0.3 s (the GPU ones: seconds)
        if radix == "workgroups" and vd.get_context().device.device_type == "cpu":
            pytest.skip("PoCL runs the serial kernels; lavapipe runs the GPU ones here")
        cases = cases[:2]
    names = xp.__array_namespace_info__().dtypes()
    return [c for c in cases if c[0] in names]


def _radix_data(name, shape):
    t = np.dtype(name)
    if t.kind == "b":
        return RNG.integers(0, 2, shape).astype(bool)
    if t.kind == "f":
        a = RNG.integers(-40, 40, shape).astype(t) * t.type(0.25)      # ties
        flat = a.reshape(-1)
        flat[::7], flat[1::5], flat[2::9], flat[3::11] = np.nan, -0.0, np.inf, -np.inf
        flat[4::13] = 0.0
        flat[5::17] = RNG.standard_normal(flat[5::17].size) * 1e30
        return a
    lim = np.iinfo(t)
    a = RNG.integers(lim.min, lim.max, shape, dtype=t, endpoint=True)
    flat = a.reshape(-1)
    flat[::5], flat[1::5], flat[2::7] = lim.max, lim.min, 0
    flat[3::3] %= 7                                                    # ties
    return a


def test_radix_sort_matches_numpy(backend, radix, monkeypatch):
    """Stable order of equal keys ascending and descending, NaNs last (first when
    descending), -0.0 == +0.0 in their order, against NumPy's stable sort; the kernels
    walk their grid (3 workgroups a launch)."""
    launch = _sorting.launch
    monkeypatch.setattr(_sorting, "launch", lambda graph, kern, groups, buffers, values:
                        launch(graph, kern, (min(groups[0], 3), 1, 1), buffers, values))
    for name, shape, axis in _radix_cases(backend, radix):
        a = _radix_data(name, shape)
        assert _sorting.radix_variant(vd.get_context().device, _sort_kernels.key_type(
            a.dtype), shape[axis]) is not None
        for descending in (False, True):
            _check(xp.asarray(a), a, axis, descending)


def test_radix_sort_dispatches(backend):
    """A float32 argsort of a long row: keys, 8 passes of 3 kernels, the result; a
    row of another length compiles nothing (sizes are kernel arguments)."""
    a = RNG.random(1 << 16, dtype=np.float32)
    np.asarray(xp.argsort(xp.asarray(a)))
    before = vd.stats()
    got = np.asarray(xp.argsort(xp.asarray(a[:-1001])))
    spent = vd.stats() - before
    assert spent.dispatches_recorded == 26 and spent.kernels_compiled == 0
    np.testing.assert_array_equal(got, np.argsort(a[:-1001], kind="stable"))


@pytest.mark.parametrize("span", [5, 16 * 37, 16 * 64 + 3])
def test_radix_scan_kernel_gives_exclusive_prefix_sums(backend, span):
    """The scan of the radix passes' group sums, alone: rows of `span` entries, runs
    of several blocks of loads and a tail (16 invocations), two workgroups walking 3
    rows."""
    from vkdispatch.array_api._kernels import KernelCache, launch
    ctx = vd.get_context()
    kern = KernelCache().get(ctx, ("scan", 16), lambda dev: _radix_kernels.scan_kernel(16, dev))
    sums = RNG.integers(0, 1000, (3, span)).astype(np.int32)
    buf = vd.asbuffer(sums)
    graph = vd.CommandGraph()
    launch(graph, kern, (2, 1, 1), [buf], {"rows": 3, "span": span})
    graph.submit()
    want = np.cumsum(sums, axis=1) - sums
    np.testing.assert_array_equal(buf.read(0).reshape(3, span), want)


@pytest.mark.parametrize("shape,axis", [((3, 100), 1), ((6000,), 0), ((2, 5000, 2), 1)])
def test_a_repeated_sort_runs_on_its_own_memory(backend, shape, axis):
    """Later flushes of a sort's structure record the dispatches captured at the first
    on their own input, output and scratch memory (rows in one tile, and radix rows,
    through a strided view): every result matches NumPy and records as much work."""
    counts = []
    for seed in range(3):
        a = _floats(shape)
        np.random.default_rng(seed).shuffle(a.reshape(-1))
        x = xp.asarray(a)
        churn = xp.sort(xp.asarray(_floats((257,))))    # other memory from the pool between
        before = vd.stats()
        got = np.asarray(xp.argsort(x, axis=axis))
        counts.append((vd.stats() - before).dispatches_recorded)
        np.testing.assert_array_equal(got, np.argsort(a, axis=axis, kind="stable"))
        np.testing.assert_array_equal(np.asarray(xp.sort(x, axis=axis)),
                                      np.sort(a, axis=axis, kind="stable"))
        np.asarray(churn)
    assert counts[0] == counts[1] == counts[2] > 0, counts


def test_a_repeated_sort_keeps_no_memory_alive(backend):
    """What a sort keeps for its next flush holds none of its call's memory."""
    import gc
    import weakref
    buf = vd.asbuffer(_floats((6000,)))
    got = np.asarray(xp.sort(xp.from_buffer(buf)))
    np.testing.assert_array_equal(got, np.sort(buf.read(0)))
    gone = weakref.ref(buf)
    del buf
    again = _floats((6000,))
    np.testing.assert_array_equal(np.asarray(xp.sort(xp.asarray(again))), np.sort(again))
    gc.collect()
    assert gone() is None


def test_sort_path_choice(dummy):
    """Rows that fit a tile: bitonic; longer ones: radix (on CPU drivers: serial, from
    shorter rows); 64-bit keys on a device without 64-bit integers: bitonic merges."""
    import dataclasses
    from vkdispatch.array_api import _dtypes as d
    c, _ = _sort_kernels.tile_shape(dummy, d.uint32)
    assert _sorting.radix_variant(dummy, d.uint32, c) is None
    assert _sorting.radix_variant(dummy, d.uint32, c + 1) == "groups"
    assert _sorting.radix_variant(dummy, d.uint64, 1 << 20) == "groups"
    cpu = dataclasses.replace(dummy, device_type="cpu")
    assert _sorting.radix_variant(cpu, d.uint32, _sorting.SERIAL_ABOVE) is None
    assert _sorting.radix_variant(cpu, d.uint32, _sorting.SERIAL_ABOVE + 1) == "serial"
    no_int64 = dataclasses.replace(dummy, int64=False)
    assert _sorting.radix_variant(no_int64, d.uint64, 1 << 20) is None
    assert _sorting.radix_variant(no_int64, d.uint32, 1 << 20) == "groups"


def test_rows_longer_than_a_tile(backend, monkeypatch, fresh_plans):
    """The bitonic merges between tiles (64-bit keys on devices without 64-bit
    integers): 5000 and 9001 elements (a tile is at most 4096 slots); the strided
    axis-0 read takes the same path."""
    monkeypatch.setattr(_sorting, "RADIX_ABOVE", 1 << 31)
    a = _floats((9001, 2))
    _check(xp.asarray(a), a, axis=0)
    b = _floats((5000,))
    _check(xp.asarray(b), b, descending=True)
    if "float64" in xp.__array_namespace_info__().dtypes():   # 64-bit keys: 2048-slot tiles
        c = _floats((3000,)).astype(np.float64) + RNG.random(3000) * 1e-12
        _check(xp.asarray(c), c)


def test_a_row_of_a_million(backend):
    a = RNG.random(1 << 20, dtype=np.float32)
    a[:-1:2] = a[1::2]        # ties across the row
    got = np.asarray(xp.argsort(xp.asarray(a)))
    np.testing.assert_array_equal(got, np.argsort(a, kind="stable"))


def test_empty_and_zero_d(backend):
    for shape, axis in (((0,), 0), ((3, 0), 1), ((0, 4), 0), ((0, 4), 1)):
        a = np.zeros(shape, np.float32)
        assert xp.sort(xp.asarray(a), axis=axis).shape == shape
        out = xp.argsort(xp.asarray(a), axis=axis)
        assert out.shape == shape and np.asarray(out).size == 0
    with pytest.raises(IndexError, match="axis"):
        xp.sort(xp.asarray(np.float32(3)))
    with pytest.raises(IndexError, match="axis"):
        xp.argsort(xp.asarray(np.float32(3)), axis=0)


def test_views_pending_inputs_and_replay(backend):
    a = _floats((6, 20))
    x = xp.asarray(a)
    _check(x[::2, 1::3], a[::2, 1::3], axis=1)
    _check(x.T, a.T, axis=0)
    np.testing.assert_array_equal(np.asarray(xp.sort(x * 2 + 1, axis=0) - 1),
                                  np.sort(a * 2 + 1, axis=0) - 1)

    def run():
        s = xp.sort(x[:, ::-1] + 1, axis=1, descending=True)
        return np.asarray(s + xp.astype(xp.argsort(x.T, axis=0).T, xp.float32))
    want = (_ref_argsort(a[:, ::-1] + 1, 1, True), np.argsort(a.T, axis=0, kind="stable").T)
    want = np.take_along_axis(a[:, ::-1] + 1, want[0], axis=1) + want[1]
    np.testing.assert_array_equal(run(), want)
    before = vd.stats()
    np.testing.assert_array_equal(run(), want)
    assert (vd.stats() - before).kernels_compiled == 0


def test_writes_after_a_sort_come_after_it(backend):
    a = np.array([3, 1, 2, 5], np.float32)
    x = xp.asarray(a)
    s, i = xp.sort(x), xp.argsort(x)
    x[0] = 100.0
    found = xp.searchsorted(s, xp.asarray(np.float32([2.5, 9])))
    x[1] = -7.0
    np.testing.assert_array_equal(np.asarray(s), [1, 2, 3, 5])
    np.testing.assert_array_equal(np.asarray(i), [1, 2, 0, 3])
    np.testing.assert_array_equal(np.asarray(found), [2, 4])
    np.testing.assert_array_equal(np.asarray(x), [100, -7, 2, 5])


def test_bad_arguments(backend):
    x = xp.asarray(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="complex64"):
        xp.sort(xp.asarray(np.zeros(3, np.complex64)))
    with pytest.raises(TypeError, match="complex128|complex64"):
        xp.argsort(xp.asarray(np.zeros(3, np.complex64)).astype(xp.complex64))
    with pytest.raises(TypeError, match="array"):
        xp.sort([3, 1, 2])
    with pytest.raises(IndexError, match="axis 2"):
        xp.sort(x, axis=2)
    with pytest.raises(TypeError, match="axis"):
        xp.argsort(x, axis=None)
    with pytest.raises(TypeError, match="descending"):
        xp.sort(x, descending="yes")


def test_searchsorted(backend):
    a1 = RNG.integers(0, 20, 40).astype(np.float32)
    a1[-3:], a1[5], a1[6] = np.nan, -0.0, 0.0
    a1 = np.sort(a1)
    a2 = RNG.integers(-2, 23, (4, 5)).astype(np.float32)
    a2[0, 0], a2[1, 1], a2[1, 2], a2[2, 2] = np.nan, 0.0, -0.0, np.inf
    perm = RNG.permutation(a1.size)
    shuffled, order = a1[perm], np.argsort(a1[perm], kind="stable")
    x1, x2 = xp.asarray(a1), xp.asarray(a2)
    for side in ("left", "right"):
        got = xp.searchsorted(x1, x2, side=side)
        assert got.dtype == xp.__array_namespace_info__().default_dtypes()["indexing"]
        np.testing.assert_array_equal(np.asarray(got), np.searchsorted(a1, a2, side=side))
        got = xp.searchsorted(xp.asarray(shuffled), x2.T[::2], side=side,
                              sorter=xp.argsort(xp.asarray(shuffled)))
        np.testing.assert_array_equal(np.asarray(got), np.searchsorted(
            shuffled, a2.T[::2], side=side, sorter=order))
        got = xp.searchsorted(x1[::2], xp.asarray(np.float32(7)), side=side)
        assert got.shape == () and int(got) == np.searchsorted(a1[::2], 7, side=side)
        assert int(xp.searchsorted(x1, 7.0, side=side)) == np.searchsorted(a1, 7, side=side)
    ints = np.arange(0, 90, 3, dtype=np.int16)
    keys = np.arange(-5, 95, dtype=np.int32)
    np.testing.assert_array_equal(
        np.asarray(xp.searchsorted(xp.asarray(ints), xp.asarray(keys) - 0, side="right")),
        np.searchsorted(ints, keys, side="right"))
    np.testing.assert_array_equal(np.asarray(xp.searchsorted(xp.asarray(ints[:0]), xp.asarray(keys[:5]))),
                                  np.zeros(5))
    assert xp.searchsorted(x1, x2[:0]).shape == (0, 5)


def test_searchsorted_bad_arguments(backend):
    x1 = xp.asarray(np.arange(5, dtype=np.float32))
    with pytest.raises(ValueError, match="1-D"):
        xp.searchsorted(xp.reshape(x1[:4], (2, 2)), x1)
    with pytest.raises(ValueError, match="side"):
        xp.searchsorted(x1, x1, side="middle")
    with pytest.raises(TypeError, match="no promoted type"):
        xp.searchsorted(x1, xp.asarray(np.arange(3, dtype=np.int32)))
    with pytest.raises(TypeError, match="sorter"):
        xp.searchsorted(x1, x1, sorter=x1)
    with pytest.raises(ValueError, match="sorter"):
        xp.searchsorted(x1, x1, sorter=xp.asarray(np.arange(4, dtype=np.int32)))
    with pytest.raises(TypeError, match="complex"):
        xp.searchsorted(x1, xp.asarray(np.zeros(2, np.complex64)))
    with pytest.raises(TypeError, match="x1"):
        xp.searchsorted(np.arange(3), x1)


def test_kernels_emit_for_every_target(dummy):
    """The kernels (bitonic and radix) emit as GLSL, CUDA and OpenCL (and compile with
    NVRTC where present)."""
    from vkdispatch.array_api import _dtypes as d
    kernels = []
    for t in (d.float64, d.int8, d.bool):
        kt = _sort_kernels.key_type(t)
        c, w = _sort_kernels.tile_shape(dummy, kt)
        kernels += [_sort_kernels.tiles_kernel(3, t, kt, c, w, dummy),
                    _sort_kernels.step_kernel(kt, w, dummy),
                    _sort_kernels.merge_kernel(kt, c, w, dummy),
                    _sort_kernels.gather_kernel(3, t, t, w, dummy)]
    for t in (d.float32, d.uint64, d.int16):
        kt = _sort_kernels.key_type(t)
        w, e = _radix_kernels.tile_shape(dummy, kt)
        kernels += [_radix_kernels.keys_kernel(2, t, kt, 256, dummy),
                    _radix_kernels.histogram_kernel(kt, w, e, dummy),
                    _radix_kernels.scatter_kernel(kt, w, e, dummy),
                    _radix_kernels.serial_histogram_kernel(kt, 64, 1024, dummy),
                    _radix_kernels.serial_scatter_kernel(kt, 64, 1024, dummy)]
    kernels += [_radix_kernels.scan_kernel(256, dummy)]
    for t in (d.int8, d.int32, d.uint64, d.bool):     # keys alone (integer and bool sorts)
        kt = _sort_kernels.key_type(t)
        w, e = _radix_kernels.tile_shape(dummy, kt)
        kernels += [_radix_kernels.keys_kernel(2, t, kt, 256, dummy, pairs=False),
                    _radix_kernels.scatter_kernel(kt, w, e, dummy, pairs=False),
                    _radix_kernels.values_kernel(2, t, kt, 256, dummy)]
    kernels += [_sort_kernels.gather_kernel(2, d.int64, None, 64, dummy),
                _sort_kernels.search_kernel(2, d.float32, d.float32, d.float32, d.int64,
                                            d.int64, 64, dummy)]
    emit_and_compile(kernels)
