"""The generated kernels of the dense factorizations (LU with partial pivoting,
Cholesky, Householder QR): one workgroup per matrix (a grid-stride loop over the
batch), the matrix copied into a workspace, factored there by the workgroup, and the
results written to one contiguous output.

A factorization is a sequence of steps (a column eliminated, a reflector applied, a
row substituted); a launch runs steps lo .. hi-1 (uniforms), the first launch also
loads the input and the last writes the results, so the host can split the work over
launches where a driver caps the loop iterations of an invocation (lavapipe).

The workspace is shared memory of `cap` elements when the matrix fits and one launch
does (`cap` > 0), else a global scratch buffer with a slot per matrix, kept between
launches (`cap` == 0). The algorithm is the same; the global variant's barriers also
order buffer memory and its accesses are coherent (`coherent`; CUDA's __syncthreads
already makes a block's global writes visible to the block).

Pivot searches and norms run on invocation 0 (O(n) per step, against O(n^2 /
invocations) for the updates); right-hand sides (solve) and Q (qr) are updated one
column per invocation, so each column is only ever touched by its owner. Barriers
are never inside a conditional (PoCL miscompiles them there).

Batch dimensions are kernel arguments (`rank` of them): matrix m's inputs are at
offset + its batch coordinates times the batch strides (0 where broadcast)."""
from __future__ import annotations

from ..codegen import ir, ops
from ._linalg_codegen import I32, Gen, e as _e, i32 as _i, lead


def lu_kernel(mode: str, t, rank: int, cap: int, w: int, device,
                         coherent: bool = True) -> ir.Kernel:
    """LU with partial pivoting of n x n matrices. Steps 0 .. n-1 eliminate column k;
    then per `mode`: 'det': out[m] = det; 'slogdet': out[m] = sign, out[count + m] =
    log|det|; 'solve': steps n .. 3n-1 substitute row by row into out[m] (n x k,
    contiguous) = A^-1 B, B read from `rhs` (the identity when uniform `ident` is 1),
    and out[fo + m] = 1 where A is singular. The workspace holds A then the parity."""
    g = Gen(f"vkd_lu_{mode}", t, rank, cap, w, device, coherent)
    solve = mode == "solve"
    with g.b.active():
        out, x = g.buffer("out"), g.buffer("x")
        rhs = g.buffer("rhs") if solve else None
        n, xr, xc = g.uniform("n"), g.uniform("xr"), g.uniform("xc")
        if solve:
            k_len, ident, fo = g.uniform("k"), g.uniform("ident"), g.uniform("fo")
            br, bc = g.uniform("br"), g.uniform("bc")
        nn = g.bind(_e("mul", n, n))
        g.workspace(_e("add", nn, _i(1)))
        piv = g.b.add_shared(I32, 1, "piv")
        with g.each_matrix() as (m, coords):
            parity = g.at(nn)

            def a(i, j):
                return g.at(_e("add", _e("mul", i, n), j))

            def o(i, j):
                return ops.make("index", out, _e("add", obase, _e("add", _e("mul", i, k_len),
                                                                  j)), dtype=t)
            if solve:
                obase = g.bind(_e("mul", m, _e("mul", n, k_len)))
            with g.phase("first"):
                g.load(x, g.base_of("x", coords), n, n, xr, xc)
                with lead(g):
                    g.set(parity, g.lit(1))
                if solve:
                    bbase = g.base_of("b", coords)
                    with g.spread(k_len, "rhs columns") as j:
                        with g.loop(_i(0), n, what="rhs load") as i:
                            unit = ops.make("select", _e("eq", i, j), g.lit(1), g.lit(0))
                            loaded = ops.make("index", rhs, _e("add", bbase, _e(
                                "add", _e("mul", i, br), _e("mul", j, bc))), dtype=t)
                            g.set(o(i, j), ops.make("select", _e("ne", ident, _i(0)), unit,
                                                    loaded))
            g.sync()
            eliminate, substitute = g.steps("elimination", n)
            with eliminate as k:
                _eliminate(g, n, k, piv, parity, a, o if solve else None,
                           k_len if solve else None)
            if solve:
                with substitute as step:
                    _substitute(g, n, _e("sub", step, n), k_len, a, o)
            with g.phase("last"):
                if solve:
                    with lead(g):
                        bad = g.bind(g.rlit(0), mutable=True)
                        with g.loop(_i(0), n, what="singular check") as i:
                            with g.when(_e("eq", g.mag(a(i, i)), g.rlit(0))):
                                g.set(bad, g.rlit(1))
                        g.set(ops.make("index", out, _e("add", fo, m), dtype=t), g.of_real(bad))
                else:
                    _determinant(g, mode, out, m, n, a, parity)
    return g.finish()


