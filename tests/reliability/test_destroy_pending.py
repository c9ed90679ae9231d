"""Destroying memory that recorded, not yet submitted work uses: the work runs first
(as it would have eagerly), and nothing is left in a graph to fail every later submit.
Against NumPy on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.execution.pool import buffer_pool


@vd.shader("dst.size")
def _scaled_copy(dst: Buff[f32], src: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] * k


def test_destroying_a_buffer_runs_the_work_recorded_on_it(backend):
    src = vd.asbuffer(np.arange(64, dtype=np.float32))
    dst = vd.Buffer((64,), vd.float32)
    _scaled_copy(dst, src, 3.0)          # recorded into the global graph
    src.destroy()
    np.testing.assert_array_equal(dst.read(0), np.arange(64) * 3.0)
    other = vd.asbuffer(np.ones(8, np.float32))     # the graph is usable afterwards
    _scaled_copy(other, other, 2.0)
    np.testing.assert_array_equal(other.read(0), np.full(8, 2.0))


def test_destroying_an_image_runs_the_work_recorded_on_it(backend):
    img = vd.Image2D((4, 4))
    img.write(np.arange(16, dtype=np.float32).reshape(4, 4))
    out = vd.Buffer((16,), vd.vec4)

    @vd.shader("out.size")
    def fetch(out: Buff[vc.v4], im: vc.Img2[f32]):
        i = vc.global_invocation_id().x
        out[i] = vc.texel_fetch(im, vc.new_ivec2(i % 4, i // 4))

    fetch(out, img)
    img.destroy()
    np.testing.assert_array_equal(out.read(0)[:, 0], np.arange(16))


def test_a_full_pool_lets_results_go_without_destroying_recorded_memory(backend):
    """The lazy layer's pool, full, freed intermediates that pending records still
    used: every later flush raised 'this buffer has been destroyed' (a Dask job over
    512 MiB chunks)."""
    pool = buffer_pool(vd.get_context())
    saved = pool.max_bytes
    pool.max_bytes = 0
    try:
        h = np.random.default_rng(3).random((64, 256), dtype=np.float32)
        x = xp.asarray(h)
        for _ in range(3):
            y = x * 0.25 + (x * x) * 0.5
            got = np.asarray(xp.sum(y, axis=1))
            np.testing.assert_allclose(got, (h * 0.25 + h * h * 0.5).sum(axis=1), rtol=1e-5)
    finally:
        pool.max_bytes = saved


def test_a_user_graph_names_the_record_whose_buffer_was_destroyed(backend):
    src = vd.asbuffer(np.ones(16, np.float32))
    dst = vd.Buffer((16,), vd.float32)
    graph = vd.CommandGraph()
    _scaled_copy(dst, src, 2.0, graph=graph)
    src.destroy()
    with pytest.raises(vd.VkDispatchError, match=r"record 0 binds 'src': .*destroyed"):
        graph.submit()
    graph.reset()
    _scaled_copy(dst, dst, 2.0, graph=graph)
    graph.submit()
