"""`vd.Image1D/2D/3D` and `vd.Sampler`: textures kernels can sample, fetch or store to."""
from __future__ import annotations

from typing import Optional

import numpy as np

from . import dtype as dt
from . import stats
from .buffer import _host_array, flush_pending
from .context import Context, get_context
from .errors import VkDispatchError

_TEXEL_TYPES = (dt.float32, dt.float16, dt.int32, dt.uint32, dt.int8, dt.uint8, dt.int16,
                dt.uint16)
FILTERS = ("nearest", "linear")
ADDRESS_MODES = ("repeat", "mirrored_repeat", "clamp_to_edge", "clamp_to_border")


class Sampler:
    """How sampled reads filter and address an image."""

    def __init__(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                 normalized: bool = True, context: Optional[Context] = None):
        if filter not in FILTERS:
            raise ValueError(f"filter must be one of {FILTERS}, got {filter!r}")
        if address_mode not in ADDRESS_MODES:
            raise ValueError(f"address_mode must be one of {ADDRESS_MODES}, got {address_mode!r}")
        if not normalized and address_mode in ("repeat", "mirrored_repeat"):
            # Vulkan, CUDA and OpenCL all forbid it; say so the same way on every backend
            raise ValueError(f"address_mode {address_mode!r} needs normalized coordinates; "
                             f"with normalized=False use 'clamp_to_edge' or 'clamp_to_border'")
        self.filter, self.address_mode, self.normalized = filter, address_mode, bool(normalized)
        self.context = context or get_context()
        self._handle = self.context.runtime_context.sampler_create(filter, address_mode,
                                                                   self.normalized)
        self.context.register(self)

    def handle(self, queue: int):
        if self._handle is None:
            raise VkDispatchError("this sampler has been destroyed")
        return self._handle

    def destroy(self) -> None:
        h, self._handle = self._handle, None
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


class Image:
    """An image of `shape` (width[, height[, depth]]) texels, each `channels` components
    (1, 2 or 4) of `dtype`; exists on every queue like a Buffer.

    Host arrays are laid out as in vkdispatch 0.1: `numpy_shape` is `shape` (after a
    leading layer axis for arrayed images, before a channel axis when channels > 1) and
    holds the texels x fastest, so the texel at (x, y) is `data.ravel()[y * w + x]` for
    one channel (`data[y, x]` when the image is square)."""

    dim = 0

    def __init__(self, shape, dtype=dt.float32, channels: int = 1, layers: int = 1,
                 context: Optional[Context] = None):
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
        if not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers must be a positive int, got {layers!r}")
        self.shape, self.channels, self.layers = shape, channels, layers
        self.extent = shape + (1,) * (3 - len(shape))
        self.context = context or get_context()
        self._handles = []
        self._samplers: dict = {}   # (filter, address_mode, normalized) -> Sampler
        rctx = self.context.runtime_context
        try:
            for q in range(self.context.queue_count):
                self._handles.append(rctx.image_alloc(q, self.extent, layers, self.dtype.name,
                                                      channels, dim=self.dim))
        except BaseException:
            self.destroy()
            raise
        self.context.register(self)

    @property
    def numpy_shape(self) -> tuple:
        """Shape of the host array `read()` returns and `write()` takes: ([layers,] w[, h[,
        d]][, channels]), the same as 0.1's `array_shape`."""
        layer_axis = (self.layers,) if self.layers > 1 else ()
        return layer_axis + self.shape + ((self.channels,) if self.channels > 1 else ())

    array_shape = numpy_shape   # vkdispatch 0.1's name

    def handle(self, queue: int):
        if not self._handles:
            raise VkDispatchError("this image has been destroyed")
        return self._handles[queue]

    def sampler(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                normalized: bool = True):
        """(image, sampler) to pass for a sampled-image parameter. Samplers are made
        once per description and image, so calling this per dispatch costs nothing."""
        key = (filter, address_mode, bool(normalized))
        s = self._samplers.get(key)
        if s is None:
            s = self._samplers[key] = Sampler(filter, address_mode, normalized, self.context)
        return (self, s)

    def default_sampler(self) -> Sampler:
        """The sampler used when the image itself is passed for a sampled parameter:
        linear filtering (nearest for integer texels), clamp to edge, normalized coords."""
        filt = "linear" if self.dtype in (dt.float32, dt.float16) else "nearest"
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
        shape = self.numpy_shape if len(layers) > 1 else self.layer_shape
        arr = self._host_texels(data, shape).reshape((len(layers),) + self.layer_shape)
        flush_pending()
        queues = range(self.context.queue_count) if queue_index is None else \
            [self.context.check_queue(queue_index)]
        rctx = self.context.runtime_context
        for q in queues:
            for k, one in zip(layers, arr):
                rctx.image_write(self.handle(q), memoryview(one).cast("B"), k)
        stats.count("bytes_to_device", arr.nbytes * len(queues))

    def read(self, queue_index: int = 0, layer: Optional[int] = None) -> np.ndarray:
        """Download texels: all layers (`numpy_shape`) or, given `layer`, one."""
        q = self.context.check_queue(queue_index)
        layers = self._layers(layer)
        flush_pending()
        out = np.empty((len(layers),) + self.layer_shape, dtype=self.dtype.numpy_dtype)
        for k, one in zip(layers, out):
            self.context.runtime_context.image_read(self.handle(q), memoryview(one).cast("B"), k)
        stats.count("bytes_from_device", out.nbytes)
        return out.reshape(self.numpy_shape if len(layers) > 1 else self.layer_shape)

    def destroy(self) -> None:
        handles, self._handles = self._handles, []
        self._samplers = {}   # dropped, not destroyed: a caller may still hold one
        for h in handles:
            try:
                self.context.runtime_context.image_free(h)
            except Exception:
                pass

    def __del__(self):
        try:
            if self._handles and not self.context.destroyed:
                self.destroy()
        except Exception:
            pass

    def __repr__(self) -> str:
        return (f"<vd.{type(self).__name__} shape={self.shape} dtype={self.dtype.name} "
                f"channels={self.channels}>")


class Image1D(Image):
    dim = 1


class Image2D(Image):
    dim = 2


class Image3D(Image):
    dim = 3
