"""Backend selection for tests that run kernels.

`backend` runs a test once per real backend (vulkan, opencl, cuda) that works on this
machine, skipping the others with the reason BackendUnavailableError gives.
VKDISPATCH_TEST_BACKENDS="vulkan,opencl" restricts the list. Each backend is probed once
per test module and shut down after it; before every test the backend is made current
again, in case a test in between switched to another one (e.g. the dummy backend)."""
import os

import pytest

import vkdispatch as vd

BACKENDS = ("vulkan", "opencl", "cuda")


def selected_backends() -> tuple:
    env = os.environ.get("VKDISPATCH_TEST_BACKENDS", "").strip()
    if not env:
        return BACKENDS
    names = tuple(n.strip().lower() for n in env.split(",") if n.strip())
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(f"VKDISPATCH_TEST_BACKENDS names unknown backend(s) {unknown}; "
                                f"valid: {list(BACKENDS)}")
    return names


_unavailable: dict = {}   # backend -> reason, so a missing backend is probed once per session


def _activate(name: str) -> None:
    try:
        vd.initialize(backend=name)
        vd.get_context()
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        _unavailable[name] = f"{name}: {exc}"
        pytest.skip(_unavailable[name])


@pytest.fixture(scope="module", params=selected_backends())
def _backend_module(request):
    name = request.param
    if name in _unavailable:
        pytest.skip(_unavailable[name])
    _activate(name)
    yield name
    vd.shutdown()


@pytest.fixture
def backend(_backend_module):
    """The name of the active real backend ("vulkan", "opencl" or "cuda")."""
    _activate(_backend_module)
    return _backend_module


@pytest.fixture
def dummy():
    """The dummy backend (code generation only), shut down afterwards."""
    vd.initialize(backend="dummy")
    ctx = vd.make_context()
    yield ctx.device
    import vkdispatch.codegen as vc
    vc.set_codegen_backend(None)
    vd.shutdown()
