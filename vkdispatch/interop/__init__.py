"""Zero-copy exchange with other GPU libraries: the CUDA Array Interface (CuPy,
PyTorch, Numba) and running on their CUDA streams."""
from .cuda_array_interface import from_cuda_array
from .streams import cuda_stream

__all__ = ["from_cuda_array", "cuda_stream"]
