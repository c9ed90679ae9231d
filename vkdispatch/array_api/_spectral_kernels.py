"""The generated kernels of eigh/eigvalsh and svd/svdvals: cyclic Jacobi, one workgroup
per matrix (a loop over matrices when there are more than workgroups); the sweeps and
their state are in `_jacobi_kernel`.

- `eigh_kernel`: two-sided Jacobi on the symmetric matrix read from the lower triangle:
  per round, each pair's rotation from its 2x2 block, then every 2x2 block of A turned
  by the rotations of its row pair and column pair at once (A stays exactly symmetric;
  a pair's own block takes its two eigenvalues), and the eigenvector columns.
- `svd_kernel`: one-sided (Hestenes) Jacobi on the columns of B (M x N, M >= N; the host
  passes A or its transpose): each invocation orthogonalizes its pair of columns and
  rotates the matching columns of V. Singular values are the column norms, U's columns
  the normalized columns; columns of U for zero singular values, and the M - N columns
  of a full U, are completed by Gram-Schmidt (twice) against the columns before them,
  starting from the unit vector that the columns before leave the most of.

Both sort their values on the device (a rank per value, ties by index) and write values
and vectors to the result's slots in the permuted order. The matrix being rotated lives
in shared memory when it fits (`shared`), else in scratch memory, with the same code.

Complex matrices (Hermitian for eigh) take the same steps in complex arithmetic: a pair
rotates by U = [[c, s], [-conj(s), c]], c real and s = |s| x / |x| carrying the phase
of the element x it zeroes (A_pq, or column p^H column q), so A <- U^H A U and V <- V U
stay unitary; values are real (stored in complex slots, the host takes their real
part). `coherent=False` drops the coherent attribute from scratch and result accesses
(CUDA can't make complex buffers volatile and needn't: __syncthreads orders a block's
global memory)."""
from __future__ import annotations

import numpy as np

from ..codegen import ir, ops
from ..codegen.variables import convert, load_node
from . import _dtypes as d
from ._jacobi_kernel import (COMPLETE, FLOOR, LOAD, ROTATED, SCALE, SWEEPS, WRITE, _e, _i,
                             _Kernel, _scaled_load, _sweeps)


