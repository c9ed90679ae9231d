"""Queue waits on a GPU poll the timeline for a short while before blocking (a blocking
wait wakes late); lavapipe stands in for a GPU here, with its device type changed."""
import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.codegen.abbreviations import Buff, Const, f32
import vkdispatch.codegen as vc


@vd.shader("buf.size")
def _scale(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * k


def test_polling_waits_see_finished_work(backend, monkeypatch):
    if backend != "vulkan":
        pytest.skip("Vulkan queues only")
    rctx = vd.get_context().runtime_context
    queue = rctx._queues[0]
    monkeypatch.setattr(queue.device.phys, "device_type", "discrete")
    polls, inside = [], []
    completed, wait = type(queue).completed, type(queue).wait

    def counting_completed(self):
        if inside:
            polls.append(1)
        return completed(self)

    def marked_wait(self, *args, **kw):
        inside.append(1)
        try:
            return wait(self, *args, **kw)
        finally:
            inside.pop()

    monkeypatch.setattr(type(queue), "completed", counting_completed)
    monkeypatch.setattr(type(queue), "wait", marked_wait)
    h = np.arange(1 << 16, dtype=np.float32)
    buf = vd.asbuffer(h)
    for k in range(5):
        _scale(buf, 2.0)
        np.testing.assert_array_equal(buf.read(0), h * 2.0 ** (k + 1))
    assert polls, "the waits blocked without polling the timeline first"
