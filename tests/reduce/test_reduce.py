"""vd.reduce against NumPy on random data, on every backend present. The reduction
functions live at module level so their kernels are built once per backend."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32, f64, i32, v2

RNG = np.random.default_rng(11)
F32_EPS = np.finfo(np.float32).eps


@vd.reduce.reduce(0)
def sum_f32(a: f32, b: f32) -> f32:
    return a + b


@vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
def sum_i32(buf: Buff[i32]) -> i32:
    return buf[vd.reduce.mapped_io_index()]


def _builtin(op):
    """The library entry point with a built-in operation: the buffer's own dtype, read
    four elements at a time (one kernel serves both stages)."""
    return lambda buf, **kw: vd.reduce.reduce_buffers(op, [buf], **kw)


prod = _builtin(vd.reduce.SubgroupMul)
minimum = _builtin(vd.reduce.SubgroupMin)
maximum = _builtin(vd.reduce.SubgroupMax)
bit_and = _builtin(vd.reduce.SubgroupAnd)
bit_or = _builtin(vd.reduce.SubgroupOr)
bit_xor = _builtin(vd.reduce.SubgroupXor)


@vd.reduce.reduce(0)
def sum_f64(a: f64, b: f64) -> f64:
    return a + b


def assert_float_sum(got, data, axis=None):
    """Within float32 summation error of the float64 sum."""
    exact = np.sum(data.astype(np.float64), axis=axis)
    bound = 64 * F32_EPS * np.sum(np.abs(data.astype(np.float64)), axis=axis) + 1e-30
    assert np.all(np.abs(np.asarray(got, np.float64) - exact) <= bound), (got, exact)


# sizes: below one group, not a multiple of any group size, beyond one workgroup's
# reach (two stages), and one that spreads over many workgroups
SIZES = (1, 255, 2049, 100_003, 1_000_001)


def test_sum_float32(backend):
    for n in SIZES:
        data = RNG.standard_normal(n).astype(np.float32)
        out = sum_f32(vd.asbuffer(data))
        assert out.shape == (1,) and out.dtype is vd.float32
        assert_float_sum(out.read(0)[0], data)


def test_sum_float64(backend):
    data = RNG.standard_normal(300_001)
    got = sum_f64(vd.asbuffer(data)).read(0)[0]
    assert abs(got - data.sum()) <= 1e-12 * np.abs(data).sum()


def test_integer_reductions_are_exact(backend):
    ints = RNG.integers(-1000, 1000, 300_001, dtype=np.int32)
    assert sum_i32(vd.asbuffer(ints)).read(0)[0] == ints.sum(dtype=np.int64)
    assert minimum(vd.asbuffer(ints)).read(0)[0] == ints.min()
    # int32 products wrap like NumPy's: multiplication mod 2**32 is associative
    factors = RNG.choice(np.array([1, -1, 3, 5, 7, -3], np.int32), 50_001)
    assert prod(vd.asbuffer(factors)).read(0)[0] == np.prod(factors, dtype=np.int32)
    bits = RNG.integers(0, 2 ** 32, 70_001, dtype=np.uint32)
    few = bits[:3]
    for fn, ref in ((bit_and, np.bitwise_and.reduce), (bit_or, np.bitwise_or.reduce),
                    (bit_xor, np.bitwise_xor.reduce)):
        assert fn(vd.asbuffer(bits)).read(0)[0] == ref(bits), fn
        assert fn(vd.asbuffer(few)).read(0)[0] == ref(few), fn


def test_min_max_float(backend):
    for n in (3, 5000, 200_003):
        data = RNG.standard_normal(n).astype(np.float32)
        assert minimum(vd.asbuffer(data)).read(0)[0] == data.min()
        assert maximum(vd.asbuffer(data)).read(0)[0] == data.max()


def test_empty_input_gives_the_identity(backend):
    empty_f = vd.Buffer((0,), vd.float32)
    assert sum_f32(empty_f).read(0)[0] == 0
    assert minimum(empty_f).read(0)[0] == np.inf
    assert maximum(empty_f).read(0)[0] == -np.inf
    assert bit_and(vd.Buffer((0,), vd.uint32)).read(0)[0] == 0xFFFFFFFF
    assert prod(vd.Buffer((0,), vd.int32)).read(0)[0] == 1
    rows = sum_f32(vd.Buffer((3, 0), vd.float32), axes=1)
    assert rows.shape == (3,) and np.all(rows.read(0) == 0)
    assert sum_f32(vd.Buffer((0, 4), vd.float32), axes=1).shape == (0,)


def test_axes_and_batches(backend):
    data = RNG.standard_normal((6, 7, 300)).astype(np.float32)
    buf = vd.asbuffer(data)
    for axes in (2, -1, (1, 2), 0, (0, 1), 1, (0, 2), (0, 1, 2), ()):
        out = sum_f32(buf, axes=axes)
        want_shape = np.sum(data, axis=axes).shape or (1,)
        assert out.shape == want_shape, axes
        assert_float_sum(out.read(0).reshape(np.sum(data, axis=axes).shape), data, axes)
    # many rows, each shorter than a workgroup; and a long column reduction
    rows = RNG.standard_normal((5000, 3)).astype(np.float32)
    assert_float_sum(sum_f32(vd.asbuffer(rows), axes=1).read(0), rows, 1)
    assert_float_sum(sum_f32(vd.asbuffer(rows), axes=0).read(0), rows, 0)
    few = RNG.standard_normal((10, 200)).astype(np.float32)   # rows split into chunks
    assert_float_sum(sum_f32(vd.asbuffer(few), axes=1).read(0), few, 1)
    np.testing.assert_array_equal(minimum(vd.asbuffer(few), axes=-1).read(0), few.min(axis=1))
    ints = RNG.integers(-50, 50, (4, 20_000, 5), dtype=np.int32)
    np.testing.assert_array_equal(sum_i32(vd.asbuffer(ints), axes=1).read(0),
                                  ints.sum(axis=1, dtype=np.int64))


def test_batched_map_reduce_as_in_0_1(backend):
    """vkdispatch 0.1's batched example: axes=[1] in the decorator."""
    @vd.reduce.map_reduce(vd.reduce.SubgroupAdd, axes=[1])
    def sum_map(buffer: Buff[f32]) -> f32:
        return vc.sin(buffer[vd.reduce.mapped_io_index()])

    data = RNG.random((10, 30_000)).astype(np.float32)
    got = sum_map(vd.asbuffer(data)).read(0)
    assert got.shape == (10,)
    assert_float_sum(got, np.sin(data.astype(np.float64)).astype(np.float32), 1)


