"""What a Vulkan physical device offers: limits, features, extensions, memory and
queue families, read once through the *2 queries, and reported as a DeviceInfo."""
from __future__ import annotations

from types import SimpleNamespace

from ..runtime import DeviceInfo
from ._vk import chain, enumerate_, ffi, lib, new, string, version_tuple, vk

# Feature structs chained into vkGetPhysicalDeviceFeatures2 / VkDeviceCreateInfo:
# (struct, sType, core version that has it, extension that provides it otherwise,
#  fields we enable when supported). Field names are unique across the structs.
FEATURE_STRUCTS = (
    ("VkPhysicalDevice16BitStorageFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES, (1, 1), "VK_KHR_16bit_storage",
     ("storageBuffer16BitAccess", "uniformAndStorageBuffer16BitAccess", "storagePushConstant16")),
    ("VkPhysicalDevice8BitStorageFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES, (1, 2), "VK_KHR_8bit_storage",
     ("storageBuffer8BitAccess", "uniformAndStorageBuffer8BitAccess", "storagePushConstant8")),
    ("VkPhysicalDeviceShaderFloat16Int8Features",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, (1, 2),
     "VK_KHR_shader_float16_int8", ("shaderFloat16", "shaderInt8")),
    ("VkPhysicalDeviceScalarBlockLayoutFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SCALAR_BLOCK_LAYOUT_FEATURES, (1, 2),
     "VK_EXT_scalar_block_layout", ("scalarBlockLayout",)),
    ("VkPhysicalDeviceBufferDeviceAddressFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES, (1, 2),
     "VK_KHR_buffer_device_address", ("bufferDeviceAddress",)),
    ("VkPhysicalDeviceShaderAtomicInt64Features",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_INT64_FEATURES, (1, 2),
     "VK_KHR_shader_atomic_int64", ("shaderBufferInt64Atomics", "shaderSharedInt64Atomics")),
    ("VkPhysicalDeviceTimelineSemaphoreFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES, (1, 2),
     "VK_KHR_timeline_semaphore", ("timelineSemaphore",)),
    ("VkPhysicalDeviceShaderSubgroupExtendedTypesFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SUBGROUP_EXTENDED_TYPES_FEATURES, (1, 2),
     "VK_KHR_shader_subgroup_extended_types", ("shaderSubgroupExtendedTypes",)),
    ("VkPhysicalDeviceVulkanMemoryModelFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, (1, 2),
     "VK_KHR_vulkan_memory_model", ("vulkanMemoryModel", "vulkanMemoryModelDeviceScope")),
    ("VkPhysicalDeviceSubgroupSizeControlFeatures",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES, (1, 3),
     "VK_EXT_subgroup_size_control", ("subgroupSizeControl", "computeFullSubgroups")),
    ("VkPhysicalDeviceShaderAtomicFloatFeaturesEXT",
     vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT, None,
     "VK_EXT_shader_atomic_float",
     ("shaderBufferFloat32Atomics", "shaderBufferFloat32AtomicAdd", "shaderBufferFloat64Atomics",
      "shaderBufferFloat64AtomicAdd", "shaderSharedFloat32Atomics", "shaderSharedFloat32AtomicAdd",
      "shaderSharedFloat64Atomics", "shaderSharedFloat64AtomicAdd", "shaderImageFloat32Atomics",
      "shaderImageFloat32AtomicAdd")),
)

# VkPhysicalDeviceFeatures kernels may use (robustBufferAccess is left off: it costs speed)
CORE_FEATURES = (
    "shaderFloat64", "shaderInt64", "shaderInt16", "shaderImageGatherExtended",
    "shaderStorageImageExtendedFormats", "shaderStorageImageReadWithoutFormat",
    "shaderStorageImageWriteWithoutFormat", "shaderUniformBufferArrayDynamicIndexing",
    "shaderSampledImageArrayDynamicIndexing", "shaderStorageBufferArrayDynamicIndexing",
    "shaderStorageImageArrayDynamicIndexing",
)

# Extensions enabled when present: those behind FEATURE_STRUCTS (needed on devices older
# than the core version), plus ones kernels or portability need.
OPTIONAL_EXTENSIONS = tuple(s[3] for s in FEATURE_STRUCTS) + (
    "VK_KHR_storage_buffer_storage_class", "VK_KHR_shader_non_semantic_info",
    "VK_KHR_portability_subset", "VK_KHR_driver_properties",
    "VK_KHR_external_memory", "VK_KHR_external_memory_fd",
    "VK_KHR_external_semaphore", "VK_KHR_external_semaphore_fd",
)

