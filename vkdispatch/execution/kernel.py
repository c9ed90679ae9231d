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
from typing import Optional

from ..base import stats
from ..base.abi import (BINDING_BUFFER_ADDRESS, BINDING_STORAGE_BUFFER, NO_OPTIONS,
                        ProgramInfo, ProgramOptions, UniformPacker)
from ..base.context import Context
from ..codegen import ir
from ..codegen.emit import emit


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
    `CommandGraph.record` fills it from the bound buffer when the caller does not."""

    __slots__ = ("context", "program", "info", "source", "target", "packer", "binding_names",
                 "uniform_names", "uniform_types", "writes", "bindings_only", "length_fields",
                 "__weakref__")

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

    @property
    def buffer_names(self) -> tuple:
        return tuple(b.name for b in self.info.bindings
                     if b.kind in (BINDING_STORAGE_BUFFER, BINDING_BUFFER_ADDRESS))

    def __repr__(self) -> str:
        return (f"<CompiledKernel {self.info.entry_point} ({self.target}) bindings="
                f"{list(self.binding_names)} uniforms={list(self.uniform_names)}>")


class KernelCache:
    """Compiled kernels of one context by (structural key, emit options). Printable keys
    are the digests of the structure; `len()` counts kernels."""

    def __init__(self):
        self._kernels: dict = {}
        self._lock = threading.Lock()

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
            cache = _caches.setdefault(context, KernelCache())
    return cache


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
                emitted = emit(ir_kernel, options.target, options.entry_point,
                               options.push_constant_limit, options.address_params,
                               {n: (d, c) for n, d, c in options.image_formats})
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
