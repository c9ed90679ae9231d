"""vd.vkfft.convolve2D against numpy: ifft2(fft2(signal) * fft2(kernel))."""
import numpy as np
import pytest

import vkdispatch as vd
from tests.vkfft.data import assert_close, random_array, require_float64

# (2, 8, 12) as in test_transforms: the signal's fft2 plan is shared


def reference(signal, kernel, conjugate=False, normalize=True):
    spectrum = np.fft.fft2(kernel.astype(np.complex128))
    out = np.fft.ifft2(np.fft.fft2(signal.astype(np.complex128)) *
                       (np.conj(spectrum) if conjugate else spectrum))
    return out if normalize else out * signal.shape[-1] * signal.shape[-2]


@pytest.mark.parametrize("kernel_shape", [(8, 12), (2, 8, 12)], ids=["shared", "per-slab"])
def test_convolve2D_matches_numpy(vkfft_backend, kernel_shape):
    signal = random_array((2, 8, 12), np.complex64)
    kernel = random_array(kernel_shape, np.complex64, seed=1)
    buf, kbuf = vd.asbuffer(signal), vd.asbuffer(kernel)
    vd.vkfft.transpose_kernel2D(kbuf)
    vd.vkfft.convolve2D(buf, kbuf, normalize=True)
    assert_close(buf.read(0), reference(signal, kernel), np.complex64)
    buf.write(signal)
    vd.vkfft.convolve2D(buf, kbuf, normalize=True, conjugate_kernel=True)
    assert_close(buf.read(0), reference(signal, kernel, conjugate=True), np.complex64)


def test_convolve2D_unnormalized_with_padding_in_complex128(vkfft_backend):
    require_float64(np.complex128)
    signal = random_array((8, 12), np.complex128)
    kernel = random_array((8, 12), np.complex128, seed=1)
    buf, kbuf = vd.asbuffer(signal), vd.asbuffer(kernel)
    vd.vkfft.transpose_kernel2D(kbuf)
    # rows 4..8 and columns 9..12 are taken as zero (0.1's VkFFT zero padding)
    vd.vkfft.convolve2D(buf, kbuf, padding=((4, 8), (9, 12)))
    zeroed = signal.copy()
    zeroed[4:, :] = 0
    zeroed[:, 9:] = 0
    assert_close(buf.read(0), reference(zeroed, kernel, normalize=False), np.complex128)


def test_convolve2D_refuses_a_kernel_that_does_not_fit(vkfft_backend):
    buf = vd.Buffer((2, 8, 12), vd.complex64)
    with pytest.raises(ValueError, match="kernel shape"):
        vd.vkfft.convolve2D(buf, vd.Buffer((8, 10), vd.complex64))
    with pytest.raises(TypeError, match="kernel must be complex64"):
        vd.vkfft.convolve2D(buf, vd.Buffer((8, 12), vd.complex128))
    with pytest.raises(ValueError, match="padding range"):
        vd.vkfft.convolve2D(buf, vd.Buffer((8, 12), vd.complex64), padding=((4, 9),))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        vd.vkfft.transpose_kernel2D(vd.Buffer((8,), vd.complex64))
