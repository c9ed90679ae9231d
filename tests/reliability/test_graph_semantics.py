"""No lost work and no poisoned state: bad calls raise at the call and leave the graph as
it was; work recorded in any thread is seen by a host access in any other; a fork()ed
child gets a clear error instead of a hang."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32


@vd.shader("buf.size")
def add_c(buf: Buff[f32], c: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + c


@vd.shader("dst.size")
def copy(dst: Buff[f32], src: Buff[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i]


@vd.shader("buf.size")
def scale(buf: Buff[f32], k: Var[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * k


def _ones(n=32):
    return vd.asbuffer(np.ones(n, np.float32))


def test_destroyed_buffer_raises_at_the_call_and_nothing_is_poisoned(backend):
    good, dead = _ones(), _ones()
    dead.destroy()
    with pytest.raises(vd.UseAfterFreeError, match="'src'.*destroyed"):
        copy(good, dead)
    with pytest.raises(vd.UseAfterFreeError, match="destroyed"):
        add_c(dead, 1.0)
    with pytest.raises(vd.UseAfterFreeError, match="destroyed"):
        vd.copy_buffer(dead, good)
    assert len(vd.global_graph()) == 0
    add_c(good, 1.0)                          # later work and host reads are unaffected
    np.testing.assert_array_equal(good.read(0), np.full(32, 2, np.float32))
    other = _ones()
    np.testing.assert_array_equal(other.read(0), np.ones(32, np.float32))


def test_buffer_of_a_replaced_context_raises_at_the_call(backend):
    old = _ones()
    vd.get_context().destroy()                # the next use opens a new context
    fresh = _ones()
    with pytest.raises(vd.UseAfterFreeError, match="context"):
        copy(fresh, old)
    with pytest.raises(vd.UseAfterFreeError, match="context"):
        vd.copy_buffer(old, fresh)
    add_c(fresh, 2.0)
    np.testing.assert_array_equal(fresh.read(0), np.full(32, 3, np.float32))


def test_overlapping_copy_raises(backend):
    a = vd.asbuffer(np.arange(16, dtype=np.float32))
    with pytest.raises(vd.InvalidArgumentError, match="overlap"):
        vd.copy_buffer(a, a)
    assert len(vd.global_graph()) == 0
    b = vd.Buffer((16,), vd.float32)
    vd.copy_buffer(a, b)
    np.testing.assert_array_equal(b.read(0), np.arange(16, dtype=np.float32))


def test_work_of_a_finished_thread_is_seen_by_another(backend):
    b = vd.asbuffer(np.zeros(64, np.float32))
    t = threading.Thread(target=lambda: add_c(b, 1.0))
    t.start()
    t.join()
    np.testing.assert_array_equal(b.read(0), np.ones(64, np.float32))


def test_reads_see_pending_work_of_live_threads(backend):
    b = vd.asbuffer(np.zeros(64, np.float32))
    recorded, release = threading.Event(), threading.Event()

    def worker():
        for _ in range(5):
            add_c(b, 1.0)
        recorded.set()
        release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    assert recorded.wait(10)
    try:
        np.testing.assert_array_equal(b.read(0), np.full(64, 5, np.float32))
    finally:
        release.set()
        t.join()


def test_many_threads_record_and_nothing_is_lost(backend):
    bufs = [vd.asbuffer(np.zeros(128, np.float32)) for _ in range(4)]

    def worker(buf):
        for _ in range(50):
            add_c(buf, 1.0)

    threads = [threading.Thread(target=worker, args=(b,)) for b in bufs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for b in bufs:
        np.testing.assert_array_equal(b.read(0), np.full(128, 50, np.float32))


def test_set_var_with_an_unknown_name_raises(backend):
    buf = _ones()
    graph = vd.CommandGraph()
    scale(buf, graph.bind_var("scale"), graph=graph)
    with pytest.raises(KeyError, match="'sacle'.*scale"):
        graph.set_var("sacle", 100.0)
    graph.set_var("scale", 3.0)
    graph.submit(wait=True)
    np.testing.assert_array_equal(buf.read(0), np.full(32, 3, np.float32))


def test_instance_values_and_counts_are_checked(backend):
    buf = _ones(8)
    graph = vd.CommandGraph()
    scale(buf, graph.bind_var("k"), graph=graph)
    graph.set_var("k", [2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="shape"):
        graph.submit(instance_count=2)
    with pytest.raises(ValueError, match="instance_count"):
        graph.submit(instance_count=10 ** 9)
    graph.submit(instance_count=3, wait=True)
    np.testing.assert_array_equal(buf.read(0), np.full(8, 24, np.float32))


def test_queue_index_takes_any_integer(backend):
    buf = vd.asbuffer(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(buf.read(np.int64(0)), np.arange(4, dtype=np.float32))
    with pytest.raises(TypeError, match="queue_index"):
        buf.read(0.0)
    with pytest.raises(IndexError, match="queue_index"):
        buf.read(5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
def test_a_forked_child_gets_a_clear_error(backend):
    code = textwrap.dedent(f"""
        import os, sys
        import numpy as np
        import vkdispatch as vd
        vd.initialize(backend={backend!r})
        buf = vd.asbuffer(np.ones(8, np.float32))
        pid = os.fork()
        if pid == 0:
            try:
                buf.read(0)
            except vd.ForkedProcessError as exc:
                code = 3 if "spawn" in str(exc) else 4
            else:
                code = 5
            try:
                vd.Buffer((4,), vd.float32)
            except vd.ForkedProcessError:
                pass
            else:
                code = 6
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        print("parent", float(buf.read(0)[0]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "child 3" in out.stdout and "parent 1.0" in out.stdout, out.stdout + out.stderr
