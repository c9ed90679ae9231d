import numpy as np
import pytest

from vkdispatch.base.errors import UnsupportedFeatureError
from vkdispatch.base.abi import Binding

SAMPLE = """__kernel void sample2d(read_only image2d_t img, sampler_t smp,
                       __global const float2* coords, __global float4* out, int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = read_imagef(img, smp, coords[i]);
}
"""

FILL = """__kernel void fill(write_only image2d_t img, float scale) {
    int x = get_global_id(0), y = get_global_id(1);
    write_imagef(img, (int2)(x, y), (float4)(x * scale, y, x + y, 1.0f));
}
"""


@pytest.fixture(scope="module", autouse=True)
def need_images(ctx):
    if not ctx.devices[0].images:
        pytest.skip(f"{ctx.devices[0].name} has no image support")


def bilinear_clamped(texels, coords):
    """NumPy reference of CL_FILTER_LINEAR + CL_ADDRESS_CLAMP_TO_EDGE at normalized coords."""
    h, w = texels.shape[:2]
    x = coords[:, 0] * w - 0.5
    y = coords[:, 1] * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    a, b = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.astype(int), y0.astype(int)
    cx = lambda i: np.clip(i, 0, w - 1)  # noqa: E731
    cy = lambda j: np.clip(j, 0, h - 1)  # noqa: E731
    t = lambda i, j: texels[cy(j), cx(i)]  # noqa: E731
    return ((1 - a) * (1 - b) * t(x0, y0) + a * (1 - b) * t(x0 + 1, y0)
            + (1 - a) * b * t(x0, y0 + 1) + a * b * t(x0 + 1, y0 + 1))


@pytest.mark.parametrize("extent, layers, dtype, channels", [
    ((13, 7, 1), 1, "float32", 4),
    ((33, 1, 1), 1, "uint8", 1),
    ((9, 5, 1), 1, "int16", 4),
    ((5, 4, 3), 1, "float32", 1),
    ((6, 5, 1), 3, "uint32", 4),
    ((17, 1, 1), 2, "float16", 4),
])
def test_image_round_trip(ctx, extent, layers, dtype, channels):
    rng = np.random.default_rng(sum(extent))
    image = ctx.image_alloc(0, extent, layers, dtype, channels)
    shape = (extent[2], extent[1], extent[0], channels)
    data = [(rng.standard_normal(shape) * 50).astype(dtype) for _ in range(layers)]
    for layer, d in enumerate(data):
        ctx.image_write(image, d, layer=layer)
    for layer, d in enumerate(data):
        out = np.empty_like(d)
        ctx.image_read(image, out, layer=layer)
        assert np.array_equal(out, d)
    with pytest.raises(ValueError, match="layer must be an int in"):
        ctx.image_read(image, np.empty_like(data[0]), layer=layers)
    with pytest.raises(ValueError, match="one layer of the image holds"):
        ctx.image_write(image, data[0][..., :1].copy() if channels > 1 else data[0][:, :, :1].copy())
    ctx.image_free(image)
    ctx.image_free(image)


