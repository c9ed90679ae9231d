"""OpenCL program builds behind two caches.

`MEMORY_CACHE` holds built programs of live contexts; `DISK_CACHE` holds the device
binaries a platform hands back (clGetProgramInfo(CL_PROGRAM_BINARIES)), keyed per
device by digest(source, options, platform name + version (PoCL's names its LLVM),
device name, driver version, vkdispatch version). A binary the driver refuses is a miss: the
source is built instead; a program from binaries that lacks its kernel is built again
from source with `build_program(..., fresh=True)`, which replaces the entries. (PoCL
aborts on a truncated or corrupted binary of its own format: the checksum and the
driver's identity in the key are what keep those out.)
"""
from __future__ import annotations

import functools
import threading
import warnings
import weakref
from typing import Sequence

from ...base import stats
from ...base.cache import DiskCache, MemoryCache, digest, package_version
from ...base.errors import BackendUnavailableError, ShaderCompileError
from ...base.log import log_debug
from ..buildcache import BuildCache

try:
    import pyopencl as cl
except ImportError as _exc:  # build_opencl reports it; the runtime never loads without it
    cl = None
    _IMPORT_ERROR = _exc

DISK_CACHE = DiskCache("opencl")


class ProgramCache(MemoryCache):
    """Built programs keyed by (cl context pointer, build digest); thread-safe.
    A cached program retains its cl context, so a pointer cannot be reused while its
    entries live; `forget_context` drops them when the context is destroyed."""

    def __init__(self):
        super().__init__("opencl programs")

    def forget_context(self, cl_context) -> None:
        ptr = cl_context.int_ptr
        with self._lock:
            for key in [k for k in self._data if k[0] == ptr]:
                del self._data[key]


MEMORY_CACHE = ProgramCache()
_PROGRAMS = BuildCache(MEMORY_CACHE)   # disk entries are per device: see _from_binaries
# warnings filters are process-global: one build changes them at a time
_WARNINGS_LOCK = threading.Lock()


def device_identity(device) -> tuple:
    """What a device binary depends on besides the source and options."""
    platform = device.platform
    return (platform.name, platform.version, device.name, device.driver_version)


def disk_key(source: str, opts: str, device) -> str:
    """The printable key of `device`'s binary of `source` built with `opts`."""
    return digest("opencl-binary", source, opts, *device_identity(device), package_version())


def _options_string(options) -> str:
    if isinstance(options, str):
        return options
    return " ".join(str(o) for o in options)


def build_program(cl_context, devices: Sequence, source: str, options=(), fresh: bool = False):
    """A built `pyopencl.Program` of `source` for `devices` of `cl_context`.
    `fresh`: build the source even when cached (what was cached proved bad).
    Raises ShaderCompileError with the build log when the source does not compile."""
    devices = list(devices)
    opts = _options_string(options)
    mem_key = (cl_context.int_ptr,
               digest(source, opts, *(device_identity(d) for d in devices)))

    def build():
        disk_keys = [disk_key(source, opts, d) for d in devices]
        raw = None if fresh else _from_binaries(cl_context, devices, disk_keys, opts)
        if raw is not None:
            return _mark(cl.Program(raw), True)
        raw = _from_source(cl_context, devices, source, opts)
        stats.count("kernels_compiled")
        _store_binaries(raw, devices, disk_keys)
        return _mark(cl.Program(raw), False)

    return _PROGRAMS.get(mem_key, build, fresh=fresh)


_FROM_BINARIES = set()     # ids of live programs loaded from cached binaries


def _mark(program, from_binaries: bool):
    if from_binaries:
        _FROM_BINARIES.add(id(program))
        weakref.finalize(program, _FROM_BINARIES.discard, id(program))
    return program


def from_binaries(program) -> bool:
    """Whether `program` was loaded from cached binaries (not built from its source)."""
    return id(program) in _FROM_BINARIES


def _build(raw, opts: str, devices) -> None:
    # pyopencl turns a non-empty log of a successful build into a CompilerWarning;
    # the log is kept at debug level instead.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", cl.CompilerWarning)
        raw.build(opts.encode(), devices)


def _from_binaries(cl_context, devices, keys, opts: str):
    blobs = [DISK_CACHE.get(k) for k in keys]
    if any(b is None for b in blobs):
        return None
    try:
        raw = cl._Program(cl_context, devices, blobs)
        _build(raw, opts, devices)
    except cl.Error as exc:  # a stale or foreign binary: build the source instead
        log_debug("opencl: cached binary refused (%s); building from source", exc)
        return None
    log_debug("opencl: program loaded from the disk cache")
    return raw


def _from_source(cl_context, devices, source: str, opts: str):
    raw = cl._Program(cl_context, source)
    try:
        _build(raw, opts, devices)
    except cl.Error as exc:
        logs = []
        for dev in devices:
            try:
                logs.append(raw.get_build_info(dev, cl.program_build_info.LOG).strip())
            except cl.Error:
                pass
        log = "\n".join(entry for entry in logs if entry) or str(exc)
        if opts:
            log += f"\n(build options: {opts})"
        platform = devices[0].platform.name if devices else "no device"
        raise ShaderCompileError(f"OpenCL ({platform})", source, log) from None
    return raw


def _store_binaries(raw, devices, keys) -> None:
    try:
        binaries = raw.get_info(cl.program_info.BINARIES)
    except cl.Error:  # the platform keeps no binaries: nothing to cache
        return
    for key, blob in zip(keys, binaries):
        if blob:
            DISK_CACHE.put(key, bytes(blob))


@functools.lru_cache(maxsize=1)
def _first_device():
    if cl is None:
        raise BackendUnavailableError(f"pyopencl is not importable: {_IMPORT_ERROR}")
    try:
        platforms = cl.get_platforms()
    except cl.Error as exc:
        raise BackendUnavailableError(f"no OpenCL platform: {exc}") from None
    for platform in platforms:
        try:
            devices = platform.get_devices()
        except cl.Error:
            continue
        if devices:
            return cl.Context([devices[0]]), devices[0]
    raise BackendUnavailableError("the OpenCL platforms report no device")


def build_opencl(source: str, options=()) -> None:
    """Build `source` on the first OpenCL device (for codegen tests): raises
    ShaderCompileError on a build failure, BackendUnavailableError without OpenCL."""
    cl_context, device = _first_device()
    build_program(cl_context, [device], source, options)


def clear_memory_cache() -> None:
    """Forget every built program held in memory (the disk cache stays)."""
    MEMORY_CACHE.clear()
