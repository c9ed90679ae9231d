"""Fixtures of the CUDA runtime tests; the tests themselves skip without a CUDA device."""
import pytest


@pytest.fixture(scope="module")
def ctx():
    """One context per test module on device 0, with two queues."""
    import vkdispatch.backends.cuda as cuda_backend
    c = cuda_backend.load_runtime().create_context([0], [2])
    yield c
    c.destroy()
