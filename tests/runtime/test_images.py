"""vd.Image1D/2D/3D through @vd.shader on every real backend: host round trips, texel
fetch, sampling (default and custom samplers) against NumPy references, storage images
written by one shader and read by another, image_size, and the binding errors.

A format a device lacks skips with the runtime's UnsupportedFeatureError message (PoCL
has no 2-channel formats, for example)."""
import itertools

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import (Buff, Const, Img1, Img2, Img3, RWImg1, RWImg2,
                                              f32, i32, iv4, u32, uv4, v2, v4)

CLASSES = {1: vd.Image1D, 2: vd.Image2D, 3: vd.Image3D}
SHAPES = {1: (13,), 2: (7, 5), 3: (5, 4, 3)}          # (w[, h[, d]]): odd, unequal sizes
DTYPES = ("float32", "int32", "uint32", "uint8", "float16")
# texel dtype -> (the shader's texel scalar, the 4-vector a fetch returns)
KIND = {"float32": (f32, v4), "float16": (f32, v4), "int32": (i32, iv4),
        "uint32": (u32, uv4), "uint8": (u32, uv4)}
LINEAR_ATOL = 1e-2   # GPUs filter with 8-bit fixed-point weights (subTexelPrecisionBits)


def centre_atol() -> float:
    """Linear sampling at texel centres: exact on the CPU drivers; on a GPU the centre may
    land a rounding step off and take 1/256 of a neighbour."""
    return 1e-5 if vd.get_context().device.device_type == "cpu" else LINEAR_ATOL


def make_image(dim, shape, dtype, channels=1, layers=1):
    try:
        return CLASSES[dim](shape, getattr(vd, dtype), channels=channels, layers=layers)
    except vd.UnsupportedFeatureError as exc:
        pytest.skip(str(exc))


