"""DLPack 1.0 and NumPy's __array__ on every backend here: export to NumPy, import from
host producers, capsule flags and lifetimes (no leak, no double free)."""
import gc
import sys
import weakref

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt
from vkdispatch.interop import _capsule

CPU = (1, 0)


class HostProducer:
    """A DLPack producer that is not numpy (numpy arrays are read directly)."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kw):
        return self.array.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


class FarProducer:
    """A producer on a device nothing here reaches, which gives no host copy."""

    def __dlpack_device__(self):
        return (10, 3)   # ROCm device 3

    def __dlpack__(self, **kw):
        raise BufferError("this producer exports on its own device only")


def _stats_of(buf):
    rctx = buf.context.runtime_context
    return rctx.memory_stats(0)["live_allocations"] if hasattr(rctx, "memory_stats") else None


@pytest.mark.parametrize("dtype, data", [
    (vd.float32, np.arange(12, dtype=np.float32).reshape(3, 4)),
    (vd.int32, np.arange(-6, 6, dtype=np.int32)),
    (vd.uint8, np.arange(7, dtype=np.uint8)),
    (vd.complex64, (np.arange(5) + 1j * np.arange(5)).astype(np.complex64)),
    (vd.vec4, np.arange(8, dtype=np.float32).reshape(2, 4)),
    (vd.bool_, np.array([True, False, True])),
])
def test_numpy_reads_buffers_through_dlpack(backend, dtype, data):
    buf = vd.asbuffer(data, dtype)
    outs = [np.from_dlpack(buf, device="cpu"), np.from_dlpack(buf, device="cpu", copy=True)]
    if buf.__dlpack_device__()[0] == rt.DLPACK_CUDA:
        # CUDA memory is exported as such (as torch and CuPy do): NumPy must ask for the CPU
        with pytest.raises((BufferError, RuntimeError), match="Unsupported device|CPU"):
            np.from_dlpack(buf)
    else:                                # no CUDA memory: a host copy for any consumer
        outs += [np.from_dlpack(buf), np.from_dlpack(buf, copy=True)]
    for out in outs:
        assert out.dtype == data.dtype and out.shape == data.shape
        np.testing.assert_array_equal(out, data)


def test_dlpack_device_comes_from_the_runtime(backend):
    buf = vd.asbuffer(np.zeros(4, np.float32))
    rctx = buf.context.runtime_context
    kind = rctx.capabilities.dlpack_device_type
    assert buf.__dlpack_device__() == (kind, rctx.devices[rctx.queue_device[0]].index)
    assert kind == {"vulkan": rt.DLPACK_VULKAN, "opencl": rt.DLPACK_OPENCL,
                    "cuda": rt.DLPACK_CUDA}[backend]


def test_views_export_their_own_elements(backend):
    buf = vd.asbuffer(np.arange(20, dtype=np.float32))
    np.testing.assert_array_equal(np.from_dlpack(buf.view(5, (3, 5)), device="cpu"),
                                  np.arange(5, 20).reshape(3, 5))


def test_versioned_and_legacy_capsules(backend):
    buf = vd.asbuffer(np.arange(6, dtype=np.float32))
    cpu = {} if buf.context.runtime_context.capabilities.cuda_array_interface else \
        {"dl_device": CPU}
    legacy = buf.__dlpack__(**cpu)
    versioned = buf.__dlpack__(max_version=(1, 1), **cpu)
    assert 'capsule object "dltensor"' in repr(legacy)
    assert 'capsule object "dltensor_versioned"' in repr(versioned)
    assert 'capsule object "dltensor"' in repr(buf.__dlpack__(max_version=(0, 8), **cpu))
    taken = _capsule.Consumed(versioned)
    assert 'used_dltensor_versioned' in repr(versioned)
    assert taken.shape() == (6,) and taken.strides() == (1,)
    assert (taken.tensor.dtype.code, taken.tensor.dtype.bits) == (2, 32)
    before = _capsule.live_count()
    taken.release()
    taken.release()                      # a second release does nothing
    assert _capsule.live_count() == before - 1
    with pytest.raises(TypeError, match="no unused DLPack capsule"):
        _capsule.Consumed(versioned)     # already consumed


def test_capsule_flags(backend):
    buf = vd.asbuffer(np.arange(4, dtype=np.float32))
    host = _capsule.Consumed(buf.__dlpack__(max_version=(1, 0), dl_device=CPU))
    assert host.flags & _capsule.IS_COPIED and not host.flags & _capsule.READ_ONLY
    buf.is_writable = False              # as a buffer over a read-only import is
    ro = _capsule.Consumed(buf.__dlpack__(max_version=(1, 0), dl_device=CPU))
    assert ro.flags & _capsule.READ_ONLY
    out = np.from_dlpack(buf, device="cpu")
    assert not out.flags.writeable


def test_bad_arguments_name_what_is_valid(backend):
    buf = vd.asbuffer(np.arange(4, dtype=np.float32))
    with pytest.raises(ValueError, match="0 is ambiguous"):
        buf.__dlpack__(stream=0)
    with pytest.raises(TypeError, match="max_version"):
        buf.__dlpack__(max_version="1.0")
    with pytest.raises(TypeError, match="dl_device"):
        buf.__dlpack__(dl_device="cpu")
    with pytest.raises(ValueError, match="copy must be"):
        buf.__dlpack__(copy="yes")
    with pytest.raises(BufferError, match=r"valid: \[\(1, 0\)"):
        buf.__dlpack__(dl_device=(8, 0))         # Metal
    if not buf.context.runtime_context.capabilities.cuda_array_interface:
        with pytest.raises(BufferError, match="needs a copy"):
            np.from_dlpack(buf, copy=False)
    buf.destroy()
    with pytest.raises(vd.VkDispatchError, match="destroyed"):
        buf.__dlpack__()


def test_array_protocol_numpy2(backend):
    buf = vd.asbuffer(np.arange(5, dtype=np.int32))
    out = np.asarray(buf, dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.arange(5))
    with pytest.raises(ValueError, match="needs a copy"):
        np.array(buf, copy=False)
    np.testing.assert_array_equal(np.array(buf, copy=True), np.arange(5))


def test_import_host_producers(backend):
    data = np.arange(24, dtype=np.float32).reshape(4, 6)
    for src in (data, HostProducer(data), data[:, ::2], HostProducer(data.T)):
        ref = np.asarray(src.array if isinstance(src, HostProducer) else src)
        buf = vd.from_dlpack(src)
        assert buf.shape == ref.shape and buf.dtype is vd.float32
        np.testing.assert_array_equal(buf.read(0), ref)
    buf = vd.asbuffer(HostProducer(np.arange(3, dtype=np.int16)), vd.int32)
    assert buf.dtype is vd.int32
    np.testing.assert_array_equal(buf.read(0), [0, 1, 2])
    with pytest.raises(BufferError, match="copy=False"):
        vd.from_dlpack(data, copy=False)
    with pytest.raises(TypeError, match="DLPack producer"):
        vd.from_dlpack([1, 2, 3])


def test_import_of_an_unreachable_device_names_it(backend):
    with pytest.raises(BufferError, match=r"ROCm:3.*cannot reach"):
        vd.from_dlpack(FarProducer())


def test_from_dlpack_of_a_buffer_shares_or_copies(backend):
    buf = vd.asbuffer(np.zeros(8, np.float32))
    shared = vd.from_dlpack(buf)
    copied = vd.from_dlpack(buf, copy=True)
    shared.write(np.ones(8, np.float32))
    np.testing.assert_array_equal(buf.read(0), np.ones(8))
    np.testing.assert_array_equal(copied.read(0), np.zeros(8))
    np.testing.assert_array_equal(vd.asbuffer(buf).read(0), np.ones(8))


def test_many_exchanges_release_everything(backend):
    """Capsules consumed by numpy, dropped unconsumed, and consumed by hand: each
    managed tensor is released once, the buffers and host copies with it."""
    gc.collect()
    base = _capsule.live_count()
    buf = vd.asbuffer(np.arange(256, dtype=np.float32))
    before = _stats_of(buf)
    kw = {} if buf.context.runtime_context.capabilities.cuda_array_interface else \
        {"dl_device": CPU}
    held = [np.from_dlpack(buf, device="cpu") for _ in range(200)]
    assert _capsule.live_count() == base + 200
    for _ in range(300):
        buf.__dlpack__(max_version=(1, 0), **kw)        # never consumed
        buf.__dlpack__(**kw)
    for _ in range(100):
        _capsule.Consumed(buf.__dlpack__(max_version=(1, 0), **kw))
    assert _capsule.live_count() == base + 200
    ref = weakref.ref(buf)
    del buf
    gc.collect()
    np.testing.assert_array_equal(held[-1], np.arange(256))
    del held
    gc.collect()
    assert _capsule.live_count() == base
    assert ref() is None
    imported = [weakref.ref(vd.from_dlpack(np.arange(64.0, dtype=np.float32)))
                for _ in range(100)]
    gc.collect()
    assert all(r() is None for r in imported)
    probe = vd.Buffer(4)
    if before is not None:    # the runtime's own count of allocations (Vulkan)
        assert _stats_of(probe) == before
    probe.destroy()


def test_a_consumer_failing_after_export_leaks_nothing(backend, monkeypatch):
    """numpy rejects a device tensor after taking the capsule: the capsule's
    destructor then runs while numpy's error is in flight, which must survive."""
    class DeviceOnly:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kw):
            host = np.arange(4.0)
            return _capsule.make_capsule(host, host.ctypes.data, (2, 0), (4,), (1,),
                                         (2, 64, 1), 0, kw.get("max_version") is not None)

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    gc.collect()
    base = _capsule.live_count()
    for _ in range(20):
        with pytest.raises((RuntimeError, BufferError), match="Unsupported device"):
            np.from_dlpack(DeviceOnly())     # NumPy versions differ in the type
    gc.collect()
    assert _capsule.live_count() == base and reported == []


def test_an_exception_in_flight_survives_released_capsules(backend):
    buf = vd.asbuffer(np.arange(4, dtype=np.float32))

    def fails():
        unused = [buf.__dlpack__(dl_device=CPU) for _ in range(3)]
        taken = [np.from_dlpack(buf, device="cpu") for _ in range(3)]
        assert len(unused) == len(taken) == 3
        raise KeyError("mine")

    gc.collect()
    base = _capsule.live_count()
    with pytest.raises(KeyError, match="mine"):
        fails()
    gc.collect()
    assert _capsule.live_count() == base


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (2, 0)])
def test_empty_and_0d_round_trips(backend, shape):
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    buf = vd.from_dlpack(data)
    assert buf.shape == shape
    out = np.from_dlpack(buf, device="cpu")
    assert out.shape == shape
    np.testing.assert_array_equal(out, data)
