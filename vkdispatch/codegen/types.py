"""Parameter annotations for shader signatures: `Buff[f32]`, `Const[f32]`, `Var[f32]`,
`Img2[f32]`. Subscripting returns a frozen description the signature parser reads."""
from __future__ import annotations

import dataclasses
import enum
import typing
from dataclasses import dataclass
from typing import Optional

from ..base import dtype as dt
from ..base.dtype import DType

BUFFER, CONST, VARIABLE, IMAGE, STRUCT = "buffer", "const", "var", "image", "struct"


@dataclass(frozen=True)
class ParamType:
    kind: str          # BUFFER, CONST, VARIABLE, IMAGE, STRUCT
    dtype: Optional[DType]  # None for STRUCT
    dim: int = 0       # images
    writable: bool = False  # images: storage image (load/store) instead of sampled
    arrayed: bool = False   # images: layers indexed by one more coordinate (Image2DArray)
    fields: tuple = ()      # STRUCT: ((field name, DType), ...), each a uniform
    struct: Optional[type] = None   # STRUCT: the dataclass

    def __repr__(self) -> str:
        names = {BUFFER: "Buff", CONST: "Const", VARIABLE: "Var"}
        if self.kind == STRUCT:
            return self.struct.__name__
        if self.kind == IMAGE:
            return (f"{'RWImg' if self.writable else 'Img'}{self.dim}{'Array' if self.arrayed else ''}"
                    f"[{self.dtype.name}]")
        return f"{names[self.kind]}[{self.dtype.name}]"


class _Annotation:
    def __init__(self, kind: str, name: str, dim: int = 0, writable: bool = False,
                 arrayed: bool = False):
        self.kind, self.name, self.dim, self.writable = kind, name, dim, writable
        self.arrayed = arrayed

    def __getitem__(self, t) -> ParamType:
        t = dt.to_dtype(t)
        if self.kind == IMAGE and (t.is_vector or t.is_matrix or t.is_complex or t.is_bool):
            raise TypeError(f"{self.name}[...] takes the texel's scalar type (f32, i32, u32, ...), "
                            f"got {t.name}")
        if self.kind in (CONST, VARIABLE) and t is dt.complex32:
            raise TypeError(f"{self.name}[c32]: complex32 uniforms are not supported (numpy "
                            f"has no complex32 to pass); take {self.name}[c64] and convert "
                            f"with vc.to_complex32")
        if self.kind in (CONST, VARIABLE) and t.is_bool:
            t = dt.bool_
        return ParamType(self.kind, t, self.dim, self.writable, self.arrayed)

    def __repr__(self) -> str:
        return self.name


Buffer = Buff = _Annotation(BUFFER, "Buff")
Constant = Const = _Annotation(CONST, "Const")
Variable = Var = _Annotation(VARIABLE, "Var")
Image1D = Img1 = _Annotation(IMAGE, "Img1", 1)
Image2D = Img2 = _Annotation(IMAGE, "Img2", 2)
Image3D = Img3 = _Annotation(IMAGE, "Img3", 3)
Image2DArray = Img2Array = _Annotation(IMAGE, "Img2Array", 2, arrayed=True)   # 0.1's name first
RWImage1D = RWImg1 = _Annotation(IMAGE, "RWImg1", 1, True)
RWImage2D = RWImg2 = _Annotation(IMAGE, "RWImg2", 2, True)
RWImage3D = RWImg3 = _Annotation(IMAGE, "RWImg3", 3, True)


class ShaderFlags(enum.IntFlag):
    """vkdispatch 0.1's shader flags. NO_EXEC_BOUNDS launches every invocation of every
    workgroup (bounds_check=False). NO_SUBGROUP_OPS and NO_PRINTF kept 0.1 from enabling
    those extensions; the emitters here enable an extension only where a kernel uses
    it, so these two change nothing."""
    NONE = 0
    NO_SUBGROUP_OPS = enum.auto()
    NO_PRINTF = enum.auto()
    NO_EXEC_BOUNDS = enum.auto()


def struct_param(cls) -> ParamType:
    """A parameter annotated with a dataclass of dtype fields (vkdispatch 0.1): each
    field is a uniform; the kernel gets an instance holding the fields' values and a
    call passes an instance."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:
        raise TypeError(f"cannot evaluate the field types of {cls.__name__}: {exc}") from exc
    fields = []
    for f in dataclasses.fields(cls):
        t = hints.get(f.name)
        if not isinstance(t, DType) or t is dt.complex32:
            raise TypeError(f"field {cls.__name__}.{f.name} of a shader parameter must be "
                            f"a vkdispatch dtype such as f32 or v4 (not complex32), got {t!r}")
        fields.append((f.name, dt.bool_ if t.is_bool else t))
    if not fields:
        raise TypeError(f"dataclass {cls.__name__} has no fields to pass to a shader")
    return ParamType(STRUCT, None, fields=tuple(fields), struct=cls)


def struct_field_name(param: str, field: str) -> str:
    """The uniform holding field `field` of dataclass parameter `param`."""
    return f"{param}_{field}"
