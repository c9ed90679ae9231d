"""execution.replay: an op's dispatches captured once (nothing runs, nothing counts) and
recorded again on other memory; what cannot be replayed is refused."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.execution import lazy
from vkdispatch.execution.command_graph import capture_dispatches
from vkdispatch.execution.replay import capture


@vd.shader("dst.size")
def _scaled(dst: Buff[f32], src: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] * k


def _record(src, dst):
    """An op of two kernels through a temporary: dst = (src * 2) * 3."""
    def record(graph, allocate):
        tmp = allocate((src.size,), vd.float32).storage.buffer
        _scaled(tmp, src, 2.0, graph=graph)
        _scaled(dst, tmp, 3.0, graph=graph)
    return record


def test_capture_runs_and_counts_nothing(backend):
    src, dst = vd.asbuffer(np.ones(8, np.float32)), vd.asbuffer(np.zeros(8, np.float32))
    _scaled(dst, src, 1.0)
    before = vd.stats()
    records = capture_dispatches(lambda g: _scaled(dst, src, 5.0, graph=g))
    assert len(records) == 1 and (vd.stats() - before).dispatches_recorded == 0
    np.testing.assert_array_equal(dst.read(0), np.ones(8))    # the first call only


def test_a_copy_or_a_submit_is_not_captured(backend):
    a, b = vd.asbuffer(np.ones(8, np.float32)), vd.asbuffer(np.zeros(8, np.float32))
    assert capture_dispatches(lambda g: g.record_copy(a, b)) is None

    def submits(g):
        _scaled(b, a, 2.0, graph=g)
        g.submit()
    assert capture_dispatches(submits) is None
    np.testing.assert_array_equal(b.read(0), np.zeros(8))


def test_replay_on_other_memory_with_fresh_temporaries(backend):
    rng = np.random.default_rng(1)
    src, dst = vd.asbuffer(rng.random(64, dtype=np.float32)), vd.asbuffer(np.full(64, 7, np.float32))
    replay = capture(_record(src, dst), (src, dst), lazy.allocate)
    assert replay is not None and len(replay.temporaries) == 1
    for _ in range(2):
        x = rng.random(64, dtype=np.float32)
        a, b = vd.asbuffer(x), vd.Buffer((64,), vd.float32)
        graph = vd.CommandGraph()
        replay.record(graph, (a, b), lazy.allocate)
        graph.submit()
        np.testing.assert_allclose(b.read(0), x * 6, rtol=1e-6)
    np.testing.assert_array_equal(dst.read(0), np.full(64, 7))   # captured: never ran


def test_memory_reached_through_another_view_is_not_replayable(backend):
    base = vd.Buffer((16,), vd.float32)
    src, dst = base.view(0, (8,)), vd.Buffer((8,), vd.float32)

    def record(graph, allocate):
        _scaled(dst, base.view(0, (8,)), 2.0, graph=graph)    # not the view given
    assert capture(record, (src, dst), lazy.allocate) is None
