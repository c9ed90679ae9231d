import numpy as np
import vkdispatch as vd

# VkFFT through pyvkfft: the CUDA and OpenCL backends (on Vulkan, use vd.fft).
rng = np.random.default_rng(3)
x = (rng.standard_normal((16, 256)) + 1j * rng.standard_normal((16, 256))).astype(np.complex64)

buf = vd.asbuffer(x)
vd.vkfft.fft(buf)                      # in place, along the last axis, rows batched
assert np.allclose(buf.read(0), np.fft.fft(x), rtol=1e-4, atol=1e-3)
vd.vkfft.ifft(buf)                     # divided by the length, as numpy.fft.ifft
assert np.allclose(buf.read(0), x, rtol=1e-4, atol=1e-5)

vd.vkfft.fft2(buf)                     # over the last two axes
assert np.allclose(buf.read(0), np.fft.fft2(x), rtol=1e-4, atol=1e-2)

cache = vd.vkfft.plan_cache()          # plans are kept per context, bounded
print(cache)
assert len(cache) >= 2
vd.vkfft.clear_plan_cache()
