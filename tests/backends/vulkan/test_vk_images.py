"""Vulkan images and samplers: round trips per format, linear sampling against a NumPy
bilinear reference, storage-image writes, and the errors for what cannot work."""
import struct

import numpy as np
import pytest

from vkdispatch.base.abi import Binding
from vkdispatch.base.errors import UnsupportedFeatureError

NUMPY = {"float32": np.float32, "float16": np.float16, "int32": np.int32, "uint32": np.uint32,
         "uint8": np.uint8, "int8": np.int8}

SAMPLE_2D = """#version 450
layout(local_size_x = 8, local_size_y = 8) in;
layout(binding = 0) uniform sampler2D tex;
layout(std430, binding = 1) buffer O { float o[]; };
layout(push_constant) uniform P { uint ow, oh; } p;
void main() {
  uvec2 g = gl_GlobalInvocationID.xy;
  if (g.x >= p.ow || g.y >= p.oh) return;
  o[g.y * p.ow + g.x] = texture(tex, (vec2(g) + 0.5) / vec2(p.ow, p.oh)).r;
}"""
STORE_2D = """#version 450
layout(local_size_x = 4, local_size_y = 4) in;
layout(binding = 0, rgba32f) uniform writeonly image2D im;
void main() {
  ivec2 g = ivec2(gl_GlobalInvocationID.xy);
  imageStore(im, g, vec4(g.x, g.y, g.x * g.y, 1.0));
}"""


@pytest.mark.parametrize("dtype", sorted(NUMPY))
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_image_round_trip(ctx, dtype, channels):
    shape = (5, 7, channels)   # h, w, c: odd sizes
    data = (np.random.default_rng(channels).random(shape) * 100).astype(NUMPY[dtype])
    img = ctx.image_alloc(0, (7, 5, 1), 2, dtype, channels)
    ctx.image_write(img, data, layer=1)
    ctx.image_write(img, data[::-1].copy(), layer=0)
    out = np.zeros_like(data)
    ctx.image_read(img, out, layer=1)
    np.testing.assert_array_equal(out, data)
    ctx.image_read(img, out, layer=0)
    np.testing.assert_array_equal(out, data[::-1])
    ctx.image_free(img)
    ctx.image_free(img)


def test_1d_array_and_3d_images(ctx):
    img1 = ctx.image_alloc(0, (9,), 3, "float32", 1)
    assert img1.dim == 1 and img1.layers == 3
    row = np.arange(9, dtype=np.float32)
    ctx.image_write(img1, row, layer=2)
    out = np.zeros_like(row)
    ctx.image_read(img1, out, layer=2)
    np.testing.assert_array_equal(out, row)
    img3 = ctx.image_alloc(0, (4, 3, 2), 1, "int32", 1)
    assert img3.dim == 3
    vol = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    ctx.image_write(img3, vol)
    out3 = np.zeros_like(vol)
    ctx.image_read(img3, out3)
    np.testing.assert_array_equal(out3, vol)
    with pytest.raises(ValueError, match="one layer of the image holds"):
        ctx.image_write(img3, vol[:1])
    with pytest.raises(ValueError, match="layer"):
        ctx.image_read(img1, out, layer=3)
    for h in (img1, img3):
        ctx.image_free(h)


def test_unsupported_formats_are_named(ctx):
    with pytest.raises(UnsupportedFeatureError, match="complex64"):
        ctx.image_alloc(0, (4, 4), 1, "complex64", 1)
    with pytest.raises(UnsupportedFeatureError, match="5 channel"):
        ctx.image_alloc(0, (4, 4), 1, "float32", 5)


def bilinear(tex, ys, xs):
    """Clamp-to-edge bilinear sampling of `tex` at texel coordinates (center = i + 0.5)."""
    h, w = tex.shape
    y, x = ys[:, None] - 0.5, xs[None, :] - 0.5
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = y - y0, x - x0

    def at(yy, xx):
        return tex[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
    return ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))


def test_linear_sampling_matches_numpy(ctx, vkh):
    w, h = 8, 6
    tex = np.random.default_rng(5).random((h, w), dtype=np.float32)
    img = ctx.image_alloc(0, (w, h), 1, "float32", 1)
    ctx.image_write(img, tex)
    smp = ctx.sampler_create("linear", "clamp_to_edge", True)
    prog = ctx.create_program(SAMPLE_2D, vkh.info(
        local=(8, 8, 1), bindings=(Binding("tex", "sampled_image", 0, "float32", dim=2),
                                   Binding("o", "storage_buffer", 1)), uniform_size=8))
    ow, oh = 2 * w, 2 * h   # sample between texel centers: weights 1/4 and 3/4
    out = ctx.buffer_alloc(0, 4 * ow * oh)
    vkh.run(ctx, prog, (ow // 8, (oh + 7) // 8), [(img, smp), out], struct.pack("<2I", ow, oh))
    got = vkh.download(ctx, out, np.float32, ow * oh).reshape(oh, ow)
    ref = bilinear(tex, (np.arange(oh) + 0.5) * h / oh, (np.arange(ow) + 0.5) * w / ow)
    np.testing.assert_allclose(got, ref, atol=2e-3)   # GPUs filter with 8-bit weights
    # nearest sampling returns the texels themselves at their centers
    near = ctx.sampler_create("nearest", "repeat", True)
    vkh.run(ctx, prog, (1, 1), [(img, near), out], struct.pack("<2I", w, h))
    np.testing.assert_array_equal(vkh.download(ctx, out, np.float32, w * h).reshape(h, w), tex)
    with pytest.raises(TypeError, match="sampler_handle"):
        ctx.command_list(0).dispatch(prog, (1, 1), [img, out], struct.pack("<2I", w, h))
    ints = ctx.image_alloc(0, (w, h), 1, "int32", 1)   # integer formats never filter linearly
    with pytest.raises(UnsupportedFeatureError, match="linear"):
        ctx.command_list(0).dispatch(prog, (1, 1), [(ints, smp), out], struct.pack("<2I", w, h))
    ctx.image_free(ints)
    for s in (smp, near):
        ctx.sampler_free(s)
    with pytest.raises(ValueError, match="address_mode"):
        ctx.sampler_create("linear", "wrap")
    with pytest.raises(ValueError, match="clamp_to_edge"):
        ctx.sampler_create("nearest", "repeat", normalized=False)


def test_storage_image_write(ctx, vkh):
    img = ctx.image_alloc(0, (8, 8), 1, "float32", 4)
    prog = ctx.create_program(STORE_2D, vkh.info(
        local=(4, 4, 1), bindings=(Binding("im", "storage_image", 0, "float32", dim=2),)))
    vkh.run(ctx, prog, (2, 2), [img])
    out = np.zeros((8, 8, 4), np.float32)
    ctx.image_read(img, out)
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float32)
    np.testing.assert_array_equal(out, np.stack([xx, yy, xx * yy, np.ones_like(xx)], -1))
    with pytest.raises(ValueError, match="3-D"):
        bad = ctx.create_program(STORE_2D, vkh.info(
            local=(4, 4, 1), bindings=(Binding("im", "storage_image", 0, "float32", dim=3),)))
        ctx.command_list(0).dispatch(bad, (2, 2), [img])
    ctx.image_free(img)
