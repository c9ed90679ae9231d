"""The kernel IR: slotted plain data, target-neutral.

A kernel is a `Kernel` (parameters, shared arrays, a body of statements). Values are
expression trees (`Expr`) over `Var` references and `Lit` literals; side-effecting
reads (buffer loads, atomics) are bound to fresh `Var`s by the builder at the point
the Python code performed them, so evaluation order matches the Python source.
`check(kernel)` validates structure; emitters walk the tree and never see Python.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Union

from ..base import dtype as dt
from ..base.dtype import DType

# Var kinds
LOCAL = "local"          # a function-local variable (mutable or single-assignment)
BUFFER = "buffer"        # a storage-buffer parameter; dtype is the storage element type
UNIFORM = "uniform"      # a per-dispatch constant (Const[...] / Var[...] / hidden)
SHARED = "shared"        # a workgroup-shared array; `length` elements
LOCAL_ARRAY = "local_array"  # a per-invocation array; `length` elements
IMAGE = "image"          # an image parameter; dtype is the texel type, `dim` 1-3
VAR_KINDS = (LOCAL, BUFFER, UNIFORM, SHARED, LOCAL_ARRAY, IMAGE)


class Var:
    __slots__ = ("id", "name", "dtype", "kind", "mutable", "length", "dim", "sampled", "writable",
                 "arrayed")

    def __init__(self, id: int, name: str, dtype: DType, kind: str, mutable: bool = False,
                 length: int = 0, dim: int = 0, sampled: bool = False, writable: bool = True,
                 arrayed: bool = False):
        self.id = id
        self.name = name
        self.dtype = dtype
        self.kind = kind
        self.mutable = mutable
        self.length = length
        self.dim = dim
        self.sampled = sampled
        self.writable = writable
        self.arrayed = arrayed   # images: an array of `dim`-D layers, indexed by one more coordinate

    def __repr__(self) -> str:
        return f"Var({self.name}: {self.dtype.name} {self.kind})"


class Lit:
    __slots__ = ("value", "dtype")

    def __init__(self, value, dtype: DType):
        self.value = value
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"Lit({self.value!r}: {self.dtype.name})"


class Expr:
    """`op(*args)` with static `attrs` (swizzle letters, builtin names, ...)."""
    __slots__ = ("op", "args", "attrs", "dtype")

    def __init__(self, op: str, args: tuple, dtype: DType, attrs: tuple = ()):
        self.op = op
        self.args = args
        self.dtype = dtype
        self.attrs = attrs

    def __repr__(self) -> str:
        extra = f", attrs={self.attrs}" if self.attrs else ""
        return f"Expr({self.op}, {list(self.args)}{extra}: {self.dtype.name})"


Node = Union[Expr, Var, Lit]


# ----------------------------------------------------------------------------- statements

class Stmt:
    __slots__ = ()


class Declare(Stmt):
    """Declare local `var`, initialized with `init` (None: default-initialized)."""
    __slots__ = ("var", "init")

    def __init__(self, var: Var, init: Optional[Node]):
        self.var = var
        self.init = init


class Assign(Stmt):
    """`target = value`; target is a mutable local Var or an lvalue Expr
    (`index` into a buffer/shared/local array, `swizzle`/`component` of a mutable Var)."""
    __slots__ = ("target", "value")

    def __init__(self, target: Node, value: Node):
        self.target = target
        self.value = value


class Eval(Stmt):
    """Evaluate an expression for its side effect (atomics, barriers, printf, image store)."""
    __slots__ = ("expr",)

    def __init__(self, expr: Expr):
        self.expr = expr


class If(Stmt):
    __slots__ = ("cond", "body", "orelse")

    def __init__(self, cond: Node, body: list, orelse: Optional[list] = None):
        self.cond = cond
        self.body = body
        self.orelse = orelse


class While(Stmt):
    """`pre` runs before each test of `cond` (so loads in the condition are re-read)."""
    __slots__ = ("pre", "cond", "body")

    def __init__(self, pre: list, cond: Node, body: list):
        self.pre = pre
        self.cond = cond
        self.body = body


class For(Stmt):
    """for (var = start; var < stop (or > stop for negative literal step); var += step)."""
    __slots__ = ("var", "start", "stop", "step", "body")

    def __init__(self, var: Var, start: Node, stop: Node, step: Node, body: list):
        self.var = var
        self.start = start
        self.stop = stop
        self.step = step
        self.body = body


class Break(Stmt):
    __slots__ = ()


class Continue(Stmt):
    __slots__ = ()


class Return(Stmt):
    __slots__ = ()


# ----------------------------------------------------------------------------- kernel

class Param:
    """A user-visible kernel parameter (or a hidden one the launcher fills)."""
    __slots__ = ("name", "kind", "var", "hidden")

    def __init__(self, name: str, kind: str, var: Var, hidden: bool = False):
        self.name = name
        self.kind = kind   # "buffer", "const", "var", "image"
        self.var = var
        self.hidden = hidden


# hidden uniform holding the element count of buffer parameter <name> (memory checks)
LENGTH_PREFIX = "vkd_len_"


def length_param_name(buffer_name: str) -> str:
    """The hidden uniform that carries buffer `buffer_name`'s element count."""
    return LENGTH_PREFIX + buffer_name


