"""Emitters: one per target language, all reading the same IR."""
from __future__ import annotations

import importlib

TARGETS = {"glsl": ".glsl:GLSLEmitter", "cuda": ".cuda:CUDAEmitter",
           "opencl": ".opencl:OpenCLEmitter"}
# backend names users may pass to vc.set_codegen_backend
_ALIASES = {"glsl": "glsl", "vulkan": "glsl", "cuda": "cuda", "opencl": "opencl"}


def canonical_target(name: str) -> str:
    try:
        return _ALIASES[name]
    except (KeyError, TypeError):
        raise ValueError(f"codegen backend must be one of 'glsl' (or 'vulkan'), 'cuda', "
                         f"'opencl'; got {name!r}") from None


def emitter_class(target: str):
    module, cls = TARGETS[canonical_target(target)].split(":")
    return getattr(importlib.import_module(module, __name__), cls)


def emit(kernel, target: str, entry_point: str = "vkdispatch_main", push_constant_limit: int = 0,
         address_params=frozenset(), image_formats=None, site_base: int = 0,
         preserve_inf_nan=frozenset()):
    """Source and ProgramInfo of `kernel` for `target`. GLSL puts the uniforms in push
    constants when they fit in `push_constant_limit` bytes (0: always a uniform buffer),
    reaches the buffer parameters named in `address_params` by device address, and
    declares storage images with the formats in `image_formats` ({param: (dtype name,
    channels)}; the other targets need no formats). A kernel that reports out-of-range
    accesses (`kernel.sites`) reports site k as id `site_base + k + 1`. GLSL declares
    that the math of the float widths in `preserve_inf_nan` (of 32, 64) the kernel uses
    keeps infinities, NaNs and signed zeros (SPIR-V's SignedZeroInfNanPreserve; for
    devices that support it)."""
    cls = emitter_class(target)
    if canonical_target(target) == "glsl":
        return cls(kernel, entry_point, push_constant_limit, frozenset(address_params),
                   image_formats, site_base, preserve_inf_nan).emit()
    if address_params:
        raise ValueError(f"address_params: only GLSL passes buffers by address, not {target!r}")
    return cls(kernel, entry_point, site_base).emit()
