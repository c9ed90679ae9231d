"""Test data for vd.vkfft: random arrays, the in-place r2c layout and an accuracy check
against numpy.fft in float64."""
import numpy as np
import pytest

import vkdispatch as vd

# relative L2 error against numpy.fft in float64: the bounds issue 11 sets for vd.fft
TOLERANCE = {np.complex64: 1e-6, np.complex128: 1e-13, np.float32: 1e-6, np.float64: 1e-13}


def random_array(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def assert_close(got, want, dtype):
    got, want = np.asarray(got, np.complex128), np.asarray(want, np.complex128)
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)
    assert err < TOLERANCE[dtype], f"relative L2 error {err:.3g} for {np.dtype(dtype).name}"


def padded_real(real, cdtype):
    """`real` (..., n) in VkFFT's in-place r2c layout: rows of 2 * (n // 2 + 1) reals,
    seen as the complex (..., n // 2 + 1) array a vd buffer holds."""
    n = real.shape[-1]
    rdtype = np.float32 if cdtype is np.complex64 else np.float64
    out = np.zeros(real.shape[:-1] + (2 * (n // 2 + 1),), rdtype)
    out[..., :n] = real
    return out.view(cdtype)


def unpadded_real(data, n):
    """The real (..., n) data of an in-place r2c buffer's contents."""
    real = np.ascontiguousarray(data).view(np.float32 if data.dtype == np.complex64 else np.float64)
    return real[..., :n]


def require_float64(dtype) -> None:
    """Skip unless the device has float64 where `dtype` needs it."""
    device = vd.get_context().device
    if np.dtype(dtype).itemsize == 16 and not device.float64:
        pytest.skip(f"{device.name} has no float64")
