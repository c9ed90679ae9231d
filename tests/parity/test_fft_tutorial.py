"""The vd.fft parts of vkdispatch 0.1's "Reductions and FFT Workflows" tutorial, written
fresh from its docs and run unchanged on every backend present, checked against NumPy.
(0.1's low-level `fft_context` snippet is not here: that API is not kept, see
docs/parity/README.md.)"""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc

RNG = np.random.default_rng(21)


def _complex(*shape):
    return (RNG.random(shape) + 1j * RNG.random(shape)).astype(np.complex64)


def _close(got, want, tol=1e-5):
    want = np.asarray(want)
    err = np.linalg.norm(np.asarray(got) - want) / np.linalg.norm(want)
    assert err < tol, err


def test_fft_ifft_round_trip(backend):
    complex_signal = _complex(256)
    fft_buf = vd.asbuffer(complex_signal)
    vd.fft.fft(fft_buf)
    freq = fft_buf.read(0)
    _close(freq, np.fft.fft(complex_signal))
    vd.fft.ifft(fft_buf)
    recovered = fft_buf.read(0)
    assert np.allclose(recovered, complex_signal, atol=1e-3)
    # raw inverse scaling
    vd.fft.fft(fft_buf)
    vd.fft.ifft(fft_buf, normalize=False)
    _close(fft_buf.read(0), 256 * complex_signal)


def test_fft_print_shader(backend, capsys):
    complex_signal = _complex(256)
    fft_buf = vd.asbuffer(complex_signal)
    vd.fft.fft(fft_buf, print_shader=True)
    printed = capsys.readouterr().out
    assert printed.count("\n") > 20 and vd.fft.fft_src((256,)).strip() in printed
    _close(fft_buf.read(0), np.fft.fft(complex_signal))


def test_axis_and_dimensionality(backend):
    batch = _complex(8, 1024)
    batch_buf = vd.asbuffer(batch)
    vd.fft.fft(batch_buf, axis=1)
    _close(batch_buf.read(0), np.fft.fft(batch, axis=1))
    image = _complex(512, 512)
    image_buf = vd.asbuffer(image)
    vd.fft.fft2(image_buf)
    _close(image_buf.read(0), np.fft.fft2(image))
    vd.fft.ifft2(image_buf)
    _close(image_buf.read(0), image)


def test_real_fft_helpers(backend):
    real_signal = RNG.random(512).astype(np.float32)
    rbuf = vd.asrfftbuffer(real_signal)
    vd.fft.rfft(rbuf)
    spectrum = rbuf.read_fourier(0)
    _close(spectrum, np.fft.rfft(real_signal))
    vd.fft.irfft(rbuf)
    restored = rbuf.read_real(0)
    assert np.allclose(restored, real_signal, atol=1e-3)


def test_kernel_map_fusion(backend):
    complex_signal = _complex(256)
    fft_buf = vd.asbuffer(complex_signal)

    @vd.map
    def scale_spectrum(scale_factor: vc.Var[vc.f32]):
        op = vd.fft.read_op()
        op.register[:] = op.register * scale_factor

    before = vd.stats()
    vd.fft.convolve(fft_buf, np.float32(0.5), kernel_map=scale_spectrum)
    assert (vd.stats() - before).dispatches_recorded == 1      # fused: one kernel
    _close(fft_buf.read(0), 0.5 * complex_signal)


def padded_axis_fft(buffer: vd.Buffer, signal_cols: int):
    # the tutorial's function: buffer shape (batch, rows, cols)
    trimmed_shape = (buffer.shape[0], signal_cols, buffer.shape[2])

    def remap(io_index: vc.ShaderVariable):
        return vc.unravel_index(
            vc.ravel_index(io_index, trimmed_shape).to_register(),
            buffer.shape
        )

    @vd.map
    def input_map(input_buffer: vc.Buffer[vc.c64]):
        op = vd.fft.read_op()
        op.read_from_buffer(input_buffer, io_index=remap(op.io_index))

    @vd.map
    def output_map(output_buffer: vc.Buffer[vc.c64]):
        op = vd.fft.write_op()
        op.write_to_buffer(output_buffer, io_index=remap(op.io_index))

    vd.fft.fft(
        buffer,
        buffer,
        buffer_shape=trimmed_shape,
        axis=1,
        input_map=input_map,
        output_map=output_map,
        input_signal_range=(0, signal_cols),
    )


def test_padded_axis_fft(backend):
    data = _complex(2, 48, 16)
    buf = vd.asbuffer(data)
    padded_axis_fft(buf, 32)
    want = data.copy()
    want[:, :32, :] = np.fft.fft(data[:, :32, :], axis=1)
    _close(buf.read(0), want)


def test_transposed_kernel_path(backend):
    signal = _complex(2, 32, 16)
    kernel = _complex(2, 32, 16)
    signal_buf, kernel_buf = vd.asbuffer(signal), vd.asbuffer(kernel)

    transposed_size = vd.fft.get_transposed_size(signal_buf.shape, axis=1)
    kernel_t = vd.Buffer((transposed_size,), vd.complex64)

    vd.fft.transpose(kernel_buf, axis=1, out_buffer=kernel_t)

    vd.fft.fft(signal_buf)
    vd.fft.convolve(signal_buf, kernel_t, axis=1, transposed_kernel=True)
    vd.fft.ifft(signal_buf)

    want = np.fft.ifft2(np.fft.fft2(signal) * np.conj(kernel))   # over the last two axes
    _close(signal_buf.read(0), want)


def test_clearing_cached_plans(backend):
    buf = vd.asbuffer(_complex(64))
    vd.fft.fft(buf)
    assert vd.fft.get_cache_info().plans >= 1
    vd.vkfft.clear_plan_cache()
    vd.fft.cache_clear()
    assert vd.fft.get_cache_info().plans == 0
    vd.fft.ifft(buf)             # planned and built again after the clear
    assert buf.read(0).shape == (64,)
