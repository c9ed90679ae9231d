"""The CUDA emitter: every op and builtin in small kernels, compiled by NVRTC for sm_90
(no GPU needed), plus the kernel ABI (parameter order and types) against ProgramInfo."""
import re

import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.base.context import get_context
from vkdispatch.base.errors import BackendUnavailableError, UnsupportedFeatureError
from vkdispatch.codegen import ir, ops
from vkdispatch.codegen.abbreviations import (Buff, Const, Img1, Img2, Img3, RWImg1, RWImg2,
                                              RWImg3, Var, b1, c64, c128, f16, f32, f64, hv2,
                                              hv4, i8, i16, i32, i64, iv2, iv3, iv4, m2, m3,
                                              m4, u8, u16, u32, u64, uv2, uv3, uv4, v2, v3, v4,
                                              dv2, dv3, dv4)
from vkdispatch.codegen.emit import emit
from vkdispatch.codegen.emit._cuda_prelude import Prelude

nvrtc = pytest.importorskip("vkdispatch.backends.cuda.nvrtc")
try:
    nvrtc.nvrtc_version()
except BackendUnavailableError as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"NVRTC unavailable: {exc}", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def cuda_codegen():
    vd.initialize(backend="dummy")
    vc.set_codegen_backend("cuda")
    yield
    vc.set_codegen_backend(None)


def build(func, local_size=(64, 1, 1), bounds=False, compile=True):
    """Trace `func`, emit CUDA and compile it; returns the EmittedKernel."""
    sf = vd.shader(exec_size=64, local_size=local_size)(func)
    kernel = sf.kernel(get_context().device, local_size, bounds, (False, ()))   # unguarded
    emitted = emit(kernel, "cuda", sf.name)
    if compile:
        nvrtc.compile_cuda(emitted.source, arch="sm_90")
    return emitted


def kernel_params(source: str) -> list:
    m = re.search(r'extern "C" __global__ void __launch_bounds__\(\d+\) \w+\(([^)]*)\)', source)
    return [" ".join(p.split()) for p in m.group(1).split(",")]


# ----------------------------------------------------------------------------- the example

def test_add_scalar_example():
    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    src = add_scalar.get_src()
    nvrtc.compile_cuda(src)
    assert 'extern "C" __global__ void __launch_bounds__(' in src
    assert kernel_params(src) == ["float* __restrict__ buff", "float bias", "uint3 vkd_exec_count"]
    assert "#include" not in src          # nothing beyond what the kernel uses
    assert "vkd_cmul" not in src and "vkd_shfl" not in src


def test_abi_matches_program_info():
    def f(out: Buff[f32], ro: Buff[v3], flags: Buff[b1], img: Img2[f32], rw: RWImg3[u32],
          a: Const[f32], b: Const[b1], c: Var[v3], d: Const[c128], e: Const[m3], g: Const[i8],
          h: Const[f16], k: Const[hv4], n: Const[u64]):
        i = vc.global_invocation_id().x
        out[i] = ro[i].x + a + vc.sample(img, (0.5, 0.5)).x + vc.image_load(rw, (1, 2, 3)).x
        flags[i] = b
        out[i + 1] = (c.y + d.real + (e @ ro[i]).z + g + h + k.w + n)

    em = build(f)
    info = em.info
    params = kernel_params(em.source)
    assert [b.name for b in info.bindings] + [u.name for u in info.uniforms] == \
        [p.split()[-1] for p in params]
    assert params == [
        "float* __restrict__ out", "const float3* __restrict__ ro",
        "unsigned int* __restrict__ flags", "cudaTextureObject_t img", "cudaSurfaceObject_t rw",
        "float a", "unsigned int b", "float3 c", "double2 d", "vkd_mat3 e", "signed char g",
        "__half h", "vkd_half4 k", "unsigned long long n"]
    assert "(b != 0u)" in em.source
    assert [u.size for u in info.uniforms] == [4, 4, 12, 16, 36, 1, 2, 8, 8]


