"""vd.fft real transforms (packed half-length complex FFTs) on vd.RFFTBuffer against
numpy.fft.rfft/rfftn on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd

from .util import TOL, rel_err, skip_without_float64


def _real(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape,dtype", [((3, 64), np.float32), ((2, 30), np.float64),
                                         ((5, 18), np.float64)])   # one stage: shared too
def test_rfft_irfft(backend, shape, dtype):
    if dtype is np.float64:
        skip_without_float64()
    x = _real(shape, dtype)
    buf = vd.asrfftbuffer(x)
    assert isinstance(buf, vd.RFFTBuffer) and buf.fourier_shape == shape[:-1] + (shape[-1] // 2 + 1,)
    np.testing.assert_array_equal(buf.read_real(0), x)
    vd.fft.rfft(buf)
    assert rel_err(buf.read_fourier(0), np.fft.rfft(x.astype(np.float64))) < TOL[dtype]
    vd.fft.irfft(buf)
    assert rel_err(buf.read_real(0), x) < TOL[dtype]


def test_rfft_past_one_workgroup(backend):
    """A real length whose half-length transform needs two passes (plus the untangling)."""
    x = _real((2, 1 << 14), np.float32)
    buf = vd.asrfftbuffer(x)
    vd.fft.rfft(buf)
    assert rel_err(buf.read_fourier(0), np.fft.rfft(x.astype(np.float64))) < 1e-6
    vd.fft.irfft(buf)
    assert rel_err(buf.read_real(0), x) < 1e-6


@pytest.mark.parametrize("n", [64, 1 << 14])
def test_irfft_drops_the_imaginary_parts_at_zero_and_nyquist(backend, n):
    """As numpy.fft.irfft does: a real signal's spectrum has none there."""
    spectrum = np.random.default_rng(2).standard_normal((2, n // 2 + 1, 2)) @ [1, 1j]
    buf = vd.RFFTBuffer((2, n))
    buf.write_fourier(spectrum)
    vd.fft.irfft(buf)
    assert rel_err(buf.read_real(0), np.fft.irfft(spectrum, n)) < 1e-6


def test_rfft2_rfft3(backend):
    x = _real((8, 12), np.float32)
    buf = vd.asrfftbuffer(x)
    vd.fft.rfft2(buf)
    assert rel_err(buf.read_fourier(0), np.fft.rfft2(x.astype(np.float64))) < 1e-6
    vd.fft.irfft2(buf)
    assert rel_err(buf.read_real(0), x) < 1e-6
    y = _real((4, 6, 8), np.float32)
    buf = vd.asrfftbuffer(y)
    vd.fft.rfft3(buf)
    assert rel_err(buf.read_fourier(0), np.fft.rfftn(y.astype(np.float64))) < 1e-6
    vd.fft.irfft3(buf, normalize=False)
    assert rel_err(buf.read_real(0), y * y.size) < 1e-6


def test_rfft_bad_input(backend):
    with pytest.raises(ValueError, match="even length"):
        vd.RFFTBuffer((4, 7))
    with pytest.raises(TypeError, match="RFFTBuffer"):
        vd.fft.rfft(vd.Buffer((4, 8), vd.complex64))
    with pytest.raises(TypeError, match="real array"):
        vd.asrfftbuffer(np.zeros(8, np.complex64))
