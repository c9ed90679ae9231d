"""vkdispatch 0.1's image layout (issue 12): `shape` is (width[, height[, depth]]) and the
host array has that same shape (plus a channel axis when channels > 1), holding texels x
fastest. So `Image2D(data.shape).write(data)` then `read()` is the identity for any
shape, and the texel at shader coordinates (x, y) is `data.ravel()[y * shape[0] + x]`,
the one 0.1 reads there (for a square image: `data[y, x]`)."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Img2, Img3, f32, i32, v4


def _make(cls, shape, dtype=vd.float32, channels=1):
    try:
        return cls(shape, dtype, channels=channels)
    except vd.UnsupportedFeatureError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (1, 6)])
def test_round_trip_of_non_square_data_is_identity(backend, shape):
    data = np.random.default_rng(sum(shape)).random(shape).astype(np.float32)
    img = _make(vd.Image2D, data.shape, vd.float32)
    img.write(data)
    out = img.read(0)
    assert out.shape == data.shape == img.numpy_shape == img.array_shape
    np.testing.assert_array_equal(out, data)


def test_channels_are_the_last_axis(backend):
    data = np.random.default_rng(1).random((6, 3, 4)).astype(np.float32)
    img = _make(vd.Image2D, (6, 3), vd.float32, channels=4)
    assert img.numpy_shape == (6, 3, 4)
    img.write(data)
    np.testing.assert_array_equal(img.read(), data)


@vd.shader("out.size")
def _fetch_2d(out: Buff[v4], img: Img2[f32], w: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = vc.texel_fetch(img, vc.new_ivec2(i % w, i // w))


@vd.shader("out.size")
def _fetch_3d(out: Buff[v4], img: Img3[f32], w: Const[i32], h: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = vc.texel_fetch(img, vc.new_ivec3(i % w, (i // w) % h, i // (w * h)))


def test_shader_texel_at_xy_is_the_one_01_reads(backend):
    w, h = 7, 5                       # shape[0] is the width, the x extent
    data = np.arange(w * h, dtype=np.float32).reshape(w, h)
    img = _make(vd.Image2D, data.shape, vd.float32)
    img.write(data)
    out = vd.Buffer((w * h,), vd.vec4)
    _fetch_2d(out, img, w)            # out[y * w + x] = texel (x, y)
    got = out.read(0)[:, 0]
    x, y = np.arange(w * h) % w, np.arange(w * h) // w
    np.testing.assert_array_equal(got, data.ravel()[y * w + x])


def test_square_image_texel_xy_is_data_row_y_column_x(backend):
    n = 6
    data = np.random.default_rng(2).random((n, n)).astype(np.float32)
    img = _make(vd.Image2D, data.shape)
    img.write(data)
    out = vd.Buffer((n * n,), vd.vec4)
    _fetch_2d(out, img, n)
    np.testing.assert_array_equal(out.read(0)[:, 0].reshape(n, n), data)   # [y, x]


def test_3d_texel_xyz(backend):
    w, h, d = 4, 3, 2
    data = np.random.default_rng(3).random((w, h, d)).astype(np.float32)
    img = _make(vd.Image3D, data.shape)
    img.write(data)
    assert img.read().shape == (w, h, d)
    out = vd.Buffer((w * h * d,), vd.vec4)
    _fetch_3d(out, img, w, h)
    np.testing.assert_array_equal(out.read(0)[:, 0], data.ravel())   # x fastest
