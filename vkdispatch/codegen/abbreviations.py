"""Short names for shader signatures: `from vkdispatch.codegen.abbreviations import *`."""
from ..base import dtype as _dt
from .types import Buff, Const, Img1, Img2, Img2Array, Img3, RWImg1, RWImg2, RWImg3, Var

b1 = _dt.bool_
i8, i16, i32, i64 = _dt.int8, _dt.int16, _dt.int32, _dt.int64
u8, u16, u32, u64 = _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64
f16, f32, f64 = _dt.float16, _dt.float32, _dt.float64
c32, c64, c128 = _dt.complex32, _dt.complex64, _dt.complex128
v2, v3, v4 = _dt.vec2, _dt.vec3, _dt.vec4
dv2, dv3, dv4 = _dt.dvec2, _dt.dvec3, _dt.dvec4
hv2, hv3, hv4 = _dt.hvec2, _dt.hvec3, _dt.hvec4
ihv2, ihv3, ihv4 = _dt.ihvec2, _dt.ihvec3, _dt.ihvec4
uhv2, uhv3, uhv4 = _dt.uhvec2, _dt.uhvec3, _dt.uhvec4
iv2, iv3, iv4 = _dt.ivec2, _dt.ivec3, _dt.ivec4
uv2, uv3, uv4 = _dt.uvec2, _dt.uvec3, _dt.uvec4
m2, m3, m4 = _dt.mat2, _dt.mat3, _dt.mat4

__all__ = ["Buff", "Const", "Var", "Img1", "Img2", "Img2Array", "Img3", "RWImg1", "RWImg2", "RWImg3",
           "b1", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "f32", "f64",
           "c32", "c64", "c128", "v2", "v3", "v4", "dv2", "dv3", "dv4", "hv2", "hv3", "hv4", "iv2",
           "iv3", "iv4", "ihv2", "ihv3", "ihv4", "uv2", "uv3", "uv4", "uhv2", "uhv3", "uhv4",
           "m2", "m3", "m4"]
