"""Contexts with several queues: buffers exist on every queue, work runs per queue."""
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def add(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


@pytest.fixture
def two_queues(backend):
    try:
        ctx = vd.make_context(queue_counts=[2])
    except ValueError as exc:   # e.g. lavapipe has one queue
        pytest.skip(str(exc))
    yield ctx
    vd.make_context()


def test_buffers_live_on_every_queue(two_queues):
    data = np.arange(1000, dtype=np.float32)
    buf = vd.asbuffer(data)
    assert len(buf.read()) == 2
    add(buf, 1.0)   # the global graph runs on every queue
    for q in range(2):
        np.testing.assert_array_equal(buf.read(q), data + 1)
    graph = vd.CommandGraph()
    add(buf, 10.0, graph=graph)
    graph.submit(queue_index=1, wait=True)
    np.testing.assert_array_equal(buf.read(0), data + 1)
    np.testing.assert_array_equal(buf.read(1), data + 11)
    buf.write(np.zeros(1000, np.float32), queue_index=0)
    np.testing.assert_array_equal(buf.read(0), np.zeros(1000))
    np.testing.assert_array_equal(buf.read(1), data + 11)
    with pytest.raises(IndexError, match="queue_index"):
        buf.read(2)


def test_queues_work_from_threads(two_queues):
    bufs = [vd.asbuffer(np.zeros(1 << 16, np.float32)) for _ in range(2)]
    errors = []

    def work(q):
        try:
            graph = vd.CommandGraph()
            for _ in range(50):
                add(bufs[q], 1.0, graph=graph)
            graph.submit(queue_index=q, wait=True)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(q,)) for q in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for q in range(2):
        np.testing.assert_array_equal(bufs[q].read(q), np.full(1 << 16, 50.0))
