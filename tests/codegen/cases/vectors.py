"""Vectors (swizzles, components, geometry) and matrices (column-major)."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import N, case, flat, gid, nonzero


def _vector_inputs(rng):
    f = lambda *s: rng.uniform(-3, 3, s).astype(np.float32)  # noqa: E731
    return dict(a2=f(N, 2), a3=f(N, 3), a4=f(N, 4), j=rng.integers(0, 3, N).astype(np.int32),
                o4=np.zeros((3 * N, 4), np.float32), o3=np.zeros((3 * N, 3), np.float32),
                o2=np.zeros((N, 2), np.float32), of=np.zeros(5 * N, np.float32),
                ob=np.zeros(3 * N, bool))


def _vector_ref(x, dev):
    a, b, c, j = x["a2"], x["a3"], x["a4"], x["j"]
    w = c.copy()
    w[:, 0], w[:, 2] = a[:, 0], a[:, 1]
    w[:, 1], w[:, 3] = a[:, 1] * 3, a[:, 0] * 3
    w[:, 1] += b[:, 0]
    o4 = np.stack([np.stack([b[:, 2], b[:, 1], b[:, 0], a[:, 0]], 1), w,
                   c / np.linalg.norm(c, axis=1, keepdims=True)], 1).reshape(-1, 4)
    o3 = np.stack([c[:, [3, 2, 1]] * 2 + b - 1, np.cross(b, c[:, :3]), -b * b], 1).reshape(-1, 3)
    of = flat(np.sum(b * c[:, :3], 1), np.linalg.norm(c, axis=1),
              np.linalg.norm(a - a[:, ::-1], axis=1), b[np.arange(N), j], c[:, 3] + a[:, 1])
    ob = flat(np.any(b > b[:, [2, 0, 1]], 1), np.all(c[:, :2] >= c[:, 2:], 1),
              np.any(b[:, :2] == b[:, 1:], 1))
    return dict(o4=o4, o3=o3, o2=a[:, ::-1] * 0.5, of=of, ob=ob)


@case("vectors", inputs=_vector_inputs, reference=_vector_ref, rtol=1e-5, atol=1e-6)
def _vectors():
    @vd.shader("a3.size")
    def vectors(a2: Buff[v2], a3: Buff[v3], a4: Buff[v4], j: Buff[i32], o4: Buff[v4],
                o3: Buff[v3], o2: Buff[v2], of: Buff[f32], ob: Buff[b1]):
        i = gid()
        a, b, c = a2[i], a3[i], a4[i]
        o4[3 * i] = (b.z, b.y, b.x, a.x)                  # construct from a tuple
        w = vc.new_vec4(c)
        w.xz = a                                            # swizzle writes
        w.yw = a.yx * 3.0
        w[1] += b.x
        o4[3 * i + 1] = w
        o4[3 * i + 2] = vc.normalize(c)
        o3[3 * i] = c.wzy * 2.0 + b - 1.0                   # swizzle read, vector-scalar ops
        o3[3 * i + 1] = vc.cross(b, c.xyz)
        o3[3 * i + 2] = -b * b
        o2[i] = a.yx * 0.5
        of[5 * i] = vc.dot(b, c.rgb)
        of[5 * i + 1] = vc.length(c)
        of[5 * i + 2] = vc.distance(a, a.yx)
        of[5 * i + 3] = b[j[i]]                             # dynamic component
        of[5 * i + 4] = c[3] + a[-1]
        ob[3 * i] = vc.any(b > b.zxy)
        ob[3 * i + 1] = vc.all(c.xy >= c.zw)
        ob[3 * i + 2] = vc.any(b.xy == b.yz)
    return vectors


@case("vector_scalar_compare",
      inputs=lambda rng: dict(a=rng.uniform(-3, 3, (N, 3)).astype(np.float32),
                              b=rng.integers(-3, 3, (N, 2)).astype(np.int32),
                              out=np.zeros((N, 3), bool), anyall=np.zeros(2 * N, bool)),
      reference=lambda x, dev: dict(out=x["a"] > 1, anyall=flat(np.any(x["b"] == 0, 1),
                                                               np.all(x["a"] < 2.5, 1))))
def _vector_scalar_compare():
    @vd.shader("a.size")
    def vector_scalar_compare(a: Buff[v3], b: Buff[iv2], out: Buff[b1], anyall: Buff[b1]):
        i = gid()
        v = a[i]
        gt = v > 1.0
        for k in range(3):
            out[3 * i + k] = gt[k]
        anyall[2 * i] = vc.any(b[i] == 0)
        anyall[2 * i + 1] = vc.all(v < 2.5)
    return vector_scalar_compare


@case("int_vectors",
      inputs=lambda rng: dict(
          a=rng.integers(-100, 100, (N, 4)).astype(np.int32),
          b=rng.integers(1, 100, (N, 2)).astype(np.uint32),
          oi=np.zeros((3 * N, 4), np.int32), ou=np.zeros((2 * N, 2), np.uint32),
          ov=np.zeros((N, 3), np.float32)),
      reference=lambda x, dev: dict(
          oi=np.stack([x["a"] * 3 - 1, x["a"] & 0x55, np.abs(x["a"])], 1).reshape(-1, 4),
          ou=np.stack([x["b"] << 2, x["b"][:, ::-1] + 1], 1).reshape(-1, 2),
          ov=(x["a"][:, :3] + 0.5).astype(np.float32)))
def _int_vectors():
    @vd.shader("a.size")
    def int_vectors(a: Buff[iv4], b: Buff[uv2], oi: Buff[iv4], ou: Buff[uv2], ov: Buff[v3]):
        i = gid()
        x, y = a[i], b[i]
        oi[3 * i] = x * 3 - 1
        oi[3 * i + 1] = x & 0x55
        oi[3 * i + 2] = abs(x)
        ou[2 * i] = y << 2
        ou[2 * i + 1] = y.yx + 1
        ov[i] = x.xyz + 0.5
    return int_vectors


@case("int_vector_floor_ops",
      inputs=lambda rng: dict(
          a=rng.integers(-100, 100, (N, 4)).astype(np.int32),
          b=nonzero(rng, -9, 9, (N, 4), np.int32),
          out=np.zeros((2 * N, 4), np.int32)),
      reference=lambda x, dev: dict(out=np.stack([x["a"] // x["b"], x["a"] % x["b"]],
                                                 1).reshape(-1, 4)))
def _int_vector_floor_ops():
    @vd.shader("a.size")
    def int_vector_floor_ops(a: Buff[iv4], b: Buff[iv4], out: Buff[iv4]):
        i = gid()
        x, y = a[i], b[i]
        out[2 * i] = x // y
        out[2 * i + 1] = x % y
    return int_vector_floor_ops


def _matrix_inputs(rng):
    m4 = rng.uniform(-1, 1, (N, 4, 4)).astype(np.float32) + 4 * np.eye(4, dtype=np.float32)
    m2 = rng.uniform(-1, 1, (N, 2, 2)).astype(np.float32) + 3 * np.eye(2, dtype=np.float32)
    return dict(m4=m4, n4=rng.uniform(-1, 1, (N, 4, 4)).astype(np.float32), m2=m2,
                v4=rng.uniform(-2, 2, (N, 4)).astype(np.float32),
                j=rng.integers(0, 4, N).astype(np.int32),
                om4=np.zeros((4 * N, 4, 4), np.float32), ov4=np.zeros((4 * N, 4), np.float32),
                om2=np.zeros((3 * N, 2, 2), np.float32), of=np.zeros(3 * N, np.float32))


def _matrix_ref(x, dev):
    # A buffer's matrix is column-major: stored row k of the numpy array is column k (m[k]),
    # so the shader's matrix is the transpose of the numpy one.
    A, B, C, v, j = x["m4"], x["n4"], x["m2"], x["v4"], x["j"]
    At = A.transpose(0, 2, 1)
    mv = np.einsum("nij,nj->ni", At, v)
    vm = np.einsum("nij,nj->ni", A, v)
    ov4 = np.stack([mv, vm, A[:, 1], A[np.arange(N), j]], 1).reshape(-1, 4)
    om4 = np.stack([B @ A, At, np.linalg.inv(A), 2 * A], 1).reshape(-1, 4, 4)
    made = np.stack([v[:, :2], v[:, 2:]], 1)             # mat2(a, b, c, d): columns (a,b), (c,d)
    om2 = np.stack([np.linalg.inv(C), C @ C, made], 1).reshape(-1, 2, 2)
    of = flat(np.linalg.det(A), np.linalg.det(C), np.linalg.det(A[:, :3, :3]))
    return dict(ov4=ov4, om4=om4.astype(np.float32), om2=om2.astype(np.float32), of=of)


@case("matrices", inputs=_matrix_inputs, reference=_matrix_ref, rtol=1e-4, atol=1e-5)
def _matrices():
    @vd.shader("m4.size")
    def matrices(m4: Buff[m4], n4: Buff[m4], m2: Buff[m2], v4: Buff[v4], j: Buff[i32],
                 om4: Buff[m4], ov4: Buff[v4], om2: Buff[m2], of: Buff[f32]):
        i = gid()
        m, n, c, v = m4[i], n4[i], m2[i], v4[i]
        ov4[4 * i] = m @ v
        ov4[4 * i + 1] = v @ m
        ov4[4 * i + 2] = m[1]                    # column 1
        ov4[4 * i + 3] = m[j[i]]                 # dynamic column
        om4[4 * i] = m @ n
        om4[4 * i + 1] = vc.transpose(m)
        om4[4 * i + 2] = vc.inverse(m)
        om4[4 * i + 3] = m * 2.0
        om2[3 * i] = vc.inverse(c)
        om2[3 * i + 1] = vc.matmul(c, c)
        om2[3 * i + 2] = vc.new_mat2(v.x, v.y, v.z, v.w)
        of[3 * i] = vc.determinant(m)
        of[3 * i + 1] = vc.determinant(c)
        of[3 * i + 2] = vc.determinant(vc.new_mat3(m[0].xyz, m[1].xyz, m[2].xyz))
    return matrices