def eigh_kernel(t, vectors: bool, shared: int, w: int, device,
                coherent: bool = True) -> ir.Kernel:
    """out per matrix: n eigenvalues (ascending), then (vectors) the n x n eigenvector
    matrix, row-major, column j for eigenvalue j."""
    k = _Kernel("vkd_eigh", t, w, shared, device, coherent)
    count, n, xo, xb, xr, xc, oo, ob, oe, ws = k.uniforms(
        "count", "n", "xo", "xb", "xr", "xc", "oo", "ob", "oe", "ws")
    k.setup_work(ws)
    nn = k.bind(_e("mul", n, n))
    v0 = nn                                       # V after A, row-major
    cs0 = k.bind(_e("mul", nn, _i(2))) if vectors else nn   # c, s, t per pair of a round
    half = k.bind(_e("div", _e("add", n, _i(1)), _i(2)))

    def a(i, j):
        return k.work(_e("add", _e("mul", i, n), j))

    def v(i, j):
        return k.work(_e("add", v0, _e("add", _e("mul", i, n), j)))

    for g in k.matrices(count):
        def lower(e):
            i, j = _e("div", e, n), _e("mod", e, n)
            return k.bind(_e("max", i, j)), k.bind(_e("min", i, j))
        def hermitian(e, val):      # the upper triangle mirrors the lower; real diagonal
            i, j = _e("div", e, n), _e("mod", e, n)
            im = k.bind(_e("imag", val))
            im = ops.make("select", _e("gt", i, j), im,
                          ops.make("select", _e("lt", i, j), _e("neg", im), k.f(0)))
            return ops.make("construct", _e("real", val), im, dtype=t)

        with k.stage_is(LOAD):
            _scaled_load(k, g, nn, xr, xc, xo, xb, lower, hermitian if k.complex else None)
            if vectors:
                for e in k.each(nn, "identity"):
                    one = _e("eq", _e("div", e, n), _e("mod", e, n))
                    k.set(k.work(_e("add", v0, e)), ops.make("select", one, k.z(1), k.z(0)))
            sq = k.bind(k.f(0), mutable=True)
            for e in k.each(nn, "norm"):
                val = k.bind(load_node(k.work(e)))
                k.set(sq, _e("add", sq, k.norm2(val)))
            fro = k.bind(_e("sqrt", k.reduce(sq, "add")))
            with k.first():
                k.set_state(FLOOR, _e("div", _e("mul", k.f(k.eps), fro), convert(n, k.real)))
            k.sync()

        with k.stage_is(SWEEPS):
            floor = k.bind(k.state(FLOOR))

            def round_(r, players):
                for q_ in k.each(half, "rotations"):
                    p, q = k.pair(q_, r, players)
                    c = k.bind(k.f(1), mutable=True)
                    s = k.bind(k.z(0), mutable=True)
                    tt = k.bind(k.f(0), mutable=True)
                    with k.when(_e("lt", q, n), "pair"):
                        app = k.bind(k.re(load_node(a(p, p))))
                        aqq = k.bind(k.re(load_node(a(q, q))))
                        apq = k.bind(load_node(a(p, q)))
                        size, off = k.off_diagonal(apq)
                        rel = _e("mul", k.f(k.eps), _e("mul", _e("sqrt", _e("abs", app)),
                                                       _e("sqrt", _e("abs", aqq))))
                        big = _e("gt", size, _e("max", rel, floor))
                        with k.when(big, "rotate"):
                            rc, rs = k.rotation(_e("sub", aqq, app), off)
                            with k.when(_e("ne", rs, k.f(0)), "rotated"):
                                k.set(c, rc)
                                k.set(s, k.phased(rs, apq, off))
                                k.set(tt, _e("div", rs, rc))
                                k.set_state(ROTATED, k.f(1))
                    for slot, value in enumerate((c, s, tt)):
                        k.put(k.work(_e("add", cs0, _e("add", _e("mul", half, _i(slot)), q_))),
                              value)
                k.sync()

                def rot(q_):
                    p, q = k.pair(q_, r, players)
                    c = k.bind(k.re(load_node(k.work(_e("add", cs0, q_)))))
                    s = k.bind(load_node(k.work(_e("add", cs0, _e("add", half, q_)))))
                    return p, q, c, s

                # the 2x2 blocks of rows of pair k1, columns of pair k2 >= k1: both
                # rotations at once, each block and its mirror written alike (A stays
                # exactly symmetric); a pair's own block takes its eigenvalues
                for e in k.each(_e("mul", half, half), "blocks"):
                    k1, k2 = k.bind(_e("div", e, half)), k.bind(_e("mod", e, half))
                    p1, q1, c1, s1 = rot(k1)
                    p2, q2, c2, s2 = rot(k2)
                    with k.when(_e("logical_and", _e("eq", k1, k2), _e("ne", s1, k.z(0))),
                                "diagonal block"):
                        t1 = k.re(load_node(k.work(_e("add", cs0, _e("add", _e("mul", half,
                                                                                 _i(2)), k1)))))
                        shift = k.bind(_e("mul", t1, k.off_diagonal(load_node(a(p1, q1)))[1]))
                        k.put(a(p1, p1), _e("sub", k.re(load_node(a(p1, p1))), shift))
                        k.put(a(q1, q1), _e("add", k.re(load_node(a(q1, q1))), shift))
                        k.set(a(p1, q1), k.z(0))
                        k.set(a(q1, p1), k.z(0))
                    moved = _e("logical_or", _e("ne", s1, k.z(0)), _e("ne", s2, k.z(0)))
                    with k.when(_e("logical_and", _e("lt", k1, k2), moved), "block"):
                        v1, v2 = _e("lt", q1, n), _e("lt", q2, n)
                        # a missing index (n odd) reads its partner: its rotation is 1
                        r1 = k.bind(ops.make("select", v1, q1, p1))
                        r2 = k.bind(ops.make("select", v2, q2, p2))
                        x11, x12 = k.bind(load_node(a(p1, p2))), k.bind(load_node(a(p1, r2)))
                        x21, x22 = k.bind(load_node(a(r1, p2))), k.bind(load_node(a(r1, r2)))

                        # A <- U1^H A U2 on the block, U = [[c, s], [-conj(s), c]]
                        cs2, cs1 = k.bar(s2), k.bar(s1)

                        def turn(c, s, sb, u, v):
                            return tuple(k.bind(x) for x in k.turn(c, s, sb, u, v))
                        x11, x12 = turn(c2, cs2, s2, x11, x12)
                        x21, x22 = turn(c2, cs2, s2, x21, x22)
                        x11, x21 = turn(c1, s1, cs1, x11, x21)
                        x12, x22 = turn(c1, s1, cs1, x12, x22)
                        for (i, j, val, ok) in ((p1, p2, x11, None), (p1, q2, x12, v2),
                                                (q1, p2, x21, v1),
                                                (q1, q2, x22, _e("logical_and", v1, v2))):
                            if ok is None:
                                k.set(a(i, j), val)
                                k.set(a(j, i), k.conj(val))
                            else:
                                with k.when(ok, "store"):
                                    k.set(a(i, j), val)
                                    k.set(a(j, i), k.conj(val))
                if vectors:
                    for e in k.each(_e("mul", half, n), "vectors"):
                        p, q, c, s = rot(k.bind(_e("div", e, n)))
                        i = k.bind(_e("mod", e, n))
                        with k.when(_e("logical_and", _e("lt", q, n), _e("ne", s, k.z(0))),
                                    "rotate"):
                            vp, vq = k.bind(load_node(v(i, p))), k.bind(load_node(v(i, q)))
                            new_p, new_q = k.turn(c, k.bar(s), s, vp, vq)    # V <- V U
                            k.set(v(i, p), new_p)
                            k.set(v(i, q), new_q)
                k.sync()

            _sweeps(k, n, round_)
        with k.stage_is(WRITE):
            scale = k.bind(k.state(SCALE))
            def key(i):
                val = k.re(load_node(a(i, i)))
                return ops.make("select", _e("isnan", val), k.f(np.inf), val)

            obase = k.bind(_e("add", oo, _e("mul", g, ob)))

            def out(e):
                return k.at(k.out, _e("add", obase, _e("mul", e, oe)))

            for j in k.each(n, "write"):
                rank = k.rank(key, j, n, descending=False)
                k.put(out(rank), _e("mul", k.re(load_node(a(j, j))), scale))
                if vectors:
                    for i in k.loop(_i(0), n, "vector"):
                        k.set(out(_e("add", n, _e("add", _e("mul", i, n), rank))),
                              load_node(v(i, j)))
            k.sync()
    return k.finish()


