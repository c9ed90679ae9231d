"""The CUDA submit path on a real device: Signals on reused events report exactly
their own submission, capture state kept for the queue's own stream and asked of the
driver for external ones, and the current context of the caller's thread. Skipped
(with the reason) where no CUDA device is usable."""
import gc
import threading

import numpy as np
import pytest

pytest.importorskip("cuda.bindings.driver")

import vkdispatch.backends.cuda as cuda_backend  # noqa: E402
from vkdispatch.base.abi import BINDING_STORAGE_BUFFER, Binding, ProgramInfo, UniformField  # noqa: E402

REASON = cuda_backend.probe()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no usable CUDA device: {REASON}")

# busy for k * 1024 clock cycles (k = 100_000: about 50-100 ms), then writes 1
SPIN = r"""
extern "C" __global__ void spin(unsigned int* out, unsigned int k) {
    long long start = clock64();
    long long cycles = (long long)k << 10;
    while (clock64() - start < cycles) { }
    out[0] = 1u;
}
"""
SPIN_INFO = ProgramInfo(
    entry_point="spin", local_size=(1, 1, 1),
    bindings=(Binding("out", BINDING_STORAGE_BUFFER, 0, "uint32"),),
    uniforms=(UniformField("k", "uint32", 0, 4),), uniform_size=16)


def spin_u(k):
    return np.array([k, 0, 0, 0], np.uint32).tobytes()


@pytest.fixture(scope="module")
def spin(ctx):
    return ctx.create_program(SPIN, SPIN_INFO)


def _list(ctx, spin, queue, k, out):
    cl = ctx.command_list(queue)
    cl.dispatch(spin, (1, 1, 1), [out], spin_u(k))
    return cl


def test_reused_events_report_their_own_submission(ctx, spin):
    out = ctx.buffer_alloc(0, 16)
    fast = _list(ctx, spin, 0, 1, out)
    slow = _list(ctx, spin, 0, 200_000, out)
    pool = ctx._devices[0].events
    try:
        first = fast.submit()
        assert first.wait()
        held = len(pool.free)
        second = slow.submit()                # takes the event `first` gave back
        assert len(pool.free) == max(held - 1, 0)
        assert first.done() and not second.done()
        assert second.wait(timeout=30) and second.done()

        # a dropped pending Signal gives its event back; re-recording it on another
        # queue makes it report only the new work, not the slow work still running
        other = ctx.buffer_alloc(1, 16)
        quick = _list(ctx, spin, 1, 1, other)
        pending = slow.submit()
        event = pending._event
        behind = slow.submit()                # the list now holds this one, not `pending`
        del pending
        sig = quick.submit()
        assert sig._event is event
        assert sig.wait(timeout=10)
        assert not behind.done()              # queue 0 is still spinning
        assert behind.wait(timeout=30)
        quick.destroy()
        ctx.buffer_free(other)

        # replays with dropped Signals do not grow the pool
        created = len(pool.created)
        for _ in range(200):
            fast.submit()
        fast.submit().wait()
        assert len(pool.created) <= created + 2
    finally:
        fast.destroy()
        slow.destroy()
        ctx.buffer_free(out)


def test_signals_outlive_their_context():
    c = cuda_backend.load_runtime().create_context([0], [1])
    program = c.create_program(SPIN, SPIN_INFO)
    out = c.buffer_alloc(0, 16)
    cl = _list(c, spin=program, queue=0, k=20_000, out=out)
    done = cl.submit()
    done.wait()
    running = cl.submit()
    c.destroy()                               # synchronizes: every Signal is done
    assert running.done() and running.wait() and done.done()
    del running, done
    gc.collect()


