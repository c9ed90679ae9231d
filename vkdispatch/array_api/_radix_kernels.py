"""The generated kernels of the radix sort of rows longer than a sort tile: a stable
LSD radix sort of (key, index) pairs on digits of RADIX_BITS bits, each row in tiles
of T = W * E slots (W invocations, E slots each).

A pass over digit `shift`:
- `histogram`: one workgroup per group of G consecutive tiles of a row; writes each
  tile's digit counts as a prefix within its group, counts[row][digit][tile], and the
  group's totals, sums[row][digit][group].
- `scan`: one workgroup per row; the exclusive prefix sums of sums[row] in its
  [digit][group] order (offsets stay inside the row).
- `scatter`: one workgroup per tile; ranks the tile's elements by digit in shared
  memory, stably, and writes each at sums + counts of its digit + its rank in the tile.

Ranks: invocation i holds slots i*E .. i*E+E-1 of the tile (their order is the
tile's), counts them in its column of a [digit][invocation] table, and an exclusive
scan of the table in that order gives each element its place. Two digits share a
32-bit counter (low and high 16 bits; a tile has fewer than 2**15 slots), so the
table has 8 rows of W. The scans are trees of fan-in 8 in shared memory (few
barriers: CPU drivers pay for each).

`keys`: the first pass's input: the key of each element (strided x) and its index.
Narrow signed integers get keys of their width (value + 2**(bits-1)), so a key type's
passes cover only the bits that vary: 1 for bool, 2 for 8-bit, 4 for 16-bit integers,
8 for 32-bit and 16 for 64-bit types."""
from __future__ import annotations

from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type, store_value
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._sort_kernels import (MAX_GROUP, PAD_INDEX, SHARED_BUDGET, _directed, _e, _grid_loop,
                            _i32, _invocation, _lit, _params, _row_elements, _row_offset,
                            _row_uniforms, _while, group_size, sort_key)

RADIX_BITS = 4
DIGITS = 1 << RADIX_BITS
HALF = DIGITS // 2           # digits d and d + HALF share a counter
FAN = 8                      # fan-in of the shared-memory trees
MAX_SLOTS = 8                # E: slots per invocation


def key_bits(t) -> int:
    """The bits of `t`'s radix key that vary."""
    return 1 if t is d.bool else t.itemsize * 8


