import numpy as np
import pytest

from vkdispatch.base.errors import DeviceError, DeviceLimitError, UnsupportedFeatureError
from vkdispatch.base.abi import Binding, UniformField

SAXPY = """__kernel void saxpy(__global float* y, __global const float* x, float a, int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}
"""

# Bindings are listed out of index order: parameters follow Binding.index.
AFFINE = """__kernel void affine(__global const float* src, __global float* dst,
                     float scale, float shift, int n) {
    int i = get_global_id(0);
    if (i < n) dst[i] = src[i] * scale + shift;
}
"""

GRID = """__kernel void grid(__global int* out, int width) {
    int x = get_global_id(0), y = get_global_id(1);
    out[y * width + x] = x + 1000 * y + 1000000 * (int)get_local_id(0);
}
"""


@pytest.fixture(scope="module")
def saxpy(ctx, clh):
    info = clh.program_info("saxpy", bindings=clh.buffers("y", "x"),
                            fields=clh.uniforms(a="float32", n="int32"))
    return ctx.create_program(SAXPY, info)


@pytest.fixture(scope="module")
def affine(ctx, clh):
    info = clh.program_info(
        "affine", local=(32, 1, 1),
        bindings=(Binding("dst", "storage_buffer", 1), Binding("src", "storage_buffer", 0)),
        fields=clh.uniforms(scale="float32", shift="float32", n="int32"))
    return ctx.create_program(AFFINE, info)


def test_copies_and_buffer_views(ctx, clh, affine):
    n = 256
    align = ctx._queue_slots[0].base_align
    src = clh.upload(ctx, np.arange(n, dtype=np.float32))
    dst = clh.upload(ctx, np.zeros(n, np.float32))
    cmd = ctx.command_list(0)
    cmd.copy(src, dst, 64 * 4, src_offset=16 * 4, dst_offset=128 * 4)  # dst[128:192] = 16..79
    view_elems = align // 4
    # dst[view_elems : view_elems + 32] = 10 * dst[128 : 160] through two views
    cmd.dispatch(affine, (1,), [(dst, view_elems * 4, 32 * 4), (dst, 128 * 4, 32 * 4)],
                 clh.pack(10.0, 0.0, 32))
    cmd.submit()
    out = clh.download(ctx, dst, np.float32, n)
    np.testing.assert_array_equal(out[128:192], np.arange(16, 80))
    np.testing.assert_array_equal(out[view_elems:view_elems + 32], 10 * np.arange(16, 48))
    with pytest.raises(DeviceLimitError, match="CL_DEVICE_MEM_BASE_ADDR_ALIGN"):
        cmd.dispatch(affine, (1,), [(dst, 4, 16), src], clh.pack(1.0, 0.0, 4))
    cmd.destroy()
    ctx.buffer_free(src)
    ctx.buffer_free(dst)


def test_two_dimensional_ndrange(ctx, clh):
    info = clh.program_info("grid", local=(4, 2, 1), bindings=clh.buffers("out", dtype="int32"),
                            fields=clh.uniforms(width="int32"))
    prog = ctx.create_program(GRID, info)
    w, h = 12, 6
    out = ctx.buffer_alloc(0, 4 * w * h)
    cmd = ctx.command_list(0)
    cmd.dispatch(prog, (3, 3), [out], clh.pack(w))
    cmd.submit().wait()
    ys, xs = np.mgrid[:h, :w]
    expect = xs + 1000 * ys + 1000000 * (xs % 4)
    np.testing.assert_array_equal(clh.download(ctx, out, np.int32, w * h).reshape(h, w), expect)
    cmd.destroy()
    ctx.buffer_free(out)
    prog.destroy()


