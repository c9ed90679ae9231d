"""Image access inside shaders: sampling, texel fetch, storage load/store, size."""
from __future__ import annotations

from ...base import dtype as dt
from .. import ir, ops
from ..builder import codegen_error
from ..variables import ShaderVariable, convert, to_node


def _image(img):
    if not isinstance(img, ShaderVariable) or not (isinstance(img.node, ir.Var)
                                                   and img.node.kind == ir.IMAGE):
        raise codegen_error("expected an image parameter (Img1/Img2/Img3 or RWImg*)")
    return img.node


def _coords(node_var, coords, base):
    n = to_node(coords, base)
    want = dt.vector_of(base, node_var.dim)
    if n.dtype.count != want.count:
        raise TypeError(f"a {node_var.dim}-D image needs {node_var.dim} coordinates, got "
                        f"{n.dtype.name}")
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


def image_size(img) -> ShaderVariable:
    v = _image(img)
    t = dt.vector_of(dt.int32, v.dim)
    return ShaderVariable(img.builder, ops.make("image_size", v, dtype=t))
