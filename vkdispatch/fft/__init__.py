"""vd.fft: FFTs generated as vkdispatch kernels (Stockham stages in registers and shared
memory), on every backend, with vkdispatch 0.1's call shapes."""
from .functions import fft, fft2, fft3, ifft, ifft2, ifft3
from .convolve import convolve, convolve2D, convolve2DR
from .hooks import ReadOp, WriteOp, read_op, write_op
from .rfft import (RFFTBuffer, asrfftbuffer, irfft, irfft2, irfft3, rfft, rfft2, rfft3)

__all__ = ["fft", "fft2", "fft3", "ifft", "ifft2", "ifft3", "rfft", "rfft2", "rfft3", "irfft",
           "irfft2", "irfft3", "RFFTBuffer", "asrfftbuffer", "convolve", "convolve2D",
           "convolve2DR", "read_op", "write_op", "ReadOp", "WriteOp"]
