"""vkdispatch 0.1-style image code in shaders, written fresh after its image tutorial and
tests: `img.sample(coords)` on an image parameter takes texel coordinates (texel i's
centre at i) through `image.sample()`'s sampler; `vd.Image2DArray` layers are indexed by
a shader (`Img2Array`, coordinates (x, y, layer)); each against NumPy on every backend."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Img1, Img2, Img2Array, f32, i32, v4

UPSCALE = 4


def test_1d_linear_upsampling(backend):
    signal = np.sin(np.arange(40) / 8).astype(np.float32)
    line = vd.Image1D(len(signal), vd.float32)
    line.write(signal)
    out = vd.Buffer(((len(signal) - 1) * UPSCALE,), vd.float32)

    @vd.shader("buff.size")
    def upsample(buff: Buff[f32], line: Img1[f32]):
        ind = vc.global_invocation_id().x
        buff[ind] = line.sample(vc.new_float(ind) / UPSCALE).x

    upsample(out, line.sample())
    x = np.arange(out.size) / UPSCALE
    np.testing.assert_allclose(out.read(0), np.interp(x, np.arange(len(signal)), signal),
                               atol=1e-2)


def test_2d_linear_upsampling_non_square(backend):
    w, h = 12, 9                            # 0.1's layout: shape (w, h), x fastest
    yy, xx = np.mgrid[0:h, 0:w]
    picture = np.sin(xx / 5 + yy / 7).astype(np.float32)     # picture[y, x]
    img = vd.Image2D((w, h), vd.float32)
    img.write(picture.ravel())
    ow, oh = (w - 1) * UPSCALE, (h - 1) * UPSCALE
    out = vd.Buffer((ow * oh,), vd.float32)

    @vd.shader("out.size")
    def upsample(out: Buff[f32], src: Img2[f32], ow: Const[i32], scale: Const[f32]):
        tid = vc.new_int(vc.global_invocation_id().x)
        uv = vc.new_vec2(tid % ow, tid // ow) / scale
        out[tid] = src.sample(uv).x

    upsample(out, img.sample(), ow, float(UPSCALE))
    oy, ox = np.mgrid[0:oh, 0:ow] / UPSCALE
    # bilinear between texel centres (no clamping needed inside)
    x0, y0 = np.floor(ox).astype(int), np.floor(oy).astype(int)
    fx, fy = ox - x0, oy - y0
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    ref = ((1 - fy) * ((1 - fx) * picture[y0, x0] + fx * picture[y0, x1])
           + fy * ((1 - fx) * picture[y1, x0] + fx * picture[y1, x1]))
    np.testing.assert_allclose(out.read(0).reshape(oh, ow), ref, atol=1e-2)


@vd.shader("out.size")
def _fetch_layers(out: Buff[v4], img: Img2Array[f32], w: Const[i32], h: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = vc.texel_fetch(img, vc.new_ivec3(i % w, (i // w) % h, i // (w * h)))


@vd.shader("out.size")
def _sample_layers(out: Buff[v4], img: Img2Array[f32], w: Const[i32], h: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = img.sample(vc.new_vec3(i % w, (i // w) % h, i // (w * h)))


@vd.shader("out.size")
def _sample_unnormalized(out: Buff[v4], img: Img2Array[f32], w: Const[i32], h: Const[i32]):
    i = vc.new_int(vc.global_invocation_id().x)
    out[i] = vc.sample(img, vc.new_vec3(i % w + 0.5, (i // w) % h + 0.5, i // (w * h)))


def test_image_2d_array_layers_indexed_in_a_shader(backend):
    w, h, layers = 5, 3, 4
    img = vd.Image2DArray((w, h), layers, vd.float32)
    assert img.numpy_shape == (layers, w, h) and img.view_type is vd.image_view_type.VIEW_TYPE_2D_ARRAY
    data = np.random.default_rng(0).random((layers, w, h)).astype(np.float32)
    img.write(data)
    np.testing.assert_array_equal(img.read(), data)
    out = vd.Buffer((layers * w * h,), vd.vec4)
    _fetch_layers(out, img, w, h)           # out[(l * h + y) * w + x] = texel (x, y) of layer l
    np.testing.assert_array_equal(out.read(0)[:, 0], data.ravel())
    atol = 1e-5 if vd.get_context().device.device_type == "cpu" else 1e-2
    # texel centres of each layer through an unnormalized sampler, then 0.1's form
    _sample_unnormalized(out, img.sampler("linear", "clamp_to_edge", normalized=False), w, h)
    np.testing.assert_allclose(out.read(0)[:, 0], data.ravel(), atol=atol)
    if not vd.get_context().runtime_context.capabilities.layer_sampling:   # PoCL
        with pytest.raises(vd.UnsupportedFeatureError, match="capabilities.layer_sampling"):
            _sample_layers(out, img.sample(), w, h)     # refused at the call: nothing recorded
        _fetch_layers(out, img, w, h)
        np.testing.assert_array_equal(out.read(0)[:, 0], data.ravel())
        return
    _sample_layers(out, img.sample(), w, h)
    np.testing.assert_allclose(out.read(0)[:, 0], data.ravel(), atol=atol)


def test_one_layer_array_is_still_an_array(backend):
    img = vd.Image2DArray((3, 2), 1, vd.float32)
    assert img.numpy_shape == (1, 3, 2)
    data = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
    img.write(data)
    out = vd.Buffer((6,), vd.vec4)
    _fetch_layers(out, img, 3, 2)
    np.testing.assert_array_equal(out.read(0)[:, 0], data.ravel())


def test_array_image_size(backend):
    @vd.shader(workgroups=1, local_size=(1, 1, 1))
    def array_size(out: Buff[i32], img: Img2Array[f32]):
        s = vc.image_size(img)
        out[0], out[1], out[2] = s.x, s.y, s.z

    out = vd.Buffer((3,), vd.int32)
    for shape, layers in (((6, 5), 3), ((2, 7), 1)):
        array_size(out, vd.Image2DArray(shape, layers))
        np.testing.assert_array_equal(out.read(0), [*shape, layers])
    # NVIDIA's driver 580 found no kernel in a module holding txq.array_size (H200,
    # CUDA 13.0): CUDA takes the layer count from the launcher instead
    assert "txq.array_size" not in str(array_size.get_src(target="cuda"))


def test_array_binding_errors(backend):
    arr, flat = vd.Image2DArray((4, 4), 2), vd.Image2D((4, 4))
    out = vd.Buffer((16,), vd.vec4)
    with pytest.raises(TypeError, match=r"needs an arrayed image \(vd.Image2DArray\)"):
        _fetch_layers(out, flat, 4, 4)

    @vd.shader("out.size")
    def flat_fetch(out: Buff[v4], img: Img2[f32]):
        out[0] = vc.texel_fetch(img, vc.new_ivec2(0, 0))

    with pytest.raises(TypeError, match="declare the parameter Img2Array"):
        flat_fetch(out, arr)
    with pytest.raises(TypeError, match="needs 2 coordinate"):
        @vd.shader("out.size")
        def bad(out: Buff[v4], img: Img2Array[f32]):
            out[0] = vc.texel_fetch(img, vc.new_ivec2(0, 0))
        bad(out, arr)



def test_host_image_classes_are_not_annotations():
    with pytest.raises(TypeError, match=r"vc.Image2D\[...\] \(Img2\[...\]\)"):
        vd.Image2D[vd.float32]
    with pytest.raises(TypeError, match="Img2Array"):
        vd.Image2DArray[vd.float32]


def test_01_tutorial_2d_sampling(backend):
    """0.1's "Images and Sampling" tutorial and its 2-D sampling test, written fresh with
    0.1's names: ravel_index over the output's shape, a transposed vec2 register, the
    image's texel-space sample, image.sample() passed for the image."""
    n, factor = 20, 4
    data = np.sin(np.array([[i / 8 + j / 17 for i in range(n)] for j in range(n)])
                  ).astype(np.float32)
    img = vd.Image2D(data.shape, vd.float32)
    img.write(data)
    np.testing.assert_allclose(img.read(0), data)
    out = vd.Buffer((n * (factor - 1), n * (factor - 1)), vd.float32)

    @vd.shader("buff.size")
    def do_approx(buff: Buff[f32], img: Img2[f32]):
        ind = vc.global_invocation_id().x.to_register()
        ind_2d = vc.ravel_index(ind, buff.shape).to_register()
        ind_2d_transposed = vc.new_vec2_register(ind_2d.y, ind_2d.x)
        buff[ind] = img.sample(ind_2d_transposed / factor).x

    do_approx(out, img.sample())
    m = n * (factor - 1)
    full = np.sin(np.array([[i / (8 * factor) + j / (17 * factor) for i in range(m)]
                            for j in range(m)])).astype(np.float32)
    np.testing.assert_allclose(out.read(0), full, atol=3e-3)
