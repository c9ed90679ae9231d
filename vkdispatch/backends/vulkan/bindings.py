"""Binding handles of a dispatch -> descriptor writes, validated once per distinct
binding tuple (programs cache the result; it is checked again only after a free).

A binding is a buffer handle, a view (handle, byte_offset, byte_size), an image
handle (storage images) or (image, sampler) (sampled images). The result also names
what the dispatch reads and writes, for hazard-tracked barriers, and the buffer
addresses to write into its uniforms (buffer_address bindings).
"""
from __future__ import annotations

from ...base.errors import (DeviceLimitError, InvalidArgumentError, UnsupportedFeatureError,
                            UseAfterFreeError)
from ..common import check_binding_count, check_range
from ...base.abi import BINDING_BUFFER_ADDRESS, BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE
from ._vk import WHOLE_SIZE
from .images import LINEAR, SAMPLED, STORAGE, ImageHandle, SamplerHandle
from .memory import BufferHandle, buffer_address
from .program import DESCRIPTOR_TYPES

CACHE_LIMIT = 4096      # entries per program: they hold handle objects alive


def resolve(ctx, device, queue: int, program, bindings) -> list:
    """[set key, descriptor writes, serials, handles, free epoch, serials read,
    serials written, address patches] of `bindings` for `program` on `device`; the
    patches are (uniform byte offset, 8 little-endian address bytes)."""
    try:
        ckey = (device.position, *bindings)
        hit = program.binding_cache.get(ckey)
    except TypeError:                  # an unhashable entry: validate below, no caching
        ckey, hit = None, None
    epoch = ctx.free_epoch
    if hit is not None:
        if hit[4] == epoch:
            return hit
        if all(h.alive for h in hit[3]):
            hit[4] = epoch
            return hit
        del program.binding_cache[ckey]
    info = program.info
    check_binding_count(info, bindings)
    keys, writes, serials, handles, patches = [], [], [], [], []
    written = set()
    for b, h in zip(info.bindings, bindings):
        n = len(serials)
        if b.kind == BINDING_BUFFER_ADDRESS:
            patches.append(_address(device, queue, b, h, keys, serials, handles))
        else:
            _bind(device, queue, b, h, keys, writes, serials, handles)
        if b.writable and b.kind in (BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE,
                                     BINDING_BUFFER_ADDRESS):
            written.update(serials[n:])
    entry = [tuple(keys), writes, serials, handles, epoch, frozenset(serials),
             frozenset(written), tuple(patches)]
    if ckey is not None:
        cache = program.binding_cache
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        cache[ckey] = entry
    return entry


def _buffer_view(device, queue: int, b, h) -> tuple:
    """(handle, byte offset, byte size or None for the whole buffer) of a buffer binding."""
    if isinstance(h, tuple):
        if len(h) != 3:
            raise TypeError(f"binding {b.name!r}: a buffer view is (handle, byte_offset, "
                            f"byte_size), got {h!r}")
        handle, offset, size = h
        offset = int(offset)
        size = handle.size - offset if size is None else int(size)
    else:
        handle, offset, size = h, 0, None
    _check_live(device, queue, b, handle, BufferHandle)
    check_range(offset, handle.size - offset if size is None else size, handle.size,
                f"binding {b.name!r}: a view")
    return handle, offset, size


def _address(device, queue: int, b, h, keys, serials, handles) -> tuple:
    if not device.buffer_device_address:
        raise UnsupportedFeatureError(f"binding {b.name!r}: {device.phys.name} lacks "
                                      "bufferDeviceAddress, so buffers cannot be passed by address")
    handle, offset, size = _buffer_view(device, queue, b, h)
    keys.append((handle.serial, offset, size))
    serials.append(handle.serial)
    handle.used = True
    handles.append(handle)
    return b.uniform_offset, (buffer_address(handle) + offset).to_bytes(8, "little")


