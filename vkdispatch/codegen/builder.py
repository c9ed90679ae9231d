"""The tracing builder: records statements into the IR while a shader function runs.

One `Builder` per traced kernel. The active builder is kept on a thread-local stack
(entered with `with builder.active():`), so traced functions on several threads never
share state.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import threading
from typing import Optional

from ..base import dtype as dt
from ..base.dtype import DType
from ..base.errors import CodegenError, UnsupportedFeatureError
from . import ir, report

_tls = threading.local()
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONTEXTLIB = os.path.abspath(contextlib.__file__)


def user_location() -> str:
    """file:line of the innermost frame outside the vkdispatch package (and contextlib,
    which runs the `with vc.if_block(...)` blocks)."""
    frame = inspect.currentframe()
    while frame is not None:
        fname = os.path.abspath(frame.f_code.co_filename)
        if not (fname.startswith(_PACKAGE_DIR) or fname == _CONTEXTLIB):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def codegen_error(msg: str) -> CodegenError:
    return CodegenError(f"{user_location()}: {msg}")


class Scope:
    """A block being traced (an if/else branch, a loop body): values made while it is
    the innermost scope exist only inside it and cannot be used after it has ended."""
    __slots__ = ("parent", "kind", "where", "alive")

    def __init__(self, parent: Optional["Scope"], kind: str, where: str):
        self.parent = parent
        self.kind = kind
        self.where = where
        self.alive = True

    def encloses(self, other: "Scope") -> bool:
        """`other` is this scope or one nested in it."""
        while other is not None:
            if other is self:
                return True
            other = other.parent
        return False

    def ended(self) -> "Scope":
        """The outermost ended scope of this one's chain (the block that was left)."""
        s = self
        while s.parent is not None and not s.parent.alive:
            s = s.parent
        return s


