"""sort and argsort: a stable sort of each row along the axis, on the device, recorded
lazily as one node whose op launches its kernels: rows that fit a tile of shared
memory by a bitonic sort (`_sort_kernels`), longer rows (on CPU drivers: longer than
SERIAL_ABOVE) by an LSD radix sort (`_radix_kernels`; 64-bit keys on a device without
64-bit integers: bitonic merges between tiles)."""
from __future__ import annotations

import math

from ..execution import lazy
from ..execution.replay import prepare_op
from . import _dtypes as d
from . import _radix_kernels as R
from . import _sort_kernels as K
from ._array import Array, check_axis
from ._info import default_int
from ._kernels import KernelCache, grid, launch

MAX_ROW = 2 ** 30              # rows pad to a power of two, indexed with int32
MAX_ELEMENTS = 2 ** 31 - 2 ** 25   # grid-stride indices stay below 2**31

# rows longer than this take the radix sort (None: longer than a bitonic tile on GPUs,
# than SERIAL_ABOVE on CPU drivers, where the serial radix kernels beat the tile sort
# from about 300 elements a row on lavapipe and PoCL)
RADIX_ABOVE = None
SERIAL_ABOVE = 256
MAX_GROUPS_PER_ROW = 512     # radix histogram groups of tiles a row (its scan: 16 times as many;
#                               H200: 512 keeps the histogram as fast as 1024, and halves the scan)
WORKGROUPS_ON_CPU = False    # tests turn it on to run the GPU radix kernels on CPU drivers
SERIAL_GROUP, SERIAL_TILE = 64, 1024     # the serial radix kernels' workgroup and tile

_kernels = KernelCache()


