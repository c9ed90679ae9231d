"""vkdispatch.codegen: write GPU kernels in Python.

Inside a `@vd.shader` function, parameters are `ShaderVariable`s; arithmetic on them and
the functions here record a typed IR that is emitted as GLSL, CUDA C or OpenCL C.
"""
from ..base.dtype import (DType, bool_, complex64, complex128, dvec2, dvec3, dvec4, float16,
                          float32, float64, hvec2, hvec3, hvec4, ihvec2, ihvec3, ihvec4, int8,
                          int16, int32, int64, ivec2, ivec3, ivec4, mat2, mat3, mat4, uhvec2,
                          uhvec3, uhvec4, uint8, uint16, uint32, uint64, uvec2, uvec3, uvec4,
                          vec2, vec3, vec4)
from .builder import Builder
from .context import ShaderContext, ShaderDescription, shader_context
from .emit import emit
from . import abbreviations as _abbreviations
from .functions.builtins import (global_invocation_id, inf_f16, inf_f32, inf_f64,
                                 local_invocation_id, local_invocation_index, ninf_f16, ninf_f32,
                                 ninf_f64, num_subgroups, num_workgroups, subgroup_id,
                                 subgroup_invocation_id, subgroup_size, workgroup_id,
                                 workgroup_size)
from .functions.casts import CASTS, to_dtype
from .functions.complex import (complex_exp, complex_from_euler_angle, conj, make_complex,
                                mult_complex)
from .functions.control_flow import (break_, continue_, else_block, else_if, else_if_block,
                                     else_if_statement, else_statement, end, if_block,
                                     if_statement, new_scope, range, return_, return_statement,
                                     scope_block, while_block, while_statement)
from .functions.images import (ImageVariable, image_load, image_size, image_store, sample,
                               sample_texels, texel_fetch)
from .functions.index import ravel_index, unravel_index
from .functions.math import (abs, acos, bitcast, acosh, all, any, asin, asinh, atan, atan2, atanh, ceil,
                             clamp, clip, cos, cosh, cross, degrees, determinant, distance, dot,
                             exp, exp2, expm1, float_bits_to_int, float_bits_to_uint, floor, fma,
                             fract, int_bits_to_float, inverse, inversesqrt, isinf, isnan, length,
                             log, log1p, log2, matmul, matrix_comp_mult, max, min, mix, mod, modf, normalize,
                             outer_product, pow, radians, round, round_even, rsqrt, select, sign,
                             sin, sinh, smoothstep, sqrt, step, tan, tanh, transpose, trunc,
                             uint_bits_to_float)
from .functions.memory import (REGISTERS, atomic_add, atomic_and, atomic_compare_exchange,
                               atomic_exchange, atomic_max, atomic_min, atomic_or, atomic_xor,
                               barrier, coherent_read, comment, group_memory_barrier,
                               local_array,
                               memory_barrier, memory_barrier_buffer, memory_barrier_image,
                               memory_barrier_shared, new, new_register,
                               new_bool, new_complex, new_double, new_float, new_int, new_ivec2,
                               new_ivec3, new_ivec4, new_mat2, new_mat3, new_mat4, new_uint,
                               new_uvec2, new_uvec3, new_uvec4, new_vec2, new_vec3, new_vec4,
                               print_vars, printf, shared_buffer)
from .functions.subgroups import (subgroup_add, subgroup_all, subgroup_and, subgroup_any,
                                  subgroup_barrier, subgroup_broadcast, subgroup_broadcast_first,
                                  subgroup_elect, subgroup_exclusive_add, subgroup_inclusive_add,
                                  subgroup_max, subgroup_min, subgroup_mul, subgroup_or,
                                  subgroup_shuffle, subgroup_shuffle_xor, subgroup_xor)
from .settings import (get_codegen_backend, get_shader_print_line_numbers, set_codegen_backend,
                       set_shader_print_line_numbers)
from .types import (Buff, Buffer, Const, Constant, Image1D, Image2D, Image2DArray, Image3D, Img1,
                    Img2, Img2Array, Img3, RWImage1D, RWImage2D, RWImage3D, RWImg1, RWImg2,
                    RWImg3, ShaderFlags, Var, Variable)
from .variables import ShaderVariable

complex_mult = mult_complex
print = print_vars   # noqa: A001 - vkdispatch 0.1 exports print_vars as vc.print
globals().update({n: getattr(_abbreviations, n) for n in _abbreviations.__all__})  # vc.f32, ...
globals().update(CASTS)       # to_float, to_vec2, ... to_mat4
globals().update(REGISTERS)   # new_float_register, ... new_mat4_register
