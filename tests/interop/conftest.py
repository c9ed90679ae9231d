"""Fixtures of the interop tests."""
import pytest

import vkdispatch as vd


@pytest.fixture
def cuda():
    """The CUDA backend's context (skipped where CUDA is unavailable)."""
    try:
        vd.initialize(backend="cuda")
        vd.make_context()
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        pytest.skip(str(exc))
    yield vd.get_context()
    vd.shutdown()
