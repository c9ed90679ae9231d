"""How a sampler reads an image, as plain data every runtime takes (a leaf: runtimes and
`vd.Sampler` share its modes and its one check)."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgumentError

FILTERS = ("nearest", "linear")
ADDRESS_MODES = ("repeat", "mirrored_repeat", "clamp_to_edge", "clamp_to_border",
                 "mirror_clamp_to_edge")
# vkdispatch 0.1's (Vulkan's) six: float_ for float texels, int_ for integer texels
BORDER_COLORS = ("float_transparent_black", "int_transparent_black", "float_opaque_black",
                 "int_opaque_black", "float_opaque_white", "int_opaque_white")


def _one_of(name: str, value, valid: tuple) -> None:
    if value not in valid:
        raise InvalidArgumentError(f"{name} must be one of {valid}, got {value!r}")


@dataclass(frozen=True)
class SamplerDesc:
    """filter: minification (and magnification unless mag_filter is given); mip_filter:
    between mip levels; lod_bias/min_lod/max_lod: as Vulkan's mipLodBias/minLod/maxLod
    (max_lod 0 reads level 0 only, 0.1's default)."""

    filter: str = "linear"
    address_mode: str = "clamp_to_edge"
    normalized: bool = True
    mag_filter: str = ""
    mip_filter: str = "nearest"
    border_color: str = "float_transparent_black"
    lod_bias: float = 0.0
    min_lod: float = 0.0
    max_lod: float = 0.0

    def __post_init__(self):
        if not self.mag_filter:
            object.__setattr__(self, "mag_filter", self.filter)
        for name, valid in (("filter", FILTERS), ("mag_filter", FILTERS),
                            ("mip_filter", FILTERS), ("address_mode", ADDRESS_MODES),
                            ("border_color", BORDER_COLORS)):
            _one_of(name, getattr(self, name), valid)
        if not isinstance(self.normalized, bool):
            raise InvalidArgumentError(f"normalized must be a bool, got {self.normalized!r}")
        if not self.normalized and self.address_mode not in ("clamp_to_edge", "clamp_to_border"):
            # Vulkan, CUDA and OpenCL all forbid it; say so the same way on every backend
            raise InvalidArgumentError(
                f"address_mode {self.address_mode!r} needs normalized coordinates; with "
                f"normalized=False use 'clamp_to_edge' or 'clamp_to_border'")
        if not self.normalized and (self.mag_filter != self.filter or self.mip_filter != "nearest"):
            raise InvalidArgumentError("a sampler with normalized=False takes one filter for "
                                       "both mag_filter and filter, and mip_filter='nearest'")
        for name in ("lod_bias", "min_lod", "max_lod"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not self.normalized and (self.min_lod or self.max_lod):
            raise InvalidArgumentError("a sampler with normalized=False reads level 0 only: "
                                       "min_lod and max_lod must be 0")
        if self.min_lod > self.max_lod:
            raise InvalidArgumentError(f"min_lod ({self.min_lod}) must not exceed max_lod "
                                       f"({self.max_lod})")

    @property
    def border_rgba(self) -> tuple:
        """The border colour as four floats (integer borders are 0 or 1 too)."""
        return {"transparent_black": (0.0, 0.0, 0.0, 0.0), "opaque_black": (0.0, 0.0, 0.0, 1.0),
                "opaque_white": (1.0, 1.0, 1.0, 1.0)}[self.border_color.split("_", 1)[1]]
