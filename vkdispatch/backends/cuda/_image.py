"""Images as CUDA arrays, read through texture objects and written through surface objects.

A sampled-image binding is `(image, sampler)`; its texture object is made on first use
and cached on the image per sampler description. A storage-image binding is the image;
its surface object is made once. Integer texels are read as integers (point filtering
only), float and half texels as float.
"""
from __future__ import annotations

from cuda.bindings import driver

from ...base.errors import UnsupportedFeatureError
from ...base.sampling import SamplerDesc
from ..common import image_arrayed, image_shape, refuse_sampler_modes
from ._check import check, quiet

F = driver.CUarray_format
# dtype name -> (array format, bytes per component, integer?)
FORMATS = {
    "float32": (F.CU_AD_FORMAT_FLOAT, 4, False),
    "float16": (F.CU_AD_FORMAT_HALF, 2, False),
    "int32": (F.CU_AD_FORMAT_SIGNED_INT32, 4, True),
    "uint32": (F.CU_AD_FORMAT_UNSIGNED_INT32, 4, True),
    "uint8": (F.CU_AD_FORMAT_UNSIGNED_INT8, 1, True),
}
CHANNELS = (1, 2, 4)

FILTERS = {"nearest": driver.CUfilter_mode.CU_TR_FILTER_MODE_POINT,
           "linear": driver.CUfilter_mode.CU_TR_FILTER_MODE_LINEAR}
_M = driver.CUaddress_mode
ADDRESS_MODES = {"repeat": _M.CU_TR_ADDRESS_MODE_WRAP,
                 "mirrored_repeat": _M.CU_TR_ADDRESS_MODE_MIRROR,
                 "clamp_to_edge": _M.CU_TR_ADDRESS_MODE_CLAMP,
                 "clamp_to_border": _M.CU_TR_ADDRESS_MODE_BORDER}


# CUDA has no sampler objects: a sampler is its description, the key of the texture
# objects made from it
CudaSampler = SamplerDesc

LACKS = {"separate minification and magnification filters (a texture has one filter "
         "mode)": lambda d: d.filter != d.mag_filter,
         "'mirror_clamp_to_edge' address mode": lambda d: d.address_mode == "mirror_clamp_to_edge"}


def make_sampler(desc: SamplerDesc) -> CudaSampler:
    refuse_sampler_modes(desc, "cuda", LACKS)
    return desc


class CudaImage:
    __slots__ = ("array", "extent", "layers", "dtype", "channels", "texel_size", "dim",
                 "integer", "queue", "device", "surface", "textures", "freed", "__weakref__")

    def __repr__(self) -> str:
        return (f"<CudaImage {self.dim}-D {self.extent} x{self.layers} layers, "
                f"{self.channels} x {self.dtype}{', freed' if self.freed else ''}>")

    @property
    def layer_bytes(self) -> int:
        w, h, d = self.extent
        return w * h * d * self.texel_size


def create(queue: int, device: int, extent, layers: int, dtype: str, channels: int,
           dim=None, arrayed=None) -> CudaImage:
    """A new CUDA array (the device's context current). 1-D when h == d == 1, 2-D when
    d == 1, else 3-D; an arrayed image (default: layers > 1) is a layered array."""
    if dtype not in FORMATS:
        raise UnsupportedFeatureError(f"CUDA images hold {sorted(FORMATS)} texels, got {dtype!r}")
    if channels not in CHANNELS:
        raise UnsupportedFeatureError(f"CUDA images have 1, 2 or 4 channels, got {channels}")
    ext, layers, dim = image_shape(extent, layers, dim)
    arrayed = image_arrayed(layers, dim, arrayed)
    w, h, d = ext
    fmt, size, integer = FORMATS[dtype]
    desc = driver.CUDA_ARRAY3D_DESCRIPTOR()
    desc.Width = w
    # 1-D images are 2-D arrays of height 1: integer-coordinate fetches from true 1-D
    # arrays read zeros, and the emitter addresses row 0 (see emit/_cuda_prelude.py)
    desc.Height = h
    desc.Depth = d if dim == 3 else (layers if arrayed else 0)
    desc.Format = fmt
    desc.NumChannels = channels
    desc.Flags = driver.CUDA_ARRAY3D_SURFACE_LDST | (driver.CUDA_ARRAY3D_LAYERED if arrayed else 0)
    array = check(driver.cuArray3DCreate(desc), "cuArray3DCreate",
                  f"{dim}-D {ext} x{layers} layers, {channels} x {dtype}")
    img = CudaImage()
    img.array, img.extent, img.layers, img.dtype = array, ext, layers, dtype
    img.channels, img.texel_size, img.dim, img.integer = channels, size * channels, dim, integer
    img.queue, img.device = queue, device
    img.surface, img.textures, img.freed = 0, {}, False
    return img