_DEVICE_TYPES = {
    vk.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: "discrete",
    vk.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: "integrated",
    vk.VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: "virtual",
    vk.VK_PHYSICAL_DEVICE_TYPE_CPU: "cpu",
}
_VENDORS = {0x10DE: "NVIDIA", 0x1002: "AMD", 0x8086: "Intel", 0x13B5: "ARM",
            0x5143: "Qualcomm", 0x106B: "Apple", 0x1010: "Imagination", 0x10005: "Mesa",
            0x14E4: "Broadcom", 0x1AE0: "Google"}
_SUBGROUP_OPS = {vk.VK_SUBGROUP_FEATURE_BASIC_BIT: "basic",
                 vk.VK_SUBGROUP_FEATURE_VOTE_BIT: "vote",
                 vk.VK_SUBGROUP_FEATURE_ARITHMETIC_BIT: "arithmetic",
                 vk.VK_SUBGROUP_FEATURE_BALLOT_BIT: "ballot",
                 vk.VK_SUBGROUP_FEATURE_SHUFFLE_BIT: "shuffle"}
_QUEUE_FLAGS = ((vk.VK_QUEUE_GRAPHICS_BIT, "graphics"), (vk.VK_QUEUE_COMPUTE_BIT, "compute"),
                (vk.VK_QUEUE_TRANSFER_BIT, "transfer"), (vk.VK_QUEUE_SPARSE_BINDING_BIT, "sparse"),
                (0x10, "protected"))
# Mesa's CPU driver (VK_DRIVER_ID_MESA_LLVMPIPE) runs at most this many loop iterations
# per invocation, over all loops together, and silently skips the rest
LLVMPIPE_DRIVER_ID = 13
LLVMPIPE_MAX_LOOP_ITERATIONS = 65535
_LIMITS = ("maxImageDimension1D", "maxImageDimension2D", "maxImageDimension3D",
           "maxImageArrayLayers", "maxUniformBufferRange", "maxStorageBufferRange",
           "maxPushConstantsSize", "maxMemoryAllocationCount", "bufferImageGranularity",
           "maxBoundDescriptorSets", "maxDescriptorSetUniformBuffersDynamic",
           "maxComputeSharedMemorySize", "maxComputeWorkGroupInvocations",
           "minUniformBufferOffsetAlignment", "minStorageBufferOffsetAlignment",
           "timestampPeriod", "nonCoherentAtomSize", "timestampComputeAndGraphics")


