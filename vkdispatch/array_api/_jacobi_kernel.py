"""The machinery of the Jacobi kernels (`_spectral_kernels`): a kernel builder with
memory, barrier, reduction and rotation helpers, the scaled load of a matrix and the
sweep loop, for real or complex elements (`_Kernel`'s arithmetic helpers build the
plain real expressions for real kernels).

Each sweep visits every pair (p, q) once, in the rounds of a round-robin tournament:
the pairs of a round are disjoint, so a workgroup's invocations rotate them at once. A
sweep that starts after one that rotated nothing ends the loop, as does the sweep limit
(the result is then the last iterate). The matrix is first divided by its largest
magnitude so that sums of squares neither overflow nor underflow.

The state of the sweeps (go on, rotated, sweeps done, scale, threshold) lives with the
matrix: in shared memory when it fits, else first in the matrix's scratch region, which
outlives a launch, so a driver that limits an invocation's loop iterations (lavapipe)
runs the stages (`stage` bits) and pieces of the sweeps as separate launches."""
from __future__ import annotations

import numpy as np

from ..codegen import ir, ops
from ..codegen.builder import Builder
from ..codegen.variables import convert, load_node, storage_type
from . import _dtypes as d
from . import _element_kernel as element_kernel
from ._sort_kernels import _invocation, _while

MAX_SWEEPS = 30
# the stages of a launch (bits of the `stage` argument): one launch runs them all, or
# (drivers with a loop limit) launches run them apart, the state in scratch memory
LOAD, SWEEPS, WRITE, COMPLETE = 1, 2, 4, 8
ALL = LOAD | SWEEPS | WRITE | COMPLETE
GO, ROTATED, SWEPT, SCALE, FLOOR = range(5)   # state slots
STATE = 5


def _e(op, *args):
    return ops.make(op, *args)


def _i(v):
    return ir.Lit(v, d.int32)


