"""A built kernel on every device of a context, with its argument plan.

Kernel ABI (what the OpenCL emitter generates): one `__kernel` named
`info.entry_point` whose parameters are the bindings sorted by `Binding.index`
(buffers as `__global T*`; a sampled image as `read_only imageNd_t` followed by a
`sampler_t`; a storage image as `write_only`/`read_write imageNd_t`), then one
by-value parameter per UniformField in `info.uniforms` order, taking `field.size`
bytes of the packed uniform block at `field.offset`.
"""
from __future__ import annotations

import pyopencl as cl

from ...base.errors import DeviceLimitError, InvalidArgumentError, UseAfterFreeError
from ..common import check_kernel_limits
from ..runtime import Program
from ...base.abi import BINDING_SAMPLED_IMAGE, ProgramInfo, check_entry_point
from ._check import error_for
from .compiler import build_program, from_binaries

_WG = cl.kernel_work_group_info
_LIMIT_NAMES = ("CL_DEVICE_MAX_WORK_ITEM_SIZES", "CL_DEVICE_MAX_WORK_GROUP_SIZE",
                "CL_DEVICE_LOCAL_MEM_SIZE")


def argument_plan(info: ProgramInfo):
    """([(position in info.bindings, first parameter index)] in parameter order,
    [(parameter index, offset, size, name)] of the uniforms, parameter count)."""
    order = sorted(range(len(info.bindings)), key=lambda i: info.bindings[i].index)
    plan, arg = [], 0
    for pos in order:
        plan.append((pos, arg))
        arg += 2 if info.bindings[pos].kind == BINDING_SAMPLED_IMAGE else 1
    slots = []
    for field in info.uniforms:
        slots.append((arg, field.offset, field.size, field.name))
        arg += 1
    return plan, slots, arg


def _parameter_list(info: ProgramInfo) -> str:
    names = []
    for b in sorted(info.bindings, key=lambda b: b.index):
        names.append(f"{b.name} ({b.kind})")
        if b.kind == BINDING_SAMPLED_IMAGE:
            names.append(f"{b.name}'s sampler_t")
    names += [f"{f.name} ({f.dtype}, {f.size} bytes)" for f in info.uniforms]
    return ", ".join(names) or "none"


def _std_option(device, options) -> tuple:
    """Ask for the newest OpenCL C the device has (read_write images, subgroup functions
    and mipmapped reads need 2.0+; without -cl-std drivers default to 1.2)."""
    options = tuple(options)
    if any(o.startswith("-cl-std") for o in options):
        return options
    version = getattr(device, "opencl_c_version", "") or ""
    for std in ("3.0", "2.0"):
        if f"OpenCL C {std}" in version:
            return options + (f"-cl-std=CL{std}",)
    return options


class OpenCLProgram(Program):
    def __init__(self, ctx, source: str, info: ProgramInfo, options=()):
        self.ctx = ctx
        self.info = info
        self.source = source
        self.local_size = None
        self.binding_plan, self.uniform_slots, nargs = argument_plan(info)
        self.uniform_end = max((o + s for _, o, s, _ in self.uniform_slots), default=0)
        self._pools = {}
        self._destroyed = False
        check_entry_point(info.entry_point)
        for slot in ctx._slots:
            self.local_size = check_kernel_limits(info, slot.info, _LIMIT_NAMES)
            build_options = _std_option(slot.cl_device, options)
            prg = build_program(slot.cl_context, [slot.cl_device], source, build_options)
            try:
                kernel = self._new_kernel(prg)
                self._check_kernel(slot, kernel, nargs)
            except InvalidArgumentError:
                if not from_binaries(prg):
                    raise
                # a cached binary that lacks the kernel: build the source, once
                prg = build_program(slot.cl_context, [slot.cl_device], source, build_options,
                                    fresh=True)
                kernel = self._new_kernel(prg)
                self._check_kernel(slot, kernel, nargs)
            self._pools[slot] = (prg, [kernel])

    def _new_kernel(self, prg):
        try:
            return cl.Kernel(prg, self.info.entry_point)
        except cl.Error as exc:
            if exc.code == cl.status_code.INVALID_KERNEL_NAME:
                try:
                    names = sorted(n for n in prg.kernel_names.split(";") if n)
                except cl.Error:
                    names = []
                raise InvalidArgumentError(
                    f"no __kernel named {self.info.entry_point!r} in the program; it has "
                    f"{names or 'no kernels'} (ProgramInfo.entry_point names the kernel to run)"
                ) from None
            raise error_for(exc, "clCreateKernel", self.info.entry_point) from None

    def _check_kernel(self, slot, kernel, nargs: int) -> None:
        dev, info = slot.info, self.info
        if kernel.num_args != nargs:
            raise InvalidArgumentError(
                f"the __kernel {info.entry_point!r} takes {kernel.num_args} parameters, but its "
                f"ProgramInfo describes {nargs}: {_parameter_list(info)}")
        invocations = self.local_size[0] * self.local_size[1] * self.local_size[2]
        limit = kernel.get_work_group_info(_WG.WORK_GROUP_SIZE, slot.cl_device)
        if invocations > limit:
            raise DeviceLimitError(
                f"local size {self.local_size} ({invocations} work-items) exceeds the "
                f"CL_KERNEL_WORK_GROUP_SIZE of {info.entry_point!r} on {dev.name} ({limit})")
        local_mem = kernel.get_work_group_info(_WG.LOCAL_MEM_SIZE, slot.cl_device)
        if local_mem > dev.max_shared_memory:
            raise DeviceLimitError(
                f"the kernel {info.entry_point!r} uses {local_mem} bytes of local memory "
                f"(CL_KERNEL_LOCAL_MEM_SIZE); CL_DEVICE_LOCAL_MEM_SIZE of {dev.name} is "
                f"{dev.max_shared_memory}")

    # Creating a cl.Kernel costs ~90 us on PoCL, so kernels of reset command lists
    # go back to a pool for the next recording.
    def take_kernel(self, slot):
        if self._destroyed:
            raise UseAfterFreeError(f"the program {self.info.entry_point!r} was destroyed")
        prg, pool = self._pools[slot]
        try:
            return pool.pop()
        except IndexError:
            return self._new_kernel(prg)

    def give_kernels(self, slot, kernels) -> None:
        if not self._destroyed:
            self._pools[slot][1].extend(kernels)

    @property
    def freed(self) -> bool:
        return self._destroyed

    def destroy(self) -> None:
        # command lists that use the program refuse to submit afterwards (as on every
        # backend); work already enqueued keeps its kernels
        self._destroyed = True
        self._pools.clear()
        self.ctx._forget_program(self)

    def __repr__(self):
        return f"<opencl program {self.info.entry_point!r} local {self.local_size}>"
