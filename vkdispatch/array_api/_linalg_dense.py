"""The `linalg` extension's dense functions (Array API 2024.12) on the device.

cholesky, det, slogdet, inv, solve and qr run generated kernels (one workgroup per
matrix, `_linalg_factor` / `_linalg_kernels`): LU with partial pivoting, Cholesky,
Householder QR, for float32/float64/complex64/complex128. The others are built from
the namespace's lazy operations (views, elementwise kernels, reductions, matmul);
matrix_norm's orders 2, -2 and 'nuc' take `_linalg_spectral.svdvals`.

inv, solve and cholesky read a per-matrix failure flag back from the device (a sync
point) and raise `LinAlgError` (a ValueError, as NumPy's) naming the first matrix that
is singular (an exactly zero pivot) or not positive definite. det and slogdet of a
singular matrix give 0 and (0, -inf), as NumPy does."""
from __future__ import annotations

import math
import operator
from collections import namedtuple

from . import _dtypes as d
from ._array import Array
from ._elementwise import apply, broadcast_shapes, cast, where
from ._linalg_factor import check_float, factor
from ._manipulation import _view, expand_dims, reshape, squeeze, stack

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])


class LinAlgError(ValueError):
    """A matrix has no inverse (solve, inv) or no Cholesky factor."""


def _square(x, name: str) -> int:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name} takes square matrices of shape (..., M, M), got shape "
                         f"{x.shape}")
    return x.shape[-1]


def _raise_flagged(flat, start: int, batch: tuple, name: str, what: str) -> None:
    """LinAlgError naming the first matrix whose flag (flat[start:]) is set."""
    count = math.prod(batch)
    if count == 0:
        return
    flags = flat[start:start + count]._to_numpy().real
    bad = [i for i, f in enumerate(flags.reshape(-1)) if f != 0]
    if bad:
        where = []
        rem = bad[0]
        for s in reversed(batch):
            where.append(rem % s)
            rem //= s
        which = f"matrix {tuple(reversed(where))} of the batch" if batch else "the matrix"
        raise LinAlgError(f"{name}: {which} is {what} ({len(bad)} of {count} matrices)")


def _real_part(x: Array) -> Array:
    return apply("real", x) if x.dtype.is_complex else x


def det(x, /) -> Array:
    check_float(x, "det")
    n = _square(x, "det")
    batch = x.shape[:-2]
    count = math.prod(batch)
    flat = factor("det", "lu", "det", x, None, batch, {"n": n}, count)
    return reshape(flat, batch)


def slogdet(x, /) -> SlogdetResult:
    """(sign, log|det|); sign is complex (of modulus 1) for complex input, logabsdet
    real; a singular matrix gives (0, -inf)."""
    check_float(x, "slogdet")
    n = _square(x, "slogdet")
    batch = x.shape[:-2]
    count = math.prod(batch)
    flat = factor("slogdet", "lu", "slogdet", x, None, batch, {"n": n}, 2 * count)
    return SlogdetResult(reshape(flat[:count], batch),
                         _real_part(reshape(flat[count:], batch)))


def _solve(a, rhs, batch: tuple, k: int, name: str) -> Array:
    """The n x k solutions of a's matrices (rhs None: the inverse), flat."""
    n = a.shape[-1]
    count = math.prod(batch)
    size = count * n * k
    values = {"n": n, "k": k, "ident": int(rhs is None), "fo": size}
    flat = factor(name, "lu", "solve", a, rhs, batch, values, size + count)
    _raise_flagged(flat, size, batch, name, "singular")
    return flat[:size]


def inv(x, /) -> Array:
    """The inverses; LinAlgError for a singular matrix (after a sync)."""
    check_float(x, "inv")
    n = _square(x, "inv")
    return reshape(_solve(x, None, x.shape[:-2], n, "inv"), x.shape)


