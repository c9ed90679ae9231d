"""Debug mode's out-of-range reports: which guarded accesses of a kernel report, and
where each one is in the user's code.

A reporting kernel (Builder.report) numbers every guarded access: the `index` Expr
gets an attrs entry (ir.SITE, access, k) and site k of `Kernel.sites` says which array
it reaches, how (read, write, atomic) and from which file:line. Emitters turn an
out-of-range access at site k into a compare-and-swap of the site's id into the hidden
debug buffer (ir.DEBUG_PARAM), and the host turns that id back into a message.
"""
from __future__ import annotations

from ..base import dtype as dt
from . import ir


def needs_site(ref) -> bool:
    """`ref` (an `index` Expr) is an access the emitters guard (Emitter.checked_ref with
    a condition): not known to be in range, and not a literal index into a fixed-size
    array (checked while tracing)."""
    array, idx = ref.args
    return (array.kind in (ir.BUFFER, ir.SHARED, ir.LOCAL_ARRAY)
            and ir.IN_BOUNDS not in ref.attrs
            and (array.kind == ir.BUFFER or not isinstance(idx, ir.Lit)))


def drop_atomic_loads(body: list) -> None:
    """Remove the loads that only exist because `vc.atomic_add(buf[i], 1)` indexed the
    buffer before the atomic took the element (their value is never used): otherwise an
    out-of-range atomic would be reported as a read."""
    targets = set()
    uses: dict = {}
    for stmt in ir.walk_stmts(body):
        for root in ir.stmt_nodes(stmt):
            for n in ir.walk_nodes(root):
                if isinstance(n, ir.Var):
                    uses[n.id] = uses.get(n.id, 0) + 1
                elif isinstance(n, ir.Expr) and n.op.startswith("atomic_") \
                        and isinstance(n.args[0], ir.Expr):
                    targets.add(id(n.args[0]))
    if not targets:
        return

    def prune(block: list) -> None:
        block[:] = [s for s in block if not (
            isinstance(s, ir.Declare) and isinstance(s.init, ir.Expr)
            and id(s.init) in targets and not uses.get(s.var.id))]
        for s in block:
            for child in ir.child_blocks(s):
                prune(child)

    prune(body)


def assign_sites(body: list, array_names: dict, locations: dict) -> tuple:
    """Number the guarded accesses of `body` in source order (attrs (ir.SITE, access,
    k)) and return their ir.Site tuple. `array_names`: var id -> the name reports use;
    `locations`: id(index Expr) -> (Expr, "file:line") recorded while tracing."""
    sites: list = []

    def tag(ref, access: str) -> None:
        if not needs_site(ref) or ir.site_of(ref, access) is not None:
            return
        array, idx = ref.args
        where = locations.get(id(ref))
        sites.append(ir.Site(array_names.get(array.id, array.name), array.kind, access,
                             where[1] if where is not None and where[0] is ref else "",
                             idx.dtype.kind == dt.INT))
        ref.attrs = ref.attrs + ((ir.SITE, access, len(sites) - 1),)

    def visit(node) -> None:
        if not isinstance(node, ir.Expr):
            return
        args = node.args
        if node.op.startswith("atomic_") and args and isinstance(args[0], ir.Expr) \
                and args[0].op == "index":
            tag(args[0], ir.ATOMIC)
            visit(args[0].args[1])
            args = args[1:]
        elif node.op == "index":
            tag(node, ir.READ)
        for a in args:
            visit(a)

    for stmt in ir.walk_stmts(body):
        if isinstance(stmt, ir.Assign) and isinstance(stmt.target, ir.Expr) \
                and stmt.target.op == "index":
            tag(stmt.target, ir.WRITE)
            visit(stmt.target.args[1])
            visit(stmt.value)
            continue
        for root in ir.stmt_nodes(stmt):
            visit(root)
    return tuple(sites)


def describe(site_table: list, words) -> str:
    """The message for a debug buffer's `words` (ir.DEBUG_LAYOUT); `site_table[id - 1]`
    is (shader name, ir.Site) of site id `id`."""
    at = ir.DEBUG_LAYOUT
    site_id = int(words[at["site"]])
    index = int(words[at["index"]]) | int(words[at["index"] + 1]) << 32
    length = int(words[at["length"]]) | int(words[at["length"] + 1]) << 32
    count = int(words[at["count"]])
    if not 1 <= site_id <= len(site_table):
        return (f"a kernel accessed memory outside an array ({count} out-of-range "
                f"access(es); unknown site {site_id})")
    shader, site = site_table[site_id - 1]
    if site.signed and index >= 1 << 63:
        index -= 1 << 64
    what = {ir.BUFFER: "parameter", ir.SHARED: "shared array",
            ir.LOCAL_ARRAY: "local array"}.get(site.array_kind, "array")
    access = {ir.READ: "read", ir.WRITE: "write", ir.ATOMIC: "atomic"}[site.access]
    side = "before the start of" if index < 0 else "past"
    msg = (f"shader {shader}: {access} of {what} {site.array!r} at index {index}, {side} "
           f"its {length} element{'s' if length != 1 else ''}")
    if site.location:
        msg += f" ({site.location})"
    if count > 1:
        msg += (f"; {count - 1} more out-of-range access{'es' if count > 2 else ''} in the "
                f"same submission")
    return msg + (". Out-of-range reads gave 0 and writes and atomics were not performed.")
