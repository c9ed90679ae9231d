"""Exchange with other array libraries: DLPack 1.0 (NumPy, CuPy, PyTorch, JAX), the CUDA
Array Interface (CuPy, PyTorch, Numba), running on their CUDA streams, and NumPy's
dispatch protocols on vkdispatch.array_api Arrays."""
from . import array, numpy
from .cuda_array_interface import from_cuda_array
from .dlpack import from_dlpack
from .streams import cuda_stream

_REGISTERING = (array, numpy)   # imported for the Array protocols they register

__all__ = ["from_cuda_array", "from_dlpack", "cuda_stream"]
