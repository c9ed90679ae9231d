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
    (1, 2 or 4) of `dtype`; exists on every queue like a Buffer."""

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
        """(depth, height, width, channels) trimmed to the image's dimensions (numpy order)."""
        return tuple(reversed(self.shape)) + ((self.channels,) if self.channels > 1 else ())

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

    def write(self, data, layer: int = 0, queue_index: Optional[int] = None) -> None:
        arr = np.ascontiguousarray(_host_array(data, self.dtype, "data"))
        if arr.size != int(np.prod(self.numpy_shape)):
            raise ValueError(f"data of shape {arr.shape} does not fill an image of numpy shape "
                             f"{self.numpy_shape}")
        self._check_layer(layer)
        flush_pending()
        queues = range(self.context.queue_count) if queue_index is None else \
            [self.context.check_queue(queue_index)]
        for q in queues:
            self.context.runtime_context.image_write(self.handle(q), memoryview(arr).cast("B"), layer)
        stats.count("bytes_to_device", arr.nbytes * len(queues))

    def read(self, queue_index: int = 0, layer: int = 0) -> np.ndarray:
        q = self.context.check_queue(queue_index)
        self._check_layer(layer)
        flush_pending()
        out = np.empty(self.numpy_shape, dtype=self.dtype.numpy_dtype)
        self.context.runtime_context.image_read(self.handle(q), memoryview(out).cast("B"), layer)
        stats.count("bytes_from_device", out.nbytes)
        return out

    def _check_layer(self, layer):
        if not isinstance(layer, int) or not 0 <= layer < self.layers:
            raise IndexError(f"layer must be an int in [0, {self.layers}), got {layer!r}")

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
