"""OpenCL devices of every platform, described as DeviceInfo."""
from __future__ import annotations

import pyopencl as cl

from ...base.errors import BackendUnavailableError
from ..runtime import DeviceInfo

_DT = cl.device_type
# cl_intel_required_subgroup_size: CL_DEVICE_SUB_GROUP_SIZES_INTEL (pyopencl has no name)
_SUB_GROUP_SIZES_INTEL = 0x4108


def enumerate_devices() -> list:
    """[(platform, device)] of every platform, in platform order."""
    try:
        platforms = cl.get_platforms()
    except cl.Error as exc:  # no ICD registered
        raise BackendUnavailableError(f"no OpenCL platform: {exc}") from None
    found = []
    for platform in platforms:
        try:
            found.extend((platform, d) for d in platform.get_devices())
        except cl.Error:  # DEVICE_NOT_FOUND: a platform with no device
            continue
    if not found:
        names = ", ".join(p.name for p in platforms) or "none"
        raise BackendUnavailableError(f"the OpenCL platforms ({names}) report no device")
    return found


def _get(device, name, default):
    """A device property some platforms do not answer (deprecated or optional)."""
    try:
        return getattr(device, name)
    except (cl.Error, AttributeError):
        return default


def _device_type(device) -> str:
    t = device.type
    if t & _DT.GPU:
        # OpenCL has no discrete flag; a GPU sharing host memory is integrated
        return "integrated" if _get(device, "host_unified_memory", False) else "discrete"
    if t & _DT.CPU:
        return "cpu"
    return "other"


def _subgroups(device, ext: set) -> tuple:
    """(size, ops): the size only where the device reports it; no size, no ops."""
    if not ({"cl_khr_subgroups", "cl_intel_subgroups"} & ext):
        return 0, frozenset()
    try:
        sizes = device.get_info(_SUB_GROUP_SIZES_INTEL)
        size = max(sizes) if sizes else 0
    except (cl.Error, TypeError, ValueError):
        size = 0
    if not size:
        return 0, frozenset()
    ops = {"basic", "vote", "arithmetic"}  # sub_group_all/any, reduce/scan
    if "cl_khr_subgroup_ballot" in ext:
        ops.add("ballot")
    if {"cl_khr_subgroup_shuffle", "cl_intel_subgroups"} & ext:
        ops.add("shuffle")
    return int(size), frozenset(ops)


def device_info(index: int, platform, device) -> DeviceInfo:
    ext = set(device.extensions.split())
    float_atomics = "cl_ext_float_atomics" in ext
    fp64 = "cl_khr_fp64" in ext or bool(_get(device, "double_fp_config", 0))
    sg_size, sg_ops = _subgroups(device, ext)
    kind = _device_type(device)
    max_alloc = int(device.max_mem_alloc_size)
    item_sizes = tuple(int(s) for s in device.max_work_item_sizes[:3])
    item_sizes += (1,) * (3 - len(item_sizes))
    return DeviceInfo(
        backend="opencl", index=index, name=device.name.strip(), device_type=kind,
        version=device.version.strip(), driver=device.driver_version.strip(),
        vendor=device.vendor.strip(),
        float64=fp64, float16="cl_khr_fp16" in ext, int64=True, int16=True, int8=True,
        float32_atomic_add=float_atomics, float64_atomic_add=float_atomics and fp64,
        int64_atomics="cl_khr_int64_base_atomics" in ext,
        subgroup_size=sg_size, subgroup_ops=sg_ops,
        # uniforms travel as kernel arguments: their bound is CL_DEVICE_MAX_PARAMETER_SIZE
        max_push_constant_size=int(device.max_parameter_size),
        max_shared_memory=int(device.local_mem_size),
        max_workgroup_size=item_sizes,
        max_workgroup_invocations=int(device.max_work_group_size),
        max_workgroup_count=(2 ** 31 - 1,) * 3,
        max_storage_buffer_range=max_alloc, max_allocation_size=max_alloc,
        uniform_buffer_alignment=max(1, int(device.mem_base_addr_align) // 8),
        images=bool(device.image_support),
        memory_heaps=((int(device.global_mem_size), "host" if kind == "cpu" else "device-local"),),
        compute_units=int(device.max_compute_units),
        extra={"platform": platform.name.strip(), "platform_version": platform.version.strip(),
               "opencl_c_version": _get(device, "opencl_c_version", "").strip(),
               "extensions": " ".join(sorted(ext))},
    )
