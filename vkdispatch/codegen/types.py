"""Parameter annotations for shader signatures: `Buff[f32]`, `Const[f32]`, `Var[f32]`,
`Img2[f32]`. Subscripting returns a frozen description the signature parser reads."""
from __future__ import annotations

from dataclasses import dataclass

from ..base import dtype as dt
from ..base.dtype import DType

BUFFER, CONST, VARIABLE, IMAGE = "buffer", "const", "var", "image"


@dataclass(frozen=True)
class ParamType:
    kind: str          # BUFFER, CONST, VARIABLE, IMAGE
    dtype: DType
    dim: int = 0       # images
    writable: bool = False  # images: storage image (load/store) instead of sampled
    arrayed: bool = False   # images: layers indexed by one more coordinate (Image2DArray)

    def __repr__(self) -> str:
        names = {BUFFER: "Buff", CONST: "Const", VARIABLE: "Var"}
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