class _SortOp:
    """The lazy node op: args (Leaf x,); the result is x sorted along `axis`, or the
    indices that sort it (`indices`), by `radix` (radix_variant's answer)."""
    __slots__ = ("key", "axis", "descending", "indices", "radix")

    def __init__(self, axis: int, descending: bool, indices: bool, radix):
        self.key = ("sort", axis, descending, indices, radix)
        self.axis, self.descending, self.indices = axis, descending, indices
        self.radix = radix

    def record(self, graph, node) -> None:
        if math.prod(node.shape) != 0:
            self.transform(graph, node, _memory(node), lazy.allocate)

    def prepare(self, ctx, node):
        return prepare_op(self, node, _memory)

    def transform(self, graph, node, memory, allocate) -> None:
        """Record the sort of node's input (memory: its buffer, the output's) with
        scratch memory from `allocate`."""
        count = math.prod(node.shape)
        (x,) = node.args
        ctx = graph.context
        kt = K.key_type(x.dtype)
        c, w = K.tile_shape(ctx.device, kt)
        rows = _Rows(x.shape, self.axis, c)
        if self.radix is not None:
            # values whose keys say all of them (integers, bools) move without indices
            pairs = (self.indices or self.radix == "serial"
                     or not (x.dtype in d.INTEGER or x.dtype is d.bool))
            scratch = _radix_sort(graph, x, rows, kt, w, self.descending,
                                  self.radix == "serial", allocate, pairs)
            if pairs:
                self._write(graph, node, x, rows, w, scratch[-1].storage.buffer)
            else:
                self._write_values(graph, node, rows, kt, w, scratch[-1].storage.buffer)
            return
        keys = allocate((count,), kt)       # scratch: rows of (key, index) pairs
        idx = allocate((count,), d.int32)
        kb, ib = keys.storage.buffer, idx.storage.buffer
        self._sort_tiles(graph, x, rows, kt, c, w, kb, ib)
        if rows.padded > c:
            _merge_tiles(graph, rows, kt, c, w, kb, ib)
        self._write(graph, node, x, rows, w, ib)

    def _sort_tiles(self, graph, x, rows, kt, c, w, kb, ib) -> None:
        """Tiles of C slots: whole rows (C/P of them) or C-long runs of one row."""
        view, rank = x.view, len(x.shape)
        values = {"rows": rows.count, "n": rows.n, "seg": min(rows.padded, c),
                  "tpr": rows.tiles_per_row, "rpt": max(1, c // rows.padded),
                  "tiles": rows.tiles, "desc": int(self.descending), "xo": view.offset,
                  "xa": view.strides[self.axis], **rows.dims}
        rows.strides(view, "s", values)
        ctx = graph.context
        kern = _kernels.get(ctx, ("tiles", rank, x.dtype, kt, c, w),
                            lambda dev: K.tiles_kernel(rank, x.dtype, kt, c, w, dev))
        launch(graph, kern, grid(ctx, rows.tiles), [kb, ib, view.storage.buffer], values)

    def _write(self, graph, node, x, rows, w, ib) -> None:
        """The result through the output's strides: the indices, or the elements."""
        out, rank, count = node.target, len(x.shape), math.prod(x.shape)
        src = None if self.indices else x.dtype
        values = {"total": count, "n": rows.n, "oo": out.offset,
                  "oa": out.strides[self.axis], **rows.dims}
        rows.strides(out, "so", values)
        buffers = [out.storage.buffer, ib]
        if src is not None:
            values.update(xo=x.view.offset, xa=x.view.strides[self.axis])
            rows.strides(x.view, "sx", values)
            buffers.append(x.view.storage.buffer)
        ctx = graph.context
        kern = _kernels.get(ctx, ("gather", rank, node.dtype, src, w),
                            lambda dev: K.gather_kernel(rank, node.dtype, src, w, dev))
        launch(graph, kern, grid(ctx, -(-count // w)), buffers, values)

    def _write_values(self, graph, node, rows, kt, w, kb) -> None:
        """The sorted elements through the output's strides, from their sorted keys."""
        out, rank, count = node.target, len(node.shape), math.prod(node.shape)
        values = {"total": count, "n": rows.n, "desc": int(self.descending),
                  "oo": out.offset, "oa": out.strides[self.axis], **rows.dims}
        rows.strides(out, "so", values)
        ctx = graph.context
        kern = _kernels.get(ctx, ("radix values", rank, node.dtype, kt, w),
                            lambda dev: R.values_kernel(rank, node.dtype, kt, w, dev))
        launch(graph, kern, grid(ctx, -(-count // w)), [out.storage.buffer, kb], values)


class _Rows:
    """The rows along `axis` of an array of `shape`: `count` rows of `n` elements,
    padded to `padded` (a power of two), in tiles of `c` slots."""

    def __init__(self, shape: tuple, axis: int, c: int):
        self.axis, self.shape = axis, shape
        self.n = shape[axis]
        self.count = math.prod(shape) // self.n
        self.padded = 1 << (self.n - 1).bit_length()
        self.tiles_per_row = -(-self.n // c) if self.padded > c else 1
        per_tile = max(1, c // self.padded)
        self.tiles = -(-self.count // per_tile) * self.tiles_per_row
        self.dims = {f"d{j}": s for j, s in enumerate(
            s for a, s in enumerate(shape) if a != axis)}

    def strides(self, view, prefix: str, values: dict) -> None:
        """The strides of `view` over the dims other than the axis, as uniforms."""
        j = 0
        for a in range(len(self.shape)):
            if a != self.axis:
                values[f"{prefix}{j}"] = view.strides[a]
                j += 1


def radix_variant(device, kt, n: int):
    """How rows of n elements with keys of type `kt` are sorted on `device` (its
    DeviceInfo): None (bitonic), "groups" (radix, workgroups ranking tiles in shared
    memory) or "serial" (radix, an invocation walking each tile: CPU drivers)."""
    serial = device.device_type == "cpu" and not WORKGROUPS_ON_CPU
    above = RADIX_ABOVE
    if above is None:
        above = SERIAL_ABOVE if serial else K.tile_shape(device, kt)[0]
    if n <= above or (kt.itemsize == 8 and not device.int64):
        return None
    return "serial" if serial else "groups"


def _radix_kernels(ctx, kt, serial: bool, pairs: bool = True) -> tuple:
    """(W, slots per tile, histogram, scatter) of a radix variant (the workgroup
    variant's scatter moves keys alone without `pairs`)."""
    if serial:
        w, slots = SERIAL_GROUP, SERIAL_TILE
        return (w, slots,
                _kernels.get(ctx, ("radix histogram serial", kt, w, slots),
                             lambda dev: R.serial_histogram_kernel(kt, w, slots, dev)),
                _kernels.get(ctx, ("radix scatter serial", kt, w, slots),
                             lambda dev: R.serial_scatter_kernel(kt, w, slots, dev)))
    w, e = R.tile_shape(ctx.device, kt)
    return (w, w * e,
            _kernels.get(ctx, ("radix histogram", kt, w, e),
                         lambda dev: R.histogram_kernel(kt, w, e, dev)),
            _kernels.get(ctx, ("radix scatter", kt, w, e, pairs),
                         lambda dev: R.scatter_kernel(kt, w, e, dev, pairs)))


def _memory(node) -> tuple:
    """The buffers a sort node's kernels read and write: its input's, its output's."""
    return node.args[0].view.storage.buffer, node.target.storage.buffer


def _radix_sort(graph, x, rows, kt, w, descending, serial: bool, allocate,
                pairs: bool = True) -> list:
    """Record the radix sort of x's rows into scratch memory from `allocate`; returns
    the scratch views, the last one holding the sorted indices (the sorted keys
    without `pairs`: keys alone move, for values their keys say all of)."""
    ctx = graph.context
    rw, slots, hist, scatter = _radix_kernels(ctx, kt, serial, pairs)
    count = rows.count * rows.n
    tpr = -(-rows.n // slots)
    per = -(-tpr // MAX_GROUPS_PER_ROW)
    gpr = -(-tpr // per)
    keys = [allocate((count,), kt) for _ in range(2)]
    idx = [allocate((count,), d.int32) for _ in range(2)] if pairs else []
    counts = allocate((rows.count * R.DIGITS * tpr,), d.int32)
    sums = allocate((rows.count * R.DIGITS * gpr,), d.int32)
    kb, ib = [v.storage.buffer for v in keys], [v.storage.buffer for v in idx]
    cb, sb = counts.storage.buffer, sums.storage.buffer
    view, rank = x.view, len(x.shape)
    values = {"total": count, "n": rows.n, "desc": int(descending), "xo": view.offset,
              "xa": view.strides[rows.axis], **rows.dims}
    rows.strides(view, "s", values)
    kern = _kernels.get(ctx, ("radix keys", rank, x.dtype, kt, w, pairs),
                        lambda dev: R.keys_kernel(rank, x.dtype, kt, w, dev, pairs))
    launch(graph, kern, grid(ctx, -(-count // w)), kb[:1] + ib[:1] + [view.storage.buffer],
           values)
    sw = rw if serial else R.scan_width(ctx.device)
    scan = _kernels.get(ctx, ("radix scan", sw), lambda dev: R.scan_kernel(sw, dev))
    values = {"n": rows.n, "tpr": tpr, "gpr": gpr, "per": per,
              "groups": rows.count * gpr, "tiles": rows.count * tpr,
              "rows": rows.count, "span": R.DIGITS * gpr}
    each = rw if serial else 1      # tiles (groups of tiles) a workgroup takes
    passes = R.passes(x.dtype)
    for p in range(passes):
        values["shift"] = p * R.RADIX_BITS
        src, dst = p % 2, 1 - p % 2
        launch(graph, hist, grid(ctx, -(-rows.count * gpr // each)), [kb[src], cb, sb], values)
        launch(graph, scan, grid(ctx, rows.count), [sb], values)
        moved = [kb[src], ib[src], kb[dst], ib[dst]] if pairs else [kb[src], kb[dst]]
        launch(graph, scatter, grid(ctx, -(-rows.count * tpr // each)), moved + [cb, sb],
               values)
    last = passes % 2     # the buffers the last pass wrote
    return keys + [counts, sums] + idx + [idx[last] if pairs else keys[last]]


def _merge_tiles(graph, rows, kt, c, w, kb, ib) -> None:
    """Merge sorted runs of C into sorted rows of P: each merge's passes at distances
    >= C over memory, the rest in shared memory."""
    ctx = graph.context
    step = _kernels.get(ctx, ("step", kt, w), lambda dev: K.step_kernel(kt, w, dev))
    merge = _kernels.get(ctx, ("merge", kt, c, w), lambda dev: K.merge_kernel(kt, c, w, dev))
    half = rows.padded // 2
    pairs = rows.count * half
    size = 2 * c
    while size <= rows.padded:
        h, flip = size // 2, 1
        while h >= c:
            launch(graph, step, grid(ctx, -(-pairs // w)), [kb, ib],
                   {"n": rows.n, "h": h, "flip": flip, "half": half, "total": pairs})
            h, flip = h // 2, 0
        launch(graph, merge, grid(ctx, rows.tiles), [kb, ib],
               {"n": rows.n, "tpr": rows.tiles_per_row, "tiles": rows.tiles})
        size *= 2


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
    radix = radix_variant(x.device.info, K.key_type(x.dtype), x.shape[axis])
    return Array._record(_SortOp(axis, bool(descending), indices, radix), (arg,), x.shape, t,
                         x.device)


def sort(x, /, *, axis=-1, descending=False, stable=True) -> Array:
    # the sort is always stable: `stable=False` allows any order of equal elements
    return _sorted(x, axis, descending, stable, False, "sort")


def argsort(x, /, *, axis=-1, descending=False, stable=True) -> Array:
    return _sorted(x, axis, descending, stable, True, "argsort")