def random_texels(shape_np, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype in ("float32", "float16"):
        return rng.random(shape_np).astype(dtype)
    lo, hi = (-1000, 1000) if dtype == "int32" else (0, 256 if dtype == "uint8" else 4000)
    return rng.integers(lo, hi, shape_np).astype(dtype)


def picture_shape(img) -> tuple:
    """The texels as numpy indexes a picture: ([d,] [h,] w[, c]), x fastest. The host
    array (`img.numpy_shape`, 0.1's layout) holds the same bytes in shape (w[, h[, d]])."""
    return tuple(reversed(img.shape)) + ((img.channels,) if img.channels > 1 else ())


def upload(img, picture):
    img.write(picture.reshape(img.numpy_shape))


def download(img):
    return img.read().reshape(picture_shape(img))


def with_channel_axis(arr, channels):
    return arr if channels > 1 else arr[..., None]


# ----------------------------------------------------------------------------- host side

@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_write_read_round_trip(backend, dim, dtype, channels):
    img = make_image(dim, SHAPES[dim], dtype, channels)
    assert img.numpy_shape == SHAPES[dim] + ((channels,) if channels > 1 else ())
    data = random_texels(img.numpy_shape, dtype, seed=dim * 10 + channels)
    img.write(data)
    out = img.read()
    assert out.dtype == np.dtype(dtype) and out.shape == img.numpy_shape
    np.testing.assert_array_equal(out, data)
    img.write(data[::-1].copy())       # a second write replaces the first
    np.testing.assert_array_equal(img.read(), data[::-1])
    img.destroy()
    img.destroy()                      # idempotent


def test_write_checks_size_and_layer(backend):
    img = make_image(2, (4, 3), "float32")
    with pytest.raises(ValueError, match="does not fill"):
        img.write(np.zeros(11, np.float32))
    with pytest.raises(ValueError, match=r"numpy shape \(4, 3\)"):
        img.write(np.zeros((3, 4), np.float32))      # the (h, w) picture is refused
    with pytest.raises(ValueError, match="takes 48"):
        img.write(b"\0" * 40)
    img.write(np.arange(12, dtype=np.float32).tobytes())              # 0.1 wrote bytes too
    np.testing.assert_array_equal(img.read().ravel(), np.arange(12))
    with pytest.raises(IndexError, match="layer"):
        img.read(layer=1)


@pytest.mark.parametrize("dim", [1, 2])
def test_layered_images(backend, dim):
    shape = SHAPES[dim]
    img = make_image(dim, shape, "float32", 1, layers=3)
    assert img.numpy_shape == (3,) + shape and img.layer_shape == shape
    layers = [random_texels(img.layer_shape, "float32", seed=k) for k in range(3)]
    for k in (2, 0, 1):
        img.write(layers[k], layer=k)
    for k in range(3):
        np.testing.assert_array_equal(img.read(layer=k), layers[k])
    np.testing.assert_array_equal(img.read(), np.stack(layers))      # all layers at once
    img.write(np.stack(layers[::-1]))
    np.testing.assert_array_equal(img.read(layer=0), layers[2])
    # shader image parameters are single-layer: a clear error, not a wrong view
    with pytest.raises(TypeError, match="3 layers"):
        (fetch_1d if dim == 1 else fetch_2d_f)(vd.Buffer((4,), vd.vec4), img, 4)


# ----------------------------------------------------------------------------- shaders

@vd.shader("out.size")
def fetch_1d(out: Buff[v4], img: Img1[f32], w: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = vc.texel_fetch(img, i)


def _fetch_2d(t, vec):
    def fetch_2d(out: Buff[vec], img: Img2[t], w: Const[i32]):
        i = vc.new_int(vc.global_invocation_id().x)
        out[i] = vc.texel_fetch(img, vc.new_ivec2(i % w, i // w))
    return vd.shader("out.size")(fetch_2d)


FETCH_2D = {t: _fetch_2d(t, vec) for t, vec in {f32: v4, i32: iv4, u32: uv4}.items()}
fetch_2d_f = FETCH_2D[f32]


@vd.shader("out.size")
def sample_1d(out: Buff[v4], pos: Buff[f32], img: Img1[f32]):
    i = vc.global_invocation_id().x
    out[i] = vc.sample(img, pos[i])


@vd.shader("out.size")
def sample_2d(out: Buff[v4], pos: Buff[v2], img: Img2[f32]):
    i = vc.global_invocation_id().x
    out[i] = vc.sample(img, pos[i])


@vd.shader("out.size")
def sample_3d(out: Buff[v4], pos: Buff[v4], img: Img3[f32]):
    i = vc.global_invocation_id().x
    out[i] = vc.sample(img, pos[i].xyz)


def run_sample(shader, img, pos, sampler=None):
    """Sample `img` at `pos` (N, dim) with `shader`; returns (N, 4) float32."""
    n, dim = pos.shape
    if dim == 1:
        pbuf = vd.asbuffer(pos[:, 0])
    elif dim == 2:
        pbuf = vd.asbuffer(pos, vd.vec2)
    else:   # 3-D positions travel as vec4 (a vec3 array's stride differs per language)
        pbuf = vd.asbuffer(np.pad(pos, ((0, 0), (0, 1))), vd.vec4)
    out = vd.Buffer((n,), vd.vec4)
    shader(out, pbuf, img if sampler is None else sampler)
    return out.read(0)


def linear_reference(tex, pos):
    """Linear filtering with clamp-to-edge at normalized `pos` (N, dim; x first) of
    `tex` (numpy order (d, h, w, c)), as the graphics APIs define it."""
    dim = pos.shape[1]
    sizes = np.array(tex.shape[:dim][::-1])
    p = pos * sizes - 0.5
    base = np.floor(p).astype(int)
    frac = p - base
    out = np.zeros((len(pos), tex.shape[-1]))
    for corner in itertools.product((0, 1), repeat=dim):
        c = np.array(corner)
        weight = np.prod(np.where(c, frac, 1 - frac), axis=1)
        idx = np.clip(base + c, 0, sizes - 1)
        out += weight[:, None] * tex[tuple(idx[:, a] for a in reversed(range(dim)))]
    return out


def texel_centres(shape):
    """Normalized coordinates (x first) of every texel's centre, in numpy (row-major) order."""
    grids = np.meshgrid(*[(np.arange(s) + 0.5) / s for s in reversed(shape)], indexing="ij")
    return np.stack([g.ravel() for g in reversed(grids)], axis=1).astype(np.float32)


@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_texel_fetch_every_texel_type(backend, dtype, channels):
    w, h = SHAPES[2]
    img = make_image(2, (w, h), dtype, channels)
    data = random_texels(picture_shape(img), dtype, seed=channels)
    upload(img, data)
    t, vec = KIND[dtype]
    out = vd.Buffer((w * h,), vec)
    FETCH_2D[t](out, img, w)
    got = out.read(0).reshape(h, w, 4)[..., :channels]
    np.testing.assert_array_equal(got, with_channel_axis(data, channels).astype(got.dtype))


def test_texel_fetch_1d(backend):
    img = make_image(1, (13,), "float32", 4)
    data = random_texels(picture_shape(img), "float32")
    upload(img, data)
    out = vd.Buffer((13,), vd.vec4)
    fetch_1d(out, img, 13)
    np.testing.assert_array_equal(out.read(0), data)


@pytest.mark.parametrize("channels", [1, 4])
def test_default_sampler_is_bilinear_clamped_normalized(backend, channels):
    w, h = 7, 5
    img = make_image(2, (w, h), "float32", channels)
    tex = with_channel_axis(random_texels(picture_shape(img), "float32", seed=3), channels)
    upload(img, tex)
    centres = texel_centres((w, h))            # exactly the texels
    got = run_sample(sample_2d, img, centres)[:, :channels]
    np.testing.assert_allclose(got, tex.reshape(-1, channels), atol=centre_atol())
    # between texels, and past the edges (clamped)
    pos = np.random.default_rng(1).uniform(-0.2, 1.2, (300, 2)).astype(np.float32)
    got = run_sample(sample_2d, img, pos)[:, :channels]
    ref = linear_reference(tex, pos)
    np.testing.assert_allclose(got, ref, atol=LINEAR_ATOL)
    # the reference is not nearest sampling in disguise
    assert np.abs(ref - tex[np.clip((pos[:, 1] * h).astype(int), 0, h - 1),
                            np.clip((pos[:, 0] * w).astype(int), 0, w - 1)]).max() > 0.1


def test_float16_image_samples_as_float(backend):
    w, h = 7, 5
    img = make_image(2, (w, h), "float16", 1)
    tex = random_texels(picture_shape(img), "float16", seed=4)
    upload(img, tex)
    pos = np.random.default_rng(2).uniform(0, 1, (100, 2)).astype(np.float32)
    got = run_sample(sample_2d, img, pos)[:, 0]
    ref = linear_reference(tex.astype(np.float64)[..., None], pos)[:, 0]
    np.testing.assert_allclose(got, ref, atol=LINEAR_ATOL)


def test_custom_samplers(backend):
    w, h = 7, 5
    img = make_image(2, (w, h), "float32", 1)
    tex = random_texels(picture_shape(img), "float32", seed=5)
    upload(img, tex)
    rng = np.random.default_rng(6)
    # away from texel edges, so nearest sampling is unambiguous
    ix, iy = rng.integers(-w, 2 * w, 200), rng.integers(-h, 2 * h, 200)
    jitter = rng.uniform(-0.3, 0.3, (200, 2))
    texel_pos = np.stack([ix, iy], axis=1) + 0.5 + jitter

    with pytest.raises(ValueError, match="normalized"):
        img.sampler("nearest", "repeat", normalized=False)   # no API allows it
    assert img.sampler("nearest", "repeat")[1] is img.sampler("nearest", "repeat")[1]

    pos = (texel_pos / [w, h]).astype(np.float32)
    got = run_sample(sample_2d, img, pos, img.sampler("nearest", "repeat"))[:, 0]
    np.testing.assert_array_equal(got, tex[iy % h, ix % w])

    got = run_sample(sample_2d, img, texel_pos.astype(np.float32),
                     img.sampler("nearest", "clamp_to_edge", normalized=False))[:, 0]
    np.testing.assert_array_equal(got, tex[np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)])

    # the image itself again: back to the default (linear) sampler
    centres = texel_centres((w, h))
    np.testing.assert_allclose(run_sample(sample_2d, img, centres)[:, 0], tex.ravel(),
                               atol=centre_atol())


def test_integer_image_default_sampler_is_nearest(backend):
    @vd.shader("out.size")
    def sample_u(out: Buff[uv4], pos: Buff[v2], img: Img2[u32]):
        i = vc.global_invocation_id().x
        out[i] = vc.sample(img, pos[i])

    w, h = 7, 5
    img = make_image(2, (w, h), "uint32", 1)
    tex = random_texels(picture_shape(img), "uint32", seed=7)
    upload(img, tex)
    out = vd.Buffer((w * h,), vd.uvec4)
    sample_u(out, vd.asbuffer(texel_centres((w, h)), vd.vec2), img)
    np.testing.assert_array_equal(out.read(0)[:, 0], tex.ravel())


def test_1d_and_3d_sampling(backend):
    img1 = make_image(1, (13,), "float32", 1)
    tex1 = random_texels(picture_shape(img1), "float32", seed=8)[:, None]
    upload(img1, tex1)
    pos1 = np.random.default_rng(9).uniform(-0.1, 1.1, (100, 1)).astype(np.float32)
    np.testing.assert_allclose(run_sample(sample_1d, img1, pos1)[:, :1],
                               linear_reference(tex1, pos1), atol=LINEAR_ATOL)

    img3 = make_image(3, (5, 4, 3), "float32", 1)
    tex3 = random_texels(picture_shape(img3), "float32", seed=10)[..., None]
    upload(img3, tex3)
    centres = texel_centres((5, 4, 3))
    np.testing.assert_allclose(run_sample(sample_3d, img3, centres)[:, 0], tex3.ravel(),
                               atol=centre_atol())
    pos3 = np.random.default_rng(11).uniform(-0.1, 1.1, (300, 3)).astype(np.float32)
    np.testing.assert_allclose(run_sample(sample_3d, img3, pos3)[:, :1],
                               linear_reference(tex3, pos3), atol=LINEAR_ATOL)


def test_image_size(backend):
    @vd.shader(workgroups=1, local_size=(1, 1, 1))
    def sizes(out: Buff[i32], a: Img1[f32], b: Img2[f32], c: Img3[f32], d: RWImg2[f32]):
        out[0] = vc.image_size(a)
        s2, s3, sd = vc.image_size(b), vc.image_size(c), vc.image_size(d)
        out[1], out[2] = s2.x, s2.y
        out[3], out[4], out[5] = s3.x, s3.y, s3.z
        out[6], out[7] = sd.x, sd.y

    out = vd.Buffer((8,), vd.int32)
    sizes(out, make_image(1, (13,), "float32"), make_image(2, (7, 5), "float32"),
          make_image(3, (5, 4, 3), "float32"), make_image(2, (6, 2), "float32", 4))
    np.testing.assert_array_equal(out.read(0), [13, 7, 5, 5, 4, 3, 6, 2])


# ----------------------------------------------------------------------------- storage images

def _storage_shaders(t, vec):
    def store(img: RWImg2[t], w: Const[i32]):
        i = vc.new_int(vc.global_invocation_id().x)
        x, y = i % w, i // w
        vc.image_store(img, vc.new_ivec2(x, y), vc.new(vec, x, y, x * y + 1, i))

    def load(out: Buff[vec], img: RWImg2[t], w: Const[i32]):
        i = vc.new_int(vc.global_invocation_id().x)
        out[i] = vc.image_load(img, vc.new_ivec2(i % w, i // w)) * 2

    return vd.shader("img_w * img_h")(store), vd.shader("out.size")(load)


STORAGE = {name: _storage_shaders(*KIND[name]) for name in ("float32", "int32", "uint32")}


def expected_store(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x, y, x * y + 1, y * w + x], axis=-1)


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint32"])
def test_storage_image_written_then_read(backend, dtype):
    w, h = 7, 5
    img = make_image(2, (w, h), dtype, 4)
    store, load = STORAGE[dtype]
    store(img, w, exec_size=w * h)
    ref = expected_store(w, h)
    out = vd.Buffer((w * h,), KIND[dtype][1])
    load(out, img, w)
    np.testing.assert_array_equal(out.read(0).reshape(h, w, 4), ref * 2)
    np.testing.assert_array_equal(download(img), ref.astype(dtype))


def test_storage_images_declare_their_format(backend):
    """GLSL declares a storage image with its argument's format, so reading it needs no
    read-without-format support (lavapipe's RGBA32F lacks it)."""
    if backend != "vulkan":
        pytest.skip("only GLSL declares storage-image formats")
    w, h = 7, 5
    store, load = STORAGE["int32"]
    for channels, qualifier in ((4, "rgba32i"), (2, "rg32i")):
        img = make_image(2, (w, h), "int32", channels)
        store(img, w, exec_size=w * h)
        out = vd.Buffer((w * h,), KIND["int32"][1])
        load(out, img, w)
        assert out.read(0).shape == (w * h, 4)
        sources = [c.source for c in load._compiled[vd.get_context()].values()]
        assert any(f", {qualifier}) uniform iimage2D" in src for src in sources), sources
        assert not any("load_formatted" in src for src in sources)


def test_storage_image_one_channel(backend):
    """1-channel storage images work on Vulkan and OpenCL; CUDA kernels address surfaces
    in 16-byte texels, so its runtime refuses them when the dispatch is recorded."""
    w, h = 7, 5
    img = make_image(2, (w, h), "float32", 1)
    store, _ = STORAGE["float32"]
    graph = vd.CommandGraph()
    store(img, w, exec_size=w * h, graph=graph)
    if backend == "cuda":
        with pytest.raises(vd.UnsupportedFeatureError, match="4 channels of a 32-bit type"):
            graph.submit()
    else:
        graph.submit(wait=True)
        np.testing.assert_array_equal(download(img), expected_store(w, h)[..., 0])
    graph.destroy()


def test_storage_image_1d(backend):
    @vd.shader("out.size")
    def ramp(out: Buff[v4], img: RWImg1[f32]):
        i = vc.new_int(vc.global_invocation_id().x)
        vc.image_store(img, i, vc.new_vec4(i, 2 * i, 0, 1))
        out[i] = vc.image_load(img, i)

    img = make_image(1, (9,), "float32", 4)
    out = vd.Buffer((9,), vd.vec4)
    ramp(out, img)
    x = np.arange(9)
    ref = np.stack([x, 2 * x, 0 * x, 1 + 0 * x], axis=-1)
    np.testing.assert_array_equal(download(img), ref)
    np.testing.assert_array_equal(out.read(0), ref)


# ----------------------------------------------------------------------------- errors

def test_binding_errors_are_clear(backend):
    img2 = make_image(2, (4, 4), "float32", 4)
    out = vd.Buffer((16,), vd.vec4)
    with pytest.raises(TypeError, match="needs a 1-D image"):
        fetch_1d(out, img2, 4)
    with pytest.raises(TypeError, match="int32 texels"):
        fetch_2d_f(out, make_image(2, (4, 4), "int32", 1), 4)
    with pytest.raises(TypeError, match="vd.Image2D"):
        fetch_2d_f(out, out, 4)
    with pytest.raises(TypeError, match="image.sampler"):
        fetch_2d_f(out, (img2, "nearest"), 4)
