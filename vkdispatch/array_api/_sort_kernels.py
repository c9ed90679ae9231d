"""The generated kernels of sort, argsort and searchsorted.

Rows are sorted by a bitonic network whose comparators all put the smaller element at
the lower position (each merge first compares mirrored pairs, i with 2h-1-i, then
halves): a row of n elements padded to a power of two P keeps its padding (the largest
keys) in place, so padded slots are never stored and never read.

Elements are compared as (key, original index) pairs, which makes the network stable.
A key is an unsigned integer of 32 or 64 bits whose order is the value order: floats
map their bits so that -0.0 and +0.0 meet and every NaN is the largest key (NumPy's
order), signed integers flip the sign bit, and a descending sort inverts the key (NaNs
then come first, as array-api-strict's descending sort puts them).

- `tiles`: one workgroup per tile of C slots in shared memory, read from the input
  through its strides; sorts the tile's rows (C/P of them) or, for P > C, its C-long
  run of a row. Writes keys and indices to scratch memory (rows of n, contiguous).
- `step`: one compare-exchange pass of a merge over scratch, pairs h >= C apart.
- `merge`: a tile's last log2(C) passes of a merge (pairs closer than C) in shared memory.
  (Longer rows take the radix sort of `_radix_kernels`; the merges sort them only
  where it cannot run: 64-bit keys on a device without 64-bit integers.)
- `gather`: the result, through the output's strides: the index, or the input element
  it names.
- `search`: a binary search per element of x2 in 1-D x1 (through a sorter).
"""
from __future__ import annotations

import contextlib

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type
from . import _dtypes as d
from . import _element_kernel as element_kernel

PAD_INDEX = 2 ** 31 - 1       # index of a padded slot: after every element of equal key
MAX_TILE = 4096
MAX_GROUP = 256
SHARED_BUDGET = 32 * 1024     # per workgroup: under every target's static limit, two fit an SM


def key_type(t):
    """The unsigned key type of elements of dtype `t`."""
    return d.uint64 if t.itemsize == 8 else d.uint32


