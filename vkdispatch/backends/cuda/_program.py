"""A compiled kernel: one cubin module per device of the context, and its parameter layout.

Kernel ABI (what the CUDA emitter generates):
    extern "C" __global__ void <entry_point>(<bindings by Binding.index>, <uniform fields>)
Storage/uniform buffers are `T*` device pointers, sampled images `cudaTextureObject_t`,
storage images `cudaSurfaceObject_t` (all 8 bytes); then one by-value parameter per
UniformField, each `field.size` bytes at `field.offset` of the packed uniform bytes.
"""
from __future__ import annotations

from cuda.bindings import driver

from ...base.errors import DeviceError, DeviceLimitError
from ..common import check_kernel_limits
from ..runtime import Program
from ...base.abi import ProgramInfo
from . import nvrtc
from ._check import check, quiet
from ._device import KERNEL_PARAM_BYTES

FA = driver.CUfunction_attribute


class ParamLayout:
    """Where each kernel parameter's bytes live in a dispatch's argument arena:
    8-byte binding slots in parameter order first, then the packed uniform block."""

    def __init__(self, info: ProgramInfo):
        self.binding_order = sorted(range(len(info.bindings)), key=lambda i: info.bindings[i].index)
        self.slot_of = [0] * len(info.bindings)      # info.bindings position -> slot number
        for slot, i in enumerate(self.binding_order):
            self.slot_of[i] = slot
        self.uniform_offset = 8 * len(info.bindings)
        need = max((f.offset + f.size for f in info.uniforms), default=0)
        self.uniform_needed = need
        self.uniform_size = max(info.uniform_size, need)
        self.arena_size = self.uniform_offset + self.uniform_size
        # byte offset in the arena of each kernel parameter, in kernel order
        self.param_offsets = ([8 * s for s in range(len(info.bindings))]
                              + [self.uniform_offset + f.offset for f in info.uniforms])
        self.param_sizes = [8] * len(info.bindings) + [f.size for f in info.uniforms]


class CudaProgram(Program):
    def __init__(self, context, source: str, info: ProgramInfo, build_flags: tuple = ()):
        self.info = info
        self.source = source
        self.context = context
        self.layout = ParamLayout(info)
        if sum(self.layout.param_sizes) > KERNEL_PARAM_BYTES:
            raise DeviceLimitError(f"kernel parameters take {sum(self.layout.param_sizes)} bytes; "
                                   f"the limit (max_push_constant_size) is {KERNEL_PARAM_BYTES}")
        self.local_size = None
        self.modules = {}      # device position -> CUmodule
        self.functions = {}    # device position -> CUfunction
        self.destroyed = False
        try:
            for pos, dev in enumerate(context._devices):
                self.local_size = check_kernel_limits(info, dev.info)
                self._load(pos, dev, nvrtc.compile_cuda(source, arch=dev.arch(),
                                                        options=build_flags))
        except BaseException:
            self.destroy()
            raise

    def _load(self, pos: int, dev, cubin: bytes) -> None:
        name = self.info.entry_point
        with dev.guard:
            self.modules[pos] = module = check(driver.cuModuleLoadData(cubin), "cuModuleLoadData",
                                               f"kernel {name!r}")
            err, func = driver.cuModuleGetFunction(module, name.encode())
            if err == driver.CUresult.CUDA_ERROR_NOT_FOUND:
                raise DeviceError(f"the compiled module has no kernel named {name!r}; the "
                                  f"entry point must be declared extern \"C\" __global__")
            check((err,), "cuModuleGetFunction", name)
            self.functions[pos] = func
            max_threads = check(driver.cuFuncGetAttribute(FA.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                                                          func), "cuFuncGetAttribute")
            ls = self.local_size
            if ls[0] * ls[1] * ls[2] > max_threads:
                raise DeviceLimitError(
                    f"kernel {name!r} can run at most {max_threads} threads per block on "
                    f"{dev.info.name} (its register use limits it), but local_size is {ls}")
            self._check_params(func)

    def _check_params(self, func) -> None:
        """Compare the kernel's parameter list with the ABI ProgramInfo implies; a
        mismatch would otherwise read garbage silently."""
        if not hasattr(driver, "cuFuncGetParamInfo"):
            return
        sizes = self.layout.param_sizes
        for i, want in enumerate(sizes):
            err, _, size = driver.cuFuncGetParamInfo(func, i)
            if err == driver.CUresult.CUDA_ERROR_NOT_SUPPORTED:
                return
            if err:
                raise DeviceError(f"kernel {self.info.entry_point!r} takes {i} parameters; "
                                  f"ProgramInfo implies {len(sizes)} ({len(self.info.bindings)} "
                                  f"bindings + {len(self.info.uniforms)} uniform fields)")
            if size != want:
                what = (f"binding {self.info.bindings[self.layout.binding_order[i]].name!r}"
                        if i < len(self.info.bindings)
                        else f"uniform field {self.info.uniforms[i - len(self.info.bindings)].name!r}")
                raise DeviceError(f"kernel {self.info.entry_point!r} parameter {i} ({what}) is "
                                  f"{size} bytes; the ABI says {want}")
        if not driver.cuFuncGetParamInfo(func, len(sizes))[0]:
            raise DeviceError(f"kernel {self.info.entry_point!r} takes more than the "
                              f"{len(sizes)} parameters ProgramInfo implies")

    def destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        for pos, module in self.modules.items():
            try:
                with self.context._devices[pos].guard:
                    quiet(driver.cuModuleUnload(module))
            except Exception:  # the context is already gone; so is the module
                pass
        self.modules.clear()
        self.functions.clear()
        self.context._programs.discard(self)
        self.context.free_epoch += 1   # command lists check their programs again
