"""Devices and `__array_namespace_info__()`: the context's device is the namespace's
device; defaults and dtypes follow what it supports."""
from __future__ import annotations

from ..base.context import get_context
from . import _dtypes as d


class Device:
    """The device of a vkdispatch context (compared by context)."""
    __slots__ = ("context",)

    def __init__(self, context):
        self.context = context

    @property
    def info(self):
        return self.context.device

    @property
    def target(self) -> str:
        return self.context.codegen_target

    def __eq__(self, other) -> bool:
        return isinstance(other, Device) and other.context is self.context

    __hash__ = object.__hash__     # one Device per context (default_device keeps it)

    def __repr__(self) -> str:
        return f"<vkdispatch Device {self.info.name!r} ({self.context.backend})>"


_devices: dict = {}


def default_device() -> Device:
    ctx = get_context()
    dev = _devices.get(id(ctx))
    if dev is None or dev.context is not ctx:
        _devices.clear()
        dev = _devices[id(ctx)] = Device(ctx)
    return dev


def resolve_device(device) -> Device:
    dev = default_device()
    if device is not None and device != dev:
        raise ValueError(f"device {device!r} is not this namespace's device {dev!r} "
                         f"(one device per vkdispatch context)")
    return dev


def default_float(device: Device):
    return d.float32


def default_int(device: Device):
    return d.int64 if device.info.int64 else d.int32


def supported(device: Device) -> tuple:
    info = device.info
    out = []
    for t in d.ALL:
        if t in (d.float64, d.complex128) and not info.float64:
            continue
        if t in (d.int64, d.uint64) and not info.int64:
            continue
        if t in (d.int16, d.uint16) and not info.int16:
            continue
        if t in (d.int8, d.uint8) and not info.int8:
            continue
        out.append(t)
    return tuple(out)


_KINDS = {"bool": (d.bool,), "signed integer": d.SIGNED, "unsigned integer": d.UNSIGNED,
          "integral": d.INTEGER, "real floating": d.REAL_FLOATING,
          "complex floating": d.COMPLEX, "numeric": d.NUMERIC}


class Info:
    """What `__array_namespace_info__()` returns."""

    def capabilities(self) -> dict:
        return {"boolean indexing": False, "data-dependent shapes": False,
                "max dimensions": None}

    def default_device(self) -> Device:
        return default_device()

    def devices(self) -> list:
        return [default_device()]

    def default_dtypes(self, *, device=None) -> dict:
        dev = resolve_device(device)
        return {"real floating": default_float(dev), "complex floating": d.complex64,
                "integral": default_int(dev), "indexing": default_int(dev)}

    def dtypes(self, *, device=None, kind=None) -> dict:
        avail = supported(resolve_device(device))
        if kind is None:
            chosen = avail
        else:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            chosen = []
            for k in kinds:
                if isinstance(k, str):
                    if k not in _KINDS:
                        raise ValueError(f"unknown dtype kind {k!r}; valid: {sorted(_KINDS)}")
                    chosen.extend(_KINDS[k])
                else:
                    chosen.append(k)
            chosen = [t for t in avail if any(t is c for c in chosen)]
        return {t.name if t is not d.bool else "bool": t for t in chosen}


def __array_namespace_info__() -> Info:
    return Info()
