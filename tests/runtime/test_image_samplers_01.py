"""vkdispatch 0.1's sampler API on every backend: `img.sample(...)` returns a vd.Sampler
bound to the image that a shader takes in its place; vd.Filter / vd.AddressMode /
vd.BorderColor pick the modes (checked against NumPy references); a mode a backend
lacks raises UnsupportedFeatureError naming the mode and the backend."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Img2, f32, v2, v4

W, H = 7, 5


@vd.shader("out.size")
def _sample(out: Buff[v4], pos: Buff[v2], img: Img2[f32]):
    i = vc.global_invocation_id().x
    out[i] = vc.sample(img, pos[i])


def _image(seed=0):
    img = vd.Image2D((W, H), vd.float32)
    pic = np.random.default_rng(seed).random((H, W)).astype(np.float32)   # [y, x]
    img.write(pic.ravel())
    return img, pic


def _texel_positions(n=200, seed=1):
    """Normalized coordinates away from texel edges, and their texel indices (may lie
    outside the image)."""
    rng = np.random.default_rng(seed)
    ix, iy = rng.integers(-W, 2 * W, n), rng.integers(-H, 2 * H, n)
    pos = (np.stack([ix, iy], 1) + 0.5 + rng.uniform(-0.3, 0.3, (n, 2))) / [W, H]
    return pos.astype(np.float32), ix, iy


def _run(sampler, pos):
    out = vd.Buffer((len(pos),), vd.vec4)
    _sample(out, vd.asbuffer(pos, vd.vec2), sampler)
    return out.read(0)


def _mirror(i, n):
    period = i % (2 * n)
    return np.where(period < n, period, 2 * n - 1 - period)


def test_enums_and_names():
    assert vd.Filter.LINEAR.value == 1 and vd.AddressMode.CLAMP_TO_BORDER.value == 3
    assert vd.BorderColor.FLOAT_OPAQUE_WHITE.value == 4
    assert vd.select_image_format(vd.float32, 4) is vd.image_format.R32G32B32A32_SFLOAT
    assert vd.image_format.R32_SFLOAT.value == 100          # VkFormat, as in 0.1
    assert vd.image_view_type.VIEW_TYPE_2D_ARRAY.value == 5
    with pytest.raises(ValueError, match="complex64"):
        vd.select_image_format(vd.complex64, 1)


def test_image_attributes(backend):
    img = vd.Image2D((W, H), vd.float32, 4)
    assert img.format is vd.image_format.R32G32B32A32_SFLOAT
    assert img.type is vd.image_type.TYPE_2D and img.view_type is vd.image_view_type.VIEW_TYPE_2D
    assert (img.block_size, img.mem_size, img.extent) == (16, W * H * 16, (W, H, 1))


def test_bound_sampler_stands_for_the_image(backend):
    img, pic = _image()
    pos, ix, iy = _texel_positions()
    s = img.sample(vd.Filter.NEAREST, vd.Filter.NEAREST, address_mode=vd.AddressMode.REPEAT)
    assert s.image is img and isinstance(s, vd.Sampler)
    np.testing.assert_array_equal(_run(s, pos)[:, 0], pic[iy % H, ix % W])
    mirrored = img.sample("nearest", "nearest", address_mode="mirrored_repeat")
    np.testing.assert_array_equal(_run(mirrored, pos)[:, 0], pic[_mirror(iy, H), _mirror(ix, W)])
    # the default is 0.1's: linear, clamped to the edge
    centres = ((np.stack(np.meshgrid(np.arange(W), np.arange(H)), -1).reshape(-1, 2) + 0.5)
               / [W, H]).astype(np.float32)
    np.testing.assert_allclose(_run(img.sample(), centres)[:, 0], pic.ravel(), atol=1e-2)


def test_clamp_to_border_colours(backend):
    img, pic = _image(2)
    pos, ix, iy = _texel_positions(seed=3)
    inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
    black = img.sample(vd.Filter.NEAREST, vd.Filter.NEAREST,
                       address_mode=vd.AddressMode.CLAMP_TO_BORDER,
                       border_color=vd.BorderColor.FLOAT_TRANSPARENT_BLACK)
    got = _run(black, pos)[:, 0]
    np.testing.assert_array_equal(got[inside], pic[iy[inside], ix[inside]])
    np.testing.assert_array_equal(got[~inside], 0)
    white = dict(address_mode=vd.AddressMode.CLAMP_TO_BORDER,
                 border_color=vd.BorderColor.FLOAT_OPAQUE_WHITE)
    if backend == "opencl":
        with pytest.raises(vd.UnsupportedFeatureError, match="opencl backend has no opaque white"):
            img.sample(vd.Filter.NEAREST, vd.Filter.NEAREST, **white)
        return
    got = _run(img.sample(vd.Filter.NEAREST, vd.Filter.NEAREST, **white), pos)
    np.testing.assert_array_equal(got[~inside, 0], 1)


def test_magnification_filter_alone(backend):
    """Reads at lod 0 magnify: mag_filter decides. Only Vulkan has separate filters."""
    img, pic = _image(4)
    pos, ix, iy = _texel_positions(seed=5)
    if backend != "vulkan":
        with pytest.raises(vd.UnsupportedFeatureError,
                           match=f"{backend} backend has no separate minification"):
            img.sample(mag_filter=vd.Filter.NEAREST, min_filter=vd.Filter.LINEAR)
        return
    s = img.sample(mag_filter=vd.Filter.NEAREST, min_filter=vd.Filter.LINEAR,
                   address_mode=vd.AddressMode.REPEAT)
    np.testing.assert_array_equal(_run(s, pos)[:, 0], pic[iy % H, ix % W])


def test_modes_no_backend_has_here_are_named(backend):
    img, _ = _image()
    with pytest.raises(vd.UnsupportedFeatureError, match=f"{backend} backend has no "
                                                         f"'mirror_clamp_to_edge'"):
        img.sample(address_mode=vd.AddressMode.MIRROR_CLAMP_TO_EDGE)


def test_bad_sampler_arguments(backend):
    img, _ = _image()
    with pytest.raises(ValueError, match="mag_filter must be one of"):
        img.sample(mag_filter="cubic")
    with pytest.raises(TypeError, match="vd.AddressMode"):
        img.sample(address_mode=3)
    with pytest.raises(ValueError, match="min_lod"):
        img.sample(min_lod=2.0, max_lod=1.0)
    with pytest.raises(TypeError, match="without an image"):
        _sample(vd.Buffer((1,), vd.vec4), vd.Buffer((1,), vd.vec2), vd.Sampler())


def test_integer_images_sample_nearest_by_default(backend):
    from vkdispatch.codegen.abbreviations import u32, uv4

    @vd.shader("out.size")
    def fetch_u(out: Buff[uv4], img: Img2[u32]):
        i = vc.new_int(vc.global_invocation_id().x)
        out[i] = img.sample(vc.new_vec2(i % W, i // W))      # texel centres, 0.1's form

    img = vd.Image2D((W, H), vd.uint32)
    texels = np.random.default_rng(7).integers(0, 5000, W * H).astype(np.uint32)
    img.write(texels)
    s = img.sample()
    assert (s.desc.filter, s.desc.mag_filter, s.desc.mip_filter) == ("nearest",) * 3
    out = vd.Buffer((W * H,), vd.uvec4)
    fetch_u(out, s)
    np.testing.assert_array_equal(out.read(0)[:, 0], texels)
