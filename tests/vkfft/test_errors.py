"""vd.vkfft's errors: Vulkan points to vd.fft, bad arguments name themselves, and
`import vkdispatch` works without pyvkfft."""
import subprocess
import sys

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.vkfft import _native

CALLS = {
    "fft": lambda b: vd.vkfft.fft(b), "ifft": lambda b: vd.vkfft.ifft(b),
    "fft2": lambda b: vd.vkfft.fft2(b), "ifft2": lambda b: vd.vkfft.ifft2(b),
    "fft3": lambda b: vd.vkfft.fft3(b), "ifft3": lambda b: vd.vkfft.ifft3(b),
    "rfft": lambda b: vd.vkfft.rfft(b), "irfft": lambda b: vd.vkfft.irfft(b),
    "rfft2": lambda b: vd.vkfft.rfft2(b), "irfft2": lambda b: vd.vkfft.irfft2(b),
    "rfft3": lambda b: vd.vkfft.rfft3(b), "irfft3": lambda b: vd.vkfft.irfft3(b),
    "convolve2D": lambda b: vd.vkfft.convolve2D(b, b),
    "transpose_kernel2D": lambda b: vd.vkfft.transpose_kernel2D(b),
}


def test_without_native_queues_every_call_points_to_vd_fft(backend):
    if vd.get_context().runtime_context.capabilities.native_api is not None:
        pytest.skip(f"{backend} runs VkFFT (see the other vkfft tests)")
    buf = vd.asbuffer(np.ones((2, 4, 8), np.complex64))
    for name, call in CALLS.items():
        with pytest.raises(vd.UnsupportedFeatureError, match=r"vd\.fft") as info:
            call(buf)
        assert backend in str(info.value), name
    np.testing.assert_array_equal(buf.read(0), np.ones((2, 4, 8)))   # left as it was


def test_bad_arguments_raise_naming_them(vkfft_backend):
    c = vd.Buffer((4, 8), vd.complex64)
    cases = [
        (lambda: vd.vkfft.fft(np.ones(8, np.complex64)), TypeError, "buffer must be a vd.Buffer"),
        (lambda: vd.vkfft.fft(vd.Buffer((8,), vd.float32)), TypeError, "complex64 or complex128"),
        (lambda: vd.vkfft.fft(c, axis=2), ValueError, "axis 2 is out of range"),
        (lambda: vd.vkfft.fft(c, axis=(1, -1)), ValueError, "distinct axes"),
        (lambda: vd.vkfft.fft(c, axis="x"), TypeError, "axis must be an int"),
        (lambda: vd.vkfft.fft(c, axis=True), TypeError, "axis must be an int"),
        (lambda: vd.vkfft.fft(c, graph=vd.CommandGraph()), ValueError, "graph must be None"),
        (lambda: vd.vkfft.fft(c, graph="g"), TypeError, "graph must be a vd.CommandGraph"),
        (lambda: vd.vkfft.fft(c, input_buffer=vd.Buffer((4, 9), vd.complex64)), ValueError,
         "input_buffer must match"),
        (lambda: vd.vkfft.fft(c, buffer_shape=(5, 8)), ValueError, "buffer_shape"),
        (lambda: vd.vkfft.fft2(vd.Buffer((8,), vd.complex64)), ValueError, "at least 2"),
        (lambda: vd.vkfft.rfft(c, axis=0), ValueError, "include the last axis"),
        (lambda: vd.vkfft.fft(c, buffer_shape=(4, 10), r2c=True), ValueError,
         "complex side of shape"),
        (lambda: vd.vkfft.rfft(c, input_buffer=vd.Buffer((4, 14), vd.float64)), TypeError,
         "input_buffer must be a float32 buffer"),
        (lambda: vd.vkfft.fft(vd.Buffer((), vd.complex64)), ValueError, "0-D buffer"),
        (lambda: vd.vkfft.rfft(vd.Buffer((), vd.complex64)), ValueError, "0-D buffer"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()


def test_a_missing_pyvkfft_is_named_with_how_to_install_it(vkfft_backend, monkeypatch):
    api = _native.api_for(vd.get_context())
    monkeypatch.setitem(sys.modules, api.module, None)   # what an absent module looks like
    monkeypatch.setattr(_native, "_modules", {})
    with pytest.raises(vd.BackendUnavailableError, match=r"vkdispatch\[vkfft\]"):
        vd.vkfft.fft(vd.asbuffer(np.ones(64, np.complex64)))


def test_import_vkdispatch_needs_no_pyvkfft():
    code = ("import sys; sys.modules['pyvkfft'] = None; import vkdispatch as vd; "
            "assert callable(vd.vkfft.fft) and 'pyvkfft.opencl' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