def test_every_dtype_has_its_itemsize_in_cuda():
    """By-value parameters and buffer elements have the dtype's size (bool: unsigned int)."""
    pre = Prelude((1, 1, 1))
    asserts = []
    for t in dt.ALL:
        name = "unsigned int" if t is dt.bool_ else pre.ctype(t)
        asserts.append(f"static_assert(sizeof({name}) == {t.itemsize}, \"{t.name}\");")
    nvrtc.compile_cuda("\n".join(pre.lines() + asserts) + '\nextern "C" __global__ void k() {}\n')


# ----------------------------------------------------------------------------- arithmetic

INTS = [i8, i16, i32, i64, u8, u16, u32, u64]
FLOATS = [f16, f32, f64]


@pytest.mark.parametrize("t", INTS + FLOATS + [v2, v3, v4, dv2, dv3, dv4, hv2, hv4, iv2, iv3, iv4,
                                               uv2, uv3, uv4], ids=lambda t: t.name)
def test_arithmetic_and_comparisons(t):
    def f(a: Buff[t], b: Buff[t], o: Buff[t], flags: Buff[u32]):
        i = vc.global_invocation_id().x
        x, y = a[i], b[i]
        r = x + y - x * y
        r = r + x // y + x % y + vc.min(x, y) + vc.max(x, 2) + vc.clamp(x, 1, 3)
        if t.base.kind != dt.UINT:
            r = r + vc.abs(x) - (-y) + vc.sign(x)
        if t.is_integer or t.base.is_integer:
            r = r + (x & y) + (x | y) + (x ^ y) + (x << 1) + (y >> 1) + (~x)
        else:
            r = r + x / y + 2 / y + x * 0.5
        o[i] = r
        o[i + 1] = 3 - x
        lt = x < y
        flags[i] = vc.select(vc.any(lt) if t.is_vector else lt, 1, 0)
        ok = vc.all(x <= y) if t.is_vector else (x >= y) & (x != y) | (x == y) & ~(x > 1)
        flags[i + 1] = vc.select(ok, 1, 0)
    build(f)


@pytest.mark.parametrize("t", FLOATS + [v3, dv2, hv2, hv4], ids=lambda t: t.name)
def test_float_math(t):
    def f(a: Buff[t], o: Buff[t], flags: Buff[b1]):
        i = vc.global_invocation_id().x
        x = a[i]
        r = vc.sin(x) + vc.cos(x) + vc.tan(x) + vc.asin(x) + vc.acos(x) + vc.atan(x)
        r += vc.sinh(x) + vc.cosh(x) + vc.tanh(x) + vc.asinh(x) + vc.acosh(x) + vc.atanh(x)
        r += vc.exp(x) + vc.exp2(x) + vc.log(x) + vc.log2(x) + vc.sqrt(x) + vc.rsqrt(x)
        r += vc.floor(x) + vc.ceil(x) + vc.round(x) + vc.trunc(x) + vc.fract(x)
        r += vc.pow(x, 2.0) + vc.atan2(x, 1.5) + vc.fma(x, x, x) + vc.mix(x, x * 2, 0.25)
        r += vc.mix(x, x, x) + vc.step(0.5, x) + vc.smoothstep(0.0, 1.0, x) + vc.mod(x, 1.5)
        o[i] = r
        nan = vc.isnan(x)
        inf = vc.isinf(x)
        flags[i] = vc.any(nan) if t.is_vector else nan
        flags[i + 1] = vc.all(inf) if t.is_vector else inf
    build(f)


@pytest.mark.parametrize("t", [v2, v3, v4, dv3, dv4], ids=lambda t: t.name)
def test_geometry(t):
    def f(a: Buff[t], o: Buff[t], s: Buff[t.base]):
        i = vc.global_invocation_id().x
        x, y = a[i], a[i + 1]
        s[i] = vc.dot(x, y) + vc.length(x) + vc.distance(x, y)
        o[i] = vc.normalize(x) + (vc.cross(x, y) if t.count == 3 else y)
    build(f)


# ----------------------------------------------------------------------------- matrices

