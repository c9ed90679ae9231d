"""Structured control flow as context managers and a loop generator.

Each block is traced once. What a block makes exists only inside it: using such a value
after the block raises CodegenError (after an if_block it could be uninitialized, after a
loop it would be the last iteration's), and so does a loop body that gives a name a new
value while reading its old one (`x = x + 1.0`: every traced iteration would read the
old x). Carry values with a variable declared before the block (`x = vc.new_float(0.0)`)
updated in place: `x += 1.0`, `x.set(...)`, `x[:] = ...`."""
from __future__ import annotations

import builtins
import contextlib
import numbers
import os
import sys

from ...base import dtype as dt
from ...base.errors import CodegenError
from .. import ir
from ..builder import codegen_error, current, user_location
from ..variables import ShaderVariable, convert, to_node
from .memory import comment as source_comment

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CONTEXTLIB = os.path.abspath(contextlib.__file__)


def _cond(cond) -> ir.Var:
    n = to_node(cond)
    if n.dtype.is_vector:
        raise codegen_error(f"condition is a {n.dtype.name}; reduce it with vc.any(...) or "
                            f"vc.all(...)")
    if n.dtype is not dt.bool_:
        n = convert(n, dt.bool_)
    return n


@contextlib.contextmanager
def if_block(cond):
    """`with vc.if_block(x > 0):` emits `if (x > 0) { ... }`."""
    b = current()
    stmt = ir.If(_cond(cond), [])
    b.emit(stmt)
    with b.nested(stmt.body, "vc.if_block"):
        yield


@contextlib.contextmanager
def else_if_block(cond):
    """Must directly follow an if_block / else_if_block."""
    b = current()
    node = to_node(cond)
    # a condition computed after the if (e.g. from a mutable variable) was bound to
    # locals there; those belong to the else branch, evaluated only when reached
    with _else_if(b, node, _defining_stmts(b, node)):
        yield


@contextlib.contextmanager
def _else_if(b, node, setup: list):
    """The else-if branch of the last if, testing `node` after the statements `setup`."""
    _moved(b, setup, "the condition of this vc.else_if_block")
    prev = b.last_if()
    stmt = ir.If(_cond(node), [])
    prev.orelse = setup + [stmt]
    with b.nested(stmt.body, "vc.else_if_block"):
        yield


@contextlib.contextmanager
def else_block():
    b = current()
    prev = b.last_if()
    prev.orelse = []
    with b.nested(prev.orelse, "vc.else_block"):
        yield


else_if = else_if_block


def _defining_stmts(b, node) -> list:
    """Trailing declarations of the current block that `node` depends on: they are
    moved into the loop so the condition is re-evaluated every iteration."""
    needed = {n.id for n in ir.walk_nodes(node) if isinstance(n, ir.Var)}
    moved = []
    block = b.block
    while (block and isinstance(block[-1], ir.Declare) and block[-1].var.id in needed
           and not block[-1].var.mutable):
        stmt = block.pop()
        moved.insert(0, stmt)
        needed |= {n.id for n in ir.walk_nodes(stmt.init) if isinstance(n, ir.Var)}
    return moved


@contextlib.contextmanager
def while_block(cond):
    """Loop while `cond` holds. `cond` is re-evaluated every iteration: pass the expression
    directly (`vc.while_block(i < n)`) or a callable returning it."""
    b = current()
    pre: list = []
    if callable(cond) and not isinstance(cond, ShaderVariable):
        with b.nested(pre, "vc.while_block condition"):
            c = _cond(cond())
    else:
        node = to_node(cond)
        pre = _defining_stmts(b, node)
        c = _cond(node)
    _moved(b, pre, "the condition of this vc.while_block")
    stmt = ir.While(pre, c, [])
    b.emit(stmt)
    snapshot = _snapshot()
    with b.nested(stmt.body, "vc.while_block loop") as scope:
        yield
        _check_carried(snapshot, scope, [stmt.pre, stmt.body])


