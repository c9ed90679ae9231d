"""Every scalar dtype in buffers, casts, bitcasts and complex numbers."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.codegen import ops
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names
from vkdispatch.codegen.variables import wrap

from ._case import CASES, Case, N, case, flat, gid


def _dtype_case(t: dt.DType, need: str, low, high, rtol=0.0):
    nd = t.numpy_dtype

    def inputs(rng):
        if t.is_complex:
            x = (rng.uniform(low, high, N) + 1j * rng.uniform(low, high, N)).astype(nd)
            y = (rng.uniform(low, high, N) + 1j * rng.uniform(low, high, N)).astype(nd)
        elif t.is_bool:
            x, y = rng.integers(0, 2, N).astype(bool), rng.integers(0, 2, N).astype(bool)
        elif t.is_float:
            x, y = rng.uniform(low, high, N).astype(nd), rng.uniform(low, high, N).astype(nd)
        else:
            x = rng.integers(low, high, N, dtype=np.int64).astype(nd)
            y = rng.integers(low, high, N, dtype=np.int64).astype(nd)
        return dict(x=x, y=y, out=np.zeros(N, nd))

    def reference(v, dev):
        x, y = v["x"], v["y"]
        if t.is_bool:
            return dict(out=(x & ~y) | (y & ~x))
        if t.is_complex:
            return dict(out=(x * y + x).astype(nd))
        return dict(out=(x * 2 + y).astype(nd))

    def make():
        @vd.shader("x.size")
        def dtype_kernel(x: Buff[t], y: Buff[t], out: Buff[t]):
            i = gid()
            p, q = x[i], y[i]
            if t.is_bool:
                out[i] = (p & ~q) | (q & ~p)
            elif t.is_complex:
                out[i] = p * q + p
            else:
                out[i] = p * 2 + q
        dtype_kernel.name = f"dtype_{t.name}"
        return dtype_kernel

    CASES.append(Case(f"dtype_{t.name}", make, inputs, reference, rtol=rtol, atol=0.0,
                      needs=frozenset({need} if need else ())))


for _t, _need, _lo, _hi, _rtol in (
        (dt.int8, "int8", -40, 40, 0), (dt.uint8, "int8", 0, 80, 0),
        (dt.int16, "int16", -10000, 10000, 0), (dt.uint16, "int16", 0, 20000, 0),
        (dt.int32, None, -2 ** 29, 2 ** 29, 0), (dt.uint32, None, 0, 2 ** 30, 0),
        (dt.int64, "int64", -2 ** 50, 2 ** 50, 0), (dt.uint64, "int64", 0, 2 ** 60, 0),
        (dt.float16, "float16", -10, 10, 1e-3), (dt.float32, None, -1e3, 1e3, 1e-6),
        (dt.float64, "float64", -1e3, 1e3, 1e-14), (dt.complex64, None, -3, 3, 1e-5),
        (dt.complex128, "float64", -3, 3, 1e-13), (dt.bool_, None, 0, 1, 0)):
    _dtype_case(_t, _need, _lo, _hi, _rtol)


def _casts_inputs(rng):
    f = rng.uniform(-100, 100, N).astype(np.float32)
    f[:8] = [0.5, -0.5, 1.5, -1.5, 2.5, 0.0, -0.0, 99.99]
    return dict(f=f, i=rng.integers(-2 ** 20, 2 ** 20, N).astype(np.int32),
                oi=np.zeros(3 * N, np.int32), ou=np.zeros(2 * N, np.uint32),
                of=np.zeros(2 * N, np.float32), od=np.zeros(N, np.float64), ob=np.zeros(N, bool))


def _casts_ref(x, dev):
    f, i = x["f"], x["i"]
    return dict(
        oi=flat(f.astype(np.int32), (f > 0).astype(np.int32), (i & 0xff).astype(np.uint8)),
        ou=flat(np.abs(f).astype(np.uint32), i.astype(np.uint32)),
        of=flat(i.astype(np.float32), (i > 0).astype(np.float32)),
        od=f.astype(np.float64), ob=f.astype(bool))


@case("casts", inputs=_casts_inputs, reference=_casts_ref, needs=frozenset({"float64", "int8"}))
def _casts():
    @vd.shader("f.size")
    def casts(f: Buff[f32], i: Buff[i32], oi: Buff[i32], ou: Buff[u32], of: Buff[f32],
              od: Buff[f64], ob: Buff[b1]):
        k = gid()
        x, n = f[k], i[k]
        oi[3 * k] = x.cast(i32)                  # truncates toward zero
        oi[3 * k + 1] = (x > 0).cast(i32)
        oi[3 * k + 2] = (n & 0xff).cast(u8)      # int -> uint8 -> int
        ou[2 * k] = abs(x).cast(u32)
        ou[2 * k + 1] = n.cast(u32)               # two's complement reinterpretation
        of[2 * k] = n.cast(f32)
        of[2 * k + 1] = (n > 0).cast(f32)
        od[k] = x.cast(f64)
        ob[k] = x.cast(b1)
    return casts


@case("cast_complex_widen",
      inputs=lambda rng: dict(f=rng.uniform(-100, 100, N).astype(np.float32),
                              oc=np.zeros(N, np.complex128)),
      reference=lambda x, dev: dict(oc=(x["f"] * (1 - 1j)).astype(np.complex64)),
      needs=frozenset({"float64"}))
def _cast_complex_widen():
    @vd.shader("f.size")
    def cast_complex_widen(f: Buff[f32], oc: Buff[c128]):
        k = gid()
        oc[k] = (f[k] * vc.make_complex(1.0, -1.0)).cast(c128)
    return cast_complex_widen


@case("casts_f16",
      inputs=lambda rng: dict(f=rng.uniform(-100, 100, N).astype(np.float32),
                              oh=np.zeros(2 * N, np.float16)),
      reference=lambda x, dev: dict(oh=flat(x["f"], x["f"] * 2).astype(np.float16)),
      needs=frozenset({"float16"}))
def _casts_f16():
    @vd.shader("f.size")
    def casts_f16(f: Buff[f32], oh: Buff[f16]):
        k = gid()
        x = f[k]
        oh[2 * k] = x                         # converted on store
        oh[2 * k + 1] = x.cast(f16) * 2       # float16 arithmetic
    return casts_f16


@case("bitcast",
      inputs=lambda rng: dict(f=rng.uniform(-1e3, 1e3, N).astype(np.float32),
                              bits=np.zeros(N, np.uint32), back=np.zeros(N, np.float32)),
      reference=lambda x, dev: dict(bits=x["f"].view(np.uint32), back=x["f"]), rtol=0)
def _bitcast():
    # no public vc function reaches the `bitcast` op yet; build it as an emitter would see it
    @vd.shader("f.size")
    def bitcast(f: Buff[f32], bits: Buff[u32], back: Buff[f32]):
        k = gid()
        x = f[k]
        u = wrap(x.builder, ops.make("bitcast", x.node, dtype=dt.uint32))
        bits[k] = u
        back[k] = wrap(x.builder, ops.make("bitcast", u.node, dtype=dt.float32))
    return bitcast


def _complex_inputs(rng, nd=np.complex64, fd=np.float32):
    c = lambda: (rng.uniform(-2, 2, N) + 1j * rng.uniform(-2, 2, N)).astype(nd)  # noqa: E731
    return dict(a=c(), b=c(), t=rng.uniform(-4, 4, N).astype(fd),
                out=np.zeros(14 * N, nd), outf=np.zeros(3 * N, fd))


def _complex_ref(x, dev, nd=np.complex64):
    a, b, t = x["a"], x["b"], x["t"]
    cols = [a * b, a / b, np.conj(a), np.exp(a), a + b, a - b, a * 2.5, a / 4.0, 1.5 * a,
            np.exp(1j * t), t - 1j * t, a * b, a * t, -a]
    return dict(out=flat(*cols).astype(nd), outf=flat(np.abs(a), a.real, a.imag))


@case("complex64", inputs=_complex_inputs, reference=_complex_ref, rtol=1e-5, atol=1e-6,
      columns={"out": ["mul", "div", "conj", "exp", "add", "sub", "mul_real", "div_real",
                       "rmul_real", "euler", "make_complex", "mult_complex", "mul_var", "neg"],
               "outf": ["abs", "real", "imag"]})
def _complex64():
    @vd.shader("a.size")
    def complex64(a: Buff[c64], b: Buff[c64], t: Buff[f32], out: Buff[c64], outf: Buff[f32]):
        i = gid()
        x, y, s = a[i], b[i], t[i]
        vals = [x * y, x / y, vc.conj(x), vc.exp(x), x + y, x - y, x * 2.5, x / 4.0, 1.5 * x,
                vc.complex_from_euler_angle(s), vc.make_complex(s, -s),
                vc.mult_complex(x, y), x * s, -x]
        for k, v in enumerate(vals):
            out[14 * i + k] = v
        outf[3 * i] = abs(x)
        outf[3 * i + 1] = x.real
        outf[3 * i + 2] = x.imag
    return complex64


def _complex128_ref(x, dev):
    a, b = x["a"], x["b"]
    return dict(out=flat(a * b, a / b, np.conj(a), a + b, a * 2.5, a / 4.0, -a),
                outf=flat(np.abs(a), a.real, a.imag))


@case("complex128",
      inputs=lambda rng: {**_complex_inputs(rng, np.complex128, np.float64),
                          "out": np.zeros(7 * N, np.complex128)},
      reference=_complex128_ref, rtol=1e-13, atol=1e-14, needs=frozenset({"float64"}))
def _complex128():
    @vd.shader("a.size")
    def complex128(a: Buff[c128], b: Buff[c128], t: Buff[f64], out: Buff[c128],
                   outf: Buff[f64]):
        i = gid()
        x, y = a[i], b[i]
        for k, v in enumerate((x * y, x / y, vc.conj(x), x + y, x * 2.5, x / 4.0, -x)):
            out[7 * i + k] = v
        outf[3 * i] = abs(x)
        outf[3 * i + 1] = x.real
        outf[3 * i + 2] = x.imag
    return complex128


@case("complex_select",
      inputs=lambda rng: dict(a=(rng.integers(-2, 2, N) + 1j * rng.integers(-2, 2, N)
                                 ).astype(np.complex64),
                              b=(rng.integers(-2, 2, N) + 1j * rng.integers(-2, 2, N)
                                 ).astype(np.complex64),
                              out=np.zeros(2 * N, np.complex64)),
      reference=lambda x, dev: dict(out=flat(np.where(x["a"] == x["b"], x["a"], 2j),
                                             np.where(x["a"] != x["b"], x["b"], 0))),
      columns={"out": ["select_eq", "select_ne"]})
def _complex_select():
    @vd.shader("a.size")
    def complex_select(a: Buff[c64], b: Buff[c64], out: Buff[c64]):
        i = gid()
        x, y = a[i], b[i]
        out[2 * i] = vc.select(x == y, x, 2j)
        out[2 * i + 1] = vc.select(x != y, y, 0)
    return complex_select


@case("complex_components",
      inputs=lambda rng: dict(a=(rng.uniform(-3, 3, N) + 1j * rng.uniform(-3, 3, N)
                                 ).astype(np.complex64),
                              out=np.zeros(N, np.complex64), parts=np.zeros(2 * N, np.float32)),
      reference=lambda x, dev: dict(out=x["a"].imag - 1j * x["a"].real,
                                    parts=flat(x["a"].real, x["a"].imag)))
def _complex_components():
    @vd.shader("a.size")
    def complex_components(a: Buff[c64], out: Buff[c64], parts: Buff[f32]):
        i = gid()
        x = a[i]
        c = vc.new_complex()
        c.x = x.imag                      # .x / .y are the real / imaginary parts
        c.y = -x.real
        out[i] = c
        parts[2 * i] = x.x
        parts[2 * i + 1] = x.y
    return complex_components
