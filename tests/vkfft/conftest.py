"""The backend fixture of vd.vkfft's tests: one VkFFT runs on (pyvkfft importable)."""
import pytest

import vkdispatch as vd
from vkdispatch.vkfft import _native


@pytest.fixture
def vkfft_backend(backend):
    """The active backend where vd.vkfft runs; skips (with the reason) where it cannot."""
    ctx = vd.get_context()
    if ctx.runtime_context.capabilities.native_api is None:
        pytest.skip(f"{backend}: vd.vkfft needs native queues (CUDA/OpenCL); see "
                    f"test_errors.py for the error it raises here")
    try:
        _native.load(_native.api_for(ctx))
    except vd.BackendUnavailableError as exc:
        pytest.skip(f"{backend}: {exc}")
    return backend
