"""Buffer, image and sampler handles of the OpenCL backend.

A handle belongs to one queue's device (`slot`, the runtime's per-device state) and
releases its cl objects once (`release()` is idempotent). Buffer views used as
bindings are cl sub-buffers, cached on the handle.
"""
from __future__ import annotations

import pyopencl as cl

from ...base import dtype as dt
from ...base.errors import DeviceLimitError, InvalidArgumentError, UnsupportedFeatureError
from ..common import check_range, refuse_sampler_modes
from ._check import error_for


class BufferHandle:
    __slots__ = ("slot", "queue", "nbytes", "memory", "mem", "_views", "freed", "charged")

    def __init__(self, slot, queue: int, nbytes: int, memory: str, mem, charged: int = 0):
        self.slot = slot
        self.queue = queue
        self.nbytes = nbytes
        self.memory = memory
        self.mem = mem
        self._views = {}
        self.freed = False
        self.charged = charged   # bytes counted in the device's MemoryBudget

    def view(self, offset: int, size: int):
        """The cl object covering bytes [offset, offset + size)."""
        if offset == 0 and size == self.nbytes:
            return self.mem
        sub = self._views.get((offset, size))
        if sub is not None:
            return sub
        check_range(offset, size, self.nbytes, "buffer view")
        if size == 0:
            raise InvalidArgumentError("OpenCL has no empty buffer views (size 0)")
        align = self.slot.base_align
        if offset % align:
            raise DeviceLimitError(
                f"buffer view offset {offset} is not a multiple of "
                f"CL_DEVICE_MEM_BASE_ADDR_ALIGN ({align} bytes) on {self.slot.info.name}; "
                f"bind views at offsets that are multiples of {align}")
        try:
            sub = self.mem.get_sub_region(offset, size)
        except cl.Error as exc:
            raise error_for(exc, "clCreateSubBuffer", f"offset {offset}, size {size}") from None
        self._views[(offset, size)] = sub
        return sub

    def release(self) -> None:
        if self.freed:
            return
        self.freed = True
        for sub in self._views.values():
            sub.release()
        self._views.clear()
        self.mem.release()
        self.mem = None
        self.slot.budget.release(self.charged)

    def __repr__(self):
        state = "freed" if self.freed else f"{self.nbytes} bytes"
        return f"<opencl buffer {state} on queue {self.queue}>"


# ----------------------------------------------------------------------------- images

_CHANNEL_TYPE = {
    "float32": cl.channel_type.FLOAT, "float16": cl.channel_type.HALF_FLOAT,
    "int8": cl.channel_type.SIGNED_INT8, "int16": cl.channel_type.SIGNED_INT16,
    "int32": cl.channel_type.SIGNED_INT32, "uint8": cl.channel_type.UNSIGNED_INT8,
    "uint16": cl.channel_type.UNSIGNED_INT16, "uint32": cl.channel_type.UNSIGNED_INT32,
}
# OpenCL's 3-channel orders exist only for packed types (565, 555, 101010)
_CHANNEL_ORDER = {1: cl.channel_order.R, 2: cl.channel_order.RG, 4: cl.channel_order.RGBA}
_ORDER_NAME = {1: "R", 2: "RG", 4: "RGBA"}

# (platform name, order, type) a driver lists but reads wrongly in kernels. PoCL 3.1's
# read_imagef on CL_R/CL_HALF_FLOAT images returns garbage (RGBA half is fine).
_BROKEN_FORMATS = {
    ("Portable Computing Language", cl.channel_order.R, cl.channel_type.HALF_FLOAT),
}

# Platforms whose read_image* through a normalized-coordinate sampler scales an image
# array's layer coordinate too (PoCL 3.1: layer 1 of 4 reads layer 3); OpenCL says the
# layer is never normalized, so such reads would silently take the wrong layer.
_NORMALIZED_LAYER_PLATFORMS = {"Portable Computing Language"}


