"""vkdispatch 0.1 code for contexts and devices (its context tutorial and the limits its
users read), run unchanged on every backend present."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buf.size")
def scale(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] * k


def test_device_listing_reads_0_1_fields(backend):
    for dev in vd.get_devices():
        assert isinstance(dev, vd.DeviceInfo)
        assert dev.device_name == dev.name and dev.dev_index == dev.index
        assert dev.sub_group_size == dev.subgroup_size
        assert dev.max_compute_shared_memory_size == dev.max_shared_memory > 0
        assert dev.float_64_support == int(dev.float64) and dev.int_64_support in (0, 1)
        assert len(dev.max_workgroup_size) == 3 and dev.max_workgroup_invocations > 0
        # 0.1 numbered device types; both spellings compare equal
        assert dev.device_type == {"discrete": 2, "integrated": 1, "virtual": 3, "cpu": 4,
                                   "other": 0}[dev.device_type]
        assert dev.device_type == str(dev.device_type)
        assert any(flags & 0x2 for _, flags in dev.queue_properties)   # a compute family
        assert dev.version_major > 0 or backend == "dummy"
        assert dev.device_name in repr(dev)   # 0.1 printed the description
        assert dev.is_nvidia() == ("nvidia" in f"{dev.name} {dev.vendor}".lower())


def test_context_limits_0_1_code_reads(backend):
    ctx = vd.get_context()
    dev = ctx.device
    assert ctx.max_shared_memory == dev.max_shared_memory
    assert ctx.subgroup_size == dev.subgroup_size
    assert ctx.max_workgroup_size == tuple(dev.max_workgroup_size)
    assert ctx.max_workgroup_invocations == dev.max_workgroup_invocations
    assert ctx.max_workgroup_count == tuple(dev.max_workgroup_count)
    assert ctx.uniform_buffer_alignment == dev.uniform_buffer_alignment
    assert ctx.subgroup_enabled == bool(dev.subgroup_ops and dev.subgroup_size)
    assert ctx.subgroup_arithmetic == ("arithmetic" in dev.subgroup_ops)
    assert ctx.queue_count == sum(len(f) for f in ctx.queue_families)
    assert [d.device_name for d in ctx.device_infos] == [d.name for d in ctx.devices]
    assert ctx.mapped_device_ids == ctx.device_ids
    assert vd.is_context_initialized()
    assert vd.get_context_handle() is ctx.runtime_context
    # 0.1 code sizes work by the limits: one workgroup as large as allowed
    n = min(ctx.max_workgroup_invocations, ctx.max_workgroup_size[0], 256)
    data = np.arange(n, dtype=np.float32)
    buf = vd.asbuffer(data)
    scale(buf, 3.0)
    np.testing.assert_array_equal(buf.read(0), data * 3)


def test_make_context_with_explicit_queue_families(backend):
    families = vd.select_queue_families(0, 1)
    ctx = vd.make_context(device_ids=[0], queue_families=[families])
    assert ctx.queue_count == 1 and ctx.queue_families == [families]
    buf = vd.asbuffer(np.ones(16, np.float32))
    # 0.1's make_context returned the context in use: the same request keeps it and
    # its buffers; get_context is make_context() in 0.1
    assert vd.make_context(device_ids=[0], queue_families=[families]) is ctx
    assert vd.get_context() is ctx
    scale(buf, 2.0)
    np.testing.assert_array_equal(buf.read(0), np.full(16, 2, np.float32))
    with pytest.raises(ValueError, match="queue_families for device 0"):
        vd.make_context(device_ids=[0], queue_families=[[99]])
    with pytest.raises(ValueError, match="queue_count"):
        vd.select_queue_families(0, 10_000)
    with pytest.raises(ValueError, match="device_index"):
        vd.select_queue_families(99)


def test_multi_queue_context_in_0_1_style(backend):
    ctx = vd.make_context(multi_queue=True)
    fams = vd.select_queue_families(ctx.device_ids[0])
    assert ctx.queue_count == len(fams)   # the same count 0.1's select would ask for
    data = np.arange(64, dtype=np.float32)
    buf = vd.asbuffer(data)
    scale(buf, 0.5)
    for q in range(ctx.queue_count):
        np.testing.assert_array_equal(buf.read(q), data * 0.5)
    vd.make_context()


def test_driver_only_fields_raise_where_a_backend_lacks_them(dummy):
    dev = vd.get_devices()[0]
    with pytest.raises(AttributeError, match="dummy backend does not report 'vendor_id'"):
        dev.vendor_id
    assert dev.device_type == 3 and dev.device_type == "virtual" and dev.device_type != 4
    assert {dev.device_type: 1}["virtual"] == 1          # hashes as its name
    assert dev.queue_properties == [(2, 0x6)]              # streams made at will
    ctx = vd.get_context()
    assert ctx.max_shared_memory == dev.max_compute_shared_memory_size
    assert vd.select_queue_families(0) == [0, 0]


def test_context_tutorial_lines(backend, monkeypatch):
    """0.1's context tutorial, line by line: each keeps the backend in use."""
    monkeypatch.delenv("VK_LOADER_DEBUG", raising=False)   # restored after the test
    try:
        vd.initialize(debug_mode=True)
        assert vd.get_backend() == backend and vd.get_context().debug
        vd.initialize(loader_debug_logs=True)
        vd.initialize(log_level=vd.LogLevel.INFO)
        assert vd.get_backend() == backend and not vd.get_context().debug
        for kwargs in ({"multi_device": True}, {"multi_queue": True},
                       {"multi_device": True, "multi_queue": True}):
            ctx = vd.make_context(**kwargs)
            data = np.arange(32, dtype=np.float32)
            buf = vd.asbuffer(data)
            scale(buf, 4.0)
            for q in range(ctx.queue_count):
                np.testing.assert_array_equal(buf.read(q), data * 4)
    finally:
        vd.set_log_level("warning")
        vd.initialize(backend=backend)
        vd.make_context()