def svd_kernel(t, vectors: bool, shared: int, w: int, device,
               coherent: bool = True) -> ir.Kernel:
    """out per matrix of B (m x n, m >= n): n singular values (descending), then
    (vectors) P (m x cp: U's columns) at slots p0 + i*pi + k*pk and Q (n x n: V's
    columns) at slots q0 + i*qi + k*qk, so the host picks U, Vh or their transposes."""
    k = _Kernel("vkd_svd", t, w, shared, device, coherent)
    names = ["count", "m", "n", "xo", "xb", "br", "bc", "oo", "ob", "oe", "ws"]
    if vectors:
        names += ["cp", "p0", "pi", "pk", "q0", "qi", "qk"]
    u = dict(zip(names, k.uniforms(*names)))
    m, n = u["m"], u["n"]
    k.setup_work(u["ws"])
    mn = k.bind(_e("mul", m, n))
    v0 = mn                                            # V after B, both column-major
    s0 = k.bind(_e("add", mn, _e("mul", n, n))) if vectors else mn   # sums of squares
    half = k.bind(_e("div", _e("add", n, _i(1)), _i(2)))
    tol = k.bind(_e("mul", k.f(k.eps), _e("sqrt", convert(m, k.real))))

    def col(j, i):      # B's (and then U's) column j, row i
        return k.work(_e("add", _e("mul", j, m), i))

    def vcol(j, i):
        return k.work(_e("add", v0, _e("add", _e("mul", j, n), i)))

    for g in k.matrices(u["count"]):
        with k.stage_is(LOAD):
            _scaled_load(k, g, mn, u["br"], u["bc"], u["xo"], u["xb"],
                         lambda e: (k.bind(_e("mod", e, m)), k.bind(_e("div", e, m))))
            if vectors:
                for e in k.each(_e("mul", n, n), "identity"):
                    one = _e("eq", _e("div", e, n), _e("mod", e, n))
                    k.set(k.work(_e("add", v0, e)), ops.make("select", one, k.z(1), k.z(0)))
                k.sync()

        with k.stage_is(SWEEPS):
            def round_(r, players):
                for q_ in k.each(half, "pairs"):
                    p, q = k.pair(q_, r, players)
                    with k.when(_e("lt", q, n), "pair"):
                        al = k.bind(k.f(0), mutable=True)
                        be = k.bind(k.f(0), mutable=True)
                        ga = k.bind(k.z(0), mutable=True)      # column p^H column q
                        for i in k.loop(_i(0), m, "dots"):
                            bp, bq = k.bind(load_node(col(p, i))), k.bind(load_node(col(q, i)))
                            k.set(al, _e("add", al, k.norm2(bp)))
                            k.set(be, _e("add", be, k.norm2(bq)))
                            k.set(ga, _e("add", ga, k.mul(k.conj(bp), bq)))
                        size, off = k.off_diagonal(ga)
                        big = _e("gt", size, _e("mul", tol, _e("mul", _e("sqrt", al),
                                                                 _e("sqrt", be))))
                        with k.when(big, "rotate"):
                            c, rs = k.rotation(_e("sub", be, al), off)
                            with k.when(_e("ne", rs, k.f(0)), "rotated"):
                                k.set_state(ROTATED, k.f(1))
                                s = k.bind(k.phased(rs, ga, off)) if k.complex else rs
                                cs = k.bar(s)
                                for ref, rows in ((col, m), (vcol, n) if vectors else (None, 0)):
                                    if ref is None:
                                        continue
                                    for i in k.loop(_i(0), rows, "apply"):     # B <- B U
                                        bp, bq = k.bind(load_node(ref(p, i))), \
                                            k.bind(load_node(ref(q, i)))
                                        new_p, new_q = k.turn(c, cs, s, bp, bq)
                                        k.set(ref(p, i), new_p)
                                        k.set(ref(q, i), new_q)
                k.sync()

            _sweeps(k, n, round_)

        obase = k.bind(_e("add", u["oo"], _e("mul", g, u["ob"])))

        def out(e):
            return k.at(k.out, _e("add", obase, _e("mul", e, u["oe"])), coherent=vectors)

        def key(i):     # NaNs last
            val = k.re(load_node(k.work(_e("add", s0, i))))
            return ops.make("select", _e("isnan", val), k.f(-1), val)

        def pslot(i, c):
            return _e("add", u["p0"], _e("add", _e("mul", i, u["pi"]), _e("mul", c, u["pk"])))

        with k.stage_is(WRITE):
            scale = k.bind(k.state(SCALE))
            for j in k.each(n, "norms"):
                ss = k.bind(k.f(0), mutable=True)
                for i in k.loop(_i(0), m, "norm"):
                    bj = k.bind(load_node(col(j, i)))
                    k.set(ss, _e("add", ss, k.norm2(bj)))
                k.put(k.work(_e("add", s0, j)), ss)
            k.sync()

            for j in k.each(n, "write"):
                rank = k.rank(key, j, n, descending=True)
                ss = k.bind(k.re(load_node(k.work(_e("add", s0, j)))))
                k.put(out(rank), _e("mul", _e("sqrt", ss), scale))
                if vectors:
                    good = _e("ge", ss, k.f(k.tiny))
                    inv = k.bind(ops.make("select", good, _e("div", k.f(1), _e("sqrt", ss)),
                                          k.f(0)))
                    for i in k.loop(_i(0), m, "u"):
                        k.set(out(pslot(i, rank)), k.scaled(load_node(col(j, i)), inv))
                    for i in k.loop(_i(0), n, "v"):
                        slot = _e("add", u["q0"], _e("add", _e("mul", i, u["qi"]),
                                                     _e("mul", rank, u["qk"])))
                        k.set(out(slot), k.conj(load_node(vcol(j, i))))     # B = P S Q^H
            k.sync()
        if vectors:
            with k.stage_is(COMPLETE):
                good = k.bind(_i(0), mutable=True)
                for j in k.loop(_i(0), n, "count"):
                    ok = _e("ge", k.re(load_node(k.work(_e("add", s0, j)))), k.f(k.tiny))
                    k.set(good, _e("add", good, ops.make("select", ok, _i(1), _i(0))))
                start = _e("max", good, k.c0)
                for c in k.loop(start, _e("min", u["cp"], k.c1), "complete"):
                    _complete(k, m, c, lambda i, c_: out(pslot(i, c_)))
    return k.finish()


