"""vd.fft: batched complex64 1-D transforms along the last axis, in place."""
import numpy as np

import vkdispatch as vd

from ._common import BACKENDS, use_backend


class BatchedFFT:
    params = (BACKENDS, [(64, 1024), (256, 256)])
    param_names = ["backend", "shape"]

    def setup(self, backend, shape):
        use_backend(backend)
        rng = np.random.default_rng(2)
        data = rng.random(shape) + 1j * rng.random(shape)
        self.buf = vd.asbuffer(data.astype(np.complex64))
        self.run()

    def run(self):
        vd.fft.fft(self.buf)
        vd.queue_wait_idle()

    def time_fft(self, backend, shape):
        self.run()