@pytest.mark.parametrize("m", [m2, m3, m4], ids=lambda t: t.name)
def test_matrices(m):
    n = m.columns
    vt = dt.vector_of(dt.float32, n)

    def f(a: Buff[m], v: Buff[vt], o: Buff[m], ov: Buff[vt], s: Buff[f32], k: Const[m]):
        i = vc.global_invocation_id().x
        x, y = a[i], a[i + 1]
        r = x @ y + vc.transpose(x) * 2.0 - 0.5 * vc.inverse(y) + k - 1.0
        o[i] = -r
        ov[i] = x @ v[i] + v[i] @ y + x[1]
        s[i] = vc.determinant(x) + x[i % n][0]
        z = vc.new(m)
        z[1] = v[i]
        w = vc.new(m, 2.0)
        cols = vc.new(m, *[v[i] for _ in range(n)])
        flat = vc.new(m, *[float(j) for j in range(n * n)])
        o[i + 1] = z + w + cols + flat
    build(f)


def test_matrix_math_is_column_major():
    """The generated inverse/determinant/product formulas, evaluated in Python."""
    import numpy as np
    pre = Prelude((1, 1, 1))
    rng = np.random.default_rng(1)
    for n in (2, 3, 4):
        t = dt.from_name(f"mat{n}")
        M = rng.normal(size=(n, n)) + n * np.eye(n)      # M[row, col]
        env = {"m": _Cols(M)}
        pre.matrix_fn("determinant", t, "m")
        det_src = pre.funcs[("vkd_determinant", t.name)]
        det = eval(det_src[det_src.index("return") + 6:det_src.rindex(";")], {}, env)
        assert det == pytest.approx(np.linalg.det(M))
        pre.matrix_fn("inverse", t, "m")
        inv_src = pre.funcs[("vkd_inverse", t.name)]
        R = np.zeros((n, n))
        env["d"] = det
        for line in inv_src.splitlines():
            mm = re.match(r"\s*r\.c\[(\d)\]\.([xyzw]) = (.*);", line)
            if mm:
                R["xyzw".index(mm.group(2)), int(mm.group(1))] = eval(mm.group(3), {}, env)
        np.testing.assert_allclose(R, np.linalg.inv(M), rtol=1e-9, atol=1e-12)


class _Cols:
    """m.c[j].x style access to a numpy matrix stored by columns."""
    def __init__(self, M):
        self.c = [type("Col", (), dict(zip("xyzw", M[:, j])))() for j in range(M.shape[1])]


# ----------------------------------------------------------------------------- complex

@pytest.mark.parametrize("t", [c64, c128], ids=lambda t: t.name)
def test_complex(t):
    other = c128 if t is c64 else c64

    def f(a: Buff[t], o: Buff[t], r: Buff[f64], w: Buff[other], k: Const[t]):
        i = vc.global_invocation_id().x
        x, y = a[i], a[i + 1]
        z = x * y / (x + 1) - vc.conj(x) + vc.complex_exp(y) * 2.0 + y / 2.0 - (-x) + k
        z = z + vc.mult_complex(x, y) + vc.make_complex(x.real, 1.0) + vc.complex_from_euler_angle(x.imag)
        o[i] = vc.select(x == y, z, x) + vc.select(x != y, 1j, 0)
        r[i] = abs(z) + z.real + z.imag
        w[i] = z.cast(other)
        o[i + 1] = vc.new(t, 1.0, x.imag) + vc.new(t, 2.0) + vc.new(t)
    build(f)


# ----------------------------------------------------------------------------- structure

SCALARS = [b1] + INTS + FLOATS


def test_casts_between_all_scalars():
    def f(a: Buff[f64], o: Buff[f64]):
        i = vc.global_invocation_id().x
        x = a[i]
        acc = vc.new_double()
        for s in SCALARS:
            v = x.cast(s)
            for d in SCALARS:
                acc += v.cast(d).cast(f64)
        o[i] = acc
    build(f)


