import subprocess
import sys

import pytest

from vkdispatch.backends.runtime import DEVICE_TYPES, load_runtime


def test_importing_the_backend_does_not_import_pyopencl():
    code = ("import sys, vkdispatch.backends.opencl as o; "
            "assert callable(o.load_runtime); assert 'pyopencl' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_devices_describe_every_platform(cl_runtime):
    import pyopencl as cl

    expected = [(p, d) for p in cl.get_platforms() for d in p.get_devices()]
    infos = cl_runtime.devices()
    assert len(infos) == len(expected)
    for i, (info, (platform, device)) in enumerate(zip(infos, expected)):
        assert info.backend == "opencl" and info.index == i
        assert info.version.startswith("OpenCL ")
        assert info.device_type in DEVICE_TYPES
        if device.type & cl.device_type.CPU:
            assert info.device_type == "cpu"
        assert info.extra["platform"] == platform.name.strip()
        assert info.name == device.name.strip()
        assert info.max_shared_memory == device.local_mem_size
        assert info.max_workgroup_invocations == device.max_work_group_size
        assert info.compute_units == device.max_compute_units > 0
        assert info.float64 == ("cl_khr_fp64" in device.extensions or bool(device.double_fp_config))
        assert info.float16 == ("cl_khr_fp16" in device.extensions)
        assert info.images == bool(device.image_support)
        assert info.int64
        assert info.memory_heaps[0][0] == device.global_mem_size
        assert info.max_allocation_size == device.max_mem_alloc_size
        if info.subgroup_size == 0:
            assert info.subgroup_ops == frozenset()
        assert "Device" in info.get_info_string(verbose=True)


def test_registry_loads_the_opencl_runtime(cl_runtime):
    rt = load_runtime("opencl")
    assert rt.name == "opencl" and rt.codegen_target == "opencl"
    assert [d.name for d in rt.devices()] == [d.name for d in cl_runtime.devices()]


@pytest.mark.parametrize("indices, counts, needle", [
    ([99], [1], "device_indices"), ([], [], "device_indices"), ([-1], [1], "[0, "),
    ([0, 0], [1, 1], "repeat"), ([0], [0], "queue_counts"), ([0], [1, 1], "queue_counts"),
])
def test_create_context_validates_its_arguments(cl_runtime, indices, counts, needle):
    with pytest.raises(ValueError, match="must") as err:
        cl_runtime.create_context(indices, counts)
    assert needle in str(err.value)


def test_context_queues_and_idempotent_destroy(cl_runtime):
    ctx = cl_runtime.create_context([0], [3])
    assert ctx.queue_count == 3 and ctx.queue_device == [0, 0, 0]
    assert ctx.devices[0] == cl_runtime.devices()[0]
    ctx.queue_wait_idle()
    ctx.queue_wait_idle(2)
    with pytest.raises(ValueError, match="queue must be an int in"):
        ctx.queue_wait_idle(3)
    ctx.destroy()
    ctx.destroy()
