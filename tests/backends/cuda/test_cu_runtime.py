"""CUDA runtime on a real device: devices, buffers, memory accounting, OOM, threads,
wrapped pointers. Skipped (with the reason) where no CUDA device is usable."""
import weakref

import numpy as np
import pytest

pytest.importorskip("cuda.bindings.driver")

import vkdispatch.backends.cuda as cuda_backend  # noqa: E402
from vkdispatch.base.errors import OutOfMemoryError  # noqa: E402

REASON = cuda_backend.probe()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no usable CUDA device: {REASON}")


@pytest.fixture(scope="module")
def runtime():
    return cuda_backend.load_runtime()


@pytest.fixture(scope="module")
def ctx(runtime):
    c = runtime.create_context([0], [2])
    yield c
    c.destroy()


def test_device_info(runtime):
    info = runtime.devices()[0]
    assert info.backend == "cuda" and info.index == 0 and info.name
    assert info.device_type in ("discrete", "integrated")
    assert info.version.startswith("compute capability ")
    assert info.driver.startswith("CUDA ")
    assert info.subgroup_size == 32
    assert info.subgroup_ops == {"basic", "arithmetic", "ballot", "shuffle", "vote"}
    assert info.max_push_constant_size == 4096
    assert info.max_workgroup_invocations >= 1024
    assert info.max_workgroup_size[0] >= 1024 and info.max_workgroup_count[0] >= 2 ** 31 - 1
    assert info.max_shared_memory >= 48 * 1024
    assert info.memory_heaps[0][0] > 2 ** 30 and info.compute_units > 0
    assert info.float32_atomic_add and info.float16 and info.images
    assert info.extra["arch"].startswith("sm_")
    assert "compute capability" in info.get_info_string()


@pytest.mark.parametrize("nbytes,offset", [(5 << 20, 0), ((75 << 20) + 13, 7), (64 << 20, 0)])
def test_staged_transfers(ctx, nbytes, offset):
    """Copies over STAGED_MIN go through the pinned lanes: one, two and three chunks,
    unaligned sizes and offsets, into a caller's array and a fresh one."""
    rng = np.random.default_rng(nbytes)
    host = rng.integers(0, 256, nbytes, dtype=np.uint8)
    buf = ctx.buffer_alloc(1, nbytes + offset + 5)
    try:
        ctx.buffer_write(buf, np.zeros(nbytes + offset + 5, np.uint8))
        ctx.buffer_write(buf, host, offset=offset)
        got = np.frombuffer(ctx.buffer_read(buf, nbytes, offset), np.uint8)
        np.testing.assert_array_equal(got, host)
        out = np.full(nbytes + offset + 5, 7, np.uint8)
        ctx.buffer_read(buf, nbytes + offset + 5, out=out)
        np.testing.assert_array_equal(out[offset:offset + nbytes], host)
        assert not out[:offset].any() and not out[offset + nbytes:].any()
    finally:
        ctx.buffer_free(buf)


def test_transfer_during_capture_fails_cleanly(runtime):
    """A large copy while the stream is captured raises (the driver refuses pageable
    copies in a capture) and leaves the staging usable afterwards."""
    from vkdispatch.base.errors import VkDispatchError
    c = runtime.create_context([0], [1])
    try:
        buf = c.buffer_alloc(0, 8 << 20)
        c.begin_capture(0)
        with pytest.raises(VkDispatchError):
            c.buffer_write(buf, np.ones(8 << 20, np.uint8))
        try:
            c.end_capture(0).destroy()
        except VkDispatchError:
            pass          # the failed copy may have invalidated the capture
        assert not c.queue_capturing(0)
        host = np.random.default_rng(9).integers(0, 256, 8 << 20, dtype=np.uint8)
        c.buffer_write(buf, host)
        np.testing.assert_array_equal(np.frombuffer(c.buffer_read(buf, 8 << 20), np.uint8), host)
    finally:
        c.destroy()


def test_views_and_bounds(ctx):
    buf = ctx.buffer_alloc(0, 1024)
    ctx.buffer_write(buf, bytes(1024))
    ctx.buffer_write((buf, 512, 256), b"\x07" * 256)
    back = np.frombuffer(ctx.buffer_read(buf, 1024), np.uint8)
    assert back[512:768].tolist() == [7] * 256 and back[:512].sum() == 0 and back[768:].sum() == 0
    assert bytes(ctx.buffer_read((buf, 512, 256), 4, offset=4)) == b"\x07" * 4
    with pytest.raises(ValueError, match="does not fit"):
        ctx.buffer_write(buf, bytes(16), offset=1020)
    with pytest.raises(ValueError, match="does not fit"):
        ctx.buffer_read((buf, 512, 256), 300)
    ctx.buffer_free(buf)
    ctx.buffer_free(buf)   # idempotent
    with pytest.raises(ValueError, match="freed"):
        ctx.buffer_read(buf, 4)


