"""vkdispatch 0.1's typed allocators: `vd.buffer_f32(shape)` is `vd.Buffer(shape, vd.float32)`.
"""
from __future__ import annotations

from . import dtype as dt
from .buffer import Buffer


def buffer_u32(shape) -> Buffer:
    """A buffer of unsigned 32-bit integers (uint32) of `shape`."""
    return Buffer(shape, dt.uint32)

def buffer_uv2(shape) -> Buffer:
    """A buffer of 2-vectors of uint32 (uvec2) of `shape`."""
    return Buffer(shape, dt.uvec2)

def buffer_uv3(shape) -> Buffer:
    """A buffer of 3-vectors of uint32 (uvec3) of `shape`."""
    return Buffer(shape, dt.uvec3)

def buffer_uv4(shape) -> Buffer:
    """A buffer of 4-vectors of uint32 (uvec4) of `shape`."""
    return Buffer(shape, dt.uvec4)

def buffer_i32(shape) -> Buffer:
    """A buffer of signed 32-bit integers (int32) of `shape`."""
    return Buffer(shape, dt.int32)

def buffer_iv2(shape) -> Buffer:
    """A buffer of 2-vectors of int32 (ivec2) of `shape`."""
    return Buffer(shape, dt.ivec2)

def buffer_iv3(shape) -> Buffer:
    """A buffer of 3-vectors of int32 (ivec3) of `shape`."""
    return Buffer(shape, dt.ivec3)

def buffer_iv4(shape) -> Buffer:
    """A buffer of 4-vectors of int32 (ivec4) of `shape`."""
    return Buffer(shape, dt.ivec4)

def buffer_f32(shape) -> Buffer:
    """A buffer of 32-bit floats (float32) of `shape`."""
    return Buffer(shape, dt.float32)

def buffer_v2(shape) -> Buffer:
    """A buffer of 2-vectors of float32 (vec2) of `shape`."""
    return Buffer(shape, dt.vec2)

def buffer_v3(shape) -> Buffer:
    """A buffer of 3-vectors of float32 (vec3) of `shape`."""
    return Buffer(shape, dt.vec3)

def buffer_v4(shape) -> Buffer:
    """A buffer of 4-vectors of float32 (vec4) of `shape`."""
    return Buffer(shape, dt.vec4)

def buffer_c64(shape) -> Buffer:
    """A buffer of complex64 numbers (complex64) of `shape`."""
    return Buffer(shape, dt.complex64)

def buffer_u16(shape) -> Buffer:
    """A buffer of unsigned 16-bit integers (uint16) of `shape`."""
    return Buffer(shape, dt.uint16)

def buffer_i16(shape) -> Buffer:
    """A buffer of signed 16-bit integers (int16) of `shape`."""
    return Buffer(shape, dt.int16)

def buffer_f16(shape) -> Buffer:
    """A buffer of 16-bit floats (float16) of `shape`."""
    return Buffer(shape, dt.float16)

def buffer_hv2(shape) -> Buffer:
    """A buffer of 2-vectors of float16 (hvec2) of `shape`."""
    return Buffer(shape, dt.hvec2)

def buffer_hv4(shape) -> Buffer:
    """A buffer of 4-vectors of float16 (hvec4) of `shape`."""
    return Buffer(shape, dt.hvec4)

def buffer_f64(shape) -> Buffer:
    """A buffer of 64-bit floats (float64) of `shape`."""
    return Buffer(shape, dt.float64)

def buffer_dv2(shape) -> Buffer:
    """A buffer of 2-vectors of float64 (dvec2) of `shape`."""
    return Buffer(shape, dt.dvec2)

def buffer_dv3(shape) -> Buffer:
    """A buffer of 3-vectors of float64 (dvec3) of `shape`."""
    return Buffer(shape, dt.dvec3)

def buffer_dv4(shape) -> Buffer:
    """A buffer of 4-vectors of float64 (dvec4) of `shape`."""
    return Buffer(shape, dt.dvec4)

def buffer_uhv2(shape) -> Buffer:
    """A buffer of 2-vectors of uint16 (uhvec2) of `shape`."""
    return Buffer(shape, dt.uhvec2)

def buffer_uhv3(shape) -> Buffer:
    """A buffer of 3-vectors of uint16 (uhvec3) of `shape`."""
    return Buffer(shape, dt.uhvec3)

def buffer_uhv4(shape) -> Buffer:
    """A buffer of 4-vectors of uint16 (uhvec4) of `shape`."""
    return Buffer(shape, dt.uhvec4)

def buffer_ihv2(shape) -> Buffer:
    """A buffer of 2-vectors of int16 (ihvec2) of `shape`."""
    return Buffer(shape, dt.ihvec2)

def buffer_ihv3(shape) -> Buffer:
    """A buffer of 3-vectors of int16 (ihvec3) of `shape`."""
    return Buffer(shape, dt.ihvec3)

def buffer_ihv4(shape) -> Buffer:
    """A buffer of 4-vectors of int16 (ihvec4) of `shape`."""
    return Buffer(shape, dt.ihvec4)

def buffer_hv3(shape) -> Buffer:
    """A buffer of 3-vectors of float16 (hvec3) of `shape`."""
    return Buffer(shape, dt.hvec3)
