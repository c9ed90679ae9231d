"""Image access inside shaders: sampling, texel fetch, storage load/store, size.

`vc.sample(img, coords)` takes the coordinates the bound sampler expects (normalized by
default); the image parameter's own `img.sample(coords, lod)` is vkdispatch 0.1's form,
in texels: integer coordinates are texel centres whatever the image's size. An arrayed
image (`Img2Array`) takes its layer as one more, unnormalized, coordinate."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ir, ops
from ..builder import codegen_error
from ..variables import ShaderVariable, convert, to_node


def _image(img):
    if not isinstance(img, ShaderVariable) or not (isinstance(img.node, ir.Var)
                                                   and img.node.kind == ir.IMAGE):
        raise codegen_error("expected an image parameter (Img1/Img2/Img3/Img2Array or RWImg*)")
    return img.node


def _axes(v: ir.Var) -> int:
    """Coordinates an access takes: the image's dimensions, plus the layer if arrayed."""
    return v.dim + (1 if v.arrayed else 0)


def _coords(node_var, coords, base):
    n = to_node(coords, base)
    want = dt.vector_of(base, _axes(node_var))
    if n.dtype.count != want.count:
        layer = " and a layer" if node_var.arrayed else ""
        raise TypeError(f"a {node_var.dim}-D image{' array' if node_var.arrayed else ''} "
                        f"needs {node_var.dim} coordinate(s){layer}, got {n.dtype.name}")
    return convert(n, want)


def sample(img, coords, lod=None) -> ShaderVariable:
    """Filtered read with the bound sampler at float `coords` (normalized or not, as the
    sampler says); returns a 4-component texel."""
    v = _image(img)
    if not v.sampled:
        raise codegen_error(f"{v.name} is a storage image; use image_load/image_store")
    args = [v, _coords(v, coords, dt.float32)]
    if lod is not None:
        args.append(convert(to_node(lod, dt.float32), dt.float32))
    return ShaderVariable(img.builder, img.builder.bind(ops.make("image_sample", *args)))


def sample_texels(img, coords, lod=None) -> ShaderVariable:
    """vkdispatch 0.1's `img.sample`: a filtered read at `coords` in texels (texel i's
    centre at i), through a sampler with normalized coordinates (every 0.1 sampler and
    the default one); an arrayed image's layer coordinate passes unchanged."""
    v = _image(img)
    if not v.sampled:
        raise codegen_error(f"{v.name} is a storage image; use image_load/image_store")
    b = img.builder
    c = _coords(v, coords, dt.float32)
    fdim = dt.vector_of(dt.float32, v.dim)
    size = convert(_size_node(img, v), dt.vector_of(dt.float32, _axes(v)))
    if v.arrayed:    # normalize x[, y], keep the layer
        xy = "xy"[:v.dim]
        part = ops.make("swizzle", c, attrs=(xy,))
        scaled = ops.make("div", ops.make("add", part, convert(to_node(0.5, dt.float32), fdim)),
                          ops.make("swizzle", size, attrs=(xy,)))
        layer = ops.make("swizzle", c, attrs=("xyz"[v.dim],))
        c = ops.make("construct", scaled, layer, dtype=dt.vector_of(dt.float32, _axes(v)))
    else:
        half = convert(to_node(0.5, dt.float32), fdim) if v.dim > 1 else to_node(0.5, dt.float32)
        c = ops.make("div", ops.make("add", c, half), size)
    args = [v, b.bind(c)]
    if lod is not None:
        args.append(convert(to_node(lod, dt.float32), dt.float32))
    return ShaderVariable(b, b.bind(ops.make("image_sample", *args)))


def texel_fetch(img, coords, lod=0) -> ShaderVariable:
    """Unfiltered read of the texel at integer `coords` of a sampled image."""
    v = _image(img)
    if not v.sampled:
        raise codegen_error(f"{v.name} is a storage image; use image_load")
    args = [v, _coords(v, coords, dt.int32), convert(to_node(lod, dt.int32), dt.int32)]
    return ShaderVariable(img.builder, img.builder.bind(ops.make("image_fetch", *args)))


def image_load(img, coords) -> ShaderVariable:
    v = _image(img)
    if v.sampled:
        raise codegen_error(f"{v.name} is a sampled image; use sample/texel_fetch")
    return ShaderVariable(img.builder, img.builder.bind(
        ops.make("image_load", v, _coords(v, coords, dt.int32))))


def image_store(img, coords, value) -> None:
    v = _image(img)
    if v.sampled:
        raise codegen_error(f"{v.name} is a sampled image and cannot be written; "
                            f"declare it RWImg{v.dim}[...]")
    texel = dt.vector_of(v.dtype, 4)
    val = to_node(value, v.dtype)
    if val.dtype.count != 4:
        raise TypeError(f"image_store takes a 4-component texel, got {val.dtype.name}")
    img.builder.emit(ir.Eval(ops.make("image_store", v, _coords(v, coords, dt.int32),
                                      convert(val, texel))))


def _size_node(img, v: ir.Var):
    # an arrayed image also takes its shader shape (x, y, layers, count), filled by the
    # launcher: CUDA reads the layer count there (see the CUDA prelude's image_size)
    extra = (img.builder.param_shape(v),) if v.arrayed else ()
    return ops.make("image_size", v, *extra, dtype=dt.vector_of(dt.int32, _axes(v)))


def image_size(img) -> ShaderVariable:
    """The image's size in texels (int, ivec2 or ivec3); an arrayed image's has its layer
    count last."""
    v = _image(img)
    return ShaderVariable(img.builder, _size_node(img, v))


class ImageVariable(ShaderVariable):
    """An image parameter inside a shader, with vkdispatch 0.1's methods."""

    __slots__ = ()

    def sample(self, coords, lod=None) -> ShaderVariable:
        """0.1's sampling: `coords` in texels (see sample_texels)."""
        return sample_texels(self, coords, lod)