def _bind(device, queue: int, b, h, keys, writes, serials, handles) -> None:
    kind = b.kind
    if kind in (BINDING_STORAGE_BUFFER, "uniform_buffer"):
        storage = kind == BINDING_STORAGE_BUFFER
        handle, offset, size = _buffer_view(device, queue, b, h)
        whole = size is None
        if whole:
            size = handle.size
        lim = device.phys.limits
        align, limit_name = ((lim.minStorageBufferOffsetAlignment, "minStorageBufferOffsetAlignment")
                             if storage else
                             (lim.minUniformBufferOffsetAlignment, "minUniformBufferOffsetAlignment"))
        if offset % align:
            raise DeviceLimitError(f"binding {b.name!r}: byte offset {offset} is not a multiple "
                                   f"of {limit_name} ({align}) of {device.phys.name}")
        max_range, range_name = ((lim.maxStorageBufferRange, "maxStorageBufferRange") if storage
                                 else (lim.maxUniformBufferRange, "maxUniformBufferRange"))
        if size > max_range:
            raise DeviceLimitError(
                f"binding {b.name!r}: {size} bytes exceed {range_name} ({max_range} bytes) of "
                f"{device.phys.name}; bind views (handle, offset, size) of at most that size")
        keys.append(handle.serial if whole else (handle.serial, offset, size))
        writes.append((b.index, DESCRIPTOR_TYPES[kind],
                       (handle.buffer, offset, size if size else WHOLE_SIZE)))
        serials.append(handle.serial)
        handle.used = True
        handles.append(handle)
    elif kind == BINDING_SAMPLED_IMAGE:
        if not (isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], ImageHandle)
                and isinstance(h[1], SamplerHandle)):
            raise TypeError(f"binding {b.name!r}: a sampled image is (image_handle, "
                            f"sampler_handle), got {h!r}")
        image, sampler = h
        _check_image(device, queue, b, image, SAMPLED, "sampled")
        if not sampler.alive:
            raise UseAfterFreeError(f"binding {b.name!r}: {sampler!r} was freed")
        if "linear" in (sampler.desc.filter, sampler.desc.mag_filter, sampler.desc.mip_filter) \
                and not image.features & LINEAR:
            raise UnsupportedFeatureError(
                f"binding {b.name!r}: {image.format_name} cannot be sampled with linear "
                f"filtering on {device.phys.name}; use a 'nearest' sampler")
        keys.append((image.serial, sampler.serial))
        writes.append((b.index, DESCRIPTOR_TYPES[kind],
                       (sampler.samplers[device.position][1], image.view)))
        serials += (image.serial, sampler.serial)
        handles += (image, sampler)
    elif kind == BINDING_STORAGE_IMAGE:
        _check_image(device, queue, b, h, STORAGE, "storage")
        keys.append(h.serial)
        writes.append((b.index, DESCRIPTOR_TYPES[kind], (None, h.view)))
        serials.append(h.serial)
        handles.append(h)
    else:
        raise ValueError(f"binding {b.name!r}: unknown kind {kind!r}")


def _check_live(device, queue: int, b, handle, kind) -> None:
    """`handle` is a live `kind` handle on this command list's device."""
    if not isinstance(handle, kind):
        raise TypeError(f"binding {b.name!r}: expected a {kind.__name__}, got {handle!r}")
    if not handle.alive:
        raise UseAfterFreeError(f"binding {b.name!r}: {handle!r} was freed")
    if handle.device is not device:
        raise InvalidArgumentError(f"binding {b.name!r}: {handle!r} lives on another device "
                                   f"than this command list's queue {queue}")


def _check_image(device, queue: int, b, image, feature: int, what: str) -> None:
    _check_live(device, queue, b, image, ImageHandle)
    if not image.features & feature:
        raise UnsupportedFeatureError(f"binding {b.name!r}: {image.format_name} cannot be a "
                                      f"{what} image on {device.phys.name}")
    if b.dim and b.dim != image.dim:
        raise ValueError(f"binding {b.name!r} is a {b.dim}-D image, got {image!r}")
    if what == "storage" and image.levels > 1:
        # a storage-image view must have one level
        raise UnsupportedFeatureError(f"binding {b.name!r}: the vulkan backend cannot bind a "
                                      f"mipmapped image ({image.levels} levels) as a storage "
                                      f"image; sample or fetch it instead")
    image.used = True
