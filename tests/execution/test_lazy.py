"""The lazy layer: fusion into one kernel, dead intermediates never allocated, shapes and
scalars as kernel arguments, sync points, memory ordering with shaders and host writes."""
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.codegen.abbreviations import Buff, f32
import vkdispatch.codegen as vc
from vkdispatch.execution import lazy
from vkdispatch.execution.pool import buffer_pool

# GPUs contract a*b+c into one fma: float32 rounding differs from NumPy's by an ulp or so
F32 = dict(rtol=1e-5, atol=1e-6)


def _chain(a, b, c):
    return xp.sqrt(a * b + c) * 2 - a


def _np_chain(a, b, c):
    return np.sqrt(a * b + c) * np.float32(2) - a


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random(n, dtype=np.float32) for _ in range(3)]


def test_chain_is_one_kernel_without_intermediates(backend):
    host = _inputs(1000)
    a, b, c = (xp.asarray(h) for h in host)
    lazy.flush()
    pool = buffer_pool(vd.get_context())
    before = vd.stats()
    out = _chain(a, b, c)
    assert len(lazy.pending_graph()) == 5          # recorded, nothing ran
    assert (vd.stats() - before).dispatches_recorded == 0
    taken = []
    original = pool.take
    pool.take = lambda *args: taken.append(args) or original(*args)
    try:
        result = np.asarray(out)
    finally:
        del pool.take
    np.testing.assert_allclose(result, _np_chain(*host), **F32)
    delta = vd.stats() - before
    assert delta.dispatches_recorded == 1 and delta.submits == 1
    assert len(taken) == 1                         # the result only


def test_new_shapes_and_scalars_compile_nothing(backend):
    a, b, c = (xp.asarray(h) for h in _inputs(64))
    np.asarray(_chain(a, b, c) + 1.5)
    for n, k in ((10, 2.5), (333, -1.0), (4097, 7.0)):
        host = _inputs(n, n)
        a, b, c = (xp.asarray(h) for h in host)
        before = vd.stats()
        got = np.asarray(_chain(a, b, c) + k)
        delta = vd.stats() - before
        assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0
        np.testing.assert_allclose(got, _np_chain(*host) + np.float32(k), **F32)


def test_replay_of_a_loop_compiles_nothing_and_submits_once(backend):
    host = _inputs(256)
    a, b, c = (xp.asarray(h) for h in host)
    np.asarray(_chain(a, b, c))
    before = vd.stats()
    out = _chain(a, b, c)
    got = np.asarray(out)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.submits == 1
    assert delta.dispatches_recorded == 1
    np.testing.assert_allclose(got, _np_chain(*host), **F32)


def test_live_intermediate_is_kept_and_dead_work_is_dropped(backend):
    host = _inputs(50)
    a, b, c = (xp.asarray(h) for h in host)
    t = a * b
    out = t + c
    unused = a - b            # alive but never read: still computed (the user may read it)
    dead = a / b              # dropped before the flush: never computed
    del dead
    before = vd.stats()
    np.testing.assert_allclose(np.asarray(out), host[0] * host[1] + host[2], **F32)
    np.testing.assert_allclose(np.asarray(t), host[0] * host[1], **F32)
    assert (vd.stats() - before).dispatches_recorded == 3
    np.testing.assert_allclose(np.asarray(unused), host[0] - host[1], **F32)


def test_reads_before_an_inplace_write_see_the_old_values(backend):
    h = np.arange(8, dtype=np.float32)
    a = xp.asarray(h)
    old = a * 2
    a += 1
    tmp = a * 1
    a *= 3
    np.testing.assert_array_equal(np.asarray(old), h * 2)
    np.testing.assert_array_equal(np.asarray(tmp), h + 1)
    np.testing.assert_array_equal(np.asarray(a), (h + 1) * 3)


def test_dead_value_read_before_a_write_is_not_recomputed_after(backend):
    h = np.arange(6, dtype=np.float32)
    a = xp.asarray(h)
    v = a * 2
    a[...] = v
    w = v + 1
    del v
    np.testing.assert_array_equal(np.asarray(w), h * 2 + 1)
    np.testing.assert_array_equal(np.asarray(a), h * 2)


def test_overlapping_setitem_copies_first(backend):
    h = np.arange(10, dtype=np.float32)
    a = xp.asarray(h)
    a[1:] = a[:-1]
    a[:5] += a[5:]
    expect = h.copy()
    expect[1:] = expect[:-1].copy()
    expect[:5] += expect[5:].copy()
    np.testing.assert_array_equal(np.asarray(a), expect)


_double = None


def _double_shader():
    global _double
    if _double is None:
        @vd.shader("buf.size")
        def double(buf: Buff[f32]):
            i = vc.global_invocation_id().x
            buf[i] = buf[i] * 2.0
        _double = double
    return _double


def test_shader_calls_and_array_ops_interleave_on_one_buffer(backend):
    h = np.arange(16, dtype=np.float32)
    buf = vd.asbuffer(h)
    x = xp.from_buffer(buf)
    assert x.buffer is buf
    x += 1                       # pending write to buf
    _double_shader()(buf)        # must see x + 1: the pending work is recorded first
    y = x * 10                   # must see the shader's result
    x -= 1                       # a write after y's read
    np.testing.assert_array_equal(np.asarray(y), (h + 1) * 2 * 10)
    np.testing.assert_array_equal(buf.read(0), (h + 1) * 2 - 1)


