"""vd.fft: FFTs generated as vkdispatch kernels (Stockham stages in registers and shared
memory), on every backend, with vkdispatch 0.1's call shapes."""
from .functions import fft, fft2, fft3, ifft, ifft2, ifft3
from .convolution import convolve, convolve2D, convolve2DR
from .hooks import ReadOp, WriteOp, read_op, write_op
from .src import (PRINTERS, convolve2D_src, convolve2DR_src, convolve_src, fft2_src, fft3_src,
                  fft_src, ifft2_src, ifft3_src, ifft_src, irfft2_src, irfft3_src, irfft_src,
                  rfft2_src, rfft3_src, rfft_src)
from .rfft import (RFFTBuffer, asrfftbuffer, irfft, irfft2, irfft3, rfft, rfft2, rfft3)

__all__ = ["fft", "fft2", "fft3", "ifft", "ifft2", "ifft3", "rfft", "rfft2", "rfft3", "irfft",
           "irfft2", "irfft3", "RFFTBuffer", "asrfftbuffer", "convolve", "convolve2D",
           "convolve2DR", "read_op", "write_op", "ReadOp", "WriteOp", "fft_src", "fft2_src",
           "fft3_src", "ifft_src", "ifft2_src", "ifft3_src", "rfft_src", "rfft2_src",
           "rfft3_src", "irfft_src", "irfft2_src", "irfft3_src", "convolve_src",
           "convolve2D_src", "convolve2DR_src", *PRINTERS]

globals().update(PRINTERS)   # fft_print_src, ..., convolve2DR_print_src