def range(start, stop=None, step=1):  # noqa: A001
    """`for i in vc.range(n):` emits a counted loop; the body is traced once."""
    b = current()
    if stop is None:
        start, stop = 0, start
    ns, ne, nst = to_node(start), to_node(stop), to_node(step)
    t = dt.int32
    for n in (ns, ne, nst):
        if not (n.dtype.is_scalar and n.dtype.is_integer):
            raise TypeError(f"vc.range bounds must be integers, got {n.dtype.name}")
        if n.dtype is not dt.int32 and not isinstance(n, ir.Lit):
            t = dt.promote_scalars(t, n.dtype)
    if isinstance(nst, ir.Lit) and nst.value == 0:
        raise ValueError("vc.range step must not be zero")
    var = b.new_var(t, name=f"i{b.new_id()}")
    stmt = ir.For(var, convert(ns, t), convert(ne, t), convert(nst, t), [])
    b.emit(stmt)
    outer = b.loop_multiplier
    b.loop_multiplier = _count_static_iterations(b, ns, ne, nst, outer)
    snapshot = _snapshot()
    try:
        with b.nested(stmt.body, "vc.range loop") as scope:
            index = ShaderVariable(b, var)
            yield index
            _check_carried(snapshot, scope, [stmt.body], skip=index)
    finally:
        b.loop_multiplier = outer


def _count_static_iterations(b, start, stop, step, outer):
    """The iterations of this loop per invocation when its bounds (and the enclosing
    loops') are literals (else 0), added to the kernel's total; raises where the total
    passes the device's loop limit, which some drivers enforce by skipping the rest."""
    if not outer or not all(isinstance(n, ir.Lit) for n in (start, stop, step)):
        return 0
    total = outer * len(builtins.range(start.value, stop.value, step.value))
    b.static_loop_iterations += total
    limit = getattr(b.device, "max_loop_iterations", None)
    if limit is not None and b.static_loop_iterations > limit:
        raise codegen_error(
            f"the loops of this kernel run {b.static_loop_iterations} iterations per "
            f"invocation; {b.device.name} runs at most {limit} "
            f"(DeviceInfo.max_loop_iterations) and silently skips the rest: spread the "
            f"work over more invocations")
    return total


def break_():
    current().emit(ir.Break())


def continue_():
    current().emit(ir.Continue())


def return_():
    current().emit(ir.Return())


def return_statement(arg=None):
    """vkdispatch 0.1's name for return_ (kernels return no value)."""
    if arg is not None:
        raise codegen_error(f"a kernel returns no value; write results to a buffer "
                            f"(got return_statement({arg!r}))")
    return_()


@contextlib.contextmanager
def scope_block(indent: bool = True, comment: str = None):
    """A nested C scope: what is made inside exists only inside. `indent` is accepted
    for vkdispatch 0.1 code (the emitters indent every block); `comment` is put in the
    source before it."""
    b = current()
    if comment is not None:
        source_comment(comment)
    stmt = ir.If(ir.Lit(True, dt.bool_), [])   # `if (true) { ... }` is a plain scope
    b.emit(stmt)
    with b.nested(stmt.body, "vc.scope_block"):
        yield


# vkdispatch 0.1's statement style, as its tutorials write it:
#     vc.if_statement(x > 0); ...; vc.else_statement(); ...; vc.end()
def _enter(b, cm) -> None:
    cm.__enter__()
    b.open_blocks.append(cm)


def _exit_last(b, what: str) -> None:
    blocks = b.open_blocks
    if not blocks:
        raise codegen_error(f"vc.{what}() without an open vc.if_statement / "
                            f"vc.while_statement / vc.new_scope")
    blocks.pop().__exit__(None, None, None)


def if_statement(cond) -> None:
    """Open `if (cond) {`; close it with vc.end() or continue with vc.else_statement()."""
    b = current()
    _enter(b, if_block(cond))