class _Kernel:
    """Helpers over one Builder: literals, arithmetic on elements of dtype t (real or
    complex; each helper builds the plain real expression for a real t), memory access,
    barriers. Norms, rotation angles, the state and the reductions are real."""

    def __init__(self, name: str, t, w: int, shared: int, device, coherent: bool = True):
        self.b = b = Builder(name, device)
        self.coherent = coherent
        self.t, self.w = t, w
        self.complex = t.is_complex
        self.real = (d.float64 if t is d.complex128 else d.float32) if t.is_complex else t
        self.shared = shared
        self.eps = float(np.finfo(t.numpy_dtype).eps)
        self.tiny = float(np.finfo(t.numpy_dtype).tiny)
        self._ctx = b.active()
        self._ctx.__enter__()
        self.out = self.buffer("out", t)
        self.x = self.buffer("x", t)
        self.scratch = None if shared else self.buffer("scratch", t)

    def buffer(self, name, t):
        var = self.b.new_var(t, ir.BUFFER, name=name, mutable=True)
        self.b.add_param(name, "buffer", var)
        return var

    def uniforms(self, *names):
        return [element_kernel.uniform(self.b, name) for name in names]

    def f(self, v):
        """A real literal."""
        return ir.Lit(float(v), self.real)

    def z(self, v):
        """An element literal."""
        return ir.Lit(complex(v) if self.complex else float(v), self.t)

    def mul(self, a, b):
        return _e("cmul" if self.complex else "mul", a, b)

    def conj(self, a):
        return _e("conj", a) if self.complex else a

    def re(self, a):
        return _e("real", a) if self.complex else a

    def mag(self, a):
        """|a|, real."""
        return _e("cabs" if self.complex else "abs", a)

    def norm2(self, a):
        """|a|^2, real."""
        if not self.complex:
            return _e("mul", a, a)
        x, y = self.bind(_e("real", a)), self.bind(_e("imag", a))
        return _e("add", _e("mul", x, x), _e("mul", y, y))

    def scaled(self, a, r, op="mul"):
        """a * r (or a / r) for a real r, part by part."""
        if not self.complex:
            return _e(op, a, r)
        return ops.make("construct", _e(op, _e("real", a), r), _e(op, _e("imag", a), r),
                        dtype=self.t)

    def turn(self, c, s, sb, u, v):
        """(c u - s v, sb u + c v): a plane rotation of (u, v) with the real c and s
        (its conjugate sb) of the element type."""
        if self.complex:
            cu, cv = self.scaled(u, c), self.scaled(v, c)
        else:
            cu, cv = _e("mul", c, u), _e("mul", c, v)
        return _e("sub", cu, self.mul(s, v)), _e("add", self.mul(sb, u), cv)

    def bar(self, a):
        """conj(a), bound (a itself when real)."""
        return self.bind(_e("conj", a)) if self.complex else a

    def off_diagonal(self, x):
        """(|x| for the threshold, the real value the rotation zeroes): x itself when
        real; |x| for a complex x, whose phase goes into the rotation (`phased`)."""
        if not self.complex:
            return _e("abs", x), x
        size = self.bind(_e("cabs", x))
        return size, size

    def phased(self, s, x, size):
        """The rotation's s given the phase of x (|x| = size): s x / |x|."""
        return self.scaled(x, _e("div", s, size)) if self.complex else s

    def put(self, ref, value):
        """Store a real or element value into an element of the matrix memory."""
        self.set(ref, convert(value, ref.dtype))

    def bind(self, node, mutable=False):
        return self.b.bind(node, mutable=mutable)

    def emit(self, stmt):
        self.b.emit(stmt)

    def set(self, ref, value):
        self.b.emit(ir.Assign(ref, value))

    def sync(self):
        """Barrier that also orders buffer memory (scratch, the result) in the group
        (none in a workgroup of one invocation)."""
        if self.w == 1:
            return
        self.emit(ir.Eval(ops.make("memory_barrier", attrs=("buffer",))))
        self.emit(ir.Eval(ops.make("barrier")))

    def at(self, arr, i, t=None, coherent=False):
        t = t or arr.dtype
        attrs = (ir.COHERENT,) if coherent and self.coherent else ()
        return ops.make("index", arr, i, dtype=storage_type(t), attrs=attrs)

    def load(self, arr, i, coherent=False):
        return load_node(self.at(arr, i, coherent=coherent))

    def setup_work(self, ws):
        """The matrix memory (`work(i)`) and sweep state (`state(slot)`): shared arrays,
        or per matrix a region of scratch memory (state first) that outlives a launch."""
        b = self.b
        self.ws = ws
        self.lid = b.bind(_invocation("local_invocation_id"))
        self.stage, self.nsw, self.r0, self.r1, self.c0, self.c1 = self.uniforms(
            "stage", "nsw", "r0", "r1", "c0", "c1")
        if self.shared:
            self.sh = b.add_shared(self.t, self.shared, "work")
            self.st = b.add_shared(self.real, STATE, "state")
        self.base = None
        self.red = b.add_shared(self.real, self.w, "red")
        self.redi = b.add_shared(d.int32, self.w, "redi")

    def begin_matrix(self, g):
        if not self.shared:
            self.base = self.bind(_e("mul", g, self.ws))

    def work(self, i):
        if self.shared:
            return self.at(self.sh, i)
        return self.at(self.scratch, _e("add", self.base, _e("add", _i(STATE), i)),
                       coherent=True)

    def state(self, slot):
        """State slot's value (real; a complex element's real part in scratch memory)."""
        value = load_node(self._state(slot))
        return _e("real", value) if value.dtype.is_complex else value

    def set_state(self, slot, value):
        self.put(self._state(slot), value)

    def _state(self, slot):
        if self.shared:
            return self.at(self.st, _i(slot))
        return self.at(self.scratch, _e("add", self.base, _i(slot)), coherent=True)

    def get(self, i):
        return self.bind(load_node(self.work(i)))

    def stage_is(self, bit):
        return self.when(_e("ne", _e("bit_and", self.stage, _i(bit)), _i(0)),
                         f"stage {bit}")

    def first(self):
        return self.when(_e("eq", self.lid, _i(0)), "first invocation")

    def each(self, count, what):
        """for (s = lid; s < count; s += W), count a kernel value."""
        s = self.b.new_var(d.int32, name="s")
        loop = ir.For(s, self.lid, count, _i(self.w), [])
        self.emit(loop)
        with self.b.nested(loop.body, what):
            yield s

    def loop(self, start, stop, what):
        s = self.b.new_var(d.int32, name="k")
        loop = ir.For(s, start, stop, _i(1), [])
        self.emit(loop)
        with self.b.nested(loop.body, what):
            yield s

    def when(self, cond, what):
        body = []
        self.emit(ir.If(cond, body, []))
        return self.b.nested(body, what)

    def reduce(self, value, op):
        """`op` (add or max) of `value` over the workgroup, the same for every
        invocation: a tree over the W partials (unrolled: no loop iterations)."""
        self.set(self.at(self.red, self.lid), value)
        self.sync()
        half = self.w // 2
        while half:
            with self.when(_e("lt", self.lid, _i(half)), "reduce"):
                self.set(self.at(self.red, self.lid),
                         _e(op, self.at(self.red, self.lid),
                            self.at(self.red, _e("add", self.lid, _i(half)))))
            self.sync()
            half //= 2
        total = self.bind(self.at(self.red, _i(0)))
        self.sync()
        return total

    def rotation(self, diff, off):
        """(c, s) of the Jacobi rotation that zeroes `off` against `diff` = (b - a):
        t = sign(z) / (|z| + sqrt(1 + z^2)), z = diff / (2 off), without overflow."""
        z = self.bind(_e("div", diff, _e("mul", self.f(2), off)))
        az = self.bind(_e("abs", z))
        big = _e("gt", az, self.f(1))
        inv = _e("div", self.f(1), az)
        hyp = ops.make("select", big, _e("mul", az, _e("sqrt", _e("add", self.f(1),
                                                                  _e("mul", inv, inv)))),
                       _e("sqrt", _e("add", self.f(1), _e("mul", az, az))))
        sgn = ops.make("select", _e("ge", z, self.f(0)), self.f(1), self.f(-1))
        tt = self.bind(_e("div", sgn, _e("add", az, hyp)))
        c = self.bind(_e("div", self.f(1), _e("sqrt", _e("add", self.f(1), _e("mul", tt, tt)))))
        return c, self.bind(_e("mul", c, tt))

    def pair(self, k, r, players):
        """Pair k of round r of the round-robin over `players` (even): (p, q), p < q."""
        last = self.bind(_e("sub", players, _i(1)))
        a = _e("mod", _e("add", r, k), last)
        bb = _e("mod", _e("add", _e("sub", r, k), last), last)
        first = _e("eq", k, _i(0))
        u = self.bind(ops.make("select", first, last, a))
        v = self.bind(ops.make("select", first, _e("mod", r, last), bb))
        return self.bind(_e("min", u, v)), self.bind(_e("max", u, v))

    def matrices(self, count):
        """while (g < count) over this workgroup's matrices: yields g."""
        groups = self.bind(_invocation("num_workgroups"))
        g, body = _while(self.b, lambda v: _e("lt", v, count), _invocation("workgroup_id"))
        with self.b.nested(body, "matrix loop"):
            self.begin_matrix(g)
            yield g
            self.set(g, _e("add", g, groups))

    def rank(self, key_of, j, n, descending):
        """How many of keys 0..n-1 come before key j (ties by index)."""
        kj = self.bind(key_of(j))
        rank = self.bind(_i(0), mutable=True)
        for i in self.loop(_i(0), n, "rank"):
            ki = self.bind(key_of(i))
            first = _e("gt", ki, kj) if descending else _e("lt", ki, kj)
            before = _e("logical_or", first, _e("logical_and", _e("eq", ki, kj),
                                                 _e("lt", i, j)))
            self.set(rank, _e("add", rank, ops.make("select", before, _i(1), _i(0))))
        return rank

    def finish(self):
        self._ctx.__exit__(None, None, None)
        return self.b.finish((self.w, 1, 1))


