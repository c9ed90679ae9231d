"""The OpenCL C emitter: kernels built and run on PoCL through pyopencl, results
compared with NumPy. The launcher here sets kernel arguments from ProgramInfo alone
(buffers and images in binding order, a sampler after each sampled image, then one
by-value argument per uniform field), so it checks the kernel ABI as well."""
import math
import shutil
import subprocess

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.base.errors import UnsupportedFeatureError
from vkdispatch.codegen import ir, ops
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403
from vkdispatch.codegen.builder import Builder
from vkdispatch.codegen.emit import emit
from vkdispatch.base.abi import UniformPacker

cl = pytest.importorskip("pyopencl")
compiler = pytest.importorskip("vkdispatch.backends.opencl.compiler")

LOCAL = (64, 1, 1)
# the emitter's own semantics, without memory-check guards (every case also compiles
# with them: tests/codegen/test_compile_all.py)
UNCHECKED = (False, ())


class CL:
    def __init__(self):
        try:
            devices = [d for p in cl.get_platforms() for d in p.get_devices()]
        except cl.Error as exc:
            pytest.skip(f"no OpenCL platform: {exc}")
        if not devices:
            pytest.skip("no OpenCL device")
        self.device = devices[0]
        self.ctx = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.ctx)
        self.extensions = set(self.device.extensions.split())

    def build(self, kernel, name):
        emitted = emit(kernel, "opencl", name)
        program = compiler.build_program(self.ctx, [self.device], emitted.source)
        return emitted, cl.Kernel(program, emitted.info.entry_point)

    def run(self, shader, n, buffers=None, uniforms=None, images=None, local=LOCAL,
            groups=None):
        """Launch `shader` over `n` invocations (or `groups` workgroups without a bounds
        check); buffers/images are numpy arrays, read back in place."""
        buffers, uniforms, images = buffers or {}, dict(uniforms or {}), images or {}
        kernel = shader.kernel(None, local, groups is None, UNCHECKED)
        emitted, k = self.build(kernel, shader.name)
        info = emitted.info
        if groups is None:
            groups = (-(-n // local[0]), 1, 1)
            uniforms["vkd_exec_count"] = (n, 1, 1)
        arg, keep = 0, []
        for b in sorted(info.bindings, key=lambda b: b.index):
            if b.kind == "storage_buffer":
                host = buffers[b.name]
                mem = cl.Buffer(self.ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                                hostbuf=host)
                keep.append((mem, host))
                k.set_arg(arg, mem)
                arg += 1
                continue
            img = images[b.name]
            k.set_arg(arg, img.image)
            arg += 1
            if b.kind == "sampled_image":
                k.set_arg(arg, img.sampler)
                arg += 1
        packed = UniformPacker(info).pack(uniforms)
        for f in info.uniforms:
            k.set_arg(arg, np.frombuffer(packed[f.offset:f.offset + f.size], np.uint8))
            arg += 1
        assert arg == k.num_args, emitted.source
        size = tuple(g * l for g, l in zip(groups, local))
        cl.enqueue_nd_range_kernel(self.queue, k, size, local)
        for mem, host in keep:
            cl.enqueue_copy(self.queue, host, mem)
        for img in images.values():
            if img.sampler is None:       # storage images come back; sampled ones are inputs
                img.read(self.queue)
        self.queue.finish()
        return emitted


class Img:
    """A float/int/uint RGBA image, optionally with a sampler (nearest, unnormalized)."""
    _TYPES = {np.float32: "FLOAT", np.int32: "SIGNED_INT32", np.uint32: "UNSIGNED_INT32"}

    def __init__(self, env, data, sampled=False, normalized=False, linear=False):
        self.data = np.ascontiguousarray(data)
        fmt = cl.ImageFormat(cl.channel_order.RGBA,
                             getattr(cl.channel_type, self._TYPES[self.data.dtype.type]))
        self.shape = self.data.shape[:-1][::-1]   # (w, h, d)
        self.image = cl.create_image(env.ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                                     fmt, shape=self.shape, hostbuf=self.data)
        self.sampler = cl.Sampler(env.ctx, normalized, cl.addressing_mode.CLAMP_TO_EDGE,
                                  cl.filter_mode.LINEAR if linear else cl.filter_mode.NEAREST) \
            if sampled else None

    def read(self, queue):
        cl.enqueue_copy(queue, self.data, self.image, origin=(0,) * len(self.shape),
                        region=self.shape)


@pytest.fixture(scope="module")
def env():
    return CL()


def shader(fn, exec_size="out.size", **kw):
    return vd.shader(exec_size, **kw)(fn)


def rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- documented example

def test_add_scalar_example_source_abi_and_result(env):
    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    src = emit(add_scalar.kernel(None, LOCAL, True, UNCHECKED), "opencl", "add_scalar").source
    assert "__kernel __attribute__((reqd_work_group_size(64, 1, 1)))" in src
    assert "void add_scalar(__global float* buff, float bias, uint3 vkd_exec_count)" in src
    assert "#pragma" not in src           # nothing beyond core OpenCL C
    compiler.build_opencl(src)
    data = np.arange(100, dtype=np.float32)
    env.run(add_scalar, 100, {"buff": data}, {"bias": 2.5})
    np.testing.assert_array_equal(data, np.arange(100, dtype=np.float32) + 2.5)


def test_kernel_arg_info_matches_program_info(env):
    """Parameter order and types as the driver reports them (-cl-kernel-arg-info)."""
    def k(out: Buff[v3], flags: Buff[b1], src: Img2[f32], rw: RWImg2[u32], wo: RWImg3[i32],
          s8: Const[i8], u16: Const[u16], i64_: Const[i64], d: Const[f64], c: Const[c64],
          c2: Const[c128], p: Const[v3], iv: Const[iv3], m: Const[m3], flag: Const[b1]):
        i = vc.global_invocation_id().x
        t = vc.image_load(rw, (0, 0))
        vc.image_store(rw, (0, 0), t)
        vc.image_store(wo, (0, 0, 0), vc.image_load(rw, (1, 1)).cast(iv4))
        out[i] = vc.sample(src, (0.5, 0.5)).xyz + p + m[0] + iv.cast(v3)
        flags[i] = flag
    em = emit(shader(k).kernel(None, LOCAL, True, UNCHECKED), "opencl", "k")
    prg = cl.Program(env.ctx, em.source).build("-cl-kernel-arg-info")
    kern = cl.Kernel(prg, "k")
    ai = cl.kernel_arg_info
    got = [(kern.get_arg_info(i, ai.NAME), kern.get_arg_info(i, ai.TYPE_NAME).replace(" ", ""))
           for i in range(kern.num_args)]
    expect = [("out", "float*"), ("flags", "uint*"), ("src", "image2d_t"),
              ("src_sampler", "sampler_t"), ("rw", "image2d_t"), ("wo", "image3d_t"),
              ("s8", "char"), ("u16", "ushort"), ("i64_", "long"), ("d", "double"),
              ("c", "float2"), ("c2", "double2"), ("p", "float3"), ("iv", "int3"),
              ("m", "vkd_mat3"), ("flag", "uint"), ("vkd_exec_count", "uint3")]
    assert got == expect
    access = [kern.get_arg_info(i, ai.ACCESS_QUALIFIER) for i in (2, 4, 5)]
    aq = cl.kernel_arg_access_qualifier
    assert access == [aq.READ_ONLY, aq.READ_WRITE, aq.WRITE_ONLY]
    sizes = {f.name: f.size for f in em.info.uniforms}
    assert (sizes["p"], sizes["iv"], sizes["m"], sizes["flag"], sizes["c2"]) == (16, 16, 36, 4, 16)
    assert [b.name for b in em.info.bindings] == ["out", "flags", "src", "rw", "wo"]


# ----------------------------------------------------------------------------- arithmetic

def test_float_math_matches_numpy(env):
    def k(out: Buff[f32], a: Buff[f32], b: Buff[f32]):
        i = vc.global_invocation_id().x
        x, y = a[i], b[i]
        r = vc.new_float(0)
        r += x % y
        r += (x // y) * 2
        r += vc.pow(vc.abs(x), 0.5) * 3
        r += vc.atan2(x, y) * 5
        r += vc.min(x, y) * 7 + vc.max(x, y) * 11
        r += vc.sign(x) * 13 + vc.round(x * 4) * 17 + vc.fract(x) * 19
        r += vc.clamp(x, -1.0, 0.5) * 23 + vc.mix(x, y, 0.25) * 29 + vc.fma(x, y, 1.0)
        r += vc.step(0.0, x) * 31 + vc.smoothstep(-1.0, 1.0, x) * 37
        r += vc.sin(x) + vc.cos(y) + vc.tanh(x) + vc.exp(-vc.abs(x)) + vc.log(vc.abs(y) + 1)
        r += vc.sqrt(vc.abs(x)) + vc.rsqrt(vc.abs(y) + 1) + vc.floor(x) + vc.ceil(y) + vc.trunc(x)
        r += vc.exp2(x * 0.1) + vc.log2(vc.abs(x) + 2) + vc.asinh(x) + vc.atan(y)
        out[i] = r
    g = rng(1)
    a = (g.standard_normal(256) * 3).astype(np.float32)
    a[:8] = [0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.625, -2.625]   # round half to even at x*4
    b = (g.standard_normal(256) * 2 + np.sign(g.standard_normal(256)) * 0.5).astype(np.float32)
    out = np.zeros(256, np.float32)
    env.run(shader(k), 256, {"out": out, "a": a, "b": b})
    x, y = a.astype(np.float64), b.astype(np.float64)
    t = np.clip((x + 1) / 2, 0, 1)
    ref = (np.mod(x, y) + np.floor_divide(x, y) * 2 + np.abs(x) ** 0.5 * 3
           + np.arctan2(x, y) * 5 + np.minimum(x, y) * 7 + np.maximum(x, y) * 11
           + np.sign(x) * 13 + np.round(x * 4) * 17 + (x - np.floor(x)) * 19
           + np.clip(x, -1, 0.5) * 23 + (x * 0.75 + y * 0.25) * 29 + (x * y + 1)
           + (x >= 0) * 31 + t * t * (3 - 2 * t) * 37
           + np.sin(x) + np.cos(y) + np.tanh(x) + np.exp(-np.abs(x)) + np.log(np.abs(y) + 1)
           + np.sqrt(np.abs(x)) + 1 / np.sqrt(np.abs(y) + 1) + np.floor(x) + np.ceil(y)
           + np.trunc(x) + np.exp2(x * 0.1) + np.log2(np.abs(x) + 2) + np.arcsinh(x)
           + np.arctan(y))
    np.testing.assert_allclose(out, ref, rtol=2e-4, atol=2e-3)


@pytest.mark.parametrize("dtype", [i32, i64, i16, i8])
def test_signed_floor_mod_and_div(env, dtype):
    def k(out: Buff[dtype], q: Buff[dtype], a: Buff[dtype], b: Buff[dtype]):
        i = vc.global_invocation_id().x
        out[i] = a[i] % b[i]
        q[i] = a[i] // b[i]
    npt = dtype.numpy_dtype
    a = np.array([7, -7, 7, -7, 0, 5, -5, 100, -100, 3, -1, 1], npt)
    b = np.array([3, 3, -3, -3, 4, 5, 5, -7, 7, 1, 4, -4], npt)
    out, q = np.zeros_like(a), np.zeros_like(a)
    env.run(shader(k), a.size, {"out": out, "q": q, "a": a, "b": b})
    np.testing.assert_array_equal(out, np.mod(a, b))
    np.testing.assert_array_equal(q, np.floor_divide(a, b))


def test_integer_ops(env):
    def k(out: Buff[i32], uo: Buff[u32], a: Buff[i32], u: Buff[u32], big: Buff[i64]):
        i = vc.global_invocation_id().x
        x, y = a[i], u[i]
        out[i] = ((x & 0x5A) | (x ^ 7)) + (x << 2) + (x >> 1) + (~x) + vc.abs(x) * 3 \
            + vc.sign(x) * 5 + vc.min(x, 3) + vc.max(x, -4) + vc.clamp(x, -10, 10)
        uo[i] = (y % 7) + (y // 3) + (y >> 3) + (y << 1) + vc.min(y, 100)
        big[i] = big[i] * 1000000007 + (big[i] >> 3) + vc.abs(big[i] - 5)
    g = rng(2)
    a = g.integers(-1000, 1000, 128).astype(np.int32)
    u = g.integers(0, 1 << 30, 128).astype(np.uint32)
    big = g.integers(-2 ** 40, 2 ** 40, 128)
    out, uo, big0 = np.zeros_like(a), np.zeros_like(u), big.copy()
    env.run(shader(k), 128, {"out": out, "uo": uo, "a": a, "u": u, "big": big})
    ref = (((a & 0x5A) | (a ^ 7)) + (a << 2) + (a >> 1) + (~a) + np.abs(a) * 3 + np.sign(a) * 5
           + np.minimum(a, 3) + np.maximum(a, -4) + np.clip(a, -10, 10))
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(uo, (u % 7) + (u // 3) + (u >> 3) + (u << 1) + np.minimum(u, 100))
    np.testing.assert_array_equal(big, big0 * 1000000007 + (big0 >> 3) + np.abs(big0 - 5))


def test_float64_literals_and_special_values(env):
    def k(out: Buff[f64], a: Buff[f64], flags: Buff[b1]):
        i = vc.global_invocation_id().x
        x = a[i]
        out[i] = vc.select(vc.isnan(x), 1e300, vc.select(vc.isinf(x), -2.5e-300, x * 0.1 + 1e-12))
        flags[i] = vc.isnan(x) | vc.isinf(x)
    a = np.array([1.0, np.nan, np.inf, -np.inf, -3.0, 1e200], np.float64)
    out, flags = np.zeros_like(a), np.zeros(a.size, np.uint32)
    em = env.run(shader(k), a.size, {"out": out, "a": a, "flags": flags})
    assert "cl_khr_fp64" in em.source
    ref = np.where(np.isnan(a), 1e300, np.where(np.isinf(a), -2.5e-300, a * 0.1 + 1e-12))
    np.testing.assert_allclose(out, ref, rtol=1e-15)      # the compiler may contract to fma
    np.testing.assert_array_equal(flags, ~np.isfinite(a))


# ----------------------------------------------------------------------------- bools & vectors

def test_bool_vectors_keep_bool_semantics(env):
    def k(out: Buff[v4], a: Buff[v4], b: Buff[v4], d: Buff[dv2], flag: Const[b1]):
        i = vc.global_invocation_id().x
        x, y = a[i], b[i]
        lt = x < y
        eq = x == y
        both = vc.new(dt.bvec4, lt)
        both[1] = flag                                   # dynamic-free lane store
        v = vc.new_vec4(0)
        v.x = vc.select(vc.any(lt), 1.0, 0.0) + vc.select(vc.all(x > -100.0), 2.0, 0.0)
        v.y = vc.select(lt.x & ~eq.y, 4.0, 0.0) + vc.select(both[1], 8.0, 0.0)
        v.z = vc.dot(lt.cast(v4), vc.new_vec4(1, 10, 100, 1000))
        nan_lanes = vc.isnan(d[i]) | (d[i] > 1.0)        # long lanes -> bool lanes
        v.w = nan_lanes.cast(dv2).x + 2 * nan_lanes.cast(v2).y + vc.select(vc.all(~eq), 16.0, 0.0)
        out[i] = v
    g = rng(3)
    a = g.integers(0, 3, (64, 4)).astype(np.float32)
    b = g.integers(0, 3, (64, 4)).astype(np.float32)
    d = np.array([[np.nan, 2.0], [0.5, np.nan], [0.0, 0.0], [3.0, 1.0]] * 16, np.float64)
    for flag in (True, False):
        out = np.zeros_like(a)
        env.run(shader(k), 64, {"out": out, "a": a, "b": b, "d": d}, {"flag": flag})
        lt, eq = a < b, a == b
        lanes = np.isnan(d) | (d > 1.0)
        ref = np.stack([lt.any(1) * 1.0 + 2.0,
                        (lt[:, 0] & ~eq[:, 1]) * 4.0 + flag * 8.0,
                        lt @ np.array([1, 10, 100, 1000]),
                        lanes[:, 0] + 2 * lanes[:, 1] + (~eq).all(1) * 16.0], 1)
        np.testing.assert_array_equal(out, ref)


def test_bool_buffers_and_uniform(env):
    def k(out: Buff[b1], a: Buff[b1], vals: Buff[i32], flag: Const[b1]):
        i = vc.global_invocation_id().x
        out[i] = (a[i] != flag) & (vals[i] > 0)
    a = np.array([0, 1, 0, 1, 1, 0], np.uint32)
    vals = np.array([1, 1, -1, -1, 5, 5], np.int32)
    for flag in (0, 1):
        out = np.full(6, 7, np.uint32)
        env.run(shader(k), 6, {"out": out, "a": a, "vals": vals}, {"flag": flag})
        np.testing.assert_array_equal(out, (a.astype(bool) != bool(flag)) & (vals > 0))


def test_vec3_buffers_are_packed_and_vector_functions(env):
    def k(out: Buff[v3], a: Buff[v3], b: Buff[v3], lens: Buff[f32], iv: Buff[iv3], sel: Const[i32]):
        i = vc.global_invocation_id().x
        x, y = a[i], b[i]
        c = vc.new(v3, vc.cross(x, y) + vc.normalize(x) * vc.dot(x, y))
        c[sel] = c[sel] + vc.distance(x, y)             # run-time component read + write
        out[i] = c.zyx
        lens[i] = vc.length(x) + x[sel]
        iv[i] = (x * 10).cast(iv3) + iv[i].yzx
    g = rng(4)
    a = g.standard_normal((50, 3)).astype(np.float32)
    b = g.standard_normal((50, 3)).astype(np.float32)
    iv = g.integers(-5, 5, (50, 3)).astype(np.int32)
    iv0 = iv.copy()
    out, lens = np.zeros_like(a), np.zeros(50, np.float32)
    em = env.run(shader(k), 50, {"out": out, "a": a, "b": b, "lens": lens, "iv": iv}, {"sel": 1})
    assert "vload3" in em.source and "vstore3" in em.source
    c = np.cross(a, b) + a / np.linalg.norm(a, axis=1, keepdims=True) * (a * b).sum(1, keepdims=True)
    c[:, 1] += np.linalg.norm(a - b, axis=1)
    np.testing.assert_allclose(out, c[:, ::-1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lens, np.linalg.norm(a, axis=1) + a[:, 1], rtol=1e-5)
    np.testing.assert_array_equal(iv, (a * 10).astype(np.int32) + iv0[:, [1, 2, 0]])


def test_vector_casts_and_bool_vector_buffers(env):
    def k(out: Buff[uv4], f: Buff[v4], lanes: Buff[dt.bvec2]):
        i = vc.global_invocation_id().x
        v = f[i]
        m = lanes[i]                       # the host stores bool lanes as 1/0
        out[i] = v.cast(iv4).cast(uv4) + (v > 0.0).cast(uv4) * 100 \
            + vc.select(vc.all(m), 1000, 0).cast(u32) + vc.select(vc.any(m), 10000, 0).cast(u32)
        lanes[i] = v.xy > v.zw
    g = rng(5)
    f = (g.standard_normal((16, 4)) * 50).astype(np.float32)
    lanes = g.integers(0, 2, (16, 2)).astype(np.uint32)
    lanes0 = lanes.copy()
    out = np.zeros((16, 4), np.uint32)
    env.run(shader(k), 16, {"out": out, "f": f, "lanes": lanes})
    extra = (lanes0.all(1) * 1000 + lanes0.any(1) * 10000).astype(np.uint32)[:, None]
    ref = f.astype(np.int32).astype(np.uint32) + ((f > 0) * 100).astype(np.uint32) + extra
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(lanes, f[:, :2] > f[:, 2:])


# ----------------------------------------------------------------------------- complex & matrices

@pytest.mark.parametrize("ctype", [c64, c128])
def test_complex_ops(env, ctype):
    def k(out: Buff[ctype], mag: Buff[f64], a: Buff[ctype], b: Buff[ctype]):
        i = vc.global_invocation_id().x
        x, y = a[i], b[i]
        r = x * y + x / y + vc.complex_exp(x * 0.1) + vc.conj(y) * 2.0 - x / 4.0
        out[i] = vc.select(x == y, r * 0, r)
        mag[i] = (abs(x) + x.real * 10 + x.imag * 100).cast(f64)
    g = rng(6)
    npt = ctype.numpy_dtype
    a = (g.standard_normal(40) + 1j * g.standard_normal(40)).astype(npt)
    b = (g.standard_normal(40) + 1j * g.standard_normal(40)).astype(npt)
    b[0] = a[0]
    out, mag = np.zeros_like(a), np.zeros(40, np.float64)
    env.run(shader(k), 40, {"out": out, "mag": mag, "a": a, "b": b})
    ref = a * b + a / b + np.exp(a * 0.1) + np.conj(b) * 2 - a / 4
    ref[0] = 0
    tol = 1e-5 if ctype is c64 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(mag, np.abs(a) + a.real * 10 + a.imag * 100, rtol=tol)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_matrices_column_major(env, n):
    mt = {2: m2, 3: m3, 4: m4}[n]
    vt = {2: v2, 3: v3, 4: v4}[n]

    def k(out: Buff[mt], vecs: Buff[vt], dets: Buff[f32], a: Buff[mt], v: Buff[vt], u: Const[mt]):
        i = vc.global_invocation_id().x
        m = a[i]
        p = vc.new(mt, m @ u)
        p[1] = p[1] + v[i]                               # column write
        col = p[i % n]                                   # run-time column read
        out[i] = vc.transpose(p) * 2.0 + vc.inverse(m) - vc.new(mt, 1.0)
        vecs[i] = m @ v[i] + v[i] @ m + col
        dets[i] = vc.determinant(m)
    g = rng(7 + n)
    a = (g.standard_normal((8, n, n)) + 3 * np.eye(n)).astype(np.float32)
    v = g.standard_normal((8, n)).astype(np.float32)
    u = g.standard_normal((n, n)).astype(np.float32)
    out, vecs, dets = np.zeros_like(a), np.zeros_like(v), np.zeros(8, np.float32)
    env.run(shader(k), 8, {"out": out, "vecs": vecs, "dets": dets, "a": a, "v": v}, {"u": u})
    # numpy rows are GLSL columns: the math matrix is the transpose
    A, U = a.transpose(0, 2, 1).astype(np.float64), u.T.astype(np.float64)
    P = A @ U
    P[:, :, 1] += v
    cols = P[np.arange(8), :, np.arange(8) % n]
    out_math = P.transpose(0, 2, 1) * 2 + np.linalg.inv(A) - np.eye(n)
    np.testing.assert_allclose(out, out_math.transpose(0, 2, 1), rtol=1e-4, atol=1e-4)
    ref_vecs = np.einsum("bij,bj->bi", A, v) + np.einsum("bi,bij->bj", v, A) + cols
    np.testing.assert_allclose(vecs, ref_vecs, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dets, np.linalg.det(A), rtol=1e-4)


def test_matrix_construction_and_dynamic_bool_lanes(env):
    def k(out: Buff[m2], lanes: Buff[u32], v: Buff[v2], sel: Const[i32]):
        i = vc.global_invocation_id().x
        x = v[i]
        cols = vc.new(m2, x, x * 2.0)                    # from columns
        flat = vc.new_mat2(1, 2, x.x, x.y)               # from scalars, column-major
        out[i] = -(cols + flat) + 1.0
        b = vc.new(dt.bvec2, x.x > 0.0, x.y > 0.0)
        b[sel] = b[1 - sel] == False                     # noqa: E712 - run-time lane store
        lanes[i] = vc.select(b[sel], 1, 0).cast(u32) + vc.select(b[1 - sel], 10, 0).cast(u32)
    v = np.array([[1, -1], [-2, 3], [0.5, 0.25], [-1, -1]], np.float32)
    out, lanes = np.zeros((4, 2, 2), np.float32), np.zeros(4, np.uint32)
    env.run(shader(k), 4, {"out": out, "lanes": lanes, "v": v}, {"sel": 0})
    cols = np.stack([v, v * 2], 1)
    flat = np.stack([np.broadcast_to([1, 2], v.shape), v], 1)
    np.testing.assert_allclose(out, -(cols + flat) + 1)
    other = v[:, 1] > 0
    np.testing.assert_array_equal(lanes, (~other) * 1 + other * 10)


# ----------------------------------------------------------------------------- memory

def test_atomics_global_and_shared(env):
    def k(counts: Buff[i32], olds: Buff[u32], fsum: Buff[f32], big: Buff[i64], vals: Buff[i32]):
        i = vc.global_invocation_id().x
        lid = vc.local_invocation_index()
        s = vc.shared_buffer(u32, 4)
        sf = vc.shared_buffer(f32, 1)
        with vc.if_block(lid == 0):
            s[0] = 0
            s[1] = 0xFFFFFFFF
            s[2] = 0
            s[3] = 0
            sf[0] = 0.0
        vc.barrier()
        x = vals[i]
        vc.atomic_add(counts[0], x)
        vc.atomic_min(counts[1], x)
        vc.atomic_max(counts[2], x)
        vc.atomic_or(counts[3], 1 << (i % 31))
        vc.atomic_xor(counts[4], x)
        vc.atomic_and(s[1], ~(1 << (lid % 32)).cast(u32))
        vc.atomic_add(s[2], 1)
        vc.atomic_compare_exchange(s[3], 0, lid + 1)
        vc.atomic_add(sf[0], 0.5)
        vc.atomic_add(fsum[0], x.cast(f32))
        vc.atomic_exchange(fsum[1], 3.0)
        vc.atomic_add(big[0], x.cast(i64) * 1000000000)
        vc.atomic_max(big[1], x.cast(i64))
        vc.barrier()
        with vc.if_block(lid == 0):
            g = vc.workgroup_id().x
            olds[g * 4 + 0] = s[1]
            olds[g * 4 + 1] = s[2]
            olds[g * 4 + 2] = vc.select(s[3] > 0, 1, 0).cast(u32)
            olds[g * 4 + 3] = (sf[0] * 2).cast(u32)
    g = rng(8)
    vals = g.integers(-1000, 1000, 256).astype(np.int32)
    counts = np.array([0, 2 ** 31 - 1, -2 ** 31, 0, 0], np.int32)
    olds, fsum = np.zeros(16, np.uint32), np.zeros(2, np.float32)
    big = np.array([0, -2 ** 62], np.int64)
    em = env.run(shader(k), 256, {"counts": counts, "olds": olds, "fsum": fsum, "big": big,
                                  "vals": vals})
    assert "cl_khr_int64_base_atomics" in em.source and "cl_khr_int64_extended_atomics" in em.source
    xor = np.bitwise_xor.reduce(vals)
    ors = np.bitwise_or.reduce(1 << (np.arange(256) % 31))
    np.testing.assert_array_equal(counts, [vals.sum(), vals.min(), vals.max(), ors, xor])
    np.testing.assert_array_equal(olds.reshape(4, 4), [[0, 64, 1, 64]] * 4)
    assert fsum[0] == vals.sum() and fsum[1] == 3.0
    np.testing.assert_array_equal(big, [vals.astype(np.int64).sum() * 1000000000, vals.max()])


def test_shared_vec3_local_arrays_and_barriers(env):
    def k(out: Buff[v3], a: Buff[v3]):
        i = vc.global_invocation_id().x
        lid = vc.local_invocation_id().x
        s = vc.shared_buffer(v3, 64)
        s[lid] = a[i]
        vc.barrier()
        tmp = vc.local_array(v3, 4)
        for j in vc.range(4):
            tmp[j] = s[(lid + j.cast(u32)) % 64] * (j + 1).cast(f32)
        vc.memory_barrier("shared")
        vc.memory_barrier()
        vc.memory_barrier_buffer()
        out[i] = tmp[0] + tmp[1] + tmp[2] + tmp[3]
    g = rng(9)
    a = g.standard_normal((128, 3)).astype(np.float32)
    out = np.zeros_like(a)
    em = env.run(shader(k), 128, {"out": out, "a": a})
    assert "__local float sdata0[192];" in em.source          # packed like the buffers
    blocks = a.reshape(2, 64, 3)
    ref = sum(np.roll(blocks, -j, axis=1) * (j + 1) for j in range(4)).reshape(128, 3)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_control_flow(env):
    def k(out: Buff[i32], n: Const[i32]):
        i = vc.global_invocation_id().x.cast(i32)
        acc = vc.new_int(0)
        for j in vc.range(n):
            with vc.if_block(j == 3):
                vc.continue_()
            with vc.if_block(j > 7):
                vc.break_()
            acc += j
        for j in vc.range(10, 0, -3):
            acc += j * 100
        w = vc.new_int(i)
        with vc.while_block(w > 0):
            w //= 2
            acc += 1000
        with vc.if_block(i == 5):
            out[i] = 7
            vc.return_()
        with vc.if_block(i % 2 == 0):
            out[i] = acc
        with vc.else_if_block(i % 3 == 0):
            out[i] = -acc
        with vc.else_block():
            out[i] = acc * 10
    out = np.zeros(20, np.int32)
    env.run(shader(k), 20, {"out": out}, {"n": 12})
    base = sum(j for j in range(8) if j != 3) + 100 * (10 + 7 + 4 + 1)
    ref = []
    for i in range(20):
        acc = base + 1000 * (int(i).bit_length())
        ref.append(7 if i == 5 else acc if i % 2 == 0 else -acc if i % 3 == 0 else acc * 10)
    np.testing.assert_array_equal(out, ref)


def test_invocation_builtins(env):
    local = (4, 2, 2)

    def k(ids: Buff[uv3], info: Buff[uv4]):
        gid = vc.global_invocation_id()
        nwg = vc.num_workgroups()
        flat = gid.x + gid.y * 8 + gid.z * 8 * 6
        ids[flat] = vc.local_invocation_id() + gid * 10
        wg = vc.workgroup_id()
        size = vc.workgroup_size()
        info[flat] = vc.new_uvec4(vc.local_invocation_index(), wg.x + 10 * wg.y + 100 * wg.z,
                                  nwg.x + 10 * nwg.y + 100 * nwg.z, size.x + 10 * size.y + 100 * size.z)
    n = 8 * 6 * 4
    ids, info = np.zeros((n, 3), np.uint32), np.zeros((n, 4), np.uint32)
    env.run(shader(k, exec_size=None, workgroups=(2, 3, 2), local_size=local), 0,
            {"ids": ids, "info": info}, local=local, groups=(2, 3, 2))
    z, y, x = np.meshgrid(np.arange(4), np.arange(6), np.arange(8), indexing="ij")
    x, y, z = x.ravel(), y.ravel(), z.ravel()
    lx, ly, lz = x % 4, y % 2, z % 2
    np.testing.assert_array_equal(ids, np.stack([lx + 10 * x, ly + 10 * y, lz + 10 * z], 1))
    np.testing.assert_array_equal(info[:, 0], lx + 4 * ly + 8 * lz)
    np.testing.assert_array_equal(info[:, 1], x // 4 + 10 * (y // 2) + 100 * (z // 2))
    assert (info[:, 2] == 2 + 30 + 200).all() and (info[:, 3] == 4 + 20 + 200).all()


def test_uniforms_of_every_kind_reach_the_kernel(env):
    def k(o8: Buff[i8], o16: Buff[u16], o64: Buff[i64], od: Buff[f64], oc: Buff[c128],
          ov: Buff[v3], oi: Buff[iv3], om: Buff[m3], ob: Buff[u32], of: Buff[f32], oh: Buff[c64],
          odv: Buff[dv3], s8: Const[i8], u16_: Const[u16], big: Const[i64], d: Const[f64],
          c: Const[c128], p: Const[v3], iv: Const[iv3], m: Const[m3], flag: Const[b1],
          f: Const[f32], h: Var[c64], dv: Const[dv3]):
        with vc.if_block(vc.global_invocation_id().x == 0):
            o8[0] = s8
            o16[0] = u16_
            o64[0] = big
            od[0] = d
            oc[0] = c
            ov[0] = p
            oi[0] = iv
            om[0] = m
            ob[0] = vc.select(flag, 11, 22).cast(u32)
            of[0] = f
            oh[0] = h
            odv[0] = dv
    outs = {"o8": np.zeros(1, np.int8), "o16": np.zeros(1, np.uint16), "o64": np.zeros(1, np.int64),
            "od": np.zeros(1), "oc": np.zeros(1, np.complex128), "ov": np.zeros((1, 3), np.float32),
            "oi": np.zeros((1, 3), np.int32), "om": np.zeros((1, 3, 3), np.float32),
            "ob": np.zeros(1, np.uint32), "of": np.zeros(1, np.float32),
            "oh": np.zeros(1, np.complex64), "odv": np.zeros((1, 3))}
    m = np.arange(9, dtype=np.float32).reshape(3, 3)
    vals = {"s8": -5, "u16_": 65000, "big": -2 ** 40 - 3, "d": math.pi, "c": 1.5 - 2.25j,
            "p": (1, 2, 3), "iv": (-1, -2, -3), "m": m, "flag": True, "f": 0.125, "h": 3 + 4j,
            "dv": (0.1, -1e300, 7)}
    env.run(shader(k, exec_size=1), 1, outs, vals)
    got = {name: arr.tolist() for name, arr in outs.items()}
    assert got == {"o8": [-5], "o16": [65000], "o64": [-2 ** 40 - 3], "od": [math.pi],
                   "oc": [1.5 - 2.25j], "ov": [[1, 2, 3]], "oi": [[-1, -2, -3]],
                   "om": [m.tolist()], "ob": [11], "of": [0.125], "oh": [3 + 4j],
                   "odv": [[0.1, -1e300, 7]]}


# ----------------------------------------------------------------------------- images

def test_sampled_image_sample_fetch_and_size(env):
    def k(out: Buff[v4], sizes: Buff[iv2], img: Img2[f32]):
        i = vc.global_invocation_id().x
        x, y = i % 5, i // 5
        t = vc.texel_fetch(img, (x.cast(i32), y.cast(i32)))
        s = vc.sample(img, (x.cast(f32) + 0.5, y.cast(f32) + 0.5))
        out[i] = t * 2.0 + s
        with vc.if_block(i == 0):
            sizes[0] = vc.image_size(img)
    texels = rng(10).standard_normal((3, 5, 4)).astype(np.float32)   # h=3, w=5
    out, sizes = np.zeros((15, 4), np.float32), np.zeros((1, 2), np.int32)
    img = Img(env, texels, sampled=True)
    em = env.run(shader(k), 15, {"out": out, "sizes": sizes}, images={"img": img})
    assert "read_only image2d_t img, sampler_t img_sampler" in em.source
    assert "CLK_NORMALIZED_COORDS_FALSE | CLK_ADDRESS_CLAMP_TO_EDGE | CLK_FILTER_NEAREST" in em.source
    np.testing.assert_allclose(out, texels.reshape(15, 4) * 3, rtol=1e-6)
    np.testing.assert_array_equal(sizes, [[5, 3]])


def test_storage_images_read_write_and_write_only(env):
    def k(rw: RWImg2[u32], vol: RWImg3[i32], line: Img1[f32], out: Buff[v4]):
        i = vc.global_invocation_id().x
        x, y = (i % 4).cast(i32), (i // 4).cast(i32)
        t = vc.image_load(rw, (x, y))
        vc.image_store(rw, (x, y), t * 2 + 1)
        vc.image_store(vol, (x, y, 1), vc.new_ivec4(x, y, -x, vc.image_size(vol).z))
        out[i] = vc.texel_fetch(line, x)
    texels = rng(11).integers(0, 1000, (2, 4, 4)).astype(np.uint32)
    rw = Img(env, texels.copy())
    vol = Img(env, np.zeros((2, 2, 4, 4), np.int32))
    line_data = rng(12).standard_normal((4, 4)).astype(np.float32)
    line = Img(env, line_data, sampled=True)
    out = np.zeros((8, 4), np.float32)
    em = env.run(shader(k), 8, {"out": out}, images={"rw": rw, "vol": vol, "line": line})
    assert "read_write image2d_t rw" in em.source and "write_only image3d_t vol" in em.source
    np.testing.assert_array_equal(rw.data, texels * 2 + 1)
    x, y = np.meshgrid(np.arange(4), np.arange(2))
    np.testing.assert_array_equal(vol.data[1], np.stack([x, y, -x, np.full_like(x, 2)], -1))
    assert (vol.data[0] == 0).all()
    np.testing.assert_array_equal(out, line_data[np.arange(8) % 4])


def test_inexpressible_ops_raise_unsupported_feature():
    def image_f16(img: Img2[f16], out: Buff[f32]):
        out[0] = vc.texel_fetch(img, (0, 0)).x.cast(f32)
    with pytest.raises(UnsupportedFeatureError, match="images of float16 texels"):
        emit(shader(image_f16).kernel(None, LOCAL, True, UNCHECKED), "opencl", "k")

    def matrix_subgroup(out: Buff[m2]):
        out[0] = vc.subgroup_add(out[0])
    with pytest.raises(UnsupportedFeatureError, match="subgroup_add of mat2"):
        emit(shader(matrix_subgroup).kernel(None, LOCAL, True, UNCHECKED), "opencl", "k")

    b = Builder("atomic16")      # the builder refuses this; the emitter must too
    buf = b.new_var(dt.uint16, ir.BUFFER, name="buf", mutable=True)
    b.add_param("buf", "buffer", buf)
    ref = ops.make("index", buf, ir.Lit(0, dt.uint32), dtype=dt.uint16)
    b.bind(ops.make("atomic_add", ref, ir.Lit(1, dt.uint16)))
    with pytest.raises(UnsupportedFeatureError, match="atomic_add on uint16"):
        emit(b.finish((1, 1, 1)), "opencl", "atomic16")


# ----------------------------------------------------------------------------- names

def test_reserved_identifiers_are_renamed(env):
    def kernel(sampler: Buff[f32], read_only: Buff[f32], min: Const[f32], float2: Const[i32],
               get_x: Const[f32], M_PI: Const[f32]):
        i = vc.global_invocation_id().x
        global_ = vc.new_float(read_only[i])
        sampler[i] = vc.min(global_, min) + float2.cast(f32) + get_x + M_PI
    a = np.arange(10, dtype=np.float32)
    out = np.zeros(10, np.float32)
    em = env.run(shader(kernel, exec_size="sampler.size"), 10,
                 {"sampler": out, "read_only": a}, {"min": 4.0, "float2": 2, "get_x": 1.0, "M_PI": 0.5})
    assert em.info.entry_point != "kernel" and "sampler_1" in em.source
    np.testing.assert_array_equal(out, np.minimum(a, 4) + 3.5)


def test_printf(env, capfd):
    def k(out: Buff[f32], tag: Const[i8]):
        with vc.if_block(vc.global_invocation_id().x == 0):
            vc.printf("tag=%d value=%f done\n", tag, out[0])
    em = env.run(shader(k), 1, {"out": np.full(1, 1.5, np.float32)}, {"tag": 7})
    assert 'printf("tag=%d value=%f done\\n", (int)(tag), ' in em.source
    assert "tag=7 value=1.500000 done" in capfd.readouterr().out


# ----------------------------------------------------------------------------- subgroups

SUBGROUP_EXTS = {"subgroup_shuffle": "cl_khr_subgroup_shuffle",
                 "subgroup_shuffle_xor": "cl_khr_subgroup_shuffle",
                 "subgroup_mul": "cl_khr_subgroup_non_uniform_arithmetic",
                 "subgroup_broadcast_first": "cl_khr_subgroup_ballot",
                 "subgroup_elect": "cl_khr_subgroup_non_uniform_vote"}


def subgroup_kernel():
    def k(out: Buff[f32], ints: Buff[i32], flags: Buff[b1], vecs: Buff[v2]):
        i = vc.global_invocation_id().x
        x, n, v = out[i], ints[i], vecs[i]
        r = vc.subgroup_add(x) + vc.subgroup_min(x) + vc.subgroup_max(x) + vc.subgroup_mul(x)
        r += vc.subgroup_inclusive_add(x) + vc.subgroup_exclusive_add(x)
        r += vc.subgroup_shuffle(x, vc.subgroup_invocation_id() ^ 1)
        r += vc.subgroup_shuffle_xor(x, 2) + vc.subgroup_broadcast(x, 0)
        r += vc.subgroup_broadcast_first(x) + vc.subgroup_add(v).x
        r += vc.subgroup_size().cast(f32) + vc.subgroup_id().cast(f32) + vc.num_subgroups().cast(f32)
        ints[i] = vc.subgroup_and(n) + vc.subgroup_or(n) + vc.subgroup_xor(n) + vc.subgroup_add(n)
        flags[i] = vc.subgroup_all(n > 0) | vc.subgroup_any(n < 0) | vc.subgroup_elect() \
            | vc.subgroup_and(n > 3)
        vc.subgroup_barrier()
        out[i] = r
    return shader(k)


def test_subgroups_on_the_device(env):
    src = emit(subgroup_kernel().kernel(None, LOCAL, True, UNCHECKED), "opencl", "k").source
    needed = {"cl_khr_subgroups", *SUBGROUP_EXTS.values()}
    missing = sorted(needed - env.extensions)
    if missing:
        pytest.skip(f"{env.device.name.strip()} lacks {', '.join(missing)}")
    compiler.build_program(env.ctx, [env.device], src)


CLANG = shutil.which("clang-15") or shutil.which("clang")


@pytest.mark.skipif(CLANG is None, reason="no clang to syntax-check OpenCL C against its headers")
def test_extension_kernels_pass_clang(tmp_path):
    """Kernels needing extensions PoCL lacks (subgroups, fp16, mipmaps) still parse and
    type-check against clang's OpenCL 3.0 headers with every extension on."""
    def halves(out: Buff[hv4], a: Buff[f16], img: Img2[f32], res: Buff[v4]):
        i = vc.global_invocation_id().x
        h = a[i] * 2
        out[i] = vc.new(dt.hvec4, h, h + 1, vc.max(h, 0.5), vc.sin(h)) + out[i]
        res[i] = vc.sample(img, (0.5, 0.5), lod=1.0) + vc.texel_fetch(img, (1, 1), 2)
    for fn, name in ((subgroup_kernel(), "sg"), (shader(halves), "halves")):
        src = emit(fn.kernel(None, LOCAL, True, UNCHECKED), "opencl", name).source
        path = tmp_path / f"{name}.cl"
        path.write_text(src)
        r = subprocess.run([CLANG, "-x", "cl", "-cl-std=CL3.0", "-Xclang", "-finclude-default-header",
                            "-Xclang", "-cl-ext=+all", "--target=spir64", "-fsyntax-only",
                            "-Wno-ignored-pragmas", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr + "\n" + src