def _complete(k: _Kernel, m, c, p):
    """Column c of U (`p(i, c)`, rows m) as a unit vector orthogonal to columns < c:
    the unit vector e_b they leave the most of (the largest 1 - |row b|^2), minus its
    projection; then once more against the same columns (coefficients in work[])."""
    best_v = k.bind(k.f(-1), mutable=True)
    best_i = k.bind(_i(0), mutable=True)
    for i in k.each(m, "rows left"):
        left = k.bind(k.f(1), mutable=True)
        for j in k.loop(_i(0), c, "row norm"):
            pij = k.bind(load_node(p(i, j)))
            k.set(left, _e("sub", left, k.norm2(pij)))
        with k.when(_e("gt", left, best_v), "better"):
            k.set(best_v, left)
            k.set(best_i, i)
    k.set(k.at(k.red, k.lid), best_v)
    k.set(k.at(k.redi, k.lid, d.int32), best_i)
    k.sync()
    half = k.w // 2
    while half:     # the largest, the first row of equal ones (a tree, unrolled)
        with k.when(_e("lt", k.lid, _i(half)), "pick"):
            other = _e("add", k.lid, _i(half))
            mine, theirs = k.at(k.red, k.lid), k.at(k.red, other)
            mine_i, theirs_i = k.at(k.redi, k.lid, d.int32), k.at(k.redi, other, d.int32)
            better = _e("logical_or", _e("gt", theirs, mine),
                        _e("logical_and", _e("eq", theirs, mine), _e("lt", theirs_i, mine_i)))
            with k.when(better, "better"):
                k.set(mine, theirs)
                k.set(mine_i, theirs_i)
        k.sync()
        half //= 2
    b_ = k.bind(k.at(k.redi, _i(0), d.int32))
    k.sync()
    for i in k.each(m, "first projection"):
        acc = k.bind(ops.make("select", _e("eq", i, b_), k.z(1), k.z(0)), mutable=True)
        for j in k.loop(_i(0), c, "project"):
            k.set(acc, _e("sub", acc, k.mul(k.conj(load_node(p(b_, j))), load_node(p(i, j)))))
        k.set(p(i, c), acc)
    k.sync()
    for j in k.each(c, "coefficients"):
        acc = k.bind(k.z(0), mutable=True)
        for i in k.loop(_i(0), m, "dot"):
            k.set(acc, _e("add", acc, k.mul(k.conj(load_node(p(i, j))), load_node(p(i, c)))))
        k.set(k.work(j), acc)
    k.sync()
    sq = k.bind(k.f(0), mutable=True)
    for i in k.each(m, "second projection"):
        acc = k.bind(load_node(p(i, c)), mutable=True)
        for j in k.loop(_i(0), c, "project"):
            k.set(acc, _e("sub", acc, k.mul(load_node(k.work(j)), load_node(p(i, j)))))
        k.set(p(i, c), acc)
        k.set(sq, _e("add", sq, k.norm2(acc)))
    norm = k.bind(_e("sqrt", k.reduce(sq, "add")))
    for i in k.each(m, "normalize"):
        k.set(p(i, c), k.scaled(load_node(p(i, c)), norm, "div"))
    k.sync()
