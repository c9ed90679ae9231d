"""Compute programs: SPIR-V module, descriptor-set layout, pipeline per device, and a
cache of written descriptor sets keyed by the resources bound (so replaying or
re-recording a dispatch never writes descriptors again)."""
from __future__ import annotations

import struct
import threading
import weakref
from typing import Optional

from ...base import process
from ...base.errors import DeviceLimitError, InvalidArgumentError, VkDispatchError
from ...base.log import log_debug
from ..common import check_kernel_limits, uniform_need
from ..runtime import Program
from ...base.abi import BINDING_BUFFER_ADDRESS, BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE, BINDING_UNIFORM_BUFFER, ProgramInfo
from . import glslang, spirv as spv
from ._vk import check, ffi, lib, new, out, vk

DESCRIPTOR_TYPES = {
    BINDING_STORAGE_BUFFER: vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    BINDING_UNIFORM_BUFFER: vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
    BINDING_SAMPLED_IMAGE: vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
    BINDING_STORAGE_IMAGE: vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
}
UBO_DYNAMIC = vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC
_BUFFER_TYPES = (vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, UBO_DYNAMIC)
SETS_PER_POOL = 64
SPIRV_MAGIC = spv.MAGIC
# the reflected kind (vulkan/spirv.py) of each descriptor type
_KIND_OF_TYPE = {
    vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER: spv.STORAGE_BUFFER,
    vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER: spv.UNIFORM_BUFFER,
    vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC: spv.UNIFORM_BUFFER,
    vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER: spv.SAMPLED_IMAGE,
    vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE: spv.STORAGE_IMAGE,
}
# newest SPIR-V each Vulkan version consumes (what the context's devices were created for)
_SPIRV_OF_VULKAN = {(1, 0): (1, 0), (1, 1): (1, 3), (1, 2): (1, 5), (1, 3): (1, 6)}
_LIMIT_NAMES = ("maxComputeWorkGroupSize", "maxComputeWorkGroupInvocations",
                "maxComputeSharedMemorySize")


def pack_constant(value) -> bytes:
    """Bytes of one specialization constant: bool -> 32-bit, int -> int32/uint32/int64,
    float -> float32; numpy scalars keep their own type and size."""
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):
        return bytes(value.tobytes()) if value.dtype.kind != "b" else struct.pack("<I", int(value))
    if isinstance(value, bool):
        return struct.pack("<I", int(value))
    if isinstance(value, int):
        for fmt, lo, hi in (("<i", -2 ** 31, 2 ** 31), ("<I", 0, 2 ** 32), ("<q", -2 ** 63, 2 ** 63)):
            if lo <= value < hi:
                return struct.pack(fmt, value)
        return struct.pack("<Q", value)
    if isinstance(value, float):
        return struct.pack("<f", value)
    raise TypeError(f"specialization constants must be bool, int, float or numpy scalars, "
                    f"got {type(value).__name__}")


def check_limits(info: ProgramInfo, device) -> None:
    """DeviceLimitError / UnsupportedFeatureError naming what `info` asks beyond `device`."""
    phys, lim = device.phys, device.phys.limits
    name = phys.name
    check_kernel_limits(info, phys.info(), _LIMIT_NAMES)
    if info.uniform_size > 0:
        if info.uniform_in_push_constants and info.uniform_size > lim.maxPushConstantsSize:
            raise DeviceLimitError(f"uniform_size {info.uniform_size} exceeds maxPushConstantsSize "
                                   f"({lim.maxPushConstantsSize} bytes) of {name}; pass uniforms in "
                                   "a uniform buffer (uniform_in_push_constants=False)")
        if not info.uniform_in_push_constants and info.uniform_size > lim.maxUniformBufferRange:
            raise DeviceLimitError(f"uniform_size {info.uniform_size} exceeds maxUniformBufferRange "
                                   f"({lim.maxUniformBufferRange} bytes) of {name}")


def _described(kinds: dict) -> str:
    return "{" + ", ".join(f"{b}: {k}" for b, k in sorted(kinds.items())) + "}"