def _eliminate(g, n, k, piv, parity, a, o, k_len):
    """Step k: pivot (the rows of the right-hand sides `o` swapped with
    A's; a swap negates the parity, kept in the workspace), scale column k below the
    diagonal, update the trailing matrix."""
    with lead(g):
        best = g.bind(k, mutable=True)
        big = g.bind(g.mag(a(k, k)), mutable=True)
        with g.loop(_e("add", k, _i(1)), n, what="pivot search") as i:
            v = g.bind(g.mag(a(i, k)))
            with g.when(_e("gt", v, big)):
                g.set(big, v)
                g.set(best, i)
        g.set(ops.make("index", piv, _i(0), dtype=I32), best)
        with g.when(_e("ne", best, k)):
            g.set(parity, _e("sub", g.lit(0), parity))
    g.sync()
    p = g.bind(ops.make("index", piv, _i(0), dtype=I32))
    swap = _e("ne", p, k)
    with g.when(swap):
        with g.spread(n, "row swap") as j:
            tmp = g.bind(a(k, j))
            g.set(a(k, j), a(p, j))
            g.set(a(p, j), tmp)
        if o is not None:
            with g.spread(k_len, "rhs swap") as j:
                tmp = g.bind(o(k, j))
                g.set(o(k, j), o(p, j))
                g.set(o(p, j), tmp)
    g.sync()
    diag = g.bind(a(k, k))
    nonzero = _e("ne", g.mag(diag), g.rlit(0))
    with g.when(nonzero):
        with g.spread(_e("sub", _e("sub", n, k), _i(1)), "multipliers") as s:
            i = g.bind(_e("add", _e("add", k, _i(1)), s))
            g.set(a(i, k), g.div(a(i, k), diag))
    g.sync()
    _rank_one(g, n, k, lambda i, j: g.mul(a(i, k), a(k, j)), a, False)


def _rank_one(g, n, k, product, a, lower_only: bool):
    """A[i, j] -= product(i, j) for k < i, j < n (j <= i when `lower_only`), then a
    barrier."""
    rest = g.bind(_e("sub", _e("sub", n, k), _i(1)))
    with g.spread(_e("mul", rest, rest), "update") as s:
        i = g.bind(_e("add", _e("add", k, _i(1)), _e("div", s, rest)))
        j = g.bind(_e("add", _e("add", k, _i(1)), _e("mod", s, rest)))
        if lower_only:
            with g.when(_e("le", j, i)):
                g.set(a(i, j), _e("sub", a(i, j), product(i, j)))
        else:
            g.set(a(i, j), _e("sub", a(i, j), product(i, j)))
    g.sync()


def _substitute(g, n, s, k_len, a, o):
    """Row s (< n: forward, L y = P b, L's diagonal 1) or row 2n-1-s (backward,
    U x = y) of each column the invocation owns, in place in out."""
    with g.spread(k_len, "rhs columns") as j:
        with g.split(_e("lt", s, n)) as (forward, backward):
            with forward:
                acc = g.bind(o(s, j), mutable=True)
                with g.loop(_i(0), s, what="forward dot") as l:
                    g.set(acc, _e("sub", acc, g.mul(a(s, l), o(l, j))))
                g.set(o(s, j), acc)
            with backward:
                i = g.bind(_e("sub", _e("sub", _e("mul", n, _i(2)), _i(1)), s))
                acc = g.bind(o(i, j), mutable=True)
                with g.loop(_e("add", i, _i(1)), n, what="backward dot") as l:
                    g.set(acc, _e("sub", acc, g.mul(a(i, l), o(l, j))))
                g.set(o(i, j), g.div(acc, a(i, i)))


