"""Cases that are only compiled: printf and image access."""
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import case, gid


@case("printf", inputs=None, reference=None, compile_only=True)
def _printf():
    @vd.shader("x.size")
    def printf(x: Buff[f32], n: Buff[i32]):
        i = gid()
        with vc.if_block(i == 0):
            vc.printf("x[0] = %f, n[0] = %d, i = %u\n", x[i], n[i], i)
            vc.print_vars(x[i], n[i])
    return printf


@case("images_sampled", inputs=None, reference=None, compile_only=True)
def _images_sampled():
    @vd.shader("out.size")
    def images_sampled(tex1: Img1[f32], tex2: Img2[f32], tex3: Img3[f32], itex: Img2[i32],
                       utex: Img1[u32], out: Buff[v4]):
        i = gid()
        f = i.cast(f32) * 0.01
        acc = vc.new_vec4(vc.sample(tex1, f))
        acc += vc.sample(tex2, (f, 0.5))
        acc += vc.sample(tex3, (f, f, 0.5))
        acc += vc.texel_fetch(tex2, (i.cast(i32), 0)) + vc.texel_fetch(tex1, i.cast(i32), 0)
        acc += vc.texel_fetch(itex, (1, 2)).cast(v4) + vc.texel_fetch(utex, 3).cast(v4)
        size = vc.image_size(tex2)
        out[i] = acc + vc.image_size(tex1).cast(f32) + (size.x + vc.image_size(tex3).z).cast(f32)
    return images_sampled


@case("images_arrayed", inputs=None, reference=None, compile_only=True)
def _images_arrayed():
    @vd.shader("out.size")
    def images_arrayed(arr: Img2Array[f32], iarr: Img2Array[i32], uarr: Img2Array[u32],
                       tex1: Img1[f32], tex2: Img2[f32], tex3: Img3[f32], out: Buff[v4]):
        i = gid()
        f = i.cast(f32) * 0.01
        acc = vc.new_vec4(vc.sample(arr, (f, 0.5, 1.0)))
        acc += arr.sample((f, 2.0, 1.0))                 # 0.1's texel-space form
        acc += tex1.sample(f) + tex2.sample((f, 1.0)) + tex3.sample((f, 1.0, 2.0))
        acc += vc.texel_fetch(arr, (i.cast(i32), 0, 1))
        acc += vc.texel_fetch(iarr, (1, 2, 0)).cast(v4) + vc.texel_fetch(uarr, (0, 0, 2)).cast(v4)
        size = vc.image_size(arr)
        out[i] = acc + (size.x + size.y + size.z).cast(f32)
    return images_arrayed


@case("image_array_sample_lod", inputs=None, reference=None, compile_only=True,
      needs=frozenset({"cl:cl_khr_mipmap_image"}))
def _image_array_sample_lod():
    @vd.shader("out.size")
    def image_array_sample_lod(arr: Img2Array[f32], out: Buff[v4]):
        i = gid()
        out[i] = vc.sample(arr, (i.cast(f32) * 0.01, 0.25, 1.0), 1.0) + arr.sample((1.0, 2.0, 0.0), 0.5)
    return image_array_sample_lod


@case("image_sample_lod", inputs=None, reference=None, compile_only=True,
      needs=frozenset({"cl:cl_khr_mipmap_image"}))
def _image_sample_lod():
    @vd.shader("out.size")
    def image_sample_lod(tex2: Img2[f32], out: Buff[v4]):
        i = gid()
        out[i] = vc.sample(tex2, (i.cast(f32) * 0.01, 0.25), 1.0)     # explicit lod
    return image_sample_lod


@case("images_storage", inputs=None, reference=None, compile_only=True)
def _images_storage():
    @vd.shader("out.size")
    def images_storage(rw: RWImg2[f32], rwu: RWImg1[u32], rw3: RWImg3[i32], out: Buff[v4]):
        i = gid()
        size = vc.image_size(rw)
        p = (i.cast(i32) % size.x, i.cast(i32) // size.x)
        acc = vc.image_load(rw, p)
        vc.image_store(rw, p, acc * 0.5)
        vc.image_store(rwu, i.cast(i32), (i, i + 1, 0, 1))
        vc.image_store(rw3, (0, 1, 2), vc.image_load(rw3, (2, 1, 0)) + 1)
        vc.memory_barrier("image")
        out[i] = acc + vc.image_size(rwu).cast(f32) + vc.image_size(rw3).x.cast(f32)
    return images_storage
