"""Array reductions replay: a flush of the same structure records the engine's kept
plan again (no tracing, no new scratch or counters, pooled results), so the command
graph runs its kept list; results always match NumPy, also when one flush holds two
reductions of one plan (shared scratch) or a reduction of an offset view."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.execution import fusion
from vkdispatch.reduce import engine

from .test_lazy_replay import _Counts

RNG = np.random.default_rng(5)
N = 1 << 16     # several workgroups per row on every driver: a finishing stage


def _f32_sum(x):
    return np.float32(np.sum(x, dtype=np.float64))


def test_sum_of_product_replays_its_list_with_new_data(backend, monkeypatch):
    bufs = [vd.asbuffer(RNG.random(N, dtype=np.float32)) for _ in range(2)]
    a, b = (xp.from_buffer(buf) for buf in bufs)
    for _ in range(3):                    # both pooled results seen
        float(xp.sum(a * b))
    lists = _Counts(monkeypatch)
    for _ in range(4):
        host = [RNG.random(N, dtype=np.float32) for _ in range(2)]
        for buf, h in zip(bufs, host):
            buf.write(h)
        before = vd.stats()
        got = float(xp.sum(a * b))
        delta = vd.stats() - before
        assert got == pytest.approx(_f32_sum(host[0].astype(np.float64) * host[1]), rel=1e-5)
        assert delta.kernels_compiled == 0 and delta.submits == 1
    assert lists.lists == 0


@pytest.mark.parametrize("axis", [0, 1, None])
def test_axis_reductions_replay_and_match_numpy(backend, monkeypatch, axis):
    shape = (96, 700)
    buf = vd.asbuffer(RNG.random(shape, dtype=np.float32))
    x = xp.from_buffer(buf)
    for _ in range(3):
        np.asarray(xp.max(x * 2 - 1, axis=axis))
    lists = _Counts(monkeypatch)
    for _ in range(3):
        h = RNG.random(shape, dtype=np.float32)
        buf.write(h)
        np.testing.assert_array_equal(np.asarray(xp.max(x * 2 - 1, axis=axis)),
                                      np.max(h * np.float32(2) - np.float32(1), axis=axis))
        np.testing.assert_allclose(np.asarray(xp.sum(x, axis=axis)), np.sum(h, axis=axis),
                                   rtol=2e-5)
    assert lists.lists <= 1       # the plain sums' list, once, then both replay


def test_two_reductions_of_one_plan_in_one_flush(backend):
    """They share the plan's partials and counter: the graph orders them."""
    h = [RNG.random(N, dtype=np.float32) for _ in range(3)]
    x = [xp.asarray(v) for v in h]
    for _ in range(2):
        sums = [xp.sum(v * v) for v in x]
        got = [float(s) for s in sums]
        want = [_f32_sum(v.astype(np.float64) ** 2) for v in h]
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_reduction_of_an_offset_view(backend):
    h = RNG.random(N + 9, dtype=np.float32)
    x = xp.asarray(h)
    for start in (1, 4, 1, 9):
        np.testing.assert_allclose(float(xp.sum(x[start:start + N])),
                                   _f32_sum(h[start:start + N]), rtol=1e-5)
        np.testing.assert_allclose(float(xp.sum(x[start:start + N] * 3)),
                                   _f32_sum(h[start:start + N] * np.float32(3)), rtol=1e-5)


def test_vector_reads_are_chosen_per_alignment(backend, monkeypatch):
    """The same structure over memory that starts 16-byte aligned and over memory that
    does not: the plans differ, both right."""
    monkeypatch.setattr(fusion, "VECTOR_ON_CPU", True)
    base = vd.asbuffer(RNG.random(N + 1, dtype=np.float32))
    host = base.read(0)
    for start in (0, 1, 0, 1):
        view = base.view(start, (N,))
        x = xp.from_buffer(view)
        np.testing.assert_allclose(float(xp.sum(x * x)),
                                   _f32_sum(host[start:start + N].astype(np.float64) ** 2),
                                   rtol=1e-5)
        np.testing.assert_allclose(np.asarray(x * 2 + 1)[:5],
                                   host[start:start + 5] * 2 + 1, rtol=1e-6)


def test_engine_out_argument(backend):
    h = RNG.integers(-50, 50, (50, 100), dtype=np.int32)
    src = vd.asbuffer(h)
    red = engine.reduction(vd.reduce.SubgroupAdd, vd.int32, input_type=vd.int32)
    out = vd.Buffer((64,), vd.int32)
    for _ in range(2):
        assert red([src], out=out) is out
        assert int(out.read(0)[0]) == int(h.sum())
        assert red([src], axes=1, out=out) is out
        np.testing.assert_array_equal(out.read(0)[:50], h.sum(axis=1))
    with pytest.raises(TypeError, match="out must be a vd.Buffer of int32"):
        red([src], out=vd.Buffer((4,), vd.float32))
    with pytest.raises(TypeError, match="at least 100 elements"):
        red([src], axes=0, out=vd.Buffer((99,), vd.int32))


def test_a_large_reduction_starts_soon(backend, monkeypatch):
    """Nothing fuses into a reduction after it: one of much data is submitted, fused
    with the work before it, when the next node is recorded (the host records on while
    it runs)."""
    from vkdispatch.array_api import _statistical
    monkeypatch.setattr(_statistical, "RUN_SOON_BYTES", 4 * N)
    h = RNG.random(N, dtype=np.float32)
    x = xp.asarray(h)
    float(xp.sum(x * 2))                       # warm: plan made
    before = vd.stats()
    s = xp.sum(x * 2)
    assert (vd.stats() - before).submits == 0
    small = xp.sum(x[:100])                    # the next record: s runs first
    delta = vd.stats() - before
    assert delta.submits == 1 and delta.dispatches_recorded == 1   # before any sync
    later = small + 1                          # under the threshold: stays pending
    assert (vd.stats() - before).submits == 1
    assert float(later) == pytest.approx(_f32_sum(h[:100]) + 1, rel=1e-5)
    assert float(s) == pytest.approx(_f32_sum(h * np.float32(2)), rel=1e-5)
    assert float(small) == pytest.approx(_f32_sum(h[:100]), rel=1e-5)


def test_a_large_reduction_into_a_graph_that_keeps_its_records(backend, monkeypatch):
    from vkdispatch.array_api import _statistical
    monkeypatch.setattr(_statistical, "RUN_SOON_BYTES", 4 * N)
    h = RNG.random(N, dtype=np.float32)
    x = xp.asarray(h)
    graph = vd.CommandGraph()
    previous = vd.set_global_graph(graph)
    try:
        before = vd.stats()
        s = xp.sum(x)
        s1 = s + 1                            # the next record flushes into the graph
        assert (vd.stats() - before).submits == 0 and len(graph) >= 1
    finally:
        vd.set_global_graph(previous)
    graph.submit()
    assert float(s) == pytest.approx(_f32_sum(h), rel=1e-5)
    assert float(s1) == pytest.approx(_f32_sum(h) + 1, rel=1e-5)