def tile_shape(device, kt) -> tuple:
    """(C, W): slots per tile (a power of two) and invocations per workgroup that
    `device` can run with keys of type `kt`."""
    budget = min(device.max_shared_memory, SHARED_BUDGET)
    c = MAX_TILE
    while c > 2 and c * (kt.itemsize + 4) > budget:
        c //= 2
    return c, min(group_size(device), c // 2)


def group_size(device) -> int:
    """Invocations per workgroup of the element-wise kernels (a power of two)."""
    limit = min(device.max_workgroup_invocations, device.max_workgroup_size[0], MAX_GROUP)
    return 1 << (limit.bit_length() - 1)


def _lit(v, t):
    return ir.Lit(v, t)


def _e(op, *args):
    return ops.make(op, *args)


def _i32(node):
    return convert(node, d.int32)


def _invocation(name):
    return _i32(ops.make("swizzle", ops.make("builtin", attrs=(name,), dtype=dt.uvec3),
                         attrs=("x",)))


def sort_key(b, value, t, kt):
    """The key (of type `kt`) of `value`, an element of dtype `t`, in ascending order."""
    bits = kt.itemsize * 8
    sign = _lit(1 << (bits - 1), kt)
    if t is d.bool:
        return b.bind(ops.make("select", value, _lit(1, kt), _lit(0, kt)))
    if t in d.UNSIGNED:
        return b.bind(convert(value, kt))
    if t in d.SIGNED:
        wide = d.int64 if bits == 64 else d.int32
        return b.bind(_e("bit_xor", ops.make("bitcast", convert(value, wide), dtype=kt), sign))
    raw = b.bind(ops.make("bitcast", value, dtype=kt))
    mag = b.bind(_e("bit_and", raw, _lit((1 << (bits - 1)) - 1, kt)))
    inf = _lit(0x7FF0000000000000 if bits == 64 else 0x7F800000, kt)
    ordered = ops.make("select", _e("ge", raw, sign), _e("bit_not", raw),
                       _e("bit_or", raw, sign))
    ordered = ops.make("select", _e("eq", mag, _lit(0, kt)), sign, ordered)
    return b.bind(ops.make("select", _e("gt", mag, inf), _lit((1 << bits) - 1, kt), ordered))


def _rem(b, a, m):
    """a % m for a >= 0, m > 0 (no floor-modulo fix-up)."""
    return b.bind(_e("sub", a, _e("mul", _e("div", a, m), m)))


def _directed(key, desc):
    return ops.make("select", _e("ne", desc, _lit(0, d.int32)), _e("bit_not", key), key)


def _row_offset(b, row, dims, strides, offset):
    """offset + the row's coordinates (row-major over `dims`) times `strides`."""
    total, rem = offset, row
    for j in reversed(range(len(dims))):
        c = _rem(b, rem, dims[j])
        total = _e("add", total, _e("mul", c, strides[j]))
        if j:
            rem = b.bind(_e("div", rem, dims[j]))
    return b.bind(total)


def _while(b, cond_of, mutable_init):
    """A `while (cond_of(v))` loop over a new mutable `v`: (v, the body to fill)."""
    v = b.bind(mutable_init, mutable=True)
    loop = ir.While([], cond_of(v), [])
    b.emit(loop)
    return v, loop.body


def _exchange(b, keys, idx, i, p, kt):
    """Order slots i < p of (keys, idx) arrays (buffers or shared) by (key, index)."""
    ref = lambda arr, at, t: ops.make("index", arr, at, dtype=t)   # noqa: E731
    ka, kb = b.bind(ref(keys, i, kt)), b.bind(ref(keys, p, kt))
    ia, ib = b.bind(ref(idx, i, d.int32)), b.bind(ref(idx, p, d.int32))
    later = _e("logical_or", _e("gt", ka, kb),
               _e("logical_and", _e("eq", ka, kb), _e("gt", ia, ib)))
    body = []
    b.emit(ir.If(later, body))
    with b.nested(body, "swap"):
        b.emit(ir.Assign(ref(keys, i, kt), kb))
        b.emit(ir.Assign(ref(keys, p, kt), ka))
        b.emit(ir.Assign(ref(idx, i, d.int32), ib))
        b.emit(ir.Assign(ref(idx, p, d.int32), ia))


def _pair(b, q, h, flip: bool):
    """Slots (i, p) of pair q of a pass at distance h: mirrored in blocks of 2h
    (`flip`) or h apart."""
    r = b.bind(_e("bit_and", q, _e("sub", h, _lit(1, d.int32))))
    start = b.bind(_e("mul", _e("sub", q, r), _lit(2, d.int32)))
    i = b.bind(_e("add", start, r))
    if flip:
        p = b.bind(_e("sub", _e("add", start, _e("mul", h, _lit(2, d.int32))),
                      _e("add", r, _lit(1, d.int32))))
    else:
        p = b.bind(_e("add", i, h))
    return i, p


def _strided(b, lid, count: int, w: int, what: str):
    """for (s = lid; s < count; s += w): yields s inside the loop (count, w literals)."""
    s = b.new_var(d.int32, name="s")
    loop = ir.For(s, lid, _lit(count, d.int32), _lit(w, d.int32), [])
    b.emit(loop)
    with b.nested(loop.body, what):
        yield s


def _shared_pass(b, sk, si, lid, h, flip, c, w, kt):
    """One pass over a tile in shared memory, then a barrier."""
    for q in _strided(b, lid, c // 2, w, "pairs"):
        i, p = _pair(b, q, h, flip)
        _exchange(b, sk, si, i, p, kt)
    b.emit(ir.Eval(ops.make("barrier")))


def _params(b, names_types):
    out = []
    for name, t in names_types:
        var = b.new_var(t, ir.BUFFER, name=name, mutable=True)
        b.add_param(name, "buffer", var)
        out.append(var)
    return out


def _store_slot(b, keys, idx, sk, si, s, valid, kt, position):
    """keys[at], idx[at] = slot s of the tile in shared memory (sk, si) where `valid`;
    `position()` gives `at`, emitted inside the guard."""
    then = []
    b.emit(ir.If(valid, then))
    with b.nested(then, "store"):
        at = position()
        b.emit(ir.Assign(ops.make("index", keys, at, dtype=kt),
                         ops.make("index", sk, s, dtype=kt)))
        b.emit(ir.Assign(ops.make("index", idx, at, dtype=d.int32),
                         ops.make("index", si, s, dtype=d.int32)))


def tiles_kernel(rank: int, src, kt, c: int, w: int, device) -> ir.Kernel:
    """Sort each tile of the rows of x (strided, `rank` dims) and write (key, index)."""
    b = Builder("vkd_sort_tiles", device)
    with b.active():
        keys, idx = _params(b, (("keys", kt), ("idx", d.int32)))
        (x,) = _params(b, (("x", src),))
        u = {name: element_kernel.uniform(b, name) for name in
             ("rows", "n", "seg", "tpr", "rpt", "tiles", "desc", "xo", "xa")}
        dims = [element_kernel.uniform(b, f"d{j}") for j in range(rank - 1)]
        strides = [element_kernel.uniform(b, f"s{j}") for j in range(rank - 1)]
        sk, si = b.add_shared(kt, c, "sk"), b.add_shared(d.int32, c, "si")
        lid = b.bind(_invocation("local_invocation_id"))
        groups = b.bind(_invocation("num_workgroups"))
        t, body = _while(b, lambda v: _e("lt", v, u["tiles"]), _invocation("workgroup_id"))
        with b.nested(body, "tile loop"):
            tile_row = b.bind(_e("mul", _e("div", t, u["tpr"]), u["rpt"]))
            tile_col = b.bind(_e("mul", _rem(b, t, u["tpr"]), _lit(c, d.int32)))

            def slot(s):
                row = b.bind(_e("add", tile_row, _e("div", s, u["seg"])))
                col = b.bind(_e("add", tile_col, _e("bit_and", s, _e("sub", u["seg"],
                                                                    _lit(1, d.int32)))))
                valid = b.bind(_e("logical_and", _e("lt", row, u["rows"]),
                                  _e("lt", col, u["n"])))
                return row, col, valid

            for s in _strided(b, lid, c, w, "load"):
                row, col, valid = slot(s)
                key = b.bind(_lit((1 << (kt.itemsize * 8)) - 1, kt), mutable=True)
                ix = b.bind(_lit(PAD_INDEX, d.int32), mutable=True)
                then = []
                b.emit(ir.If(valid, then))
                with b.nested(then, "load"):
                    base = _row_offset(b, row, dims, strides, u["xo"])
                    at = _e("add", base, _e("mul", col, u["xa"]))
                    v = b.bind(load_node(ops.make("index", x, at, dtype=storage_type(src))))
                    b.emit(ir.Assign(key, _directed(sort_key(b, v, src, kt), u["desc"])))
                    b.emit(ir.Assign(ix, col))
                b.emit(ir.Assign(ops.make("index", sk, s, dtype=kt), key))
                b.emit(ir.Assign(ops.make("index", si, s, dtype=d.int32), ix))
            b.emit(ir.Eval(ops.make("barrier")))
            size, merges = _while(b, lambda v: _e("le", v, u["seg"]), _lit(2, d.int32))
            with b.nested(merges, "merge loop"):
                _shared_pass(b, sk, si, lid, b.bind(_e("div", size, _lit(2, d.int32))), True,
                             c, w, kt)
                h, halves = _while(b, lambda v: _e("gt", v, _lit(0, d.int32)),
                                   _e("div", size, _lit(4, d.int32)))
                with b.nested(halves, "half loop"):
                    _shared_pass(b, sk, si, lid, h, False, c, w, kt)
                    b.emit(ir.Assign(h, _e("div", h, _lit(2, d.int32))))
                b.emit(ir.Assign(size, _e("mul", size, _lit(2, d.int32))))
            for s in _strided(b, lid, c, w, "store"):
                row, col, valid = slot(s)
                _store_slot(b, keys, idx, sk, si, s, valid, kt,
                            lambda: b.bind(_e("add", _e("mul", row, u["n"]), col)))
            b.emit(ir.Assign(t, _e("add", t, groups)))
    return b.finish((w, 1, 1))


def _grid_loop(b, w, total):
    """for (e = global id; e < total; e += invocations): yields (e, body)."""
    groups = b.bind(_invocation("num_workgroups"))
    stride = b.bind(_e("mul", groups, _lit(w, d.int32)))
    e, body = _while(b, lambda v: _e("lt", v, total), _invocation("global_invocation_id"))
    return e, body, stride


def _row_uniforms(b, prefix: str, rank: int) -> list:
    """Uniforms `prefix`0.. of the dims other than the rows' axis."""
    return [element_kernel.uniform(b, f"{prefix}{j}") for j in range(rank - 1)]


@contextlib.contextmanager
def _row_elements(b, w: int, total, n):
    """The body of a grid-stride loop over `total` elements of rows of `n`: yields
    (element, its row, its place in the row); the step comes after the body."""
    e, body, stride = _grid_loop(b, w, total)
    with b.nested(body, "element loop"):
        row = b.bind(_e("div", e, n))
        yield e, row, b.bind(_e("sub", e, _e("mul", row, n)))
        b.emit(ir.Assign(e, _e("add", e, stride)))


def step_kernel(kt, w: int, device) -> ir.Kernel:
    """One pass of a merge over scratch rows: pairs h apart (or mirrored, `flip`)."""
    b = Builder("vkd_sort_step", device)
    with b.active():
        keys, idx = _params(b, (("keys", kt), ("idx", d.int32)))
        u = {name: element_kernel.uniform(b, name) for name in
             ("n", "h", "flip", "half", "total")}
        e, body, stride = _grid_loop(b, w, u["total"])
        with b.nested(body, "pair loop"):
            row = b.bind(_e("div", e, u["half"]))
            q = b.bind(_e("sub", e, _e("mul", row, u["half"])))
            r = b.bind(_e("bit_and", q, _e("sub", u["h"], _lit(1, d.int32))))
            start = b.bind(_e("mul", _e("sub", q, r), _lit(2, d.int32)))
            i = b.bind(_e("add", start, r))
            mirrored = _e("sub", _e("add", start, _e("mul", u["h"], _lit(2, d.int32))),
                          _e("add", r, _lit(1, d.int32)))
            p = b.bind(ops.make("select", _e("ne", u["flip"], _lit(0, d.int32)), mirrored,
                                _e("add", i, u["h"])))
            then = []
            b.emit(ir.If(_e("lt", p, u["n"]), then))
            with b.nested(then, "pair"):
                base = b.bind(_e("mul", row, u["n"]))
                _exchange(b, keys, idx, b.bind(_e("add", base, i)),
                          b.bind(_e("add", base, p)), kt)
            b.emit(ir.Assign(e, _e("add", e, stride)))
    return b.finish((w, 1, 1))


def merge_kernel(kt, c: int, w: int, device) -> ir.Kernel:
    """The passes of a merge at distances c/2 .. 1, one tile of a row per workgroup."""
    b = Builder("vkd_sort_merge", device)
    with b.active():
        keys, idx = _params(b, (("keys", kt), ("idx", d.int32)))
        u = {name: element_kernel.uniform(b, name) for name in ("n", "tpr", "tiles")}
        sk, si = b.add_shared(kt, c, "sk"), b.add_shared(d.int32, c, "si")
        lid = b.bind(_invocation("local_invocation_id"))
        groups = b.bind(_invocation("num_workgroups"))
        t, body = _while(b, lambda v: _e("lt", v, u["tiles"]), _invocation("workgroup_id"))
        with b.nested(body, "tile loop"):
            row = b.bind(_e("div", t, u["tpr"]))
            col0 = b.bind(_e("mul", _e("sub", t, _e("mul", row, u["tpr"])), _lit(c, d.int32)))
            base = b.bind(_e("mul", row, u["n"]))

            def slot(s):
                col = b.bind(_e("add", col0, s))
                return b.bind(_e("lt", col, u["n"])), b.bind(_e("add", base, col))

            for s in _strided(b, lid, c, w, "load"):
                valid, at = slot(s)
                key = b.bind(_lit((1 << (kt.itemsize * 8)) - 1, kt), mutable=True)
                ix = b.bind(_lit(PAD_INDEX, d.int32), mutable=True)
                then = []
                b.emit(ir.If(valid, then))
                with b.nested(then, "load"):
                    b.emit(ir.Assign(key, ops.make("index", keys, at, dtype=kt)))
                    b.emit(ir.Assign(ix, ops.make("index", idx, at, dtype=d.int32)))
                b.emit(ir.Assign(ops.make("index", sk, s, dtype=kt), key))
                b.emit(ir.Assign(ops.make("index", si, s, dtype=d.int32), ix))
            b.emit(ir.Eval(ops.make("barrier")))
            h, halves = _while(b, lambda v: _e("gt", v, _lit(0, d.int32)), _lit(c // 2, d.int32))
            with b.nested(halves, "half loop"):
                _shared_pass(b, sk, si, lid, h, False, c, w, kt)
                b.emit(ir.Assign(h, _e("div", h, _lit(2, d.int32))))
            for s in _strided(b, lid, c, w, "store"):
                valid, at = slot(s)
                _store_slot(b, keys, idx, sk, si, s, valid, kt, lambda: at)
            b.emit(ir.Assign(t, _e("add", t, groups)))
    return b.finish((w, 1, 1))


def gather_kernel(rank: int, out_t, src, w: int, device) -> ir.Kernel:
    """out (strided) = the sorted indices as `out_t` (src None), or the elements of x
    (dtype `src`, strided) they name."""
    b = Builder("vkd_sort_gather", device)
    with b.active():
        out, idx = _params(b, (("out", out_t), ("idx", d.int32)))
        x = _params(b, (("x", src),))[0] if src is not None else None
        names = ["total", "n", "oo", "oa"] + (["xo", "xa"] if src is not None else [])
        u = {name: element_kernel.uniform(b, name) for name in names}
        dims, ostr = _row_uniforms(b, "d", rank), _row_uniforms(b, "so", rank)
        xstr = _row_uniforms(b, "sx", rank) if src is not None else []
        with _row_elements(b, w, u["total"], u["n"]) as (e, row, col):
            k = b.bind(ops.make("index", idx, e, dtype=d.int32))
            where = _e("add", _row_offset(b, row, dims, ostr, u["oo"]),
                       _e("mul", col, u["oa"]))
            if src is None:
                value = convert(k, out_t)
            else:
                at = _e("add", _row_offset(b, row, dims, xstr, u["xo"]), _e("mul", k, u["xa"]))
                value = ops.make("index", x, at, dtype=storage_type(src))
            b.emit(ir.Assign(ops.make("index", out, where, dtype=storage_type(out_t)), value))
    return b.finish((w, 1, 1))


def search_kernel(rank: int, t, t1, t2, sorter_t, out_t, w: int, device) -> ir.Kernel:
    """out[j] = the insertion point of x2[j] (strided, `rank` dims) in x1 (1-D, strided,
    read through `sorter` when sorter_t is not None), both compared as dtype t."""
    b = Builder("vkd_searchsorted", device)
    with b.active():
        kt = key_type(t)
        out, x1, x2 = _params(b, (("out", out_t), ("x1", t1), ("x2", t2)))
        sorter = _params(b, (("sorter", sorter_t),))[0] if sorter_t is not None \
            else None
        names = ["total", "m", "right", "oo", "o1", "s1", "o2"] + \
            (["os", "ss"] if sorter is not None else [])
        u = {name: element_kernel.uniform(b, name) for name in names}
        dims = [element_kernel.uniform(b, f"d{j}") for j in range(rank)]
        ostr = [element_kernel.uniform(b, f"so{j}") for j in range(rank)]
        xstr = [element_kernel.uniform(b, f"sx{j}") for j in range(rank)]
        e, body, stride = _grid_loop(b, w, u["total"])
        with b.nested(body, "element loop"):
            where = _row_offset(b, e, dims, ostr, u["oo"])
            at2 = _row_offset(b, e, dims, xstr, u["o2"])
            v2 = load_node(ops.make("index", x2, at2, dtype=storage_type(t2)))
            key = sort_key(b, b.bind(convert(v2, t)), t, kt)
            lo = b.bind(_lit(0, d.int32), mutable=True)
            hi = b.bind(u["m"], mutable=True)
            loop = ir.While([], _e("lt", lo, hi), [])
            b.emit(loop)
            with b.nested(loop.body, "binary search"):
                mid = b.bind(_e("add", lo, _e("div", _e("sub", hi, lo), _lit(2, d.int32))))
                pos = mid
                if sorter is not None:
                    ref = ops.make("index", sorter, _e("add", u["os"], _e("mul", mid, u["ss"])),
                                   dtype=storage_type(sorter_t))
                    # an index outside x1 reads its nearest end (the result is then
                    # unspecified, the memory access stays in range)
                    pos = b.bind(_e("min", _e("max", convert(ref, d.int32), _lit(0, d.int32)),
                                    _e("sub", u["m"], _lit(1, d.int32))))
                v1 = load_node(ops.make("index", x1, _e("add", u["o1"], _e("mul", pos, u["s1"])),
                                        dtype=storage_type(t1)))
                k1 = sort_key(b, b.bind(convert(v1, t)), t, kt)
                before = ops.make("select", _e("ne", u["right"], _lit(0, d.int32)),
                                  _e("le", k1, key), _e("lt", k1, key))
                then, orelse = [], []
                b.emit(ir.If(before, then, orelse))
                with b.nested(then, "right half"):
                    b.emit(ir.Assign(lo, _e("add", mid, _lit(1, d.int32))))
                with b.nested(orelse, "left half"):
                    b.emit(ir.Assign(hi, mid))
            b.emit(ir.Assign(ops.make("index", out, where, dtype=storage_type(out_t)),
                             convert(lo, out_t)))
            b.emit(ir.Assign(e, _e("add", e, stride)))
    return b.finish((w, 1, 1))