def check_module(module, info: ProgramInfo, layout: list, push_size: int, entry: str,
                 vulkan_version=(1, 3), glsl: bool = False) -> None:
    """InvalidArgumentError naming what the reflected SPIR-V `module` does not share with
    the launch `info` describes: the entry point (a GLCompute one), the descriptor bindings
    of set 0 and their kinds (`layout`: [(binding, descriptor type)]), push constants, and
    the SPIR-V version the context's Vulkan version consumes."""
    if module.entry_point(entry) is None:
        hint = " (GLSL kernels are compiled with the entry point 'main')" if glsl else ""
        raise InvalidArgumentError(
            f"the kernel has no GLCompute entry point {entry!r}{hint}; its entry points: "
            f"{module.describe_entry_points()}")
    newest = _SPIRV_OF_VULKAN.get(tuple(vulkan_version)[:2], (1, 6))
    if module.version > newest:
        raise InvalidArgumentError(
            f"the kernel is SPIR-V {module.version[0]}.{module.version[1]}; a Vulkan "
            f"{vulkan_version[0]}.{vulkan_version[1]} context consumes SPIR-V up to "
            f"{newest[0]}.{newest[1]}")
    other_sets = sorted({(r.set, r.binding) for r in module.resources if r.set != 0})
    if other_sets:
        raise InvalidArgumentError(
            f"the kernel {entry!r} uses descriptor sets other than 0 (set, binding) "
            f"{other_sets}; vkdispatch binds every resource in set 0")
    used = {r.binding: r.kind for r in module.resources}
    given = {number: _KIND_OF_TYPE[dtype] for number, dtype in layout}
    if used != given:
        names = {r.binding: r.name for r in module.resources if r.name}
        detail = []
        missing = sorted(set(used) - set(given))
        if missing:
            detail.append("no resource is given for binding(s) " + ", ".join(
                f"{b}" + (f" ({names[b]})" if b in names else "") for b in missing))
        extra = sorted(set(given) - set(used))
        if extra:
            detail.append(f"binding(s) {extra} are given but the kernel declares none there")
        for b in sorted(set(used) & set(given)):
            if used[b] != given[b]:
                detail.append(f"binding {b} is a {used[b]} in the kernel, a {given[b]} in the "
                              f"ProgramInfo")
        raise InvalidArgumentError(
            f"the bindings of the kernel {entry!r} do not match its ProgramInfo: the SPIR-V "
            f"declares {_described(used)}, the ProgramInfo gives {_described(given)}: "
            + "; ".join(detail))
    if module.push_constants and not push_size:
        raise InvalidArgumentError(
            f"the kernel {entry!r} declares push constants "
            f"({', '.join(n or '(unnamed)' for n in module.push_constants)}) but its "
            f"ProgramInfo has no uniform bytes in push constants (uniform_size=0)")


def layout_bindings(info: ProgramInfo) -> list:
    """[(binding number, VkDescriptorType)] in kernel-parameter order, the dynamic
    uniform buffer (if any) last."""
    out_, seen = [], set()
    for b in info.bindings:
        if b.kind == BINDING_BUFFER_ADDRESS:     # no descriptor: an address in the uniforms
            if not 0 <= b.uniform_offset <= info.uniform_size - 8 or b.uniform_offset % 8:
                raise ValueError(f"binding {b.name!r}: uniform_offset {b.uniform_offset} is not "
                                 f"an 8-byte aligned slot of the {info.uniform_size}-byte uniforms")
            continue
        if b.kind not in DESCRIPTOR_TYPES:
            raise ValueError(f"binding {b.name!r}: kind must be one of {sorted(DESCRIPTOR_TYPES)}, "
                             f"got {b.kind!r}")
        if b.index in seen or b.index < 0:
            raise ValueError(f"binding {b.name!r}: index {b.index} is negative or used twice")
        seen.add(b.index)
        out_.append((b.index, DESCRIPTOR_TYPES[b.kind]))
    if info.uniform_size > 0 and not info.uniform_in_push_constants:
        if info.uniform_binding < 0 or info.uniform_binding in seen:
            raise ValueError(f"uniform_binding must be a free binding number >= 0 when uniforms "
                             f"live in a uniform buffer, got {info.uniform_binding}")
        out_.append((info.uniform_binding, UBO_DYNAMIC))
    return out_