def solve(x1, x2, /) -> Array:
    """x such that x1 @ x = x2: x2 of shape (M,) (one vector for every matrix; the
    result has shape x1.shape[:-1]) or (..., M, K) broadcast against x1's batch.
    LinAlgError for a singular matrix (after a sync)."""
    check_float(x1, "solve")
    check_float(x2, "solve")
    n = _square(x1, "solve")
    t = d.promote(x1.dtype, x2.dtype)
    if x2.ndim == 1:
        if x2.shape[0] != n:
            raise ValueError(f"solve: x2 of shape {x2.shape} does not match x1 of shape "
                             f"{x1.shape} (needs ({n},))")
        rhs, batch, shape = expand_dims(x2, axis=1), x1.shape[:-2], x1.shape[:-1]
    else:
        if x2.ndim < 2 or x2.shape[-2] != n:
            raise ValueError(f"solve: x2 of shape {x2.shape} does not match x1 of shape "
                             f"{x1.shape} (needs ({n},) or (..., {n}, K))")
        try:
            batch = broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
        except ValueError:
            raise ValueError(f"solve: the batch dimensions of shapes {x1.shape} and "
                             f"{x2.shape} do not broadcast") from None
        rhs, shape = x2, batch + x2.shape[-2:]
    a = x1 if x1.dtype is t else cast(x1, t)
    rhs = rhs if rhs.dtype is t else cast(rhs, t)
    return reshape(_solve(a, rhs, batch, rhs.shape[-1], "solve"), shape)


def cholesky(x, /, *, upper=False) -> Array:
    """L with x = L L^H (from x's lower triangle; upper=True: U = L^H, x = U^H U).
    LinAlgError for a matrix that is not positive definite (after a sync)."""
    check_float(x, "cholesky")
    n = _square(x, "cholesky")
    batch = x.shape[:-2]
    count = math.prod(batch)
    size = count * n * n
    values = {"n": n, "upper": int(bool(upper)), "fo": size}
    flat = factor("cholesky", "cholesky", "", x, None, batch, values, size + count)
    _raise_flagged(flat, size, batch, "cholesky", "not positive definite")
    return reshape(flat[:size], x.shape)


def qr(x, /, *, mode="reduced") -> QRResult:
    """Householder QR: Q with orthonormal columns, R upper triangular, x = Q R
    (mode 'reduced': K = min(M, N) columns of Q and rows of R; 'complete': M). The
    signs of R's diagonal are not fixed (the standard fixes none)."""
    check_float(x, "qr")
    if x.ndim < 2:
        raise ValueError(f"qr takes matrices of shape (..., M, N), got shape {x.shape}")
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr's mode must be 'reduced' or 'complete', got {mode!r}")
    m, n = x.shape[-2:]
    k = min(m, n)
    q = k if mode == "reduced" else m
    batch = x.shape[:-2]
    count = math.prod(batch)
    ro = count * m * q
    values = {"r": m, "c": n, "q": q, "rr": q, "ro": ro, "steps": k}
    flat = factor("qr", "qr", "", x, None, batch, values, ro + count * q * n)
    return QRResult(reshape(flat[:ro], batch + (m, q)), reshape(flat[ro:], batch + (q, n)))


# ------------------------------------------------------------------ from lazy operations

def diagonal(x, /, *, offset=0) -> Array:
    """The diagonal `offset` above the main one (below when negative) of each matrix:
    a view."""
    if not isinstance(x, Array):
        raise TypeError(f"diagonal takes an array, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"diagonal takes matrices of shape (..., M, N), got shape {x.shape}")
    offset = operator.index(offset)
    m, n = x.shape[-2:]
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(m - row, n - col))
    v = x._placed()
    start = v.offset + (row * v.strides[-2] + col * v.strides[-1] if length else 0)
    return _view(x, x.shape[:-2] + (length,), start,
                 v.strides[:-2] + (v.strides[-2] + v.strides[-1],))


def trace(x, /, *, offset=0, dtype=None) -> Array:
    from ._statistical import sum as asum
    if isinstance(x, Array) and x.dtype not in d.CATEGORY_SETS["numeric"]:
        raise TypeError(f"trace takes numeric arrays, got {x.dtype.name}")
    return asum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def outer(x1, x2, /) -> Array:
    for a in (x1, x2):
        if not isinstance(a, Array):
            raise TypeError(f"outer takes arrays, got {type(a).__name__}")
        if a.ndim != 1:
            raise ValueError(f"outer takes 1-D arrays, got shapes {x1.shape} and {x2.shape}")
    return apply("multiply", expand_dims(x1, axis=1), expand_dims(x2, axis=0))