# hidden ivec4 uniform holding buffer parameter <name>'s shape as vkdispatch 0.1 gave
# it to shaders (`buf.shape`): (x, y, z, x * y * z), see shader_shape
SHAPE_PREFIX = "vkd_shape_"


def shape_param_name(buffer_name: str) -> str:
    return SHAPE_PREFIX + buffer_name


def shader_shape(shape: tuple) -> tuple:
    """A buffer's shape as `buf.shape` reads it in a shader: its first three axes (axes
    past the third fold into the third, missing ones are 1) and the element count."""
    dims = [int(d) for d in shape] or [1]
    while len(dims) > 3:
        last = dims.pop()
        dims[-1] *= last
    dims += [1] * (3 - len(dims))
    return (dims[0], dims[1], dims[2], dims[0] * dims[1] * dims[2])


# hidden buffer parameter of kernels that report out-of-range accesses (debug mode):
# DEBUG_WORDS uint32 words, see DEBUG_LAYOUT
DEBUG_PARAM = "vkd_debug"
DEBUG_WORDS = 8
# word offsets in it: the first reported access's site id (1-based, 0: none yet; set by
# compare-and-swap, so the first access wins), its index and the array's element count
# (64-bit, low word first), and how many out-of-range accesses happened in all
DEBUG_LAYOUT = {"site": 0, "index": 1, "length": 3, "count": 5}

# access kinds of a report site
READ, WRITE, ATOMIC = "read", "write", "atomic"
# attrs entry (SITE, access, k) of an `index` Expr: its out-of-range `access` is reported
# as site k of the kernel's `sites`
SITE = "site"


class Site(NamedTuple):
    """Where a reported access is in the user's code."""
    array: str          # the array's name (a parameter, shared or local array)
    array_kind: str     # BUFFER, SHARED or LOCAL_ARRAY
    access: str         # READ, WRITE or ATOMIC
    location: str       # the user's "file:line" of the access, "" when unknown
    signed: bool        # the index is of a signed type


def site_of(ref: "Expr", access: str):
    """The site number of `ref`'s out-of-range `access`, or None (not reported)."""
    for a in ref.attrs:
        if type(a) is tuple and a[0] == SITE and a[1] == access:
            return a[2]
    return None


class Kernel:
    """`memory_checks`: every access of a buffer, shared or local array element is
    guarded by its index (a load past the end gives 0, a store or atomic is dropped);
    buffers' element counts come from hidden uniforms `vkd_len_<param>` (GLSL reads
    the bound range with .length() instead, except for buffers reached by address).
    `sites` (debug mode): the guarded accesses that also report the first out-of-range
    access into the hidden buffer parameter DEBUG_PARAM, numbered by their `index`
    Exprs' (SITE, access, k) attrs."""
    __slots__ = ("name", "params", "shared", "body", "local_size", "memory_checks", "sites")

    def __init__(self, name: str, params: list, shared: list, body: list, local_size: tuple,
                 memory_checks: bool = False, sites: tuple = ()):
        self.name = name
        self.params = params
        self.shared = shared
        self.body = body
        self.local_size = local_size
        self.memory_checks = memory_checks
        self.sites = tuple(sites)

    def debug_param(self) -> Optional["Param"]:
        """The hidden buffer parameter reports go to, or None (no report sites)."""
        if not self.sites:
            return None
        return next((p for p in self.params if p.hidden and p.name == DEBUG_PARAM), None)

    def length_params(self) -> dict:
        """buffer var id -> the hidden uniform Var with its element count."""
        by_name = {p.name: p for p in self.params}
        out = {}
        for p in self.params:
            if p.var.kind == BUFFER:
                q = by_name.get(length_param_name(p.name))
                if q is not None and q.hidden:
                    out[p.var.id] = q.var
        return out


def is_length_param(p: "Param") -> bool:
    return p.hidden and p.name.startswith(LENGTH_PREFIX)


