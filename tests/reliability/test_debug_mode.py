"""Debug mode (`vd.initialize(debug=True)`, or `debug_mode=True` as vkdispatch 0.1 named
it) and `@vd.shader(..., memory_checks="report")`: a guarded access out of range still
reads 0 / is not performed, and the first one is reported as an OutOfBoundsError after
the submit that ran it, naming the shader, the array, the access, the index, the
array's length and the user's line. Normal mode reports nothing and emits no report
code. Every test runs on each backend present (CUDA kernels are compiled with NVRTC
where no GPU runs them)."""
import re

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen import ir
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32, u32
from vkdispatch.codegen.emit import emit

from ..codegen.targets import nvrtc_or_skip


def line_of(marker: str) -> str:
    """'<this file>:<line>' of the line ending in `# <marker>`."""
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return f"{__file__}:{n}"
    raise AssertionError(marker)


def reported(match_fn):
    """The OutOfBoundsError `match_fn()` raises."""
    with pytest.raises(vd.OutOfBoundsError) as info:
        match_fn()
    return str(info.value)


@pytest.fixture
def debug(backend):
    vd.initialize(backend=backend, debug_mode=True, log_level="warning")
    assert vd.get_context().debug
    return backend


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


@vd.shader("dst.size", memory_checks="report")
def reporting_shifted(dst: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i.cast(vd.int32) + shift]  # reporting read


# ----------------------------------------------------------------------------- reports

def test_a_read_past_the_end_is_reported(debug):
    """Only invocation 9 reads past src's 10 elements: index 10."""
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.full(10, -1.0, np.float32))
    shifted(dst, src, 1)
    msg = reported(lambda: dst.read(0))
    assert msg.startswith(f"shader shifted: read of parameter 'src' at index 10, past its 10 "
                          f"elements ({line_of('shifted read')})"), msg
    assert "more out-of-range" not in msg
    # the read gave 0; the debug buffer was reset: the next host access raises nothing
    np.testing.assert_array_equal(dst.read(0), list(range(2, 11)) + [0])


def test_a_negative_index_is_reported(debug):
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.full(10, -1.0, np.float32))
    shifted(dst, src, -1)
    msg = reported(vd.queue_wait_idle)
    assert msg.startswith("shader shifted: read of parameter 'src' at index -1, before the "
                          "start of its 10 elements"), msg
    np.testing.assert_array_equal(dst.read(0), [0] + list(range(1, 10)))


def test_a_write_past_a_views_end_is_reported_and_dropped(debug):
    base = vd.asbuffer(np.full(48, -1.0, np.float32))
    dst = base.view(32, (8,))                 # 128-byte offset: aligned everywhere
    src = vd.asbuffer(np.arange(8, dtype=np.float32))
    scatter(dst, src, 1)                      # only src[7] lands past dst's end
    msg = reported(lambda: base.read(0))
    assert msg.startswith(f"shader scatter: write of parameter 'dst' at index 8, past its 8 "
                          f"elements ({line_of('scatter write')})"), msg
    want = np.full(48, -1.0, np.float32)
    want[33:40] = np.arange(7)
    np.testing.assert_array_equal(base.read(0), want)   # the neighbour stays untouched


def test_an_atomic_past_the_end_is_reported_as_an_atomic(debug):
    counts = vd.asbuffer(np.zeros(6, np.uint32))
    n = vd.asbuffer(np.zeros(4, np.uint32))
    count_every_other(counts, n)              # indices 0, 2, 4 and 6: 6 is past the end
    msg = reported(lambda: counts.read(0))
    assert msg.startswith(f"shader count_every_other: atomic of parameter 'counts' at index "
                          f"6, past its 6 elements ({line_of('atomic site')})"), msg
    np.testing.assert_array_equal(counts.read(0), [1, 0, 1, 0, 1, 0])


def test_shared_and_local_arrays_report(debug):
    out = vd.asbuffer(np.zeros(64, np.float32))
    shared_shift(out, 1)                      # invocation 63 writes tile[64]
    msg = reported(lambda: out.read(0))
    assert re.match(rf"shader shared_shift: write of shared array '\w+' at index 64, past "
                    rf"its 64 elements \({re.escape(line_of('shared write'))}\)", msg), msg
    np.testing.assert_array_equal(out.read(0)[1:], 1)    # tile[0] was never written

    dst = vd.asbuffer(np.full(4, -1.0, np.float32))
    local_gather(dst, 1)                      # invocation 3 reads arr[4]
    msg = reported(lambda: dst.read(0))
    assert re.match(rf"shader local_gather: read of local array '\w+' at index 4, past its 4 "
                    rf"elements \({re.escape(line_of('local read'))}\)", msg), msg
    np.testing.assert_array_equal(dst.read(0), [1, 1, 1, 0])