def test_host_write_after_a_pending_read(backend):
    h = np.arange(5, dtype=np.float32)
    buf = vd.asbuffer(h)
    y = xp.from_buffer(buf) + 1
    buf.write(np.zeros(5, dtype=np.float32))    # a sync point: y reads the old values
    np.testing.assert_array_equal(np.asarray(y), h + 1)


def test_queue_wait_idle_and_buffer_export_flush(backend):
    a = xp.asarray(np.ones(4, dtype=np.float32))
    b = a + 41
    vd.queue_wait_idle()
    assert len(lazy.pending_graph()) == 0
    assert b._view is not None
    c = (a * 3).buffer
    np.testing.assert_array_equal(c.read(0), np.full(4, 3, dtype=np.float32))


def test_pending_graph_is_bounded(backend):
    a = xp.asarray(np.zeros(4, dtype=np.float32))
    x = a
    for _ in range(lazy.MAX_PENDING + 10):
        x = x + 1
    assert len(lazy.pending_graph()) < lazy.MAX_PENDING
    np.testing.assert_array_equal(np.asarray(x), np.full(4, lazy.MAX_PENDING + 10,
                                                           dtype=np.float32))


def test_the_op_that_fills_the_graph_is_computed(backend):
    """The size bound flushes before the next record: the op that filled the graph
    (its Array just made) is computed and read back like any other."""
    a = xp.asarray(np.zeros(4, dtype=np.float32))
    lazy.flush()
    x = a
    for _ in range(lazy.MAX_PENDING):
        x = x + 1
    assert len(lazy.pending_graph()) == lazy.MAX_PENDING
    np.testing.assert_array_equal(np.asarray(x), np.full(4, lazy.MAX_PENDING, np.float32))


def test_threads_record_their_own_graphs(backend):
    h = np.arange(32, dtype=np.float32)
    a = xp.asarray(h)
    results, errors = {}, []

    def work(k):
        try:
            results[k] = a * k + 1
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, r in results.items():       # read here: other threads' work is flushed too
        np.testing.assert_array_equal(np.asarray(r), h * k + 1)


def test_bad_ops_raise_at_the_call_and_leave_the_graph(backend):
    a = xp.asarray(np.ones(3, dtype=np.float32))
    b = xp.asarray(np.ones(4, dtype=np.float32))
    n = len(lazy.pending_graph())
    with pytest.raises(ValueError, match="broadcast"):
        a + b
    with pytest.raises(TypeError, match="int32"):
        a + xp.asarray(np.ones(3, dtype=np.int32))
    assert len(lazy.pending_graph()) == n


def test_more_elements_than_invocations_loop(backend, monkeypatch):
    from vkdispatch.execution import fusion
    monkeypatch.setattr(fusion, "MAX_GROUPS", 2)
    host = _inputs(3000, 4)
    a, b, c = (xp.asarray(h) for h in host)
    np.testing.assert_allclose(np.asarray(_chain(a, b, c)), _np_chain(*host), **F32)
    t = xp.asarray(host[0].reshape(60, 50)).T
    np.testing.assert_allclose(np.asarray(t * 2), host[0].reshape(60, 50).T * 2, **F32)


def test_results_go_back_to_the_pool_when_dropped(backend):
    import weakref
    a = xp.asarray(np.ones(256, dtype=np.float32))
    y = a * 2
    float(y[0])
    storage = weakref.ref(y._view.storage)
    del y
    assert storage() is None          # freed at once (no reference cycle holds it)
    pool = buffer_pool(vd.get_context())
    cached = pool.cached_bytes
    float((a * 3)[0])
    assert pool.cached_bytes == cached    # the next result took the freed buffer


def test_too_many_elements_raise_at_the_op(backend):
    a = xp.asarray(np.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match="32-bit"):
        xp.broadcast_to(a[:1], (1 << 16, 1 << 16)) + 1


def test_a_failing_kernel_raises_on_every_read(backend):
    from vkdispatch.array_api._elementwise import Op

    def broken(args, dtype):
        raise TypeError("no lowering for this op")
    a = xp.asarray(np.ones(4, dtype=np.float32))
    good = a + 1
    bad = xp.Array._record(Op(("broken-op",), broken), (a._arg(),), a.shape, a.dtype, a.device)
    with pytest.raises(TypeError, match="no lowering"):
        np.asarray(bad)
    with pytest.raises(RuntimeError, match="could not be computed"):
        np.asarray(bad)
    np.testing.assert_array_equal(np.asarray(good), np.full(4, 2, dtype=np.float32))


def test_work_pending_when_its_context_is_destroyed_is_dropped(backend):
    """Work recorded but not run when its context is destroyed never reaches the next
    context (where its memory does not exist); reading its result raises."""
    x = xp.asarray(np.zeros(5, np.float32))
    x[1] = 2.0
    y = x + 1
    vd.shutdown()
    vd.initialize(backend=backend)
    z = xp.asarray(np.ones(3, np.float32)) + 1
    np.testing.assert_array_equal(np.asarray(z), [2, 2, 2])
    with pytest.raises(RuntimeError, match="destroyed"):
        np.asarray(y)