def samples_layers_right(platform_name: str) -> bool:
    return platform_name.strip() not in _NORMALIZED_LAYER_PLATFORMS


def check_layer_sampling(image, sampler, binding) -> None:
    """UnsupportedFeatureError for a kernel that samples an image array through a
    normalized sampler on a platform that would read the wrong layer."""
    platform = image.slot.platform.name.strip()
    if image.arrayed and binding.filtered and sampler.desc.normalized and \
            not samples_layers_right(platform):
        raise UnsupportedFeatureError(
            f"binding {binding.name!r}: the opencl backend on {platform} cannot sample an image array "
            f"through a normalized-coordinate sampler (it scales the layer coordinate too and "
            f"would read the wrong layer); use texel_fetch or a sampler with normalized=False")


_MOT = cl.mem_object_type
_IMAGE_TYPE = {(1, False): _MOT.IMAGE1D, (1, True): _MOT.IMAGE1D_ARRAY,
               (2, False): _MOT.IMAGE2D, (2, True): _MOT.IMAGE2D_ARRAY,
               (3, False): _MOT.IMAGE3D}
_TYPE_NAME = {1: "image1d", 2: "image2d", 3: "image3d"}


def image_format(slot, dtype: str, channels: int, dim: int, arrayed: bool):
    """The cl.ImageFormat for texels of `channels` x `dtype`, checked against the
    formats the device supports for read-write images of that type."""
    if dtype not in _CHANNEL_TYPE:
        raise UnsupportedFeatureError(
            f"OpenCL images have no {dtype} texels (asked of {slot.info.name}); valid texel "
            f"dtypes: {sorted(_CHANNEL_TYPE)}")
    if channels not in _CHANNEL_ORDER:
        raise UnsupportedFeatureError(
            f"OpenCL images have no {channels}-channel {dtype} format (asked of "
            f"{slot.info.name}); valid channel counts: 1, 2, 4")
    fmt = cl.ImageFormat(_CHANNEL_ORDER[channels], _CHANNEL_TYPE[dtype])
    image_type = _IMAGE_TYPE[(dim, arrayed)]
    if (slot.platform.name, fmt.channel_order, fmt.channel_data_type) in _BROKEN_FORMATS:
        raise UnsupportedFeatureError(
            f"the image format {_ORDER_NAME[channels]} x {dtype} is refused on "
            f"{slot.platform.name} ({slot.platform.version}): its kernels read it wrongly; "
            f"use 4 channels or float32 texels")
    supported = slot.image_formats(image_type)
    if (fmt.channel_order, fmt.channel_data_type) not in supported:
        kind = _TYPE_NAME[dim] + ("_array" if arrayed else "")
        raise UnsupportedFeatureError(
            f"the image format {_ORDER_NAME[channels]} x {dtype} "
            f"(CL_{_ORDER_NAME[channels]}, {cl.channel_type.to_string(fmt.channel_data_type)}) "
            f"is not supported for {kind} on {slot.info.name}")
    return fmt, image_type


def image_bytes(extent, layers: int, dtype: str, channels: int) -> int:
    w, h, d = extent
    return w * h * d * layers * channels * dt.from_name(dtype).itemsize


# (OpenCL image type, arrayed) -> [(axis name, extent index, device limit attribute)]
_IMAGE_LIMITS = {
    1: [("width", 0, "image2d_max_width")],       # 1-D images take the 2-D width limit
    2: [("width", 0, "image2d_max_width"), ("height", 1, "image2d_max_height")],
    3: [("width", 0, "image3d_max_width"), ("height", 1, "image3d_max_height"),
        ("depth", 2, "image3d_max_depth")],
}


