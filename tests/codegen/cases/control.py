"""Structured control flow, mutable variables and per-invocation arrays."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import N, case, flat, gid


def _collatz_steps(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def _loop_sum(v):
    s = 0
    for j in range(abs(v) % 20, -1, -1):
        if j % 3 == 0:
            continue
        if s > 50:
            break
        s += j
    return s


def _control_ref(x, dev):
    v, lim = x["x"], x["limit"]
    cls = np.select([v < -500, v < 0, v == 0], [-1, 0, 1], 2)
    collatz = np.array([_collatz_steps(abs(int(e)) % 97 + 1) for e in v])
    sums = np.array([_loop_sum(int(e)) for e in v])
    evens = np.array([sum(range(0, abs(int(e)) % 16, 2)) for e in v]) + lim
    bits = np.array([bin(int(e) & 0xffffffff).count("1") for e in v])
    early = np.where(v > 500, -7, 2 * v)
    g = x["grow"]
    grown = np.where(g < 10, g + 3 * ((10 - g + 2) // 3), g)
    return dict(out=flat(cls, collatz, sums, evens, bits).astype(np.int32),
                early=early.astype(np.int32), grow=grown.astype(np.int32))


@case("control_flow",
      inputs=lambda rng: dict(x=rng.integers(-1000, 1000, N).astype(np.int32), limit=3,
                              out=np.zeros(5 * N, np.int32), early=np.full(N, -7, np.int32),
                              grow=rng.integers(-20, 20, N).astype(np.int32)),
      reference=_control_ref,
      columns={"out": ["if_else_chain", "while", "for_negative_step", "for_step_2",
                       "while_callable"]})
def _control_flow():
    @vd.shader("x.size")
    def control_flow(x: Buff[i32], out: Buff[i32], early: Buff[i32], grow: Buff[i32],
                     limit: Const[i32]):
        i = gid()
        v = x[i]
        c = vc.new_int(99)
        with vc.if_block(v < -500):
            c.set(-1)
        with vc.else_if_block(v < 0):
            c.set(0)
        with vc.else_if(v == 0):
            c.set(1)
        with vc.else_block():
            c.set(2)
        out[5 * i] = c
        n = vc.new_int(abs(v) % 97 + 1)
        steps = vc.new_int()
        with vc.while_block(n != 1):            # the condition is re-evaluated each time
            with vc.if_block(n % 2 == 0):
                n.set(n // 2)
            with vc.else_block():
                n.set(n * 3 + 1)
            steps += 1
        out[5 * i + 1] = steps
        s = vc.new_int()
        for j in vc.range(abs(v) % 20, -1, -1):
            with vc.if_block(j % 3 == 0):
                vc.continue_()
            with vc.if_block(s > 50):
                vc.break_()
            s += j
        out[5 * i + 2] = s
        e = vc.new_int(limit)
        for j in vc.range(0, abs(v) % 16, 2):
            e += j
        out[5 * i + 3] = e
        m = vc.new_uint(v.cast(u32))
        cnt = vc.new_int()
        with vc.while_block(lambda: m != 0):
            cnt += (m & 1).cast(i32)
            m >>= 1
        out[5 * i + 4] = cnt
        with vc.while_block(grow[i] < 10):     # the load in the condition is re-read
            grow[i] = grow[i] + 3
        with vc.if_block(v > 500):
            vc.return_()
        early[i] = v * 2
    return control_flow


def _inplace_ref(x, dev):
    a, b = x["a"].astype(np.int64), x["b"].astype(np.int64)
    v = a + b
    v -= 3
    v *= 2
    v //= 3
    v &= 0xff
    v %= 7 + np.abs(b)
    v |= 0x100
    v ^= 5
    v <<= 2
    v >>= 1
    f = x["f"].astype(np.float32)
    g = f + np.float32(0.5)
    g *= f
    g /= np.float32(3.0)
    g -= np.float32(1.0)
    c = (f + 1j * f).astype(np.complex64)
    c2 = c * c
    vec = np.stack([f, 2 * f, f - 1], 1) * 2 + 1
    vec[:, 1] = -vec[:, 1]
    return dict(oi=v.astype(np.int32), of=g, oc=c2, ov=vec.astype(np.float32))


@case("mutable_inplace",
      inputs=lambda rng: dict(a=rng.integers(-1000, 1000, N).astype(np.int32),
                              b=rng.integers(-20, 20, N).astype(np.int32),
                              f=rng.uniform(-4, 4, N).astype(np.float32),
                              oi=np.zeros(N, np.int32), of=np.zeros(N, np.float32),
                              oc=np.zeros(N, np.complex64), ov=np.zeros((N, 3), np.float32)),
      reference=_inplace_ref, rtol=1e-5, atol=1e-6)
def _mutable_inplace():
    @vd.shader("a.size")
    def mutable_inplace(a: Buff[i32], b: Buff[i32], f: Buff[f32], oi: Buff[i32],
                        of: Buff[f32], oc: Buff[c64], ov: Buff[v3]):
        i = gid()
        y = b[i]
        v = vc.new(i32, a[i])
        v += y
        v -= 3
        v *= 2
        v //= 3
        v &= 0xff
        v %= 7 + abs(y)
        v |= 0x100
        v ^= 5
        v <<= 2
        v >>= 1
        oi[i] = v
        x = f[i]
        g = vc.new_float(x)
        g += 0.5
        g *= x
        g /= 3.0
        g -= 1.0
        of[i] = g
        c = vc.new_complex(vc.make_complex(x, x))
        c *= c
        oc[i] = c
        w = vc.new_vec3()
        w[:] = (x, 2.0 * x, x - 1.0)
        w *= 2.0
        w += 1.0
        w.y = -w.y
        ov[i] = w
    return mutable_inplace


@case("local_array",
      inputs=lambda rng: dict(x=rng.uniform(-2, 2, N).astype(np.float32),
                              n=rng.integers(0, 100, N).astype(np.int32),
                              out=np.zeros(N, np.float32), oi=np.zeros(N, np.int32)),
      reference=lambda v, dev: dict(
          out=np.sum(v["x"][:, None] * (np.arange(8) + 1) * 0.5 ** np.arange(8), axis=1),
          oi=np.array([sorted([(e * 7 + k * 13) % 23 for k in range(6)])[2]
                       for e in v["n"]])),
      rtol=1e-5, atol=1e-6)
def _local_array():
    @vd.shader("x.size")
    def local_array(x: Buff[f32], n: Buff[i32], out: Buff[f32], oi: Buff[i32]):
        i = gid()
        arr = vc.local_array(f32, 8)
        for j in vc.range(8):
            arr[j] = x[i] * (j + 1).cast(f32)
        acc = vc.new_float()
        for j in vc.range(7, -1, -1):
            acc.set(acc * 0.5 + arr[j])
        out[i] = acc
        keys = vc.local_array(i32, 6)              # insertion sort, then take the median-ish
        for k in vc.range(6):
            keys[k] = (n[i] * 7 + k * 13) % 23
        for k in vc.range(1, 6):
            key = vc.new_int(keys[k])
            p = vc.new_int(k - 1)
            with vc.while_block(lambda: (p >= 0) & (keys[vc.max(p, 0)] > key)):
                keys[p + 1] = keys[p]
                p -= 1
            keys[p + 1] = key
        oi[i] = keys[2]
    return local_array
