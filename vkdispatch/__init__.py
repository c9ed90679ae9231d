"""vkdispatch: write GPU kernels in Python, run them on Vulkan, CUDA or OpenCL.

The public `vd.*` names; implementations live in the subpackages.
"""
from .base.buffer import Buffer, asbuffer
from .base.context import (Context, get_backend, get_context, get_devices, initialize, is_cuda,
                           is_dummy, is_initialized, is_opencl, is_vulkan, make_context,
                           set_dummy_context_params, shutdown)
from .base.dtype import (DType, bool_, complex64, complex128, dvec2, dvec3, dvec4, float16,
                         float32, float64, hvec2, hvec4, int8, int16, int32, int64, ivec2, ivec3,
                         ivec4, mat2, mat3, mat4, uint8, uint16, uint32, uint64, uvec2, uvec3,
                         uvec4, vec2, vec3, vec4)
from .base.errors import (BackendUnavailableError, CodegenError, DeviceError, DeviceLimitError,
                          ExternalMemoryError, ForkedProcessError, InvalidArgumentError,
                          OutOfBoundsError, OutOfMemoryError, ShaderCompileError,
                          UnsupportedFeatureError, UseAfterFreeError, VkDispatchError)
from .base.image import Image, Image1D, Image2D, Image2DArray, Image3D, Sampler
from .base.image_types import (AddressMode, BorderColor, Filter, image_format, image_type,
                               image_view_type, select_image_format)
from .base.stats import Stats, reset_stats, stats
from .base.log import (LogLevel, log, log_debug, log_error, log_info, log_verbose, log_warning,
                       set_log_level)
from .execution.command_graph import (BoundVariable, CommandGraph, copy_buffer, default_graph,
                                      global_graph, queue_wait_idle, set_global_graph)
from .execution.cuda_graph import CUDAGraph
from .execution.kernel import CompiledKernel, EmitOptions, build_kernel
from .interop.cuda_array_interface import from_cuda_array
from .interop.dlpack import from_dlpack
from .interop.streams import cuda_stream
from .shader.compute_plan import ComputePlan
from .shader.decorator import shader
from .shader.shader_function import ShaderFunction
# mapping functions and reductions (issue 11)
from .shader.map import MappingFunction, map  # noqa: A004 - 0.1's public name
from . import reduce  # noqa: E402 - vd.reduce.reduce, vd.reduce.map_reduce, ...
# vkdispatch 0.1's names for contexts, buffers and graphs (docs/parity/README.md)
from .backends.runtime import Signal
from .base.buffer_allocators import (buffer_c64, buffer_dv2, buffer_dv3, buffer_dv4, buffer_f16,
                                     buffer_f32, buffer_f64, buffer_hv2, buffer_hv3, buffer_hv4,
                                     buffer_i16, buffer_i32, buffer_ihv2, buffer_ihv3, buffer_ihv4,
                                     buffer_iv2, buffer_iv3, buffer_iv4, buffer_u16, buffer_u32,
                                     buffer_uhv2, buffer_uhv3, buffer_uhv4, buffer_uv2, buffer_uv3,
                                     buffer_uv4, buffer_v2, buffer_v3, buffer_v4)
from .base.context import (get_context_handle, is_context_initialized,
                           select_queue_families)
from .base.device_info import DeviceInfo
from .execution.command_graph import BufferBindInfo, ImageBindInfo
from .execution.cuda_graph import CUDAGraphCapture, cuda_graph_capture, get_cuda_capture
# vkdispatch 0.1's codegen, shader and dtype names (docs/parity/codegen.md)
from .base.dtype import (complex32, dtype, hvec3, ihvec2, ihvec3, ihvec4, uhvec2, uhvec3,
                         uhvec4)
from .shader.shader_function import make_shader_function
from .shader.source import ShaderBuildError, ShaderSource

# vd.vkfft: VkFFT through pyvkfft (CUDA/OpenCL); pyvkfft is imported at the first transform
from . import vkfft

# FFTs (vd.fft)
from . import fft
from .fft.rfft import RFFTBuffer, asrfftbuffer

__version__ = "0.2.0.dev0"
