"""Fixtures of the Vulkan runtime tests (lavapipe in CI); everything skips without Vulkan.

Helpers reach the tests through the `vkh` fixture (importing a conftest by name is
fragile when several test directories have one). VKDISPATCH_TEST_VK_DEVICE picks the
device (default 0)."""
import os
import types

import pytest

from tests.backends.host_io import download, upload
import vkdispatch.backends.vulkan as vulkan_backend
from vkdispatch.base.abi import Binding, ProgramInfo

DEVICE = int(os.environ.get("VKDISPATCH_TEST_VK_DEVICE", "0"))


@pytest.fixture(scope="session")
def vk_runtime():
    reason = vulkan_backend.probe()
    if reason is not None:
        pytest.skip(f"Vulkan unavailable: {reason}")
    return vulkan_backend.load_runtime()


@pytest.fixture(scope="module")
def ctx(vk_runtime):
    """One context per test module on one device, one queue."""
    context = vk_runtime.create_context([DEVICE], [1])
    yield context
    context.destroy()


def buffers(*names):
    return tuple(Binding(n, "storage_buffer", i, "float32") for i, n in enumerate(names))


def info(local=(64, 1, 1), bindings=(), uniform_size=0, ubo=False, **kw):
    """ProgramInfo of a hand-written kernel; `ubo` puts uniforms in a uniform buffer
    bound right after the storage bindings."""
    if ubo:
        kw.update(uniform_in_push_constants=False, uniform_binding=len(bindings))
    return ProgramInfo("main", local, bindings=bindings, uniform_size=uniform_size, **kw)


def run(ctx, program, groups, bindings, uniform=b"", queue=0):
    cl = ctx.command_list(queue)
    cl.dispatch(program, groups, bindings, uniform)
    cl.submit().wait()
    cl.destroy()


@pytest.fixture(scope="session")
def vkh():
    return types.SimpleNamespace(buffers=buffers, info=info, upload=upload, download=download,
                                 run=run, device=DEVICE)