class Builder:
    def __init__(self, name: str = "main", device=None):
        self.name = name
        self.device = device          # DeviceInfo used for feature checks (None: allow all)
        self.params: list[ir.Param] = []
        self.shared: list[ir.Var] = []
        self.body: list = []
        self._blocks: list[list] = [self.body]
        self.root_scope = self.scope = Scope(None, "kernel", "")
        # var id -> (file:line, what) of declarations moved into a loop condition or an
        # else-if chain (they exist only there: named when used after it)
        self.moved: dict = {}
        self._next_id = 0
        # a 1-D launch folded into a 2-D grid (more workgroups than the device allows
        # along x): global_invocation_id().x is then the linear index
        self.fold_1d = False
        # guard every array access (see ir.Kernel); the launcher then fills the hidden
        # `vkd_len_<param>` uniforms finish() adds with the bound buffers' element counts
        self.memory_checks = False
        # debug mode (with memory_checks): guarded accesses also report the first
        # out-of-range one through a hidden debug buffer (see report.py); `locations`
        # keeps id(index Expr) -> (Expr, the user's file:line) of each access
        self.report = False
        self.locations: dict = {}
        # (buffer Vars, index node) whose accesses are in range by construction: the
        # launch guarantees `index < exec count.x <= len(buffer)` (exec_size "buf.size")
        self.in_range = ((), None)
        # loop iterations per invocation known while tracing (literal vc.range bounds):
        # the enclosing loops' product, and the total over every loop so far, checked
        # against DeviceInfo.max_loop_iterations (lavapipe skips iterations past it)
        self.loop_multiplier = 1
        self.static_loop_iterations = 0
        # blocks opened by 0.1's statement style (vc.if_statement ... vc.end())
        self.open_blocks: list = []

    # ---------------------------------------------------------------- activation
    @contextlib.contextmanager
    def active(self):
        stack = _stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()

    # ---------------------------------------------------------------- variables
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def new_var(self, dtype: DType, kind: str = ir.LOCAL, name: Optional[str] = None,
                **kw) -> ir.Var:
        vid = self.new_id()
        return ir.Var(vid, name or f"v{vid}", dtype, kind, **kw)

    def add_param(self, name: str, kind: str, var: ir.Var, hidden: bool = False) -> ir.Param:
        if any(p.name == name for p in self.params):
            raise codegen_error(f"duplicate parameter name {name!r}")
        p = ir.Param(name, kind, var, hidden)
        self.params.append(p)
        return p

    def param_shape(self, var: ir.Var) -> ir.Var:
        """The hidden ivec4 uniform with buffer or image parameter `var`'s shader shape
        (see ir.shader_shape; an image array's layers count as its third axis); the
        launcher fills it from the bound resource."""
        param = next((p for p in self.params if p.var is var), None)
        if param is None:
            raise codegen_error("only buffer parameters have a shape; shared and local "
                                "arrays have a fixed .size")
        name = ir.shape_param_name(param.name)
        for p in self.params:
            if p.name == name:
                return p.var
        var = self.new_var(dt.ivec4, ir.UNIFORM, name=name)
        self.add_param(name, "const", var, hidden=True)
        return var

    def add_shared(self, dtype: DType, length: int, name: Optional[str] = None) -> ir.Var:
        if not isinstance(length, int) or length <= 0:
            raise codegen_error(f"shared array length must be a positive int, got {length!r}")
        var = self.new_var(dtype, ir.SHARED, name=name or f"sdata{len(self.shared)}",
                           length=length, mutable=True)
        self.shared.append(var)
        return var

    # ---------------------------------------------------------------- statements
    @property
    def block(self) -> list:
        return self._blocks[-1]

    def emit(self, stmt) -> None:
        self.block.append(stmt)

    def bind(self, node: ir.Node, mutable: bool = False, name: Optional[str] = None) -> ir.Var:
        """Declare a fresh local initialized with `node` and return it."""
        var = self.new_var(node.dtype, name=name, mutable=mutable)
        self.emit(ir.Declare(var, node))
        return var

    @contextlib.contextmanager
    def nested(self, block: list, kind: str = "block"):
        """Record into `block` (an if/else branch, a loop body) in a new Scope, yielded;
        `kind` names it in errors ("vc.if_block", "vc.range loop", ...)."""
        self._blocks.append(block)
        scope = self.scope = Scope(self.scope, kind, user_location())
        try:
            yield scope
        finally:
            self._blocks.pop()
            scope.alive = False
            self.scope = scope.parent

    def last_if(self) -> ir.If:
        """The innermost trailing If chain of the current block, for else-if / else."""
        if not self.block or not isinstance(self.block[-1], ir.If):
            raise codegen_error("else_if_block / else_block must directly follow an if_block")
        node = self.block[-1]
        while node.orelse is not None:
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ir.If):
                node = node.orelse[0]
            else:
                raise codegen_error("this if_block already has an else_block")
        return node

    # ---------------------------------------------------------------- features
    def require(self, feature: str, what: str) -> None:
        """Raise if the target device lacks `feature` (a DeviceInfo flag or subgroup op)."""
        dev = self.device
        if dev is None:
            return
        if feature in ("basic", "arithmetic", "ballot", "shuffle", "vote"):
            ok = feature in dev.subgroup_ops
            desc = f"subgroup '{feature}' operations"
        else:
            ok = bool(getattr(dev, feature, True))
            desc = feature
        if not ok:
            raise UnsupportedFeatureError(
                f"{user_location()}: {what} needs {desc}, which device {dev.name!r} "
                f"({dev.backend}) does not support")

    def require_dtype(self, t: DType) -> None:
        b = t.base
        feature = {dt.float64: "float64", dt.complex128: "float64", dt.float16: "float16",
                   dt.complex32: "float16",
                   dt.int64: "int64", dt.uint64: "int64", dt.int16: "int16",
                   dt.uint16: "int16", dt.int8: "int8", dt.uint8: "int8"}.get(b)
        if feature:
            self.require(feature, f"type {t.name}")

    # ---------------------------------------------------------------- result
    def finish(self, local_size: tuple) -> ir.Kernel:
        if self.open_blocks:
            raise CodegenError(f"kernel {self.name}: {len(self.open_blocks)} block(s) opened "
                               f"with vc.if_statement / vc.else_statement / vc.while_statement "
                               f"/ vc.new_scope were never closed with vc.end()")
        params = list(self.params)
        if self.memory_checks:
            buffers, index = self.in_range
            if buffers:
                for n in ir.index_nodes(self.body):
                    if n.args[0] in buffers and ir.same_node(n.args[1], index):
                        n.attrs = (ir.IN_BOUNDS,)
            taken = {p.name for p in params}
            for buf in ir.checked_buffers(self.body):
                name = ir.length_param_name(next(p.name for p in params if p.var is buf))
                if name in taken:
                    raise CodegenError(f"parameter name {name!r} is reserved for the element "
                                       f"count of buffer parameter {name[len(ir.LENGTH_PREFIX):]!r}"
                                       f"; rename it")
                params.append(ir.Param(name, "const", self.new_var(dt.uint64, ir.UNIFORM,
                                                                   name=name), hidden=True))
        sites = ()
        if self.memory_checks and self.report:
            if ir.DEBUG_PARAM in {p.name for p in params}:
                raise CodegenError(f"parameter name {ir.DEBUG_PARAM!r} is reserved for the "
                                   f"debug buffer; rename it")
            report.drop_atomic_loads(self.body)
            sites = report.assign_sites(self.body, {p.var.id: p.name for p in params},
                                        self.locations)
            if sites:
                var = self.new_var(dt.uint32, ir.BUFFER, name=ir.DEBUG_PARAM, mutable=True)
                params.append(ir.Param(ir.DEBUG_PARAM, "buffer", var, hidden=True))
        kernel = ir.Kernel(self.name, params, list(self.shared), self.body,
                           tuple(local_size), self.memory_checks, sites)
        escaping = ir.escaping(kernel)
        if escaping:
            raise self._escape_error(escaping)
        ir.check(kernel)
        return kernel

    def _escape_error(self, variables) -> CodegenError:
        """A local declared in a block is used after it (through the IR directly, or a
        condition's value used after its loop / else-if chain)."""
        for v in variables:
            if v.id in self.moved:
                where, what = self.moved[v.id]
                return CodegenError(
                    f"{where}: a value computed for {what} is used after it; the "
                    f"condition is evaluated inside the loop / else branch, so its values "
                    f"do not exist afterwards. Compute the value again where it is used, "
                    f"or keep it in a variable declared before (x = vc.new(dtype, value))")
        names = ", ".join(repr(v.name) for v in variables)
        return CodegenError(f"kernel {self.name}: local(s) {names} declared inside a block are "
                            f"used outside it; declare them before the block")


def _stack() -> list:
    s = getattr(_tls, "stack", None)
    if s is None:
        s = _tls.stack = []
    return s


def current() -> Builder:
    s = _stack()
    if not s:
        raise CodegenError(f"{user_location()}: codegen functions can only be called while a "
                           f"shader is being traced (inside a @vd.shader function)")
    return s[-1]