def test_reset_and_destroy_leave_in_flight_work_intact(ctx, clh, affine):
    n = 1 << 16
    src, dst = clh.upload(ctx, np.arange(n, dtype=np.float32)), ctx.buffer_alloc(0, 4 * n)
    cmd = ctx.command_list(0)
    for _ in range(8):
        cmd.dispatch(affine, (n // 32,), [dst, src], clh.pack(3.0, 1.0, n))
    signal = cmd.submit()
    cmd.reset()  # its kernels go back to the pool and get new arguments at once
    other = clh.upload(ctx, np.zeros(n, np.float32))
    cmd.dispatch(affine, (n // 32,), [other, other], clh.pack(0.0, 7.0, n))
    cmd.destroy()
    signal.wait()
    np.testing.assert_array_equal(clh.download(ctx, dst, np.float32, n),
                                  3 * np.arange(n, dtype=np.float32) + 1)
    np.testing.assert_array_equal(clh.download(ctx, other, np.float32, n), 0.0)  # never ran
    for b in (src, dst, other):
        ctx.buffer_free(b)


def test_launch_limits_and_abi_checks(ctx, clh, cl_runtime):
    dev = ctx.devices[0]
    big_shared = dev.max_shared_memory + 1
    with pytest.raises(DeviceLimitError, match="CL_DEVICE_LOCAL_MEM_SIZE"):
        ctx.create_program(SAXPY, clh.program_info("saxpy", shared_memory=big_shared))
    with pytest.raises(ValueError, match="takes 4 parameters, but its ProgramInfo describes 2"):
        ctx.create_program(SAXPY, clh.program_info("saxpy", bindings=clh.buffers("y", "x")))
    with pytest.raises(UnsupportedFeatureError, match="no_such_feature"):
        ctx.create_program(SAXPY, clh.program_info("saxpy", features=frozenset({"no_such_feature"})))


def test_uniform_size_mismatch_names_the_field(ctx, clh):
    info = clh.program_info("saxpy", bindings=clh.buffers("y", "x"),
                            fields=(UniformField("a", "float64", 0, 8), UniformField("n", "int32", 8, 4)))
    prog = ctx.create_program(SAXPY, info)
    buf = ctx.buffer_alloc(0, 256)
    cmd = ctx.command_list(0)
    with pytest.raises(DeviceError, match="uniform 'a' \\(8 bytes\\)"):
        cmd.dispatch(prog, (1,), [buf, buf], b"\0" * 12)
    cmd.destroy()
    ctx.buffer_free(buf)


@pytest.mark.parametrize("profiling", [True, False])
def test_timestamps(cl_runtime, clh, profiling):
    """A profiling context times on its own queues; any other on a profiling twin queue
    that stays in order with the queue's other work."""
    ctx = cl_runtime.create_context([0], [1], profiling=profiling)
    try:
        info = clh.program_info("saxpy", bindings=clh.buffers("y", "x"),
                                fields=clh.uniforms(a="float32", n="int32"))
        prog = ctx.create_program(SAXPY, info)
        buf = clh.upload(ctx, np.ones(128, np.float32))
        before = ctx.command_list(0)          # untimed work before and after the timed list
        before.dispatch(prog, (2,), [buf, buf], clh.pack(1.0, 128))
        cmd = ctx.command_list(0, timestamps=True)
        assert cmd.timestamps() == []
        cmd.dispatch(prog, (2,), [buf, buf], clh.pack(1.0, 128))
        cmd.dispatch(prog, (0,), [buf, buf], clh.pack(1.0, 128))   # empty: 0.0
        cmd.dispatch(prog, (2,), [buf, buf], clh.pack(1.0, 128))
        before.submit()
        cmd.submit([[clh.pack(1.0, 128)] * 3] * 3)
        before.submit()
        stamps = cmd.timestamps()           # the last instance's
        assert len(stamps) == 3 and stamps[1] == 0.0
        assert all(isinstance(t, float) and 0 < t < 10 for t in (stamps[0], stamps[2]))
        # 1 -> x2 -> x2 x3 instances -> x2: the untimed lists ran before and after it
        np.testing.assert_array_equal(clh.download(ctx, buf, np.float32, 128), 256.0)
    finally:
        ctx.destroy()


def test_debug_context_runs_submissions_synchronously(cl_runtime, clh):
    ctx = cl_runtime.create_context([0], [1], debug=True)
    try:
        info = clh.program_info("saxpy", bindings=clh.buffers("y", "x"),
                                fields=clh.uniforms(a="float32", n="int32"))
        prog = ctx.create_program(SAXPY, info)
        buf = clh.upload(ctx, np.ones(64, np.float32))
        cmd = ctx.command_list(0)
        cmd.dispatch(prog, (1,), [buf, buf], clh.pack(1.0, 64))
        assert cmd.submit().done()
    finally:
        ctx.destroy()
