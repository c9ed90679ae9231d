"""Pending array work handed between threads (as Dask's threaded scheduler does): a
node recorded in one thread and consumed in another is computed first."""
import threading

import numpy as np

import vkdispatch.array_api as xp


def test_a_thread_consumes_another_threads_pending_arrays(backend):
    # arguments of sin kept moderate: drivers' sin loses absolute accuracy far from 0
    base = (np.arange(4096, dtype=np.float32) / 64).reshape(64, 64)
    np.asarray(xp.asarray(base) + 1)   # this thread's pending graph exists before theirs
    for _ in range(5):
        made = {}

        def produce(i):
            # pending in this thread, and placed in memory (a view of it is taken)
            made[i] = xp.sin(xp.asarray(base + i) * 2 + 1).T

        threads = [threading.Thread(target=produce, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = xp.concat([made[i] - i for i in range(4)])    # consumed here
        ref = np.concatenate([np.sin((base + i) * 2 + 1).T - i for i in range(4)])
        # Vulkan lets sin err by 2^-11 in [-pi, pi]; NVIDIA's is off by ~2e-5 here
        np.testing.assert_allclose(np.asarray(total), ref, rtol=1e-5, atol=1e-4)
