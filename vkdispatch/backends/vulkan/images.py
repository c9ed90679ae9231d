"""Images (optimal tiling, kept in VK_IMAGE_LAYOUT_GENERAL for life) and samplers.

A texel's scalar type is what the shader sees: float32/float16 are SFLOAT formats,
integer types are the SINT/UINT formats read through isampler/usampler and
iimage/uimage (so they sample with nearest filtering only).
"""
from __future__ import annotations

from ...base.errors import DeviceLimitError, UnsupportedFeatureError
from ..common import check_levels, image_arrayed, image_shape, level_extent, refuse_sampler_modes
from ._vk import check, ffi, lib, new, out, vk
from .memory import next_serial

# dtype name -> (bits, numeric suffix of VkFormat, bytes per component)
_SCALARS = {"float32": (32, "SFLOAT"), "float16": (16, "SFLOAT"), "int32": (32, "SINT"),
            "uint32": (32, "UINT"), "int16": (16, "SINT"), "uint16": (16, "UINT"),
            "int8": (8, "SINT"), "uint8": (8, "UINT")}
_CHANNELS = (1, 2, 3, 4)

FILTERS = {"nearest": vk.VK_FILTER_NEAREST, "linear": vk.VK_FILTER_LINEAR}
ADDRESS_MODES = {"repeat": vk.VK_SAMPLER_ADDRESS_MODE_REPEAT,
                 "mirrored_repeat": vk.VK_SAMPLER_ADDRESS_MODE_MIRRORED_REPEAT,
                 "clamp_to_edge": vk.VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                 "clamp_to_border": vk.VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER}
MIP_FILTERS = {"nearest": vk.VK_SAMPLER_MIPMAP_MODE_NEAREST,
               "linear": vk.VK_SAMPLER_MIPMAP_MODE_LINEAR}
BORDER_COLORS = {name: getattr(vk, "VK_BORDER_COLOR_" + name.upper())
                 for name in ("float_transparent_black", "int_transparent_black",
                              "float_opaque_black", "int_opaque_black",
                              "float_opaque_white", "int_opaque_white")}
# the device feature it needs (samplerMirrorClampToEdge) is not enabled at device creation
LACKS = {"'mirror_clamp_to_edge' sampler address mode (samplerMirrorClampToEdge is not "
         "enabled)": lambda d: d.address_mode == "mirror_clamp_to_edge"}

_IMAGE_TYPES = {1: vk.VK_IMAGE_TYPE_1D, 2: vk.VK_IMAGE_TYPE_2D, 3: vk.VK_IMAGE_TYPE_3D}
_VIEW_TYPES = {(1, False): vk.VK_IMAGE_VIEW_TYPE_1D, (1, True): vk.VK_IMAGE_VIEW_TYPE_1D_ARRAY,
               (2, False): vk.VK_IMAGE_VIEW_TYPE_2D, (2, True): vk.VK_IMAGE_VIEW_TYPE_2D_ARRAY,
               (3, False): vk.VK_IMAGE_VIEW_TYPE_3D}
SAMPLED = vk.VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT
STORAGE = vk.VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT
LINEAR = vk.VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT


def image_format(dtype: str, channels: int):
    """(VkFormat, format name, bytes per texel) for `channels` components of `dtype`."""
    if dtype not in _SCALARS or channels not in _CHANNELS:
        valid = ", ".join(sorted(_SCALARS))
        raise UnsupportedFeatureError(
            f"no Vulkan image format for {channels} channel(s) of {dtype!r}; images take "
            f"1, 2 or 4 channels of {valid}")
    bits, suffix = _SCALARS[dtype]
    name = "".join(f"{c}{bits}" for c in "RGBA"[:channels]) + "_" + suffix
    return getattr(vk, "VK_FORMAT_" + name), "VK_FORMAT_" + name, bits // 8 * channels


class ImageHandle:
    __slots__ = ("image", "view", "memory", "block", "format", "format_name", "extent", "layers",
                 "dim", "dtype", "channels", "texel_size", "queue", "device", "serial",
                 "features", "alive", "used", "alloc_size", "arrayed", "levels", "__weakref__")

    @property
    def layer_bytes(self) -> int:
        return self.level_bytes(0)

    def level_bytes(self, level: int) -> int:
        w, h, d = level_extent(self.extent, level)
        return w * h * d * self.texel_size

    def __repr__(self):
        return (f"<vulkan image #{self.serial}: {self.dim}-D {self.extent} x{self.layers} "
                f"{self.format_name}, queue {self.queue}{'' if self.alive else ', freed'}>")


class SamplerHandle:
    """One VkSampler per device of the context (`samplers[device.position]`)."""

    __slots__ = ("samplers", "desc", "serial", "alive")

    def __repr__(self):
        return f"<vulkan sampler #{self.serial}: {self.desc}>"


