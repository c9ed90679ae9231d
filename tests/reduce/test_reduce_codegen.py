"""Reduction kernels as source (dummy backend: no hardware), CUDA's compiled with NVRTC;
launch sizing within device limits; bad input named in the exception."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base.errors import BackendUnavailableError
from vkdispatch.codegen.abbreviations import Buff, f32, f64, i32, v2
from vkdispatch.reduce import engine


def _kernels():
    @vd.reduce.reduce(0)
    def total(a: f32, b: f32) -> f32:
        return a + b

    @vd.reduce.map_reduce(vd.reduce.SubgroupMax)
    def biggest(buf: Buff[i32]) -> i32:
        return buf[vd.reduce.mapped_io_index()]

    @vd.reduce.reduce(0)
    def pairs(a: v2, b: v2) -> v2:
        return a + b

    @vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
    def squares(samples: Buff[f64]) -> f64:
        v = samples[vd.reduce.mapped_io_index()]
        return v * v
    return total, biggest, pairs, squares


@pytest.mark.parametrize("target", ["glsl", "cuda", "opencl"])
def test_sources_for_every_target(dummy, target):
    for fn in _kernels():
        first, second = fn.get_src(target=target)
        column = fn.get_column_src(target=target)
        for src in (first, second, column):
            assert "row_len" in src and "rows" in src
        assert "main_iters" in first and "chunk_len" in column
    # a mapping function's parameters keep their names in the kernel (and its errors)
    assert "samples" in _kernels()[3].get_src(target=target)[0]
    first, _ = _kernels()[1].get_src(target="glsl")
    assert "subgroupMax" in first        # the dummy device has subgroup arithmetic
    first, _ = _kernels()[0].get_src(target="glsl")
    assert "subgroupShuffleXor" in first  # a Python-defined operation: a butterfly


def test_cuda_kernels_compile_with_nvrtc(dummy):
    try:
        from vkdispatch.backends.cuda.nvrtc import compile_cuda
    except ImportError as exc:
        pytest.skip(f"no NVRTC: {exc}")
    for fn in _kernels():
        for src in fn.get_src(target="cuda") + [fn.get_column_src(target="cuda")]:
            try:
                assert compile_cuda(src, arch="sm_90")
            except BackendUnavailableError as exc:
                pytest.skip(f"no NVRTC: {exc}")


def test_without_subgroups_the_workgroup_combines_in_shared_memory(dummy):
    vd.set_dummy_context_params(subgroup_ops=())
    first, _ = _kernels()[1].get_src(target="glsl")
    assert "subgroup" not in first and "barrier()" in first


class _Device:
    """What launch sizing reads of a device."""
    device_type = "cpu"
    compute_units = 2
    max_loop_iterations = 65_535
    max_workgroup_count = (65_535, 65_535, 65_535)
    name = "lavapipe-like"


@pytest.mark.parametrize("rows,row_len", [(1, 2 ** 32 - 1), (1, 2 ** 26), (3, 10 ** 9),
                                          (70_000, 50), (1, 0)])
def test_no_invocation_loops_past_the_device_limit(rows, row_len):
    dev = _Device()
    wg, u = 256, 8
    groups = engine._row_groups(dev, rows, row_len, wg, u)
    assert groups <= dev.max_workgroup_count[0]
    iterations = -(-row_len // (groups * wg * u)) + u + wg
    assert iterations <= dev.max_loop_iterations
    chunks, chunk_len = engine._column_chunks(dev, rows, row_len, 3, wg, u)
    assert chunk_len // u + u <= dev.max_loop_iterations and chunks * chunk_len >= row_len


@pytest.fixture
def sum_f32():
    @vd.reduce.reduce(0)
    def sum_f32(a: f32, b: f32) -> f32:
        return a + b
    return sum_f32


def test_bad_axes_name_the_argument_and_valid_range(backend, sum_f32):
    buf = vd.Buffer((4, 5), vd.float32)
    with pytest.raises(ValueError, match=r"axes: axis 2 is out of range .* -2 to 1"):
        sum_f32(buf, axes=2)
    with pytest.raises(ValueError, match="given twice"):
        sum_f32(buf, axes=(1, -1))
    with pytest.raises(TypeError, match="axes must"):
        sum_f32(buf, axes="0")


def test_bad_inputs_are_named(backend, sum_f32):
    with pytest.raises(TypeError, match=r"input 0 must be a buffer of float32.*int32"):
        sum_f32(vd.Buffer((4,), vd.int32))
    with pytest.raises(TypeError, match="takes 1 input"):
        sum_f32(vd.Buffer((4,), vd.float32), vd.Buffer((4,), vd.float32))
    with pytest.raises(TypeError, match="must be a vd.Buffer"):
        sum_f32(np.ones(4, np.float32))


def test_bad_definitions_are_refused(dummy):
    with pytest.raises(TypeError, match="'and' is defined for int, uint types, got float32"):
        vd.reduce.map_reduce(vd.reduce.SubgroupAnd)(
            vd.map(lambda b: b[0], return_type=f32, input_types=[Buff[f32]]))
    with pytest.raises(TypeError, match="not ordered; reduction 'min'"):
        vd.reduce.map_reduce(vd.reduce.SubgroupMin)(
            vd.map(lambda b: b[0], return_type=vd.complex64, input_types=[Buff[vd.complex64]]))
    with pytest.raises(TypeError, match="'add' is defined for complex, float, int, uint types, "
                                        "got bool"):
        vd.reduce.Reduction(vd.reduce.SubgroupAdd, vd.bool_)
    with pytest.raises(ValueError, match="not associative"):
        @vd.reduce.reduce(0)
        def difference(a: i32, b: i32) -> i32:
            return a - b
    with pytest.raises(ValueError, match="not an identity"):
        @vd.reduce.reduce(1)
        def total(a: i32, b: i32) -> i32:
            return a + b
    with pytest.raises(ValueError, match="return annotation"):
        @vd.reduce.reduce(0)
        def untyped(a, b):
            return a + b
    with pytest.raises(TypeError, match="two arguments"):
        @vd.reduce.reduce(0)
        def three(a: f32, b: f32, c: f32) -> f32:
            return a + b + c
    with pytest.raises(ValueError, match="group_size must be a power of two"):
        @vd.reduce.reduce(0, group_size=100)
        def odd_group(a: f32, b: f32) -> f32:
            return a + b
    with pytest.raises(TypeError, match="mapping_function returns float32 but"):
        @vd.reduce.reduce(0, mapping_function=vd.map(lambda b: b[0], return_type=f32,
                                                     input_types=[Buff[f32]]))
        def int_total(a: i32, b: i32) -> i32:
            return a + b
    with pytest.raises(TypeError, match="ReduceOp"):
        vd.reduce.map_reduce("add")
    with pytest.raises(vd.CodegenError, match="mapped_io_index"):
        vd.reduce.mapped_io_index()


def test_group_size_past_the_device_limit(dummy):
    vd.set_dummy_context_params(max_workgroup_size=(128, 1, 1))

    @vd.reduce.reduce(0, group_size=256)
    def total(a: f32, b: f32) -> f32:
        return a + b
    with pytest.raises(ValueError, match="group_size 256 exceeds"):
        total.get_src()


def test_library_entry_point(backend):
    data = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    out = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [vd.asbuffer(data)],
                                   out_type=vd.float32, axes=(0, 2))
    assert out.dtype is vd.float32
    np.testing.assert_array_equal(out.read(0), data.sum(axis=(0, 2)).astype(np.float32))
    square = vd.map(lambda b: b[vd.reduce.mapped_io_index()] * b[vd.reduce.mapped_io_index()],
                    return_type=vc.int32, input_types=[Buff[i32]])
    again = vd.reduce.reduce_buffers(vd.reduce.SubgroupAdd, [vd.asbuffer(data)], map_func=square)
    assert again.read(0)[0] == (data.astype(np.int64) ** 2).sum()
