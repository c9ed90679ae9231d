"""The zero-copy DLPack paths (export of device pointers, import by wrapping, the
stream hand-off) against a runtime that claims those capabilities: the test's
Vulkan/OpenCL context with its capabilities and pointer methods replaced, so the
logic above the backends runs here. The real CUDA run is test_gpu_exchange.py."""
import gc

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt
from vkdispatch.interop import _capsule

FAKE_BASE = 0x7000_0000


class Fake:
    def __init__(self, rctx):
        self.rctx = rctx
        self.ordered = []       # (stream, queue) of order_stream_after
        self.wrapped = []       # (ptr, nbytes) of wrap_device_pointer
        self.owners = []

    def device_pointer(self, handle):
        return FAKE_BASE + (handle[1] if isinstance(handle, tuple) else 0)

    def order_stream_after(self, stream, queue=0):
        self.ordered.append((stream, queue))

    def wrap_device_pointer(self, ptr, nbytes, owner, queue=0):
        self.wrapped.append((ptr, nbytes))
        self.owners.append(owner)
        return self.rctx.buffer_alloc(queue, max(nbytes, 16))


@pytest.fixture
def fake(backend, monkeypatch):
    rctx = vd.get_context().runtime_context
    f = Fake(rctx)
    caps = rt.Capabilities(dlpack_device_type=rctx.capabilities.dlpack_device_type,
                           cuda_stream=True, external_streams=True,
                           cuda_array_interface=True, external_memory=True)
    monkeypatch.setattr(rctx, "capabilities", caps)
    for name in ("device_pointer", "order_stream_after", "wrap_device_pointer"):
        monkeypatch.setattr(rctx, name, getattr(f, name))
    monkeypatch.setattr(rctx, "stream_handle", lambda q: 777)
    yield f
    f.owners.clear()
    gc.collect()


class DeviceProducer:
    """A producer on the runtime's own DLPack device, its data in host memory."""

    def __init__(self, array, device, flags=0, strides=None):
        self.array, self.device, self.flags, self.strides = array, device, flags, strides
        self.streams = []

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        self.streams.append(stream)
        a = self.array
        if dl_device == (1, 0):
            return a.__dlpack__(max_version=max_version)
        strides = self.strides or tuple(s // a.itemsize for s in a.strides)
        return _capsule.make_capsule(a, a.ctypes.data, self.device, a.shape, strides,
                                     (2, 32, 1), self.flags, max_version is not None)


def test_export_shares_the_device_pointer_and_hands_off_the_stream(fake):
    buf = vd.asbuffer(np.arange(12, dtype=np.float32).reshape(3, 4))
    t = _capsule.Consumed(buf.__dlpack__(stream=5, max_version=(1, 0)))
    assert t.tensor.data == FAKE_BASE and t.shape() == (3, 4) and t.strides() == (4, 1)
    assert (t.tensor.device.device_type, t.tensor.device.device_id) == buf.__dlpack_device__()
    assert t.flags == 0 and fake.ordered == [(5, 0)]
    buf.__dlpack__()                               # None: the legacy default stream
    buf.__dlpack__(stream=-1)                      # -1: no synchronization
    assert fake.ordered == [(5, 0), (1, 0)]
    view = _capsule.Consumed(buf.view(4, (2, 2)).__dlpack__(max_version=(1, 0)))
    assert view.tensor.data == FAKE_BASE + 16 and view.shape() == (2, 2)
    copied = _capsule.Consumed(buf.__dlpack__(max_version=(1, 0), copy=True))
    assert copied.flags & _capsule.IS_COPIED
    host = _capsule.Consumed(buf.__dlpack__(max_version=(1, 0), dl_device=(1, 0)))
    assert host.tensor.device.device_type == 1 and host.tensor.data != FAKE_BASE
    buf.is_writable = False
    ro = _capsule.Consumed(buf.__dlpack__(max_version=(1, 0)))
    assert ro.flags & _capsule.READ_ONLY
    with pytest.raises(BufferError, match="bool"):
        vd.asbuffer(np.array([True])).__dlpack__()


def test_import_wraps_the_producer_memory_and_keeps_it(fake):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    device = vd.asbuffer(np.zeros(1, np.float32)).__dlpack_device__()
    gc.collect()
    base = _capsule.live_count()
    prod = DeviceProducer(data, device)
    buf = vd.from_dlpack(prod)
    assert prod.streams == [777]                   # the producer orders our stream
    assert fake.wrapped == [(data.ctypes.data, data.nbytes)]
    assert buf.shape == (2, 3) and buf.dtype is vd.float32 and buf.is_writable
    assert _capsule.live_count() == base + 1       # held while the buffer's owner lives
    assert any(prod in o for o in fake.owners if isinstance(o, tuple))
    fake.owners.clear()
    gc.collect()
    assert _capsule.live_count() == base           # the producer's deleter ran once
    ro = vd.from_dlpack(DeviceProducer(data, device, flags=_capsule.READ_ONLY))
    assert not ro.is_writable
    with pytest.raises(ValueError, match="read-only"):
        ro.write(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        vd.from_dlpack(DeviceProducer(data, device, strides=(1, 2)))
    assert len(vd.asbuffer(DeviceProducer(data, device)).shape) == 2   # shared too
    converted = vd.asbuffer(DeviceProducer(data, device), vd.float64)  # a host copy
    np.testing.assert_array_equal(converted.read(0), data)
    copied = vd.from_dlpack(DeviceProducer(data, device), copy=True)
    np.testing.assert_array_equal(copied.read(0).shape, (2, 3))
    other = (device[0], device[1] + 1)           # another device of that type
    with pytest.raises(BufferError, match="copy=False"):
        vd.from_dlpack(DeviceProducer(data, other), copy=False)


def test_arrays_export_strided_views_without_copies(fake):
    import vkdispatch.array_api as xp
    x = xp.asarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    t = _capsule.Consumed(x.T.__dlpack__(max_version=(1, 0)))
    assert t.shape() == (4, 3) and t.strides() == (1, 4) and t.tensor.data == FAKE_BASE
    assert not t.flags & _capsule.IS_COPIED
    s = _capsule.Consumed(x[1:, ::2].__dlpack__(max_version=(1, 0)))
    assert s.shape() == (2, 2) and s.strides() == (4, 2) and s.tensor.data == FAKE_BASE + 16
    flipped = _capsule.Consumed(xp.flip(x, axis=1).__dlpack__(max_version=(1, 0)))
    assert flipped.flags & _capsule.IS_COPIED and all(v > 0 for v in flipped.strides())
    with pytest.raises(BufferError, match="bool"):
        (x > 1).__dlpack__()
    cai = x.T.__cuda_array_interface__
    assert cai["shape"] == (4, 3) and cai["strides"] == (4, 16) and cai["version"] == 3
    assert cai["data"] == (FAKE_BASE, False) and cai["stream"] == 777
    assert x.__cuda_array_interface__["strides"] is None
    assert (1, 0) in fake.ordered     # consumers that ignore the stream are ordered too