def _copy_desc(img: CudaImage, layer: int, host: int, to_device: bool):
    w, h, d = img.extent
    c = driver.CUDA_MEMCPY3D()
    c.WidthInBytes, c.Height, c.Depth = w * img.texel_size, h, d
    HOST, ARRAY = driver.CUmemorytype.CU_MEMORYTYPE_HOST, driver.CUmemorytype.CU_MEMORYTYPE_ARRAY
    if to_device:
        c.srcMemoryType, c.srcHost, c.srcPitch, c.srcHeight = HOST, host, w * img.texel_size, h
        c.dstMemoryType, c.dstArray, c.dstZ = ARRAY, img.array, layer
    else:
        c.dstMemoryType, c.dstHost, c.dstPitch, c.dstHeight = HOST, host, w * img.texel_size, h
        c.srcMemoryType, c.srcArray, c.srcZ = ARRAY, img.array, layer
    return c


def copy(img: CudaImage, host: int, layer: int, stream, to_device: bool) -> None:
    """Enqueue a copy of one layer between host address `host` and the image."""
    check(driver.cuMemcpy3DAsync(_copy_desc(img, layer, host, to_device), stream),
          "cuMemcpy3DAsync", f"image {'write' if to_device else 'read'}")


def _resource(img: CudaImage):
    res = driver.CUDA_RESOURCE_DESC()
    res.resType = driver.CUresourcetype.CU_RESOURCE_TYPE_ARRAY
    res.res.array.hArray = img.array
    return res


def surface(img: CudaImage) -> int:
    """The image's cudaSurfaceObject_t (made once)."""
    if not img.surface:
        img.surface = int(check(driver.cuSurfObjectCreate(_resource(img)), "cuSurfObjectCreate"))
    return img.surface


def texture(img: CudaImage, sampler: CudaSampler) -> int:
    """The cudaTextureObject_t reading `img` through `sampler` (made once per pair)."""
    tex = img.textures.get(sampler)
    if tex is not None:
        return tex
    if img.integer and sampler.filter == "linear":
        raise UnsupportedFeatureError(
            f"integer images ({img.dtype}) are read with 'nearest' filtering only; "
            f"use a sampler with filter='nearest'")
    desc = driver.CUDA_TEXTURE_DESC()
    desc.addressMode = [ADDRESS_MODES[sampler.address_mode]] * 3
    desc.filterMode = FILTERS[sampler.filter]
    desc.mipmapFilterMode = FILTERS[sampler.mip_filter]
    desc.mipmapLevelBias = sampler.lod_bias
    desc.minMipmapLevelClamp, desc.maxMipmapLevelClamp = sampler.min_lod, sampler.max_lod
    desc.flags = ((driver.CU_TRSF_NORMALIZED_COORDINATES if sampler.normalized else 0)
                  | (driver.CU_TRSF_READ_AS_INTEGER if img.integer else 0))
    desc.borderColor = list(sampler.border_rgba)
    tex = int(check(driver.cuTexObjectCreate(_resource(img), desc, None), "cuTexObjectCreate"))
    img.textures[sampler] = tex
    return tex


def destroy(img: CudaImage) -> None:
    """Free the array and its texture/surface objects (context current); idempotent."""
    if img.freed:
        return
    img.freed = True
    for tex in img.textures.values():
        quiet(driver.cuTexObjectDestroy(tex))
    img.textures.clear()
    if img.surface:
        quiet(driver.cuSurfObjectDestroy(img.surface))
        img.surface = 0
    check(driver.cuArrayDestroy(img.array), "cuArrayDestroy")
