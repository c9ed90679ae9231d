"""Fixtures of the OpenCL runtime tests (PoCL in CI); everything skips without OpenCL.

Helpers reach the tests through the `clh` fixture (importing a conftest by name is
fragile when several test directories have one)."""
import types

import numpy as np
import pytest

from tests.backends.host_io import download, upload
import vkdispatch.backends.opencl as ocl
from vkdispatch.base.abi import Binding, ProgramInfo, UniformField


@pytest.fixture(scope="session")
def cl_runtime():
    reason = ocl.probe()
    if reason is not None:
        pytest.skip(f"OpenCL unavailable: {reason}")
    return ocl.load_runtime()


@pytest.fixture(scope="module")
def ctx(cl_runtime):
    """One context per test module: device 0 with two in-order queues."""
    context = cl_runtime.create_context([0], [2])
    yield context
    context.destroy()


def buffers(*names, dtype="float32"):
    return tuple(Binding(n, "storage_buffer", i, dtype) for i, n in enumerate(names))


def uniforms(**fields):
    """UniformFields packed 4 bytes apart (all tests use 32-bit scalars)."""
    return tuple(UniformField(n, t, 4 * i, 4) for i, (n, t) in enumerate(fields.items()))


def pack(*values):
    """The uniform bytes of 32-bit values (float -> float32, int -> int32)."""
    return b"".join(np.float32(v).tobytes() if isinstance(v, float) else
                    np.int32(v).tobytes() for v in values)


def program_info(entry, local=(64, 1, 1), bindings=(), fields=(), **kw):
    return ProgramInfo(entry, local, bindings=bindings, uniforms=fields,
                       uniform_size=4 * len(fields), **kw)


@pytest.fixture(scope="session")
def clh():
    return types.SimpleNamespace(buffers=buffers, uniforms=uniforms, pack=pack,
                                 program_info=program_info, upload=upload, download=download)
