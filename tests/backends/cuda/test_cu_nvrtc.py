"""NVRTC compiles without a GPU: these run everywhere cuda-bindings and the NVRTC wheel are."""
import subprocess
import sys
import uuid

import pytest

pytest.importorskip("cuda.bindings.nvrtc")

from vkdispatch.backends.cuda import nvrtc  # noqa: E402
from vkdispatch.base.errors import ShaderCompileError  # noqa: E402

ELF_MAGIC = b"\x7fELF"

SAXPY = r"""
extern "C" __global__ void saxpy(float* y, const float* x, float a, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""


def test_version_and_archs():
    major, minor = nvrtc.nvrtc_version()
    assert major >= 12 and minor >= 0
    assert 80 in nvrtc.supported_archs() and 90 in nvrtc.supported_archs()


@pytest.mark.parametrize("arch", ["sm_90", "sm_80"])
def test_saxpy_compiles_to_cubin(arch):
    cubin = nvrtc.compile_cuda(SAXPY, arch=arch)
    assert cubin[:4] == ELF_MAGIC
    assert len(cubin) > 500


def test_cubins_differ_by_arch():
    assert nvrtc.compile_cuda(SAXPY, arch="sm_90") != nvrtc.compile_cuda(SAXPY, arch="sm_80")
    assert nvrtc.cache_key(SAXPY, "sm_90") != nvrtc.cache_key(SAXPY, "sm_80")
    assert nvrtc.cache_key(SAXPY, "sm_90") != nvrtc.cache_key(SAXPY, "sm_90", ("-lineinfo",))


def test_vector_double_and_image_types():
    src = r"""
    extern "C" __global__ void k(float2* a, double* d, cudaTextureObject_t t,
                                 cudaSurfaceObject_t s, float2 scale, double bias) {
        unsigned int i = threadIdx.x;
        float2 v = a[i];
        a[i] = make_float2(v.x * scale.x, v.y * scale.y);
        float4 texel = tex2D<float4>(t, 0.5f, 0.5f);
        surf2Dwrite(texel, s, 0, 0);
        atomicAdd(d, (double)v.x + bias);
    }
    """
    assert nvrtc.compile_cuda(src, arch="sm_90")[:4] == ELF_MAGIC


def test_half_kernel():
    if not nvrtc.include_dirs():
        pytest.skip("no directory with cuda_fp16.h found (install nvidia-cuda-runtime)")
    src = r"""
    #include <cuda_fp16.h>
    extern "C" __global__ void h(__half* a, __half2* b, float s) {
        unsigned int i = threadIdx.x;
        a[i] = __float2half(__half2float(a[i]) * s);
        b[i] = __hmul2(b[i], __float2half2_rn(s));
    }
    """
    assert nvrtc.compile_cuda(src, arch="sm_90")[:4] == ELF_MAGIC


def test_options_reach_the_compiler():
    src = 'extern "C" __global__ void k(float* a) { a[threadIdx.x] *= SCALE; }'
    assert nvrtc.compile_cuda(src, options=("-DSCALE=3.0f",))[:4] == ELF_MAGIC
    with pytest.raises(ShaderCompileError):
        nvrtc.compile_cuda(src)


def test_compile_error_carries_numbered_source_and_log():
    src = 'extern "C" __global__ void bad(float* a) {\n    a[0] = undefined_name;\n}\n'
    with pytest.raises(ShaderCompileError) as info:
        nvrtc.compile_cuda(src, arch="sm_90")
    err = info.value
    assert err.compiler == "NVRTC"
    assert err.source == src
    assert "undefined_name" in err.log and "undefined" in err.log
    text = str(err)
    assert "2 |     a[0] = undefined_name;" in text
    assert "NVRTC failed to compile" in text


def test_bad_arguments():
    with pytest.raises(ValueError, match="sm_90"):
        nvrtc.compile_cuda(SAXPY, arch="sm_91")
    with pytest.raises(ValueError):
        nvrtc.compile_cuda(SAXPY, arch="compute_90")
    with pytest.raises(TypeError):
        nvrtc.compile_cuda(SAXPY.encode())


def test_disk_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("VKDISPATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(nvrtc.disk_cache, "enabled", True)
    src = SAXPY + f"// {uuid.uuid4()}\n"   # a source no earlier run has cached
    first = nvrtc.compile_cuda(src, arch="sm_90")
    key = nvrtc.cache_key(src, "sm_90")
    assert (tmp_path / "cubin" / key[:2] / key).is_file()
    nvrtc.memory_cache.clear()
    hits = nvrtc.disk_cache.hits
    again = nvrtc.compile_cuda(src, arch="sm_90")
    assert again == first
    assert nvrtc.disk_cache.hits == hits + 1
    # now it is in memory too: no further disk read
    assert nvrtc.compile_cuda(src, arch="sm_90") == first
    assert nvrtc.disk_cache.hits == hits + 1


def test_pick_arch():
    archs = nvrtc.supported_archs()
    assert nvrtc.pick_arch(9, 0) == "sm_90"
    assert nvrtc.pick_arch(8, 0) == "sm_80"
    if 86 in archs:
        assert nvrtc.pick_arch(8, 6) == "sm_86"
    # an unknown minor falls back to the newest cubin of the same major it can run
    assert nvrtc.pick_arch(9, 9) == "sm_90"
    assert nvrtc.pick_arch(1, 0) is None


def test_package_import_loads_no_cuda_module():
    code = ("import sys, vkdispatch.backends.cuda as c; "
            "assert callable(c.load_runtime); "
            "bad = [m for m in sys.modules if m == 'cuda' or m.startswith('cuda.')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
