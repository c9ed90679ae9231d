"""Out-of-range reports (debug mode): kernels traced with memory_checks="report" number
their guarded accesses as report sites and emit a compare-and-swap of the site's id into
a hidden debug buffer on every target; normal kernels emit none of it."""
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen import ir
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32, u32
from vkdispatch.codegen.emit import emit


def line_of(marker: str) -> str:
    """'<this file>:<line>' of the line ending in `# <marker>`."""
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return f"{__file__}:{n}"
    raise AssertionError(marker)


# ----------------------------------------------------------------------------- shaders

@vd.shader("dst.size")
def shifted(dst: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i.cast(vd.int32) + shift]  # shifted read


@vd.shader("src.size")
def scatter(dst: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i.cast(vd.int32) + shift] = src[i]  # scatter write


@vd.shader("n.size")
def count_every_other(counts: Buff[u32], n: Buff[u32]):
    i = vc.global_invocation_id().x
    vc.atomic_add(counts[i * 2], 1)  # atomic site


@vd.shader(workgroups=(1, 1, 1), local_size=(64, 1, 1))
def shared_shift(out: Buff[f32], shift: Const[i32]):
    i = vc.local_invocation_id().x
    tile = vc.shared_buffer(vd.float32, 64)
    tile[i.cast(vd.int32) + shift] = 1.0  # shared write
    vc.barrier()
    out[i] = tile[i]


@vd.shader("dst.size")
def local_gather(dst: Buff[f32], k: Const[i32]):
    i = vc.global_invocation_id().x
    arr = vc.local_array(vd.float32, 4)
    for j in range(4):
        arr[j] = 1.0
    dst[i] = arr[i.cast(vd.int32) + k]  # local read


@vd.shader("dst.size", memory_checks=False)
def unchecked_shifted(dst: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i.cast(vd.int32) + shift]  # unchecked read


# ----------------------------------------------------------------------------- kernels

def test_the_kernel_key_tells_reporting_kernels_apart():
    def key(shader, mode):
        return ir.structural_key(shader.kernel(None, (64, 1, 1), True, (mode, ())))

    assert key(shifted, True) != key(shifted, "report")
    # same body: one kernel normally; reports name their own shader and line
    assert key(shifted, True) == key(unchecked_shifted, True)
    assert key(shifted, "report") != key(unchecked_shifted, "report")
    assert key(shifted, "report") == key(shifted, "report")
    k = shifted.kernel(None, (64, 1, 1), True, ("report", ()))
    assert [s.access for s in k.sites] == ["read", "write"]     # in the order they run
    assert k.sites[0].location == line_of("shifted read") and k.sites[0].signed


@pytest.mark.parametrize("target", ["glsl", "cuda", "opencl"])
def test_report_code_is_emitted_for_every_target(target):
    k = count_every_other.kernel(None, (64, 1, 1), True, ("report", ()))
    src = emit(k, target, "k", site_base=41).source
    assert {"glsl": "atomicCompSwap", "cuda": "atomicCAS",
            "opencl": "atomic_cmpxchg"}[target] in src
    assert "42u" in src                       # site 0 reports as id site_base + 1
    plain = emit(count_every_other.kernel(None, (64, 1, 1), True), target, "k").source
    assert "vkd_oob" not in plain and ir.DEBUG_PARAM not in plain


def test_cuda_report_kernels_compile():
    try:
        from vkdispatch.backends.cuda import nvrtc
        nvrtc.compile_cuda('extern "C" __global__ void k() {}', arch="sm_90")
    except Exception as exc:   # no NVRTC on this machine
        pytest.skip(f"NVRTC unavailable: {exc}")
    for shader in (shifted, scatter, count_every_other, shared_shift, local_gather):
        k = shader.kernel(None, (64, 1, 1), shader.workgroups is None, ("report", ()))
        nvrtc.compile_cuda(emit(k, "cuda", shader.name, site_base=7).source, arch="sm_90")
