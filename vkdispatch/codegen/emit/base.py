"""What the three emitters share: the kernel layout, literal and statement printing.

An emitter turns one `ir.Kernel` into source for its target. Per-op lowering rules
are tables `{op: rule}` where a rule is a format string over the operand strings
(`{0}`, `{1}`, ...; `{T}` the result type, `{T0}` the first operand's type) or a
callable `(emitter, expr, args) -> str`. Ops without a rule print as `op(args)`.
"""
from __future__ import annotations

import abc
import hashlib
import math
from dataclasses import dataclass

import numpy as np

from ...base.abi import BINDING_BUFFER_ADDRESS, BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE, Binding, ProgramInfo, UniformField
from ...base import dtype as dt
from ...base.dtype import DType
from ...base.errors import UnsupportedFeatureError
from .. import ir

@dataclass(frozen=True)
class EmittedKernel:
    source: str
    info: ProgramInfo
    target: str


def uniform_layout(types, target: str):
    """(offsets, sizes, total) of uniform values packed for `target`.

    GLSL declares the uniform block with scalar layout (components aligned to their
    size); CUDA and OpenCL receive each value as its own by-value kernel argument, so
    only the argument's size matters there (OpenCL's 3-vectors take 4 slots)."""
    offsets, sizes, off = [], [], 0
    for t in types:
        size = t.itemsize
        align = t.base.itemsize // (2 if t.is_complex else 1)
        if target == "opencl" and t.is_vector and t.count == 3:
            size = t.base.itemsize * 4
        if target != "glsl":
            align = max(align, min(size, 16))
        off = (off + align - 1) // align * align
        offsets.append(off)
        sizes.append(size)
        off += size
    total = (off + 15) // 16 * 16 if off else 0
    return offsets, sizes, total


def written_arrays(kernel: ir.Kernel) -> set:
    """Ids of the arrays and images the kernel stores to (also through atomics)."""
    out = set()
    for stmt in ir.walk_stmts(kernel.body):
        if isinstance(stmt, ir.Assign) and isinstance(stmt.target, ir.Expr) \
                and stmt.target.op == "index":
            out.add(stmt.target.args[0].id)
        for root in ir.stmt_nodes(stmt):
            for n in ir.walk_nodes(root):
                if isinstance(n, ir.Expr) and n.op.startswith("atomic"):
                    out.add(n.args[0].args[0].id)
                elif isinstance(n, ir.Expr) and n.op == "image_store":
                    out.add(n.args[0].id)
    debug = kernel.debug_param()
    if debug is not None:      # reports are written by the emitter's helper, not the IR
        out.add(debug.var.id)
    return out


def coherent_arrays(kernel: ir.Kernel) -> set:
    """Ids of the buffers with a coherent access (read past other workgroups' caches)."""
    return {n.args[0].id for n in ir.index_nodes(kernel.body) if ir.COHERENT in n.attrs}


