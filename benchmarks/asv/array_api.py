"""vkdispatch.array_api: the fused elementwise chain and a sum."""
import numpy as np

import vkdispatch as vd
import vkdispatch.array_api as xp

from ._common import BACKENDS, seconds_per_call, sizes, use_backend


def _chain(a, b, c):
    return xp.sqrt(a * b + c) * 2 - a


class ElementwiseChain:
    """sqrt(a*b+c)*2-a over float32: one fused kernel per evaluation (3 reads, 1 write)."""
    params = (BACKENDS, sizes((20,)))
    param_names = ["backend", "n"]

    def setup(self, backend, n):
        use_backend(backend)
        rng = np.random.default_rng(0)
        self.a, self.b, self.c = (xp.asarray(rng.random(n, dtype=np.float32))
                                  for _ in range(3))
        self.run()          # compile outside the timing

    def run(self):
        self.out = _chain(self.a, self.b, self.c)
        vd.queue_wait_idle()    # a sync point: the chain runs, nothing is read back

    def time_chain(self, backend, n):
        self.run()

    def track_chain_bandwidth(self, backend, n):
        return 4 * n * 4 / seconds_per_call(self.run) / 1e9

    track_chain_bandwidth.unit = "GB/s"


class Sum:
    """xp.sum of float32, read back as a Python float."""
    params = (BACKENDS, sizes((20,)))
    param_names = ["backend", "n"]

    def setup(self, backend, n):
        use_backend(backend)
        self.a = xp.asarray(np.random.default_rng(1).random(n, dtype=np.float32))
        self.run()

    def run(self):
        return float(xp.sum(self.a))

    def time_sum(self, backend, n):
        self.run()

    def track_sum_bandwidth(self, backend, n):
        return 4 * n / seconds_per_call(self.run) / 1e9

    track_sum_bandwidth.unit = "GB/s"
