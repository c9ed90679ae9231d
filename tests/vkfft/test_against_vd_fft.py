"""vd.vkfft and vd.fft (vkdispatch's own FFT) agree, where both exist."""
import numpy as np
import pytest

import vkdispatch as vd
from tests.vkfft.data import assert_close, random_array


@pytest.fixture
def vd_fft(vkfft_backend):
    return pytest.importorskip("vkdispatch.fft", reason="vd.fft is not in this build")


def test_fft_and_ifft_agree_with_vd_fft(vd_fft):
    data = random_array((64,), np.complex64)
    mine, theirs = vd.asbuffer(data), vd.asbuffer(data)
    vd.vkfft.fft(mine)
    vd_fft.fft(theirs)
    assert_close(mine.read(0), theirs.read(0).astype(np.complex128), np.complex64)
    vd.vkfft.ifft(mine)
    vd_fft.ifft(theirs)
    assert_close(mine.read(0), theirs.read(0).astype(np.complex128), np.complex64)


def test_rfft_agrees_with_vd_fft_on_an_rfft_buffer(vd_fft):
    if not hasattr(vd, "asrfftbuffer"):
        pytest.skip("vd.asrfftbuffer is not in this build")
    real = random_array((4, 30), np.float32)
    mine, theirs = vd.asrfftbuffer(real), vd.asrfftbuffer(real)
    assert mine.shape == (4, 16)     # VkFFT's in-place layout: n // 2 + 1 complex per row
    vd.vkfft.rfft(mine)
    vd_fft.rfft(theirs)
    assert_close(mine.read(0), theirs.read(0).astype(np.complex128), np.complex64)
