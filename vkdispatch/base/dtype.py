"""The one source of truth for data types (a leaf module: imports only numpy).

Each `DType` knows its numpy dtype, byte size, std430 alignment, its name in every
target language and its DLPack code. Scalars, vectors (2-4 components) and square
float matrices are supported; complex numbers are scalars stored as two floats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

SCALAR, VECTOR, MATRIX = "scalar", "vector", "matrix"
BOOL, INT, UINT, FLOAT, COMPLEX = "bool", "int", "uint", "float", "complex"

# DLPack type codes (dlpack.h: kDLInt=0, kDLUInt=1, kDLFloat=2, kDLComplex=5, kDLBool=6)
_DLPACK_CODE = {INT: 0, UINT: 1, FLOAT: 2, COMPLEX: 5, BOOL: 6}


@dataclass(frozen=True, eq=False)
class DType:
    """A type usable in kernels and buffers. Compared by identity: each exists once."""

    name: str            # vkdispatch name, e.g. "float32", "vec4", "complex64"
    kind: str            # BOOL, INT, UINT, FLOAT, COMPLEX (of the scalar element)
    shape_kind: str      # SCALAR, VECTOR, MATRIX
    scalar: Optional["DType"]  # element type of vectors/matrices; None for scalars
    count: int           # components: 1 for scalars, n for vectors, n*n for matrices
    itemsize: int        # bytes, tightly packed
    alignment: int       # std430 base alignment in bytes
    glsl: str
    cuda: str
    opencl: str

    def __repr__(self) -> str:
        return f"vd.{self.name}"

    def __reduce__(self):  # pickles by name so identity survives a round trip
        return (from_name, (self.name,))

    @property
    def is_scalar(self) -> bool:
        return self.shape_kind == SCALAR

    @property
    def is_vector(self) -> bool:
        return self.shape_kind == VECTOR

    @property
    def is_matrix(self) -> bool:
        return self.shape_kind == MATRIX

    @property
    def base(self) -> "DType":
        """The scalar element type (itself for scalars)."""
        return self if self.scalar is None else self.scalar

    @property
    def is_complex(self) -> bool:
        return self.kind == COMPLEX

    @property
    def is_float(self) -> bool:
        return self.kind == FLOAT

    @property
    def is_integer(self) -> bool:
        return self.kind in (INT, UINT)

    @property
    def is_bool(self) -> bool:
        return self.kind == BOOL

    @property
    def numpy_dtype(self) -> np.dtype:
        """numpy dtype of one element of the *scalar* base type (complex32, which numpy
        lacks: float16, holding its (real, imag) pairs)."""
        return _NUMPY_OF[self.base.name]

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of a scalar type: NumPy reads this attribute, so
        np.dtype(vd.float32) works (Dask and NumPy code ask arrays' dtypes that way)."""
        if not self.is_scalar:
            raise AttributeError(f"{self.name} is not a scalar type; NumPy has no dtype "
                                 f"for it (its elements are {self.base.name})")
        return self.numpy_dtype

    @property
    def numpy_shape(self) -> tuple:
        """Trailing numpy shape of one element: () scalar, (n,) vector, (n, n) matrix,
        (2,) complex32 (a float16 pair)."""
        if self.name == "complex32":
            return (2,)
        if self.is_vector:
            return (self.count,)
        if self.is_matrix:
            n = int(round(self.count ** 0.5))
            return (n, n)
        return ()

    @property
    def columns(self) -> int:
        return int(round(self.count ** 0.5)) if self.is_matrix else 1

    @property
    def dlpack(self) -> tuple:
        """(type code, bits, lanes) of the scalar base type as DLPack encodes it."""
        b = self.base
        return (_DLPACK_CODE[b.kind], b.itemsize * 8, 1)

    def target_name(self, target: str) -> str:
        return getattr(self, target)

    # vkdispatch 0.1's attribute names
    @property
    def item_size(self) -> int:
        return self.itemsize

    @property
    def glsl_type(self) -> str:
        return self.glsl

    @property
    def dimentions(self) -> int:   # sic: 0.1's spelling
        """0 scalars and complex numbers, 1 vectors, 2 matrices."""
        return {SCALAR: 0, VECTOR: 1, MATRIX: 2}[self.shape_kind]

    @property
    def child_type(self) -> Optional["DType"]:
        """A vector's scalar, a matrix's column vector, a complex number's float part."""
        if self.is_complex:
            return _COMPLEX_PART[self.name]
        if self.is_matrix:
            return vector_of(self.base, self.columns)
        return self.scalar

    @property
    def child_count(self) -> int:
        if self.is_complex:
            return 2
        if self.is_matrix:
            return self.columns
        return self.count if self.is_vector else 0

    @property
    def shape(self) -> tuple:
        """0.1's shape: (1,) scalars, (2,) complex numbers, (n,) vectors, (n, n) matrices."""
        if self.is_complex:
            return (2,)
        return self.numpy_shape or (1,)

    @property
    def true_numpy_shape(self) -> tuple:
        return self.numpy_shape

    @property
    def format_str(self) -> str:
        """printf conversion of one value (vectors: each component, in parentheses)."""
        b = self.child_type if self.is_complex else self.base
        one = {FLOAT: "%f", UINT: "%u", INT: "%d", BOOL: "%d"}[b.kind]
        if b.itemsize == 8 and b.kind in (INT, UINT):
            one = "%lld" if b.kind == INT else "%llu"
        n = self.child_count
        if self.is_matrix:
            row = "[" + ", ".join([one] * n) + "]"
            return "\n" + "\n".join([row] * n) + "\n"
        return one if n == 0 else "(" + ", ".join([one] * n) + ")"


