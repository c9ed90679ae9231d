"""Arithmetic, bitwise, comparison and logical operators with numpy's promotion."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import N, case, flat, gid, nonzero


F32_BINARY = [
    ("add", lambda x, y: x + y, None),
    ("sub", lambda x, y: x - y, None),
    ("mul", lambda x, y: x * y, None),
    ("div", lambda x, y: x / y, None),
    ("mod", lambda x, y: x % y, None),
    ("floordiv", lambda x, y: x // y, None),
    ("min", vc.min, np.minimum),
    ("max", vc.max, np.maximum),
    ("atan2", vc.atan2, np.arctan2),
    ("neg", lambda x, y: -x, None),
    ("abs", lambda x, y: abs(x), None),
    ("sign", lambda x, y: vc.sign(x), lambda x, y: np.sign(x)),
    ("pow", lambda x, y: vc.pow(abs(x), y), lambda x, y: np.power(np.abs(x), y)),
    ("scalar_lhs", lambda x, y: 2.5 - x / 4.0, None),
    ("scalar_mod", lambda x, y: x % 3.0 + 7.0 % y, None),
    ("scalar_floordiv", lambda x, y: x // -2.5, None),
]


def _np(fn, npfn):
    return npfn if npfn is not None else fn


def _near_integer(q):
    return np.abs(q - np.round(q)) < 1e-4


def _f32_inputs(rng):
    a = rng.uniform(-10, 10, N)
    b = rng.uniform(0.5, 5, N) * rng.choice([-1, 1], N)
    # keep the quotients of mod/floordiv off integers: a GPU's division may be off by an
    # ulp (Vulkan allows 2.5), which moves floor() across an integer there
    for _ in range(20):
        bad = _near_integer(a / b) | _near_integer(a / 3) | _near_integer(a / 2.5)
        a[bad] += 0.0137
        b[_near_integer(7 / b)] *= 1.0093
    return dict(a=a.astype(np.float32), b=b.astype(np.float32),
                out=np.zeros(N * len(F32_BINARY), np.float32))


@case("arith_f32", inputs=_f32_inputs,
      reference=lambda x, dev: dict(out=flat(*[_np(f, g)(x["a"], x["b"])
                                              for _, f, g in F32_BINARY], dtype=np.float32)),
      rtol=2e-6, atol=2e-5, tols={"out[pow]": (2e-5, 0)},
      columns={"out": [n for n, _, _ in F32_BINARY]})
def _arith_f32():
    @vd.shader("a.size")
    def arith_f32(a: Buff[f32], b: Buff[f32], out: Buff[f32]):
        i = gid()
        x, y = a[i], b[i]
        for k, (_, fn, _) in enumerate(F32_BINARY):
            out[i * len(F32_BINARY) + k] = fn(x, y)
    return arith_f32


@case("pow_integer_exponent",
      inputs=lambda rng: dict(a=rng.uniform(-4, 4, N).astype(np.float32),
                              out=np.zeros(2 * N, np.float32)),
      reference=lambda x, dev: dict(out=flat(x["a"] ** 2, x["a"] ** 3)),
      rtol=1e-5, atol=1e-5)
def _pow_integer_exponent():
    # numpy: (-2.0) ** 2 == 4; GLSL's pow(x, y) is undefined for x < 0
    @vd.shader("a.size")
    def pow_integer_exponent(a: Buff[f32], out: Buff[f32]):
        i = gid()
        x = a[i]
        out[2 * i] = x ** 2
        out[2 * i + 1] = x ** 3
    return pow_integer_exponent


I32_BINARY = [
    ("add", lambda x, y, s: x + y, None),
    ("sub", lambda x, y, s: x - y, None),
    ("mul", lambda x, y, s: x * y, None),
    ("floordiv", lambda x, y, s: x // y, None),
    ("min", lambda x, y, s: vc.min(x, y), lambda x, y, s: np.minimum(x, y)),
    ("max", lambda x, y, s: vc.max(x, y), lambda x, y, s: np.maximum(x, y)),
    ("and", lambda x, y, s: x & y, None),
    ("or", lambda x, y, s: x | y, None),
    ("xor", lambda x, y, s: x ^ y, None),
    ("shl", lambda x, y, s: x << s, None),
    ("shr", lambda x, y, s: x >> s, None),
    ("not", lambda x, y, s: ~x, None),
    ("neg", lambda x, y, s: -x, None),
    ("abs", lambda x, y, s: abs(x), None),
    ("sign", lambda x, y, s: vc.sign(x), lambda x, y, s: np.sign(x)),
    ("scalar_add", lambda x, y, s: x + 7, None),
    ("scalar_rsub", lambda x, y, s: 7 - x, None),
    ("scalar_mul", lambda x, y, s: x * -3, None),
    ("scalar_floordiv", lambda x, y, s: x // -4, None),
    ("scalar_rfloordiv", lambda x, y, s: 100 // y, None),
    ("clamp", lambda x, y, s: vc.clamp(x, -300, 400), lambda x, y, s: np.clip(x, -300, 400)),
]


@case("arith_i32",
      inputs=lambda rng: dict(
          a=rng.integers(-1000, 1000, N).astype(np.int32),
          b=nonzero(rng, -50, 50, N, np.int32),
          s=rng.integers(0, 20, N).astype(np.int32),
          out=np.zeros(N * len(I32_BINARY), np.int32),
          quot=np.zeros(N, np.float32)),
      reference=lambda x, dev: dict(
          out=flat(*[_np(f, g)(x["a"], x["b"], x["s"]) for _, f, g in I32_BINARY],
                   dtype=np.int32),
          quot=(x["a"] / x["b"]).astype(np.float32)),
      columns={"out": [n for n, _, _ in I32_BINARY]})
def _arith_i32():
    @vd.shader("a.size")
    def arith_i32(a: Buff[i32], b: Buff[i32], s: Buff[i32], out: Buff[i32], quot: Buff[f32]):
        i = gid()
        x, y, sh = a[i], b[i], s[i]
        for k, (_, fn, _) in enumerate(I32_BINARY):
            out[i * len(I32_BINARY) + k] = fn(x, y, sh)
        quot[i] = x / y     # true division of ints gives float32
    return arith_i32


I32_MOD = [("mod", lambda x, y: x % y), ("scalar_mod", lambda x, y: x % 5),
           ("scalar_neg_mod", lambda x, y: x % -7), ("scalar_rmod", lambda x, y: -17 % y)]


@case("int_floor_mod",
      inputs=lambda rng: dict(a=rng.integers(-1000, 1000, N).astype(np.int32),
                              b=nonzero(rng, -50, 50, N, np.int32),
                              out=np.zeros(N * len(I32_MOD), np.int32)),
      reference=lambda x, dev: dict(out=flat(*[f(x["a"], x["b"]) for _, f in I32_MOD])),
      columns={"out": [n for n, _ in I32_MOD]})
def _int_floor_mod():
    # numpy's floor modulo: the result takes the divisor's sign
    @vd.shader("a.size")
    def int_floor_mod(a: Buff[i32], b: Buff[i32], out: Buff[i32]):
        i = gid()
        x, y = a[i], b[i]
        for k, (_, fn) in enumerate(I32_MOD):
            out[len(I32_MOD) * i + k] = fn(x, y)
    return int_floor_mod


U32_BINARY = [
    ("add", lambda x, y, s: x + y),        # wraps modulo 2**32 like numpy
    ("sub", lambda x, y, s: x - y),
    ("mul", lambda x, y, s: x * y),
    ("floordiv", lambda x, y, s: x // y),
    ("mod", lambda x, y, s: x % y),
    ("and", lambda x, y, s: x & y),
    ("or", lambda x, y, s: x | y),
    ("xor", lambda x, y, s: x ^ y),
    ("shl", lambda x, y, s: x << s),
    ("shr", lambda x, y, s: x >> s),
    ("not", lambda x, y, s: ~x),
    ("scalar_mul", lambda x, y, s: x * 3),
    ("scalar_floordiv", lambda x, y, s: x // 7),
    ("scalar_mod", lambda x, y, s: x % 10),
    ("abs", lambda x, y, s: abs(x)),
]


@case("arith_u32",
      inputs=lambda rng: dict(
          a=rng.integers(0, 2 ** 32, N, dtype=np.uint64).astype(np.uint32),
          b=nonzero(rng, 0, 2 ** 20, N, np.uint32),
          s=rng.integers(0, 32, N).astype(np.uint32),
          out=np.zeros(N * len(U32_BINARY), np.uint32),
          mn=np.zeros(2 * N, np.uint32)),
      reference=lambda x, dev: dict(
          out=flat(*[f(x["a"], x["b"], x["s"]) for _, f in U32_BINARY], dtype=np.uint32),
          mn=flat(np.minimum(x["a"], x["b"]), np.maximum(x["a"], x["b"]))),
      columns={"out": [n for n, _ in U32_BINARY], "mn": ["min", "max"]})
def _arith_u32():
    @vd.shader("a.size")
    def arith_u32(a: Buff[u32], b: Buff[u32], s: Buff[u32], out: Buff[u32], mn: Buff[u32]):
        i = gid()
        x, y, sh = a[i], b[i], s[i]
        for k, (_, fn) in enumerate(U32_BINARY):
            out[i * len(U32_BINARY) + k] = fn(x, y, sh)
        mn[2 * i] = vc.min(x, y)
        mn[2 * i + 1] = vc.max(x, y)
    return arith_u32


@case("mixed_int_uint",
      inputs=lambda rng: dict(
          a=rng.integers(-1000, 1000, N).astype(np.int32),
          b=rng.integers(0, 1000, N).astype(np.uint32),
          out=np.zeros(6 * N, np.int32)),
      reference=lambda x, dev: dict(out=flat(
          *[f(x["a"].astype(np.int64), x["b"].astype(np.int64)) for f in (
              lambda p, q: p + q, lambda p, q: p - q, lambda p, q: q - p, lambda p, q: p * q,
              np.minimum, lambda p, q: p // (q + 1))], dtype=np.int32)))
def _mixed_int_uint():
    # int32 with uint32 gives int32 (numpy would widen to int64)
    @vd.shader("a.size")
    def mixed_int_uint(a: Buff[i32], b: Buff[u32], out: Buff[i32]):
        i = gid()
        x, y = a[i], b[i]
        for k, v in enumerate((x + y, x - y, y - x, x * y, vc.min(x, y), x // (y + 1))):
            out[6 * i + k] = v
    return mixed_int_uint


@case("weak_python_scalars",
      inputs=lambda rng: dict(
          a=rng.integers(-1000, 1000, N).astype(np.int32),
          f=rng.uniform(-100, 100, N).astype(np.float32),
          of=np.zeros(3 * N, np.float32)),
      reference=lambda x, dev: dict(
          # NEP 50: the python scalar takes the array's precision (int + float -> float32)
          of=flat(x["a"].astype(np.float32) + np.float32(1.5), x["f"] * np.float32(0.1),
                  x["f"] + np.float32(3.3))),
      rtol=0, columns={"of": ["int_plus_float", "mul", "add"]})
def _weak_python_scalars():
    # compared exactly: computed in float64, x * 0.1 would round differently (GPU division
    # is not correctly rounded, so no division here)
    @vd.shader("a.size")
    def weak_python_scalars(a: Buff[i32], f: Buff[f32], of: Buff[f32]):
        i = gid()
        of[3 * i] = a[i] + 1.5
        x = f[i]
        of[3 * i + 1] = x * 0.1
        of[3 * i + 2] = x + 3.3
    return weak_python_scalars


@case("float16_literal",
      inputs=lambda rng: dict(h=rng.uniform(-10, 10, N).astype(np.float16),
                              oh=np.zeros(2 * N, np.float16)),
      reference=lambda x, dev: dict(oh=flat(x["h"] * np.float16(3.3), x["h"] + np.float16(0.1))),
      rtol=0, needs=frozenset({"float16"}))
def _float16_literal():
    @vd.shader("h.size")
    def float16_literal(h: Buff[f16], oh: Buff[f16]):
        i = gid()
        oh[2 * i] = h[i] * 3.3
        oh[2 * i + 1] = h[i] + 0.1
    return float16_literal


CMP = [("lt", lambda x, y: x < y), ("le", lambda x, y: x <= y), ("gt", lambda x, y: x > y),
       ("ge", lambda x, y: x >= y), ("eq", lambda x, y: x == y), ("ne", lambda x, y: x != y)]


def _compare_inputs(rng):
    a = rng.integers(-5, 5, N).astype(np.float32)
    b = rng.integers(-5, 5, N).astype(np.float32)
    ia = rng.integers(-5, 5, N).astype(np.int32)
    ub = rng.integers(0, 5, N).astype(np.uint32)
    flags = rng.integers(0, 2, N).astype(bool)
    return dict(a=a, b=b, ia=ia, ub=ub, flags=flags, out=np.zeros(N * 16, bool),
                sel=np.zeros(2 * N, np.float32))


def _compare_ref(x, dev):
    a, b, ia, ub, fl = x["a"], x["b"], x["ia"], x["ub"].astype(np.int64), x["flags"]
    cols = [f(a, b) for _, f in CMP] + [f(ia, ub) for _, f in CMP[:2]]
    cols += [(a > 0) & (b > 0), (a > 0) | fl, (a > 0) ^ fl, ~fl, ~(a > b),
             np.logical_and(a < 0, ~fl), fl == (b > 0), fl]
    return dict(out=flat(*cols), sel=flat(np.where(a > b, a, b), np.where(fl, a, -1.0)))


COMPARE_COLUMNS = [n for n, _ in CMP] + ["lt_int_uint", "le_int_uint", "and", "or", "xor",
                                         "not", "not_cmp", "and_not", "eq_bool", "copy"]


@case("compare_logic", inputs=_compare_inputs, reference=_compare_ref,
      columns={"out": COMPARE_COLUMNS, "sel": ["select_cmp", "select_flag"]})
def _compare_logic():
    @vd.shader("a.size")
    def compare_logic(a: Buff[f32], b: Buff[f32], ia: Buff[i32], ub: Buff[u32],
                      flags: Buff[b1], out: Buff[b1], sel: Buff[f32]):
        i = gid()
        x, y, p, q, fl = a[i], b[i], ia[i], ub[i], flags[i]
        vals = [f(x, y) for _, f in CMP] + [f(p, q) for _, f in CMP[:2]]
        vals += [(x > 0) & (y > 0), (x > 0) | fl, (x > 0) ^ fl, ~fl, ~(x > y),
                 (x < 0) & ~fl, fl == (y > 0), fl]
        for k, v in enumerate(vals):
            out[16 * i + k] = v
        sel[2 * i] = vc.select(x > y, x, y)
        sel[2 * i + 1] = vc.select(fl, x, -1.0)
    return compare_logic