def test_vector_casts_bitcasts_and_construct():
    def f(a: Buff[v4], o: Buff[iv4], u: Buff[uv3], h: Buff[hv4], d: Buff[dv2], bits: Buff[u32],
          fl: Buff[f32], bb: Buff[dt.bvec4]):
        i = vc.global_invocation_id().x
        x = a[i]
        o[i] = x.cast(iv4) + x.cast(uv4).cast(iv4) + (x > 0.5).cast(iv4)
        u[i] = x.xyz.cast(uv3) + vc.new(uv3, x.x.cast(u32), 2, 3) + vc.new(uv3, x.yz.cast(uv2), 1)
        h[i] = x.cast(hv4) + vc.new(hv4, x.x.cast(f16)) + x.zw.cast(hv2).xyxy
        d[i] = x.wz.cast(dv2) + vc.new(dv2, 1.0, 2.0) + vc.new(dv4, x.cast(dv4)).yx
        bb[i] = x < 0.5
        bits[i] = _bitcast(x.x, u32) + _bitcast(x.y.cast(i32), u32)
        fl[i] = _bitcast(bits[i], f32) + _bitcast(_bitcast(x.w.cast(f64), i64), f64).cast(f32) \
            + _bitcast(_bitcast(x.x.cast(f16), u16), f16).cast(f32) + _bitcast(x.xy, u64).cast(f32)
    build(f)


def _bitcast(x, t):
    from vkdispatch.codegen.variables import wrap
    return wrap(x.builder, ops.make("bitcast", x.node, dtype=t))


def test_swizzles_and_components():
    def f(a: Buff[v4], o: Buff[v4], idx: Const[i32]):
        i = vc.global_invocation_id().x
        x = a[i]
        v = vc.new(v4)
        v.xy = x.zw
        v.zx = (x + 1.0).yy
        v.w = x.x
        v[idx] = 3.0
        v[2] = x[idx] + x[3] + (x * 2.0)[idx]
        m = vc.new_mat3()
        m[idx] = x.xyz
        o[i] = v + (x.wzyx * 2.0).xxyy + vc.new(v4, m[idx], 1.0)
        b = x > 0.5
        o[i + 1] = vc.new(v4, b.x.cast(f32), b[idx].cast(f32), b.yz.cast(v2))
    build(f)


def test_control_flow_arrays_and_shared():
    def f(a: Buff[f32], o: Buff[f32], n: Const[u32]):
        i = vc.global_invocation_id().x
        loc = vc.local_array(f32, 8)
        sh = vc.shared_buffer(f32, 64)
        sh[vc.local_invocation_index()] = a[i]
        vc.barrier()
        acc = vc.new_float()
        for k in vc.range(8):
            loc[k] = sh[(i + k) % 64]
        for k in vc.range(7, -1, -1):
            with vc.if_block(loc[k] > 10.0):
                vc.continue_()
            acc += loc[k]
        j = vc.new_uint(0)
        with vc.while_block(lambda: j < n):
            j += 1
            with vc.if_block(j > 100):
                vc.break_()
        big, small = acc > 1.0, acc < -1.0   # bound before the chain: it must stay unbroken
        with vc.if_block(big):
            acc.set(1.0)
        with vc.else_if_block(small):
            acc.set(-1.0)
        with vc.else_block():
            vc.return_()
        o[i] = acc + j
        vc.memory_barrier("all")
        vc.memory_barrier("shared")
        vc.memory_barrier("buffer")
        vc.memory_barrier("image")
        vc.printf("i=%u acc=%f half=%f flag=%d \"q\"\n", i, acc, acc.cast(f16), acc > 0)
    em = build(f, local_size=(8, 4, 2))
    assert "__shared__ float sdata0[64];" in em.source
    assert "__syncthreads()" in em.source and "__threadfence_block()" in em.source


def test_builtins():
    def f(o: Buff[u32]):
        i = vc.local_invocation_index()
        g, l, w = vc.global_invocation_id(), vc.local_invocation_id(), vc.workgroup_id()
        nw, ws = vc.num_workgroups(), vc.workgroup_size()
        o[i] = (g.x + g.y + g.z + l.x + l.y + l.z + w.x + w.y + w.z + nw.x + nw.y + nw.z + ws.x
                + ws.y + ws.z + vc.subgroup_id() + vc.subgroup_size() + vc.subgroup_invocation_id()
                + vc.num_subgroups())
    em = build(f, local_size=(16, 4, 2))
    assert "make_uint3(16u, 4u, 2u)" in em.source
    assert "4u" in em.source    # 128 threads are 4 subgroups of 32


