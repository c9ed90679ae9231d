"""CUDA programs and command lists on a real device, with hand-written kernels following
the ABI the CUDA emitter generates (bindings by Binding.index, then uniform fields by
value). Skipped (with the reason) where no CUDA device is usable."""
import dataclasses

import numpy as np
import pytest

pytest.importorskip("cuda.bindings.driver")

import vkdispatch.backends.cuda as cuda_backend  # noqa: E402
from vkdispatch.base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE, Binding, ProgramInfo, UniformField  # noqa: E402
from vkdispatch.base.errors import (DeviceError, DeviceLimitError,  # noqa: E402
                                    ShaderCompileError, UnsupportedFeatureError)

REASON = cuda_backend.probe()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no usable CUDA device: {REASON}")

SB = BINDING_STORAGE_BUFFER

SAXPY = r"""
extern "C" __global__ void saxpy(float* y, const float* x, float a, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""
# info.bindings lists x first, but y has the lower Binding.index: the kernel takes y first
SAXPY_INFO = ProgramInfo(
    entry_point="saxpy", local_size=(128, 1, 1),
    bindings=(Binding("x", SB, 1, "float32", writable=False), Binding("y", SB, 0, "float32")),
    uniforms=(UniformField("a", "float32", 0, 4), UniformField("n", "uint32", 4, 4)),
    uniform_size=8)

# y = y * m + c: order-sensitive, so replay order and instance order show up in results
AFFINE = r"""
extern "C" __global__ void affine(float* y, float m, float c, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = y[i] * m + c;
}
"""
AFFINE_INFO = ProgramInfo(
    entry_point="affine", local_size=(256, 1, 1), bindings=(Binding("y", SB, 0, "float32"),),
    uniforms=(UniformField("m", "float32", 0, 4), UniformField("c", "float32", 4, 4),
              UniformField("n", "uint32", 8, 4)),
    uniform_size=16)


def saxpy_u(a, n):
    return np.array([a], np.float32).tobytes() + np.array([n], np.uint32).tobytes()


def affine_u(m, c, n):
    return np.array([m, c], np.float32).tobytes() + np.array([n, 0], np.uint32).tobytes()


def groups(n, local):
    return ((n + local - 1) // local, 1, 1)


@pytest.fixture(scope="module")
def saxpy(ctx):
    return ctx.create_program(SAXPY, SAXPY_INFO)


@pytest.fixture(scope="module")
def affine(ctx):
    return ctx.create_program(AFFINE, AFFINE_INFO)


def upload(ctx, arr, queue=0):
    buf = ctx.buffer_alloc(queue, arr.nbytes)
    ctx.buffer_write(buf, arr)
    return buf


def download(ctx, buf, dtype=np.float32, count=None):
    nbytes = buf.nbytes if count is None else count * np.dtype(dtype).itemsize
    return np.frombuffer(ctx.buffer_read(buf, nbytes), dtype)


def test_saxpy_matches_numpy(ctx, saxpy):
    rng = np.random.default_rng(0)
    n = 100_003
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    bx, by = upload(ctx, x), upload(ctx, y)
    cl = ctx.command_list(0)
    assert cl.dispatch(saxpy, groups(n, 128), [bx, by], saxpy_u(2.5, n)) == 0
    assert cl.submit().wait(timeout=10)
    # the GPU fuses a*x+y into one FMA (one rounding), numpy rounds twice
    np.testing.assert_allclose(download(ctx, by), np.float32(2.5) * x + y, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(download(ctx, bx), x)     # x untouched: binding order right
    cl.destroy()
    ctx.buffer_free(bx)
    ctx.buffer_free(by)


def test_copies_and_view_bindings(ctx, affine):
    n = 4096
    src = upload(ctx, np.arange(n, dtype=np.float32))
    dst = upload(ctx, np.zeros(n, np.float32))
    cl = ctx.command_list(0)
    cl.copy(src, dst, 1024 * 4, src_offset=0, dst_offset=2048 * 4)
    # a view of dst starting at element 2048: the kernel sees it as element 0
    cl.dispatch(affine, groups(1024, 256), [(dst, 2048 * 4, 1024 * 4)], affine_u(3, 0, 1024))
    cl.copy((dst, 2048 * 4, 1024 * 4), src, 1024 * 4, dst_offset=4)
    cl.submit().wait()
    out = download(ctx, dst)
    expect = np.zeros(n, np.float32)
    expect[2048:3072] = np.arange(1024) * 3
    np.testing.assert_array_equal(out, expect)
    s = download(ctx, src)
    np.testing.assert_array_equal(s[1:1025], np.arange(1024) * 3)
    np.testing.assert_array_equal(s[1025:], np.arange(1025, n))
    with pytest.raises(ValueError, match="does not fit"):
        cl.copy(src, dst, n * 4, dst_offset=4)
    cl.destroy()
    ctx.buffer_free(src)
    ctx.buffer_free(dst)


def test_graph_replay_matches_direct_launches(ctx, affine):
    n = 3000
    results = []
    for use_graphs in (False, True):
        by = upload(ctx, np.ones(n, np.float32))
        cl = ctx.command_list(0)
        cl.use_graphs = use_graphs
        for c in (1, 2, 3):
            cl.dispatch(affine, groups(n, 256), [by], affine_u(1.5, c, n))
        for _ in range(5):
            cl.submit()
        cl.set_uniform(0, affine_u(0.5, 0, n))      # stale graph: re-captured, still right
        for _ in range(3):
            sig = cl.submit()
        sig.wait()
        results.append(download(ctx, by).copy())
        if use_graphs:
            assert cl.graph_captures >= 2 and cl.graph_launches >= 5
            assert cl.graph_ready
        else:
            assert cl.graph_captures == 0 and cl.graph_launches == 0
        cl.destroy()
        ctx.buffer_free(by)
    expect = np.ones(n, np.float64)
    for m0, c0 in [(1.5, 1)] * 5 + [(0.5, 0)] * 3:
        expect = ((expect * m0 + c0) * 1.5 + 2) * 1.5 + 3
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[1], expect, rtol=1e-5)


def test_capture_graph_explicitly(ctx, affine):
    n = 256
    by = upload(ctx, np.zeros(n, np.float32))
    cl = ctx.command_list(0)
    with pytest.raises(UnsupportedFeatureError, match="no work"):
        cl.capture_graph()
    cl.dispatch(affine, (1, 1, 1), [by], affine_u(1, 1, n))
    cl.capture_graph()
    assert cl.graph_ready
    cl.submit()
    cl.submit().wait()
    assert cl.graph_launches == 2
    np.testing.assert_array_equal(download(ctx, by), np.full(n, 2))
    cl.destroy()
    ctx.buffer_free(by)


def test_program_errors(ctx):
    with pytest.raises(ShaderCompileError):
        ctx.create_program("extern \"C\" __global__ void saxpy( {", SAXPY_INFO)
    with pytest.raises(DeviceError, match="no kernel named"):
        ctx.create_program(SAXPY, dataclasses.replace(SAXPY_INFO, entry_point="other"))
    with pytest.raises(DeviceLimitError, match="max_workgroup_invocations"):
        ctx.create_program(SAXPY, dataclasses.replace(SAXPY_INFO, local_size=(1024, 2, 1)))
    with pytest.raises(DeviceError, match="parameter"):   # ABI mismatch: one uniform missing
        ctx.create_program(SAXPY, dataclasses.replace(SAXPY_INFO, uniforms=SAXPY_INFO.uniforms[:1],
                                                      uniform_size=4))


IMAGE_KERNELS = r"""
extern "C" __global__ void sample(cudaTextureObject_t tex, float4* out, float dx,
                                  unsigned int w, unsigned int h) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = tex2D<float4>(tex, x + 0.5f + dx, y + 0.5f);
}
extern "C" __global__ void fill(cudaSurfaceObject_t img, unsigned int w, unsigned int h) {
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) surf2Dwrite(make_float4(x, y, x * y, 1.0f), img, x * sizeof(float4), y);
}
"""


def test_images_sample_and_store(ctx):
    w, h = 40, 24
    sample = ctx.create_program(IMAGE_KERNELS, ProgramInfo(
        entry_point="sample", local_size=(8, 8, 1),
        bindings=(Binding("tex", BINDING_SAMPLED_IMAGE, 0, "float32", dim=2),
                  Binding("out", SB, 1, "vec4")),
        uniforms=(UniformField("dx", "float32", 0, 4), UniformField("w", "uint32", 4, 4),
                  UniformField("h", "uint32", 8, 4)), uniform_size=16))
    fill = ctx.create_program(IMAGE_KERNELS, ProgramInfo(
        entry_point="fill", local_size=(8, 8, 1),
        bindings=(Binding("img", BINDING_STORAGE_IMAGE, 0, "float32", dim=2),),
        uniforms=(UniformField("w", "uint32", 0, 4), UniformField("h", "uint32", 4, 4)),
        uniform_size=8))
    rng = np.random.default_rng(3)
    texels = rng.standard_normal((h, w, 4)).astype(np.float32)
    img = ctx.image_alloc(0, (w, h, 1), 1, "float32", 4)
    ctx.image_write(img, texels)
    back = np.empty_like(texels)
    ctx.image_read(img, back)
    np.testing.assert_array_equal(back, texels)

    out = ctx.buffer_alloc(0, texels.nbytes)
    nearest = ctx.sampler_create("nearest", "clamp_to_edge", normalized=False)
    linear = ctx.sampler_create("linear", "clamp_to_edge", normalized=False)
    u = lambda dx: np.array([dx], np.float32).tobytes() + np.array([w, h, 0], np.uint32).tobytes()  # noqa: E731
    cl = ctx.command_list(0)
    cl.dispatch(sample, (5, 3, 1), [(img, nearest), out], u(0.0))
    cl.submit().wait()
    np.testing.assert_array_equal(download(ctx, out).reshape(h, w, 4), texels)
    cl.set_uniform(0, u(0.5))   # on the border of the next texel
    cl.submit().wait()
    got = download(ctx, out).reshape(h, w, 4)
    np.testing.assert_array_equal(got[:, :-1], texels[:, 1:])   # nearest: the next texel
    np.testing.assert_array_equal(got[:, -1], texels[:, -1])    # clamped at the edge
    cl.reset()
    cl.dispatch(sample, (5, 3, 1), [(img, linear), out], u(0.5))
    cl.submit().wait()
    got = download(ctx, out).reshape(h, w, 4)
    expect = (texels[:, :-1] + texels[:, 1:]) / 2             # linear: the mean of the two
    np.testing.assert_allclose(got[:, :-1], expect, rtol=1e-2, atol=1e-2)

    cl.reset()
    cl.dispatch(fill, (5, 3, 1), [img], np.array([w, h], np.uint32).tobytes())
    cl.submit().wait()
    ctx.image_read(img, back)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    np.testing.assert_array_equal(back, np.stack([xs, ys, xs * ys, np.ones_like(xs)], -1))
    cl.destroy()
    ctx.buffer_free(out)
    ctx.image_free(img)
    ctx.image_free(img)   # idempotent


@pytest.mark.parametrize("dtype,np_dtype,channels", [
    ("float16", np.float16, 1), ("uint8", np.uint8, 4), ("int32", np.int32, 2),
    ("uint32", np.uint32, 1), ("float32", np.float32, 2)])
def test_image_round_trips(ctx, dtype, np_dtype, channels):
    rng = np.random.default_rng(5)
    for extent, layers in (((64, 1, 1), 1), ((16, 8, 1), 3), ((8, 4, 5), 1)):
        w, h, d = extent
        img = ctx.image_alloc(1, extent, layers, dtype, channels)
        data = [rng.integers(0, 100, (d, h, w, channels)).astype(np_dtype) for _ in range(layers)]
        for layer, arr in enumerate(data):
            ctx.image_write(img, arr, layer=layer)
        for layer, arr in enumerate(data):
            back = np.empty_like(arr)
            ctx.image_read(img, back, layer=layer)
            np.testing.assert_array_equal(back, arr)
        with pytest.raises(ValueError, match="bytes"):
            ctx.image_write(img, np.zeros(3, np.uint8))
        ctx.image_free(img)


def test_image_limits(ctx):
    with pytest.raises(UnsupportedFeatureError, match="channels"):
        ctx.image_alloc(0, (4, 4, 1), 1, "float32", 3)
    with pytest.raises(UnsupportedFeatureError):
        ctx.image_alloc(0, (4, 4, 1), 1, "float64", 1)
    img = ctx.image_alloc(0, (4, 4, 1), 1, "uint32", 1)
    cl = ctx.command_list(0)
    prog = ctx.create_program(IMAGE_KERNELS, ProgramInfo(
        entry_point="sample", local_size=(8, 8, 1),
        bindings=(Binding("tex", BINDING_SAMPLED_IMAGE, 0, dim=2), Binding("out", SB, 1)),
        uniforms=(UniformField("dx", "float32", 0, 4), UniformField("w", "uint32", 4, 4),
                  UniformField("h", "uint32", 8, 4)), uniform_size=16))
    out = ctx.buffer_alloc(0, 256)
    with pytest.raises(UnsupportedFeatureError, match="nearest"):
        cl.dispatch(prog, (1, 1, 1), [(img, ctx.sampler_create("linear")), out], bytes(16))
    cl.destroy()
    prog.destroy()
    ctx.buffer_free(out)
    ctx.image_free(img)
