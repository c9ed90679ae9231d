"""Flush plans: a pending graph of a structure flushed before replays its plan and its
recorded command lists (nothing partitioned, compiled or re-recorded, one submit), with
the new data; any change of structure plans anew; results always match NumPy."""
import threading

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32
from vkdispatch.execution import command_graph, lazy, plan

F32 = dict(rtol=1e-5, atol=1e-6)   # GPUs contract a*b+c into one fma


def _chain(a, b, c):
    return xp.sqrt(a * b + c) * 2 - a


def _np_chain(a, b, c):
    return np.sqrt(a * b + c) * np.float32(2) - a


def _host(n, seed):
    rng = np.random.default_rng(seed)
    return [rng.random(n, dtype=np.float32) + 0.5 for _ in range(3)]


class _Counts:
    """Plans made and found, and command lists recorded, since creation."""

    def __init__(self, monkeypatch):
        self.cache = plan.plan_cache(vd.get_context())
        self.hits0, self.misses0 = self.cache.hits, self.cache.misses
        self.lists = 0
        build = command_graph.CommandGraph._build

        def counting(graph, *args):
            self.lists += 1
            return build(graph, *args)
        monkeypatch.setattr(command_graph.CommandGraph, "_build", counting)

    @property
    def hits(self):
        return self.cache.hits - self.hits0

    @property
    def misses(self):
        return self.cache.misses - self.misses0


def test_same_chain_with_new_data_replays_its_plan_and_list(backend, monkeypatch):
    bufs = [vd.asbuffer(h) for h in _host(1000, 0)]
    a, b, c = (xp.from_buffer(buf) for buf in bufs)
    np.asarray(_chain(a, b, c))               # the first flush of this structure
    counts = _Counts(monkeypatch)
    for seed in range(1, 6):
        host = _host(1000, seed)
        for buf, h in zip(bufs, host):
            buf.write(h)                      # new data in the same memory
        before = vd.stats()
        got = np.asarray(_chain(a, b, c))
        delta = vd.stats() - before
        np.testing.assert_allclose(got, _np_chain(*host), **F32)
        assert (delta.kernels_compiled, delta.disk_cache_hits) == (0, 0)
        assert delta.submits == 1 and delta.dispatches_recorded == 1
    assert counts.misses == 0 and counts.hits == 5
    assert counts.lists == 0                  # the kept command list ran as it was


def test_new_arrays_of_the_same_structure_replay_the_plan(backend, monkeypatch):
    host = _host(300, 0)
    np.asarray(_chain(*(xp.asarray(h) for h in host)))
    counts = _Counts(monkeypatch)
    for seed in range(1, 4):
        host = _host(300, seed)
        before = vd.stats()
        got = np.asarray(_chain(*(xp.asarray(h) for h in host)))
        delta = vd.stats() - before
        np.testing.assert_allclose(got, _np_chain(*host), **F32)
        assert delta.kernels_compiled == 0 and delta.submits == 1
    assert counts.misses == 0 and counts.hits == 3


def test_dependent_loop_past_the_pending_bound_replays(backend, monkeypatch):
    """A loop longer than MAX_PENDING nodes flushes mid-way at several phases of its
    body; every phase replays once seen, with no list recorded again."""
    a, b, c = _host(256, 7)
    xa, xb, xc = xp.asarray(a), xp.asarray(b * np.float32(0.25)), xp.asarray(c)

    def run(steps):
        x = xc
        for _ in range(steps):
            x = xp.sqrt(xa * xb + x) * 0.5 - xa * 0.125
        return np.asarray(x)

    def expect(steps):
        x = c.copy()
        for _ in range(steps):
            x = np.sqrt(a * (b * np.float32(0.25)) + x) * np.float32(0.5) - a * np.float32(0.125)
        return x

    steps = lazy.MAX_PENDING // 2
    for _ in range(3):                        # warm: every phase and buffer set seen
        run(steps)
    counts = _Counts(monkeypatch)
    before = vd.stats()
    got = run(steps)
    assert (vd.stats() - before).kernels_compiled == 0
    np.testing.assert_allclose(got, expect(steps), rtol=1e-4, atol=1e-5)
    assert counts.misses == 0 and counts.hits >= 3 and counts.lists == 0


