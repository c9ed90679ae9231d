"""sort and argsort: a stable bitonic sort of each row along the axis, on the device
(kernels in `_sort_kernels`), recorded lazily as one node whose op launches them."""
from __future__ import annotations

import math
import weakref

from ..execution import lazy
from ..execution.kernel import EmitOptions, build_kernel
from . import _dtypes as d
from . import _sort_kernels as K
from ._array import Array, check_axis
from ._info import default_int

MAX_ROW = 2 ** 30              # rows pad to a power of two, indexed with int32
MAX_ELEMENTS = 2 ** 31 - 2 ** 25   # grid-stride indices stay below 2**31

_kernels: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def kernel(ctx, key: tuple, generate):
    """The compiled kernel `generate(device)` of `ctx`, built once per `key`."""
    per_ctx = _kernels.setdefault(ctx, {})
    built = per_ctx.get(key)
    if built is None:
        limit = ctx.device.max_push_constant_size if ctx.codegen_target == "glsl" else 0
        ir_kernel = generate(ctx.device)
        built = per_ctx[key] = build_kernel(ctx, ir_kernel,
                                            EmitOptions(ctx.codegen_target, ir_kernel.name,
                                                        limit))
    return built


def launch(graph, kern, groups: int, buffers: list, values: dict) -> None:
    groups = max(1, min(groups, graph.context.device.max_workgroup_count[0]))
    packed = kern.packer.pack({name: values[name] for name in kern.uniform_names})
    graph.record_packed(kern, (groups, 1, 1), buffers, packed)


def _row_layout(view, shape: tuple, axis: int, prefix: str, values: dict) -> None:
    """The strides of `view` over the row dims (all but `axis`) as uniforms."""
    j = 0
    for a, s in enumerate(shape):
        if a != axis:
            values[f"{prefix}{j}"] = view.strides[a]
            j += 1


