"""The compiled kernels of array_api's ops with kernels of their own (sort, scans,
gathers, compaction, linalg): a cache per module, per context, and their launch."""
from __future__ import annotations

import weakref

from ..execution.fusion import _address_limit   # the lazy layer's rule, one place
from ..execution.kernel import EmitOptions, build_kernel


class KernelCache:
    """One module's compiled kernels, per context and key (a module's keys never meet
    another's)."""
    __slots__ = ("_per_ctx",)

    def __init__(self):
        self._per_ctx: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def get(self, ctx, key: tuple, generate, params: tuple = None):
        """The kernel `generate(device)` builds, compiled for `ctx` once per `key`.
        `params`: (buffer parameter name, Buffer bound to it), given where buffers past
        the device's storage-buffer range (lavapipe: 128 MiB) are reached by device
        address; which ones are is part of the key."""
        addressed = ()
        if params is not None:
            limit = _address_limit(ctx.device)
            if limit is not None:
                addressed = tuple(p for p, buf in params if buf.nbytes > limit)
            key = key + (addressed,)
        per_ctx = self._per_ctx.setdefault(ctx, {})
        built = per_ctx.get(key)
        if built is None:
            ir_kernel = generate(ctx.device)
            push = ctx.device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
            built = per_ctx[key] = build_kernel(ctx, ir_kernel, EmitOptions(
                ctx.codegen_target, ir_kernel.name, push, addressed))
        return built


def grid(ctx, groups: int) -> tuple:
    """The workgroup counts of a kernel whose invocations walk the grid's stride:
    `groups` along x, at least 1 and at most the device's limit."""
    return (max(1, min(groups, ctx.device.max_workgroup_count[0])), 1, 1)


def launch(graph, kern, groups: tuple, buffers: list, values: dict) -> None:
    """Record `kern` over `groups` with `buffers`, its uniforms taken by name from
    `values`."""
    packed = kern.packer.pack({name: values[name] for name in kern.uniform_names})
    graph.record_packed(kern, groups, buffers, packed)