_REGISTRY: dict[str, DType] = {}
_NUMPY_OF: dict[str, np.dtype] = {}
_COMPLEX_PART: dict[str, DType] = {}


def _scalar(name, kind, size, numpy, glsl, cuda, opencl) -> DType:
    align = size // 2 if kind == COMPLEX else size
    t = DType(name, kind, SCALAR, None, 1, size, align, glsl, cuda, opencl)
    _REGISTRY[name] = t
    _NUMPY_OF[name] = np.dtype(numpy)
    return t


def _vector(name, scalar: DType, n, glsl, cuda, opencl) -> DType:
    align = scalar.alignment * (4 if n == 3 else n)
    t = DType(name, scalar.kind, VECTOR, scalar, n, scalar.itemsize * n, align, glsl, cuda, opencl)
    _REGISTRY[name] = t
    return t


def _matrix(name, scalar: DType, n, glsl, cuda, opencl) -> DType:
    # std430 column stride of a float matNxN is the alignment of a vecN
    col_align = scalar.itemsize * (4 if n == 3 else n)
    t = DType(name, scalar.kind, MATRIX, scalar, n * n, scalar.itemsize * n * n, col_align,
              glsl, cuda, opencl)
    _REGISTRY[name] = t
    return t


bool_ = _scalar("bool", BOOL, 4, np.bool_, "bool", "bool", "bool")
int8 = _scalar("int8", INT, 1, np.int8, "int8_t", "signed char", "char")
int16 = _scalar("int16", INT, 2, np.int16, "int16_t", "short", "short")
int32 = _scalar("int32", INT, 4, np.int32, "int", "int", "int")
int64 = _scalar("int64", INT, 8, np.int64, "int64_t", "long long", "long")
uint8 = _scalar("uint8", UINT, 1, np.uint8, "uint8_t", "unsigned char", "uchar")
uint16 = _scalar("uint16", UINT, 2, np.uint16, "uint16_t", "unsigned short", "ushort")
uint32 = _scalar("uint32", UINT, 4, np.uint32, "uint", "unsigned int", "uint")
uint64 = _scalar("uint64", UINT, 8, np.uint64, "uint64_t", "unsigned long long", "ulong")
float16 = _scalar("float16", FLOAT, 2, np.float16, "float16_t", "__half", "half")
float32 = _scalar("float32", FLOAT, 4, np.float32, "float", "float", "float")
float64 = _scalar("float64", FLOAT, 8, np.float64, "double", "double", "double")
complex64 = _scalar("complex64", COMPLEX, 8, np.complex64, "vec2", "float2", "float2")
complex128 = _scalar("complex128", COMPLEX, 16, np.complex128, "dvec2", "double2", "double2")
# numpy has no complex32: host arrays hold its (real, imag) float16 pairs, and it is not
# among the SCALARS (the types with a numpy scalar equivalent)
complex32 = _scalar("complex32", COMPLEX, 4, np.float16, "f16vec2", "__half2", "half2")

_COMPLEX_PART.update(complex32=float16, complex64=float32, complex128=float64)

# Booleans live in buffers as 32-bit values (GLSL bool has no storage layout); numpy
# round trips use uint32 storage and convert at the edges.
_NUMPY_OF["bool"] = np.dtype(np.bool_)

