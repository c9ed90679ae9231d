import numpy as np
import vkdispatch as vd
from vkdispatch.codegen.abbreviations import Buff, Var, c64, f32

rng = np.random.default_rng(2)


def close(got, want, tol=1e-5):
    return np.linalg.norm(got - want) <= tol * np.linalg.norm(want)


# Batched 1-D transforms along the last axis, in place.
x = (rng.standard_normal((8, 1024)) + 1j * rng.standard_normal((8, 1024))).astype(np.complex64)
buf = vd.asbuffer(x)
vd.fft.fft(buf)
assert close(buf.read(0), np.fft.fft(x))
vd.fft.ifft(buf)                                     # divided by the length by default
assert close(buf.read(0), x)

# Another axis, out of place (output first, then input), and 2-D.
out = vd.Buffer(x.shape, vd.complex64)
vd.fft.fft(out, vd.asbuffer(x), axis=0)
assert close(out.read(0), np.fft.fft(x, axis=0))
img = vd.asbuffer(x)
vd.fft.fft2(img)
assert close(img.read(0), np.fft.fft2(x))

# Real signals: an RFFTBuffer holds the signal and its half spectrum.
signal = rng.standard_normal((4, 512)).astype(np.float32)
rbuf = vd.asrfftbuffer(signal)
vd.fft.rfft(rbuf)
assert close(rbuf.read_fourier(0), np.fft.rfft(signal))
vd.fft.irfft(rbuf)
assert close(rbuf.read_real(0), signal)

# Convolution in one kernel: FFT, multiply by conj(kernel), inverse FFT.
h = np.zeros(1024, np.complex64)
h[:3] = 1 / 3                                        # a 3-tap moving average
kernel = vd.asbuffer(np.conj(np.fft.fft(h)).astype(np.complex64))
buf = vd.asbuffer(x)
vd.fft.convolve(buf, kernel)                         # the kernel repeats over the rows
want = np.fft.ifft(np.fft.fft(x) * np.fft.fft(h))    # circular convolution with h
assert close(buf.read(0), want)


# Hooks: vd.map functions run inside the FFT kernel on each element.
@vd.map
def scale_spectrum(factor: Var[f32]):                 # a kernel_map
    op = vd.fft.read_op()
    op.register[:] = op.register * factor


@vd.map
def load_conj(src: Buff[c64]):                        # an input_map
    op = vd.fft.read_op()
    op.register[:] = src[op.io_index].conjugate()


@vd.map
def store_power(dst: Buff[f32]):                      # an output_map
    op = vd.fft.write_op()
    v = op.register
    dst[op.io_index] = v.real * v.real + v.imag * v.imag


buf = vd.asbuffer(x)
before = vd.stats()
vd.fft.convolve(buf, 0.5, kernel_map=scale_spectrum)  # FFT, x0.5, inverse: one dispatch
assert (vd.stats() - before).dispatches_recorded == 1
assert close(buf.read(0), 0.5 * x)

power = vd.Buffer(x.shape, vd.float32)
vd.fft.fft(power, vd.asbuffer(x), input_map=load_conj, output_map=store_power)
assert close(power.read(0), np.abs(np.fft.fft(np.conj(x))) ** 2, tol=1e-4)

# The generated kernel of a transform, without running it:
print(vd.fft.fft_src((8, 1024))[:300])
