import numpy as np
import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32

rng = np.random.default_rng(4)
a_np, b_np, c_np = (rng.random(100_000, dtype=np.float32) for _ in range(3))
a, b, c = xp.asarray(a_np), xp.asarray(b_np), xp.asarray(c_np)   # uploads

# Operations are recorded, not run: nothing reaches the device yet.
before = vd.stats()
out = xp.sqrt(a * b + c) * 2 - a
assert (vd.stats() - before).dispatches_recorded == 0

# Reading the values is a sync point: the chain runs as one fused kernel.
values = np.asarray(out)
assert (vd.stats() - before).dispatches_recorded == 1
assert np.allclose(values, np.sqrt(a_np * b_np + c_np) * 2 - a_np, rtol=1e-5, atol=1e-6)

# A reduction takes the elementwise work before it into its kernel.
total = xp.sum(a * b)
assert np.isclose(float(total), np.dot(a_np.astype(np.float64), b_np), rtol=1e-4)

# The same structure flushed again replays its plan: nothing is traced or compiled.
before = vd.stats()
for _ in range(5):
    out = xp.sqrt(a * b + c) * 2 - a
    float(out[0])                             # a sync point each iteration
assert (vd.stats() - before).kernels_compiled == 0

# Arrays and buffers share memory: a shader call on an array's buffer first runs the
# pending work that writes it.
@vd.shader("buf.size")
def negate(buf: Buff[f32]):
    i = vc.global_invocation_id().x
    buf[i] = -buf[i]


y = xp.asarray(a_np) * 3                      # pending
negate(y.buffer)                              # .buffer places y; the shader follows it
assert np.allclose(np.asarray(y), -3 * a_np, rtol=1e-6)
z = xp.from_buffer(vd.asbuffer(b_np))         # an Array over an existing Buffer
assert np.array_equal(np.asarray(z + 0), b_np)

# NumPy functions dispatch to the namespace (and return device Arrays):
s = np.sin(a)
assert isinstance(s, xp.Array)
assert np.allclose(np.asarray(s), np.sin(a_np), atol=1e-6)

# The fft extension runs vd.fft's generated kernels (any length, any axis, every norm):
spectrum = xp.fft.rfft(a)
assert np.allclose(np.asarray(spectrum), np.fft.rfft(a_np), rtol=1e-3, atol=1e-2)
back = xp.fft.irfft(spectrum, n=a.shape[0])
assert np.allclose(np.asarray(back), a_np, atol=1e-5)