def test_new_scalar_values_replay_with_new_uniforms(backend, monkeypatch):
    h = np.linspace(-2, 2, 333, dtype=np.float32)
    x = xp.asarray(h)
    np.asarray(x * 1.0 + 2.0)
    counts = _Counts(monkeypatch)
    for k in (0.5, -3.0, 7.25):
        np.testing.assert_allclose(np.asarray(x * k + (k - 1)),
                                   h * np.float32(k) + np.float32(k - 1), **F32)
    assert counts.misses == 0 and counts.lists == 0


def test_replayed_scalars_keep_the_sign_of_zero_and_their_type(backend):
    """A replay reuses the last packed uniforms only for the very same values (0.0 and
    -0.0 compare equal)."""
    ones = xp.ones(5, dtype=xp.float32)
    for k in (0.0, -0.0, 0.0, -0.0):
        with np.errstate(divide="ignore"):
            want = np.float32(1) / np.float32(k)
        np.testing.assert_array_equal(np.asarray(ones / k), want)
    ints = xp.asarray(np.arange(5, dtype=np.int32))
    for k in (3, 3, 2):
        np.testing.assert_array_equal(np.asarray(ints * k), np.arange(5, dtype=np.int32) * k)
    flags = xp.asarray(np.array([True, False, True]))
    for k in (True, False, True):
        np.testing.assert_array_equal(np.asarray(flags & k), np.array([True, False, True]) & k)


@pytest.mark.parametrize("change", ["shape", "dtype", "op", "alias", "offset", "alive"])
def test_a_changed_structure_plans_anew_and_is_right(backend, monkeypatch, change):
    a_h, b_h, c_h = _host(64, 3)
    a, b, c = xp.asarray(a_h), xp.asarray(b_h), xp.asarray(c_h)
    np.asarray(_chain(a, b, c))
    counts = _Counts(monkeypatch)
    if change == "shape":
        a_h, b_h, c_h = _host(65, 4)
        got, want = _chain(*(xp.asarray(h) for h in (a_h, b_h, c_h))), _np_chain(a_h, b_h, c_h)
    elif change == "dtype":
        a_h, b_h, c_h = (h.astype(np.float64) for h in (a_h, b_h, c_h))
        if not vd.get_context().device.float64:
            pytest.skip("no float64 on this device")
        got = _chain(*(xp.asarray(h) for h in (a_h, b_h, c_h)))
        want = np.sqrt(a_h * b_h + c_h) * 2 - a_h
    elif change == "op":
        got, want = xp.sqrt(a * b - c * 0.25) * 2 - a, np.sqrt(a_h * b_h - c_h * 0.25) * 2 - a_h
    elif change == "alias":      # the same array twice: one input where there were two
        got, want = _chain(a, a, c), _np_chain(a_h, a_h, c_h)
    elif change == "offset":     # views at other places of the same memory
        got, want = _chain(a[1:-1], b[:-2], c[2:]), _np_chain(a_h[1:-1], b_h[:-2], c_h[2:])
    else:                        # an intermediate kept alive: computed into memory
        kept = a * b + c
        got = xp.sqrt(kept) * 2 - a
        want = _np_chain(a_h, b_h, c_h)
        np.testing.assert_allclose(np.asarray(kept), a_h * b_h + c_h, **F32)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
    assert counts.misses >= 1


