"""The dense factorizations as lazy nodes: one node per call whose op launches a kernel
of `_linalg_kernels` and writes every result of the call into one flat contiguous
array (the caller views its parts: a contiguous prefix reshaped is a view), so a
factorization with several results (Q and R, sign and log|det|, a solution and its
per-matrix failure flags) is still one node."""
from __future__ import annotations

import math

from ..execution import lazy
from . import _dtypes as d
from . import _linalg_kernels as K
from ._array import Array
from ._elementwise import check_device_dtype
from ._kernels import KernelCache, grid, launch
from ._sort_kernels import group_size
from ._sorting import check_bindable

SHARED_BUDGET = 32 * 1024     # bytes of shared memory a workgroup may take (see sorting)
SMALL = 128                   # workspace elements of the small-matrix kernels (n <= 11)
MEDIUM = 1024
SCRATCH_BYTES = 2 ** 26       # global workspaces of one launch (bounds the scratch memory)
FLOATS = (d.float32, d.float64, d.complex64, d.complex128)

_kernels = KernelCache()


def check_float(x, name: str) -> None:
    """TypeError unless x is an Array of a floating-point dtype the device computes."""
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if x.dtype not in FLOATS:
        raise TypeError(f"{name} takes floating-point arrays ({', '.join(t.name for t in FLOATS)}"
                        f"), got {x.dtype.name}")
    check_device_dtype(x.device, x.dtype, name)


def workspace(device, t, elements: int) -> tuple:
    """(cap, w): shared workspace elements (0: global scratch) and invocations."""
    budget = (min(device.max_shared_memory, SHARED_BUDGET) - 16) // t.itemsize
    limit = group_size(device)
    for cap, w in ((SMALL, 32), (MEDIUM, 256), (budget, 256)):
        if elements <= cap <= budget:
            return cap, min(w, limit)
    return 0, min(256, limit)


def batch_strides(view, shape: tuple, batch: tuple) -> list:
    """`view`'s strides over the broadcast `batch` dims (0 where broadcast)."""
    lead = len(batch) - (len(shape) - 2)
    out = [0] * len(batch)
    for j in range(len(shape) - 2):
        if shape[j] != 1:
            out[lead + j] = view.strides[j]
    return out


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


class Work:
    """The steps of a factorization of one matrix (`kind`, `mode`, scalar `values`)
    and what each costs an invocation in loop iterations: a kernel launch runs a range
    of steps, the first launch also loads the input and the last writes the results."""

    def __init__(self, kind: str, mode: str, values: dict):
        v = values
        if kind == "qr":
            self.elements = (v["r"] + 1) * v["c"]
            self.total = 2 * v["steps"]
        elif kind == "lu":
            self.elements = v["n"] * v["n"] + 1
            self.total = 3 * v["n"] if mode == "solve" else v["n"]
        else:
            self.elements = v["n"] * v["n"]
            self.total = v["n"]
        self.kind, self.mode, self.values = kind, mode, values

    def costs(self, w: int) -> tuple:
        """(first launch's extra, last launch's extra, per step) iterations."""
        v, kind = self.values, self.kind
        if kind == "qr":
            r, c, q, k = v["r"], v["c"], v["q"], v["steps"]
            steps = [2 * (r - j) * (1 + _ceil(c - j - 1, w)) for j in range(k)]
            steps += [2 * (r - j) * _ceil(q, w) for j in reversed(range(k))]
            return _ceil(r * c, w) + r * _ceil(q, w), _ceil(v["rr"] * c, w), steps
        n = v["n"]
        per_k = [_ceil(n - j - 1, w) + _ceil((n - j - 1) ** 2, w) for j in range(n)]
        if kind == "cholesky":
            return _ceil(n * n, w), _ceil(n * n, w), [1 + c for c in per_k]
        cols = _ceil(v.get("k", 0), w)
        steps = [n - j + _ceil(n, w) + cols + c for j, c in enumerate(per_k)]
        if self.mode == "solve":
            steps += [cols * n] * (2 * n)
        return _ceil(n * n, w) + cols * n, n, steps

    def chunks(self, w: int, limit, per_group: int) -> list:
        """Step ranges (lo, hi) of successive launches whose invocations each stay under
        `limit` loop iterations (None: no limit, one launch); [] where one step is past
        it."""
        if limit is None or self.total == 0:
            return [(0, self.total)]
        first, last, steps = self.costs(w)
        budget = limit // 2 // per_group
        out, lo, used = [], 0, first
        for s, cost in enumerate(steps):
            cost += 4 + (last if s == self.total - 1 else 0)
            if used + cost > budget and s > lo:
                out.append((lo, s))
                lo, used = s, 0
            used += cost
            if used > budget:
                return []
        out.append((lo, self.total))
        return out