# attrs of an `index` Expr known to be in range (memory checks skip it)
IN_BOUNDS = "in_bounds"
# attrs of an `index` Expr that must see other workgroups' writes made visible by a
# device-scope barrier: the emitters declare its whole array coherent (GLSL) / volatile
COHERENT = "coherent"


def index_nodes(body: list):
    """Every `index` Expr in `body` (an element access of an array)."""
    for stmt in walk_stmts(body):
        for root in stmt_nodes(stmt):
            for n in walk_nodes(root):
                if isinstance(n, Expr) and n.op == "index":
                    yield n


def checked_buffers(body: list) -> list:
    """Buffer Vars with an access in `body` not known to be in range, in order of first
    appearance."""
    seen = {}
    for n in index_nodes(body):
        if n.args[0].kind == BUFFER and IN_BOUNDS not in n.attrs:
            seen.setdefault(n.args[0].id, n.args[0])
    return list(seen.values())


def same_node(a, b) -> bool:
    """`a` and `b` compute the same value (equal trees over the same Vars)."""
    if isinstance(a, Var) or isinstance(b, Var):
        return a is b
    if isinstance(a, Lit) and isinstance(b, Lit):
        return a.dtype is b.dtype and type(a.value) is type(b.value) and a.value == b.value
    if isinstance(a, Expr) and isinstance(b, Expr):
        return (a.op == b.op and a.dtype is b.dtype and a.attrs == b.attrs
                and len(a.args) == len(b.args)
                and all(same_node(x, y) for x, y in zip(a.args, b.args)))
    return False


# ----------------------------------------------------------------------------- traversal

def child_blocks(stmt: Stmt) -> list:
    if isinstance(stmt, If):
        return [stmt.body] + ([stmt.orelse] if stmt.orelse is not None else [])
    if isinstance(stmt, While):
        return [stmt.pre, stmt.body]
    if isinstance(stmt, For):
        return [stmt.body]
    return []


def stmt_nodes(stmt: Stmt) -> list:
    """The expression roots a statement holds."""
    if isinstance(stmt, Declare):
        return [stmt.init] if stmt.init is not None else []
    if isinstance(stmt, Assign):
        return [stmt.target, stmt.value]
    if isinstance(stmt, Eval):
        return [stmt.expr]
    if isinstance(stmt, (If, While)):
        return [stmt.cond]
    if isinstance(stmt, For):
        return [stmt.start, stmt.stop, stmt.step]
    return []


def walk_stmts(block: list):
    """Every statement, depth first, in source order."""
    for stmt in block:
        yield stmt
        for child in child_blocks(stmt):
            yield from walk_stmts(child)


def walk_nodes(node: Node):
    yield node
    if isinstance(node, Expr):
        for a in node.args:
            yield from walk_nodes(a)


def all_nodes(kernel: Kernel):
    for stmt in walk_stmts(kernel.body):
        for root in stmt_nodes(stmt):
            yield from walk_nodes(root)
        if isinstance(stmt, (Declare, For)):
            yield stmt.var


def used_ops(kernel: Kernel) -> set:
    return {n.op for n in all_nodes(kernel) if isinstance(n, Expr)}


def used_dtypes(kernel: Kernel) -> set:
    types = set()
    for n in all_nodes(kernel):
        types.add(n.dtype)
    for p in kernel.params:
        if not is_length_param(p):   # 64-bit counts every CUDA/OpenCL device has
            types.add(p.var.dtype)
    for v in kernel.shared:
        types.add(v.dtype)
    return types


# ----------------------------------------------------------------------------- checker

class IRError(AssertionError):
    """The IR is malformed: a bug in the builder, never user error."""


def check(kernel: Kernel) -> None:
    """Validate that every Var is declared before use in an enclosing scope, lvalues are
    assignable and conditions are booleans."""
    global_vars = {p.var.id for p in kernel.params} | {v.id for v in kernel.shared}

    def check_node(node, scope):
        for n in walk_nodes(node):
            if isinstance(n, Var) and n.id not in scope and n.id not in global_vars:
                raise IRError(f"{n!r} used outside the scope that declares it")
            if not isinstance(n, (Expr, Var, Lit)):
                raise IRError(f"not an IR node: {n!r}")
            if not isinstance(n.dtype, DType):
                raise IRError(f"node without a dtype: {n!r}")

    def check_block(block, scope):
        scope = set(scope)
        for stmt in block:
            if not isinstance(stmt, While):   # its condition is checked in the loop's scope
                for root in stmt_nodes(stmt):
                    check_node(root, scope)
            if isinstance(stmt, Declare):
                scope.add(stmt.var.id)
            elif isinstance(stmt, Assign):
                t = stmt.target
                ok = (isinstance(t, Var) and t.mutable) or (
                    isinstance(t, Expr) and t.op in ("index", "swizzle", "component"))
                if not ok:
                    raise IRError(f"cannot assign to {t!r}")
            elif isinstance(stmt, (If, While)) and stmt.cond.dtype is not dt.bool_:
                raise IRError(f"condition must be bool, got {stmt.cond.dtype.name}")
            if isinstance(stmt, While):
                inner = set(scope)
                check_block(stmt.pre, inner)
                pre_scope = inner | {s.var.id for s in stmt.pre if isinstance(s, Declare)}
                check_node(stmt.cond, pre_scope)
                check_block(stmt.body, pre_scope)
                continue
            if isinstance(stmt, For):
                check_block(stmt.body, scope | {stmt.var.id})
                continue
            for child in child_blocks(stmt):
                check_block(child, scope)

    check_block(kernel.body, set())