class _PerDevice:
    __slots__ = ("device", "module", "set_layout", "pipeline_layout", "pipeline", "pools",
                 "sets", "free_sets")

    def __init__(self, device):
        self.device = device
        self.module = self.set_layout = self.pipeline_layout = self.pipeline = None
        self.pools, self.sets, self.free_sets = [], {}, []


class VulkanProgram(Program):
    """A kernel built for every device of a context."""

    def __init__(self, ctx, source, info: ProgramInfo, specialization: Optional[dict] = None):
        self.info = info
        self._ctx = ctx
        self._wref = weakref.ref(self)
        # reentrant: a Buffer the garbage collector frees while a set is written
        # recycles its sets (forget_set) on this thread
        self._lock = threading.RLock()
        self._per = []
        self.binding_cache = {}   # (device pos, *bindings) -> validated bindings (commands.py)
        self.bindings = layout_bindings(info)
        self.descriptor_types = [t for _, t in self.bindings]
        self.uses_ubo = bool(self.bindings) and self.bindings[-1][1] == UBO_DYNAMIC
        self.push_size = info.uniform_size if info.uniform_in_push_constants else 0
        self.uniform_need = uniform_need(info)
        for device in ctx._devices:
            check_limits(info, device)
        glsl = not isinstance(source, (bytes, bytearray, memoryview))
        entry = info.entry_point or "main"
        specialization = specialization or {}
        try:
            if glsl:
                spirv = glslang.compile_glsl(source, vulkan_version=ctx.vulkan_version)
            else:
                spirv = bytes(source)
            try:
                self._check_and_build(spirv, entry, specialization, glsl)
            except VkDispatchError:
                if not glsl:
                    raise
                # SPIR-V from the cache may be bad (a valid checksum of a bad payload):
                # compile again, replacing the entries, and retry once if it differs
                fresh = glslang.compile_glsl(source, vulkan_version=ctx.vulkan_version,
                                             fresh=True)
                if fresh == spirv:
                    raise
                log_debug("vulkan: the cached SPIR-V of %r failed; recompiled it", entry)
                spirv = fresh
                self._check_and_build(spirv, entry, specialization, glsl)
        except BaseException:
            self.destroy()
            raise
        self.spirv = spirv

    def _check_and_build(self, spirv: bytes, entry: str, specialization: dict,
                         glsl: bool) -> None:
        """Check `spirv` against the ProgramInfo, then build it on every device (what a
        failure half-built is released)."""
        ctx = self._ctx
        check_module(spv.parse(spirv), self.info, self.bindings, self.push_size, entry,
                     ctx.vulkan_version, glsl)
        try:
            for device in ctx._devices:
                per = _PerDevice(device)
                self._per.append(per)
                self._build(per, spirv, entry, specialization)
        except BaseException:
            per_list, self._per = self._per, []
            for per in per_list:          # never used: released at once
                _release(per)
            raise

    # ------------------------------------------------------------------ building
    def _build(self, per: _PerDevice, spirv: bytes, entry: str, specialization: dict) -> None:
        device = per.device
        dev = device.handle
        code = ffi.from_buffer(spirv)
        minfo = new("VkShaderModuleCreateInfo", sType=vk.VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                    codeSize=len(spirv), pCode=ffi.cast("uint32_t *", code))
        p = out("VkShaderModule")
        check(lib.vkCreateShaderModule(dev, minfo, ffi.NULL, p), "vkCreateShaderModule")
        per.module = p[0]

        n = len(self.bindings)
        arr = ffi.new("VkDescriptorSetLayoutBinding[]", max(n, 1))
        for i, (number, dtype) in enumerate(self.bindings):
            arr[i].binding, arr[i].descriptorType = number, dtype
            arr[i].descriptorCount, arr[i].stageFlags = 1, vk.VK_SHADER_STAGE_COMPUTE_BIT
        linfo = new("VkDescriptorSetLayoutCreateInfo",
                    sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                    bindingCount=n, pBindings=arr)
        p = out("VkDescriptorSetLayout")
        check(lib.vkCreateDescriptorSetLayout(dev, linfo, ffi.NULL, p), "vkCreateDescriptorSetLayout")
        per.set_layout = p[0]

        layouts = ffi.new("VkDescriptorSetLayout[1]", [per.set_layout])
        push = new("VkPushConstantRange", stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT,
                   offset=0, size=self.push_size)
        pinfo = new("VkPipelineLayoutCreateInfo", sType=vk.VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                    setLayoutCount=1, pSetLayouts=layouts,
                    pushConstantRangeCount=1 if self.push_size else 0, pPushConstantRanges=push)
        p = out("VkPipelineLayout")
        check(lib.vkCreatePipelineLayout(dev, pinfo, ffi.NULL, p), "vkCreatePipelineLayout")
        per.pipeline_layout = p[0]

        name = ffi.new("char[]", entry.encode())
        spec_keep = self._specialization(specialization)
        stage = new("VkPipelineShaderStageCreateInfo",
                    sType=vk.VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                    stage=vk.VK_SHADER_STAGE_COMPUTE_BIT, module=per.module, pName=name,
                    pSpecializationInfo=spec_keep[0] if spec_keep else ffi.NULL)
        cinfo = new("VkComputePipelineCreateInfo", sType=vk.VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                    stage=stage[0], layout=per.pipeline_layout, basePipelineIndex=-1)
        p = out("VkPipeline")
        check(lib.vkCreateComputePipelines(dev, device.pipeline_cache, 1, cinfo, ffi.NULL, p),
              "vkCreateComputePipelines", f"entry point {entry!r}")
        per.pipeline = p[0]

    @staticmethod
    def _specialization(constants: dict):
        if not constants:
            return None
        entries = ffi.new("VkSpecializationMapEntry[]", len(constants))
        data = b""
        for i, (cid, value) in enumerate(sorted(constants.items())):
            raw = pack_constant(value)
            entries[i].constantID, entries[i].offset, entries[i].size = int(cid), len(data), len(raw)
            data += raw
        buf = ffi.new("char[]", data)
        info = new("VkSpecializationInfo", mapEntryCount=len(constants), pMapEntries=entries,
                   dataSize=len(data), pData=buf)
        return info, entries, buf

    # ------------------------------------------------------------------ descriptor sets
    def pipeline(self, position: int):
        per = self._per[position]
        return per.pipeline, per.pipeline_layout

    def descriptor_set(self, position: int, key, writes, serials):
        """The set for bound resources `key` on device `position`, written once from
        `writes` ([(binding, type, payload)]); None when the kernel binds nothing."""
        if not self.bindings:
            return None
        per = self._per[position]
        s = per.sets.get(key)
        if s is not None:
            return s
        with self._lock:
            s = per.sets.get(key)
            if s is not None:
                return s
            s = per.free_sets.pop() if per.free_sets else self._allocate_set(per)
            _write_set(per.device.handle, s, writes)
            per.sets[key] = s
        self._ctx._note_set(serials, self, position, key)
        return s

    def forget_set(self, position: int, key) -> None:
        """A resource in `key` is gone: recycle its set (rewritten on next use)."""
        with self._lock:
            if position < len(self._per):
                per = self._per[position]
                s = per.sets.pop(key, None)
                if s is not None:
                    per.free_sets.append(s)

    def _allocate_set(self, per: _PerDevice):
        dev = per.device.handle
        layouts = ffi.new("VkDescriptorSetLayout[1]", [per.set_layout])
        s = out("VkDescriptorSet")
        if per.pools:
            ainfo = new("VkDescriptorSetAllocateInfo",
                        sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                        descriptorPool=per.pools[-1], descriptorSetCount=1, pSetLayouts=layouts)
            if lib.vkAllocateDescriptorSets(dev, ainfo, s) == vk.VK_SUCCESS:
                return s[0]
        per.pools.append(self._new_pool(dev))     # the last pool is full (or none yet)
        ainfo = new("VkDescriptorSetAllocateInfo",
                    sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                    descriptorPool=per.pools[-1], descriptorSetCount=1, pSetLayouts=layouts)
        check(lib.vkAllocateDescriptorSets(dev, ainfo, s), "vkAllocateDescriptorSets")
        return s[0]

    def _new_pool(self, dev):
        counts = {}
        for t in self.descriptor_types:
            counts[t] = counts.get(t, 0) + SETS_PER_POOL
        sizes = ffi.new("VkDescriptorPoolSize[]", len(counts))
        for i, (t, c) in enumerate(counts.items()):
            sizes[i].type, sizes[i].descriptorCount = t, c
        info = new("VkDescriptorPoolCreateInfo", sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                   maxSets=SETS_PER_POOL, poolSizeCount=len(counts), pPoolSizes=sizes)
        p = out("VkDescriptorPool")
        check(lib.vkCreateDescriptorPool(dev, info, ffi.NULL, p), "vkCreateDescriptorPool")
        return p[0]

    # ------------------------------------------------------------------ teardown
    def destroy(self) -> None:
        """Idempotent. Command lists that use the program refuse to submit afterwards;
        its Vulkan objects go once the work already submitted is done."""
        with self._lock:
            per_list, self._per = self._per, []
            self.binding_cache = {}
        if per_list:
            self._ctx._note_free()
        for per in per_list:
            if per.device.handle is not None:
                per.device.defer(lambda per=per: _release(per))
        self._ctx._forget_program(self)

    @property
    def destroyed(self) -> bool:
        return not self._per

    @property
    def alive(self) -> bool:
        return bool(self._per)

    def __del__(self):
        try:
            if process.forked_child:   # the parent's driver owns it
                return
            if self._per and not self._ctx.destroyed:
                self.destroy()
        except Exception:  # interpreter teardown: the context's destroy handles the rest
            pass

    def __repr__(self):
        return f"<VulkanProgram {self.info.entry_point!r} local_size={self.info.local_size}>"