# ----------------------------------------------------------------------------- memory

@pytest.mark.parametrize("t", [i32, u32, i64, u64], ids=lambda t: t.name)
def test_integer_atomics(t):
    def f(a: Buff[t], o: Buff[t]):
        i = vc.global_invocation_id().x
        sh = vc.shared_buffer(t, 4)
        r = vc.atomic_add(a[0], 1) + vc.atomic_min(a[1], i.cast(t)) + vc.atomic_max(a[2], 3)
        r += vc.atomic_and(a[3], 7) + vc.atomic_or(a[4], 8) + vc.atomic_xor(a[5], 9)
        r += vc.atomic_exchange(a[6], 10) + vc.atomic_compare_exchange(a[7], 0, 11)
        r += vc.atomic_add(sh[1], 2) + vc.atomic_compare_exchange(sh[2], 1, 2)
        o[i] = r
    build(f)


def test_float_atomics():
    def f(a: Buff[f32], d: Buff[f64], o: Buff[f32]):
        i = vc.global_invocation_id().x
        o[i] = vc.atomic_add(a[0], 1.5) + vc.atomic_exchange(a[1], 2.0) + \
            vc.atomic_add(d[0], 0.25).cast(f32)
    em = build(f)
    assert "atomicAdd(&a[0u], 1.5f)" in em.source


@pytest.mark.parametrize("t", [i32, u32, i64, f32, f64, f16, b1, v3, iv2, hv2, i8],
                         ids=lambda t: t.name)
def test_subgroups(t):
    def f(a: Buff[t], o: Buff[t], flags: Buff[u32]):
        i = vc.global_invocation_id().x
        x = a[i]
        if t.base is dt.bool_:
            r = vc.subgroup_and(x) & vc.subgroup_or(x) ^ vc.subgroup_xor(x)
        else:
            r = vc.subgroup_add(x) + vc.subgroup_mul(x) + vc.subgroup_min(x) + vc.subgroup_max(x)
            r = r + vc.subgroup_inclusive_add(x) + vc.subgroup_exclusive_add(x)
            if t.base.is_integer:
                r = r + (vc.subgroup_and(x) | vc.subgroup_or(x) ^ vc.subgroup_xor(x))
        r = r if t.base is dt.bool_ else r + vc.subgroup_shuffle(x, 3) + \
            vc.subgroup_shuffle_xor(x, 1) + vc.subgroup_broadcast(x, 0) + vc.subgroup_broadcast_first(x)
        o[i] = r
        vc.subgroup_barrier()
        e = vc.subgroup_elect() & vc.subgroup_all(i < 40) | vc.subgroup_any(i == 3)
        flags[i] = vc.select(e, 1, 0)
    build(f)


# ----------------------------------------------------------------------------- images

@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("t", [f32, i32, u32], ids=lambda t: t.name)
def test_images(dim, t):
    img_t = {1: Img1, 2: Img2, 3: Img3}[dim][t]
    rw_t = {1: RWImg1, 2: RWImg2, 3: RWImg3}[dim][t]
    coords = {1: 0.5, 2: (0.5, 0.25), 3: (0.5, 0.25, 0.75)}[dim]
    icoords = {1: 1, 2: (1, 2), 3: (1, 2, 3)}[dim]
    tv = dt.vector_of(t, 4)

    def f(img: img_t, rw: rw_t, o: Buff[tv], s: Buff[i32]):
        i = vc.global_invocation_id().x
        o[i] = vc.sample(img, coords) + vc.sample(img, coords, 1.0) + vc.texel_fetch(img, icoords) \
            + vc.image_load(rw, icoords)
        vc.image_store(rw, icoords, o[i])
        a, b = vc.image_size(img), vc.image_size(rw)
        s[i] = (a + b) if dim == 1 else (a + b).x
    em = build(f)
    assert "cudaTextureObject_t img" in em.source and "cudaSurfaceObject_t rw" in em.source


