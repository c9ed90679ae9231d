"""FFT plans: radices and the shared-memory/thread schedule for a length on a device,
one kernel when the transform fits a workgroup, two (four-step with a twiddle between
them) when it does not. Plans live in a bounded per-device cache; what changes with the
batch (counts, strides) is given at launch, so a new batch count compiles nothing."""
from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Optional

from ..base.errors import DeviceLimitError
from .spec import Edge, PassSpec

# caps that keep kernels alike across devices (PoCL reports 1 MiB of shared memory)
SHARED_CAP = 48 * 1024
INVOCATION_CAP = 1024
ROW_LOCAL_TARGET = 256
COLUMN_BATCH_TARGET = 32
# a strided-axis kernel moving fewer neighbouring columns than this per row wastes most
# of each memory transaction: a four-step split into two coalesced passes beats it
MIN_COLUMN_BATCH = 8
MAX_RADIX = 16
SMOOTH_PRIMES = (2, 3, 5, 7, 11, 13)
UINT32_LIMIT = 2 ** 32 - 1


def factor(n: int) -> list:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def is_smooth(n: int) -> bool:
    return n >= 1 and all(p in SMOOTH_PRIMES for p in factor(n))


def radices(n: int) -> tuple:
    """Stage radices of a smooth n, each at most 16: the power of two in balanced
    stages of 2..16, pairs of 3 as 9, the other primes alone."""
    fs = factor(n)
    twos = fs.count(2)
    out = []
    if twos:
        stages = -(-twos // 4)
        for i in range(stages):
            out.append(2 ** (twos // stages + (1 if i < twos % stages else 0)))
    threes = fs.count(3)
    out += [9] * (threes // 2) + [3] * (threes % 2)
    out += [p for p in fs if p > 3]
    return tuple(sorted(out, reverse=True)) or (1,)


def limits(device) -> tuple:
    """(shared bytes, invocations) a workgroup may use on `device`."""
    return (min(device.max_shared_memory, SHARED_CAP),
            min(device.max_workgroup_invocations, device.max_workgroup_size[0], INVOCATION_CAP))


def padded(n: int, itemsize: int, device, columns: bool) -> bool:
    """Whether a transform along the last axis keeps one spare shared element per 16:
    the first stage's invocations write 16 apart, which would all hit one bank."""
    return not columns and n >= 32 and len(radices(n)) > 1 and \
        (n + n // 16) * itemsize <= limits(device)[0]


def kernel_shape(n: int, itemsize: int, device, columns: bool,
                 in_shared: bool = False) -> Optional[tuple]:
    """(radices, threads per transform, transforms per workgroup) of a one-kernel
    transform of length n, or None when it does not fit the device. `in_shared`: the
    result is kept in shared memory even with one stage (r2c's untangling reads it)."""
    rs = radices(n)
    shared, invocations = limits(device)
    threads = max(1, n // max(rs))
    per = (n + n // 16 if padded(n, itemsize, device, columns) else n) * itemsize \
        if len(rs) > 1 or in_shared else 0
    if threads > invocations or per > shared:
        return None
    batch = 1
    target = COLUMN_BATCH_TARGET if columns else max(1, ROW_LOCAL_TARGET // threads)
    while batch * 2 <= target and batch * 2 * threads <= invocations and \
            batch * 2 * per <= shared:
        batch *= 2
    return rs, threads, batch


def max_single(itemsize: int, device) -> int:
    """The largest power of two one kernel transforms on `device`."""
    n = 1
    while kernel_shape(n * 2, itemsize, device, False) is not None and n < 2 ** 16:
        n *= 2
    return n


@dataclasses.dataclass(frozen=True)
class Step:
    """One kernel launch of a plan: its spec and how it addresses memory
    ("single", "four_step_1", "four_step_2")."""
    spec: PassSpec
    role: str


@dataclasses.dataclass(frozen=True)
class Plan:
    n: int
    steps: tuple
    split: tuple = ()        # (n1, n2) of a four-step plan

    @property
    def scratch(self) -> bool:
        return len(self.steps) > 1


class PlanCache:
    """Plans of one device by key, least recently used evicted past `size`."""

    def __init__(self, size: int = 128):
        self.size = size
        self._plans: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        plan = make()
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
        return plan

    def __len__(self) -> int:
        return len(self._plans)


_caches: dict = {}
_caches_lock = threading.Lock()


def plan_cache(device) -> PlanCache:
    key = (device.backend, device.index, device.name)
    with _caches_lock:
        return _caches.setdefault(key, PlanCache())


def make_plan(device, n: int, columns: bool, sign: int, scale: float, io_in, io_out, compute,
              in_place: bool, load: Edge = Edge(), store: Edge = Edge(),
              kernel_mul=None, real: str = "", pairs: str = "") -> Plan:
    """The plan of a length-n transform on `device` (cached). `pairs` (see PassSpec)
    applies to the plan's first kernel ("in") or last ("out")."""
    key = (n, columns, sign, scale, io_in, io_out, compute, in_place, load, store, kernel_mul,
           real, pairs)
    return plan_cache(device).get(key, lambda: _plan(device, *key))


def _plan(device, n, columns, sign, scale, io_in, io_out, compute, in_place, load, store,
          kernel_mul, real, pairs) -> Plan:
    if not is_smooth(n):
        raise ValueError(f"length {n} has a prime factor above 13; plans take lengths of "
                         f"the form 2^a 3^b 5^c 7^d 11^e 13^f (vd.fft uses Bluestein for others)")
    size = compute.itemsize
    shape = kernel_shape(n, size, device, columns, real == "r2c")
    fused = kernel_mul is not None or load != Edge() or store != Edge() or real
    if shape is not None and columns and shape[2] < MIN_COLUMN_BATCH and not fused and \
            _split(n, size, device, True, quiet=True) is not None:
        shape = None     # two coalesced passes instead of one that reads 8 bytes a row
    if shape is not None:
        rs, threads, batch = shape
        spec = PassSpec(n, rs, threads, batch, columns, sign, scale, io_in, io_out, compute,
                        in_place, load=load, store=store, kernel_mul=kernel_mul, real=real,
                        pad=padded(n, size, device, columns), pairs=pairs)
        return Plan(n, (Step(spec, "single"),))
    # the first pass's loads take a zero-padding edge (as Bluestein's do); nothing else
    if kernel_mul is not None or store != Edge() or real or load.chirp or load.kernel:
        raise DeviceLimitError(f"a fused transform of length {n} does not fit one workgroup "
                               f"on {device.name} (shared memory {limits(device)[0]} bytes)")
    n1, n2 = _split(n, size, device, columns)
    r1, t1, b1 = kernel_shape(n1, size, device, True)
    r2, t2, b2 = kernel_shape(n2, size, device, columns)
    split = 1 << max(1, (n.bit_length() + 1) // 2)
    first = PassSpec(n1, r1, t1, b1, True, sign, 1.0, io_in, compute, compute, False,
                     twiddle=n, split=split, load=load, pairs="in" if pairs == "in" else "")
    second = PassSpec(n2, r2, t2, b2, columns, sign, scale, compute, io_out, compute, False,
                      pad=padded(n2, size, device, columns),
                      pairs="out" if pairs == "out" else "")
    return Plan(n, (Step(first, "four_step_1"), Step(second, "four_step_2")), (n1, n2))


def _divisors(n: int) -> list:
    out = [1]
    for p in set(factor(n)):
        k = factor(n).count(p)
        out = [d * p ** e for d in out for e in range(k + 1)]
    return sorted(out)


def _split(n: int, size: int, device, columns: bool, quiet: bool = False):
    """n = n1 * n2, both transformed by one kernel: along the last axis n2 (the
    contiguous pass) as long as fits; along a strided axis the most balanced split whose
    passes both move at least MIN_COLUMN_BATCH neighbouring columns."""
    fits = []
    for n2 in _divisors(n):
        n1 = n // n2
        if not 1 < n2 < n:
            continue
        s1 = kernel_shape(n1, size, device, True)
        s2 = kernel_shape(n2, size, device, columns)
        if s1 is None or s2 is None:
            continue
        if columns and min(s1[2], s2[2]) < MIN_COLUMN_BATCH:
            continue
        fits.append((n1, n2))
    if fits:
        if columns:
            return min(fits, key=lambda f: abs(f[0] - f[1]))
        return max(fits, key=lambda f: f[1])
    if quiet:
        return None
    if columns:
        return _split(n, size, device, False)
    limit = max_single(size, device)
    raise DeviceLimitError(f"length {n} needs more than two passes on {device.name} "
                           f"(one kernel transforms up to {limit} elements of "
                           f"{size} bytes; two passes up to {limit * limit})")
