"""The spectral functions of the linalg extension: eigh, eigvalsh, svd, svdvals, and
pinv and matrix_rank on top of them. Real and complex floating-point input (64-bit
parts where the device has float64), batched over leading dimensions; the
decompositions run on the device as cyclic Jacobi kernels (`_spectral_kernels`;
complex rotations for complex input), one lazy node per call whose result holds values
and vectors side by side (the returned arrays are views of it; values of complex input,
real, are the real part of their slots)."""
from __future__ import annotations

import math
from collections import namedtuple

from ..execution import lazy
from . import _dtypes as d
from . import _jacobi_kernel as J
from . import _spectral_kernels as K
from ._array import Array
from ._elementwise import _real_of
from ._kernels import KernelCache, grid, launch
from ._linalg_dense import _real_part
from ._sorting import check_bindable

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])

GROUP = 64                    # invocations per matrix (a workgroup) on GPUs
SHARED_BUDGET = 32 * 1024     # bytes of shared memory a workgroup may take
LOOP_LIMIT = None             # tests set one to run the staged launches on any driver
_kernels = KernelCache()


def _group(device) -> int:
    """Invocations per matrix: GROUP on GPUs; on CPU drivers, which run a workgroup's
    invocations as loops, one subgroup (lavapipe: 8; 1000 16x16 eigh took 5.6 s with
    256 invocations, 0.6 s with 8), and one on OpenCL, where PoCL takes minutes to
    compile these kernels' many barriers (each matrix then runs serially, batches
    spread over the cores)."""
    if device.device_type == "cpu":
        if device.backend == "opencl":
            return 1
        want = device.subgroup_size
    else:
        want = GROUP
    limit = min(device.max_workgroup_invocations, device.max_workgroup_size[0], want)
    return 1 << (max(limit, 1).bit_length() - 1)


