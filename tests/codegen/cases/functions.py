"""Elementwise math functions in float32 and float64."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base import dtype as dt
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import CASES, Case, N, case, flat, gid


# (name, shader function, numpy function, input domain)
TRANSCENDENTAL = [
    ("sin", vc.sin, np.sin, (-10, 10)), ("cos", vc.cos, np.cos, (-10, 10)),
    ("tan", vc.tan, np.tan, (-1.3, 1.3)), ("asin", vc.asin, np.arcsin, (-1, 1)),
    ("acos", vc.acos, np.arccos, (-1, 1)), ("atan", vc.atan, np.arctan, (-20, 20)),
    ("sinh", vc.sinh, np.sinh, (-5, 5)), ("cosh", vc.cosh, np.cosh, (-5, 5)),
    ("tanh", vc.tanh, np.tanh, (-5, 5)), ("asinh", vc.asinh, np.arcsinh, (-100, 100)),
    ("acosh", vc.acosh, np.arccosh, (1, 100)), ("atanh", vc.atanh, np.arctanh, (-0.99, 0.99)),
    ("exp", vc.exp, np.exp, (-20, 20)), ("exp2", vc.exp2, np.exp2, (-20, 20)),
    ("log", vc.log, np.log, (1e-3, 1e3)), ("log2", vc.log2, np.log2, (1e-3, 1e3)),
    ("expm1", vc.expm1, np.expm1, (-1, 1)), ("log1p", vc.log1p, np.log1p, (-0.5, 3)),
    ("sqrt", vc.sqrt, np.sqrt, (0, 1e4)), ("rsqrt", vc.rsqrt, lambda x: 1 / np.sqrt(x),
                                            (1e-3, 1e4)),
]
ROUNDING = [("floor", vc.floor, np.floor), ("ceil", vc.ceil, np.ceil),
            ("round", vc.round, np.round), ("trunc", vc.trunc, np.trunc),
            ("fract", vc.fract, lambda x: x - np.floor(x)), ("abs", abs, np.abs),
            ("sign", vc.sign, np.sign)]


def _math_inputs(fd):
    def inputs(rng):
        x = np.stack([rng.uniform(lo, hi, N) for _, _, _, (lo, hi) in TRANSCENDENTAL], 1)
        r = rng.uniform(-10, 10, N)
        r[: N // 4] = np.round(r[: N // 4] * 2) / 2        # exact halves: round-half-even
        special = rng.uniform(-5, 5, N)
        special[rng.integers(0, N, 60)] = np.nan
        special[rng.integers(0, N, 30)] = np.inf
        special[rng.integers(0, N, 30)] = -np.inf
        y = rng.uniform(0.1, 3, N)
        return dict(x=x.reshape(-1).astype(fd), r=r.astype(fd), y=y.astype(fd),
                    special=special.astype(fd), ints=rng.integers(-50, 50, N).astype(np.int32),
                    trans=np.zeros(N * len(TRANSCENDENTAL), fd),
                    rnd=np.zeros(N * len(ROUNDING), fd), misc=np.zeros(N * 11, fd),
                    flags=np.zeros(N * 3, bool))
    return inputs


def _math_ref(fd):
    def reference(v, dev):
        x = v["x"].reshape(N, -1)
        r, y, sp, ints = v["r"], v["y"], v["special"], v["ints"]
        trans = flat(*[f(x[:, k]) for k, (_, _, f, _) in enumerate(TRANSCENDENTAL)])
        rnd = flat(*[f(r) for _, _, f in ROUNDING])
        t = np.clip(r, -2.0, 2.0)
        smooth = np.clip((r + 1) / 2, 0, 1)
        misc = flat(np.clip(r, -1, 2.5), r * 0.75 + y * 0.25, r * y + t,
                    np.where(r < 0.5, 0.0, 1.0), smooth * smooth * (3 - 2 * smooth),
                    np.power(y, r / 4), np.arctan2(r, y), np.minimum(r, y), np.maximum(r, y),
                    np.sqrt(np.abs(ints).astype(np.float32)), np.clip(ints, -10, 10) * 1.0)
        return dict(trans=trans.astype(fd), rnd=rnd.astype(fd), misc=misc.astype(fd),
                    flags=flat(np.isnan(sp), np.isinf(sp), ~np.isfinite(sp) & (sp > 0)))
    return reference


def _make_math(t, name):
    def make():
        @vd.shader("r.size")
        def math_kernel(x: Buff[t], r: Buff[t], y: Buff[t], special: Buff[t], ints: Buff[i32],
                        trans: Buff[t], rnd: Buff[t], misc: Buff[t], flags: Buff[b1]):
            i = gid()
            nt = len(TRANSCENDENTAL)
            for k, (_, fn, _, _) in enumerate(TRANSCENDENTAL):
                trans[i * nt + k] = fn(x[i * nt + k])
            v, w, s, n = r[i], y[i], special[i], ints[i]
            for k, (_, fn, _) in enumerate(ROUNDING):
                rnd[i * len(ROUNDING) + k] = fn(v)
            misc_vals = [vc.clamp(v, -1.0, 2.5), vc.mix(v, w, 0.25),
                         vc.fma(v, w, vc.clamp(v, -2.0, 2.0)), vc.step(0.5, v),
                         vc.smoothstep(-1.0, 1.0, v), vc.pow(w, v / 4.0), vc.atan2(v, w),
                         vc.min(v, w), vc.max(v, w), vc.sqrt(abs(n)), vc.clamp(n, -10, 10)]
            for k, val in enumerate(misc_vals):
                misc[i * 11 + k] = val
            flags[3 * i] = vc.isnan(s)
            flags[3 * i + 1] = vc.isinf(s)
            flags[3 * i + 2] = vc.isinf(s) & (s > 0)
        math_kernel.name = name
        return math_kernel
    return make


MATH_COLUMNS = {"trans": [n for n, _, _, _ in TRANSCENDENTAL], "rnd": [n for n, _, _ in ROUNDING],
                "misc": ["clamp", "mix", "fma", "step", "smoothstep", "pow", "atan2", "min", "max",
                         "sqrt_int", "clamp_int"], "flags": ["isnan", "isinf", "isinf_pos"]}
CASES.append(Case("math_f32", _make_math(dt.float32, "math_f32"), _math_inputs(np.float32),
                  _math_ref(np.float32), rtol=1e-5, atol=1e-5,
                  # Vulkan allows asin/acos 4096 ulp (they derive from atan2); lavapipe's
                  # are off by up to 4e-4
                  tols={"rnd": (0, 0), "trans[asin]": (0, 1e-3), "trans[acos]": (0, 1e-3)},
                  columns=MATH_COLUMNS))
CASES.append(Case("math_f64", _make_math(dt.float64, "math_f64"), _math_inputs(np.float64),
                  _math_ref(np.float64), rtol=1e-12, atol=1e-12, needs=frozenset({"float64"}),
                  # sqrt of an int is a float32 sqrt: NVIDIA's Vulkan one is within an ulp
                  tols={"rnd": (0, 0), "misc[sqrt_int]": (2.4e-7, 0)}, columns=MATH_COLUMNS))


# what GLSL does have for doubles: arithmetic, sqrt, rounding, min/max/clamp, fma
F64_BASIC = [
    ("sqrt", lambda x, y: vc.sqrt(abs(x)), lambda x, y: np.sqrt(np.abs(x))),
    ("floor", lambda x, y: vc.floor(x), lambda x, y: np.floor(x)),
    ("round", lambda x, y: vc.round(x / 7.0), lambda x, y: np.round(x / 7.0)),
    ("div", lambda x, y: x / y, None), ("mod", lambda x, y: x % y, None),
    ("floordiv", lambda x, y: x // y, None), ("min", vc.min, np.minimum),
    ("clamp", lambda x, y: vc.clamp(x, -5.0, 5.0), lambda x, y: np.clip(x, -5.0, 5.0)),
    ("fma", lambda x, y: vc.fma(x, y, 1e-9), lambda x, y: x * y + 1e-9),
    ("rsqrt", lambda x, y: vc.rsqrt(abs(y)), lambda x, y: 1 / np.sqrt(np.abs(y))),
    ("fract", lambda x, y: vc.fract(x), lambda x, y: x - np.floor(x)),
]


@case("basic_f64",
      inputs=lambda rng: dict(a=rng.uniform(-1e3, 1e3, N),
                              b=rng.uniform(0.5, 9, N) * rng.choice([-1, 1], N),
                              out=np.zeros(len(F64_BASIC) * N)),
      reference=lambda x, dev: dict(out=flat(*[(g or f)(x["a"], x["b"])
                                              for _, f, g in F64_BASIC])),
      rtol=1e-14, atol=1e-13, needs=frozenset({"float64"}),
      columns={"out": [n for n, _, _ in F64_BASIC]})
def _basic_f64():
    @vd.shader("a.size")
    def basic_f64(a: Buff[f64], b: Buff[f64], out: Buff[f64]):
        i = gid()
        x, y = a[i], b[i]
        for k, (_, fn, _) in enumerate(F64_BASIC):
            out[len(F64_BASIC) * i + k] = fn(x, y)
    return basic_f64


@case("complex128_exp",
      inputs=lambda rng: dict(a=(rng.uniform(-2, 2, N) + 1j * rng.uniform(-5, 5, N)),
                              out=np.zeros(N, np.complex128)),
      reference=lambda x, dev: dict(out=np.exp(x["a"])), rtol=1e-12, atol=1e-13,
      needs=frozenset({"float64"}))
def _complex128_exp():
    @vd.shader("a.size")
    def complex128_exp(a: Buff[c128], out: Buff[c128]):
        i = gid()
        out[i] = vc.complex_exp(a[i])
    return complex128_exp
