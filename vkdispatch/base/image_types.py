"""vkdispatch 0.1's image enums: sampler modes (`vd.Filter`, `vd.AddressMode`,
`vd.BorderColor`) and the image format/type/view-type names. Their values are Vulkan's,
as in 0.1; a member's lower-case name is the mode string the runtimes take."""
from __future__ import annotations

from enum import Enum

from . import dtype as dt


class Filter(Enum):
    NEAREST = 0
    LINEAR = 1


class AddressMode(Enum):
    REPEAT = 0
    MIRRORED_REPEAT = 1
    CLAMP_TO_EDGE = 2
    CLAMP_TO_BORDER = 3
    MIRROR_CLAMP_TO_EDGE = 4


class BorderColor(Enum):
    FLOAT_TRANSPARENT_BLACK = 0
    INT_TRANSPARENT_BLACK = 1
    FLOAT_OPAQUE_BLACK = 2
    INT_OPAQUE_BLACK = 3
    FLOAT_OPAQUE_WHITE = 4
    INT_OPAQUE_WHITE = 5


class image_type(Enum):          # noqa: N801 (0.1's spelling)
    TYPE_1D = 0
    TYPE_2D = 1
    TYPE_3D = 2


class image_view_type(Enum):     # noqa: N801
    VIEW_TYPE_1D = 0
    VIEW_TYPE_2D = 1
    VIEW_TYPE_3D = 2
    VIEW_TYPE_1D_ARRAY = 4
    VIEW_TYPE_2D_ARRAY = 5


# (bits, Vulkan numeric suffix) -> VkFormat of its 1, 2, 3 and 4-channel formats
_FORMATS = {(8, "UINT"): (13, 20, 27, 41), (8, "SINT"): (14, 21, 28, 42),
            (16, "UINT"): (74, 81, 88, 95), (16, "SINT"): (75, 82, 89, 96),
            (16, "SFLOAT"): (76, 83, 90, 97), (32, "UINT"): (98, 101, 104, 107),
            (32, "SINT"): (99, 102, 105, 108), (32, "SFLOAT"): (100, 103, 106, 109),
            (64, "UINT"): (110, 113, 116, 119), (64, "SINT"): (111, 114, 117, 120),
            (64, "SFLOAT"): (112, 115, 118, 121)}


def _format_name(bits: int, suffix: str, channels: int) -> str:
    return "".join(f"{c}{bits}" for c in "RGBA"[:channels]) + "_" + suffix


def _format_members() -> dict:
    return {_format_name(bits, suffix, channels): value
            for (bits, suffix), values in _FORMATS.items()
            for channels, value in zip((1, 2, 3, 4), values)}


image_format = Enum("image_format", _format_members(), module=__name__)   # 0.1's name
image_format.__doc__ = "Texel formats by Vulkan name (R32G32_SFLOAT, ...), valued as VkFormat."

_SUFFIX = {"f": "SFLOAT", "i": "SINT", "u": "UINT"}


def select_image_format(dtype, channels: int) -> image_format:
    """The image_format holding `channels` (1-4) components of scalar `dtype`."""
    t = dt.to_dtype(dtype)
    if channels not in (1, 2, 3, 4):
        raise ValueError(f"channels must be 1, 2, 3 or 4, got {channels!r}")
    kind = t.numpy_dtype.kind if not (t.is_vector or t.is_matrix or t.is_complex) else ""
    if kind not in _SUFFIX or t.itemsize * 8 not in (8, 16, 32, 64) or \
            (kind == "f" and t.itemsize == 1):
        raise ValueError(f"no image format holds {t.name} texels; use a real scalar type")
    return image_format[_format_name(t.itemsize * 8, _SUFFIX[kind], channels)]
