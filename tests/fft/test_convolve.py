"""vd.fft fusion hooks: convolve / convolve2D / convolve2DR (FFT, in-register multiply,
inverse FFT in one kernel), kernel_map, input_map / output_map with read_op / write_op,
and input_signal_range, against numpy.fft on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.codegen.abbreviations import Buff, Var, c64, f32

from .util import rel_err, random_complex


@vd.map
def _scale(factor: Var[f32]):
    op = vd.fft.read_op()
    op.register[:] = op.register * factor


@vd.map
def _read(src: Buff[c64]):
    vd.fft.read_op().read_from_buffer(src)


@vd.map
def _write_twice(dst: Buff[c64]):
    op = vd.fft.write_op()
    op.write_to_buffer(dst, register=op.register * 2.0)


def test_convolve_kernel_map_and_buffer(backend):
    x = random_complex((4, 64), np.complex64)
    buf = vd.asbuffer(x)
    before = vd.stats()
    vd.fft.convolve(buf, np.float32(0.5), kernel_map=_scale)
    assert (vd.stats() - before).dispatches_recorded == 1   # one pass over memory
    assert rel_err(buf.read(0), x * 0.5) < 1e-6
    k = random_complex((4, 64), np.complex64, seed=3)
    buf = vd.asbuffer(x)
    vd.fft.convolve(buf, vd.asbuffer(k))
    assert rel_err(buf.read(0), np.fft.ifft(np.fft.fft(x) * np.conj(k))) < 1e-6


def test_convolve2d_and_real(backend):
    x = random_complex((16, 32), np.complex64)
    k = np.fft.fft2(random_complex((16, 32), np.complex64, seed=4)).astype(np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.convolve2D(buf, vd.asbuffer(k))
    assert rel_err(buf.read(0), np.fft.ifft2(np.fft.fft2(x) * np.conj(k))) < 1e-6
    xr = np.random.default_rng(5).standard_normal((16, 32)).astype(np.float32)
    kr = np.fft.rfft2(np.random.default_rng(6).standard_normal((16, 32))).astype(np.complex64)
    rbuf = vd.asrfftbuffer(xr)
    vd.fft.convolve2DR(rbuf, vd.asbuffer(kr))
    want = np.fft.irfft2(np.fft.rfft2(xr) * np.conj(kr), s=(16, 32))
    assert rel_err(rbuf.read_real(0), want) < 1e-6


def test_input_output_maps_and_signal_range(backend):
    x = random_complex((3, 16), np.complex64)
    src, dst = vd.asbuffer(x), vd.Buffer((3, 16), vd.complex64)
    vd.fft.fft(dst, src, input_map=_read, output_map=_write_twice)
    assert rel_err(dst.read(0), 2 * np.fft.fft(x)) < 1e-6
    buf = vd.asbuffer(x)
    vd.fft.fft(buf, input_signal_range=(3, 10))
    z = x.copy()
    z[:, :3] = 0
    z[:, 10:] = 0
    assert rel_err(buf.read(0), np.fft.fft(z)) < 1e-6


@pytest.mark.parametrize("shape,axis", [((2, 1 << 14), 1), ((1 << 14, 3), 0)])
def test_signal_range_past_one_workgroup(backend, shape, axis):
    """Two passes: the first one's loads skip the samples outside the range."""
    x = random_complex(shape, np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft(buf, axis=axis, input_signal_range=(100, 9000))
    z = np.moveaxis(x.copy(), axis, -1)
    z[..., :100] = 0
    z[..., 9000:] = 0
    want = np.fft.fft(np.moveaxis(z, -1, axis).astype(np.complex128), axis=axis)
    assert rel_err(buf.read(0), want) < 1e-6


def test_hooks_bad_input(backend):
    buf = vd.Buffer((4, 8), vd.complex64)
    with pytest.raises(TypeError, match="mapping function"):
        vd.fft.fft(buf, input_map=lambda: None)
    with pytest.raises(TypeError, match="missing"):
        vd.fft.convolve(buf)
    with pytest.raises(Exception, match="read_op"):
        vd.fft.read_op()
