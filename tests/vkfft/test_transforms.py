"""vd.vkfft transforms against numpy.fft: complex and real, 1-3 D, any axes, batched,
in place and out of place, complex64 and complex128."""
import numpy as np
import pytest

import vkdispatch as vd
from tests.vkfft.data import (assert_close, padded_real, random_array, require_float64,
                              unpadded_real)

C64, C128 = np.complex64, np.complex128
# (shape, axis, dtype): power of two, mixed radix 2*3*5, primes (Bluestein), a middle
# axis; complex128 on a few only: every new plan costs PoCL about a second to compile
C2C_CASES = [((64,), None, C64), ((6, 30), 0, C64), ((4, 5, 12), (1, 2), C64),
             ((3, 7, 11), (0, 1, 2), C64), ((6, 30), 0, C128), ((3, 7, 11), (0, 1, 2), C128)]


@pytest.mark.parametrize("shape,axis,dtype", C2C_CASES,
                         ids=[f"{c[0]}-{np.dtype(c[2]).name}" for c in C2C_CASES])
def test_fft_and_ifft_match_numpy(vkfft_backend, shape, axis, dtype):
    require_float64(dtype)
    data = random_array(shape, dtype)
    buf = vd.asbuffer(data)
    vd.vkfft.fft(buf, axis=axis)
    axes = (len(shape) - 1,) if axis is None else axis
    want = np.fft.fftn(data.astype(np.complex128), axes=np.atleast_1d(axes))
    assert_close(buf.read(0), want, dtype)
    vd.vkfft.ifft(buf, axis=axis)     # normalized by default, as numpy.fft.ifft
    assert_close(buf.read(0), data, dtype)


def test_fft2_and_fft3_batch_the_leading_axes(vkfft_backend):
    cdtype = C64
    data = random_array((2, 8, 12), cdtype)
    buf = vd.asbuffer(data)
    vd.vkfft.fft2(buf)
    assert_close(buf.read(0), np.fft.fft2(data.astype(np.complex128)), cdtype)
    vd.vkfft.ifft2(buf)
    assert_close(buf.read(0), data, cdtype)
    data3 = random_array((2, 4, 6, 8), cdtype, seed=1)
    buf3 = vd.asbuffer(data3)
    vd.vkfft.fft3(buf3)
    assert_close(buf3.read(0), np.fft.fftn(data3.astype(np.complex128), axes=(1, 2, 3)), cdtype)
    vd.vkfft.ifft3(buf3)
    assert_close(buf3.read(0), data3, cdtype)


def test_out_of_place_keeps_the_input(vkfft_backend):
    data = random_array((5, 24), np.complex64)
    src, dst = vd.asbuffer(data), vd.Buffer((5, 24), vd.complex64)
    vd.vkfft.fft(dst, input_buffer=src)
    assert_close(dst.read(0), np.fft.fft(data), np.complex64)
    np.testing.assert_array_equal(src.read(0), data)
    back = vd.Buffer((5, 24), vd.complex64)
    vd.vkfft.ifft(back, input_buffer=dst)
    assert_close(back.read(0), data, np.complex64)


def test_unnormalized_inverse(vkfft_backend):
    data = random_array((64,), np.complex64)
    buf = vd.asbuffer(data)
    vd.vkfft.fft(buf)
    vd.vkfft.ifft(buf, normalize=False)
    assert_close(buf.read(0), data * 64, np.complex64)
    buf.write(data)
    vd.vkfft.fft(buf, inverse=True, normalize_inverse=False)   # 0.1's spelling
    assert_close(buf.read(0), np.fft.ifft(data) * 64, np.complex64)


def test_a_view_is_transformed_in_place_and_nothing_else(vkfft_backend):
    data = random_array((256,), np.complex64)
    buf = vd.asbuffer(data)
    vd.vkfft.fft(buf.view(64, (64,)))     # 512 bytes in: aligned for an OpenCL sub-buffer
    got = buf.read(0)
    np.testing.assert_array_equal(got[:64], data[:64])
    np.testing.assert_array_equal(got[128:], data[128:])
    assert_close(got[64:128], np.fft.fft(data[64:128]), np.complex64)


@pytest.mark.parametrize("n,cdtype", [(30, C64), (31, C64), (31, C128)],
                         ids=["even-c64", "odd-c64", "odd-c128"])
def test_rfft_in_place_and_back(vkfft_backend, n, cdtype):
    require_float64(cdtype)
    real = random_array((4, n), np.float32 if cdtype is np.complex64 else np.float64)
    buf = vd.asbuffer(padded_real(real, cdtype))
    vd.vkfft.fft(buf, buffer_shape=(4, n), r2c=True)          # 0.1's form for any n
    assert_close(buf.read(0), np.fft.rfft(real.astype(np.float64)), cdtype)
    vd.vkfft.fft(buf, buffer_shape=(4, n), r2c=True, inverse=True)
    assert_close(unpadded_real(buf.read(0), n), real, cdtype)


def test_rfft_of_a_plain_buffer_takes_an_even_length(vkfft_backend):
    real = random_array((3, 8, 10), np.float32)
    buf = vd.asbuffer(padded_real(real, np.complex64))     # (3, 8, 6): n = 2 * (6 - 1)
    vd.vkfft.rfft2(buf)
    assert_close(buf.read(0), np.fft.rfftn(real, axes=(1, 2)), np.complex64)
    vd.vkfft.irfft2(buf)
    assert_close(unpadded_real(buf.read(0), 10), real, np.float32)


def test_rfft_out_of_place(vkfft_backend):
    real = random_array((6, 21), np.float32)
    src, spec = vd.asbuffer(real), vd.Buffer((6, 11), vd.complex64)
    vd.vkfft.rfft(spec, input_buffer=src)
    assert_close(spec.read(0), np.fft.rfft(real), np.complex64)
    back = vd.Buffer((6, 21), vd.float32)
    vd.vkfft.irfft(back, input_buffer=spec)
    assert_close(back.read(0), real, np.float32)


def test_print_shader_shows_vkffts_kernels(vkfft_backend, capfd):
    buf = vd.asbuffer(random_array((64,), np.complex64))
    vd.vkfft.fft(buf, print_shader=True)   # printed as VkFFT builds the plan
    assert "VkFFT_main" in capfd.readouterr().out


def test_length_one_axes_are_the_identity(vkfft_backend):
    data = random_array((8, 1), np.complex64)
    buf, out = vd.asbuffer(data), vd.Buffer((8, 1), vd.complex64)
    vd.vkfft.fft(buf, axis=1)          # VkFFT refuses such a plan: nothing to run
    np.testing.assert_array_equal(buf.read(0), data)
    vd.vkfft.ifft(out, axis=-1, input_buffer=buf)
    np.testing.assert_array_equal(out.read(0), data)