def test_freed_and_reused_buffers_are_never_read_stale(backend):
    """Replays bind the arrays of their own batch: memory of dead arrays, given back to
    the pool and handed to new ones (or freed), is never read in their place."""
    n = 500
    keep = []
    for seed in range(6):
        host = _host(n, seed)
        a, b, c = (xp.asarray(h) for h in host)
        out = _chain(a, b, c)
        np.testing.assert_allclose(np.asarray(out), _np_chain(*host), **F32)
        keep.append((out, _np_chain(*host)))
        del a, b, c
        if seed == 3:
            from vkdispatch.execution.pool import buffer_pool
            buffer_pool(vd.get_context()).clear()      # free what the pool holds
    for out, want in keep:   # earlier results are untouched by later replays
        np.testing.assert_allclose(np.asarray(out), want, **F32)


def test_inplace_and_setitem_loops_replay_correctly(backend):
    h = np.arange(40, dtype=np.float32)
    x = xp.asarray(h)
    y = xp.asarray(h[::-1].copy())
    ref_x, ref_y = h.copy(), h[::-1].copy()
    for k in range(5):
        x += 1.5
        x *= 0.5
        y[2:10] = x[:8] * float(k)
        ref_x = (ref_x + np.float32(1.5)) * np.float32(0.5)
        ref_y[2:10] = ref_x[:8] * np.float32(k)
        np.testing.assert_allclose(np.asarray(y), ref_y, **F32)
    np.testing.assert_allclose(np.asarray(x), ref_x, **F32)


_scale = None


def _scale_shader():
    global _scale
    if _scale is None:
        @vd.shader("buf.size")
        def scale(buf: Buff[f32]):
            i = vc.global_invocation_id().x
            buf[i] = buf[i] * 3.0 + 1.0
        _scale = scale
    return _scale


def test_shader_calls_interleave_with_replayed_flushes(backend):
    h = np.linspace(0, 1, 128, dtype=np.float32)
    buf = vd.asbuffer(h)
    x = xp.from_buffer(buf)
    ref = h.copy()
    for k in range(4):
        y = x * 2 + float(k)           # pending read of buf
        _scale_shader()(buf)           # writes buf: y is computed first
        x += 1                         # a pending write after the shader
        z = x - 0.5
        np.testing.assert_allclose(np.asarray(y), ref * 2 + k, **F32)
        ref = ref * np.float32(3) + 1 + 1
        np.testing.assert_allclose(np.asarray(z), ref - np.float32(0.5), **F32)
    np.testing.assert_allclose(buf.read(0), ref, **F32)


def test_threads_replay_their_chains(backend):
    errors = []

    def work(t):
        try:
            for seed in range(4):
                host = _host(200 + t, 10 * t + seed)
                a, b, c = (xp.asarray(h) for h in host)
                x = c
                for _ in range(3):
                    x = _chain(a, b, x) * 0.25
                want = host[2]
                for _ in range(3):
                    want = _np_chain(host[0], host[1], want) * np.float32(0.25)
                np.testing.assert_allclose(np.asarray(x), want, rtol=1e-4, atol=1e-5)
        except Exception as exc:   # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_plan_cache_is_bounded(backend):
    cache = plan.plan_cache(vd.get_context())
    for n in range(1, cache.max_plans + 10):
        a = xp.asarray(np.full(n, 2.0, np.float32))
        np.testing.assert_array_equal(np.asarray(a * 3), np.full(n, 6.0, np.float32))
    assert len(cache) <= cache.max_plans


def test_errors_name_the_users_line(backend):
    from vkdispatch.array_api._elementwise import Op

    def broken(args, dtype):
        raise TypeError("no lowering for this op")
    a = xp.asarray(np.ones(4, dtype=np.float32))
    bad = xp.Array._record(Op(("broken-op",), broken), (a._arg(),), a.shape, a.dtype,
                           a.device)   # the line named below
    line = bad._node.location()
    assert line.endswith(f"{__file__}:{test_errors_name_the_users_line.__code__.co_firstlineno + 6}")
    with pytest.raises(TypeError, match="no lowering"):
        np.asarray(bad)
    with pytest.raises(RuntimeError, match=line):
        np.asarray(bad)


