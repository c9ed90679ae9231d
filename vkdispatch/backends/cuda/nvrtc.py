"""CUDA C -> CUBIN through NVRTC, cached in memory and on disk. Needs no GPU.

Cubins are built for one exact architecture (`sm_90`): the GPU machines' driver may be
older than NVRTC and refuse PTX from it, while a cubin loads on any driver.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Optional, Sequence

from ...base import stats
from ...base.cache import DiskCache, MemoryCache, digest, package_version
from ...base.errors import BackendUnavailableError, ShaderCompileError
from ...base.log import logger
from ..buildcache import BuildCache

DEFAULT_OPTIONS = ("-default-device", "--std=c++17")

disk_cache = DiskCache("cubin")
memory_cache = MemoryCache("cubin")
_cubins = BuildCache(memory_cache, disk_cache)

_ARCH = re.compile(r"^sm_(\d+)([af]?)$")


def _nvrtc():
    """The cuda.bindings.nvrtc module, loading libnvrtc (from the nvidia-cuda-nvrtc wheel,
    found by cuda-pathfinder) on first use; a clear error when it is missing."""
    try:
        from cuda.bindings import nvrtc
        nvrtc.nvrtcVersion()  # loads the shared library now, not halfway through a compile
    except Exception as exc:
        raise BackendUnavailableError(
            f"NVRTC is unavailable ({type(exc).__name__}: {exc}); install cuda-bindings and "
            f"nvidia-cuda-nvrtc (pip install 'vkdispatch[cuda]')") from exc
    return nvrtc


def _ok(result, call: str):
    """Unpack a cuda.bindings.nvrtc result tuple, raising on a failure other than a
    compile error (those carry a log and are handled by the caller)."""
    if result[0]:
        raise RuntimeError(f"{call} failed: {result[0].name}")
    return result[1] if len(result) == 2 else result[1:]


@functools.lru_cache(maxsize=None)
def nvrtc_version() -> tuple:
    """(major, minor) of the loaded NVRTC."""
    major, minor = _ok(_nvrtc().nvrtcVersion(), "nvrtcVersion")
    return (int(major), int(minor))


@functools.lru_cache(maxsize=None)
def supported_archs() -> tuple:
    """Architecture numbers NVRTC can build cubins for, e.g. (75, 80, ..., 90, 100)."""
    return tuple(int(a) for a in _ok(_nvrtc().nvrtcGetSupportedArchs(), "nvrtcGetSupportedArchs"))


def _has_fp16(d) -> bool:
    return d is not None and (Path(d) / "cuda_fp16.h").is_file()


@functools.lru_cache(maxsize=None)
def include_dirs() -> tuple:
    """Directories holding the CUDA headers kernels may include (cuda_fp16.h): NVRTC
    bundles none. Found by cuda-pathfinder (nvidia-cuda-runtime wheel, conda, CUDA_HOME),
    else the usual toolkit places; () when none is found, and then kernels that include
    cuda_fp16.h fail to compile with a log saying so."""
    found = []
    try:
        from cuda.pathfinder import find_nvidia_header_directory
        found.append(find_nvidia_header_directory("cudart"))
    except Exception:  # older cuda-pathfinder without header lookup, or nothing found
        pass
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            found.append(os.path.join(os.environ[var], "include"))
    found.append("/usr/local/cuda/include")
    for d in found:
        if _has_fp16(d):
            return (str(d),)
    return ()


def _check_arch(arch: str) -> None:
    m = _ARCH.match(arch)
    if not m or int(m.group(1)) not in supported_archs():
        valid = ", ".join(f"sm_{a}" for a in supported_archs())
        raise ValueError(f"arch must name a real GPU architecture NVRTC "
                         f"{'.'.join(map(str, nvrtc_version()))} supports ({valid}; "
                         f"optionally with an 'a' or 'f' suffix), got {arch!r}")


def _options(arch: str, options: Sequence[str]) -> tuple:
    user = tuple(str(o) for o in options)
    base = tuple(o for o in DEFAULT_OPTIONS
                 if not (o.startswith("--std") and any(u.lstrip("-").startswith("std") for u in user)))
    incs = tuple(f"--include-path={d}" for d in include_dirs())
    return (f"--gpu-architecture={arch}",) + base + incs + user


def cache_key(source: str, arch: str = "sm_90", options: Sequence[str] = ()) -> str:
    """The digest a compile is cached under (printable, for debugging cache misses)."""
    return digest("cubin", source, arch, _options(arch, options), nvrtc_version(),
                  package_version())


def compile_cuda(source: str, *, arch: str = "sm_90", options: Sequence[str] = (),
                 name: str = "kernel.cu") -> bytes:
    """Compile CUDA C++ `source` to a CUBIN for exactly `arch` (e.g. "sm_90").

    Fast math stays off unless `options` asks for it. Results are cached in memory and
    on disk (DiskCache "cubin"), keyed by source, arch, options and NVRTC version.
    Raises ShaderCompileError("NVRTC", source, log) when the source does not compile."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of CUDA C++, got {type(source).__name__}")
    _check_arch(arch)

    def build() -> bytes:
        cubin = _compile(source, arch, _options(arch, options), name)
        stats.count("kernels_compiled")
        return cubin

    return _cubins.get(cache_key(source, arch, options), build)


def _compile(source: str, arch: str, opts: tuple, name: str) -> bytes:
    nvrtc = _nvrtc()
    prog = _ok(nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], []),
               "nvrtcCreateProgram")
    try:
        encoded = [o.encode() for o in opts]
        (status,) = nvrtc.nvrtcCompileProgram(prog, len(encoded), encoded)
        log = _log(nvrtc, prog)
        if status == nvrtc.nvrtcResult.NVRTC_ERROR_COMPILATION:
            raise ShaderCompileError("NVRTC", source, log or status.name)
        if status:
            raise ShaderCompileError("NVRTC", source,
                                     f"nvrtcCompileProgram failed: {status.name}\n{log}")
        if log.strip():
            logger.debug("NVRTC log for %s (%s):\n%s", name, arch, log)
        size = _ok(nvrtc.nvrtcGetCUBINSize(prog), "nvrtcGetCUBINSize")
        buf = bytearray(size)
        (err,) = nvrtc.nvrtcGetCUBIN(prog, buf)
        if err:
            raise RuntimeError(f"nvrtcGetCUBIN failed: {err.name}")
        return bytes(buf)
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def _log(nvrtc, prog) -> str:
    size = _ok(nvrtc.nvrtcGetProgramLogSize(prog), "nvrtcGetProgramLogSize")
    if size <= 1:
        return ""
    buf = bytearray(size)
    nvrtc.nvrtcGetProgramLog(prog, buf)
    return bytes(buf).rstrip(b"\0").decode(errors="replace")


def pick_arch(major: int, minor: int) -> Optional[str]:
    """The cubin arch to build for a device of compute capability major.minor: its own
    when NVRTC supports it, else the newest supported one of the same major version with
    a lower minor (cubins run on later minors of their major). None when there is none."""
    archs = supported_archs()
    own = major * 10 + minor
    if own in archs:
        return f"sm_{own}"
    lower = [a for a in archs if a // 10 == major and a % 10 <= minor]
    return f"sm_{max(lower)}" if lower else None