def test_linear_sampler_matches_bilinear_reference(ctx, clh):
    w, h = 8, 6
    rng = np.random.default_rng(3)
    texels = rng.random((h, w, 4)).astype(np.float32)
    image = ctx.image_alloc(0, (w, h, 1), 1, "float32", 4)
    ctx.image_write(image, texels)
    sampler = ctx.sampler_create("linear", "clamp_to_edge", normalized=True)
    ys, xs = np.mgrid[:h, :w]
    centers = np.stack([(xs + 0.5) / w, (ys + 0.5) / h], -1).reshape(-1, 2)
    between = rng.uniform(-0.1, 1.1, (200, 2))  # between texels and past the edges
    coords = np.concatenate([centers, between]).astype(np.float32)
    n = len(coords)
    bcoords, out = clh.upload(ctx, coords), ctx.buffer_alloc(0, 16 * n)
    info = clh.program_info(
        "sample2d", local=(16, 1, 1),
        bindings=(Binding("img", "sampled_image", 0, "float32", dim=2, writable=False),
                  Binding("coords", "storage_buffer", 1), Binding("out", "storage_buffer", 2)),
        fields=clh.uniforms(n="int32"))
    prog = ctx.create_program(SAMPLE, info)
    cmd = ctx.command_list(0)
    cmd.dispatch(prog, ((n + 15) // 16,), [(image, sampler), bcoords, out], clh.pack(n))
    cmd.submit().wait()
    got = clh.download(ctx, out, np.float32, 4 * n).reshape(n, 4)
    np.testing.assert_allclose(got[: w * h], texels.reshape(-1, 4), atol=1e-6)
    # hardware filtering may use 8-bit weights: allow 1/256 of the texel range
    np.testing.assert_allclose(got, bilinear_clamped(texels, coords.astype(np.float64)),
                               atol=4e-3)
    assert not np.allclose(got[w * h:], bilinear_clamped(texels, coords[::-1].astype(np.float64))[w * h:],
                           atol=4e-3)
    with pytest.raises(ValueError, match="2-D, but the image"):
        line = ctx.image_alloc(0, (8, 1, 1), 1, "float32", 4)
        cmd.dispatch(prog, (1,), [(line, sampler), bcoords, out], clh.pack(n))
    with pytest.raises(TypeError, match=r"\(image, sampler\) tuple"):
        cmd.dispatch(prog, (1,), [image, bcoords, out], clh.pack(n))
    with pytest.raises(ValueError, match=r"dim must be in \[2, 3\]"):
        ctx.image_alloc(0, (4, 4, 1), 1, "float32", 4, dim=1)
    # a 2-D image of height 1 must be asked for as such: it samples like a row
    row = ctx.image_alloc(0, (w, 1, 1), 1, "float32", 4, dim=2)
    ctx.image_write(row, texels[2])
    cmd.reset()
    cmd.dispatch(prog, ((n + 15) // 16,), [(row, sampler), bcoords, out], clh.pack(n))
    cmd.submit().wait()
    got = clh.download(ctx, out, np.float32, 4 * n).reshape(n, 4)
    np.testing.assert_allclose(got, bilinear_clamped(texels[2:3], coords.astype(np.float64)),
                               atol=4e-3)
    cmd.destroy()
    ctx.sampler_free(sampler)
    for b in (bcoords, out):
        ctx.buffer_free(b)
    for img in (image, line, row):
        ctx.image_free(img)


def test_write_only_image(ctx, clh):
    w, h = 16, 8
    image = ctx.image_alloc(1, (w, h, 1), 1, "float32", 4)
    info = clh.program_info("fill", local=(4, 4, 1),
                            bindings=(Binding("img", "storage_image", 0, "float32", dim=2),),
                            fields=clh.uniforms(scale="float32"))
    prog = ctx.create_program(FILL, info)
    cmd = ctx.command_list(1)
    cmd.dispatch(prog, (w // 4, h // 4), [image], clh.pack(0.5))
    cmd.submit()
    out = np.empty((h, w, 4), np.float32)
    ctx.image_read(image, out)
    ys, xs = np.mgrid[:h, :w]
    expect = np.stack([xs * 0.5, ys, xs + ys, np.ones_like(xs)], -1).astype(np.float32)
    np.testing.assert_array_equal(out, expect)
    cmd.destroy()
    ctx.image_free(image)


def test_unsupported_formats_are_named(ctx):
    import pyopencl as cl

    with pytest.raises(UnsupportedFeatureError, match="3-channel float32"):
        ctx.image_alloc(0, (4, 4, 1), 1, "float32", 3)
    with pytest.raises(UnsupportedFeatureError, match="no float64 texels"):
        ctx.image_alloc(0, (4, 4, 1), 1, "float64", 1)
    slot = ctx._queue_slots[0]
    if slot.platform.name == "Portable Computing Language":  # a format PoCL reads wrongly
        with pytest.raises(UnsupportedFeatureError, match="R x float16 is refused"):
            ctx.image_alloc(0, (4, 4, 1), 1, "float16", 1)
    rg_float = (cl.channel_order.RG, cl.channel_type.FLOAT)
    if rg_float in slot.image_formats(cl.mem_object_type.IMAGE2D):
        return  # this device has every format the runtime maps
    with pytest.raises(UnsupportedFeatureError, match="RG x float32") as err:
        ctx.image_alloc(0, (4, 4, 1), 1, "float32", 2)
    assert ctx.devices[0].name in str(err.value)


def test_sampler_arguments(ctx):
    with pytest.raises(ValueError, match="needs normalized coordinates"):
        ctx.sampler_create("nearest", "repeat", normalized=False)
    with pytest.raises(ValueError, match="filter must be one of"):
        ctx.sampler_create("cubic")
    sampler = ctx.sampler_create("nearest", "clamp_to_border", normalized=False)
    ctx.sampler_free(sampler)
    ctx.sampler_free(sampler)
