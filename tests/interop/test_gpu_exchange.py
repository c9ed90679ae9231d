"""Zero-copy exchange with PyTorch and CuPy over DLPack on the CUDA backend, with the
stream hand-off (GPU machine only; skipped where CUDA, torch or cupy is missing)."""
import gc
import weakref

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.interop import _capsule
from vkdispatch.interop.cupy import as_cupy, from_cupy
from vkdispatch.interop.torch import as_torch, from_torch

from .gpu import add_const, cuda_library

N = 1 << 22   # big enough that a missing hand-off shows as a wrong read


@pytest.fixture
def torch(cuda):
    return cuda_library("torch")


@pytest.fixture
def cupy(cuda):
    return cuda_library("cupy")


def _ptr(buf):
    return buf.__cuda_array_interface__["data"][0]


def test_torch_sees_a_buffer_and_back(torch):
    buf = vd.asbuffer(np.arange(N, dtype=np.float32))
    t = as_torch(buf)
    assert t.is_cuda and t.data_ptr() == _ptr(buf) and t.shape == (N,)
    add_const(buf, 1.0)                       # vkdispatch writes, pending on its stream
    t2 = as_torch(buf)                        # the hand-off orders torch after add_const
    np.testing.assert_array_equal(t2[:4].cpu().numpy(), [1, 2, 3, 4])
    t2.mul_(2)                                # torch writes on its stream ...
    back = from_torch(t2)                     # ... and vkdispatch's queue waits for it
    assert _ptr(back) == t2.data_ptr()
    np.testing.assert_array_equal(back.read(0)[:4], [2, 4, 6, 8])


def test_torch_tensors_become_buffers_without_copies(torch):
    x = torch.arange(N, device="cuda", dtype=torch.float32)
    buf = from_torch(x)
    assert _ptr(buf) == x.data_ptr()
    del x                                     # the buffer keeps the tensor alive
    add_const(buf, 3.0)
    np.testing.assert_array_equal(buf.read(0)[:3], [3, 4, 5])
    legacy = torch.utils.dlpack.from_dlpack(buf.__dlpack__())   # legacy capsule
    assert legacy.data_ptr() == _ptr(buf)


def test_no_race_across_torch_and_vkdispatch_streams(torch):
    s1, s2 = torch.cuda.Stream(), torch.cuda.Stream()
    for _ in range(5):
        with torch.cuda.stream(s1):
            x = torch.ones(N, device="cuda")
            for _ in range(20):               # a long queue of work on s1
                x.mul_(1.0001).add_(0.0)
            buf = from_torch(x)               # our queue waits for s1
        add_const(buf, 1.0)
        with torch.cuda.stream(s2):
            y = as_torch(buf)                 # s2 waits for our queue
            total = (y - x.new_tensor(1.0001 ** 20)).sum()
        s2.synchronize()
        assert total.item() == pytest.approx(N, rel=1e-4)


def test_cupy_sees_a_buffer_and_back(cupy):
    buf = vd.asbuffer(np.arange(N, dtype=np.float32))
    a = as_cupy(buf)
    assert a.data.ptr == _ptr(buf)
    add_const(buf, 1.0)
    a2 = as_cupy(buf)
    np.testing.assert_array_equal(cupy.asnumpy(a2[:4]), [1, 2, 3, 4])
    a2 *= 2
    back = from_cupy(a2)
    assert _ptr(back) == a2.data.ptr
    np.testing.assert_array_equal(back.read(0)[:4], [2, 4, 6, 8])
    c = cupy.arange(10, dtype=cupy.float32)
    cb = from_cupy(c)
    add_const(cb, 5.0)
    np.testing.assert_array_equal(cupy.asnumpy(as_cupy(cb)), np.arange(10) + 5)


def test_numpy_copies_cuda_buffers_to_the_host(cuda):
    buf = vd.asbuffer(np.arange(16, dtype=np.float32))
    assert buf.__dlpack_device__()[0] == 2
    np.testing.assert_array_equal(np.from_dlpack(buf, device="cpu"), np.arange(16))
    with pytest.raises(BufferError, match="copy=False"):
        np.from_dlpack(buf, device="cpu", copy=False)


def test_training_loop_moves_nothing_through_the_host(torch):
    w = torch.randn(1 << 20, device="cuda")
    vd.reset_stats()
    for _ in range(20):
        grad = torch.randn_like(w)
        g = from_torch(grad)
        add_const(g, 0.5)                     # a vkdispatch kernel in the step
        w -= 0.01 * as_torch(g)
    torch.cuda.synchronize()
    s = vd.stats()
    assert s.bytes_from_device == 0
    assert s.dispatches_recorded >= 20


def test_many_cuda_exchanges_free_everything(torch, cuda):
    rctx = cuda.runtime_context
    gc.collect()
    torch.cuda.synchronize()
    base_live = _capsule.live_count()
    free0 = rctx.memory_info(0)[0]
    refs = []
    for _ in range(300):
        buf = vd.Buffer((1 << 16,), vd.float32)
        t = as_torch(buf)
        back = from_torch(t)
        refs += [weakref.ref(buf), weakref.ref(back)]
        del buf, t, back
    gc.collect()
    torch.cuda.synchronize()
    assert all(r() is None for r in refs)
    assert _capsule.live_count() == base_live
    assert rctx.memory_info(0)[0] >= free0 - (8 << 20)   # allocator slack only


def test_torch_and_arrays_share_memory_both_ways(torch):
    import vkdispatch.array_api as xp
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = xp.asarray(data) * 2                      # pending: placed on export
    t = torch.from_dlpack(x)
    assert t.data_ptr() == x.__cuda_array_interface__["data"][0]
    np.testing.assert_array_equal(t.cpu().numpy(), data * 2)
    tt = torch.from_dlpack(x.T)                   # a strided view, shared
    assert tt.data_ptr() == t.data_ptr() and tt.stride() == (1, 4)
    t.add_(1)
    torch.cuda.current_stream().synchronize()
    np.testing.assert_array_equal(np.asarray(x), data * 2 + 1)
    src = torch.arange(10, device="cuda", dtype=torch.float32)
    y = xp.from_dlpack(src)                       # our queue waits for torch's stream
    assert y.__cuda_array_interface__["data"][0] == src.data_ptr()
    np.testing.assert_allclose(np.asarray(np.sin(y)), np.sin(np.arange(10, dtype=np.float32)),
                               rtol=1e-6, atol=1e-7)
    z = xp.asarray(src)                           # asarray of a producer shares too
    assert z.__cuda_array_interface__["data"][0] == src.data_ptr()


def test_cupy_and_arrays_share_memory_both_ways(cupy):
    import vkdispatch.array_api as xp
    x = xp.asarray(np.arange(8, dtype=np.float32))
    a = cupy.from_dlpack(x)
    assert a.data.ptr == x.__cuda_array_interface__["data"][0]
    b = cupy.asarray(x[::2])                      # through the CUDA Array Interface
    np.testing.assert_array_equal(cupy.asnumpy(b), np.arange(0, 8, 2))
    c = cupy.arange(6, dtype=cupy.float32)
    y = xp.from_dlpack(c)
    assert y.__cuda_array_interface__["data"][0] == c.data.ptr
    np.testing.assert_array_equal(np.asarray(y + 1), np.arange(6) + 1)