class _SortOp:
    """The lazy node op: args (Leaf x,); the result is x sorted along `axis`, or the
    indices that sort it (`indices`)."""
    __slots__ = ("key", "axis", "descending", "indices")

    def __init__(self, axis: int, descending: bool, indices: bool):
        self.key = ("sort", axis, descending, indices)
        self.axis, self.descending, self.indices = axis, descending, indices

    def record(self, graph, node) -> None:
        count = math.prod(node.shape)
        if count == 0:
            return
        (x,) = node.args
        ctx = graph.context
        shape, axis = x.shape, self.axis
        rank = len(shape)
        n = shape[axis]
        rows = count // n
        kt = K.key_type(x.dtype)
        c, w = K.tile_shape(ctx.device, kt)
        keys = lazy.allocate((count,), kt)
        idx = lazy.allocate((count,), d.int32)
        kb, ib = keys.storage.buffer, idx.storage.buffer
        xview = x.view
        xb = xview.storage.buffer
        padded = 1 << max(0, (n - 1).bit_length())
        dims = {f"d{j}": s for j, s in enumerate(s for a, s in enumerate(shape) if a != axis)}

        # sort tiles of C slots: whole rows (C/P of them) or C-long runs of one row
        seg = min(padded, c)
        tpr = -(-n // c) if padded > c else 1
        rpt = c // padded if padded <= c else 1
        tiles = -(-rows // rpt) * tpr
        values = {"rows": rows, "n": n, "seg": seg, "tpr": tpr, "rpt": rpt, "tiles": tiles,
                  "desc": int(self.descending), "xo": xview.offset,
                  "xa": xview.strides[axis], **dims}
        _row_layout(xview, shape, axis, "s", values)
        kern = kernel(ctx, ("tiles", rank, x.dtype, kt, c, w),
                      lambda dev: K.tiles_kernel(rank, x.dtype, kt, c, w, dev))
        launch(graph, kern, tiles, [kb, ib, xb], values)

        # merge runs of C into rows of P: passes at distance >= C over memory, the
        # rest of each merge in shared memory
        size = 2 * c
        if padded > c:
            step = kernel(ctx, ("step", kt, w), lambda dev: K.step_kernel(kt, w, dev))
            merge = kernel(ctx, ("merge", kt, c, w),
                           lambda dev: K.merge_kernel(kt, c, w, dev))
            pairs = rows * (padded // 2)
            groups = -(-pairs // w)
        while size <= padded:
            h, flip = size // 2, 1
            while h >= c:
                launch(graph, step, groups, [kb, ib],
                       {"n": n, "h": h, "flip": flip, "half": padded // 2, "total": pairs})
                h, flip = h // 2, 0
            launch(graph, merge, rows * tpr, [kb, ib],
                   {"n": n, "tpr": tpr, "tiles": rows * tpr})
            size *= 2

        # the result through the output's strides
        out = node.target
        src = None if self.indices else x.dtype
        values = {"total": count, "n": n, "oo": out.offset,
                  "oa": out.strides[axis], **dims}
        _row_layout(out, shape, axis, "so", values)
        buffers = [out.storage.buffer, ib]
        if src is not None:
            values.update(xo=xview.offset, xa=xview.strides[axis])
            _row_layout(xview, shape, axis, "sx", values)
            buffers.append(xb)
        kern = kernel(ctx, ("gather", rank, node.dtype, src, w),
                      lambda dev: K.gather_kernel(rank, node.dtype, src, w, dev))
        launch(graph, kern, -(-count // w), buffers, values)


def _check(x, axis, name: str) -> int:
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if x.dtype not in d.CATEGORY_SETS["real numeric"] and x.dtype is not d.bool:
        raise TypeError(f"{name} takes real numeric or boolean arrays, got {x.dtype.name} "
                        f"(complex numbers have no order)")
    axis = check_axis(axis, x.ndim)
    n = x.shape[axis]
    if n > MAX_ROW or math.prod(x.shape) > MAX_ELEMENTS:
        raise ValueError(f"{name}: rows of up to {MAX_ROW} elements and arrays of up to "
                         f"{MAX_ELEMENTS} elements are sorted (32-bit indexing), got shape "
                         f"{x.shape}")
    return axis


def check_bindable(name: str, device, views: list, counts: list) -> None:
    """Raise where memory the kernels bind (`views`' buffers, new buffers of (count,
    dtype)) is past what the device binds as one storage buffer."""
    limit = device.info.max_storage_buffer_range
    sizes = [v.storage.buffer.nbytes for v in views] + [c * t.itemsize for c, t in counts]
    if max(sizes) > limit:
        raise ValueError(f"{name}: {max(sizes)} bytes of memory are past the "
                         f"{limit} bytes {device} binds as one storage buffer")


def _sorted(x, axis, descending, stable, indices: bool, name: str) -> Array:
    axis = _check(x, axis, name)
    for arg, value in (("descending", descending), ("stable", stable)):
        if not isinstance(value, (bool, int)) and type(value).__name__ != "bool_":
            raise TypeError(f"{name}'s {arg} must be a bool, got {value!r}")
    t = default_int(x.device) if indices else x.dtype
    view = x._placed()
    count = math.prod(x.shape)
    check_bindable(name, x.device, [view], [(count, t), (count, K.key_type(x.dtype)),
                                            (count, d.int32)])
    arg = lazy.Leaf(view, x.shape, x.dtype)
    return Array._record(_SortOp(axis, bool(descending), indices), (arg,), x.shape, t,
                         x.device)


def sort(x, /, *, axis=-1, descending=False, stable=True) -> Array:
    # the sort is always stable: `stable=False` allows any order of equal elements
    return _sorted(x, axis, descending, stable, False, "sort")


def argsort(x, /, *, axis=-1, descending=False, stable=True) -> Array:
    return _sorted(x, axis, descending, stable, True, "argsort")