def test_the_first_access_is_reported_and_the_rest_counted(debug):
    src = vd.asbuffer(np.arange(10, dtype=np.float32))
    dst = vd.asbuffer(np.zeros(100, np.float32))
    shifted(dst, src, 0)                      # invocations 10..99 read past the end
    msg = reported(lambda: dst.read(0))
    m = re.match(r"shader shifted: read of parameter 'src' at index (\d+), past its 10 "
                 r"elements \(.*\); 89 more out-of-range accesses in the same submission", msg)
    assert m and 10 <= int(m.group(1)) < 100, msg


def test_several_kernels_in_one_submit_name_the_right_one(debug):
    """Report sites of all of a context's kernels are numbered apart."""
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    a = vd.asbuffer(np.zeros(10, np.float32))
    b = vd.asbuffer(np.zeros(10, np.float32))
    shifted(a, src, 0)                        # fine
    scatter(b, src, 0)                        # fine
    scatter(b, src, 3)                        # writes b[10..12]
    msg = reported(lambda: a.read(0))
    assert msg.startswith("shader scatter: write of parameter 'dst' at index 1"), msg
    assert "2 more out-of-range accesses" in msg, msg


def test_memory_checks_false_shaders_report_in_debug_mode(debug):
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.zeros(10, np.float32))
    unchecked_shifted(dst, src, 1)
    msg = reported(lambda: dst.read(0))
    assert msg.startswith("shader unchecked_shifted: read of parameter 'src' at index 10"), msg
    assert line_of("unchecked read") in msg


def test_graphs_report_at_every_submit_and_bind_the_debug_buffer_themselves(debug):
    """A kept graph replays the bad dispatch: every submit reports. A producer recording
    the kernel by hand (build + record) gives only its own resources."""
    ctx = vd.get_context()
    # on Vulkan, src by device address: its element count is a hidden 64-bit uniform
    addressed = ("src",) if debug == "vulkan" and ctx.device.extra.get(
        "buffer_device_address") else ()
    kernel = shifted.build(ctx, (64, 1, 1), True, addressed)
    assert kernel.debug_binding is not None and kernel.binding_names[-1] == ir.DEBUG_PARAM
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.zeros(10, np.float32))
    graph = vd.CommandGraph()
    graph.record(kernel, (1, 1, 1), [dst, src], {"shift": 2, "vkd_exec_count": (10, 1, 1)})
    for _ in range(2):
        msg = reported(graph.submit)
        assert msg.startswith("shader shifted: read of parameter 'src' at index 1"), msg
    graph.destroy()


def test_the_per_shader_flag_reports_without_debug_mode(backend):
    assert not vd.get_context().debug
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.zeros(10, np.float32))
    reporting_shifted(dst, src, 1)
    msg = reported(lambda: dst.read(0))
    assert msg.startswith(f"shader reporting_shifted: read of parameter 'src' at index 10, "
                          f"past its 10 elements ({line_of('reporting read')})"), msg


def test_normal_mode_does_not_report_and_emits_no_report_code(backend):
    assert not vd.get_context().debug
    src = vd.asbuffer(np.arange(1, 11, dtype=np.float32))
    dst = vd.asbuffer(np.full(10, -1.0, np.float32))
    shifted(dst, src, 1)
    shifted(dst, src, -3)
    np.testing.assert_array_equal(dst.read(0), [0, 0, 0] + list(range(1, 8)))
    vd.queue_wait_idle()
    compiled = shifted.build(vd.get_context(), (64, 1, 1), True)
    assert compiled.debug_binding is None and compiled.plain
    assert ir.DEBUG_PARAM not in compiled.source and "vkd_oob" not in compiled.source
    assert "vkd_oob" not in shifted.get_src()


def test_debug_and_debug_mode_are_one_switch(backend):
    vd.initialize(backend=backend, debug=True, log_level="warning")
    assert vd.get_context().debug
    vd.initialize(backend=backend, debug_mode=True, log_level="warning")
    assert vd.get_context().debug
    vd.initialize(backend=backend)
    assert not vd.get_context().debug


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
    compile_cuda = nvrtc_or_skip()
    for shader in (shifted, scatter, count_every_other, shared_shift, local_gather):
        k = shader.kernel(None, (64, 1, 1), shader.workgroups is None, ("report", ()))
        compile_cuda(emit(k, "cuda", shader.name, site_base=7).source)
