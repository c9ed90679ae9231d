"""CompiledKernel: the one type every producer of kernels hands to a CommandGraph.

`build_kernel(context, ir_kernel, options)` emits and compiles an IR kernel, cached per
context by the kernel's structure (`ir.structural_key`) and the emit options, so two
Python functions with the same body, or the same expression generated twice by a
library, compile once. The backends' source-keyed memory and disk caches sit beneath.
Hand-written kernels (`vd.ComputePlan`) come from `kernel_from_source`.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
import os
from typing import Optional

import numpy as np

from ..base import dtype as dt
from ..base import stats
from ..base.abi import NO_OPTIONS, ProgramInfo, ProgramOptions, UniformPacker
from ..base.context import Context
from ..codegen import ir, report
from ..codegen.emit import emit


def push_constant_limit(ctx: Context) -> int:
    """Bytes of uniforms a generated Vulkan kernel takes as push constants (0: a uniform
    buffer), the one choice every producer makes. A uniform buffer by default: a
    command list rewrites its frame in place, so a call with a new scalar replays its
    recorded command buffer, where new push constants need a new recording (lavapipe:
    16 -> 9 us per eager call). VKDISPATCH_PUSH_CONSTANTS=1: push constants where they fit."""
    if os.environ.get("VKDISPATCH_PUSH_CONSTANTS", "0") != "1":
        return 0
    return ctx.device.max_push_constant_size


@dataclass(frozen=True)
class EmitOptions:
    """How an IR kernel becomes source: the target language, the entry point, the bytes
    of uniforms GLSL may put in push constants (0: a uniform buffer), the buffer
    parameters reached by device address, and the storage images' formats as
    ((param, dtype name, channels), ...)."""

    target: str
    entry_point: str = "vkdispatch_main"
    push_constant_limit: int = 0
    address_params: tuple = ()
    image_formats: tuple = ()


class CompiledKernel:
    """A program built for one context, with what launching it needs: its ProgramInfo,
    the uniform packer, which bindings it reads and writes, and the source it came from.

    `bindings_only`: the kernel touches memory through its bindings alone (generated
    kernels), so a graph may drop barriers between kernels whose bindings don't
    conflict; hand-written kernels may do anything and keep every barrier.

    `length_fields` maps each hidden uniform `vkd_len_<param>` (a buffer's element
    count, see ir.length_param_name) to the index of binding `<param>`, so that
    `CommandGraph.record` fills it from the bound buffer when the caller does not.

    `debug_binding`: the index of the hidden debug-buffer binding of a kernel that
    reports out-of-range accesses (debug mode), else None; `record` binds the context's
    debug buffer there and the graph checks it after each submit that ran the kernel.
    `plain`: a generated kernel without one (graphs test this one flag per record)."""

    __slots__ = ("context", "program", "info", "source", "target", "packer", "binding_names",
                 "uniform_names", "uniform_types", "writes", "bindings_only", "length_fields",
                 "debug_binding", "plain", "__weakref__")

    def __init__(self, context: Context, program, info: ProgramInfo, source, target: str,
                 bindings_only: bool):
        self.context = context
        self.program = program
        self.info = info
        self.source = source
        self.target = target
        self.packer = UniformPacker(info)
        self.binding_names = tuple(b.name for b in info.bindings)
        self.uniform_names = tuple(f.name for f in info.uniforms)
        self.uniform_types = self.packer.types
        self.writes = frozenset(b.name for b in info.bindings if b.writable)
        self.bindings_only = bindings_only
        index = {name: i for i, name in enumerate(self.binding_names)}
        self.length_fields = {
            name: index[name[len(ir.LENGTH_PREFIX):]] for name in self.uniform_names
            if name.startswith(ir.LENGTH_PREFIX) and name[len(ir.LENGTH_PREFIX):] in index
        } if bindings_only else {}
        self.debug_binding = index.get(ir.DEBUG_PARAM) if bindings_only else None
        self.plain = bindings_only and self.debug_binding is None

    def __repr__(self) -> str:
        return (f"<CompiledKernel {self.info.entry_point} ({self.target}) bindings="
                f"{list(self.binding_names)} uniforms={list(self.uniform_names)}>")


class KernelCache:
    """Compiled kernels of one context by (structural key, emit options). Printable keys
    are the digests of the structure; `len()` counts kernels.

    Debug mode keeps here as well the context's report sites (`sites[id - 1]` is
    (shader name, ir.Site) of site id `id`; a reporting kernel's sites are numbered
    from `site_base`) and its debug buffer (`debug_buffer`)."""

    def __init__(self, context: Optional[Context] = None):
        self._kernels: dict = {}
        self._lock = threading.Lock()
        self._context = weakref.ref(context) if context is not None else lambda: None
        self.sites: list = []
        self._site_bases: dict = {}
        self._debug_buffer = None

    def site_base(self, kernel: ir.Kernel) -> int:
        """Where the ids of `kernel`'s report sites start (one range per shader name and
        sites, so a kernel built again reports with the same ids)."""
        key = (kernel.name, kernel.sites)
        with self._lock:
            base = self._site_bases.get(key)
            if base is None:
                base = self._site_bases[key] = len(self.sites)
                self.sites.extend((kernel.name, site) for site in kernel.sites)
            return base

    def debug_buffer(self):
        """The context's debug buffer (ir.DEBUG_WORDS uint32 words, zero on every queue),
        made on first use."""
        buf = self._debug_buffer
        if buf is None:
            with self._lock:
                buf = self._debug_buffer
                if buf is None:
                    from ..base.buffer import Buffer
                    context = self._context()
                    buf = Buffer((ir.DEBUG_WORDS,), dt.uint32, context=context)
                    zeros = bytes(buf.nbytes)
                    rctx = context.runtime_context
                    for q in range(context.queue_count):   # no host-access hooks:
                        rctx.buffer_write(buf.allocation(q), zeros)  # this runs in record
                    self._debug_buffer = buf
        return buf

    def take_report(self, queues) -> Optional[str]:
        """The first out-of-range access the debug buffer holds on `queues` (after the
        work submitted there so far), as a message, or None; the buffer is zeroed."""
        buf = self._debug_buffer
        if buf is None:
            return None
        rctx = buf.context.runtime_context
        message = None
        for q in queues:
            words = np.frombuffer(bytes(rctx.buffer_read(buf.allocation(q), buf.nbytes)),
                                  np.uint32)
            if words.any():
                rctx.buffer_write(buf.allocation(q), bytes(buf.nbytes))
                if message is None:
                    message = report.describe(self.sites, words)
        return message

    def get(self, key) -> Optional[CompiledKernel]:
        return self._kernels.get(key)

    def put(self, key, kernel: CompiledKernel) -> CompiledKernel:
        with self._lock:
            return self._kernels.setdefault(key, kernel)

    def __len__(self) -> int:
        return len(self._kernels)


_caches: "weakref.WeakKeyDictionary[Context, KernelCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()
_build_lock = threading.RLock()   # one compile of a structure at a time


def kernel_cache(context: Context) -> KernelCache:
    cache = _caches.get(context)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(context, KernelCache(context))
    return cache


def preserves_inf_nan(context: Context) -> frozenset:
    """The float widths (32, 64) whose math GLSL for `context`'s device declares keeps
    infinities, NaNs and signed zeros: those the device supports it for (NVIDIA's
    Vulkan compiler otherwise takes x * inf for 0 and x != x for false, where CUDA and
    OpenCL keep IEEE semantics)."""
    extra = context.device.extra
    return frozenset(bits for bits in (32, 64) if extra.get(f"inf_nan_preserve_float{bits}"))


def build_kernel(context: Context, ir_kernel: ir.Kernel, options: EmitOptions) -> CompiledKernel:
    """The kernel `ir_kernel` compiled for `context` with `options`: from the context's
    cache when a kernel of the same structure was built before (`memory_cache_hits`),
    else emitted and compiled (the backend may still find the binary on disk)."""
    key = (ir.structural_key(ir_kernel), options.target, options.push_constant_limit,
           tuple(sorted(options.address_params)), tuple(sorted(options.image_formats)))
    cache = kernel_cache(context)
    hit = cache.get(key)
    if hit is None:
        with _build_lock:
            hit = cache.get(key)
            if hit is None:
                site_base = cache.site_base(ir_kernel) if ir_kernel.sites else 0
                emitted = emit(ir_kernel, options.target, options.entry_point,
                               options.push_constant_limit, options.address_params,
                               {n: (d, c) for n, d, c in options.image_formats}, site_base,
                               preserves_inf_nan(context))
                program = context.runtime_context.create_program(emitted.source, emitted.info)
                context.register(program)
                return cache.put(key, CompiledKernel(context, program, emitted.info,
                                                     emitted.source, emitted.target, True))
    stats.count("memory_cache_hits")
    return hit


def kernel_from_source(context: Context, source, info: ProgramInfo,
                       options: ProgramOptions = NO_OPTIONS) -> CompiledKernel:
    """A hand-written kernel (GLSL or SPIR-V bytes, CUDA C, OpenCL C) described by `info`."""
    program = context.runtime_context.create_program(source, info, options)
    context.register(program)
    return CompiledKernel(context, program, info, source, context.codegen_target,
                          bindings_only=False)