def escaping(kernel: Kernel) -> list:
    """Locals used outside the block that declares them (in source order). Tracing
    refuses such uses, and the emitters could not declare them."""
    declared_in = {}   # var id -> (var, block)
    uses = {}          # var id -> [chain of enclosing block ids of each use]

    def visit(block, ancestors):
        chain = ancestors + [id(block)]
        for stmt in block:
            if isinstance(stmt, Declare):
                declared_in[stmt.var.id] = (stmt.var, block)
            roots = [] if isinstance(stmt, While) else stmt_nodes(stmt)
            for root in roots:
                for n in walk_nodes(root):
                    if isinstance(n, Var) and n.kind in (LOCAL, LOCAL_ARRAY):
                        uses.setdefault(n.id, []).append(chain)
            for child in child_blocks(stmt):
                visit(child, chain)
            if isinstance(stmt, While):
                # the condition reads locals declared in `pre`, and is in the loop's scope
                for n in walk_nodes(stmt.cond):
                    if isinstance(n, Var) and n.kind in (LOCAL, LOCAL_ARRAY):
                        uses.setdefault(n.id, []).append(chain + [id(stmt.pre)])

    visit(kernel.body, [])
    out = []
    for vid, (var, block) in declared_in.items():
        if block is not kernel.body and any(id(block) not in chain
                                            for chain in uses.get(vid, [])):
            out.append(var)
    return out


# ----------------------------------------------------------------------------- structure

def structural_key(kernel: Kernel) -> tuple:
    """A hashable description of what `kernel` computes: its parameters (names, kinds,
    types), shared arrays, local size and every statement, with variables renumbered in
    order of first appearance. Two traces of the same body (other Python functions,
    other local names, other builder ids) give equal keys; any difference in an op, a
    type, a literal or the control flow gives a different one."""
    ids: dict = {}

    def var(v: Var) -> tuple:
        n = ids.setdefault(v.id, len(ids))
        return ("v", n, v.kind, v.dtype.name, v.mutable, v.length, v.dim, v.sampled,
                v.writable, v.arrayed)

    def node(n) -> tuple:
        if isinstance(n, Expr):
            return ("e", n.op, n.dtype.name, n.attrs, tuple(node(a) for a in n.args))
        if isinstance(n, Lit):
            value = n.value
            if isinstance(value, float):   # -0.0 and nan compare unlike their bits
                value = value.hex()
            return ("l", n.dtype.name, type(value).__name__, repr(value))
        return var(n)

    def block(stmts) -> tuple:
        out = []
        for s in stmts:
            if isinstance(s, Declare):
                out.append(("declare", var(s.var), None if s.init is None else node(s.init)))
            elif isinstance(s, Assign):
                out.append(("assign", node(s.target), node(s.value)))
            elif isinstance(s, Eval):
                out.append(("eval", node(s.expr)))
            elif isinstance(s, If):
                out.append(("if", node(s.cond), block(s.body),
                            None if s.orelse is None else block(s.orelse)))
            elif isinstance(s, While):
                out.append(("while", block(s.pre), node(s.cond), block(s.body)))
            elif isinstance(s, For):
                out.append(("for", var(s.var), node(s.start), node(s.stop), node(s.step),
                            block(s.body)))
            else:
                out.append((type(s).__name__,))
        return tuple(out)

    params = tuple((p.name, p.kind, p.hidden, var(p.var)) for p in kernel.params)
    shared = tuple(var(v) for v in kernel.shared)
    # a reporting kernel names its shader and the user's lines in its reports
    sites = (kernel.name, kernel.sites) if kernel.sites else None
    return (params, shared, tuple(kernel.local_size), kernel.memory_checks, sites,
            block(kernel.body))
