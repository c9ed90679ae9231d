"""vkdispatch 0.1 code for command graphs (its command graph tutorial, the global graph
functions, submit_any, bind infos, capture names), run unchanged on every backend."""
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buff.size")
def add_scalar(buff: Buff[f32], value: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + value


@vd.shader("dst.size")
def sub_into(dst: Buff[f32], a: Buff[f32], b: Buff[f32]):
    i = vc.global_invocation_id().x
    dst[i] = a[i] - b[i]


def test_tutorial_single_graph_multiple_dispatches(backend):
    graph = vd.CommandGraph()
    arr = np.arange(32, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 1.0, graph=graph)
    add_scalar(buff, 1.0, graph=graph)
    add_scalar(buff, 1.0, graph=graph)
    graph.submit()
    np.testing.assert_allclose(buff.read(0), arr + 3.0)   # a read waits for the submit
    graph.submit()
    vd.queue_wait_idle()
    np.testing.assert_allclose(buff.read(0), arr + 6.0)


def test_tutorial_immediate_graph(backend):
    immediate_graph = vd.CommandGraph(reset_on_submit=True, submit_on_record=True)
    arr = np.arange(32, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 5.0, graph=immediate_graph)
    assert len(immediate_graph) == 0            # submitted at the call
    np.testing.assert_allclose(buff.read(0), arr + 5.0)


def test_global_and_default_graphs(backend):
    assert vd.global_graph() is vd.default_graph()
    arr = np.arange(16, dtype=np.float32)
    buff = vd.asbuffer(arr)
    mine = vd.CommandGraph()
    vd.set_global_graph(mine)
    try:
        add_scalar(buff, 2.0)
        add_scalar(buff, 2.0, graph=vd.default_graph())   # 0.1: the default, not `mine`
        assert len(mine) == 1
        np.testing.assert_allclose(buff.read(0), arr + 2.0)   # the default graph's call
        mine.submit()
        mine.submit()
        np.testing.assert_allclose(buff.read(0), arr + 6.0)
    finally:
        vd.set_global_graph()   # 0.1 cleared the thread's graph so
    assert vd.global_graph() is vd.default_graph()
    with pytest.raises(TypeError, match="CommandGraph or None"):
        vd.set_global_graph("graph")


def test_global_graphs_are_per_thread(backend):
    buff = vd.asbuffer(np.zeros(8, np.float32))
    seen = {}

    def other():
        seen["graph"] = vd.global_graph()
        add_scalar(buff, 1.0)

    mine = vd.CommandGraph()
    vd.set_global_graph(mine)
    try:
        t = threading.Thread(target=other)
        t.start()
        t.join()
    finally:
        vd.set_global_graph()
    assert seen["graph"] is not mine and len(mine) == 0
    np.testing.assert_array_equal(buff.read(0), np.ones(8))   # the thread's default ran


def test_resetting_global_graph_is_flushed_even_after_unset(backend):
    buff = vd.asbuffer(np.zeros(8, np.float32))
    streaming = vd.CommandGraph(reset_on_submit=True)
    vd.set_global_graph(streaming)
    add_scalar(buff, 4.0)
    vd.set_global_graph()                      # its pending call is not dropped
    np.testing.assert_array_equal(buff.read(0), np.full(8, 4.0))


def test_submit_any_spreads_batches_over_queues(backend):
    ctx = vd.make_context(multi_queue=True)
    try:
        arr = np.arange(64, dtype=np.float32)
        buff = vd.asbuffer(arr)
        graph = vd.CommandGraph()
        add_scalar(buff, 1.0, graph=graph)
        for _ in range(2 * ctx.queue_count):
            graph.submit_any()
        assert graph.wait(timeout=60)
        for q in range(ctx.queue_count):     # each queue's copy ran its share
            np.testing.assert_array_equal(buff.read(q), arr + 2.0)
    finally:
        vd.make_context()


def test_wait_with_timeout(backend):
    graph = vd.CommandGraph()
    buff = vd.asbuffer(np.zeros(1 << 16, np.float32))
    add_scalar(buff, 1.0, graph=graph)
    assert graph.wait(timeout=0)                     # nothing submitted yet
    signals = graph.submit()
    assert all(isinstance(s, vd.Signal) for s in signals)
    assert graph.wait(timeout=60) is True
    assert all(s.done() for s in signals)
    np.testing.assert_array_equal(buff.read(0), np.ones(1 << 16))


def test_record_with_bind_infos(backend):
    ctx = vd.get_context()
    kernel = sub_into.build(ctx, (64, 1, 1), True)
    index = {b.name: b.index for b in kernel.info.bindings}
    a = np.linspace(0, 5, 50).astype(np.float32)
    b = np.arange(50, dtype=np.float32)
    dst, ba, bb = vd.Buffer((50,), vd.float32), vd.asbuffer(a), vd.asbuffer(b)
    graph = vd.CommandGraph()
    infos = [vd.BufferBindInfo(bb, index["b"], "b_shape", True, False),   # any order
             vd.BufferBindInfo(dst, index["dst"], "dst_shape", False, True),
             vd.BufferBindInfo(ba, index["a"], "a_shape", True, False)]
    graph.record(kernel, (1, 1, 1), infos, {"vkd_exec_count": (50, 1, 1)})
    graph.submit(wait=True)
    np.testing.assert_array_equal(dst.read(0), a - b)
    with pytest.raises(ValueError, match="bindings"):
        graph.record(kernel, (1, 1, 1), infos[:2], {"vkd_exec_count": (50, 1, 1)})


def test_prepare_for_cuda_graph_capture_then_submit(backend):
    graph = vd.CommandGraph()
    arr = np.arange(32, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 3.0, graph=graph)
    graph.prepare_for_cuda_graph_capture()
    graph.submit()
    graph.submit()
    np.testing.assert_array_equal(buff.read(0), arr + 6.0)


def test_cuda_capture_names_outside_cuda(backend):
    assert vd.get_cuda_capture() is None
    if vd.get_context().runtime_context.capabilities.graph_capture:
        pytest.skip("captures on CUDA: tests/parity/test_cuda_parity.py")
    with pytest.raises(vd.UnsupportedFeatureError, match="CUDA backend"):
        with vd.cuda_graph_capture():
            pass
    with pytest.raises(vd.UnsupportedFeatureError, match="external streams"):
        with vd.cuda_graph_capture(12345):
            pass
    assert vd.get_cuda_capture() is None