def _determinant(g, mode, out, m, n, a, parity):
    """Invocation 0: det (the product of U's diagonal, signed by the pivots' parity),
    or slogdet's sign and log|det| (at `count` + m: uniform)."""
    t = g.t
    with lead(g):
        sign = g.bind(parity, mutable=True)
        if mode == "det":
            with g.loop(_i(0), n, what="product") as i:
                g.set(sign, g.mul(sign, a(i, i)))
            g.set(ops.make("index", out, m, dtype=t), sign)
            return
        logs = g.bind(g.rlit(0), mutable=True)
        with g.loop(_i(0), n, what="logs") as i:
            v = g.bind(a(i, i))
            size = g.bind(g.mag(v))
            zero = _e("eq", size, g.rlit(0))
            if t.is_complex:
                unit = g.div(v, g.of_real(ops.make("select", zero, g.rlit(1), size)))
            else:   # exactly +-1 (NVIDIA's Vulkan division gave v / |v| = 0.99999994)
                unit = ops.make("select", _e("lt", v, g.lit(0)), g.lit(-1), g.lit(1))
            g.set(sign, ops.make("select", zero, g.lit(0), g.mul(sign, unit)))
            g.set(logs, ops.make("select", zero, g.rlit(float("-inf")),
                                 _e("add", logs, _e("log", size))))
        g.set(ops.make("index", out, m, dtype=t), sign)
        g.set(ops.make("index", out, _e("add", g.uniform("count"), m), dtype=t),
              g.of_real(logs))


def cholesky_kernel(t, rank: int, cap: int, w: int, device,
                    coherent: bool = True) -> ir.Kernel:
    """Steps 0 .. n-1: column k of the lower Cholesky factor L (A = L L^H, from A's
    lower triangle); last, L into out[m] (n x n, contiguous; L^H with uniform
    `upper`). out[fo + m] = 1 where A is not positive definite."""
    g = Gen("vkd_cholesky", t, rank, cap, w, device, coherent)
    with g.b.active():
        out, x = g.buffer("out"), g.buffer("x")
        n, xr, xc = (g.uniform(name) for name in ("n", "xr", "xc"))
        upper, fo = g.uniform("upper"), g.uniform("fo")
        g.workspace(_e("mul", n, n))
        with g.each_matrix() as (m, coords):
            flag = ops.make("index", out, _e("add", fo, m), dtype=t)

            def a(i, j):
                return g.at(_e("add", _e("mul", i, n), j))

            with g.phase("first"):
                g.load(x, g.base_of("x", coords), n, n, xr, xc)
                with lead(g):
                    g.set(flag, g.lit(0))
            g.sync()
            columns, _ = g.steps("column", n)
            with columns as k:
                with lead(g):
                    pivot = g.bind(g.re(a(k, k)))
                    with g.split(_e("gt", pivot, g.rlit(0))) as (ok, bad):  # NaN: bad
                        with ok:
                            g.set(a(k, k), g.of_real(_e("sqrt", pivot)))
                        with bad:
                            g.set(flag, g.lit(1))
                            g.set(a(k, k), g.lit(1))     # go on with defined values
                g.sync()
                diag = g.bind(a(k, k))
                with g.spread(_e("sub", _e("sub", n, k), _i(1)), "column") as s:
                    i = g.bind(_e("add", _e("add", k, _i(1)), s))
                    g.set(a(i, k), g.div(a(i, k), diag))
                g.sync()
                _rank_one(g, n, k, lambda i, j: g.mul(a(i, k), g.conj(a(j, k))), a,
                          lower_only=True)
            with g.phase("last"):
                obase = g.bind(_e("mul", m, _e("mul", n, n)))
                with g.spread(_e("mul", n, n), "store") as s:
                    i = g.bind(_e("div", s, n))
                    j = g.bind(_e("sub", s, _e("mul", i, n)))
                    lower = ops.make("select", _e("le", j, i), a(i, j), g.lit(0))
                    mirrored = g.conj(ops.make("select", _e("le", i, j), a(j, i), g.lit(0)))
                    g.set(ops.make("index", out, _e("add", obase, s), dtype=t),
                          ops.make("select", _e("ne", upper, _i(0)), mirrored, lower))
    return g.finish()