def program_info(kernel: ir.Kernel, target: str, entry_point: str,
                 push_constant_limit: int = 0, address_params=frozenset(),
                 implicit_lengths: bool = False) -> ProgramInfo:
    """Bindings in parameter order (buffers and images), then the packed uniforms; on
    GLSL they go in push constants when they fit in `push_constant_limit` bytes, else in
    a uniform buffer bound after the other bindings. Buffers named in `address_params`
    are reached through device addresses that lead the uniform block. With
    `implicit_lengths` the kernel reads bound buffers' lengths itself (GLSL .length()),
    so only the buffers reached by address keep their hidden length uniforms."""
    bindings = []
    written = written_arrays(kernel)
    addressed = [p for p in kernel.params if p.var.kind == ir.BUFFER and p.name in address_params]
    dropped = set()
    if implicit_lengths:
        dropped = {ir.length_param_name(p.name) for p in kernel.params
                   if p.var.kind == ir.BUFFER and p.name not in address_params}
    uniform_params = [p for p in kernel.params if p.var.kind not in (ir.BUFFER, ir.IMAGE)
                      and not (p.name in dropped and ir.is_length_param(p))]
    types = [dt.uint64] * len(addressed) + [p.var.dtype for p in uniform_params]
    offsets, sizes, total = uniform_layout(types, target)
    address_offsets = dict(zip((p.name for p in addressed), offsets))
    filtered = {n.args[0].id for n in ir.all_nodes(kernel)
                if isinstance(n, ir.Expr) and n.op == "image_sample"}
    for p in kernel.params:
        v = p.var
        if v.kind == ir.BUFFER:
            kind = BINDING_BUFFER_ADDRESS if p.name in address_offsets else BINDING_STORAGE_BUFFER
            bindings.append(Binding(p.name, kind, len(bindings), v.dtype.name,
                                    writable=v.id in written,
                                    uniform_offset=address_offsets.get(p.name, -1)))
        elif v.kind == ir.IMAGE:
            kind = BINDING_SAMPLED_IMAGE if v.sampled else BINDING_STORAGE_IMAGE
            bindings.append(Binding(p.name, kind, len(bindings), v.dtype.name, dim=v.dim,
                                    writable=not v.sampled, arrayed=v.arrayed,
                                    filtered=v.id in filtered))
    uniforms = tuple(UniformField(p.name, p.var.dtype.name, o, s)
                     for p, o, s in zip(uniform_params, offsets[len(addressed):],
                                        sizes[len(addressed):]))
    shared = sum(v.dtype.itemsize * v.length for v in kernel.shared)
    features = set()
    for t in ir.used_dtypes(kernel):
        b = t.base
        if b in (dt.float64, dt.complex128):
            features.add("float64")
        elif b in (dt.float16, dt.complex32):
            features.add("float16")
        elif b in (dt.int64, dt.uint64):
            features.add("int64")
        elif b in (dt.int16, dt.uint16):
            features.add("int16")
        elif b in (dt.int8, dt.uint8):
            features.add("int8")
    if addressed:
        features.add("int64")      # addressed buffers are indexed with 64-bit offsets
    return ProgramInfo(entry_point=entry_point, local_size=tuple(kernel.local_size),
                       bindings=tuple(bindings), uniforms=uniforms, uniform_size=total,
                       uniform_in_push_constants=0 < total <= push_constant_limit,
                       uniform_binding=len(bindings),
                       shared_memory=shared, features=frozenset(features))


def format_float(value: float, t: DType) -> str:
    """Shortest round-tripping decimal for `t`'s precision; always has a '.' or 'e'."""
    if t is dt.float64:
        s = repr(float(value))
    elif t is dt.float16:
        s = str(np.float16(value))
    else:
        s = str(np.float32(value))
    if not any(c in s for c in ".en"):
        s += ".0"
    return s


# longest identifier an emitter writes: PoCL fails to link kernels named with 255+
# characters and aborts the process on longer ones (its cache path overflows)
MAX_IDENTIFIER = 64


def safe_identifier(name: str, prefix: str = "vkd_", reserved=lambda s: False,
                    limit: int = MAX_IDENTIFIER) -> str:
    """`name` as an ASCII C identifier of at most `limit` characters. Other characters
    become '_'; a name that is reserved (`reserved(s)`) or starts with a digit gets
    `prefix`; one that had to lose characters (too long, or changed) ends in a short
    hash of the original, so distinct names stay distinct."""
    name = str(name)
    s = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)
    lossy = s != name
    if not s or s[0].isdigit() or reserved(s):
        s = prefix + s
    if lossy or len(s) > limit:
        digest = hashlib.blake2s(name.encode("utf-8", "surrogatepass"), digest_size=4)
        s = s[:limit - 9] + "_" + digest.hexdigest()
    return s


def strip_parens(s: str) -> str:
    """`(a + b)` -> `a + b` when the outer parentheses enclose the whole expression."""
    if not (s.startswith("(") and s.endswith(")")):
        return s
    depth = 0
    for i, c in enumerate(s):
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and i < len(s) - 1:
            return s
    return s[1:-1]