def test_a_destroyed_input_raises_and_the_plan_replays_after(backend):
    """A flush whose input memory was destroyed raises (UseAfterFreeError) and records
    nothing half-way: the same structure with live memory runs right after. (Work
    recorded before the destroy runs first.)"""
    host = _host(100, 1)
    bufs = [vd.asbuffer(h) for h in host]
    a, b, c = (xp.from_buffer(buf) for buf in bufs)
    np.testing.assert_allclose(np.asarray(_chain(a, b, c)), _np_chain(*host), **F32)
    out = _chain(a, b, c)
    bufs[1].destroy()
    np.testing.assert_allclose(np.asarray(out), _np_chain(*host), **F32)
    with pytest.raises(vd.UseAfterFreeError):
        np.asarray(_chain(a, b, c))
    host = _host(100, 2)
    a, b, c = (xp.asarray(h) for h in host)
    np.testing.assert_allclose(np.asarray(_chain(a, b, c)), _np_chain(*host), **F32)


def test_overlapping_writes_in_a_loop_replay_correctly(backend):
    """Dead copies made for overlapping reads (pinned, computed apart) live in the
    plan's scratch memory at replays: each replay still reads what it must."""
    cache = plan.plan_cache(vd.get_context())
    cache.clear()
    h = np.arange(32, dtype=np.float32)
    a = xp.asarray(h)
    ref = h.copy()
    for k in range(6):
        a[1:] = a[:-1] * 0.5
        a[:16] += a[16:]
        ref[1:] = ref[:-1].copy() * np.float32(0.5)
        ref[:16] += ref[16:].copy()
        np.testing.assert_allclose(np.asarray(a), ref, **F32)
    assert any(p.scratch for p in cache._plans.values())


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_other_threads_independent_batches_replay_their_plans(backend, monkeypatch):
    """Pending batches of several threads that share no memory are flushed each by its
    own plan (and replayed once seen)."""
    def both(seed):
        host_t, host_m = _host(128, seed), _host(96, seed + 50)
        made_t = _in_thread(lambda: _chain(*(xp.asarray(h) for h in host_t)))  # pending there
        made_m = _chain(*(xp.asarray(h) for h in host_m))
        np.testing.assert_allclose(np.asarray(made_m), _np_chain(*host_m), **F32)
        np.testing.assert_allclose(np.asarray(made_t), _np_chain(*host_t), **F32)
    both(0)
    counts = _Counts(monkeypatch)
    both(1)
    assert counts.misses == 0 and counts.hits == 2


def test_threads_writing_memory_another_reads_keep_record_order(backend):
    h = np.arange(64, dtype=np.float32)
    for writer_first in (False, True):
        x = xp.asarray(h)

        def write():
            x[...] = x + 100.0          # pending in the other thread

        if writer_first:
            _in_thread(write)
            y = x * 2                   # recorded after the write: sees it
            want = (h + 100) * 2
        else:
            y = x * 2                   # recorded before the write: the old values
            _in_thread(write)
            want = h * 2
        np.testing.assert_allclose(np.asarray(y), want, **F32)
        np.testing.assert_allclose(np.asarray(x), h + 100, **F32)


def test_a_set_global_graph_that_keeps_its_records_gets_all_array_work(backend):
    """With a graph that keeps its records set as the global graph, array work goes
    into it in order with reductions and shader calls there, replayed plans included,
    and runs when it is submitted."""
    h = np.linspace(1, 2, 64, dtype=np.float32)
    a = xp.asarray(h)
    for _ in range(2):                     # every structure seen, run apart
        s = xp.sum(a * 2)
        lazy.flush()
        np.asarray(s * 3 + a)
    graph = vd.CommandGraph()
    old = vd.set_global_graph(graph)
    try:
        s = xp.sum(a * 2)                  # a reduction (into the graph) ...
        lazy.flush()
        y = s * 3 + a                      # ... then elementwise work reading it
        lazy.flush()
        assert len(graph) >= 2
        graph.submit(wait=True)
    finally:
        vd.set_global_graph(old)
    np.testing.assert_allclose(np.asarray(y), np.sum(h * 2) * 3 + h, rtol=1e-5)
    graph.destroy()
