"""vd.vkfft: VkFFT (through pyvkfft) on vkdispatch buffers, on the CUDA and OpenCL backends.

vkdispatch 0.1's `vd.vkfft` call shapes: fft/ifft/fft2/ifft2/fft3/ifft3, rfft/irfft and
their 2-D/3-D forms, convolve2D with transpose_kernel2D, clear_plan_cache. Transforms
work in place on the buffer's own memory (or from `input_buffer` into `buffer`), run
in order with the rest of the queue's work, and inverse transforms divide by the size
by default (numpy.fft's convention). On Vulkan, use vd.fft. pyvkfft (the `vkfft` extra)
is imported at the first transform."""
from .convolve import convolve2D, transpose_kernel2D
from .plans import DEFAULT_MAX_PLANS, PlanCache, PlanKey, clear_plan_cache, plan_cache
from .transforms import (fft, fft2, fft3, ifft, ifft2, ifft3, irfft, irfft2, irfft3, rfft,
                         rfft2, rfft3)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fft3", "ifft3", "rfft", "irfft", "rfft2", "irfft2",
           "rfft3", "irfft3", "convolve2D", "transpose_kernel2D", "clear_plan_cache",
           "plan_cache", "PlanCache", "PlanKey", "DEFAULT_MAX_PLANS"]