def _release(per: _PerDevice) -> None:
    dev = per.device.handle
    if dev is not None:
        for pool in per.pools:
            lib.vkDestroyDescriptorPool(dev, pool, ffi.NULL)
        if per.pipeline is not None:
            lib.vkDestroyPipeline(dev, per.pipeline, ffi.NULL)
        if per.pipeline_layout is not None:
            lib.vkDestroyPipelineLayout(dev, per.pipeline_layout, ffi.NULL)
        if per.set_layout is not None:
            lib.vkDestroyDescriptorSetLayout(dev, per.set_layout, ffi.NULL)
        if per.module is not None:
            lib.vkDestroyShaderModule(dev, per.module, ffi.NULL)
    per.pools = []
    per.pipeline = per.pipeline_layout = per.set_layout = per.module = None


def _write_set(dev, dset, writes) -> None:
    n = len(writes)
    w = ffi.new("VkWriteDescriptorSet[]", n)
    buffers = ffi.new("VkDescriptorBufferInfo[]", n)
    images = ffi.new("VkDescriptorImageInfo[]", n)
    for i, (binding, dtype, payload) in enumerate(writes):
        wi = w[i]
        wi.sType = vk.VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
        wi.dstSet, wi.dstBinding, wi.descriptorCount, wi.descriptorType = dset, binding, 1, dtype
        if dtype in _BUFFER_TYPES:
            buffers[i].buffer, buffers[i].offset, buffers[i].range = payload
            wi.pBufferInfo = buffers + i
        else:
            sampler, view = payload
            images[i].sampler = sampler if sampler is not None else ffi.NULL
            images[i].imageView, images[i].imageLayout = view, vk.VK_IMAGE_LAYOUT_GENERAL
            wi.pImageInfo = images + i
    lib.vkUpdateDescriptorSets(dev, n, w, 0, ffi.NULL)
