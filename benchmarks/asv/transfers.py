"""Host <-> device copies of a float32 buffer: Buffer.write and Buffer.read."""
import numpy as np

import vkdispatch as vd

from ._common import BACKENDS, seconds_per_call, sizes, use_backend


class BufferTransfer:
    params = (BACKENDS, sizes((22,)))
    param_names = ["backend", "n"]

    def setup(self, backend, n):
        use_backend(backend)
        self.host = np.random.default_rng(3).random(n, dtype=np.float32)
        self.buf = vd.asbuffer(self.host)

    def write(self):
        self.buf.write(self.host)

    def read(self):
        return self.buf.read(0)

    def time_write(self, backend, n):
        self.write()

    def time_read(self, backend, n):
        self.read()

    def track_write_bandwidth(self, backend, n):
        return self.host.nbytes / seconds_per_call(self.write) / 1e9

    def track_read_bandwidth(self, backend, n):
        return self.host.nbytes / seconds_per_call(self.read) / 1e9

    track_write_bandwidth.unit = "GB/s"
    track_read_bandwidth.unit = "GB/s"
