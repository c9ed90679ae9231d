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
                          ForkedProcessError, InvalidArgumentError, OutOfBoundsError,
                          OutOfMemoryError, ShaderCompileError, UnsupportedFeatureError,
                          UseAfterFreeError, VkDispatchError)
from .base.image import Image, Image1D, Image2D, Image3D, Sampler
from .base.stats import Stats, reset_stats, stats
from .base.log import (LogLevel, log, log_debug, log_error, log_info, log_verbose, log_warning,
                       set_log_level)
from .execution.command_graph import (BoundVariable, CommandGraph, copy_buffer, default_graph,
                                      global_graph, queue_wait_idle, set_global_graph)
from .execution.cuda_graph import CUDAGraph
from .execution.kernel import CompiledKernel, EmitOptions, build_kernel
from .interop.cuda_array_interface import from_cuda_array
from .interop.streams import cuda_stream
from .shader.compute_plan import ComputePlan
from .shader.decorator import shader
from .shader.shader_function import ShaderFunction
# mapping functions and reductions (issue 11)
from .shader.map import MappingFunction, map  # noqa: A004 - 0.1's public name
from . import reduce  # noqa: E402 - vd.reduce.reduce, vd.reduce.map_reduce, ...

__version__ = "0.2.0.dev0"
