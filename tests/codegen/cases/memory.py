"""Workgroup-shared memory, barriers and atomics."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import *  # noqa: F401,F403 - the annotation names

from ._case import N, case, flat, gid


WG = 64
GROUPS = 13


@case("shared_reverse",
      inputs=lambda rng: dict(x=rng.uniform(-1, 1, WG * GROUPS).astype(np.float32),
                              out=np.zeros(WG * GROUPS, np.float32),
                              counts=np.zeros(GROUPS, np.uint32)),
      reference=lambda v, dev: dict(
          out=v["x"].reshape(GROUPS, WG)[:, ::-1].reshape(-1),
          counts=(v["x"].reshape(GROUPS, WG) > 0).sum(1)), rtol=0)
def _shared_reverse():
    @vd.shader(workgroups="x.size // 64", local_size=(WG, 1, 1))
    def shared_reverse(x: Buff[f32], out: Buff[f32], counts: Buff[u32]):
        sh = vc.shared_buffer(f32, WG)
        cnt = vc.shared_buffer(u32, 1)
        lid = vc.local_invocation_id().x
        g = vc.workgroup_id().x
        i = g * WG + lid
        sh[lid] = x[i]
        with vc.if_block(lid == 0):
            cnt[0] = 0
        vc.barrier()
        out[i] = sh[WG - 1 - lid]
        vc.atomic_add(cnt[0], (x[i] > 0).cast(u32))  # atomics on shared memory
        vc.memory_barrier_shared()
        vc.barrier()
        with vc.if_block(lid == 0):
            counts[g] = cnt[0]
    return shared_reverse


@case("atomics_counters",
      inputs=lambda rng: dict(x=rng.integers(0, 2 ** 31, N).astype(np.uint32),
                              y=rng.integers(-10 ** 6, 10 ** 6, N).astype(np.int32),
                              hist=np.zeros(16, np.uint32), ext=np.array([2 ** 30, -2 ** 30],
                                                                         np.int32),
                              counter=np.zeros(1, np.uint32), tickets=np.zeros(N, np.uint32)),
      reference=lambda v, dev: dict(
          hist=np.bincount(v["x"] % 16, minlength=16).astype(np.uint32),
          ext=np.array([v["y"].min(), v["y"].max()], np.int32),
          counter=np.array([N], np.uint32), tickets=np.arange(N, dtype=np.uint32)),
      unordered=("tickets",))
def _atomics_counters():
    @vd.shader("x.size")
    def atomics_counters(x: Buff[u32], y: Buff[i32], hist: Buff[u32], ext: Buff[i32],
                         counter: Buff[u32], tickets: Buff[u32]):
        i = gid()
        vc.atomic_add(hist[x[i] % 16], 1)
        v = y[i]
        vc.atomic_min(ext[0], v)
        vc.atomic_max(ext[1], v)
        tickets[i] = vc.atomic_add(counter[0], 1)      # the old values are 0..N-1
        vc.memory_barrier()
    return atomics_counters


LAST_GROUPS = 37


@case("last_group_finishes",
      inputs=lambda rng: dict(x=rng.integers(-1000, 1000, WG * LAST_GROUPS).astype(np.int32),
                              partials=np.zeros(LAST_GROUPS, np.int32),
                              counter=np.zeros(1, np.uint32), total=np.zeros(1, np.int32)),
      reference=lambda v, dev: dict(
          partials=v["x"].reshape(LAST_GROUPS, WG).sum(1).astype(np.int32),
          counter=np.zeros(1, np.uint32), total=np.array([v["x"].sum()], np.int32)), rtol=0)
def _last_group_finishes():
    # each workgroup publishes a partial (store, device-scope barrier, atomic ticket);
    # the one that draws the last ticket reads them all coherently and resets the counter
    @vd.shader(workgroups="x.size // 64", local_size=(WG, 1, 1))
    def last_group_finishes(x: Buff[i32], partials: Buff[i32], counter: Buff[u32],
                            total: Buff[i32]):
        sh = vc.shared_buffer(i32, WG)
        last = vc.shared_buffer(u32, 1)
        lid = vc.local_invocation_id().x
        g = vc.workgroup_id().x
        sh[lid] = x[g * WG + lid]
        vc.barrier()
        with vc.if_block(lid == 0):
            s = vc.new_int(0)
            for j in vc.range(WG):
                s += sh[j]
            partials[g] = s
            vc.memory_barrier_buffer()
            ticket = vc.atomic_add(counter[0], 1)
            vc.memory_barrier_buffer()
            last[0] = (ticket == vc.num_workgroups().x - 1).cast(u32)
        vc.barrier()
        with vc.if_block((last[0] != 0) & (lid == 0)):
            s = vc.new_int(0)
            for j in vc.range(vc.num_workgroups().x.cast(i32)):
                s += vc.coherent_read(partials[j])
            total[0] = s
            counter[0] = 0
    return last_group_finishes


def _bits_ref(v, dev):
    x = v["x"]
    bit = (np.uint32(1) << (x % 32)).astype(np.uint32)
    ok = v["cas"] == v["cmp"]
    return dict(words=np.array([np.bitwise_or.reduce(bit), np.bitwise_and.reduce(~bit),
                                np.bitwise_xor.reduce(x)], np.uint32),
                cas=np.where(ok, v["new"], v["cas"]), old=flat(v["cas"], v["ex"]),
                ex=v["new"])


@case("atomics_bits_exchange",
      inputs=lambda rng: dict(
          x=rng.integers(0, 2 ** 32, N, dtype=np.uint64).astype(np.uint32),
          words=np.array([0, 0xffffffff, 0], np.uint32),
          cas=rng.integers(0, 3, N).astype(np.int32), cmp=rng.integers(0, 3, N).astype(np.int32),
          new=rng.integers(-100, 100, N).astype(np.int32),
          ex=rng.integers(-100, 100, N).astype(np.int32), old=np.zeros(2 * N, np.int32)),
      reference=_bits_ref)
def _atomics_bits_exchange():
    @vd.shader("x.size")
    def atomics_bits_exchange(x: Buff[u32], words: Buff[u32], cas: Buff[i32], cmp: Buff[i32],
                              new: Buff[i32], ex: Buff[i32], old: Buff[i32]):
        i = gid()
        v = x[i]
        bit = vc.new_uint(1)
        bit <<= v % 32
        vc.atomic_or(words[0], bit)
        vc.atomic_and(words[1], ~bit)
        vc.atomic_xor(words[2], v)
        n = new[i]
        old[2 * i] = vc.atomic_compare_exchange(cas[i], cmp[i], n)
        old[2 * i + 1] = vc.atomic_exchange(ex[i], n)
        vc.memory_barrier_buffer()
    return atomics_bits_exchange


@case("atomics_float32",
      inputs=lambda rng: dict(x=(rng.integers(-400, 400, N) * 0.25).astype(np.float32),
                              acc=np.zeros(4, np.float32)),
      reference=lambda v, dev: dict(acc=np.array([v["x"][k::4].sum() for k in range(4)],
                                                 np.float32)),
      rtol=0, needs=frozenset({"float32_atomic_add"}))
def _atomics_float32():
    # quarter-integers sum exactly in any order
    @vd.shader("x.size")
    def atomics_float32(x: Buff[f32], acc: Buff[f32]):
        i = gid()
        vc.atomic_add(acc[i % 4], x[i])
    return atomics_float32


@case("atomics_int64",
      inputs=lambda rng: dict(x=rng.integers(0, 2 ** 40, N, dtype=np.int64).astype(np.uint64),
                              acc=np.zeros(2, np.uint64)),
      reference=lambda v, dev: dict(acc=np.array([v["x"].sum(), v["x"].max()], np.uint64)),
      needs=frozenset({"int64", "int64_atomics"}))
def _atomics_int64():
    @vd.shader("x.size")
    def atomics_int64(x: Buff[u64], acc: Buff[u64]):
        i = gid()
        vc.atomic_add(acc[0], x[i])
        vc.atomic_max(acc[1], x[i])
    return atomics_int64
