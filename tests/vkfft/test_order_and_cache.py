"""VkFFT runs in order with vkdispatch's own work on the queue, and its plans are cached
(bounded) per context."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from tests.vkfft.data import assert_close, random_array
from vkdispatch.codegen.abbreviations import Buff, Const, c64, f32


@vd.shader("buf.size")
def scale_add(buf: Buff[c64], scale: Const[f32], offset: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * scale + vc.make_complex(offset, 0.0)


def test_recorded_work_runs_before_and_after_the_transform(vkfft_backend):
    data = random_array((64,), np.complex64)
    buf = vd.asbuffer(data)
    scale_add(buf, 2.0, 0.0)          # recorded, not yet submitted: must run first
    vd.vkfft.fft(buf)
    scale_add(buf, 1.0, 3.0)          # must see the transform's result
    assert_close(buf.read(0), np.fft.fft(2 * data.astype(np.complex128)) + 3, np.complex64)


def test_a_graph_of_the_callers_runs_first_and_a_replayed_one_is_refused(vkfft_backend):
    data = random_array((64,), np.complex64)
    buf = vd.asbuffer(data)
    once = vd.CommandGraph(reset_on_submit=True)
    scale_add(buf, 2.0, 0.0, graph=once)      # submitted by the transform, before it
    vd.vkfft.fft(buf, graph=once)
    assert len(once) == 0
    assert_close(buf.read(0), np.fft.fft(2 * data.astype(np.complex128)), np.complex64)
    kept = vd.CommandGraph()
    previous = vd.set_global_graph(kept)
    try:
        with pytest.raises(ValueError, match="set_global_graph"):
            vd.vkfft.fft(buf)
    finally:
        vd.set_global_graph(previous)
    assert_close(buf.read(0), np.fft.fft(2 * data.astype(np.complex128)), np.complex64)


def test_every_queue_of_the_context_is_transformed(vkfft_backend):
    try:
        vd.make_context(queue_counts=[2])
    except ValueError as exc:   # a device with one queue
        pytest.skip(str(exc))
    try:
        data = random_array((64,), np.complex64)
        buf = vd.asbuffer(data)
        vd.vkfft.fft(buf)
        for queue in range(2):
            assert_close(buf.read(queue), np.fft.fft(data), np.complex64)
        assert {k.queue for k in vd.vkfft.plan_cache().keys()} == {0, 1}
    finally:
        vd.make_context()


def test_plans_are_reused_bounded_and_cleared(vkfft_backend):
    cache = vd.vkfft.plan_cache()
    buf = vd.asbuffer(random_array((64,), np.complex64))
    vd.vkfft.fft(buf)
    hits, misses = cache.hits, cache.misses
    vd.vkfft.fft(buf)
    vd.vkfft.ifft(buf)                # the forward plan serves the normalized inverse
    assert (cache.hits - hits, cache.misses - misses) == (2, 0)
    key = cache.keys()[-1]
    assert "shape=(64,)" in repr(key) and key.dtype == "complex64" and key.axes == (0,)
    old = cache.max_size
    try:
        cache.max_size = 1
        assert len(cache) == 1 and cache.keys() == [key]
        with pytest.raises(ValueError, match="max_size"):
            cache.max_size = 0
    finally:
        cache.max_size = old
    vd.vkfft.clear_plan_cache()
    assert len(cache) == 0
    vd.vkfft.fft(buf)                 # rebuilt after a clear
    assert len(cache) == 1 and cache.misses == misses + 1