vec2 = _vector("vec2", float32, 2, "vec2", "float2", "float2")
vec3 = _vector("vec3", float32, 3, "vec3", "float3", "float3")
vec4 = _vector("vec4", float32, 4, "vec4", "float4", "float4")
dvec2 = _vector("dvec2", float64, 2, "dvec2", "double2", "double2")
dvec3 = _vector("dvec3", float64, 3, "dvec3", "double3", "double3")
dvec4 = _vector("dvec4", float64, 4, "dvec4", "double4", "double4")
hvec2 = _vector("hvec2", float16, 2, "f16vec2", "__half2", "half2")
hvec3 = _vector("hvec3", float16, 3, "f16vec3", "vkd_half3", "half3")
hvec4 = _vector("hvec4", float16, 4, "f16vec4", "vkd_half4", "half4")
ihvec2 = _vector("ihvec2", int16, 2, "i16vec2", "short2", "short2")
ihvec3 = _vector("ihvec3", int16, 3, "i16vec3", "short3", "short3")
ihvec4 = _vector("ihvec4", int16, 4, "i16vec4", "short4", "short4")
uhvec2 = _vector("uhvec2", uint16, 2, "u16vec2", "ushort2", "ushort2")
uhvec3 = _vector("uhvec3", uint16, 3, "u16vec3", "ushort3", "ushort3")
uhvec4 = _vector("uhvec4", uint16, 4, "u16vec4", "ushort4", "ushort4")
ivec2 = _vector("ivec2", int32, 2, "ivec2", "int2", "int2")
ivec3 = _vector("ivec3", int32, 3, "ivec3", "int3", "int3")
ivec4 = _vector("ivec4", int32, 4, "ivec4", "int4", "int4")
uvec2 = _vector("uvec2", uint32, 2, "uvec2", "uint2", "uint2")
uvec3 = _vector("uvec3", uint32, 3, "uvec3", "uint3", "uint3")
uvec4 = _vector("uvec4", uint32, 4, "uvec4", "uint4", "uint4")
bvec2 = _vector("bvec2", bool_, 2, "bvec2", "vkd_bool2", "int2")
bvec3 = _vector("bvec3", bool_, 3, "bvec3", "vkd_bool3", "int3")
bvec4 = _vector("bvec4", bool_, 4, "bvec4", "vkd_bool4", "int4")

mat2 = _matrix("mat2", float32, 2, "mat2", "vkd_mat2", "vkd_mat2")
mat3 = _matrix("mat3", float32, 3, "mat3", "vkd_mat3", "vkd_mat3")
mat4 = _matrix("mat4", float32, 4, "mat4", "vkd_mat4", "vkd_mat4")

SCALARS = tuple(t for t in _REGISTRY.values() if t.is_scalar and t is not complex32)
VECTORS = tuple(t for t in _REGISTRY.values() if t.is_vector)
MATRICES = tuple(t for t in _REGISTRY.values() if t.is_matrix)
ALL = tuple(_REGISTRY.values())

_VECTOR_OF = {(v.scalar.name, v.count): v for v in VECTORS}
_FROM_NUMPY = {np.dtype(v): _REGISTRY[k] for k, v in _NUMPY_OF.items() if k != "complex32"}


def from_name(name: str) -> DType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dtype name {name!r}; valid: {sorted(_REGISTRY)}") from None


def vector_of(scalar: DType, n: int) -> DType:
    """The n-component vector of `scalar` (n == 1 gives the scalar itself)."""
    if n == 1:
        return scalar
    try:
        return _VECTOR_OF[(scalar.name, n)]
    except KeyError:
        raise TypeError(f"there is no {n}-component vector of {scalar.name}") from None


def to_dtype(obj) -> DType:
    """Accept a vkdispatch DType, a numpy dtype / type, or a dtype name."""
    if isinstance(obj, DType):
        return obj
    if isinstance(obj, str) and obj in _REGISTRY:
        return _REGISTRY[obj]
    try:
        nd = np.dtype(obj)
    except TypeError:
        raise TypeError(f"cannot interpret {obj!r} as a vkdispatch dtype; valid names: "
                        f"{sorted(_REGISTRY)} or a numpy dtype") from None
    if nd in _FROM_NUMPY:
        return _FROM_NUMPY[nd]
    raise TypeError(f"numpy dtype {nd} has no vkdispatch equivalent; supported: "
                    f"{sorted(str(d) for d in _FROM_NUMPY)}")


def complex_part(t: DType) -> DType:
    """The float type of complex `t`'s real and imaginary parts."""
    try:
        return _COMPLEX_PART[t.name]
    except KeyError:
        raise TypeError(f"{t.name} is not a complex type") from None


