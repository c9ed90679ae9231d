"""vkdispatch 0.1's CUDA interop code (its PyTorch CUDA-graph example, from_cuda_array,
asbuffer of CUDA arrays) on the GPU machine; skipped where CUDA or the library is
missing."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader(exec_size=lambda args: args.x.size)
def custom_shader(out: Buff[f32], x: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    out[tid] = x[tid] * 1.5 + vc.sin(x[tid]) + bias


def _torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    return torch


def _start(backend_name):
    try:
        vd.initialize(backend=backend_name)
        vd.make_context()
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        pytest.skip(str(exc))


@pytest.fixture
def cuda_backend():
    _start("cuda")
    yield
    vd.shutdown()


def test_example_torch_cuda_graph_with_cuda_graph_capture(cuda_backend):
    torch = _torch()
    n, bias = 16, 0.25
    x = torch.zeros(n, device="cuda", dtype=torch.float32)
    out = torch.empty_like(x)
    x_vd = vd.from_cuda_array(x)
    out_vd = vd.from_cuda_array(out)
    cmd_graph = vd.CommandGraph()
    custom_shader(out=out_vd, x=x_vd, bias=bias, graph=cmd_graph)
    cmd_graph.prepare_for_cuda_graph_capture()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        with vd.cuda_graph_capture(torch.cuda.current_stream()) as cap:
            assert vd.get_cuda_capture() is cap and isinstance(cap, vd.CUDAGraphCapture)
            cmd_graph.submit()
    assert vd.get_cuda_capture() is None
    for value in [0.0, 1.0, 2.0, 3.0]:
        x.fill_(value)
        graph.replay()
        torch.cuda.synchronize()
        expected = x * 1.5 + torch.sin(x) + bias
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_cuda_graph_capture_without_a_stream_replays(cuda_backend):
    data = np.arange(1000, dtype=np.float32)
    out = vd.Buffer((1000,), vd.float32)
    x = vd.asbuffer(data)
    custom_shader(out, x, 1.0)          # build and load before capturing
    vd.queue_wait_idle()
    out.write(np.zeros(1000, np.float32))
    with vd.cuda_graph_capture() as cap:
        custom_shader(out, x, 2.0)
    np.testing.assert_array_equal(out.read(0), np.zeros(1000))   # captured, not run
    cap.replay()
    assert cap.graph.wait(timeout=60)
    np.testing.assert_allclose(out.read(0), data * 1.5 + np.sin(data) + 2.0, rtol=1e-5,
                               atol=1e-4)


def test_from_cuda_array_0_1_keywords_and_asbuffer_zero_copy(cuda_backend):
    torch = _torch()
    t = torch.arange(12, device="cuda", dtype=torch.float32)
    buf = vd.from_cuda_array(t, var_type=vd.float32, require_contiguous=True, keepalive=True)
    alias = vd.asbuffer(t)                                  # zero-copy on CUDA
    assert alias.__cuda_array_interface__["data"][0] == t.data_ptr()
    t.add_(1)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(buf.read(0), np.arange(12) + 1)
    np.testing.assert_array_equal(alias.read(0), np.arange(12) + 1)
    ro = vd.from_cuda_array(t, writable=False)
    with pytest.raises(ValueError, match="read-only"):
        ro.write(np.zeros(12, np.float32))


def test_asbuffer_copies_a_cuda_array_into_another_backend():
    torch = _torch()
    ran = []
    for name in ("vulkan", "opencl"):
        try:
            vd.initialize(backend=name)
            vd.make_context()
        except vd.BackendUnavailableError:
            continue
        try:
            t = torch.linspace(-3, 3, 999, device="cuda")
            want = t.cpu().numpy()
            buf = vd.asbuffer(t)
            t.zero_()                                       # a copy, not an alias
            torch.cuda.synchronize()
            np.testing.assert_array_equal(buf.read(0), want)
            ran.append(name)
        finally:
            vd.shutdown()
    if not ran:
        pytest.skip("neither Vulkan nor OpenCL works here")