def _scaled_load(k: _Kernel, g, total, rs, cs, xo, xb, source, adjust=None):
    """Load the matrix (element e of `total` at work[e], read from x at row/column
    `source(e)`, then `adjust(e, value)` if given), divide it by its largest magnitude
    (state SCALE) and start the sweeps."""
    biggest = k.bind(k.f(0), mutable=True)
    xbase = k.bind(_e("add", xo, _e("mul", g, xb)))
    for e in k.each(total, "load"):
        r, c = source(e)
        v = k.load(k.x, _e("add", xbase, _e("add", _e("mul", r, rs), _e("mul", c, cs))))
        v = k.bind(adjust(e, v) if adjust else v)
        k.set(k.work(e), v)
        k.set(biggest, _e("max", biggest, k.mag(v)))
    scale = k.reduce(biggest, "max")
    scale = k.bind(ops.make("select", _e("gt", scale, k.f(0)), scale, k.f(1)))
    for e in k.each(total, "scale"):
        k.set(k.work(e), k.scaled(load_node(k.work(e)), scale, "div"))
    with k.first():
        for slot, value in ((GO, 1), (ROTATED, 1), (SWEPT, 0)):
            k.set_state(slot, k.f(value))
        k.set_state(SCALE, scale)
    k.sync()


def _sweeps(k: _Kernel, n, body):
    """`nsw` sweeps of the rounds r0..r1-1 over pairs of 0..n-1; a sweep starting at
    round 0 after one that rotated nothing (state ROTATED stays 0), or after
    MAX_SWEEPS, ends them (state GO). `body(r, players)` emits one round (ending with
    k.sync())."""
    players = k.bind(_e("add", n, _e("bit_and", n, _i(1))))
    for _ in k.loop(_i(0), k.nsw, "sweeps"):
        k.sync()
        with k.when(_e("logical_and", _e("eq", k.lid, _i(0)), _e("eq", k.r0, _i(0))),
                    "sweep start"):
            stop = _e("logical_or", _e("eq", k.state(ROTATED), k.f(0)),
                      _e("ge", k.state(SWEPT), k.f(MAX_SWEEPS)))
            with k.when(stop, "converged"):
                k.set_state(GO, k.f(0))
            k.set_state(ROTATED, k.f(0))
            k.set_state(SWEPT, _e("add", k.state(SWEPT), k.f(1)))
        k.sync()
        # read between two barriers (the next write is after the next one): all agree
        go = k.bind(_e("ne", k.state(GO), k.f(0)))
        with k.when(go, "sweep"):
            for r in k.loop(k.r0, k.r1, "rounds"):
                body(r, players)
    k.sync()