def from_numpy(nd) -> DType:
    return to_dtype(np.dtype(nd))


def storage_numpy_dtype(t: DType) -> np.dtype:
    """numpy dtype of one buffer element's scalar storage (bool is stored as uint32)."""
    return np.dtype(np.uint32) if t.base is bool_ else t.numpy_dtype


_INT_BY_SIZE = {1: int8, 2: int16, 4: int32, 8: int64}
_UINT_BY_SIZE = {1: uint8, 2: uint16, 4: uint32, 8: uint64}
_FLOAT_BY_SIZE = {2: float16, 4: float32, 8: float64}


def promote_scalars(a: DType, b: DType) -> DType:
    """numpy's promotion of two scalar types, except that it never widens to 64 bits
    when neither operand is 64-bit: int32 with uint32 gives int32 and int32 with
    float32 gives float32 (numpy gives int64 / float64, which GPUs run slowly and some
    lack)."""
    if a is b:
        return a
    if complex32 in (a, b):   # as numpy would if it had complex32: like float16's rules
        other = b if a is complex32 else a
        if other.itemsize <= 2 and other.kind != COMPLEX:
            return complex32
        return promote_scalars(complex64, other)
    res = _FROM_NUMPY[np.promote_types(_NUMPY_OF[a.name], _NUMPY_OF[b.name])]
    narrow = a.itemsize < 8 and b.itemsize < 8
    if narrow and res is int64:
        return int32
    if narrow and res is float64:
        return float32
    if narrow and res is complex128:
        return complex64
    return res


def weak_promote(t: DType, value) -> DType:
    """Result type of `t` op python scalar (NEP 50: the python scalar is weak)."""
    if isinstance(value, bool):
        return t
    if isinstance(value, int):
        return int32 if t.is_bool else t
    if isinstance(value, float):
        return float32 if t.kind in (BOOL, INT, UINT) else t
    if isinstance(value, complex):
        if t.kind == COMPLEX:
            return t
        return complex128 if t is float64 else (complex32 if t is float16 else complex64)
    raise TypeError(f"unsupported python scalar {value!r}")


def python_scalar_dtype(value) -> DType:
    """Default dtype of a python scalar used alone (bool, int32, float32, complex64)."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return to_dtype(value.dtype) if isinstance(value, np.integer) else int32
    if isinstance(value, (float, np.floating)):
        return to_dtype(value.dtype) if isinstance(value, np.floating) else float32
    if isinstance(value, (complex, np.complexfloating)):
        return to_dtype(value.dtype) if isinstance(value, np.complexfloating) else complex64
    raise TypeError(f"unsupported python scalar {value!r} of type {type(value).__name__}")


def promote(a: DType, b: DType) -> DType:
    """Result type of a binary arithmetic op: numpy rules on the scalar bases,
    vectors broadcast over scalars, equal-length vectors combine component-wise."""
    base = promote_scalars(a.base, b.base)
    if a.is_matrix or b.is_matrix:
        if a.is_matrix and b.is_matrix and a is not b:
            raise TypeError(f"cannot combine {a.name} and {b.name}")
        return a if a.is_matrix else b
    na, nb = a.count, b.count
    if na != 1 and nb != 1 and na != nb:
        raise TypeError(f"cannot combine vectors {a.name} and {b.name} of different lengths")
    return vector_of(base, max(na, nb))


def with_base(t: DType, base: DType) -> DType:
    """`t`'s shape with another scalar type (vec3 with int32 -> ivec3)."""
    if t.is_scalar:
        return base
    if t.is_matrix:
        if base is not float32:
            raise TypeError("matrices are float32 only")
        return t
    return vector_of(base, t.count)


# ----------------------------------------------------------------------------- 0.1 helpers
# vkdispatch 0.1's module-level dtype functions. Its classes became DType instances, so
# `vd.dtype` is the DType class: isinstance(t, vd.dtype) replaces issubclass(t, vd.dtype).
dtype = DType


def _checked(t) -> DType:
    if not isinstance(t, DType):
        raise TypeError(f"expected a vkdispatch dtype (vd.float32, vd.vec4, ...), got {t!r}")
    return t


def is_dtype(t) -> bool:
    return isinstance(t, DType)


def is_scalar(t) -> bool:
    """A real scalar (0.1 counts complex numbers apart: see is_complex)."""
    t = _checked(t)
    return t.is_scalar and not t.is_complex