def test_mapping_function_and_several_inputs(backend):
    @vd.map
    def weighted(x: Buff[f32], w: Buff[f32], scale: Const[f32]) -> f32:
        i = vd.reduce.mapped_io_index()
        return x[i] * w[i] * scale

    @vd.reduce.reduce(0, mapping_function=weighted)
    def dot(a: f32, b: f32) -> f32:
        return a + b

    x = RNG.standard_normal(100_003).astype(np.float32)
    w = RNG.random(100_003).astype(np.float32)
    xb, wb = vd.asbuffer(x), vd.asbuffer(w)
    graph = vd.CommandGraph()
    out = dot(xb, wb, 0.5, graph=graph)
    recorded = len(graph)
    # a refused call raises at the call and records nothing
    with pytest.raises((TypeError, ValueError)):
        dot(xb, wb, "half", graph=graph)
    with pytest.raises(ValueError, match="axes"):
        dot(xb, wb, 0.5, graph=graph, axes=3)
    assert len(graph) == recorded
    graph.submit(wait=True)
    assert_float_sum(out.read(0)[0], x * w * np.float32(0.5))


def test_vector_values_with_a_graph(backend):
    """0.1's 'listed reductions': vec2 values from two buffers, recorded into a graph."""
    @vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
    def sum_map(buffer: Buff[v2], buffer2: Buff[v2]) -> v2:
        ind = vd.reduce.mapped_io_index()
        return vc.sin(buffer[ind] + buffer2[ind])

    a = RNG.random((3000, 2)).astype(np.float32)
    b = RNG.random((3000, 2)).astype(np.float32)
    buf, buf2 = vd.Buffer((3000,), vd.vec2), vd.Buffer((3000,), vd.vec2)
    buf.write(a)
    buf2.write(b)
    graph = vd.CommandGraph()
    res = sum_map(buf, buf2, graph=graph)
    graph.submit()
    vd.queue_wait_idle()
    got = res.read(0)[0]
    assert_float_sum(got[0], np.sin(a + b)[:, 0])
    assert_float_sum(got[1], np.sin(a + b)[:, 1])


