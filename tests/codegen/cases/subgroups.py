"""Subgroup operations, compared per subgroup of the device's size."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import case, flat, gid


SG_N = 512      # a multiple of the workgroup size: every subgroup is full


def _groups(a, dev):
    return a.reshape(-1, dev.subgroup_size)


def _per_lane(reduced, dev):
    return np.repeat(reduced, dev.subgroup_size)


def _sg_arith_ref(v, dev):
    x, s, u, f = (_groups(v[k], dev) for k in ("x", "s", "u", "f"))
    inc = np.cumsum(x, 1)
    return dict(
        out=flat(*[_per_lane(r, dev) for r in (x.sum(1), x.min(1), x.max(1), s.prod(1))],
                 inc.reshape(-1), (inc - x).reshape(-1)).astype(np.int32),
        ou=flat(*[_per_lane(r, dev) for r in (np.bitwise_and.reduce(u, 1),
                                              np.bitwise_or.reduce(u, 1),
                                              np.bitwise_xor.reduce(u, 1))]),
        of=_per_lane(f.sum(1), dev))


@case("subgroup_arithmetic",
      inputs=lambda rng: dict(
          x=rng.integers(-5, 6, SG_N).astype(np.int32),
          s=rng.choice(np.array([-1, 1], np.int32), SG_N),
          u=rng.integers(0, 2 ** 32, SG_N, dtype=np.uint64).astype(np.uint32),
          f=(rng.integers(-64, 64, SG_N) * 0.5).astype(np.float32),
          out=np.zeros(6 * SG_N, np.int32), ou=np.zeros(3 * SG_N, np.uint32),
          of=np.zeros(SG_N, np.float32)),
      reference=_sg_arith_ref, rtol=0, needs=frozenset({"arithmetic"}))
def _subgroup_arithmetic():
    @vd.shader("x.size")
    def subgroup_arithmetic(x: Buff[i32], s: Buff[i32], u: Buff[u32], f: Buff[f32],
                            out: Buff[i32], ou: Buff[u32], of: Buff[f32]):
        i = gid()
        v = x[i]
        for k, r in enumerate((vc.subgroup_add(v), vc.subgroup_min(v), vc.subgroup_max(v),
                               vc.subgroup_mul(s[i]), vc.subgroup_inclusive_add(v),
                               vc.subgroup_exclusive_add(v))):
            out[6 * i + k] = r
        w = u[i]
        for k, r in enumerate((vc.subgroup_and(w), vc.subgroup_or(w), vc.subgroup_xor(w))):
            ou[3 * i + k] = r
        of[i] = vc.subgroup_add(f[i])
    return subgroup_arithmetic


def _sg_shuffle_ref(v, dev):
    x = _groups(v["x"], dev)
    lanes = np.arange(dev.subgroup_size)
    return dict(out=flat(x[:, lanes ^ 1].reshape(-1),
                         x[:, (lanes + 1) % dev.subgroup_size].reshape(-1)))


@case("subgroup_shuffle",
      inputs=lambda rng: dict(x=rng.integers(-1000, 1000, SG_N).astype(np.int32),
                              out=np.zeros(2 * SG_N, np.int32)),
      reference=_sg_shuffle_ref, needs=frozenset({"shuffle", "basic"}))
def _subgroup_shuffle():
    @vd.shader("x.size")
    def subgroup_shuffle(x: Buff[i32], out: Buff[i32]):
        i = gid()
        v = x[i]
        lane = vc.subgroup_invocation_id()
        out[2 * i] = vc.subgroup_shuffle_xor(v, 1)
        out[2 * i + 1] = vc.subgroup_shuffle(v, (lane + 1) % vc.subgroup_size())
    return subgroup_shuffle


def _sg_ballot_ref(v, dev):
    x = _groups(v["x"], dev)
    return dict(out=flat(_per_lane(x[:, 0], dev), _per_lane(x[:, 3], dev),
                         _per_lane(x[:, 0], dev)))


@case("subgroup_ballot",
      inputs=lambda rng: dict(x=rng.integers(-1000, 1000, SG_N).astype(np.int32),
                              out=np.zeros(3 * SG_N, np.int32)),
      reference=_sg_ballot_ref, needs=frozenset({"ballot"}))
def _subgroup_ballot():
    @vd.shader("x.size")
    def subgroup_ballot(x: Buff[i32], out: Buff[i32]):
        i = gid()
        v = x[i]
        out[3 * i] = vc.subgroup_broadcast(v, 0)
        out[3 * i + 1] = vc.subgroup_broadcast(v, 3)
        out[3 * i + 2] = vc.subgroup_broadcast_first(v)
    return subgroup_ballot


def _sg_vote_ref(v, dev):
    x = _groups(v["x"], dev)
    return dict(out=flat(_per_lane(np.all(x >= 0, 1), dev), _per_lane(np.any(x == 0, 1), dev)))


@case("subgroup_vote",
      inputs=lambda rng: dict(x=rng.integers(-1, 40, SG_N).astype(np.int32),
                              out=np.zeros(2 * SG_N, bool)),
      reference=_sg_vote_ref, needs=frozenset({"vote"}))
def _subgroup_vote():
    @vd.shader("x.size")
    def subgroup_vote(x: Buff[i32], out: Buff[b1]):
        i = gid()
        v = x[i]
        out[2 * i] = vc.subgroup_all(v >= 0)
        out[2 * i + 1] = vc.subgroup_any(v == 0)
    return subgroup_vote


def _sg_basic_ref(v, dev):
    sg, tid = dev.subgroup_size, np.arange(SG_N)
    local = tid % 128
    return dict(out=flat(tid % sg, np.full(SG_N, sg), local // sg, np.full(SG_N, 128 // sg),
                         (tid % sg == 0)).astype(np.uint32))


@case("subgroup_basic",
      inputs=lambda rng: dict(x=np.zeros(SG_N, np.uint32), out=np.zeros(5 * SG_N, np.uint32)),
      reference=_sg_basic_ref, needs=frozenset({"basic"}))
def _subgroup_basic():
    @vd.shader("x.size", local_size=(128, 1, 1))
    def subgroup_basic(x: Buff[u32], out: Buff[u32]):
        i = gid()
        out[5 * i] = vc.subgroup_invocation_id()
        out[5 * i + 1] = vc.subgroup_size()
        out[5 * i + 2] = vc.subgroup_id()
        out[5 * i + 3] = vc.num_subgroups()
        e = vc.subgroup_elect()
        vc.subgroup_barrier()
        out[5 * i + 4] = e.cast(u32)
    return subgroup_basic
