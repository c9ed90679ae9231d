"""Host-side pieces of the CUDA runtime that need no GPU: the kernel-parameter layout,
sampler validation, the device probe and error mapping."""
import pytest

pytest.importorskip("cuda.bindings.driver")

from cuda.bindings import driver  # noqa: E402

import vkdispatch.backends.cuda as cuda_backend  # noqa: E402
from vkdispatch.backends.cuda import _check, _image  # noqa: E402
from vkdispatch.backends.cuda._program import ParamLayout  # noqa: E402
from vkdispatch.base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, Binding, ProgramInfo, UniformField  # noqa: E402
from vkdispatch.base.errors import DeviceError, OutOfMemoryError, UnsupportedFeatureError  # noqa: E402
from vkdispatch.base.sampling import SamplerDesc  # noqa: E402


def test_param_layout_orders_bindings_by_index_then_uniforms():
    info = ProgramInfo(
        entry_point="k", local_size=(64, 1, 1),
        bindings=(Binding("x", BINDING_STORAGE_BUFFER, 2), Binding("t", BINDING_SAMPLED_IMAGE, 0),
                  Binding("y", BINDING_STORAGE_BUFFER, 1)),
        uniforms=(UniformField("a", "float32", 0, 4), UniformField("v", "vec4", 16, 16)),
        uniform_size=32)
    lay = ParamLayout(info)
    assert lay.binding_order == [1, 2, 0]        # t (index 0), y (1), x (2)
    assert lay.slot_of == [2, 0, 1]
    assert lay.uniform_offset == 24
    assert lay.param_offsets == [0, 8, 16, 24, 40]
    assert lay.param_sizes == [8, 8, 8, 4, 16]
    assert lay.uniform_needed == 32 and lay.uniform_size == 32 and lay.arena_size == 56


def test_param_layout_without_parameters():
    lay = ParamLayout(ProgramInfo(entry_point="k", local_size=(1, 1, 1)))
    assert lay.param_offsets == [] and lay.arena_size == 0


def test_sampler_validation():
    desc = SamplerDesc("nearest", "repeat", True)
    s = _image.make_sampler(desc)
    assert s == _image.CudaSampler("nearest", "repeat", True) and hash(s) == hash(
        _image.CudaSampler("nearest", "repeat", True))
    with pytest.raises(ValueError, match="filter"):
        SamplerDesc("cubic", "repeat", True)
    with pytest.raises(ValueError, match="address_mode"):
        SamplerDesc("linear", "wrap", True)
    with pytest.raises(ValueError, match="normalized"):
        SamplerDesc("linear", "repeat", False)


def test_sampler_modes_cuda_lacks_are_named():
    with pytest.raises(UnsupportedFeatureError, match="cuda backend has no separate minif"):
        _image.make_sampler(SamplerDesc("nearest", mag_filter="linear"))
    with pytest.raises(UnsupportedFeatureError, match="cuda backend has no 'mirror_clamp"):
        _image.make_sampler(SamplerDesc(address_mode="mirror_clamp_to_edge"))
    white = SamplerDesc(address_mode="clamp_to_border", border_color="float_opaque_white")
    assert _image.make_sampler(white).border_rgba == (1.0, 1.0, 1.0, 1.0)


def test_error_mapping_names_the_call():
    oom = _check.error_for(driver.CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", "1 bytes")
    assert isinstance(oom, OutOfMemoryError) and "cuMemAlloc" in str(oom)
    assert "CUDA_ERROR_OUT_OF_MEMORY" in str(oom)
    other = _check.error_for(driver.CUresult.CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel")
    assert type(other) is DeviceError and "cuLaunchKernel" in str(other)
    assert _check.check((driver.CUresult.CUDA_SUCCESS, 7), "x") == 7
    assert _check.check((driver.CUresult.CUDA_SUCCESS, 1, 2), "x") == (1, 2)
    with pytest.raises(DeviceError, match="cuCall"):
        _check.check((driver.CUresult.CUDA_ERROR_INVALID_HANDLE, None), "cuCall")


def test_probe_gives_a_reason_or_none():
    reason = cuda_backend.probe()
    assert reason is None or (isinstance(reason, str) and reason)
