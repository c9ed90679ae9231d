"""vkdispatch 0.1's vd.fft API beyond the transforms: convolve's kernel_num (with
vd.fft.mapped_kernel_index()), transposed_kernel with vd.fft.transpose /
get_transposed_size, kernel_inner_only, fft(..., r2c=True), maps on fft2/fft3, and
cache_clear / get_cache_info, against numpy.fft on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.codegen.abbreviations import Buff, c64

from .util import rel_err, random_complex


def _conv2(x, k_spectrum):
    return np.fft.ifft2(np.fft.fft2(x) * np.conj(k_spectrum))


def test_transpose_then_convolve_transposed(backend):
    x = random_complex((3, 16, 32), np.complex64)
    k = np.fft.fft2(random_complex((3, 16, 32), np.complex64, seed=1)).astype(np.complex64)
    size = vd.fft.get_transposed_size((3, 16, 32), axis=1)
    assert size >= x.size
    kt = vd.Buffer((size + 64,), vd.complex64)     # larger than needed, as 0.1 code reuses
    out = vd.fft.transpose(vd.asbuffer(k), axis=1, out_buffer=kt)
    assert out is kt
    buf = vd.asbuffer(x)
    vd.fft.convolve2D(buf, kt, transposed_kernel=True)
    assert rel_err(buf.read(0), _conv2(x, k)) < 1e-6
    # the tutorial's form: fft, convolve along axis 1 with the transposed kernel, ifft
    k1 = random_complex((16, 32), np.complex64, seed=2)
    kt1 = vd.fft.transpose(vd.asbuffer(k1), axis=0)          # a new buffer
    assert kt1.size == vd.fft.get_transposed_size((16, 32), axis=0)
    y = x[0]
    buf = vd.asbuffer(y)
    vd.fft.fft(buf)
    vd.fft.convolve(buf, kt1, axis=0, transposed_kernel=True)
    vd.fft.ifft(buf)
    want = np.fft.ifft(np.fft.ifft(np.fft.fft(np.fft.fft(y, axis=1), axis=0) * np.conj(k1),
                                   axis=0), axis=1)
    assert rel_err(buf.read(0), want) < 1e-6


def test_kernel_inner_only_and_transpose_dtype(backend):
    x = random_complex((4, 8, 16), np.complex64)
    k = np.fft.fft2(random_complex((8, 16), np.complex64, seed=3)).astype(np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.convolve2D(buf, vd.asbuffer(k), kernel_inner_only=True)
    assert rel_err(buf.read(0), _conv2(x, k)) < 1e-6
    # transposed, inner only, from a kernel buffer as large as the signal
    big = np.concatenate([k[None], np.zeros((3, 8, 16), np.complex64)])
    kt = vd.fft.transpose(vd.asbuffer(big), axis=1, kernel_inner_only=True)
    buf = vd.asbuffer(x)
    vd.fft.convolve2D(buf, kt, transposed_kernel=True, kernel_inner_only=True)
    assert rel_err(buf.read(0), _conv2(x, k)) < 1e-6
    if vd.get_context().device.float64:
        k128 = vd.fft.transpose(vd.asbuffer(k), axis=0, output_type=vd.complex128)
        assert k128.dtype is vd.complex128
        assert rel_err(k128.read(0)[:k.size], k.ravel()) < 1e-6


@vd.map
def _pick_kernel(kernels: Buff[c64]):
    op = vd.fft.read_op()
    i = vd.fft.mapped_kernel_index()
    op.register[:] = op.register * kernels[op.io_index + i * 64].conjugate()


@vd.map
def _place_output(out: Buff[c64]):
    op = vd.fft.write_op()
    op.write_to_buffer(out, io_index=op.io_index + vd.fft.mapped_kernel_index() * 64)


def test_convolve_kernel_num(backend):
    x = random_complex((2, 32), np.complex64)
    ks = np.fft.fft(random_complex((3, 2, 32), np.complex64, seed=4)).astype(np.complex64)
    out = vd.Buffer((3 * 64,), vd.complex64)
    before = vd.stats()
    vd.fft.convolve(out, vd.asbuffer(x), vd.asbuffer(ks), kernel_map=_pick_kernel,
                    output_map=_place_output, kernel_num=3, buffer_shape=(2, 32))
    assert (vd.stats() - before).dispatches_recorded == 1
    want = np.fft.ifft(np.fft.fft(x)[None] * np.conj(ks))
    assert rel_err(out.read(0).reshape(3, 2, 32), want) < 1e-6
    assert vd.fft.mapped_kernel_index() is None


def test_fft_r2c(backend):
    x = np.random.default_rng(5).standard_normal((3, 64)).astype(np.float32)
    rbuf = vd.asrfftbuffer(x)
    vd.fft.fft(rbuf, buffer_shape=rbuf.real_shape, r2c=True, input_signal_range=(5, 41))
    z = x.copy()
    z[:, :5] = 0
    z[:, 41:] = 0
    assert rel_err(rbuf.read_fourier(0), np.fft.rfft(z)) < 1e-6
    vd.fft.fft(rbuf, buffer_shape=rbuf.real_shape, r2c=True, inverse=True)
    assert rel_err(rbuf.read_real(0), z) < 1e-6
    rbuf = vd.asrfftbuffer(x)
    vd.fft.fft(rbuf, r2c=True)                    # buffer_shape defaults to real_shape
    assert rel_err(rbuf.read_fourier(0), np.fft.rfft(x)) < 1e-6


@vd.map
def _ramp():                                       # input generated in the kernel
    op = vd.fft.read_op()
    op.register[:] = vd.fft.read_op().register * 0.0 + op.io_index.cast(vd.float32)


@vd.map
def _double_into(out: Buff[c64]):
    op = vd.fft.write_op()
    op.write_to_buffer(out, register=op.register * 2.0)


def test_fft2_fft3_maps(backend):
    x = random_complex((8, 16), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft2(buf, output_map=_double_into)
    assert rel_err(buf.read(0), 2 * np.fft.fft2(x)) < 1e-6
    vd.fft.ifft2(buf, output_map=_double_into)
    assert rel_err(buf.read(0), 4 * x) < 1e-6
    buf = vd.Buffer((4, 4, 8), vd.complex64)
    vd.fft.fft3(buf, input_map=_ramp)
    ramp = np.arange(128, dtype=np.float64).reshape(4, 4, 8)
    assert rel_err(buf.read(0), np.fft.fftn(ramp)) < 1e-6


def test_cache_clear(backend):
    x = random_complex((4, 32), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft(buf)
    info = vd.fft.get_cache_info()
    assert info.plans >= 1 and info.kernels >= 1 and info.replays >= 1
    vd.fft.cache_clear()
    info = vd.fft.get_cache_info()
    assert (info.plans, info.kernels, info.tables, info.scratch_buffers, info.replays) == \
        (0, 0, 0, 0, 0)
    vd.fft.ifft(buf)                               # plans and traces again
    assert rel_err(buf.read(0), x) < 1e-6


def test_parity_bad_input(backend):
    buf = vd.Buffer((4, 8), vd.complex64)
    with pytest.raises(ValueError, match="kernel_num"):
        vd.fft.convolve(buf, buf, kernel_num=0)
    with pytest.raises(ValueError, match="kernel_inner_only"):
        vd.fft.convolve(buf, vd.Buffer((4,), vd.complex64), kernel_inner_only=True)
    with pytest.raises(ValueError, match="out_buffer"):
        vd.fft.transpose(buf, out_buffer=vd.Buffer((8,), vd.complex64))
    with pytest.raises(ValueError, match="axis"):
        vd.fft.get_transposed_size((4, 8), axis=2)
    with pytest.raises(TypeError, match="RFFTBuffer"):
        vd.fft.fft(buf, r2c=True)
    rbuf = vd.RFFTBuffer((4, 8))
    with pytest.raises(ValueError, match="buffer_shape"):
        vd.fft.fft(rbuf, buffer_shape=(4, 5), r2c=True)
    with pytest.raises(ValueError, match="input_signal_range"):
        vd.fft.fft(rbuf, r2c=True, inverse=True, input_signal_range=(0, 4))
    with pytest.raises(TypeError, match="output_map"):
        vd.fft.fft2(buf, output_map=_pick_kernel.__class__)   # not a mapping function


def test_sources_take_01_arguments(backend):
    assert "next kernel" not in vd.fft.convolve_src((4, 32), None, 2, 0)   # kernel_num, axis
    two = vd.fft.convolve_src((4, 32), _pick_kernel, 2, output_map=_place_output)
    assert two != vd.fft.convolve_src((4, 32), _pick_kernel, 1, output_map=_place_output)
    src = vd.fft.fft_src((2, 16), None, False, True, True, input_signal_range=(1, 9))
    assert src.count("next kernel") == 1               # zeroing pass, then the packed rfft
    assert vd.fft.fft2_src((8, 16), None, _double_into).count("next kernel") == 1


def test_pad_dim():
    assert vd.fft.pad_dim(17) == 18 and vd.fft.pad_dim(64) == 64
    assert vd.fft.pad_dim(17, 7) == 18 and vd.fft.pad_dim(11, 7) == 12
    assert vd.fft.pad_dim(1) == 1
    with pytest.raises(ValueError, match="dim"):
        vd.fft.pad_dim(0)
    with pytest.raises(ValueError, match="max_register_count"):
        vd.fft.pad_dim(8, 1)


@vd.map
def _read_positional(src: Buff[c64]):
    op = vd.fft.read_op()
    op.read_from_buffer(src, op.register, op.io_index)     # 0.1's (buffer, register, io_index)


@vd.map
def _write_positional(dst: Buff[c64]):
    op = vd.fft.write_op()
    op.write_to_buffer(dst, op.register * 3.0, op.io_index)


def test_read_write_op_positional_order(backend):
    x = random_complex((2, 16), np.complex64)
    dst = vd.Buffer((2, 16), vd.complex64)
    vd.fft.fft(dst, vd.asbuffer(x), input_map=_read_positional, output_map=_write_positional)
    assert rel_err(dst.read(0), 3 * np.fft.fft(x)) < 1e-6