def test_capture_state_of_own_and_external_streams(ctx, spin):
    from cuda.bindings import driver
    out = ctx.buffer_alloc(0, 16)
    cl = _list(ctx, spin, 0, 1, out)
    cl.submit().wait()
    assert not ctx.queue_capturing(0)
    ctx.begin_capture(0)
    try:
        assert ctx.queue_capturing(0)
        sig = cl.submit()                     # recorded into the capture: nothing runs
        assert sig.done()
    finally:
        graph = ctx.end_capture(0)
    assert not ctx.queue_capturing(0)
    graph.launch().wait()
    graph.destroy()

    # an external stream another library captures: asked of the driver
    with ctx._devices[0].guard:
        err, stream = driver.cuStreamCreate(1)
    assert not err
    try:
        ctx.set_external_stream(0, int(stream))
        assert not ctx.queue_capturing(0)
        with ctx._devices[0].guard:
            assert not driver.cuStreamBeginCapture(
                stream, driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)[0]
        try:
            assert ctx.queue_capturing(0)
            assert cl.submit().done()
        finally:
            with ctx._devices[0].guard:
                err, g = driver.cuStreamEndCapture(stream)
                assert not err
                driver.cuGraphDestroy(g)
        assert not ctx.queue_capturing(0)
        assert cl.submit().wait(timeout=10)
    finally:
        ctx.set_external_stream(0, None)
        with ctx._devices[0].guard:
            driver.cuStreamDestroy(stream)
    cl.destroy()
    ctx.buffer_free(out)


def test_current_context_of_the_calling_thread(ctx, spin):
    """A thread with no current context keeps device 0's primary context after a call;
    a thread with another context current gets it back unchanged."""
    from cuda.bindings import driver
    dev = ctx._devices[0]
    out = ctx.buffer_alloc(0, 16)
    cl = _list(ctx, spin, 0, 1, out)
    seen = {}

    def bare():
        seen["before"] = int(driver.cuCtxGetCurrent()[1] or 0)
        cl.submit().wait()
        seen["after"] = int(driver.cuCtxGetCurrent()[1] or 0)

    t = threading.Thread(target=bare)
    t.start()
    t.join()
    assert seen == {"before": 0, "after": dev.guard.handle}

    try:
        err, user_ctx = driver.cuCtxCreate(None, 0, dev.cudev)     # cuda-python 13
    except TypeError:
        err, user_ctx = driver.cuCtxCreate(0, dev.cudev)           # cuda-python 12
    if err:
        pytest.skip(f"cuCtxCreate failed with {err}")
    try:
        # cuCtxCreate made user_ctx current on this thread, on top of what was
        assert int(driver.cuCtxGetCurrent()[1]) == int(user_ctx)
        cl.submit().wait()
        ctx.buffer_write(out, bytes(16))
        assert bytes(ctx.buffer_read(out, 16)) == bytes(16)
        assert int(driver.cuCtxGetCurrent()[1]) == int(user_ctx)
    finally:
        driver.cuCtxDestroy(user_ctx)
    cl.destroy()
    ctx.buffer_free(out)


ADD = r"""
extern "C" __global__ void add(unsigned int* out, unsigned int k) { out[0] += k; }
"""
ADD_INFO = ProgramInfo(
    entry_point="add", local_size=(1, 1, 1),
    bindings=(Binding("out", BINDING_STORAGE_BUFFER, 0, "uint32"),),
    uniforms=(UniformField("k", "uint32", 0, 4),), uniform_size=4)


def test_new_uniform_before_each_submit_launches_directly(ctx):
    """An eager loop's kept list: new uniform bytes before every submit launch directly
    (each launch with its own bytes, none lost while earlier ones run); unchanged bytes
    then capture a graph and replay it; new bytes again launch directly."""
    from tests.backends.host_io import download, upload
    add = ctx.create_program(ADD, ADD_INFO)
    out = upload(ctx, np.zeros(1, np.uint32))
    cl = ctx.command_list(0)
    cl.dispatch(add, (1, 1, 1), [out], np.uint32(1).tobytes())
    cl.submit()
    total = 1
    for k in range(2, 50):
        cl.set_uniform(0, np.uint32(k).tobytes())     # bytes, as graphs pass them
        cl.submit()
        total += k
    assert (cl.graph_captures, cl.graph_launches) == (0, 0)
    for _ in range(3):
        cl.submit()
        total += 49
    assert (cl.graph_captures, cl.graph_launches) == (1, 3)
    cl.set_uniform(0, np.array([7], np.uint32))       # a view: new bytes again
    cl.submit().wait()
    total += 7
    assert cl.graph_launches == 3
    assert int(download(ctx, out, np.uint32, 1)[0]) == total
    cl.destroy()
    ctx.buffer_free(out)