def cross(x1, x2, /, *, axis=-1) -> Array:
    """The cross product of 3-vectors along `axis` (counted from the end of each array
    when negative), broadcast over the other dimensions."""
    for a in (x1, x2):
        if not isinstance(a, Array):
            raise TypeError(f"cross takes arrays, got {type(a).__name__}")
        if a.dtype not in d.CATEGORY_SETS["numeric"]:
            raise TypeError(f"cross takes numeric arrays, got {a.dtype.name}")
    ndim = max(x1.ndim, x2.ndim)
    axis = operator.index(axis)
    ax = axis - ndim if axis >= 0 else axis
    if not -min(x1.ndim, x2.ndim) <= ax < 0:
        raise ValueError(f"cross's axis {axis} is outside arrays of shapes {x1.shape} and "
                         f"{x2.shape}")
    if x1.shape[ax] != 3 or x2.shape[ax] != 3:
        raise ValueError(f"cross takes 3-vectors along axis {axis}, got shapes {x1.shape} "
                         f"and {x2.shape}")

    def part(a, i):
        return a[(Ellipsis, i) + (slice(None),) * (-ax - 1)]

    a0, a1, a2 = (part(x1, i) for i in range(3))
    b0, b1, b2 = (part(x2, i) for i in range(3))

    def minus(p, q, r, s):
        return apply("subtract", apply("multiply", p, q), apply("multiply", r, s))

    return stack([minus(a1, b2, a2, b1), minus(a2, b0, a0, b2), minus(a0, b1, a1, b0)],
                 axis=ax)


def matrix_power(x, n, /) -> Array:
    """x multiplied by itself n times (n < 0: the inverse's power; n == 0: identity)."""
    from ._creation import eye
    from ._linalg import matmul
    from ._manipulation import broadcast_to
    if not isinstance(x, Array):
        raise TypeError(f"matrix_power takes an array, got {type(x).__name__}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"matrix_power's n must be an int, got {n!r}")
    if x.dtype not in d.CATEGORY_SETS["numeric"]:
        raise TypeError(f"matrix_power takes numeric arrays, got {x.dtype.name}")
    size = _square(x, "matrix_power")
    if n == 0:
        identity = eye(size, dtype=x.dtype, device=x.device)
        return cast(broadcast_to(identity, x.shape), x.dtype)
    if n < 0:
        x, n = inv(x), -n
    result, base = None, x
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2) -> Array:  # noqa: A002
    """The p-norm over `axis` (all axes when None): ord inf / -inf give max / min |x|,
    0 the count of nonzero elements; real-valued (float32 for complex64)."""
    from ._statistical import max as amax, min as amin, sum as asum
    check_float(x, "vector_norm")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"vector_norm's ord must be a number, got {ord!r}")
    size = apply("abs", x)
    real = size.dtype
    if ord == math.inf:
        return amax(size, axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return amin(size, axis=axis, keepdims=keepdims)
    if ord == 0:
        return asum(cast(apply("not_equal", size, 0), real), axis=axis, keepdims=keepdims)
    if ord == 1:
        return asum(size, axis=axis, keepdims=keepdims)
    if ord == 2:
        return apply("sqrt", asum(apply("multiply", size, size), axis=axis,
                                  keepdims=keepdims))
    if ord > 0:
        total = asum(apply("pow", size, float(ord)), axis=axis, keepdims=keepdims)
        return apply("pow", total, 1.0 / ord)
    # 0 ** negative is inf, and inf ** negative 0 (spelled out: GLSL's pow leaves them
    # undefined)
    powered = where(apply("equal", size, 0), math.inf, apply("pow", size, float(ord)))
    total = asum(powered, axis=axis, keepdims=keepdims)
    return where(apply("isinf", total), 0.0, apply("pow", total, 1.0 / ord))


def matrix_norm(x, /, *, keepdims=False, ord="fro") -> Array:  # noqa: A002
    """The matrix norm of each matrix: 'fro', 1 / -1 (max / min column sum of |x|),
    inf / -inf (rows), 2 / -2 / 'nuc' (from the singular values)."""
    from ._statistical import max as amax, min as amin, sum as asum
    check_float(x, "matrix_norm")
    if x.ndim < 2:
        raise ValueError(f"matrix_norm takes matrices of shape (..., M, N), got shape "
                         f"{x.shape}")
    if ord in (2, -2, "nuc") and not isinstance(ord, bool):
        from ._linalg_spectral import svdvals
        s = svdvals(x)
        pick = {2: amax, -2: amin, "nuc": asum}[ord]
        out = pick(s, axis=-1)
    elif ord == "fro":
        size = apply("abs", x)
        out = apply("sqrt", asum(apply("multiply", size, size), axis=(-2, -1)))
    elif ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, bool):
        size = apply("abs", x)
        along, across = (-2, -1) if ord in (1, -1) else (-1, -2)
        pick = amax if ord > 0 else amin
        out = squeeze(pick(asum(size, axis=along, keepdims=True), axis=across,
                           keepdims=True), axis=(-2, -1))
    else:
        raise ValueError(f"matrix_norm's ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or "
                         f"-inf, got {ord!r}")
    if keepdims:
        out = reshape(out, out.shape + (1, 1))
    return out
