"""pyvkfft, reached through a runtime's native objects (Capabilities.native_api).

pyvkfft is imported on first use only, so `import vkdispatch` works without it. Its
transforms take arrays it reads a few attributes of (`data` or `gpudata`, `shape`,
`dtype`, `size`); `Operand` gives it those over a vkdispatch buffer's own memory, so
nothing is copied."""
from __future__ import annotations

import importlib
import math

import numpy as np

from ..base.errors import BackendUnavailableError, UnsupportedFeatureError


class Operand:
    """What pyvkfft reads of an array: the memory object (`data` for OpenCL, `gpudata`
    for CUDA), the shape and the numpy dtype VkFFT is told about."""

    __slots__ = ("data", "gpudata", "shape", "dtype", "size")

    def __init__(self, memory, shape: tuple, dtype: np.dtype):
        self.data = self.gpudata = memory
        self.shape = shape
        self.dtype = dtype
        self.size = math.prod(shape)

    def view(self, dtype=None) -> "Operand":
        # pyvkfft returns a reinterpreting view of in-place r2c results; nobody reads it
        return self


class _OpenCL:
    """pyvkfft.opencl: an app per pyopencl queue; transforms run on the queue given."""

    module = "pyvkfft.opencl"
    needs = "pyopencl"   # besides pyvkfft, named in the error when the import fails

    def queue_key(self, native_queue) -> int:
        return native_queue.int_ptr

    def make_app(self, module, native_queue, **options):
        return module.VkFFTApp(queue=native_queue, **options)

    def run(self, app, src, dst, native_queue, inverse):
        (app.ifft if inverse else app.fft)(src, dst, queue=native_queue)


class _Cuda:
    """pyvkfft.cuda: an app per CUstream (VkFFT launches on the stream of its plan)."""

    module = "pyvkfft.cuda"
    needs = "CuPy or PyCUDA (pyvkfft.cuda refuses to load without one)"

    def queue_key(self, native_queue) -> int:
        return int(native_queue)

    def make_app(self, module, native_queue, **options):
        # an int stream is taken as the CUstream handle; VkFFT launches on it
        return module.VkFFTApp(stream=int(native_queue), **options)

    def run(self, app, src, dst, native_queue, inverse):
        (app.ifft if inverse else app.fft)(src, dst)


_APIS = {"opencl": _OpenCL(), "cuda": _Cuda()}
_modules: dict = {}


def api_for(context):
    """The native API of `context`'s runtime; UnsupportedFeatureError where VkFFT cannot
    run on it (the Vulkan and dummy backends), pointing to vd.fft."""
    name = context.runtime_context.capabilities.native_api
    if name not in _APIS:
        raise UnsupportedFeatureError(
            f"vd.vkfft runs VkFFT through pyvkfft on the CUDA and OpenCL backends only; the "
            f"active backend is {context.backend!r}. Use vd.fft, vkdispatch's own FFT, which "
            f"runs on every backend (same call shapes)")
    return _APIS[name]


def load(api):
    """pyvkfft's module for `api`; BackendUnavailableError saying how to get it."""
    module = _modules.get(api.module)
    if module is None:
        try:
            module = importlib.import_module(api.module)
        except Exception as exc:  # not installed, built without this backend, no CuPy
            raise BackendUnavailableError(
                f"vd.vkfft needs {api.module} ({type(exc).__name__}: {exc}). Install the "
                f"extra: pip install 'vkdispatch[vkfft]' (pyvkfft builds from source: OpenCL "
                f"headers and libOpenCL for its OpenCL module, nvcc for its CUDA module); it "
                f"also needs {api.needs}") from exc
        _modules[api.module] = module
    return module
