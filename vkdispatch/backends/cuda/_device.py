"""CUDA devices as DeviceInfo, read through cuDeviceGetAttribute."""
from __future__ import annotations

from cuda.bindings import driver

from ..runtime import DeviceInfo
from . import nvrtc
from ._check import check

A = driver.CUdevice_attribute

# Kernel parameters are the "push constants" of CUDA: 4 KiB of them per launch
# (32 KiB since CUDA 12.1 on Volta+, but 4 KiB holds on every driver we may meet).
KERNEL_PARAM_BYTES = 4096
# Statically declared __shared__ arrays are limited to 48 KiB per block; beyond that
# a kernel must use dynamic shared memory with an opt-in attribute.
STATIC_SHARED_BYTES = 48 * 1024

SUBGROUP_OPS = frozenset({"basic", "arithmetic", "ballot", "shuffle", "vote"})


def attr(dev, name: str) -> int:
    return int(check(driver.cuDeviceGetAttribute(getattr(A, "CU_DEVICE_ATTRIBUTE_" + name), dev),
                     "cuDeviceGetAttribute", name))


def driver_version() -> str:
    v = int(check(driver.cuDriverGetVersion(), "cuDriverGetVersion"))
    return f"CUDA {v // 1000}.{v % 1000 // 10}"


def _cubin_arch(major: int, minor: int) -> str:
    try:
        return nvrtc.pick_arch(major, minor) or "none (NVRTC is too old for this device)"
    except Exception as exc:  # listing devices must work without NVRTC
        return f"unknown ({exc})"


def device_info(index: int) -> DeviceInfo:
    dev = check(driver.cuDeviceGet(index), "cuDeviceGet", f"device {index}")
    name = check(driver.cuDeviceGetName(256, dev), "cuDeviceGetName")
    name = bytes(name).split(b"\0", 1)[0].decode(errors="replace")
    total = int(check(driver.cuDeviceTotalMem(dev), "cuDeviceTotalMem"))
    major = attr(dev, "COMPUTE_CAPABILITY_MAJOR")
    minor = attr(dev, "COMPUTE_CAPABILITY_MINOR")
    pci = check(driver.cuDeviceGetPCIBusId(32, dev), "cuDeviceGetPCIBusId")
    pci = bytes(pci).split(b"\0", 1)[0].decode(errors="replace")
    uuid = bytes(check(driver.cuDeviceGetUuid(dev), "cuDeviceGetUuid").bytes)
    return DeviceInfo(
        backend="cuda",
        index=index,
        name=name,
        device_type="integrated" if attr(dev, "INTEGRATED") else "discrete",
        version=f"compute capability {major}.{minor}",
        driver=driver_version(),
        vendor="NVIDIA",
        float64=True,
        float16=True,
        int64=True,
        int16=True,
        int8=True,
        float32_atomic_add=True,
        float64_atomic_add=major >= 6,
        int64_atomics=True,
        subgroup_size=attr(dev, "WARP_SIZE"),
        subgroup_ops=SUBGROUP_OPS,
        max_push_constant_size=KERNEL_PARAM_BYTES,
        max_shared_memory=STATIC_SHARED_BYTES,  # kernels declare shared arrays statically
        max_workgroup_size=(attr(dev, "MAX_BLOCK_DIM_X"), attr(dev, "MAX_BLOCK_DIM_Y"),
                            attr(dev, "MAX_BLOCK_DIM_Z")),
        max_workgroup_invocations=attr(dev, "MAX_THREADS_PER_BLOCK"),
        max_workgroup_count=(attr(dev, "MAX_GRID_DIM_X"), attr(dev, "MAX_GRID_DIM_Y"),
                             attr(dev, "MAX_GRID_DIM_Z")),
        max_storage_buffer_range=total,
        max_allocation_size=total,
        uniform_buffer_alignment=attr(dev, "TEXTURE_ALIGNMENT"),
        images=True,
        memory_heaps=((total, "device-local"),),
        queue_families=((32, "compute|transfer"),),
        compute_units=attr(dev, "MULTIPROCESSOR_COUNT"),
        uuid=uuid,
        extra={
            "arch": f"sm_{major}{minor}",
            "cubin_arch": _cubin_arch(major, minor),
            "pci_bus_id": pci,
            "max_shared_memory_optin": attr(dev, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN"),
            "shared_memory_per_sm": attr(dev, "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"),
            "registers_per_block": attr(dev, "MAX_REGISTERS_PER_BLOCK"),
            "l2_cache_bytes": attr(dev, "L2_CACHE_SIZE"),
            "memory_bus_width_bits": attr(dev, "GLOBAL_MEMORY_BUS_WIDTH"),
            "async_engines": attr(dev, "ASYNC_ENGINE_COUNT"),
            "unified_addressing": bool(attr(dev, "UNIFIED_ADDRESSING")),
            "memory_pools": bool(attr(dev, "MEMORY_POOLS_SUPPORTED")),
        },
    )
