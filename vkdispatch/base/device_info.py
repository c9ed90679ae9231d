"""What `vd.get_devices()` returns: the runtime's DeviceInfo, also readable by the names
vkdispatch 0.1 gave its fields (`device_name`, `sub_group_size`, `float_64_support`,
`max_compute_shared_memory_size`, `queue_properties`, ...)."""
from __future__ import annotations

import re

from ..backends import runtime as rt

# vkdispatch 0.1 (Vulkan's VkPhysicalDeviceType) numbered the device kinds
DEVICE_TYPE_CODES = {"other": 0, "integrated": 1, "discrete": 2, "virtual": 3, "cpu": 4}
# VkQueueFlagBits, as 0.1's queue_properties reported them
_QUEUE_FLAG_BITS = {"graphics": 0x1, "compute": 0x2, "transfer": 0x4, "sparse": 0x8,
                    "protected": 0x10}
# VkSubgroupFeatureFlagBits and the compute stage bit, as 0.1's supported_* reported them
_SUBGROUP_OP_BITS = {"basic": 0x1, "vote": 0x2, "arithmetic": 0x4, "ballot": 0x8,
                     "shuffle": 0x10}
_COMPUTE_STAGE_BIT = 0x20
# queues a backend without queue families (streams or command queues made at will) offers
FAMILYLESS_QUEUES = 2


class DeviceKind(str):
    """A device type name ('discrete', 'cpu', ...) that also equals 0.1's integer code
    for it (2 == discrete, 4 == cpu), so `dev.device_type == 2` keeps its meaning."""

    __slots__ = ()

    @property
    def code(self) -> int:
        return DEVICE_TYPE_CODES.get(str(self), 0)

    def __eq__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return self.code == other
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    __hash__ = str.__hash__


def queue_families(device: rt.DeviceInfo) -> list:
    """(queue count, flag names) per queue family; a backend that reports none has one
    compute family of FAMILYLESS_QUEUES queues."""
    fams = [(n, set(flags.split("|"))) for n, flags in device.queue_families]
    return fams or [(FAMILYLESS_QUEUES, {"compute", "transfer"})]


class DeviceInfo(rt.DeviceInfo):
    """A device as the runtime describes it, plus the field names of vkdispatch 0.1.
    Where 0.1 had an integer flag (`float_64_support`) this gives 1 or 0; fields only a
    Vulkan driver knows (`vendor_id`, `max_uniform_buffer_range`) raise AttributeError
    on backends that do not report them."""

    @classmethod
    def of(cls, device: rt.DeviceInfo) -> "DeviceInfo":
        fields = {f: getattr(device, f) for f in device.__dataclass_fields__}
        fields["device_type"] = DeviceKind(device.device_type)
        return cls(**fields)

    def __repr__(self) -> str:   # 0.1 printed the description
        return self.get_info_string()

    # --------------------------------------------------------------- 0.1's names
    dev_index = sorted_index = property(lambda self: self.index)
    device_name = property(lambda self: self.name)
    driver_version = property(lambda self: self.driver)
    sub_group_size = property(lambda self: self.subgroup_size)
    max_compute_shared_memory_size = property(lambda self: self.max_shared_memory)
    float_64_support = property(lambda self: int(self.float64))
    float_16_support = property(lambda self: int(self.float16))
    int_64_support = property(lambda self: int(self.int64))
    int_16_support = property(lambda self: int(self.int16))
    # a device with float32 atomic add has the basic float32 atomics too
    shader_buffer_float32_atomic_add = shader_buffer_float32_atomics = property(
        lambda self: int(self.float32_atomic_add))

    @property
    def version_variant(self) -> int:
        return 0

    def _version(self, i: int) -> int:
        nums = re.findall(r"\d+", self.version.split(" PoCL")[0])
        return int(nums[i]) if i < len(nums) else 0

    version_major = property(lambda self: self._version(0))
    version_minor = property(lambda self: self._version(1))
    version_patch = property(lambda self: self._version(2))

    def _extra(self, key: str):
        if key not in self.extra:
            raise AttributeError(f"the {self.backend} backend does not report {key!r} for "
                                 f"{self.name}")
        value = self.extra[key]
        return int(value, 16) if isinstance(value, str) and value.startswith("0x") else value

    vendor_id = property(lambda self: self._extra("vendor_id"))
    device_id = property(lambda self: self._extra("device_id"))
    max_uniform_buffer_range = property(lambda self: self._extra("max_uniform_buffer_range"))
    scalar_block_layout = property(lambda self: int(bool(self._extra("scalar_block_layout"))))

    @property
    def supported_operations(self) -> int:
        return sum(_SUBGROUP_OP_BITS.get(op, 0) for op in self.subgroup_ops)

    @property
    def supported_stages(self) -> int:
        return _COMPUTE_STAGE_BIT if self.subgroup_ops and self.subgroup_size else 0

    @property
    def queue_properties(self) -> list:
        """(queue count, VkQueueFlags bits) per queue family."""
        return [(n, sum(_QUEUE_FLAG_BITS.get(f, 0) for f in flags))
                for n, flags in queue_families(self)]

    def is_nvidia(self) -> bool:
        return "nvidia" in f"{self.name} {self.vendor}".lower()

    def is_apple(self) -> bool:
        return "apple" in f"{self.name} {self.vendor}".lower()
