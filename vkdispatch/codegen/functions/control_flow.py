"""Structured control flow as context managers and a loop generator."""
from __future__ import annotations

import contextlib

from ...base import dtype as dt
from .. import ir
from ..builder import codegen_error, current
from ..variables import ShaderVariable, convert, to_node


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
    with b.nested(stmt.body):
        yield


@contextlib.contextmanager
def else_if_block(cond):
    """Must directly follow an if_block / else_if_block."""
    b = current()
    node = to_node(cond)
    # a condition computed after the if (e.g. from a mutable variable) was bound to
    # locals there; those belong to the else branch, evaluated only when reached
    setup = _defining_stmts(b, node)
    prev = b.last_if()
    stmt = ir.If(_cond(node), [])
    prev.orelse = setup + [stmt]
    with b.nested(stmt.body):
        yield


@contextlib.contextmanager
def else_block():
    b = current()
    prev = b.last_if()
    prev.orelse = []
    with b.nested(prev.orelse):
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
        with b.nested(pre):
            c = _cond(cond())
    else:
        node = to_node(cond)
        pre = _defining_stmts(b, node)
        c = _cond(node)
    stmt = ir.While(pre, c, [])
    b.emit(stmt)
    with b.nested(stmt.body):
        yield


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
    with b.nested(stmt.body):
        yield ShaderVariable(b, var)


def break_():
    current().emit(ir.Break())


def continue_():
    current().emit(ir.Continue())


def return_():
    current().emit(ir.Return())