def else_if_statement(cond) -> None:
    b = current()
    # written before this call, `cond` was computed in the branch it closes: its loads
    # move to the else branch, where they run only when reached
    node = cond._node if isinstance(cond, ShaderVariable) else to_node(cond)
    setup = _defining_stmts(b, node) if b.open_blocks else []
    _exit_last(b, "else_if_statement")
    _enter(b, _else_if(b, node, setup))


def else_statement() -> None:
    b = current()
    _exit_last(b, "else_statement")
    _enter(b, else_block())


def while_statement(cond) -> None:
    b = current()
    _enter(b, while_block(cond))


def new_scope(indent: bool = True, comment: str = None) -> None:
    b = current()
    _enter(b, scope_block(indent, comment))


def end() -> None:
    """Close the block the last if/else/while statement or new_scope opened."""
    _exit_last(current(), "end")


# ----------------------------------------------------------------------------- checks

def _moved(b, stmts, what: str) -> None:
    """Remember where declarations moved into a condition block came from."""
    where = user_location()
    for st in stmts:
        if isinstance(st, ir.Declare):
            b.moved[st.var.id] = (where, what)


def _user_frame():
    """The frame of the user code running the loop (outside vkdispatch and contextlib)."""
    f = sys._getframe(1)
    while f is not None:
        name = os.path.abspath(f.f_code.co_filename)
        if not (name.startswith(_PACKAGE_DIR) or name == _CONTEXTLIB):
            return f
        f = f.f_back
    return None


def _snapshot():
    """(frame, {name: value}) of the loop's frame's shader values and numbers."""
    frame = _user_frame()
    if frame is None:
        return None
    return frame, {k: v for k, v in frame.f_locals.items()
                   if isinstance(v, (ShaderVariable, numbers.Number))}


def _reads(blocks, values, old) -> bool:
    """The traced loop (the statements of its `blocks`, and the trees of the `values` it
    made) reads value `old` from before it (a Python number: a literal equal to it)."""
    if isinstance(old, ShaderVariable):
        target = old._node
        match = lambda n: n is target   # noqa: E731
    else:
        match = lambda n: isinstance(n, ir.Lit) and not isinstance(n.value, (tuple, list)) \
            and n.value == old          # noqa: E731
    roots = [v._node for v in values]
    for block in blocks:
        for stmt in ir.walk_stmts(block):
            roots += ir.stmt_nodes(stmt)
    return any(match(n) for root in roots for n in ir.walk_nodes(root))


def _check_carried(snapshot, scope, blocks, skip=None) -> None:
    """A name that held a value before the loop, is given a value made in the loop body,
    and whose old value the body reads: Python would carry the new value into the next
    iteration, but the body is traced once, so every iteration reads the old one."""
    if snapshot is None:
        return
    frame, before = snapshot
    now = frame.f_locals
    made = {name: v for name, v in now.items() if isinstance(v, ShaderVariable)
            and v is not before.get(name) and v is not skip and scope.encloses(v.scope)}
    for name, old in before.items():
        new = made.get(name)
        if new is None or not _reads(blocks, made.values(), old):
            continue
        if isinstance(old, ShaderVariable) and isinstance(old._node, ir.Var) \
                and old._node.mutable and old._node.kind == ir.LOCAL:
            fix = (f"`{name}` is already a variable: update it in place with {name} += "
                   f"..., {name}.set(...) or {name}[:] = ... instead of {name} = ...")
        else:
            fix = (f"to carry `{name}` from one iteration to the next, declare it before "
                   f"the loop - {name} = vc.new_float(...) (vc.new_int, vc.new_vec3, ..., or "
                   f"vc.new(dtype, value)) - and update it in place with {name} += ..., "
                   f"{name}.set(...) or {name}[:] = ...")
        raise CodegenError(
            f"{scope.where}: `{name}` is given a new value inside this {scope.kind} body, "
            f"and the body reads the value `{name}` had before the loop. The body is "
            f"traced once, so every iteration would read that old value (a silently wrong "
            f"result); {fix}")
