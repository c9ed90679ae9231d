"""`vd.Image1D/2D/3D`, `vd.Image2DArray` and `vd.Sampler`: textures kernels can sample, fetch or store to."""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from . import dtype as dt
from . import stats
from .buffer import _host_array, flush_pending, flushing
from .context import Context, get_context
from .errors import UseAfterFreeError
from .mipmaps import mip_chain
from .image_types import (AddressMode, BorderColor, Filter, image_format, image_type,
                          image_view_type, select_image_format)
from .sampling import SamplerDesc

_TEXEL_TYPES = (dt.float32, dt.float16, dt.int32, dt.uint32, dt.int8, dt.uint8, dt.int16,
                dt.uint16)
_FLOAT_TEXELS = (dt.float32, dt.float16)


def _mode(value, enum, name: str) -> str:
    """A vd.Filter/AddressMode/BorderColor member or its lower-case name, as the name."""
    if isinstance(value, enum):
        return value.name.lower()
    if isinstance(value, str):
        return value                 # SamplerDesc says which names are valid
    raise TypeError(f"{name} must be a vd.{enum.__name__} or its name as a string "
                    f"(e.g. {list(enum)[0].name.lower()!r}), got {value!r}")


class Sampler:
    """How sampled reads filter and address an image.

    `image.sample(...)` (vkdispatch 0.1's form) makes one bound to that image, which a
    shader takes in place of the image; `image.sampler(...)` gives (image, sampler).
    Either way the device sampler is made once per image and description. A Sampler made
    without an image is passed as (image, sampler). Modes take vd.Filter / vd.AddressMode /
    vd.BorderColor members or their lower-case names; filters (mip_filter too) default to
    linear for float texels and nearest for integer ones (which cannot be filtered)."""

    def __init__(self, image: Optional["Image"] = None, mag_filter=None, min_filter=None,
                 mip_filter=None, address_mode=AddressMode.CLAMP_TO_EDGE,
                 mip_lod_bias: float = 0.0, min_lod: float = 0.0, max_lod: float = 0.0,
                 border_color=BorderColor.FLOAT_OPAQUE_WHITE, *, normalized: bool = True,
                 context: Optional[Context] = None):
        if image is not None and not isinstance(image, Image):
            raise TypeError(f"image must be a vd.Image or None, got {type(image).__name__}")
        default = "linear" if image is None or image.dtype in _FLOAT_TEXELS else "nearest"
        pick = (lambda v, e, n, d: d if v is None else _mode(v, e, n))
        desc = SamplerDesc(
            pick(min_filter, Filter, "min_filter", default),
            _mode(address_mode, AddressMode, "address_mode"), normalized,
            mag_filter=pick(mag_filter, Filter, "mag_filter", default),
            mip_filter=pick(mip_filter, Filter, "mip_filter",
                            default if normalized else "nearest"),
            border_color=_mode(border_color, BorderColor, "border_color"),
            lod_bias=mip_lod_bias, min_lod=min_lod, max_lod=max_lod)
        self.desc, self.image, self._handle, self._owner = desc, image, None, None
        if image is not None:
            self.context = image.context
            self._owner = image._sampler_for(desc)
        else:
            self._make(desc, context or get_context())

    @classmethod
    def _unbound(cls, desc: SamplerDesc, context: Context) -> "Sampler":
        s = cls.__new__(cls)
        s.desc, s.image, s._handle, s._owner = desc, None, None, None
        s._make(desc, context)
        return s

    def _make(self, desc: SamplerDesc, context: Context) -> None:
        self.context = context
        self._handle = context.runtime_context.sampler_create(**dataclasses.asdict(desc))
        context.register(self)

    filter = property(lambda self: self.desc.filter)
    address_mode = property(lambda self: self.desc.address_mode)
    normalized = property(lambda self: self.desc.normalized)

    def handle(self, queue: int):
        if self._owner is not None:
            return self._owner.handle(queue)
        if self._handle is None:
            raise UseAfterFreeError("this sampler has been destroyed")
        return self._handle

    def sampled_binding(self) -> tuple:
        """(image, sampler) of a sampled-image binding given this sampler alone."""
        if self.image is None:
            raise TypeError("a vd.Sampler made without an image cannot stand for one; pass "
                            "(image, sampler) or image.sample(...)")
        return (self.image, self)

    def destroy(self) -> None:
        """Free the device sampler (one bound to an image only lets go of it: the image
        frees its samplers)."""
        h, self._handle, self._owner = self._handle, None, None
        if h is not None:
            try:
                self.context.runtime_context.sampler_free(h)
            except Exception:
                pass

    def __del__(self):
        try:
            if self._handle is not None and not self.context.destroyed:
                self.destroy()
        except Exception:
            pass

    def __repr__(self) -> str:
        on = f" of {self.image!r}" if self.image is not None else ""
        return f"<vd.Sampler {self.desc}{on}>"


