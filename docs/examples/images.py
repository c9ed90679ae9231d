import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Img2, f32, v2, v4

w, h = 8, 4
image = vd.Image2D((w, h), vd.float32)       # shape is (width, height)
texels = np.arange(w * h, dtype=np.float32)  # x fastest: texel (x, y) is texels[y*w + x]
image.write(texels)
assert np.array_equal(image.read().ravel(), texels)


@vd.shader("out.size")
def sample_at(out: Buff[v4], image: Img2[f32], pos: Buff[v2]):
    i = vc.global_invocation_id().x
    out[i] = vc.sample(image, pos[i])         # 4 components; one channel -> .x


# texel centres in normalized coordinates ((x + 0.5) / w, (y + 0.5) / h)
xs, ys = np.meshgrid(np.arange(w), np.arange(h))
pos = np.stack([(xs.ravel() + 0.5) / w, (ys.ravel() + 0.5) / h], axis=1).astype(np.float32)
out = vd.Buffer((w * h,), vd.vec4)
sample_at(out, image, vd.asbuffer(pos, vd.vec2))   # default sampler: linear, clamped
assert np.allclose(out.read(0)[:, 0], texels, atol=1e-2)

# A nearest-neighbour sampler that repeats the image outside [0, 1):
sample_at(out, image.sampler("nearest", "repeat"), vd.asbuffer(pos + 1.0, vd.vec2))
assert np.allclose(out.read(0)[:, 0], texels)