def test_alloc_free_cycles_return_memory(ctx):
    ctx.buffer_free(ctx.buffer_alloc(0, 1 << 20))   # warm the allocator
    baseline, _ = ctx.memory_info()
    for _ in range(10_000):
        ctx.buffer_free(ctx.buffer_alloc(0, 1 << 20))
    after, _ = ctx.memory_info()
    assert after >= baseline - (8 << 20), (baseline, after)


def test_context_destroy_frees_everything(runtime):
    probe_ctx = runtime.create_context([0], [1])
    baseline, _ = probe_ctx.memory_info()
    c = runtime.create_context([0], [3])
    for _ in range(4):
        c.buffer_alloc(1, 64 << 20)              # never freed by hand
    c.image_alloc(0, (256, 256, 1), 1, "float32", 4)
    assert probe_ctx.memory_info()[0] < baseline - (200 << 20)
    c.destroy()
    c.destroy()                                  # idempotent
    assert probe_ctx.memory_info()[0] >= baseline - (8 << 20)
    probe_ctx.destroy()
    with pytest.raises(ValueError, match="destroyed"):
        c.buffer_alloc(0, 16)


def test_out_of_memory_leaves_context_usable(ctx):
    free, total = ctx.memory_info()
    with pytest.raises(OutOfMemoryError, match="cuMemAlloc"):
        ctx.buffer_alloc(0, total - 1)           # passes the size check, fails in the driver
    data = np.arange(256, dtype=np.int32)
    buf = ctx.buffer_alloc(0, data.nbytes)
    ctx.buffer_write(buf, data)
    np.testing.assert_array_equal(np.frombuffer(ctx.buffer_read(buf, data.nbytes), np.int32), data)
    ctx.buffer_free(buf)


def test_wrap_device_pointer(ctx):
    class Owner:
        pass

    foreign = ctx.buffer_alloc(0, 4096)          # stands in for a CuPy/PyTorch allocation
    owner = Owner()
    ref = weakref.ref(owner)
    wrapped = ctx.wrap_device_pointer(foreign.ptr, 4096, owner, queue=0)
    del owner
    assert ref() is not None                     # the handle keeps the owner alive
    assert isinstance(wrapped.ptr, int) and wrapped.ptr == foreign.ptr
    data = np.arange(1024, dtype=np.float32)
    ctx.buffer_write(wrapped, data)
    np.testing.assert_array_equal(np.frombuffer(ctx.buffer_read(foreign, 4096), np.float32), data)
    ctx.buffer_free(wrapped)
    assert ref() is None                         # owner released, memory not freed:
    np.testing.assert_array_equal(np.frombuffer(ctx.buffer_read(foreign, 4096), np.float32), data)
    ctx.buffer_free(foreign)
    with pytest.raises(ValueError, match="device pointer"):
        ctx.wrap_device_pointer(0x1234, 16, None)


def test_external_stream(ctx):
    from cuda.bindings import driver
    own = ctx.stream_handle(0)
    with ctx._devices[0].guard:
        err, stream = driver.cuStreamCreate(1)
    assert not err
    try:
        ctx.set_external_stream(0, int(stream))
        assert ctx.stream_handle(0) == int(stream)
        buf = ctx.buffer_alloc(0, 64)
        ctx.buffer_write(buf, bytes(range(64)))
        assert bytes(ctx.buffer_read(buf, 64)) == bytes(range(64))
        ctx.buffer_free(buf)
    finally:
        ctx.set_external_stream(0, None)
        with ctx._devices[0].guard:
            driver.cuStreamDestroy(stream)
    assert ctx.stream_handle(0) == own


def test_bad_queue_and_context_arguments(runtime, ctx):
    with pytest.raises(ValueError, match="device index"):
        runtime.create_context([99], [1])
    with pytest.raises(ValueError, match="queue count"):
        runtime.create_context([0], [1, 2])


def test_memory_freed_during_a_capture_is_freed_after_it(runtime):
    """A buffer freed while the stream is captured (the garbage collector may do it at
    any time) is freed when the capture ends: cuMemFree then would synchronize and
    invalidate the capture (docs/examples/cuda_graph.py failed so on the H200)."""
    c = runtime.create_context([0], [1])
    try:
        keep = c.buffer_alloc(0, 1 << 20)
        gone = c.buffer_alloc(0, 64 << 20)
        before, _ = c.memory_info()
        c.begin_capture(0)
        c.buffer_free(gone)
        c.buffer_free(gone)                        # still idempotent
        c.end_capture(0).destroy()                 # the capture was not invalidated
        assert c.memory_info()[0] >= before + (56 << 20)  # and now it is
        c.buffer_write(keep, bytes(16))
    finally:
        c.destroy()
