"""Zero-copy exchange with CuPy and PyTorch on the CUDA backend (GPU machine only)."""
import numpy as np
import pytest

import vkdispatch as vd

from .gpu import add_const, cuda_library


def test_numpy_array_protocol_on_any_backend(backend):
    buf = vd.asbuffer(np.arange(10, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(buf), np.arange(10))


def test_interface_needs_cuda(backend):
    if backend == "cuda":
        pytest.skip("checks the other backends")
    buf = vd.asbuffer(np.zeros(4, np.float32))
    assert not hasattr(buf, "__cuda_array_interface__")


def test_cupy_sees_buffer_memory(cuda):
    cp = cuda_library("cupy")
    buf = vd.asbuffer(np.arange(1000, dtype=np.float32))
    view = cp.asarray(buf)
    assert view.data.ptr == buf.__cuda_array_interface__["data"][0]
    view *= 2                                   # write through CuPy ...
    cp.cuda.get_current_stream().synchronize()
    np.testing.assert_array_equal(buf.read(0), np.arange(1000) * 2)   # ... read through vd
    add_const(buf, 1.0)                        # write through vd ...
    np.testing.assert_array_equal(cp.asnumpy(cp.asarray(buf)), np.arange(1000) * 2 + 1)


def test_torch_sees_buffer_memory(cuda):
    torch = cuda_library("torch")
    buf = vd.asbuffer(np.arange(64, dtype=np.float32).reshape(8, 8))
    t = torch.as_tensor(buf, device="cuda")
    assert t.shape == (8, 8) and t.data_ptr() == buf.__cuda_array_interface__["data"][0]
    t.add_(5)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(buf.read(0), np.arange(64).reshape(8, 8) + 5)


def test_wrap_cupy_and_torch_allocations(cuda):
    cp = cuda_library("cupy")
    torch = cuda_library("torch")
    a = cp.arange(500, dtype=cp.float32)
    buf = vd.from_cuda_array(a)
    add_const(buf, 3.0)
    vd.queue_wait_idle()
    np.testing.assert_array_equal(cp.asnumpy(a), np.arange(500) + 3)
    t = torch.ones(300, device="cuda")
    tb = vd.from_cuda_array(t)
    del t                                       # the buffer keeps the tensor alive
    add_const(tb, 1.0)
    np.testing.assert_array_equal(tb.read(0), np.full(300, 2.0))
    with pytest.raises(ValueError, match="C-contiguous"):
        vd.from_cuda_array(cp.zeros((10, 10), cp.float32)[:, ::2])


def test_work_orders_on_a_torch_stream(cuda):
    torch = cuda_library("torch")
    stream = torch.cuda.Stream()
    x = torch.zeros(1 << 20, device="cuda")
    buf = vd.from_cuda_array(x)
    with torch.cuda.stream(stream), vd.cuda_stream(stream):
        for k in range(10):
            x.add_(1)                 # torch on `stream`
            add_const(buf, 10.0)      # vkdispatch on the same stream
            vd.global_graph().submit()
        x.mul_(2)
    stream.synchronize()
    np.testing.assert_array_equal(x.cpu().numpy(), np.full(1 << 20, 220.0))


def test_torch_graph_capture_replays_vkdispatch_kernels(cuda):
    torch = cuda_library("torch")
    x = torch.zeros(4096, device="cuda")
    buf = vd.from_cuda_array(x)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream), vd.cuda_stream(stream):   # warm up: build and load
        x.add_(1)
        add_const(buf, 1.0)
    stream.synchronize()
    x.zero_()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        x.add_(1)
        with vd.cuda_stream(torch.cuda.current_stream()):
            add_const(buf, 10.0)
        x.mul_(2)
    torch.cuda.synchronize()
    x.zero_()
    for _ in range(3):
        graph.replay()
    torch.cuda.synchronize()
    expect = 0.0
    for _ in range(3):
        expect = (expect + 1 + 10) * 2
    np.testing.assert_array_equal(x.cpu().numpy(), np.full(4096, expect))


def test_cuda_graph_capture_of_vkdispatch_calls(cuda):
    data = np.arange(10000, dtype=np.float32)
    a = vd.asbuffer(data)
    add_const(a, 0.0)            # build and load before capturing
    vd.queue_wait_idle()
    graph = vd.CUDAGraph()
    with graph.capture():
        for _ in range(5):
            add_const(a, 2.0)
    np.testing.assert_array_equal(a.read(0), data)   # captured, not run
    for _ in range(4):
        graph.replay()
    graph.wait()
    np.testing.assert_array_equal(a.read(0), data + 40)
    graph.destroy()


def test_cuda_graph_needs_cuda(backend):
    if backend == "cuda":
        pytest.skip("checks the other backends")
    with pytest.raises(vd.VkDispatchError, match="CUDA backend"):
        vd.CUDAGraph()