def qr_kernel(t, rank: int, cap: int, w: int, device,
              coherent: bool = True) -> ir.Kernel:
    """Householder QR of r x c matrices A = Q R: steps 0 .. K-1 (uniform `steps`)
    make reflector k and apply it to the trailing columns, steps K .. 2K-1 apply
    reflectors K-1 .. 0 to Q (r x q at out[m], contiguous); last, R (rr x c) to out
    from uniform `ro`. Reflector k is P = I - tau v v^H (tau real, v[k] = 1, P
    Hermitian and unitary); the workspace keeps v below R's diagonal and tau in an
    extra row r."""
    g = Gen("vkd_qr", t, rank, cap, w, device, coherent)
    with g.b.active():
        out, x = g.buffer("out"), g.buffer("x")
        r, c, xr, xc = (g.uniform(n) for n in ("r", "c", "xr", "xc"))
        q, rr, ro, steps = (g.uniform(n) for n in ("q", "rr", "ro", "steps"))
        g.workspace(_e("mul", _e("add", r, _i(1)), c))
        with g.each_matrix() as (m, coords):
            obase = g.bind(_e("mul", m, _e("mul", r, q)))

            def a(i, j):
                return g.at(_e("add", _e("mul", i, c), j))

            def apply(k, column):
                """P_k applied to `column` (element by row) by its owner."""
                tau = g.bind(a(r, k))
                dot = g.bind(column(k), mutable=True)
                with g.loop(_e("add", k, _i(1)), r, what="dot") as i:
                    g.set(dot, _e("add", dot, g.mul(g.conj(a(i, k)), column(i))))
                scaled = g.bind(g.mul(tau, dot))
                g.set(column(k), _e("sub", column(k), scaled))
                with g.loop(_e("add", k, _i(1)), r, what="reflect") as i:
                    g.set(column(i), _e("sub", column(i), g.mul(a(i, k), scaled)))

            def q_column(j):
                return lambda i: ops.make("index", out, _e("add", obase, _e(
                    "add", _e("mul", i, q), j)), dtype=t)

            with g.phase("first"):
                g.load(x, g.base_of("x", coords), r, c, xr, xc)
                with g.spread(q, "Q columns") as j:
                    with g.loop(_i(0), r, what="identity") as i:
                        g.set(q_column(j)(i), ops.make("select", _e("eq", i, j), g.lit(1),
                                                       g.lit(0)))
            g.sync()
            factor, accumulate = g.steps("reflector", steps)
            with factor as k:
                with lead(g):
                    _reflector(g, a, k, r)
                g.sync()
                with g.spread(_e("sub", _e("sub", c, k), _i(1)), "trailing") as s:
                    j = g.bind(_e("add", _e("add", k, _i(1)), s))
                    apply(k, lambda i: a(i, j))
                g.sync()
            with accumulate as step:
                back = g.bind(_e("sub", _e("sub", _e("mul", steps, _i(2)), _i(1)), step))
                with g.spread(q, "Q columns") as j:
                    apply(back, q_column(j))
            with g.phase("last"):
                rbase = g.bind(_e("add", ro, _e("mul", m, _e("mul", rr, c))))
                with g.spread(_e("mul", rr, c), "store R") as s:
                    i = g.bind(_e("div", s, c))
                    j = g.bind(_e("sub", s, _e("mul", i, c)))
                    inside = _e("logical_and", _e("le", i, j), _e("lt", i, r))
                    g.set(ops.make("index", out, _e("add", rbase, s), dtype=t),
                          ops.make("select", inside, a(_e("min", i, _e("sub", r, _i(1))), j),
                                   g.lit(0)))
    return g.finish()


def _reflector(g, a, k, r):
    """Invocation 0: reflector k from column k below row k - 1 (alpha above x):
    beta = -phase(alpha) |(alpha, x)|, v = x / (alpha - beta), tau = 1 + |alpha| / norm;
    P = I (tau 0) when x is 0. The norm is scaled by the largest element (its squares
    would overflow long before it does)."""
    alpha = g.bind(a(k, k))
    size = g.bind(g.mag(alpha))
    top = g.bind(g.rlit(0), mutable=True)
    with g.loop(_e("add", k, _i(1)), r, what="largest") as i:
        g.set(top, _e("max", top, g.mag(a(i, k))))
    tau_ref = a(r, k)
    with g.split(_e("eq", top, g.rlit(0))) as (identity, reflect):
        with identity:
            g.set(tau_ref, g.lit(0))
        with reflect:
            scale = g.bind(_e("max", top, size))
            ratio = g.bind(_e("div", size, scale))
            squares = g.bind(_e("mul", ratio, ratio), mutable=True)
            with g.loop(_e("add", k, _i(1)), r, what="norm") as i:
                part = g.bind(_e("div", g.mag(a(i, k)), scale))
                g.set(squares, _e("add", squares, _e("mul", part, part)))
            norm = g.bind(_e("mul", scale, _e("sqrt", squares)))
            zero = _e("eq", size, g.rlit(0))
            phase = g.bind(ops.make("select", zero, g.lit(1), g.div(alpha, g.of_real(
                ops.make("select", zero, g.rlit(1), size)))))
            beta = g.bind(g.scaled(phase, _e("neg", norm)))
            pivot = g.bind(_e("sub", alpha, beta))
            with g.loop(_e("add", k, _i(1)), r, what="scale") as i:
                g.set(a(i, k), g.div(a(i, k), pivot))
            g.set(a(k, k), beta)
            g.set(tau_ref, g.of_real(_e("add", g.rlit(1), _e("div", size, norm))))
