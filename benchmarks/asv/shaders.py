"""@vd.shader calls: eager calls and a replayed CommandGraph."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

from ._common import BACKENDS, seconds_per_call, use_backend


@vd.shader("buf.size")
def add_scalar(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


class EagerCall:
    """One small in-place kernel call (64 float32): host cost and round trip."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        use_backend(backend)
        self.buf = vd.asbuffer(np.zeros(64, np.float32))
        add_scalar(self.buf, 1.0)
        vd.queue_wait_idle()

    def call_and_submit(self):
        add_scalar(self.buf, 1.0)
        vd.global_graph().submit()

    def time_call_and_wait(self, backend):
        add_scalar(self.buf, 1.0)
        vd.queue_wait_idle()

    def time_100_calls(self, backend):
        for _ in range(100):
            self.call_and_submit()
        vd.queue_wait_idle()

    def track_host_us_per_call(self, backend):
        us = seconds_per_call(lambda: [self.call_and_submit() for _ in range(100)]) * 1e4
        vd.queue_wait_idle()
        return us

    track_host_us_per_call.unit = "us"


class GraphReplay:
    """A CommandGraph of 100 dependent dispatches on one buffer, submitted again."""
    params = [BACKENDS]
    param_names = ["backend"]
    dispatches = 100

    def setup(self, backend):
        use_backend(backend)
        self.buf = vd.asbuffer(np.zeros(1024, np.float32))
        self.graph = vd.CommandGraph()
        for _ in range(self.dispatches):
            add_scalar(self.buf, 1.0, graph=self.graph)
        self.replay()

    def teardown(self, backend):
        if hasattr(self, "graph"):      # asv tears down after a skipped setup too
            self.graph.destroy()

    def replay(self):
        self.graph.submit()
        self.graph.wait()

    def time_replay(self, backend):
        self.replay()

    def track_us_per_dispatch(self, backend):
        return seconds_per_call(self.replay) / self.dispatches * 1e6

    track_us_per_dispatch.unit = "us"