def create_image(device, queue: int, extent, layers: int, dtype: str, channels: int,
                 dim=None, arrayed=None, levels: int = 1) -> ImageHandle:
    phys = device.phys
    full, layers, dim = image_shape(extent, layers, dim)
    arrayed = image_arrayed(layers, dim, arrayed)
    levels = check_levels(levels, full)
    fmt, fmt_name, texel = image_format(dtype, int(channels))
    lim = phys.limits
    max_dim = (lim.maxImageDimension1D, lim.maxImageDimension2D, lim.maxImageDimension3D)[dim - 1]
    if max(full) > max_dim:
        raise DeviceLimitError(f"image extent {full[:dim]} exceeds maxImageDimension{dim}D "
                               f"({max_dim}) of {phys.name}")
    if layers > lim.maxImageArrayLayers:
        raise DeviceLimitError(f"{layers} image layers exceed maxImageArrayLayers "
                               f"({lim.maxImageArrayLayers}) of {phys.name}")
    features = phys.format_features(fmt)
    if not features & (SAMPLED | STORAGE):
        raise UnsupportedFeatureError(f"{fmt_name} ({channels} x {dtype}) can be neither sampled "
                                      f"nor used as a storage image on {phys.name}")
    usage = vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT | vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT
    if features & SAMPLED:
        usage |= vk.VK_IMAGE_USAGE_SAMPLED_BIT
    if features & STORAGE:
        usage |= vk.VK_IMAGE_USAGE_STORAGE_BIT

    h = ImageHandle()
    h.image = h.view = h.block = None
    h.format, h.format_name, h.texel_size = fmt, fmt_name, texel
    h.extent, h.layers, h.dim, h.dtype, h.channels = full, layers, dim, dtype, int(channels)
    h.queue, h.device, h.serial, h.features = queue, device, next_serial(), features
    h.alive, h.used, h.alloc_size, h.arrayed, h.levels = True, False, 0, arrayed, levels
    info = new("VkImageCreateInfo", sType=vk.VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
               imageType=_IMAGE_TYPES[dim], format=fmt, mipLevels=levels, arrayLayers=layers,
               samples=vk.VK_SAMPLE_COUNT_1_BIT, tiling=vk.VK_IMAGE_TILING_OPTIMAL, usage=usage,
               sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE, initialLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED)
    info.extent.width, info.extent.height, info.extent.depth = full
    img = out("VkImage")
    check(lib.vkCreateImage(device.handle, info, ffi.NULL, img), "vkCreateImage",
          f"{fmt_name} {full[:dim]} x{layers}")
    h.image = img[0]
    try:
        reqs = new("VkMemoryRequirements")
        lib.vkGetImageMemoryRequirements(device.handle, h.image, reqs)
        h.block, _ = device.allocator.allocate(reqs.size, reqs.alignment, reqs.memoryTypeBits,
                                               "device", dedicated=True)
        h.alloc_size, h.memory = reqs.size, h.block.memory
        check(lib.vkBindImageMemory(device.handle, h.image, h.memory, 0), "vkBindImageMemory")
        view = new("VkImageViewCreateInfo", sType=vk.VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                   image=h.image, viewType=_VIEW_TYPES[dim, arrayed], format=fmt)
        rng = view.subresourceRange
        rng.aspectMask, rng.levelCount, rng.layerCount = vk.VK_IMAGE_ASPECT_COLOR_BIT, levels, layers
        v = out("VkImageView")
        check(lib.vkCreateImageView(device.handle, view, ffi.NULL, v), "vkCreateImageView")
        h.view = v[0]
    except BaseException:
        destroy_image(h)
        raise
    return h


def destroy_image(h: ImageHandle) -> None:
    dev = h.device.handle
    if h.view is not None:
        lib.vkDestroyImageView(dev, h.view, ffi.NULL)
        h.view = None
    if h.image is not None:
        lib.vkDestroyImage(dev, h.image, ffi.NULL)
        h.image = None
    if h.block is not None:
        h.device.allocator.release(h.block, 0, h.alloc_size)
        h.block = h.memory = None
    h.alive = False


def create_sampler(devices, desc) -> SamplerHandle:
    """VkSamplers (one per device) reading as SamplerDesc `desc` says."""
    refuse_sampler_modes(desc, "vulkan", LACKS)
    mode = ADDRESS_MODES[desc.address_mode]
    info = new("VkSamplerCreateInfo", sType=vk.VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
               magFilter=FILTERS[desc.mag_filter], minFilter=FILTERS[desc.filter],
               mipmapMode=MIP_FILTERS[desc.mip_filter], addressModeU=mode,
               addressModeV=mode, addressModeW=mode, mipLodBias=desc.lod_bias,
               minLod=desc.min_lod, maxLod=desc.max_lod,
               borderColor=BORDER_COLORS[desc.border_color],
               unnormalizedCoordinates=0 if desc.normalized else 1)
    s = SamplerHandle()
    s.desc = desc
    s.serial, s.alive, s.samplers = next_serial(), True, []
    try:
        for device in devices:
            p = out("VkSampler")
            check(lib.vkCreateSampler(device.handle, info, ffi.NULL, p), "vkCreateSampler")
            s.samplers.append((device, p[0]))
    except BaseException:
        destroy_sampler(s)
        raise
    return s


def destroy_sampler(s: SamplerHandle) -> None:
    for device, sampler in s.samplers:
        if device.handle is not None:
            lib.vkDestroySampler(device.handle, sampler, ffi.NULL)
    s.samplers = []
    s.alive = False
