"""Exchange with other array libraries: DLPack 1.0 (NumPy, CuPy, PyTorch, JAX), the CUDA
Array Interface (CuPy, PyTorch, Numba) and running on their CUDA streams."""
from .cuda_array_interface import from_cuda_array
from .dlpack import from_dlpack
from .streams import cuda_stream

__all__ = ["from_cuda_array", "from_dlpack", "cuda_stream"]