def passes(t) -> int:
    return -(-key_bits(t) // RADIX_BITS)


def radix_key(b, value, t, kt):
    """The ascending key of `value` (dtype `t`) as `kt`; varies in key_bits(t) bits."""
    if t in d.SIGNED and t.itemsize < 4:
        wide = _e("add", convert(value, d.int32), _lit(1 << (t.itemsize * 8 - 1), d.int32))
        return b.bind(ops.make("bitcast", wide, dtype=kt))
    return sort_key(b, value, t, kt)


def _shared_bytes(w: int, e: int, kt) -> int:
    """The scatter kernel's shared memory: the tile, the counters and their tree."""
    words = _pad(HALF * w) + sum(_levels(HALF * w, 1)[1:]) + DIGITS
    return _pad(w * e) * (kt.itemsize + 4) + 4 * words


def tile_shape(device, kt) -> tuple:
    """(W, E): invocations per workgroup and slots per invocation of the radix kernels
    on `device` for keys of type `kt` (shared memory within the sort's budget)."""
    budget = min(device.max_shared_memory, SHARED_BUDGET)
    w, e = min(group_size(device), MAX_GROUP), MAX_SLOTS
    while _shared_bytes(w, e, kt) > budget and (e > 2 or w > DIGITS):
        if e > 2:
            e //= 2
        else:
            w //= 2
    if w < DIGITS:
        raise ValueError(f"the radix sort needs workgroups of at least {DIGITS} invocations, "
                         f"{device.name} runs {w}")
    return w, e


def _pad(i):
    """Shared-memory index of slot i: one word skipped every 32 spreads strided accesses
    over the banks."""
    if isinstance(i, int):
        return i + (i >> 5)
    return _e("add", i, _e("shr", i, _lit(5, d.int32)))


def _levels(first: int, last: int) -> list:
    """Entry counts of a tree's levels from `first` down to `last` (fan-in <= FAN)."""
    sizes = [first]
    while sizes[-1] > last:
        sizes.append(sizes[-1] // min(FAN, sizes[-1] // last))
    return sizes


def _at(arr, i, t=d.int32):
    return ops.make("index", arr, i, dtype=t)


def _barrier(b):
    b.emit(ir.Eval(ops.make("barrier")))


def _if(b, cond, what: str):
    body = []
    b.emit(ir.If(cond, body))
    return b.nested(body, what)


class _Tree:
    """A tree over `first` entries of level 0 (shared int32, reached by `at0(i)`), its
    upper levels down to `last` entries in one shared array."""

    def __init__(self, b, lid, at0, first: int, last: int, name: str):
        self.b, self.lid = b, lid
        self.sizes = _levels(first, last)
        self.store = b.add_shared(d.int32, max(1, sum(self.sizes[1:])), name)
        offsets, o = [], 0
        for m in self.sizes[1:]:
            offsets.append(o)
            o += m
        self.at = [at0] + [lambda i, o=o: _at(self.store, _e("add", i, _lit(o, d.int32)))
                           for o in offsets]

    def up(self) -> None:
        """Each upper level's entries: sums of the level below (barrier after each)."""
        b, lid = self.b, self.lid
        for k in range(len(self.sizes) - 1):
            m, f = self.sizes[k + 1], self.sizes[k] // self.sizes[k + 1]
            with _if(b, _e("lt", lid, _lit(m, d.int32)), "tree up"):
                first = b.bind(_e("mul", lid, _lit(f, d.int32)))
                total = self.at[k](first)
                for i in range(1, f):
                    total = _e("add", total, self.at[k](_e("add", first, _lit(i, d.int32))))
                b.emit(ir.Assign(self.at[k + 1](lid), total))
            _barrier(b)

    def down(self) -> None:
        """Every level below the top (a single total, kept) in place: exclusive prefix
        sums in order (barrier after each)."""
        b, lid = self.b, self.lid
        top = len(self.sizes) - 1
        for k in reversed(range(top)):
            m, f = self.sizes[k + 1], self.sizes[k] // self.sizes[k + 1]
            with _if(b, _e("lt", lid, _lit(m, d.int32)), "tree down"):
                run = b.bind(_lit(0, d.int32) if k + 1 == top else self.at[k + 1](lid),
                             mutable=True)
                first = b.bind(_e("mul", lid, _lit(f, d.int32)))
                for i in range(f):
                    at = b.bind(_e("add", first, _lit(i, d.int32)))
                    v = b.bind(self.at[k](at))
                    b.emit(ir.Assign(self.at[k](at), run))
                    b.emit(ir.Assign(run, _e("add", run, v)))
            _barrier(b)


def _digit(b, key, shift, kt):
    return b.bind(_i32(_e("bit_and", _e("shr", key, shift), _lit(DIGITS - 1, kt))))


def _packed(b, digit):
    """(counter row of `digit`, its one in the counter, its half's shift)."""
    high = b.bind(_e("ge", digit, _lit(HALF, d.int32)))
    return (b.bind(_e("bit_and", digit, _lit(HALF - 1, d.int32))),
            b.bind(ops.make("select", high, _lit(1 << 16, d.int32), _lit(1, d.int32))),
            b.bind(ops.make("select", high, _lit(16, d.int32), _lit(0, d.int32))))


def _half(v, shift):
    return _e("bit_and", _e("shr", v, shift), _lit(0xFFFF, d.int32))


class _Counters:
    """The [counter row][invocation] table (8 x W, padded) of one tile's digits."""

    def __init__(self, b, lid, w: int):
        self.b, self.lid, self.w = b, lid, w
        self.table = b.add_shared(d.int32, _pad(HALF * w), "counters")

    def at(self, i):
        return _at(self.table, _pad(i))

    def cell(self, row):
        """This invocation's counter in `row`."""
        return self.at(_e("add", _e("mul", row, _lit(self.w, d.int32)), self.lid))

    def clear(self) -> None:
        for r in range(HALF):
            self.b.emit(ir.Assign(self.cell(_lit(r, d.int32)), _lit(0, d.int32)))

    def count(self, digit) -> None:
        row, one, _ = _packed(self.b, digit)
        self.b.emit(ir.Assign(self.cell(row), _e("add", self.cell(row), one)))


def _uniforms(b, names):
    return {name: element_kernel.uniform(b, name) for name in names}


def _histogram_params(b, kt) -> tuple:
    """A histogram kernel's (keys, counts, sums, uniforms, digit shift as kt)."""
    keys, counts, sums = _params(b, (("keys", kt), ("counts", d.int32), ("sums", d.int32)))
    u = _uniforms(b, ("n", "tpr", "gpr", "per", "groups", "shift"))
    return keys, counts, sums, u, b.bind(convert(u["shift"], kt))


def _scatter_params(b, kt, pairs: bool = True) -> tuple:
    """A scatter kernel's (keys, idx, keys_out, idx_out, counts, sums, uniforms, digit
    shift as kt); idx and idx_out None without `pairs`."""
    if pairs:
        keys, idx, keys_out, idx_out = _params(b, (("keys", kt), ("idx", d.int32),
                                                   ("keys_out", kt), ("idx_out", d.int32)))
    else:
        (keys, keys_out), idx, idx_out = _params(b, (("keys", kt), ("keys_out", kt))), None, None
    counts, sums = _params(b, (("counts", d.int32), ("sums", d.int32)))
    u = _uniforms(b, ("n", "tpr", "gpr", "per", "tiles", "shift"))
    return keys, idx, keys_out, idx_out, counts, sums, u, b.bind(convert(u["shift"], kt))


def _split(b, i, per) -> tuple:
    """(i // per, i % per) of non-negative i: a row and the position in it."""
    row = b.bind(_e("div", i, per))
    return row, b.bind(_e("sub", i, _e("mul", row, per)))


def keys_kernel(rank: int, src, kt, w: int, device, pairs: bool = True) -> ir.Kernel:
    """keys[e], idx[e] = the directed radix key of element e of the rows of x (strided,
    `rank` dims; rows of n along the axis, row-major) and its index in its row (no idx
    without `pairs`)."""
    b = Builder("vkd_radix_keys", device)
    with b.active():
        (keys,) = _params(b, (("keys", kt),))
        idx = _params(b, (("idx", d.int32),))[0] if pairs else None
        (x,) = _params(b, (("x", src),))
        u = _uniforms(b, ("total", "n", "desc", "xo", "xa"))
        dims, strides = _row_uniforms(b, "d", rank), _row_uniforms(b, "s", rank)
        with _row_elements(b, w, u["total"], u["n"]) as (e, row, col):
            at = _e("add", _row_offset(b, row, dims, strides, u["xo"]), _e("mul", col, u["xa"]))
            v = b.bind(load_node(_at(x, at, storage_type(src))))
            b.emit(ir.Assign(_at(keys, e, kt), _directed(radix_key(b, v, src, kt), u["desc"])))
            if pairs:
                b.emit(ir.Assign(_at(idx, e), col))
    return b.finish((w, 1, 1))


def value_of_key(b, key, t, kt):
    """The element of integer or bool dtype `t` whose radix key (radix_key) is `key`."""
    bits = kt.itemsize * 8
    if t is d.bool:
        return b.bind(_e("ne", key, _lit(0, kt)))
    if t in d.UNSIGNED:
        return b.bind(convert(key, t))
    if t.itemsize < 4:     # narrow signed: value + 2**(bits-1), as kt
        wide = ops.make("bitcast", key, dtype=d.int32)
        return b.bind(convert(_e("sub", wide, _lit(1 << (t.itemsize * 8 - 1), d.int32)), t))
    wide = d.int64 if bits == 64 else d.int32
    flipped = _e("bit_xor", key, _lit(1 << (bits - 1), kt))
    return b.bind(convert(ops.make("bitcast", flipped, dtype=wide), t))


def values_kernel(rank: int, t, kt, w: int, device) -> ir.Kernel:
    """out (strided, `rank` dims, rows of n along the axis) = the elements of integer or
    bool dtype `t` whose directed keys the sorted rows of `keys` hold."""
    b = Builder("vkd_radix_values", device)
    with b.active():
        out, keys = _params(b, (("out", t), ("keys", kt)))
        u = _uniforms(b, ("total", "n", "desc", "oo", "oa"))
        dims, strides = _row_uniforms(b, "d", rank), _row_uniforms(b, "so", rank)
        with _row_elements(b, w, u["total"], u["n"]) as (e, row, col):
            at = _e("add", _row_offset(b, row, dims, strides, u["oo"]), _e("mul", col, u["oa"]))
            key = b.bind(_directed(_at(keys, e, kt), u["desc"]))
            ref = _at(out, at, storage_type(t))
            b.emit(ir.Assign(ref, store_value(ref, value_of_key(b, key, t, kt))))
    return b.finish((w, 1, 1))


def histogram_kernel(kt, w: int, e: int, device) -> ir.Kernel:
    """counts[row][digit][tile]: the digit's count in the tiles of the tile's group
    before it; sums[row][digit][group]: in the whole group."""
    t_slots = w * e
    b = Builder("vkd_radix_histogram", device)
    with b.active():
        keys, counts, sums, u, shift = _histogram_params(b, kt)
        lid = b.bind(_invocation("local_invocation_id"))
        table = _Counters(b, lid, w)
        tree = _Tree(b, lid, table.at, HALF * w, HALF, "tree")
        ngroups = b.bind(_invocation("num_workgroups"))
        g, body = _while(b, lambda v: _e("lt", v, u["groups"]), _invocation("workgroup_id"))
        with b.nested(body, "group loop"):
            row, grp = _split(b, g, u["gpr"])
            run = b.bind(_lit(0, d.int32), mutable=True)
            first = b.bind(_e("mul", grp, u["per"]))
            tile = b.new_var(d.int32, name="tile")
            loop = ir.For(tile, first, _e("min", _e("add", first, u["per"]), u["tpr"]),
                          _lit(1, d.int32), [])
            b.emit(loop)
            with b.nested(loop.body, "tile loop"):
                table.clear()
                col0 = b.bind(_e("mul", tile, _lit(t_slots, d.int32)))
                for j in range(e):
                    col = b.bind(_e("add", col0, _e("add", lid, _lit(j * w, d.int32))))
                    with _if(b, _e("lt", col, u["n"]), "slot"):
                        key = b.bind(_at(keys, _e("add", _e("mul", row, u["n"]), col), kt))
                        table.count(_digit(b, key, shift, kt))
                _barrier(b)
                tree.up()
                with _if(b, _e("lt", lid, _lit(DIGITS, d.int32)), "digit count"):
                    row_of, _, half = _packed(b, lid)
                    at = _e("add", _e("mul", _e("add", _e("mul", row, _lit(DIGITS, d.int32)),
                                                lid), u["tpr"]), tile)
                    b.emit(ir.Assign(_at(counts, at), run))
                    b.emit(ir.Assign(run, _e("add", run, _half(tree.at[-1](row_of), half))))
            with _if(b, _e("lt", lid, _lit(DIGITS, d.int32)), "group sums"):
                at = _e("add", _e("mul", _e("add", _e("mul", row, _lit(DIGITS, d.int32)), lid),
                                  u["gpr"]), grp)
                b.emit(ir.Assign(_at(sums, at), run))
            b.emit(ir.Assign(g, _e("add", g, ngroups)))
    return b.finish((w, 1, 1))


SCAN_UNROLL = 8      # loads a scan invocation has in flight along its run
MAX_SCAN_GROUP = 1024


def scan_width(device) -> int:
    """Invocations of the scan kernel's workgroup on a GPU: as many as it runs (a row's
    sums are one workgroup's work, so shorter runs each)."""
    limit = min(device.max_workgroup_invocations, device.max_workgroup_size[0],
                MAX_SCAN_GROUP)
    return 1 << (limit.bit_length() - 1)


def _run(b, lo, hi, what: str, step):
    """Calls step(b, k, count) over [lo, hi): count consecutive entries from k, in
    blocks of SCAN_UNROLL (their loads independent, in flight together), then one at
    a time."""
    u = _lit(SCAN_UNROLL, d.int32)
    end = b.bind(_e("add", lo, _e("mul", _e("div", _e("sub", hi, lo), u), u)))
    for first, last, count in ((lo, end, SCAN_UNROLL), (end, hi, 1)):
        k = b.new_var(d.int32, name="k")
        loop = ir.For(k, first, last, _lit(count, d.int32), [])
        b.emit(loop)
        with b.nested(loop.body, what):
            step(b, k, count)


def scan_kernel(w: int, device) -> ir.Kernel:
    """sums[row] (`span` entries a row) -> its exclusive prefix sums."""
    b = Builder("vkd_radix_scan", device)
    with b.active():
        (sums,) = _params(b, (("sums", d.int32),))
        u = _uniforms(b, ("rows", "span"))
        lid = b.bind(_invocation("local_invocation_id"))
        part = b.add_shared(d.int32, w, "part")
        tree = _Tree(b, lid, lambda i: _at(part, i), w, 1, "tree")
        run_len = b.bind(_e("div", _e("add", u["span"], _lit(w - 1, d.int32)),
                            _lit(w, d.int32)))
        lo = b.bind(_e("min", _e("mul", lid, run_len), u["span"]))
        hi = b.bind(_e("min", _e("add", lo, run_len), u["span"]))
        ngroups = b.bind(_invocation("num_workgroups"))
        r, body = _while(b, lambda v: _e("lt", v, u["rows"]), _invocation("workgroup_id"))
        with b.nested(body, "row loop"):
            base = b.bind(_e("mul", r, u["span"]))
            total = b.bind(_lit(0, d.int32), mutable=True)

            def add_up(b, k, count):
                at = b.bind(_e("add", base, k))
                values = [b.bind(_at(sums, _e("add", at, _lit(i, d.int32))))
                          for i in range(count)]
                for v in values:
                    b.emit(ir.Assign(total, _e("add", total, v)))

            def prefix(b, k, count):
                at = b.bind(_e("add", base, k))
                values = [b.bind(_at(sums, _e("add", at, _lit(i, d.int32))))
                          for i in range(count)]
                for i, v in enumerate(values):
                    b.emit(ir.Assign(_at(sums, _e("add", at, _lit(i, d.int32))), total))
                    b.emit(ir.Assign(total, _e("add", total, v)))

            _run(b, lo, hi, "run sum", add_up)
            b.emit(ir.Assign(_at(part, lid), total))
            _barrier(b)
            tree.up()
            tree.down()
            b.emit(ir.Assign(total, _at(part, lid)))
            _run(b, lo, hi, "run prefix", prefix)
            _barrier(b)     # part is read before the next row writes it
            b.emit(ir.Assign(r, _e("add", r, ngroups)))
    return b.finish((w, 1, 1))


def scatter_kernel(kt, w: int, e: int, device, pairs: bool = True) -> ir.Kernel:
    """(keys, idx) -> (keys_out, idx_out), each row stably ordered by the digit (keys
    alone without `pairs`: a sort of values whose keys say all of them)."""
    t_slots = w * e
    ones = _lit((1 << (kt.itemsize * 8)) - 1, kt)
    b = Builder("vkd_radix_scatter", device)
    with b.active():
        keys, idx, keys_out, idx_out, counts, sums, u, shift = _scatter_params(b, kt, pairs)
        lid = b.bind(_invocation("local_invocation_id"))
        sk = b.add_shared(kt, _pad(t_slots), "sk")
        si = b.add_shared(d.int32, _pad(t_slots), "si") if pairs else None
        table = _Counters(b, lid, w)
        tree = _Tree(b, lid, table.at, HALF * w, 1, "tree")
        moved = b.add_shared(d.int32, DIGITS, "moved")   # a digit's row position - its rank
        ntiles = b.bind(_invocation("num_workgroups"))
        tl, body = _while(b, lambda v: _e("lt", v, u["tiles"]), _invocation("workgroup_id"))
        with b.nested(body, "tile loop"):
            row, tile = _split(b, tl, u["tpr"])
            base = b.bind(_e("add", _e("mul", row, u["n"]),
                             _e("mul", tile, _lit(t_slots, d.int32))))
            valid = b.bind(_e("min", _lit(t_slots, d.int32),
                              _e("sub", u["n"], _e("mul", tile, _lit(t_slots, d.int32)))))
            table.clear()
            for j in range(e):      # coalesced loads; padding slots sort last
                s = b.bind(_e("add", lid, _lit(j * w, d.int32)))
                key = b.bind(ones, mutable=True)
                ix = b.bind(_lit(PAD_INDEX, d.int32), mutable=True) if pairs else None
                with _if(b, _e("lt", s, valid), "load"):
                    b.emit(ir.Assign(key, _at(keys, _e("add", base, s), kt)))
                    if pairs:
                        b.emit(ir.Assign(ix, _at(idx, _e("add", base, s))))
                b.emit(ir.Assign(_at(sk, _pad(s), kt), key))
                if pairs:
                    b.emit(ir.Assign(_at(si, _pad(s)), ix))
            _barrier(b)
            mine = []
            for j in range(e):      # this invocation's slots, in order
                s = b.bind(_pad(_e("add", _e("mul", lid, _lit(e, d.int32)), _lit(j, d.int32))))
                key = b.bind(_at(sk, s, kt))
                digit = _digit(b, key, shift, kt)
                mine.append((key, b.bind(_at(si, s)) if pairs else None, digit))
                table.count(digit)
            _barrier(b)
            tree.up()
            tree.down()
            low_total = b.bind(_e("bit_and", tree.at[-1](_lit(0, d.int32)),
                                  _lit(0xFFFF, d.int32)))

            def before(v, digit):
                """`v`'s half of `digit` + the low half's total for a high digit."""
                _, _, half = _packed(b, digit)
                extra = ops.make("select", _e("ge", digit, _lit(HALF, d.int32)), low_total,
                                 _lit(0, d.int32))
                return _e("add", _half(v, half), extra)

            with _if(b, _e("lt", lid, _lit(DIGITS, d.int32)), "digit offsets"):
                row_of, _, _ = _packed(b, lid)
                first = before(tree.at[1](_e("mul", row_of, _lit(w // FAN, d.int32))), lid)
                entry = _e("add", _e("mul", row, _lit(DIGITS, d.int32)), lid)
                start = _e("add", _at(sums, _e("add", _e("mul", entry, u["gpr"]),
                                               _e("div", tile, u["per"]))),
                           _at(counts, _e("add", _e("mul", entry, u["tpr"]), tile)))
                b.emit(ir.Assign(_at(moved, lid), _e("sub", start, first)))
            for key, ix, digit in mine:
                row_of, one, _ = _packed(b, digit)
                v = b.bind(table.cell(row_of))
                rank = b.bind(before(v, digit))
                b.emit(ir.Assign(table.cell(row_of), _e("add", v, one)))
                b.emit(ir.Assign(_at(sk, _pad(rank), kt), key))
                if pairs:
                    b.emit(ir.Assign(_at(si, _pad(rank)), ix))
            _barrier(b)
            out0 = b.bind(_e("mul", row, u["n"]))
            for j in range(e):      # coalesced stores: runs of a digit are contiguous
                s = b.bind(_e("add", lid, _lit(j * w, d.int32)))
                with _if(b, _e("lt", s, valid), "store"):
                    key = b.bind(_at(sk, _pad(s), kt))
                    at = b.bind(_e("add", out0, _e("add", _at(moved, _digit(b, key, shift, kt)),
                                                   s)))
                    b.emit(ir.Assign(_at(keys_out, at, kt), key))
                    if pairs:
                        b.emit(ir.Assign(_at(idx_out, at), _at(si, _pad(s))))
            _barrier(b)     # shared memory is read before the next tile writes it
            b.emit(ir.Assign(tl, _e("add", tl, ntiles)))
    return b.finish((w, 1, 1))


def _column(b, w: int):
    """This invocation's DIGITS counters in a shared [digit][invocation] table."""
    table = b.add_shared(d.int32, DIGITS * w, "counters")
    lid = b.bind(_invocation("local_invocation_id"))
    return lambda digit: _at(table, _e("add", _e("mul", digit, _lit(w, d.int32)), lid))


def _each_digit(b, what: str):
    """for (digit = 0; digit < DIGITS; digit++): yields digit inside the loop."""
    digit = b.new_var(d.int32, name="digit")
    loop = ir.For(digit, _lit(0, d.int32), _lit(DIGITS, d.int32), _lit(1, d.int32), [])
    b.emit(loop)
    with b.nested(loop.body, what):
        yield digit


def _each_slot(b, row, tile, u, slots: int, what: str):
    """for each element of `tile` of `row`, in order: yields its position in keys."""
    start = b.bind(_e("add", _e("mul", row, u["n"]), _e("mul", tile, _lit(slots, d.int32))))
    stop = b.bind(_e("add", _e("mul", row, u["n"]),
                     _e("min", u["n"], _e("mul", _e("add", tile, _lit(1, d.int32)),
                                          _lit(slots, d.int32)))))
    at = b.new_var(d.int32, name="at")
    loop = ir.For(at, start, stop, _lit(1, d.int32), [])
    b.emit(loop)
    with b.nested(loop.body, what):
        yield at


def _entry(row, digit, span, i):
    """Index of entry i of `digit` in a [row][digit][span] table."""
    return _e("add", _e("mul", _e("add", _e("mul", row, _lit(DIGITS, d.int32)), digit), span), i)


def serial_histogram_kernel(kt, w: int, slots: int, device) -> ir.Kernel:
    """histogram_kernel's counts and sums, one invocation walking a group of tiles
    of `slots` elements in order (CPU drivers, where barriers cost most)."""
    b = Builder("vkd_radix_histogram_serial", device)
    with b.active():
        keys, counts, sums, u, shift = _histogram_params(b, kt)
        run = _column(b, w)
        g, body, stride = _grid_loop(b, w, u["groups"])
        with b.nested(body, "group loop"):
            row, grp = _split(b, g, u["gpr"])
            for digit in _each_digit(b, "clear"):
                b.emit(ir.Assign(run(digit), _lit(0, d.int32)))
            first = b.bind(_e("mul", grp, u["per"]))
            tile = b.new_var(d.int32, name="tile")
            loop = ir.For(tile, first, _e("min", _e("add", first, u["per"]), u["tpr"]),
                          _lit(1, d.int32), [])
            b.emit(loop)
            with b.nested(loop.body, "tile loop"):
                for digit in _each_digit(b, "tile counts"):
                    b.emit(ir.Assign(_at(counts, _entry(row, digit, u["tpr"], tile)),
                                     run(digit)))
                for at in _each_slot(b, row, tile, u, slots, "count"):
                    digit = _digit(b, _at(keys, at, kt), shift, kt)
                    b.emit(ir.Assign(run(digit), _e("add", run(digit), _lit(1, d.int32))))
            for digit in _each_digit(b, "group sums"):
                b.emit(ir.Assign(_at(sums, _entry(row, digit, u["gpr"], grp)), run(digit)))
            b.emit(ir.Assign(g, _e("add", g, stride)))
    return b.finish((w, 1, 1))


def serial_scatter_kernel(kt, w: int, slots: int, device) -> ir.Kernel:
    """scatter_kernel's result, one invocation walking a tile of `slots` elements in
    order, each to the next place of its digit."""
    b = Builder("vkd_radix_scatter_serial", device)
    with b.active():
        keys, idx, keys_out, idx_out, counts, sums, u, shift = _scatter_params(b, kt)
        place = _column(b, w)
        tl, body, stride = _grid_loop(b, w, u["tiles"])
        with b.nested(body, "tile loop"):
            row, tile = _split(b, tl, u["tpr"])
            out0 = b.bind(_e("mul", row, u["n"]))
            grp = b.bind(_e("div", tile, u["per"]))
            for digit in _each_digit(b, "places"):
                b.emit(ir.Assign(place(digit), _e(
                    "add", _e("add", out0, _at(sums, _entry(row, digit, u["gpr"], grp))),
                    _at(counts, _entry(row, digit, u["tpr"], tile)))))
            for at in _each_slot(b, row, tile, u, slots, "scatter"):
                key = b.bind(_at(keys, at, kt))
                digit = _digit(b, key, shift, kt)
                to = b.bind(place(digit))
                b.emit(ir.Assign(place(digit), _e("add", to, _lit(1, d.int32))))
                b.emit(ir.Assign(_at(keys_out, to, kt), key))
                b.emit(ir.Assign(_at(idx_out, to), _at(idx, at)))
            b.emit(ir.Assign(tl, _e("add", tl, stride)))
    return b.finish((w, 1, 1))