def test_custom_reduction_without_a_subgroup_operation(backend):
    @vd.reduce.reduce(0, group_size=64)
    def largest_magnitude(a: f32, b: f32) -> f32:
        return vc.max(vc.abs(a), vc.abs(b))

    data = RNG.standard_normal(70_001).astype(np.float32)
    assert largest_magnitude(vd.asbuffer(data)).read(0)[0] == np.abs(data).max()


def test_new_sizes_and_batches_compile_nothing(backend):
    # warm each kernel family: rows read 4 at a time, rows read one at a time (length
    # not a multiple of 4), columns (one stage and two), short rows
    sum_f32(vd.asbuffer(np.ones(5000, np.float32)))
    sum_f32(vd.asbuffer(np.ones((3, 4999), np.float32)), axes=1)
    sum_f32(vd.asbuffer(np.ones((4, 5), np.float32)), axes=0)
    sum_f32(vd.asbuffer(np.ones((400, 5000), np.float32)), axes=0)
    before = vd.stats()
    for shape, axes in (((123_457,), None), ((7, 9_999), 1), ((33, 3), 1), ((9, 7), 0),
                        ((11, 40_000), 1), ((3000, 17), 0)):
        data = RNG.standard_normal(shape).astype(np.float32)
        assert_float_sum(sum_f32(vd.asbuffer(data), axes=axes).read(0).reshape(
            np.sum(data, axis=axes).shape), data, axes)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta
    assert delta.dispatches_recorded >= 6


def test_views_aligned_and_not(backend):
    """Vector loads need rows that start 16-byte aligned; other rows read scalars.
    (Views bind at offsets of 128 bytes on PoCL, 16 on lavapipe.)"""
    data = RNG.standard_normal(10_007).astype(np.float32)
    buf = vd.asbuffer(data)
    assert_float_sum(sum_f32(buf.view(32)).read(0)[0], data[32:])
    rows = buf.view(32, (2, 4971))   # the second row does not start 16-byte aligned
    assert_float_sum(sum_f32(rows, axes=1).read(0), data[32:9974].reshape(2, 4971), 1)
    ints = RNG.integers(-9, 9, 4097, dtype=np.int32)
    low = vd.reduce.reduce_buffers(vd.reduce.SubgroupMin, [vd.asbuffer(ints)])
    assert low.dtype is vd.int32 and low.read(0)[0] == ints.min()


def test_input_past_one_storage_buffer_binding(backend):
    """Vulkan reaches a buffer larger than maxStorageBufferRange (lavapipe: 128 MiB)
    through its device address."""
    dev = vd.get_context().device
    if backend != "vulkan" or not dev.extra.get("buffer_device_address") \
            or dev.max_storage_buffer_range > 1 << 30:
        pytest.skip(f"{dev.name} binds this input as one storage buffer")
    data = RNG.random(dev.max_storage_buffer_range // 4 + 1001, dtype=np.float32)
    assert_float_sum(sum_f32(vd.asbuffer(data)).read(0)[0], data)


def test_complex_sum_and_bool_any(backend):
    z = (RNG.standard_normal(5001) + 1j * RNG.standard_normal(5001)).astype(np.complex64)
    got = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [vd.asbuffer(z)]).read(0)[0]
    exact = z.astype(np.complex128).sum()
    assert abs(got - exact) <= 64 * F32_EPS * np.abs(z).sum()
    flags = np.zeros(3000, bool)
    any_ = vd.reduce.reduce_buffers(vd.reduce.SubgroupOr, [vd.asbuffer(flags)], out_type=vd.uint32)
    assert any_.read(0)[0] == 0
    flags[2999] = True
    any_ = vd.reduce.reduce_buffers(vd.reduce.SubgroupOr, [vd.asbuffer(flags)], out_type=vd.uint32)
    assert any_.read(0)[0] == 1