def _shared_capacity(device, t, w: int) -> int:
    """Elements of dtype t a kernel may keep in shared memory besides its W-long
    reduction arrays and its state."""
    budget = min(device.max_shared_memory, SHARED_BUDGET) - w * (t.itemsize + 4)
    return max(0, budget // t.itemsize - J.STATE - 4)


class _Layout:
    """How one call runs: W invocations per matrix (a workgroup), `ws` elements of
    memory per matrix (state, then work), in shared memory when it fits (`shared`:
    the shared array's length), else in scratch memory; `groups` workgroups; the
    launches, each (stage bits, sweeps, first round, end round, first column, end
    column). One launch runs everything unless the driver limits the loop iterations
    of an invocation: then the stages go apart, the sweeps and the completion in as
    few pieces as the limit allows, and what still can't run raises ValueError."""

    def __init__(self, device, t, kind, vectors, full, m, n, count, name):
        self.w = w = _group(device)
        if kind == "eigh":
            work = n * n * (2 if vectors else 1) + 3 * ((n + 1) // 2)
        else:
            work = m * n + (n * n if vectors else 0) + n
        self.ws = work + J.STATE
        cap = _shared_capacity(device, t, w)
        self.shared = cap if work <= cap and w > 1 else 0
        self.groups = min(count, device.max_workgroup_count[0])
        cost = _Cost(kind, vectors, m, n, m if full else n, w)
        rounds, cp = cost.rounds, cost.cp
        self.launches = [(J.ALL, J.MAX_SWEEPS, 0, rounds, 0, cp)]
        limit = LOOP_LIMIT or device.max_loop_iterations
        per_group = -(-count // self.groups)
        if limit is None or per_group * cost.total() <= limit:
            return
        self.shared = 0
        budget = limit // per_group - 16
        per_sweep = 2 + rounds * cost.per_round
        if max(cost.setup, cost.write, 2 + cost.per_round,
               n + cost.per_column if vectors and kind == "svd" else 0) > budget:
            raise ValueError(
                f"{name}: {count} matrices of {m}x{n} need more loop iterations per "
                f"invocation than {device.name} runs ({limit}; its driver skips the rest), "
                f"even in separate launches: use smaller matrices or batches")
        launches = [(J.LOAD, 0, 0, 0, 0, 0)]
        if per_sweep <= budget:
            step = budget // per_sweep
            for first in range(0, J.MAX_SWEEPS, step):
                launches.append((J.SWEEPS, min(step, J.MAX_SWEEPS - first), 0, rounds, 0, 0))
        else:
            step = (budget - 2) // cost.per_round
            for _ in range(J.MAX_SWEEPS):
                for r0 in range(0, rounds, step):
                    launches.append((J.SWEEPS, 1, r0, min(rounds, r0 + step), 0, 0))
        launches.append((J.WRITE, 0, 0, 0, 0, 0))
        if vectors and kind == "svd":
            step = max(1, (budget - n) // cost.per_column)
            for c0 in range(0, cp, step):
                launches.append((J.COMPLETE, 0, 0, 0, c0, min(cp, c0 + step)))
        self.launches = launches


class _Cost:
    """Upper bounds of the loop iterations one invocation runs for one matrix, per
    stage (the kernels' loops, W invocations sharing the work)."""

    def __init__(self, kind, vectors, m, n, cp, w):
        def per(x):
            return -(-x // w)
        half = (n + 1) // 2
        self.rounds, self.cp = n + (n & 1) - 1, cp
        self.vectors = vectors and kind == "svd"
        if kind == "eigh":
            self.setup = 1 + 4 * per(n * n)
            self.per_round = 1 + per(half) + per(half * half) + per(half * n)
            self.write = per(n) * 2 * n
        else:
            self.setup = 1 + 2 * per(m * n) + per(n * n)
            self.per_round = 1 + per(half) * (2 * m + n)
            self.write = per(n) * (2 * m + 2 * n)
        self.per_column = 3 * per(m) * (cp + 1) + per(cp) * (m + 1) + per(m) + 1
        self.n = n

    def total(self) -> int:
        sweeps = J.MAX_SWEEPS * (2 + self.rounds * self.per_round)
        complete = self.n + self.cp * self.per_column if self.vectors else 0
        return 1 + self.setup + sweeps + self.write + complete


class _JacobiOp:
    """The lazy node op: args (Leaf x seen as (B, M, N)); the result (B, slots)."""
    __slots__ = ("key", "kind", "vectors", "full", "transposed")

    def __init__(self, kind: str, vectors: bool, full: bool, transposed: bool):
        self.key = ("jacobi", kind, vectors, full, transposed)
        self.kind, self.vectors, self.full = kind, vectors, full
        self.transposed = transposed

    def record(self, graph, node) -> None:
        (x,) = node.args
        count = x.shape[0]
        if count == 0:
            return
        ctx = graph.context
        device, t = ctx.device, node.dtype
        view = x.view
        xb, xr, xc = view.strides
        m, n = x.shape[1:]
        if self.transposed:
            m, n, xr, xc = n, m, xc, xr
        lay = _Layout(device, t, self.kind, self.vectors, self.full, m, n, count, "")
        w, shared, ws = lay.w, lay.shared, lay.ws
        key = (self.kind, t, self.vectors, shared, w)
        gen = K.eigh_kernel if self.kind == "eigh" else K.svd_kernel
        coherent = not (t.is_complex and ctx.codegen_target == "cuda")
        kern = _kernels.get(ctx, key,
                            lambda dev: gen(t, self.vectors, shared, w, dev, coherent))
        out = node.target
        values = {"count": count, "m": m, "n": n, "xo": view.offset, "xb": xb, "xr": xr,
                  "xc": xc, "br": xr, "bc": xc, "oo": out.offset, "ob": out.strides[0],
                  "oe": out.strides[1], "ws": ws}
        if self.kind == "svd" and self.vectors:
            cp = m if self.full else n
            values.update(cp=cp, p0=n, q0=n + m * cp)
            if self.transposed:     # U = Q, Vh = P^T: both row-major
                values.update(pi=1, pk=m, qi=n, qk=1)
            else:                   # U = P, Vh = Q^T
                values.update(pi=cp, pk=1, qi=1, qk=n)
        buffers = [out.storage.buffer, view.storage.buffer]
        if not shared:
            buffers.append(lazy.allocate((count * ws,), t).storage.buffer)
        for stage, nsw, r0, r1, c0, c1 in lay.launches:
            values.update(stage=stage, nsw=nsw, r0=r0, r1=r1, c0=c0, c1=c1)
            launch(graph, kern, grid(ctx, lay.groups), buffers, values)


def _check(x, name: str, square: bool):
    if not isinstance(x, Array):
        raise TypeError(f"{name} takes an array, got {type(x).__name__}")
    if x.dtype not in d.REAL_FLOATING and not x.dtype.is_complex:
        raise TypeError(f"{name} takes floating-point arrays, got {x.dtype.name}")
    if x.ndim < 2:
        raise ValueError(f"{name} takes arrays of at least 2 dimensions (..., M, N), got "
                         f"shape {x.shape}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name} takes square matrices (..., N, N), got shape {x.shape}")
    from ._elementwise import check_device_dtype
    check_device_dtype(x.device, x.dtype, name)


def _run(x, name: str, kind: str, vectors: bool, full: bool, slots: int):
    """The (B, slots) result of the Jacobi kernel on x seen as (B, M, N)."""
    from ._manipulation import reshape
    m, n = x.shape[-2:]
    x3 = reshape(x, (-1, m, n))
    view = x3._placed()
    op = _JacobiOp(kind, vectors, full, kind == "svd" and m < n)
    lay = _Layout(x.device.context.device, x.dtype, kind, vectors, full, max(m, n),
                  min(m, n), x3.shape[0], name)     # raises what the device can't run
    scratch = [] if lay.shared else [(x3.shape[0] * lay.ws, x.dtype)]
    check_bindable(name, x.device, [view], [(x3.shape[0] * slots, x.dtype)] + scratch)
    return Array._record(op, (lazy.Leaf(view, x3.shape, x.dtype),), (x3.shape[0], slots),
                         x.dtype, x.device)


def eigvalsh(x, /) -> Array:
    """Eigenvalues (ascending) of the symmetric (Hermitian) matrices x (..., N, N),
    read from the lower triangle, in x's real floating-point dtype."""
    _check(x, "eigvalsh", True)
    batch, n = x.shape[:-2], x.shape[-1]
    if n == 0 or math.prod(batch) == 0:
        from ._creation import empty
        return empty(batch + (n,), dtype=_real_of(x.dtype), device=x.device)
    packed = _run(x, "eigvalsh", "eigh", False, False, n)
    return _real_part(_vec(packed, 0, n, batch))


def _vec(packed, start: int, n: int, batch: tuple):
    from ._manipulation import reshape
    return reshape(packed[:, start:start + n], batch + (n,))


def _mat(packed, start: int, rows: int, cols: int, batch: tuple):
    from ._manipulation import reshape
    return reshape(packed[:, start:start + rows * cols], batch + (rows, cols))


def eigh(x, /) -> EighResult:
    """Eigenvalues (ascending, in x's real floating-point dtype) and orthonormal
    (unitary) eigenvectors (columns) of the symmetric (Hermitian) matrices x (..., N,
    N), read from the lower triangle."""
    _check(x, "eigh", True)
    batch, n = x.shape[:-2], x.shape[-1]
    if n == 0 or math.prod(batch) == 0:
        from ._creation import empty
        return EighResult(empty(batch + (n,), dtype=_real_of(x.dtype), device=x.device),
                          empty(x.shape, dtype=x.dtype, device=x.device))
    packed = _run(x, "eigh", "eigh", True, False, n + n * n)
    return EighResult(_real_part(_vec(packed, 0, n, batch)), _mat(packed, n, n, n, batch))


def svdvals(x, /) -> Array:
    """Singular values (descending) of the matrices x (..., M, N), shape (..., K),
    K = min(M, N), in x's real floating-point dtype."""
    _check(x, "svdvals", False)
    batch, k = x.shape[:-2], min(x.shape[-2:])
    if k == 0 or math.prod(batch) == 0:
        from ._creation import empty
        return empty(batch + (k,), dtype=_real_of(x.dtype), device=x.device)
    return _real_part(_vec(_run(x, "svdvals", "svd", False, False, k), 0, k, batch))


def svd(x, /, *, full_matrices=True) -> SVDResult:
    """U, S, Vh with x = U @ diag(S) @ Vh for the matrices x (..., M, N): S descending
    (..., K), K = min(M, N), in x's real floating-point dtype; U (..., M, M) and Vh
    (..., N, N) with `full_matrices`, else U (..., M, K) and Vh (..., K, N). U and Vh
    have orthonormal (for complex x, unitary) columns / rows."""
    _check(x, "svd", False)
    if not isinstance(full_matrices, (bool, int)) and type(full_matrices).__name__ != "bool_":
        raise TypeError(f"svd's full_matrices must be a bool, got {full_matrices!r}")
    full = bool(full_matrices)
    batch, (m_in, n_in) = x.shape[:-2], x.shape[-2:]
    k = min(m_in, n_in)
    ucols, vrows = (m_in, n_in) if full else (k, k)
    if k == 0 or math.prod(batch) == 0:
        return _empty_svd(x, batch, ucols, vrows, k)
    m, n = max(m_in, n_in), k          # B = x or its transpose, m x n, m >= n
    cp = m if full else n
    packed = _run(x, "svd", "svd", True, full, n + m * cp + n * n)
    s = _real_part(_vec(packed, 0, n, batch))
    if m_in >= n_in:
        u, vh = _mat(packed, n, m, cp, batch), _mat(packed, n + m * cp, n, n, batch)
    else:
        u, vh = _mat(packed, n + m * cp, n, n, batch), _mat(packed, n, cp, m, batch)
    return SVDResult(u, s, vh)


def _empty_svd(x, batch, ucols, vrows, k):
    """svd of matrices with no elements (or no matrices): identity completions."""
    from ._creation import empty, eye
    from ._manipulation import broadcast_to
    m, n = x.shape[-2:]

    def basis(rows, cols):
        if math.prod(batch) == 0 or rows == 0 or cols == 0:
            return empty(batch + (rows, cols), dtype=x.dtype, device=x.device)
        return broadcast_to(eye(rows, cols, dtype=x.dtype, device=x.device),
                            batch + (rows, cols))
    return SVDResult(basis(m, ucols),
                     empty(batch + (k,), dtype=_real_of(x.dtype), device=x.device),
                     basis(vrows, n))


def _tolerance(s, x, rtol, name: str):
    """rtol * the largest singular value, shaped (..., 1) against s (..., K)."""
    from ._elementwise import apply
    from ._manipulation import expand_dims
    m, n = x.shape[-2:]
    if rtol is None:
        import numpy as np
        rtol = max(m, n) * float(np.finfo(x.dtype.numpy_dtype).eps)
    elif isinstance(rtol, Array):
        if rtol.dtype not in d.REAL_FLOATING:
            raise TypeError(f"{name}'s rtol must be a real floating-point array or a "
                            f"float, got {rtol.dtype.name}")
        rtol = expand_dims(rtol, axis=-1)
    elif isinstance(rtol, bool) or not isinstance(rtol, (int, float)):
        raise TypeError(f"{name}'s rtol must be a float or an array, got {rtol!r}")
    return apply("multiply", s[..., :1], rtol)


def matrix_rank(x, /, *, rtol=None) -> Array:
    """The number of singular values of x (..., M, N) above rtol times the largest
    (default rtol: max(M, N) * eps of x's dtype), as the default integer dtype."""
    from ._elementwise import apply
    from ._info import default_int
    from ._searching import count_nonzero
    _check(x, "matrix_rank", False)
    s = svdvals(x)
    if s.shape[-1] == 0:
        from ._creation import zeros
        return zeros(x.shape[:-2], dtype=default_int(x.device), device=x.device)
    above = apply("greater", s, _tolerance(s, x, rtol, "matrix_rank"))
    return count_nonzero(above, axis=-1)


def pinv(x, /, *, rtol=None) -> Array:
    """The Moore-Penrose pseudo-inverse (..., N, M) of x (..., M, N) from its SVD,
    singular values at most rtol times the largest (default rtol: max(M, N) * eps)
    taken as zero."""
    from ._elementwise import apply, where
    from ._linalg import matmul
    from ._manipulation import expand_dims
    _check(x, "pinv", False)
    m, n = x.shape[-2:]
    if min(m, n) == 0 or math.prod(x.shape[:-2]) == 0:
        from ._creation import zeros
        return zeros(x.shape[:-2] + (n, m), dtype=x.dtype, device=x.device)
    u, s, vh = svd(x, full_matrices=False)
    keep = apply("greater", s, _tolerance(s, x, rtol, "pinv"))
    inv = where(keep, apply("divide", 1, where(keep, s, 1)), 0)
    v_scaled = apply("multiply", _adjoint(vh), expand_dims(inv, axis=-2))
    return matmul(v_scaled, _adjoint(u))


def _adjoint(a):
    """The conjugate transpose of the matrices a."""
    from ._elementwise import apply
    from ._manipulation import matrix_transpose
    return matrix_transpose(apply("conj", a) if a.dtype.is_complex else a)