def comment_lines(text: str) -> list:
    """`text` as C / GLSL comment lines (every target reads /* */ and //)."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return ["// " + line if line else "//" for line in lines]


def _mentions(block, var) -> bool:
    for stmt in ir.walk_stmts(block):
        for root in ir.stmt_nodes(stmt):
            if any(n is var for n in ir.walk_nodes(root)):
                return True
    return False


def zero_node(t: DType):
    """The zero of `t` as an IR node (vectors and matrices by construction)."""
    if t.is_complex:
        return ir.Lit(0j, t)
    if t.is_scalar:
        return ir.Lit(False if t.is_bool else (0.0 if t.is_float else 0), t)
    base = t.base
    return ir.Expr("construct", (ir.Lit(0.0 if base.is_float else 0, base),), t)


class Emitter(abc.ABC):
    target = ""
    rules: dict = {}
    reserved: frozenset = frozenset()
    # names starting with these belong to the target language (builtins, macros)
    reserved_prefixes: tuple = ("gl_", "__")
    indent_unit = "    "
    # the kernel knows its bound buffers' lengths (GLSL .length()); else hidden uniforms
    implicit_lengths = False

    # the helper that records an out-of-range access in the debug buffer (debug mode)
    REPORT_FN = "vkd_oob"

    def __init__(self, kernel: ir.Kernel, entry_point: str = "main",
                 push_constant_limit: int = 0, address_params=frozenset(),
                 site_base: int = 0):
        self.kernel = kernel
        self.entry_point = entry_point
        self.info = program_info(kernel, self.target, entry_point, push_constant_limit,
                                 address_params, self.implicit_lengths)
        self.checks = kernel.memory_checks
        self.lengths = kernel.length_params() if self.checks else {}
        self.ops = ir.used_ops(kernel)
        self.dtypes = ir.used_dtypes(kernel)
        self.written = written_arrays(kernel)
        self.coherent = coherent_arrays(kernel)
        self._names = {}
        self._taken = set(self.reserved)
        # debug mode: site k of the kernel reports as id site_base + k + 1 (build_kernel
        # numbers the sites of all of a context's kernels apart)
        debug = kernel.debug_param() if self.checks else None
        self.debug_var = debug.var if debug is not None else None
        self.site_base = site_base
        if self.debug_var is not None:
            self._taken.add(self.REPORT_FN)
        for p in kernel.params:    # parameters and shared arrays keep their names first
            self.name(p.var)
        for v in kernel.shared:
            self.name(v)

    # ------------------------------------------------------------------ names
    def name(self, var: ir.Var) -> str:
        """A collision-free identifier for `var` (user names kept where legal)."""
        n = self._names.get(var.id)
        if n is None:
            legal = var.name.isidentifier() and var.name.isascii()
            base = var.name if legal else f"v{var.id}"
            if len(base) > MAX_IDENTIFIER - 8:    # room for the suffixes added below
                base = safe_identifier(base, limit=MAX_IDENTIFIER - 8)
            if base.startswith(self.reserved_prefixes):
                base = "u" + base
            n = base
            k = 1
            while n in self._taken:
                n = f"{base}_{k}"
                k += 1
            self._taken.add(n)
            self._names[var.id] = n
        return n

    # ------------------------------------------------------------------ types & literals
    def type_name(self, t: DType) -> str:
        return t.target_name(self.target)

    @abc.abstractmethod
    def literal(self, lit: ir.Lit) -> str:
        """`lit` in the target's literal syntax."""

    @abc.abstractmethod
    def special_float(self, value: float, t: DType) -> str:
        """An infinity or NaN of type `t` (no target has literals for them)."""

    def float_literal(self, value: float, t: DType, suffix: str = "") -> str:
        rounded = {dt.float16: np.float16, dt.float32: np.float32}.get(t, float)(value)
        if math.isnan(rounded) or math.isinf(rounded):   # 1e300 as float32 is inf
            return self.special_float(float(rounded), t)
        return format_float(value, t) + suffix

    # ------------------------------------------------------------------ memory checks
    def checked_ref(self, node) -> bool:
        """`node` is an element of an array whose accesses are guarded."""
        return (self.checks and isinstance(node, ir.Expr) and node.op == "index"
                and node.args[0].kind in (ir.BUFFER, ir.SHARED, ir.LOCAL_ARRAY)
                and ir.IN_BOUNDS not in node.attrs)

    def in_bounds(self, ref: ir.Expr):
        """The condition under which element `ref` exists, or None when it always does
        (a literal index into a fixed-size array, checked while tracing)."""
        array, idx = ref.args
        wide = idx.dtype.itemsize == 8
        if array.kind == ir.BUFFER:
            return self.buffer_in_bounds(array, idx, wide)
        if isinstance(idx, ir.Lit):
            return None
        n = self.literal(ir.Lit(array.length, dt.uint64 if wide else dt.uint32))
        return f"({self.as_unsigned(self.expr(idx), wide)} < {n})"

    def buffer_in_bounds(self, array: ir.Var, idx, wide: bool) -> str:
        """`idx` < the element count of buffer `array` (its hidden length uniform)."""
        n = self.var_ref(self.lengths[array.id])
        return f"({self.as_unsigned(self.expr(idx), True)} < {n})"

    def as_unsigned(self, s: str, wide: bool) -> str:
        """An integer expression as a 32-bit (64 if `wide`) unsigned value: negative
        indices become huge, so one comparison rejects both ends."""
        return f"(({self.type_name(dt.uint64 if wide else dt.uint32)})({s}))"

    def zero(self, t: DType) -> str:
        return self.expr(zero_node(t))

    # ------------------------------------------------------------------ debug reports
    def site_id(self, ref: ir.Expr, access: str):
        """The id `ref`'s out-of-range `access` reports with, or None (not reported)."""
        if self.debug_var is None:
            return None
        k = ir.site_of(ref, access)
        return None if k is None else self.site_base + k + 1

    def missed(self, ref: ir.Expr, access: str, t: DType) -> str:
        """The value of a load or atomic of `ref` that is out of range: 0 of type `t`,
        after reporting it where the access is a report site."""
        site = self.site_id(ref, access)
        if site is None:
            return self.zero(t)
        return f"({self.report_call(site, ref)}, {self.zero(t)})"

    def report_call(self, site: int, ref: ir.Expr) -> str:
        """A call of REPORT_FN recording site id `site` with `ref`'s index and its
        array's element count (the target's helper from `report_helper`)."""
        self.unsupported("out-of-range reports")

    def report_helper(self) -> list:
        """Lines defining REPORT_FN, when the kernel reports (else [])."""
        return []

    def report_length(self, array: ir.Var) -> str:
        """`array`'s element count, as the guard compares against (CUDA, OpenCL)."""
        if array.kind == ir.BUFFER:
            return self.var_ref(self.lengths[array.id])
        return str(array.length)

    def store_guard(self, s):
        """The condition guarding statement `s` (a store into a checked array), or None."""
        if self.checks and isinstance(s, ir.Assign) and self.checked_ref(s.target):
            return self.in_bounds(s.target)
        return None

    # ------------------------------------------------------------------ expressions
    def expr(self, node) -> str:
        if isinstance(node, ir.Var):
            return self.var_ref(node)
        if isinstance(node, ir.Lit):
            return self.literal(node)
        if self.checks:
            if self.checked_ref(node):            # a load: 0 past the end
                cond = self.in_bounds(node)
                if cond is not None:
                    miss = self.missed(node, ir.READ, node.dtype)
                    return f"({cond} ? {self.render(node)} : {miss})"
            elif node.op.startswith("atomic_") and self.checked_ref(node.args[0]):
                cond = self.in_bounds(node.args[0])   # an atomic past the end: not done
                if cond is not None:
                    args = [self.render(node.args[0])] + [self.expr(a) for a in node.args[1:]]
                    miss = self.missed(node.args[0], ir.ATOMIC, node.dtype)
                    return f"({cond} ? {self.apply_rule(node, args)} : {miss})"
        return self.render(node)

    def render(self, node) -> str:
        """`node` without a memory check of its own (an lvalue, or already guarded)."""
        if not isinstance(node, ir.Expr):
            return self.expr(node)
        return self.apply_rule(node, [self.expr(a) for a in node.args])

    def apply_rule(self, node: ir.Expr, args: list) -> str:
        rule = self.rules.get(node.op)
        if rule is None:
            return f"{node.op}({', '.join(args)})"
        if callable(rule):
            return rule(self, node, args)
        fields = {"T": self.type_name(node.dtype)}
        if node.args:
            fields["T0"] = self.type_name(node.args[0].dtype)
        return rule.format(*args, **fields)

    def var_ref(self, var: ir.Var) -> str:
        return self.name(var)

    # ------------------------------------------------------------------ statements
    def block(self, stmts, depth: int) -> list:
        lines = []
        for s in stmts:
            guard = self.store_guard(s)
            if guard is None:
                lines.extend(self.stmt(s, depth))
            else:                                 # a store past the end is dropped
                pad = self.indent_unit * depth
                lines.append(f"{pad}if ({strip_parens(guard)}) {{")
                lines.extend(self.stmt(s, depth + 1))
                site = self.site_id(s.target, ir.WRITE)
                if site is not None:              # ... and reported (debug mode)
                    lines.append(f"{pad}}} else {{")
                    lines.append(f"{pad}{self.indent_unit}{self.report_call(site, s.target)};")
                lines.append(pad + "}")
        return lines

    def stmt(self, s, depth: int) -> list:
        pad = self.indent_unit * depth
        if isinstance(s, ir.Declare):
            return [pad + self.declare(s.var, s.init)]
        if isinstance(s, ir.Assign):
            return [f"{pad}{self.render(s.target)} = {strip_parens(self.expr(s.value))};"]
        if isinstance(s, ir.Eval) and s.expr.op == "comment":
            return [f"{pad}{line}" for line in comment_lines(s.expr.attrs[0])]
        if isinstance(s, ir.Eval):
            return [f"{pad}{strip_parens(self.expr(s.expr))};"]
        if isinstance(s, ir.If):
            return self.if_stmt(s, depth, "if")
        if isinstance(s, ir.While):
            cond = s.cond
            if (len(s.pre) == 1 and isinstance(s.pre[0], ir.Declare) and s.pre[0].var is cond
                    and s.pre[0].init is not None and not _mentions(s.body, cond)):
                cond = s.pre[0].init   # `while (i < n)` rather than a break in a `while (true)`
            if not s.pre or cond is not s.cond:
                lines = [f"{pad}while ({strip_parens(self.expr(cond))}) {{"]
            else:
                lines = [f"{pad}while (true) {{"]
                lines += self.block(s.pre, depth + 1)
                lines.append(f"{pad}{self.indent_unit}if (!{self.expr(s.cond)}) break;")
            return lines + self.block(s.body, depth + 1) + [pad + "}"]
        if isinstance(s, ir.For):
            v = self.name(s.var)
            step = s.step
            negative = isinstance(step, ir.Lit) and step.value < 0
            cmp = ">" if negative else "<"
            inc = f"{v} += {self.expr(step)}" if not (isinstance(step, ir.Lit) and step.value == 1) \
                else f"++{v}"
            head = (f"for ({self.type_name(s.var.dtype)} {v} = {self.expr(s.start)}; "
                    f"{v} {cmp} {self.expr(s.stop)}; {inc}) {{")
            return [pad + head] + self.block(s.body, depth + 1) + [pad + "}"]
        if isinstance(s, ir.Break):
            return [pad + "break;"]
        if isinstance(s, ir.Continue):
            return [pad + "continue;"]
        if isinstance(s, ir.Return):
            return [pad + "return;"]
        raise TypeError(f"unknown statement {s!r}")

    def if_stmt(self, s: ir.If, depth: int, keyword: str) -> list:
        pad = self.indent_unit * depth
        lines = [f"{pad if keyword == 'if' else ''}{keyword} ({strip_parens(self.expr(s.cond))}) {{"]
        lines += self.block(s.body, depth + 1)
        if s.orelse is None:
            lines.append(pad + "}")
        elif len(s.orelse) == 1 and isinstance(s.orelse[0], ir.If):
            nested = self.if_stmt(s.orelse[0], depth, "else if")
            lines.append(f"{pad}}} {nested[0]}")
            lines += nested[1:]
        else:
            lines.append(pad + "} else {")
            lines += self.block(s.orelse, depth + 1)
            lines.append(pad + "}")
        return lines

    def declare(self, var: ir.Var, init) -> str:
        tn = self.type_name(var.dtype)
        if var.kind == ir.LOCAL_ARRAY:
            return f"{tn} {self.name(var)}[{var.length}];"
        if init is None:
            return f"{tn} {self.name(var)};"
        const = "" if var.mutable else self.const_qualifier
        return f"{const}{tn} {self.name(var)} = {strip_parens(self.expr(init))};"

    const_qualifier = "const "

    # ------------------------------------------------------------------ helpers
    def unsupported(self, what: str):
        raise UnsupportedFeatureError(f"the {self.target} emitter cannot express {what}")

    @abc.abstractmethod
    def emit(self) -> EmittedKernel:
        """The kernel's whole source and ProgramInfo."""

    def body_lines(self) -> list:
        return self.block(self.kernel.body, 1)
