"""`enable_mipmaps=True` (vkdispatch 0.1): every write fills a full mip chain, each level
a linear blit of the one above (for even sizes the mean of each 2x2 block); shaders read
a level with an explicit lod through a sampler whose max_lod reaches it. Backends without
mipmapped images refuse them by name."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Img2, f32, i32, v4


def _mipmapped(shape, dtype=vd.float32):
    if not vd.get_context().runtime_context.capabilities.mipmapped_images:
        with pytest.raises(vd.UnsupportedFeatureError,
                           match=f"{vd.get_context().backend} backend has no mipmapped"):
            vd.Image2D(shape, dtype, enable_mipmaps=True)
        pytest.skip("refused by name, as tested")
    return vd.Image2D(shape, dtype, enable_mipmaps=True)


def box_chain(picture, levels):
    out = [picture]
    for _ in range(1, levels):
        p = out[-1]
        h, w = p.shape
        p = p.reshape(max(1, h // 2), h // max(1, h // 2), max(1, w // 2), w // max(1, w // 2))
        out.append(p.mean(axis=(1, 3)))
    return out


def test_levels_are_2x2_means(backend):
    w, h = 16, 8
    img = _mipmapped((w, h))
    assert img.levels == 5
    picture = np.random.default_rng(0).random((h, w)).astype(np.float32)   # [y, x]
    img.write(picture.ravel())
    np.testing.assert_array_equal(img.read(), picture.ravel().reshape(w, h))
    for level, ref in enumerate(box_chain(picture.astype(np.float64), img.levels)):
        got = img.read(level=level)
        assert got.shape == (max(1, w >> level), max(1, h >> level))
        np.testing.assert_allclose(got.ravel(), ref.ravel(), rtol=1e-6)
    with pytest.raises(IndexError, match=r"level must be an int in \[0, 5\)"):
        img.read(level=5)


def test_odd_sizes_blit_linearly(backend):
    img = _mipmapped((5, 3))
    assert img.levels == 3
    picture = np.arange(15, dtype=np.float32).reshape(3, 5)
    img.write(picture.ravel())
    # level 1 is 2 x 1: texel i reads the level above at (i + 0.5) * n / m - 0.5, i.e.
    # x at 0.75 and 3.25 of 5 texels, y at 1.0 of 3 (row 1 exactly)
    ref = np.interp([0.75, 3.25], np.arange(5), picture[1])
    np.testing.assert_allclose(img.read(level=1).ravel(), ref, rtol=1e-6)


@vd.shader("out.size")
def _sample_at_lod(out: Buff[v4], img: Img2[f32], w: Const[i32], lod: Const[f32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = img.sample(vc.new_vec2(i % w, i // w), lod)    # 0.1's texel-space form


def test_shader_reads_each_level(backend):
    w, h = 8, 8
    img = _mipmapped((w, h))
    picture = np.random.default_rng(1).random((h, w)).astype(np.float32)
    img.write(picture.ravel())
    sampler = img.sample(vd.Filter.NEAREST, vd.Filter.NEAREST, vd.Filter.NEAREST,
                         max_lod=float(img.levels - 1))
    for level in range(img.levels):
        lw, lh = w >> level, h >> level
        out = vd.Buffer((lw * lh,), vd.vec4)
        # texel-space coordinates are in level-0 texels: level l's texel centres are
        # at (j + 0.5) * 2^l - 0.5
        _sample_at_lod_scaled(out, sampler, lw, float(level), float(1 << level))
        np.testing.assert_allclose(out.read(0)[:, 0], img.read(level=level).ravel(),
                                   rtol=1e-6)
    # 0.1's default sampler (max_lod 0) always reads level 0
    out = vd.Buffer((w * h,), vd.vec4)
    _sample_at_lod(out, img.sample(), w, 2.0)
    # linear at texel centres: exact on CPU drivers; a GPU may take 1/256 of a neighbour
    atol = 1e-5 if vd.get_context().device.device_type == "cpu" else 1e-2
    np.testing.assert_allclose(out.read(0)[:, 0], picture.ravel(), atol=atol)


@vd.shader("out.size")
def _sample_at_lod_scaled(out: Buff[v4], img: Img2[f32], w: Const[i32], lod: Const[f32],
                          scale: Const[f32]):
    i = vc.new_int(vc.global_invocation_id().x)
    c = (vc.new_vec2(i % w, i // w) + 0.5) * scale - 0.5
    out[i] = img.sample(c, lod)


def test_storage_use_of_mipmapped_image_is_refused(backend):
    from vkdispatch.codegen.abbreviations import RWImg2

    img = _mipmapped((4, 4))

    @vd.shader("out.size")
    def store(out: Buff[f32], img: RWImg2[f32]):
        vc.image_store(img, vc.new_ivec2(0, 0), vc.new_vec4(1, 1, 1, 1))

    with pytest.raises(vd.UnsupportedFeatureError, match="cannot be bound as a storage image"):
        store(vd.Buffer((1,), vd.float32), img)       # refused at the call: nothing recorded
