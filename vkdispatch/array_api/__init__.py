"""vkdispatch.array_api: the Array API standard (2024.12) on vkdispatch devices.

Operations are recorded lazily and run as fused generated kernels at sync points
(reading values, `vd.queue_wait_idle()`, a shader touching the same memory). Parts of
the standard not listed here are not implemented yet."""
from ._array import Array
from ._creation import (arange, asarray, empty, empty_like, eye, from_buffer, from_dlpack, full,
                        full_like, linspace, meshgrid, ones, ones_like, tril, triu, zeros,
                        zeros_like)
from ._data_types import astype, can_cast, finfo, iinfo, isdtype, result_type
from ._dtypes import (bool, complex64, complex128, float32, float64, int8, int16, int32,
                      int64, uint8, uint16, uint32, uint64)
from ._elementwise import (abs, acos, acosh, add, asin, asinh, atan, atan2, atanh,
                           bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_or,
                           bitwise_right_shift, bitwise_xor, ceil, clip, conj, copysign, cos,
                           cosh, divide, equal, exp, expm1, floor, floor_divide, greater,
                           greater_equal, hypot, imag, isfinite, isinf, isnan, less,
                           less_equal, log, log1p, log2, log10, logaddexp, logical_and,
                           logical_not, logical_or, logical_xor, maximum, minimum, multiply,
                           negative, nextafter, not_equal, positive, pow, real, reciprocal, remainder,
                           round, sign, signbit, sin, sinh, sqrt, square, subtract, tan, tanh,
                           trunc, where)
from ._compact import nonzero
from ._info import __array_namespace_info__
from ._linalg import matmul, tensordot, vecdot
from ._searching import argmax, argmin, count_nonzero
from ._scan import cumulative_prod, cumulative_sum
from ._searchsorted import searchsorted
from ._set_functions import unique_all, unique_counts, unique_inverse, unique_values
from ._sorting import argsort, sort
from ._take import take, take_along_axis
from ._statistical import all, any, diff, max, mean, min, prod, std, sum, var
from . import fft, linalg
from ._manipulation import (broadcast_arrays, broadcast_to, concat, expand_dims, flip,
                            matrix_transpose, moveaxis, permute_dims, repeat, reshape, roll,
                            squeeze, stack, tile, unstack)

__array_api_version__ = "2024.12"
e = 2.718281828459045
inf = float("inf")
nan = float("nan")
pi = 3.141592653589793
newaxis = None

__all__ = ['Array', 'matmul', 'tensordot', 'vecdot', 'argmax', 'argmin', 'count_nonzero', 'nonzero', 'take', 'take_along_axis', 'cumulative_prod', 'cumulative_sum', 'argsort', 'sort', 'searchsorted', 'unique_all', 'unique_counts', 'unique_inverse',
           'unique_values', 'all', 'any', 'diff', 'max', 'mean', 'min', 'prod', 'std',
           'sum', 'var', 'arange', 'asarray', 'empty', 'empty_like', 'eye', 'from_buffer',
           'from_dlpack', 'full',
           'full_like', 'linspace', 'meshgrid', 'ones', 'ones_like', 'tril', 'triu',
           'zeros', 'zeros_like', 'astype', 'can_cast', 'finfo', 'iinfo', 'isdtype',
           'result_type', 'bool', 'complex64', 'complex128', 'float32', 'float64',
           'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
           'abs', 'acos', 'acosh', 'add', 'asin', 'asinh', 'atan', 'atan2', 'atanh',
           'bitwise_and', 'bitwise_invert', 'bitwise_left_shift', 'bitwise_or',
           'bitwise_right_shift', 'bitwise_xor', 'ceil', 'clip', 'conj', 'copysign',
           'cos', 'cosh', 'divide', 'equal', 'exp', 'expm1', 'floor', 'floor_divide',
           'greater', 'greater_equal', 'hypot', 'imag', 'isfinite', 'isinf', 'isnan',
           'less', 'less_equal', 'log', 'log1p', 'log2', 'log10', 'logaddexp',
           'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'maximum',
           'minimum', 'multiply', 'negative', 'nextafter', 'not_equal', 'positive', 'pow', 'real',
           'reciprocal', 'remainder', 'round', 'sign', 'signbit', 'sin', 'sinh', 'sqrt',
           'square', 'subtract', 'tan', 'tanh', 'trunc', 'where',
           '__array_namespace_info__', 'broadcast_arrays', 'broadcast_to', 'concat',
           'expand_dims', 'flip', 'matrix_transpose', 'permute_dims', 'reshape',
           'squeeze', 'stack', 'moveaxis', 'repeat', 'roll', 'tile', 'unstack', '__array_api_version__', 'e', 'inf', 'nan', 'pi',
           'newaxis', 'fft', 'linalg']