# ----------------------------------------------------------------------------- literals & names

def test_literals():
    inf, nan = float("inf"), float("nan")

    def f(a: Buff[f32], d: Buff[f64], h: Buff[f16], i: Buff[i32], l: Buff[i64], u: Buff[u64],
          s: Buff[i8], c: Buff[c64]):
        k = vc.global_invocation_id().x
        a[k] = vc.select(a[k] > 0, inf, -inf) + nan + 1e-30 + 3.0
        d[k] = vc.select(d[k] > 0, vc.new_double(inf), -inf) + nan + 1e300
        a[k + 1] = a[k] + 1e300   # rounds to float32 infinity
        h[k] = vc.select(h[k] > 0, inf, -inf) + nan + 0.5
        i[k] = i[k] + (-2 ** 31) + (2 ** 31 - 1)
        l[k] = l[k] + (-2 ** 63) + (2 ** 62)
        u[k] = u[k] + (2 ** 64 - 1)
        s[k] = s[k] + (-128)
        c[k] = c[k] + (1.5 - 2j)
    em = build(f)
    src = em.source
    assert "__uint_as_float(0x7f800000u)" in src and "__uint_as_float(0x7fc00000u)" in src
    assert "__longlong_as_double(0x7ff0000000000000ll)" in src and "1e+300" in src
    assert "inff" not in src
    assert "(-2147483647 - 1)" in src and "(-9223372036854775807ll - 1)" in src
    assert "18446744073709551615ull" in src and "3.0f" in src
    assert "make_float2(1.5f, (-2.0f))" in src


def test_reserved_names_are_renamed():
    def min(threadIdx: Buff[f32], float2: Const[f32], new: Const[i32]):  # noqa: A001
        i = vc.global_invocation_id().x
        sinf = threadIdx[i] + float2
        vkd_dot = vc.new_float(sinf)
        threadIdx[i] = vkd_dot + new
    em = build(min)
    assert em.info.entry_point == "vkd_kernel_min"
    assert f"void __launch_bounds__(64) {em.info.entry_point}(" in em.source
    for name in ("threadIdx", "float2", "new"):
        assert f" {name}," not in em.source and f" {name})" not in em.source


def test_bool_buffers_and_uniforms():
    def f(flags: Buff[b1], on: Const[b1], o: Buff[f32]):
        i = vc.global_invocation_id().x
        flags[i] = flags[i] & on
        o[i] = vc.select(flags[i] | on, 1.0, 0.0)
    em = build(f)
    assert kernel_params(em.source) == ["unsigned int* __restrict__ flags", "float* __restrict__ o",
                                        "unsigned int on"]


def test_unsupported_atomic_is_a_clear_error():
    b = vc.Builder("k")
    buf = b.new_var(dt.int8, ir.BUFFER, name="a", mutable=True)
    b.add_param("a", "buffer", buf)
    ref = ops.make("index", buf, ir.Lit(0, dt.uint32))
    b.body.append(ir.Declare(b.new_var(dt.int8), ops.make("atomic_add", ref, ir.Lit(1, dt.int8))))
    with pytest.raises(UnsupportedFeatureError, match="atomic_add on int8"):
        emit(b.finish((1, 1, 1)), "cuda", "k")


def test_bitcast_between_sizes_is_a_clear_error():
    def f(a: Buff[f32], o: Buff[u64]):
        i = vc.global_invocation_id().x
        o[i] = _bitcast(a[i], u64)
    with pytest.raises(UnsupportedFeatureError, match="float32 .4 bytes. to uint64"):
        build(f, compile=False)


def test_prelude_is_only_what_is_used():
    def f(a: Buff[v3]):
        i = vc.global_invocation_id().x
        a[i] = a[i] + 1.0
    src = build(f).source
    assert "operator+(float3 a, float b)" in src
    for absent in ("operator-", "operator*", "vkd_mat", "cuda_fp16", "vkd_bool2", "vkd_shfl"):
        assert absent not in src
