"""vkdispatch 0.1's codegen names (radians, modf, the bit casts, registers, to_* casts,
matrix_comp_mult, outer_product, statement-style blocks, ...) and its 16-bit vectors."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import Case, CASES, N, case, flat, gid

COMPAT_COLUMNS = ["radians", "degrees", "round_even", "clip", "modf_frac", "modf_whole",
                  "modf_mod", "to_float", "to_vec2", "register", "inf", "ninf", "branch",
                  "scope", "bits_round_trip", "any_all"]
BITS_COLUMNS = ["float_bits_to_int", "float_bits_to_uint_low"]


def _compat_inputs(rng):
    x = rng.uniform(-10, 10, N)
    x[: N // 4] = np.round(x[: N // 4] * 2) / 2          # exact halves: round to even
    a = rng.uniform(-2, 2, (N, 3))
    b = rng.uniform(-2, 2, (N, 3))
    return dict(x=x.astype(np.float32), y=rng.uniform(0.5, 3, N).astype(np.float32),
                n=rng.integers(-100, 100, N).astype(np.int32),
                a=a.astype(np.float32), b=b.astype(np.float32),
                m=rng.uniform(-3, 3, (N, 2, 2)).astype(np.float32),
                k=rng.uniform(-3, 3, (N, 2, 2)).astype(np.float32),
                out=np.zeros(N * len(COMPAT_COLUMNS), np.float32),
                bits=np.zeros(N * len(BITS_COLUMNS), np.int32),
                comp=np.zeros((N, 2, 2), np.float32), outer=np.zeros((N, 3, 3), np.float32))


def _compat_reference(v, dev):
    x, y, n = v["x"], v["y"], v["n"]
    f = np.float32
    frac, whole = np.modf(x)
    cols = [x * f(np.pi / 180), x * f(180 / np.pi), np.round(x), np.clip(x, -2.5, 4.0),
            frac, whole, np.mod(x, y), n.astype(f), x + y, (x + 1) * 2 + 1,
            np.full(N, np.inf), np.full(N, -np.inf), np.where(x > 0, x, -y),
            x * 3, x, np.where((x > 5) | (x < -5), 1.0, 0.0) + np.where((x > 0) & (y > 1), 2.0, 0.0)]
    bits = [x.view(np.int32), (x.view(np.uint32) & 0xFFFF).astype(np.int32)]
    outer = np.einsum("ni,nj->nij", v["b"], v["a"])    # column j of the buffer is a * b[j]
    return dict(out=flat(*cols).astype(f), bits=flat(*bits), comp=v["m"] * v["k"],
                outer=outer.astype(f))


@case("compat_0_1_names", _compat_inputs, _compat_reference, rtol=1e-6, atol=1e-6,
      columns={"out": COMPAT_COLUMNS, "bits": BITS_COLUMNS},
      tols={"out[radians]": (1e-6, 0), "out[degrees]": (1e-6, 0)})
def _compat():
    @vd.shader("x.size")
    def compat_0_1_names(x: Buff[f32], y: Buff[f32], n: Buff[i32], a: Buff[v3], b: Buff[v3],
                         m: Buff[m2], k: Buff[m2], out: Buff[f32], bits: Buff[i32],
                         comp: Buff[m2], outer: Buff[m3]):
        i = gid()
        v = x[i].to_register("v")
        w = y[i]
        vc.comment("0.1's names */ with a stray comment end")
        frac, whole = vc.modf(v)
        acc = vc.new_float_register(1.0, var_name="acc")
        acc += v
        acc[:] = acc * 2
        acc += 1
        branch = vc.new_float_register()
        vc.if_statement(v > 0)
        branch[:] = v
        vc.else_statement()
        branch[:] = -w
        vc.end()
        scoped = vc.new_float_register()
        with vc.scope_block(comment="a plain scope"):
            t = v * 3
            scoped[:] = t
        vc.memory_barrier_image()
        vc.group_memory_barrier()
        cols = [vc.radians(v), vc.degrees(v), vc.round_even(v), vc.clip(v, -2.5, 4.0), frac,
                whole, vc.modf(v, w), vc.to_float(n[i]), vc.to_vec2(v, w).x + vc.to_vec2(v, w).y,
                acc, vc.inf_f32(), vc.ninf_f32(), branch, scoped,
                vc.int_bits_to_float(vc.float_bits_to_int(v)),
                vc.select(vc.any(v > 5.0, v < -5.0), 1.0, 0.0)
                + vc.select(vc.all(v > 0.0, w > 1.0), 2.0, 0.0)]
        for c, val in enumerate(cols):
            out[i * len(COMPAT_COLUMNS) + c] = val
        bits[2 * i] = vc.float_bits_to_int(v)
        bits[2 * i + 1] = vc.float_bits_to_uint(v) & 0xFFFF
        comp[i] = vc.matrix_comp_mult(m[i], k[i])
        outer[i] = vc.outer_product(a[i], b[i])
    return compat_0_1_names


def _int16_vectors_inputs(rng):
    return dict(ih=rng.integers(-1000, 1000, (N, 3)).astype(np.int16),
                uh=rng.integers(0, 1000, (N, 2)).astype(np.uint16),
                oih=np.zeros((N, 3), np.int16), ouh=np.zeros((N, 2), np.uint16),
                ih4=np.zeros((N, 4), np.int16), uh4=np.zeros((N, 4), np.uint16))


def _int16_vectors_reference(v, dev):
    ih, uh = v["ih"], v["uh"]
    return dict(oih=(ih * 3 - 7).astype(np.int16), ouh=(uh * 2 + 1).astype(np.uint16),
                ih4=np.concatenate([ih, ih[:, :1]], 1).astype(np.int16),
                uh4=np.concatenate([uh, uh], 1).astype(np.uint16))


@case("compat_int16_vectors", _int16_vectors_inputs, _int16_vectors_reference,
      needs=frozenset({"int16"}))
def _int16_vectors():
    @vd.shader("ih.size")
    def compat_int16_vectors(ih: Buff[ihv3], uh: Buff[uhv2], oih: Buff[ihv3], ouh: Buff[uhv2],
                             ih4: Buff[ihv4], uh4: Buff[uhv4]):
        i = gid()
        p = ih[i]
        oih[i] = p * 3 - 7
        ouh[i] = uh[i] * 2 + 1
        ih4[i] = vc.to_ihvec4(p, p.x)
        q = vc.new_uhvec4_register(uh[i], uh[i])
        uh4[i] = q
    return compat_int16_vectors


def _half_vectors_inputs(rng):
    return dict(h=rng.uniform(-4, 4, (N, 3)).astype(np.float16),
                oh=np.zeros((N, 3), np.float16), hbits=np.zeros(N, np.int16))


def _half_vectors_reference(v, dev):
    h = v["h"]
    return dict(oh=(h * np.float16(0.5) + np.float16(1)).astype(np.float16),
                hbits=np.ascontiguousarray(h[:, 0]).view(np.int16))


@case("compat_half_vectors", _half_vectors_inputs, _half_vectors_reference, rtol=1e-3,
      atol=1e-3, needs=frozenset({"int16", "float16"}))
def _half_vectors():
    @vd.shader("h.size")
    def compat_half_vectors(h: Buff[hv3], oh: Buff[hv3], hbits: Buff[i16]):
        i = gid()
        oh[i] = h[i] * 0.5 + 1.0
        hbits[i] = vc.float_bits_to_int(h[i].x)      # float16 -> int16, same bits
    return compat_half_vectors


def _pairs(z):
    """complex values as (real, imag) float16 pairs."""
    return np.stack([z.real, z.imag], -1).astype(np.float16)


def _complex32_inputs(rng):
    a = rng.uniform(0.5, 2, N) + 1j * rng.uniform(-1, 1, N)
    b = rng.uniform(-1, 1, N) + 1j * rng.uniform(-1, 1, N)
    return dict(a=_pairs(a), b=b.astype(np.complex64), o=np.zeros((N, 2), np.float16),
                o2=np.zeros(N, np.complex64), o3=np.zeros((N, 2), np.float16))


def _complex32_reference(v, dev):
    x = (v["a"][:, 0].astype(np.float32) + 1j * v["a"][:, 1].astype(np.float32))
    x = x.astype(np.complex64)
    return dict(o=_pairs(x * x + x / (x + 1) - (0.5 + 1j) + np.exp(x)),
                o2=(x * v["b"] + np.conj(x) + np.abs(x)).astype(np.complex64),
                o3=_pairs(np.full(N, 2 + 4j) + x.real))


# complex32 values travel through hvec2 buffers here: vd.Buffer's host I/O of complex32
# buffers (float16 pairs) belongs to the buffer layer
CASES.append(Case(
    "compat_complex32", lambda: _complex32(), _complex32_inputs, _complex32_reference,
    rtol=1e-2, atol=1e-2, needs=frozenset({"float16"})))


def _complex32():
    @vd.shader("a.size")
    def compat_complex32(a: Buff[hv2], b: Buff[c64], o: Buff[hv2], o2: Buff[c64],
                         o3: Buff[hv2]):
        i = gid()
        x = vc.to_complex32(a[i].x, a[i].y)
        r = x * x + x / (x + 1.0) - vc.to_complex32(0.5, 1.0) + vc.complex_exp(x)
        o[i] = vc.to_hvec2(r.real, r.imag)
        o2[i] = x * b[i] + x.conjugate() + abs(x)
        z = vc.new_complex32_register(1.0, 2.0)
        r3 = z * 2.0 + x.real
        o3[i] = vc.to_hvec2(r3.real, r3.imag)
    return compat_complex32