def is_complex(t) -> bool:
    return _checked(t).is_complex


def is_vector(t) -> bool:
    return _checked(t).is_vector


def is_matrix(t) -> bool:
    return _checked(t).is_matrix


def is_float_dtype(t) -> bool:
    """Floating point scalar, or a vector/matrix of them."""
    return _checked(t).base.kind == FLOAT


def is_integer_dtype(t) -> bool:
    return _checked(t).base.kind in (INT, UINT)


def to_vector(t, count: int) -> DType:
    """The `count`-component vector of scalar `t` (count 1: `t` itself)."""
    t = _checked(t)
    if not isinstance(count, int) or not 1 <= count <= 4:
        raise ValueError(f"count must be an int from 1 to 4, got {count!r}")
    if not is_scalar(t):
        raise ValueError(f"to_vector takes a real scalar dtype, got {t.name}")
    try:
        return vector_of(t, count)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def vector_size(t) -> int:
    if not _checked(t).is_vector:
        raise ValueError(f"{t.name} is not a vector")
    return t.count


def complex_from_float(t) -> DType:
    """complex64 for float32, complex128 for float64."""
    for c, part in _COMPLEX_PART.items():
        if part is t:
            return _REGISTRY[c]
    raise ValueError(f"no complex type has {t!r} parts; valid: "
                     f"{sorted(p.name for p in _COMPLEX_PART.values())}")


def make_floating_dtype(t) -> DType:
    """`t` with integer components made floating (int16 -> float16, int32 -> float32,
    int64 -> float64); float, complex and matrix types are returned unchanged."""
    t = _checked(t)
    if t.base.kind not in (INT, UINT, BOOL):
        return t
    f = _FLOAT_BY_SIZE[max(2, min(t.base.itemsize, 8))]
    return with_base(t, f)


def _expect(t, test, what: str, which: str) -> DType:
    t = _checked(t)
    if not test(t):
        raise ValueError(f"{which} type must be {what}, got {t.name}")
    return t


def cross_scalar_scalar(a, b) -> DType:
    a = _expect(a, is_scalar, "a real scalar", "first")
    return promote_scalars(a, _expect(b, is_scalar, "a real scalar", "second"))


def cross_vector_scalar(a, b) -> DType:
    a = _expect(a, is_vector, "a vector", "first")
    return promote(a, _expect(b, is_scalar, "a real scalar", "second"))


def cross_vector_vector(a, b) -> DType:
    a = _expect(a, is_vector, "a vector", "first")
    b = _expect(b, is_vector, "a vector", "second")
    if a.count != b.count:
        raise ValueError(f"cannot combine vectors of {a.count} and {b.count} components")
    return promote(a, b)


def cross_vector(a, b) -> DType:
    a = _expect(a, is_vector, "a vector", "first")
    return promote(a, _expect(b, lambda t: t.is_vector or is_scalar(t), "a vector or a real "
                              "scalar", "second"))


def cross_matrix(a, b) -> DType:
    a = _expect(a, is_matrix, "a matrix", "first")
    return promote(a, _expect(b, lambda t: t is a or is_scalar(t), f"{a.name} or a real "
                              f"scalar", "second"))


def cross_type(a, b) -> DType:
    """Result type of a binary op on `a` and `b` (this project's numpy-style `promote`)."""
    return promote(_checked(a), _checked(b))


def cross_multiply_type(a, b) -> DType:
    """Result type of `a * b`, where matN * vecN and vecN * matN give the vector."""
    a, b = _checked(a), _checked(b)
    if a.is_matrix != b.is_matrix and (a.is_vector or b.is_vector):
        m, v = (a, b) if a.is_matrix else (b, a)
        if v.count != m.columns or v.base is not float32:
            raise ValueError(f"cannot multiply {a.name} and {b.name}: a matN multiplies a "
                             f"float32 vecN")
        return v
    return promote(a, b)


def from_numpy_dtype(nd) -> DType:
    """The vkdispatch scalar type of numpy dtype `nd`; ValueError if there is none."""
    try:
        return from_numpy(nd)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def to_numpy_dtype(t) -> type:
    """The numpy scalar type of scalar or complex `t` (np.float32, np.complex64, ...);
    vectors and matrices have none (see DType.numpy_dtype and numpy_shape)."""
    t = _checked(t)
    if not t.is_scalar:
        raise ValueError(f"{t.name} has no numpy scalar type; its elements are "
                         f"{t.numpy_dtype} of shape {t.numpy_shape}")
    return t.numpy_dtype.type