class Image:
    """An image of `shape` (width[, height[, depth]]) texels, each `channels` components
    (1, 2 or 4) of `dtype`; exists on every queue like a Buffer.

    Host arrays are laid out as in vkdispatch 0.1: `numpy_shape` is `shape` (after a
    leading layer axis for arrayed images, before a channel axis when channels > 1) and
    holds the texels x fastest, so the texel at (x, y) is `data.ravel()[y * w + x]` for
    one channel (`data[y, x]` when the image is square)."""

    dim = 0
    arrayed = False   # shaders index the layers (Image2DArray); else layers are host-only

    def __init__(self, shape, dtype=dt.float32, channels: int = 1, enable_mipmaps: bool = False,
                 *, layers: int = 1, context: Optional[Context] = None):
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        if len(shape) != self.dim:
            raise ValueError(f"{type(self).__name__} needs a shape of {self.dim} int(s), got {shape}")
        if any(s < 1 for s in shape):
            raise ValueError(f"image extents must be >= 1, got {shape}")
        self.dtype = dt.to_dtype(dtype)
        if self.dtype not in _TEXEL_TYPES:
            raise TypeError(f"image texels must be one of {[t.name for t in _TEXEL_TYPES]}, "
                            f"got {self.dtype.name}")
        if channels not in (1, 2, 4):
            raise ValueError(f"channels must be 1, 2 or 4, got {channels!r}")
        if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1:
            raise ValueError(f"layers must be a positive int, got {layers!r}")
        context = context or get_context()
        layers = int(layers)
        # a full chain, as 0.1 made: each write fills every level (see mipmaps.py)
        self.levels = max(shape).bit_length() if enable_mipmaps else 1
        self.shape, self.channels, self.layers = shape, channels, layers
        self.arrayed = type(self).arrayed or layers > 1
        self.extent = shape + (1,) * (3 - len(shape))
        self.context = context
        self._handles = []
        self._samplers: dict = {}   # SamplerDesc -> the Sampler this image made for it
        rctx = self.context.runtime_context
        try:
            for q in range(self.context.queue_count):
                extra = {"levels": self.levels} if self.levels > 1 else {}
                self._handles.append(rctx.image_alloc(q, self.extent, layers, self.dtype.name,
                                                      channels, dim=self.dim,
                                                      arrayed=self.arrayed, **extra))
        except BaseException:
            self._free_now()
            raise
        self.context.register(self)

    @property
    def numpy_shape(self) -> tuple:
        """Shape of the host array `read()` returns and `write()` takes: ([layers,] w[, h[,
        d]][, channels]), the same as 0.1's `array_shape`."""
        layer_axis = (self.layers,) if self.arrayed else ()
        return layer_axis + self.shape + ((self.channels,) if self.channels > 1 else ())

    array_shape = numpy_shape   # vkdispatch 0.1's name

    # vkdispatch 0.1's descriptive attributes
    @property
    def format(self) -> image_format:
        return select_image_format(self.dtype, self.channels)

    @property
    def type(self) -> image_type:
        return (image_type.TYPE_1D, image_type.TYPE_2D, image_type.TYPE_3D)[self.dim - 1]

    @property
    def view_type(self) -> image_view_type:
        if self.arrayed:
            return image_view_type[f"VIEW_TYPE_{self.dim}D_ARRAY"]
        return image_view_type[f"VIEW_TYPE_{self.dim}D"]

    @property
    def block_size(self) -> int:
        """Bytes per texel."""
        return self.dtype.itemsize * self.channels

    @property
    def mem_size(self) -> int:
        """Bytes of all texels (every layer)."""
        return int(np.prod(self.numpy_shape[:-1] if self.channels > 1 else self.numpy_shape)
                   ) * self.block_size

    def handle(self, queue: int):
        if not self._handles:
            raise UseAfterFreeError("this image has been destroyed")
        return self._handles[queue]

    def _sampler_for(self, desc: SamplerDesc) -> Sampler:
        s = self._samplers.get(desc)
        if s is None:
            s = self._samplers[desc] = Sampler._unbound(desc, self.context)
        return s

    def sampler(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                normalized: bool = True, **details):
        """(image, sampler) to pass for a sampled-image parameter; `details` are
        SamplerDesc's other fields (mag_filter, border_color, ...). Samplers are made
        once per description and image, so calling this per dispatch costs nothing."""
        details.setdefault("mip_filter", "nearest")
        return (self, self._sampler_for(SamplerDesc(filter, address_mode, normalized,
                                                    **details)))

    def sample(self, mag_filter=None, min_filter=None, mip_filter=None,
               address_mode=AddressMode.CLAMP_TO_EDGE, mip_lod_bias: float = 0.0,
               min_lod: float = 0.0, max_lod: float = 0.0,
               border_color=BorderColor.FLOAT_OPAQUE_WHITE) -> Sampler:
        """vkdispatch 0.1's form: a Sampler bound to this image, passed to a shader in
        its place (see vd.Sampler for the arguments)."""
        return Sampler(self, mag_filter, min_filter, mip_filter, address_mode, mip_lod_bias,
                       min_lod, max_lod, border_color)

    def sampled_binding(self) -> tuple:
        """(image, sampler) of a sampled-image binding given the image itself."""
        return (self, self.default_sampler())

    def default_sampler(self) -> Sampler:
        """The sampler used when the image itself is passed for a sampled parameter:
        linear filtering (nearest for integer texels), clamp to edge, normalized coords."""
        filt = "linear" if self.dtype in _FLOAT_TEXELS else "nearest"
        return self.sampler(filt, "clamp_to_edge", True)[1]

    @property
    def layer_shape(self) -> tuple:
        """Host shape of one layer: `numpy_shape` without the layer axis."""
        return self.shape + ((self.channels,) if self.channels > 1 else ())

    def _host_texels(self, data, shape) -> np.ndarray:
        """`data` as contiguous texels of `shape`: an array of exactly that shape, a flat
        array of as many values, or bytes of the image's size (0.1 took bytes too)."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = memoryview(data).cast("B")
            want = int(np.prod(shape)) * self.dtype.itemsize
            if raw.nbytes != want:
                raise ValueError(f"data holds {raw.nbytes} bytes; the image takes {want} "
                                 f"({shape} x {self.dtype.name})")
            return np.frombuffer(raw, self.dtype.numpy_dtype).reshape(shape)
        arr = np.ascontiguousarray(_host_array(data, self.dtype, "data"))
        if arr.shape != shape and not (arr.ndim == 1 and arr.size == int(np.prod(shape))):
            raise ValueError(f"data of shape {arr.shape} does not fill an image of numpy shape "
                             f"{shape} ((width[, height[, depth]])[, channels]; or flat, "
                             f"x fastest)")
        return arr.reshape(shape)

    def _layers(self, layer) -> range:
        if layer is None:
            return range(self.layers)
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.layers:
            raise IndexError(f"layer must be an int in [0, {self.layers}) or None (all), "
                             f"got {layer!r}")
        return range(int(layer), int(layer) + 1)

    def write(self, data, layer: Optional[int] = None, queue_index: Optional[int] = None) -> None:
        """Upload texels: all layers (`numpy_shape`) or, given `layer`, one (`layer_shape`)."""
        layers = self._layers(layer)
        shape = self.numpy_shape if layer is None else self.layer_shape
        arr = self._host_texels(data, shape).reshape((len(layers),) + self.layer_shape)
        flush_pending()
        queues = range(self.context.queue_count) if queue_index is None else \
            [self.context.check_queue(queue_index)]
        rctx = self.context.runtime_context
        for k, one in zip(layers, arr):
            for level, texels in enumerate(self._levels_of(one)):
                for q in queues:
                    extra = {"level": level} if level else {}
                    rctx.image_write(self.handle(q), memoryview(texels).cast("B"), k, **extra)
        stats.count("bytes_to_device", arr.nbytes * len(queues))

    def _levels_of(self, layer: np.ndarray) -> list:
        """The texels of every mip level of one layer, each contiguous, x fastest."""
        if self.levels == 1:
            return [layer]
        picture = layer.reshape(tuple(reversed(self.shape)) + layer.shape[self.dim:])
        integer = self.dtype not in _FLOAT_TEXELS
        return [np.ascontiguousarray(level)
                for level in mip_chain(picture, self.dim, self.levels, integer)]

    def read(self, queue_index: int = 0, layer: Optional[int] = None,
             level: int = 0) -> np.ndarray:
        """Download texels: all layers (`numpy_shape`) or, given `layer`, one; of mip
        `level` (0, the full-size image, unless mipmaps are enabled), whose shape halves
        along each axis (to 1) per level."""
        q = self.context.check_queue(queue_index)
        layers = self._layers(layer)
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or \
                not 0 <= level < self.levels:
            raise IndexError(f"level must be an int in [0, {self.levels}), got {level!r}")
        flush_pending()
        shape = tuple(max(1, s >> level) for s in self.shape)
        per_layer = shape + ((self.channels,) if self.channels > 1 else ())
        out = np.empty((len(layers),) + per_layer, dtype=self.dtype.numpy_dtype)
        extra = {"level": int(level)} if level else {}
        for k, one in zip(layers, out):
            self.context.runtime_context.image_read(self.handle(q), memoryview(one).cast("B"),
                                                    k, **extra)
        stats.count("bytes_from_device", out.nbytes)
        return out if layer is None and self.arrayed else out[0]

    def destroy(self) -> None:
        """Free the image (idempotent); work recorded so far that uses it is submitted
        first, and the memory is reused once that work is done."""
        if self._handles and not self.context.closing and not flushing():
            flush_pending()
        self._free_now()

    def _free_now(self) -> None:
        handles, self._handles = self._handles, []
        self._samplers = {}   # dropped, not destroyed: a caller may still hold one
        for h in handles:
            try:
                self.context.runtime_context.image_free(h)
            except Exception:
                pass

    def __del__(self):
        try:   # unreferenced, so no record uses it
            if self._handles and not self.context.destroyed:
                self._free_now()
        except Exception:
            pass

    def __class_getitem__(cls, item):
        raise TypeError(f"vd.{cls.__name__}[...] is not a type annotation; annotate shader "
                        f"parameters with vc.{cls.__name__}[...] (Img{cls.dim}"
                        f"{'Array' if cls.arrayed else ''}[...])")

    def __repr__(self) -> str:
        return (f"<vd.{type(self).__name__} shape={self.shape} dtype={self.dtype.name} "
                f"channels={self.channels}>")


class Image1D(Image):
    dim = 1


class Image2D(Image):
    dim = 2


class Image3D(Image):
    dim = 3


class Image2DArray(Image):
    """`layers` 2-D images of `shape` (width, height) that a shader parameter
    `vc.Image2DArray[...]` (`Img2Array`) samples or fetches at (x, y, layer)."""

    dim = 2
    arrayed = True

    def __init__(self, shape, layers: int, dtype=dt.float32, channels: int = 1,
                 enable_mipmaps: bool = False, *, context: Optional[Context] = None):
        super().__init__(shape, dtype, channels, enable_mipmaps, layers=layers, context=context)