class PhysicalDevice:
    """One VkPhysicalDevice of an instance, with everything we ask of it cached."""

    def __init__(self, handle, index: int):
        self.handle = handle
        self.index = index
        self.extensions = {string(e.extensionName) for e in enumerate_(
            lib.vkEnumerateDeviceExtensionProperties, "vkEnumerateDeviceExtensionProperties",
            "VkExtensionProperties", handle, ffi.NULL)}
        base = new("VkPhysicalDeviceProperties")
        lib.vkGetPhysicalDeviceProperties(handle, base)
        self.api_version = version_tuple(base.apiVersion)
        self._read_properties()
        self._read_features()
        self._read_memory()
        self._read_queues()

    def has(self, core, extension) -> bool:
        """A core version (major, minor) or an extension makes a struct valid here."""
        return (core is not None and self.api_version[:2] >= core) or extension in self.extensions

    # ------------------------------------------------------------------ queries
    def _read_properties(self):
        props = new("VkPhysicalDeviceProperties2", sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2)
        subgroup = new("VkPhysicalDeviceSubgroupProperties",
                       sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES)
        maint3 = new("VkPhysicalDeviceMaintenance3Properties",
                     sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES)
        driver = new("VkPhysicalDeviceDriverProperties",
                     sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES)
        sizes = new("VkPhysicalDeviceSubgroupSizeControlProperties",
                    sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES)
        ids = new("VkPhysicalDeviceIDProperties",
                  sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES)
        floats = new("VkPhysicalDeviceFloatControlsProperties",
                     sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES)
        structs = [props]
        # float controls are core in 1.2 (shaders may then declare them without enabling
        # an extension)
        has_floats = self.has((1, 2), None)
        if has_floats:
            structs.append(floats)
        if self.has((1, 1), None):
            structs += [subgroup, maint3, ids]
        has_driver = self.has((1, 2), "VK_KHR_driver_properties")
        if has_driver:
            structs.append(driver)
        has_sizes = self.has((1, 3), "VK_EXT_subgroup_size_control")
        if has_sizes:
            structs.append(sizes)
        chain(structs)
        lib.vkGetPhysicalDeviceProperties2(self.handle, props)
        p = props.properties
        lim = p.limits
        self.name = string(p.deviceName)
        self.device_type = _DEVICE_TYPES.get(p.deviceType, "other")
        self.vendor_id, self.device_id = p.vendorID, p.deviceID
        self.driver_version = p.driverVersion
        self.pipeline_cache_uuid = bytes(ffi.buffer(p.pipelineCacheUUID, 16))
        # the GPU's identity across APIs (CUDA's cuDeviceGetUuid gives the same bytes)
        self.uuid = bytes(ffi.buffer(ids.deviceUUID, 16)) if self.has((1, 1), None) else b""
        self.limits = SimpleNamespace(**{k: getattr(lim, k) for k in _LIMITS})
        self.limits.maxComputeWorkGroupSize = tuple(lim.maxComputeWorkGroupSize)
        self.limits.maxComputeWorkGroupCount = tuple(lim.maxComputeWorkGroupCount)
        self.limits.maxMemoryAllocationSize = maint3.maxMemoryAllocationSize or 2 ** 31
        self.subgroup_size = subgroup.subgroupSize or 1
        # whether a shader may ask float32 / float64 math to keep infinities, NaNs and
        # signed zeros (NVIDIA's compiler otherwise takes x * inf for 0, x != x for false)
        self.inf_nan_preserve_float32 = has_floats and bool(
            floats.shaderSignedZeroInfNanPreserveFloat32)
        self.inf_nan_preserve_float64 = has_floats and bool(
            floats.shaderSignedZeroInfNanPreserveFloat64)
        ops = set()
        if subgroup.supportedStages & vk.VK_SHADER_STAGE_COMPUTE_BIT:
            ops = {n for bit, n in _SUBGROUP_OPS.items() if subgroup.supportedOperations & bit}
        self.subgroup_ops = frozenset(ops)
        self.subgroup_size_range = ((sizes.minSubgroupSize, sizes.maxSubgroupSize) if has_sizes
                                    else (self.subgroup_size, self.subgroup_size))
        if has_driver:
            self.driver_id = driver.driverID
            self.driver_name = string(driver.driverName)
            self.driver_info = string(driver.driverInfo)
        else:
            self.driver_id, self.driver_name, self.driver_info = 0, "", ""

    def _read_features(self):
        feats = new("VkPhysicalDeviceFeatures2", sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
        structs = [(new(name, sType=stype), fields)
                   for name, stype, core, ext, fields in FEATURE_STRUCTS if self.has(core, ext)]
        chain([feats] + [s for s, _ in structs])
        lib.vkGetPhysicalDeviceFeatures2(self.handle, feats)
        self.features = {f: bool(getattr(feats.features, f)) for f in CORE_FEATURES}
        for s, fields in structs:
            self.features.update({f: bool(getattr(s, f)) for f in fields})

    def _read_memory(self):
        mem = new("VkPhysicalDeviceMemoryProperties")
        lib.vkGetPhysicalDeviceMemoryProperties(self.handle, mem)
        self.memory_heaps = [(mem.memoryHeaps[i].size, mem.memoryHeaps[i].flags)
                             for i in range(mem.memoryHeapCount)]
        self.memory_types = [(mem.memoryTypes[i].propertyFlags, mem.memoryTypes[i].heapIndex)
                             for i in range(mem.memoryTypeCount)]

    def _read_queues(self):
        fams = enumerate_(lib.vkGetPhysicalDeviceQueueFamilyProperties,
                          "vkGetPhysicalDeviceQueueFamilyProperties",
                          "VkQueueFamilyProperties", self.handle)
        self.queue_families = [(f.queueFlags, f.queueCount, f.timestampValidBits) for f in fams]
        compute = [i for i, (flags, count, _) in enumerate(self.queue_families)
                   if flags & vk.VK_QUEUE_COMPUTE_BIT and count > 0]
        # the compute family with the most queues, timestamps preferred; ties: the first
        self.compute_family = max(compute, key=lambda i: (self.queue_families[i][2] > 0,
                                                          self.queue_families[i][1], -i),
                                  default=None)

    @property
    def max_compute_queues(self) -> int:
        return 0 if self.compute_family is None else self.queue_families[self.compute_family][1]

    def format_features(self, fmt: int) -> int:
        """optimalTilingFeatures of VkFormat `fmt`."""
        props = new("VkFormatProperties")
        lib.vkGetPhysicalDeviceFormatProperties(self.handle, fmt, props)
        return props.optimalTilingFeatures

    def external_buffer_features(self, usage: int, handle_type: int) -> int:
        """VkExternalMemoryFeatureFlags (EXPORTABLE, IMPORTABLE, DEDICATED_ONLY) of buffers
        of `usage` shared as `handle_type` (0 before Vulkan 1.1)."""
        if not self.has((1, 1), None):
            return 0
        query = new("VkPhysicalDeviceExternalBufferInfo",
                    sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
                    usage=usage, handleType=handle_type)
        props = new("VkExternalBufferProperties",
                    sType=vk.VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES)
        lib.vkGetPhysicalDeviceExternalBufferProperties(self.handle, query, props)
        return props.externalMemoryProperties.externalMemoryFeatures

    def external_semaphore_features(self, handle_type: int) -> int:
        """VkExternalSemaphoreFeatureFlags (EXPORTABLE, IMPORTABLE) of timeline
        semaphores shared as `handle_type` (0 before Vulkan 1.1)."""
        if not self.has((1, 1), None):
            return 0
        timeline = new("VkSemaphoreTypeCreateInfo",
                       sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                       semaphoreType=vk.VK_SEMAPHORE_TYPE_TIMELINE)
        query = new("VkPhysicalDeviceExternalSemaphoreInfo",
                    sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
                    pNext=timeline, handleType=handle_type)
        props = new("VkExternalSemaphoreProperties",
                    sType=vk.VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES)
        lib.vkGetPhysicalDeviceExternalSemaphoreProperties(self.handle, query, props)
        return props.externalSemaphoreFeatures

    @property
    def is_llvmpipe(self) -> bool:
        """Mesa's lavapipe (its devices are named llvmpipe)."""
        return (self.driver_id == LLVMPIPE_DRIVER_ID or self.driver_name == "llvmpipe"
                or self.name.startswith("llvmpipe"))

    # ------------------------------------------------------------------ report
    def info(self) -> DeviceInfo:
        if getattr(self, "_info", None) is None:
            self._info = self._make_info()
        return self._info

    def _make_info(self) -> DeviceInfo:
        f, lim = self.features, self.limits
        heaps = tuple((size, "device-local" if flags & vk.VK_MEMORY_HEAP_DEVICE_LOCAL_BIT else "host")
                      for size, flags in self.memory_heaps)
        families = tuple((count, "|".join(n for bit, n in _QUEUE_FLAGS if flags & bit) or "none")
                         for flags, count, _ in self.queue_families)
        driver = " ".join(x for x in (self.driver_name, self.driver_info) if x) \
            or "driver version 0x%x" % self.driver_version
        return DeviceInfo(
            backend="vulkan", index=self.index, name=self.name, device_type=self.device_type,
            version="Vulkan %d.%d.%d" % self.api_version, driver=driver,
            vendor=_VENDORS.get(self.vendor_id, "0x%04x" % self.vendor_id),
            float64=f.get("shaderFloat64", False),
            float16=f.get("shaderFloat16", False) and f.get("storageBuffer16BitAccess", False),
            int64=f.get("shaderInt64", False),
            int16=f.get("shaderInt16", False) and f.get("storageBuffer16BitAccess", False),
            int8=f.get("shaderInt8", False) and f.get("storageBuffer8BitAccess", False),
            float32_atomic_add=f.get("shaderBufferFloat32AtomicAdd", False),
            float64_atomic_add=f.get("shaderBufferFloat64AtomicAdd", False),
            int64_atomics=f.get("shaderBufferInt64Atomics", False),
            subgroup_size=self.subgroup_size, subgroup_ops=self.subgroup_ops,
            max_push_constant_size=lim.maxPushConstantsSize,
            max_shared_memory=lim.maxComputeSharedMemorySize,
            max_workgroup_size=lim.maxComputeWorkGroupSize,
            max_workgroup_invocations=lim.maxComputeWorkGroupInvocations,
            max_workgroup_count=lim.maxComputeWorkGroupCount,
            max_storage_buffer_range=lim.maxStorageBufferRange,
            max_allocation_size=lim.maxMemoryAllocationSize,
            uniform_buffer_alignment=lim.minUniformBufferOffsetAlignment,
            images=True, memory_heaps=heaps, queue_families=families,
            max_loop_iterations=LLVMPIPE_MAX_LOOP_ITERATIONS if self.is_llvmpipe else None,
            uuid=self.uuid,
            extra={
                "vendor_id": "0x%04x" % self.vendor_id, "device_id": "0x%04x" % self.device_id,
                "storage_buffer_offset_alignment": lim.minStorageBufferOffsetAlignment,
                "max_uniform_buffer_range": lim.maxUniformBufferRange,
                "max_memory_allocation_count": lim.maxMemoryAllocationCount,
                "timestamp_period_ns": lim.timestampPeriod,
                "subgroup_size_range": self.subgroup_size_range,
                "scalar_block_layout": f.get("scalarBlockLayout", False),
                "buffer_device_address": f.get("bufferDeviceAddress", False),
                "float32_atomics_shared": f.get("shaderSharedFloat32AtomicAdd", False),
                "inf_nan_preserve_float32": self.inf_nan_preserve_float32,
                "inf_nan_preserve_float64": self.inf_nan_preserve_float64,
                "max_compute_queues": self.max_compute_queues,
                "extensions": len(self.extensions),
            },
        )