class FactorOp:
    """The lazy node op: args (Leaf x[, Leaf rhs]); `work` the factorization of one
    matrix, `batch` the broadcast batch shape."""
    __slots__ = ("key", "work", "batch", "name")

    def __init__(self, name: str, work: Work, batch: tuple):
        self.name, self.work, self.batch = name, work, batch
        self.key = ("linalg", work.kind, work.mode, batch,
                    tuple(sorted(work.values.items())))

    def _kernel(self, ctx, t, cap, w):
        work, rank = self.work, len(self.batch)
        coherent = ctx.codegen_target != "cuda"

        def generate(device):
            if work.kind == "lu":
                return K.lu_kernel(work.mode, t, rank, cap, w, device, coherent)
            if work.kind == "cholesky":
                return K.cholesky_kernel(t, rank, cap, w, device, coherent)
            return K.qr_kernel(t, rank, cap, w, device, coherent)
        return _kernels.get(ctx, (work.kind, work.mode, t, rank, cap, w), generate)

    def plan(self, device, t, count: int) -> tuple:
        """(cap, w, matrices per launch, step chunks): the shared workspace where it
        fits and one launch does, else a global one."""
        work, limit = self.work, getattr(device, "max_loop_iterations", None)
        max_groups = device.max_workgroup_count[0]
        cap, w = workspace(device, t, work.elements)
        if cap:
            chunks = work.chunks(w, limit, _ceil(count, min(count, max_groups)))
            if len(chunks) == 1:
                return cap, w, count, chunks
        cap, w = 0, min(256, group_size(device))
        per_launch = min(count, max(1, SCRATCH_BYTES // (max(work.elements, 1) * t.itemsize)))
        chunks = work.chunks(w, limit, _ceil(per_launch, min(per_launch, max_groups)))
        if not chunks:
            raise ValueError(f"{self.name}: matrices of shape {self.shape_text()} take "
                             f"more loop iterations per step than {device.name} runs per "
                             f"invocation ({limit})")
        return cap, w, per_launch, chunks

    def shape_text(self) -> str:
        v = self.work.values
        return f"({v['r']}, {v['c']})" if "r" in v else f"({v['n']}, {v['n']})"

    def record(self, graph, node) -> None:
        count = math.prod(self.batch)
        if count == 0:
            return
        ctx = graph.context
        device, t = ctx.device, node.dtype
        cap, w, per_launch, chunks = self.plan(device, t, count)
        kernel = self._kernel(ctx, t, cap, w)
        values = dict(self.work.values, count=count)
        for j, s in enumerate(self.batch):
            values[f"d{j}"] = s
        buffers = [node.target.storage.buffer]
        assert node.target.offset == 0 and node.target.strides == (1,)
        for prefix, leaf in zip(("x", "b"), node.args):
            view = leaf.view
            values[f"{prefix}o"] = view.offset
            for j, st in enumerate(batch_strides(view, leaf.shape, self.batch)):
                values[f"{prefix}b{j}"] = st
            buffers.append(view.storage.buffer)
        if self.work.kind == "lu" and self.work.mode == "solve" and len(node.args) == 1:
            buffers.append(node.args[0].view.storage.buffer)   # inv: no rhs is read
            values.update({"bo": 0, **{f"bb{j}": 0 for j in range(len(self.batch))}})
        if cap == 0:
            scratch = lazy.allocate((per_launch * self.work.elements,), t)
            buffers.append(scratch.storage.buffer)
        total = self.work.total
        for m0 in range(0, count, per_launch):
            mcount = min(per_launch, count - m0)
            groups = grid(ctx, mcount)
            for lo, hi in chunks:
                values.update(m0=m0, mcount=mcount, lo=lo, hi=hi, first=int(lo == 0),
                              last=int(hi == total))
                launch(graph, kernel, groups, buffers, values)


def factor(name: str, kind: str, mode: str, x: Array, rhs, batch: tuple, values: dict,
           size: int) -> Array:
    """The flat result (`size` elements of x's dtype) of a factorization of x's
    matrices (and rhs's, broadcast over `batch`)."""
    view = x._placed()
    values = dict(values, xr=view.strides[-2], xc=view.strides[-1])
    args = [lazy.Leaf(view, x.shape, x.dtype)]
    if rhs is None:
        values.update(br=0, bc=0)
    else:
        rview = rhs._placed()
        values.update(br=rview.strides[-2], bc=rview.strides[-1])
        args.append(lazy.Leaf(rview, rhs.shape, rhs.dtype))
    op = FactorOp(name, Work(kind, mode, values), batch)
    views = [leaf.view for leaf in args]
    if size >= 2 ** 31:
        raise ValueError(f"{name}: {size} result elements are past the 2**31 a kernel "
                         f"indexes (int32)")
    check_bindable(name, x.device, views, [(size, x.dtype)])
    return Array._record(op, tuple(args), (size,), x.dtype, x.device)