def check_image_limits(slot, extent, layers: int, dim: int) -> None:
    """DeviceLimitError naming the CL_DEVICE_IMAGE* limit an image exceeds (PoCL
    answers those with INVALID_OPERATION or INVALID_BUFFER_SIZE)."""
    dev = slot.cl_device
    for axis, i, attr in _IMAGE_LIMITS[dim]:
        most = int(getattr(dev, attr))
        if extent[i] > most:
            raise DeviceLimitError(f"a {dim}-D image of extent {tuple(extent)} is {extent[i]} "
                                   f"texels in {axis}, over CL_DEVICE_{attr.upper()} ({most}) "
                                   f"of {slot.info.name}")
    if layers > 1:
        most = int(dev.image_max_array_size)
        if layers > most:
            raise DeviceLimitError(f"an image array of {layers} layers exceeds "
                                   f"CL_DEVICE_IMAGE_MAX_ARRAY_SIZE ({most}) of {slot.info.name}")


class ImageHandle:
    __slots__ = ("slot", "queue", "extent", "layers", "dtype", "channels", "dim",
                 "arrayed", "mem", "freed", "charged")

    def __init__(self, slot, queue, extent, layers, dtype, channels, dim, arrayed, mem,
                 charged: int = 0):
        self.charged = charged   # bytes counted in the device's MemoryBudget
        self.slot = slot
        self.queue = queue
        self.extent = extent
        self.layers = layers
        self.dtype = dtype
        self.channels = channels
        self.dim = dim
        self.arrayed = arrayed
        self.mem = mem
        self.freed = False

    @property
    def layer_bytes(self) -> int:
        w, h, d = self.extent
        return w * h * d * self.channels * dt.from_name(self.dtype).itemsize

    def region(self, layer: int):
        """(origin, region) of one layer, as clEnqueueRead/WriteImage take them."""
        w, h, d = self.extent
        if not self.arrayed:
            return (0, 0, 0), (w, h, d)
        if self.dim == 1:  # a 1-D array's layer is the second coordinate
            return (0, layer, 0), (w, 1, 1)
        return (0, 0, layer), (w, h, 1)

    def release(self) -> None:
        if self.freed:
            return
        self.freed = True
        self.mem.release()
        self.mem = None
        self.slot.budget.release(self.charged)

    def __repr__(self):
        return (f"<opencl image {self.extent} x {self.layers} layers, {self.channels} x "
                f"{self.dtype}{' (freed)' if self.freed else ''}>")


_FILTER = {"nearest": cl.filter_mode.NEAREST, "linear": cl.filter_mode.LINEAR}
_ADDRESS = {"repeat": cl.addressing_mode.REPEAT,
            "mirrored_repeat": cl.addressing_mode.MIRRORED_REPEAT,
            "clamp_to_edge": cl.addressing_mode.CLAMP_TO_EDGE,
            "clamp_to_border": cl.addressing_mode.CLAMP}


# OpenCL samplers have one filter, and CLK_ADDRESS_CLAMP's border is black (alpha 0,
# or 1 for formats without alpha): no white border
LACKS = {"separate minification and magnification filters (a sampler has one filter "
         "mode)": lambda d: d.filter != d.mag_filter,
         "'mirror_clamp_to_edge' address mode": lambda d: d.address_mode == "mirror_clamp_to_edge",
         "opaque white border colour (CLK_ADDRESS_CLAMP borders are black)":
             lambda d: d.address_mode == "clamp_to_border" and d.border_color.endswith("white")}


class SamplerHandle:
    """One cl.Sampler per device of the context (samplers are per cl context)."""

    __slots__ = ("desc", "samplers", "freed")

    def __init__(self, slots, desc):
        refuse_sampler_modes(desc, "opencl", LACKS)
        self.desc = desc
        self.freed = False
        self.samplers = {}
        try:
            for slot in slots:
                self.samplers[slot] = cl.Sampler(slot.cl_context, desc.normalized,
                                                 _ADDRESS[desc.address_mode], _FILTER[desc.filter])
        except cl.Error as exc:
            self.release()
            raise error_for(exc, "clCreateSampler") from None

    def release(self) -> None:
        self.freed = True
        self.samplers.clear()  # cl.Sampler has no explicit release; dropping it frees it

    def __repr__(self):
        return f"<opencl sampler {self.desc}>"
