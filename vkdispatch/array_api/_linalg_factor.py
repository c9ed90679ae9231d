"""The dense factorizations as lazy nodes: one node per call whose op launches a kernel
of `_linalg_kernels` and writes every result of the call into one flat contiguous
array (the caller views its parts: a contiguous prefix reshaped is a view), so a
factorization with several results (Q and R, sign and log|det|, a solution and its
per-matrix failure flags) is still one node."""
from __future__ import annotations

import math
import weakref

from ..execution import lazy
from ..execution.kernel import EmitOptions, build_kernel
from . import _dtypes as d
from . import _linalg_kernels as K
from ._array import Array
from ._elementwise import check_device_dtype
from ._sort_kernels import group_size

SHARED_BUDGET = 32 * 1024     # bytes of shared memory a workgroup may take (see sorting)
SMALL = 64                    # workspace elements of the small-matrix kernels
MEDIUM = 1024
SCRATCH_ELEMENTS = 2 ** 24    # global workspaces of one launch (bounds the scratch memory)
FLOATS = (d.float32, d.float64, d.complex64, d.complex128)

_kernels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def check_float(x, name: str, complex_ok: bool = True) -> None:
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    allowed = FLOATS if complex_ok else FLOATS[:2]
    if x.dtype not in allowed:
        kinds = "floating-point" if complex_ok else "real floating-point"
        raise TypeError(f"{name} takes {kinds} arrays ({', '.join(t.name for t in allowed)}),"
                        f" got {x.dtype.name}")
    check_device_dtype(x.device, x.dtype, name)


def workspace(device, t, elements: int) -> tuple:
    """(cap, w): shared workspace elements (0: global scratch) and invocations."""
    budget = (min(device.max_shared_memory, SHARED_BUDGET) - 16) // t.itemsize
    limit = group_size(device)
    for cap, w in ((SMALL, 64), (MEDIUM, 256), (budget, 256)):
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


class FactorOp:
    """The lazy node op: args (Leaf x[, Leaf rhs]); `kind` names the kernel ('lu',
    'cholesky', 'qr'), `mode` its variant, `values` its scalar arguments other than the
    batch and strides, `batch` the broadcast batch shape."""
    __slots__ = ("key", "kind", "mode", "values", "batch", "elements")

    def __init__(self, kind: str, mode: str, batch: tuple, values: dict, elements: int):
        self.kind, self.mode, self.batch, self.values = kind, mode, batch, values
        self.elements = elements
        self.key = ("linalg", kind, mode, batch, tuple(sorted(values.items())))

    def record(self, graph, node) -> None:
        count = math.prod(self.batch)
        if count == 0:
            return
        ctx = graph.context
        device, t, rank = ctx.device, node.dtype, len(self.batch)
        cap, w = workspace(device, t, self.elements)
        key = (self.kind, self.mode, t, rank, cap, w)
        per_ctx = _kernels.setdefault(ctx, {})
        kernel = per_ctx.get(key)
        if kernel is None:
            if self.kind == "lu":
                ir_kernel = K.lu_kernel(self.mode, t, rank, cap, w, device)
            elif self.kind == "cholesky":
                ir_kernel = K.cholesky_kernel(t, rank, cap, w, device)
            else:
                ir_kernel = K.qr_kernel(t, rank, cap, w, device)
            limit = device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
            kernel = per_ctx[key] = build_kernel(ctx, ir_kernel, EmitOptions(
                ctx.codegen_target, ir_kernel.name, limit))
        values = dict(self.values, count=count)
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
        if self.kind == "lu" and self.mode == "solve" and len(node.args) == 1:
            buffers.append(node.args[0].view.storage.buffer)   # inv: no rhs is read
            values.update({"bo": 0, **{f"bb{j}": 0 for j in range(rank)}})
        groups = min(count, device.max_workgroup_count[0])
        if cap == 0:
            groups = min(groups, max(1, SCRATCH_ELEMENTS // self.elements))
            scratch = lazy.allocate((groups * self.elements,), t)
            buffers.append(scratch.storage.buffer)
        packed = kernel.packer.pack({name: values[name] for name in kernel.uniform_names})
        graph.record_packed(kernel, (groups, 1, 1), buffers, packed)


def factor(kind: str, mode: str, x: Array, rhs, batch: tuple, values: dict,
           elements: int, size: int) -> Array:
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
    op = FactorOp(kind, mode, batch, values, elements)
    return Array._record(op, tuple(args), (size,), x.dtype, x.device)
