"""Building the dense factorization kernels: `Gen` wraps a Builder with arithmetic on
elements of one dtype (real or complex), loops, conditionals, the workspace (shared or
global) and the batch loop of one-workgroup-per-matrix kernels."""
from __future__ import annotations

import contextlib

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert
from . import _dtypes as d
from . import _element_kernel as element_kernel

I32 = d.int32


def e(op, *args):
    return ops.make(op, *args)


def i32(v):
    return ir.Lit(v, I32)


def invocation(name):
    return convert(ops.make("swizzle", ops.make("builtin", attrs=(name,), dtype=dt.uvec3),
                            attrs=("x",)), I32)


class Gen:
    """A kernel being built: typed arithmetic on elements of dtype `t`, loops, the
    workspace and the batch loop."""

    def __init__(self, name: str, t, rank: int, cap: int, w: int, device, coherent: bool):
        self.b = Builder(name, device)
        self.coherent = coherent
        self.t, self.rank, self.cap, self.w = t, rank, cap, w
        self.real = d.float64 if t in (d.float64, d.complex128) else d.float32

    # ------------------------------------------------------------ values
    def lit(self, v):
        return ir.Lit(complex(v) if self.t.is_complex else float(v), self.t)

    def rlit(self, v):
        return ir.Lit(float(v), self.real)

    def mul(self, a, b):
        return e("cmul" if self.t.is_complex else "mul", a, b)

    def div(self, a, b):
        return e("cdiv" if self.t.is_complex else "div", a, b)

    def conj(self, a):
        return e("conj", a) if self.t.is_complex else a

    def mag(self, a):
        """|a| as a real number."""
        return e("cabs" if self.t.is_complex else "abs", a)

    def scaled(self, a, r):
        """a times the real r (part by part: no 0 * inf from a complex product)."""
        if not self.t.is_complex:
            return e("mul", a, r)
        return ops.make("construct", e("mul", e("real", a), r), e("mul", e("imag", a), r),
                        dtype=self.t)

    def re(self, a):
        return e("real", a) if self.t.is_complex else a

    def of_real(self, r):
        return convert(r, self.t)

    def bind(self, node, mutable=False):
        return self.b.bind(node, mutable=mutable)

    def set(self, var, value):
        self.b.emit(ir.Assign(var, value))

    # ------------------------------------------------------------ parameters
    def buffer(self, name, t=None):
        var = self.b.new_var(t or self.t, ir.BUFFER, name=name, mutable=True)
        self.b.add_param(name, "buffer", var)
        return var

    def uniform(self, name):
        return element_kernel.uniform(self.b, name)

    # ------------------------------------------------------------ control flow
    @contextlib.contextmanager
    def loop(self, start, stop, step=None, what="loop"):
        var = self.b.new_var(I32, name="i")
        stmt = ir.For(var, start, stop, step if step is not None else i32(1), [])
        self.b.emit(stmt)
        with self.b.nested(stmt.body, what):
            yield var

    def spread(self, stop, what="spread"):
        """for (s = local id; s < stop; s += invocations)."""
        return self.loop(self.lid, stop, i32(self.w), what)

    @contextlib.contextmanager
    def when(self, cond, orelse: list = None):
        body = []
        self.b.emit(ir.If(cond, body, orelse))
        with self.b.nested(body, "if"):
            yield

    def sync(self):
        if not self.cap:
            self.b.emit(ir.Eval(ops.make("memory_barrier", attrs=("buffer",))))
        self.b.emit(ir.Eval(ops.make("barrier")))

    # ------------------------------------------------------------ workspace
    def workspace(self, per_matrix):
        """Declare the workspace: `per_matrix` elements of each matrix's slot."""
        self.per = per_matrix
        if self.cap:
            self.work = self.b.add_shared(self.t, self.cap, "work")
        else:
            self.work = self.buffer("scratch")

    def at(self, k):
        """Workspace element k of the matrix's slot."""
        attrs = (ir.COHERENT,) if self.coherent and not self.cap else ()
        return ops.make("index", self.work, e("add", self.wbase, k), dtype=self.t,
                        attrs=attrs)

    @contextlib.contextmanager
    def each_matrix(self):
        """The grid-stride loop over matrices m0 .. m0 + mcount - 1 (uniforms; a global
        workspace has a slot per matrix, kept between launches): yields (m, its batch
        coordinates)."""
        b = self.b
        m0, mcount = self.uniform("m0"), self.uniform("mcount")
        self.lid = b.bind(invocation("local_invocation_id"))
        groups = b.bind(invocation("num_workgroups"))
        self.dims = [self.uniform(f"d{j}") for j in range(self.rank)]
        m = b.bind(e("add", m0, invocation("workgroup_id")), mutable=True)
        stmt = ir.While([], e("lt", m, e("add", m0, mcount)), [])
        b.emit(stmt)
        with b.nested(stmt.body, "matrix loop"):
            self.wbase = i32(0) if self.cap else b.bind(e("mul", e("sub", m, m0), self.per))
            rem, coords = m, []
            for j in reversed(range(self.rank)):
                coords.append(b.bind(e("mod", rem, self.dims[j])))
                if j:
                    rem = b.bind(e("div", rem, self.dims[j]))
            coords.reverse()
            yield m, coords
            self.sync()     # a shared slot is reused by the next matrix
            self.set(m, e("add", m, groups))

    @contextlib.contextmanager
    def phase(self, name):
        """The block run in the launch whose uniform `name` ('first', 'last') is 1."""
        with self.when(e("ne", self.uniform(name), i32(0))):
            yield

    def steps(self, first, stop):
        """The loops over this launch's steps lo .. hi-1 (uniforms) of two stages:
        (the loop over its steps below `stop`, the loop over the rest). Both are
        uniform in the workgroup, so the first stage's barriers are outside any
        conditional (PoCL miscompiles barriers in branches)."""
        lo, hi = self.uniform("lo"), self.uniform("hi")
        # the bounds are computed before the loops: PoCL miscompiled a loop with
        # barriers whose condition called min()
        split = self.bind(e("min", hi, stop))
        return (self.loop(lo, split, what=f"{first} steps"),
                self.loop(self.bind(e("max", lo, stop)), hi, what="later steps"))

    @contextlib.contextmanager
    def split(self, cond):
        """if (cond) {first block} else {second block}: yields the two contexts."""
        body, orelse = [], []
        self.b.emit(ir.If(cond, body, orelse))
        yield self.b.nested(body, "then"), self.b.nested(orelse, "else")

    def base_of(self, prefix: str, coords):
        """offset + coordinates . batch strides of input `prefix` (uniforms)."""
        total = self.uniform(f"{prefix}o")
        for j, c in enumerate(coords):
            total = e("add", total, e("mul", c, self.uniform(f"{prefix}b{j}")))
        return self.bind(total)

    def load(self, x, base, rows, cols, rs, cs):
        """workspace[i * cols + j] = x[base + i * rs + j * cs]."""
        with self.spread(e("mul", rows, cols), "load") as s:
            i = self.bind(e("div", s, cols))
            j = self.bind(e("sub", s, e("mul", i, cols)))
            at = e("add", base, e("add", e("mul", i, rs), e("mul", j, cs)))
            self.set(self.at(s), ops.make("index", x, at, dtype=self.t))

    def finish(self):
        return self.b.finish((self.w, 1, 1))


def lead(g):
    """The block run by invocation 0 only."""
    return g.when(e("eq", g.lid, i32(0)))
