"""The linalg extension's dense functions (_linalg_dense) against NumPy on every
backend: LU-based det/slogdet/inv/solve, cholesky and qr on batches of small matrices
(shared-memory workspaces) and larger ones (global workspaces), float32, float64 where
the device has it, complex64; singular and non-positive-definite input; broadcasting,
views and pending inputs; diagonal, trace, outer, cross, matrix_power, vector_norm,
matrix_norm; bad input."""
import math

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.array_api import _dtypes as d
from vkdispatch.array_api import _linalg_dense as la
from vkdispatch.array_api import _linalg_factor, _linalg_kernels

from ..codegen.targets import TARGETS, source

RNG = np.random.default_rng(11)
SIZES = (1, 2, 3, 7, 16, 64)


def _well(shape, dtype=np.float32):
    """Matrices near the identity (condition number below ~10)."""
    n = shape[-1]
    a = np.eye(shape[-2], n) + 0.4 * RNG.normal(size=shape) / math.sqrt(n)
    if np.dtype(dtype).kind == "c":
        a = a + 0.4j * RNG.normal(size=shape) / math.sqrt(n)
    return a.astype(dtype)


def _hermitian_pd(shape, dtype=np.float32):
    a = _well(shape, dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2))).astype(dtype)


def _f64(x):
    if not x.device.info.float64:
        pytest.skip("the device has no float64")


def _close(got, want, tol):
    got = np.asarray(got)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _check_qr(a, q, r, mode, tol):
    q, r = np.asarray(q), np.asarray(r)
    want_q, want_r = np.linalg.qr(a, mode=mode)
    assert q.shape == want_q.shape and r.shape == want_r.shape
    qh = np.conj(np.swapaxes(q, -1, -2))
    np.testing.assert_allclose(qh @ q, np.broadcast_to(np.eye(q.shape[-1]), qh.shape[:-2] +
                                                      (q.shape[-1],) * 2), atol=tol)
    np.testing.assert_allclose(q @ r, a, atol=tol)
    assert np.all(np.tril(r, -1) == 0)


@pytest.mark.parametrize("n", SIZES)
def test_lu_functions_match_numpy(backend, n):
    a = _well((3, n, n))
    x = xp.asarray(a)
    _close(la.det(x), np.linalg.det(a), 1e-4)
    sign, logabs = la.slogdet(x)
    want = np.linalg.slogdet(a)
    _close(sign, want.sign, 0)
    _close(logabs, want.logabsdet, 1e-4)
    _close(la.inv(x), np.linalg.inv(a), 1e-4)
    b = RNG.normal(size=(3, n, 2)).astype(np.float32)
    _close(la.solve(x, xp.asarray(b)), np.linalg.solve(a, b), 1e-4)
    v = RNG.normal(size=n).astype(np.float32)
    _close(la.solve(x, xp.asarray(v)), np.linalg.solve(a, v[:, None])[..., 0], 1e-4)


def test_det_signs_of_many_matrices(backend):
    """Pivoting flips det's sign: 2000 random 4 x 4 matrices (PoCL once got 6 of
    1800 wrong, from a loop with barriers whose bound called min())."""
    a = _well((2000, 4, 4))
    _close(la.det(xp.asarray(a)), np.linalg.det(a), 1e-4)


@pytest.mark.parametrize("n", SIZES)
def test_cholesky_and_qr_match_numpy(backend, n):
    s = _hermitian_pd((3, n, n))
    want = np.linalg.cholesky(s)
    _close(la.cholesky(xp.asarray(s)), want, 1e-4)
    _close(la.cholesky(xp.asarray(s), upper=True), np.swapaxes(want, -1, -2), 1e-4)
    a = _well((3, n, n))
    _check_qr(a, *la.qr(xp.asarray(a)), "reduced", 1e-4)


def test_qr_rectangular(backend):
    for shape in ((2, 5, 3), (2, 3, 5)):
        a = RNG.normal(size=shape).astype(np.float32)
        for mode in ("reduced", "complete"):
            _check_qr(a, *la.qr(xp.asarray(a), mode=mode), mode, 1e-5)
    for t in (np.float32, np.complex64):        # squares of these overflow float32
        big = (_well((2, 4, 3), t) * 1e30).astype(t)
        q, r = (np.asarray(v) for v in la.qr(xp.asarray(big)))
        assert np.all(np.isfinite(q)) and np.all(np.isfinite(r))
        np.testing.assert_allclose(q @ r, big, atol=1e25)
    zero = np.zeros((1, 3, 2), np.float32)      # no reflection needed: Q = I, R = 0
    q, r = la.qr(xp.asarray(zero))
    _close(q, np.eye(3, 2)[None], 0)
    _close(r, np.zeros((1, 2, 2)), 0)


def test_matrices_past_shared_memory(backend):
    """200 x 200 takes the global workspace (and, on lavapipe, launches of a few
    steps each: it caps loop iterations per invocation)."""
    n = 200
    device = xp.asarray(np.zeros(1, np.float32)).device.context.device
    assert _linalg_factor.workspace(device, d.float32, n * n + 1)[0] == 0
    a = _well((n, n))
    x = xp.asarray(a)
    b = RNG.normal(size=(n, 3)).astype(np.float32)
    _close(la.solve(x, xp.asarray(b)), np.linalg.solve(a, b), 2e-4)
    _close(la.slogdet(x).logabsdet, np.linalg.slogdet(a).logabsdet, 1e-4)
    s = _hermitian_pd((n, n))
    _close(la.cholesky(xp.asarray(s)), np.linalg.cholesky(s), 2e-4)
    _check_qr(a, *la.qr(x), "reduced", 2e-4)


def test_512_by_512(backend):
    n = 512
    a = _well((n, n))
    v = RNG.normal(size=n).astype(np.float32)
    _close(la.solve(xp.asarray(a), xp.asarray(v)), np.linalg.solve(a, v[:, None])[:, 0], 2e-4)
    s = _hermitian_pd((n, n))
    _close(la.cholesky(xp.asarray(s)), np.linalg.cholesky(s), 5e-4)


def test_float64(backend):
    x = xp.asarray(np.zeros(1))
    _f64(x)
    # 70 x 70 float64 is past the shared workspace (OpenCL: float32 covers that path)
    for n in (3,) if backend == "opencl" else (3, 70):
        a = _well((2, n, n), np.float64)
        x = xp.asarray(a)
        _close(la.det(x), np.linalg.det(a), 1e-10)
        _close(la.inv(x), np.linalg.inv(a), 1e-10)
        b = RNG.normal(size=(n,))
        _close(la.solve(x, xp.asarray(b)), np.linalg.solve(a, b[:, None])[..., 0], 1e-10)
        s = _hermitian_pd((2, n, n), np.float64)
        _close(la.cholesky(xp.asarray(s)), np.linalg.cholesky(s), 1e-10)
        _check_qr(a, *la.qr(x), "reduced", 1e-10)
        assert la.det(x).dtype == xp.float64


def test_complex64(backend):
    a = _well((2, 5, 5), np.complex64)
    x = xp.asarray(a)
    _close(la.det(x), np.linalg.det(a), 1e-4)
    sign, logabs = la.slogdet(x)
    want = np.linalg.slogdet(a)
    assert sign.dtype == xp.complex64 and logabs.dtype == xp.float32
    _close(sign, want.sign, 1e-5)
    _close(logabs, want.logabsdet, 1e-5)
    _close(la.inv(x), np.linalg.inv(a), 1e-4)
    b = (RNG.normal(size=(2, 5, 3)) + 1j * RNG.normal(size=(2, 5, 3))).astype(np.complex64)
    _close(la.solve(x, xp.asarray(b)), np.linalg.solve(a, b), 1e-4)
    s = _hermitian_pd((2, 5, 5), np.complex64)
    want = np.linalg.cholesky(s)
    _close(la.cholesky(xp.asarray(s)), want, 1e-4)
    _close(la.cholesky(xp.asarray(s), upper=True), np.conj(np.swapaxes(want, -1, -2)), 1e-4)
    for shape in ((2, 5, 5), (2, 6, 4)):
        c = _well(shape, np.complex64)
        _check_qr(c, *la.qr(xp.asarray(c), mode="complete"), "complete", 1e-4)


def test_batches_broadcast_views_and_pending_inputs(backend):
    a = _well((4, 4))
    _close(la.det(xp.asarray(a)), np.linalg.det(a), 1e-5)      # no batch
    big = _well((2, 3, 4, 4))
    _close(la.inv(xp.asarray(big)), np.linalg.inv(big), 1e-4)
    x1 = _well((2, 1, 4, 4))
    x2 = RNG.normal(size=(3, 4, 2)).astype(np.float32)
    got = la.solve(xp.asarray(x1), xp.asarray(x2))
    _close(got, np.linalg.solve(x1, x2), 1e-4)
    assert got.shape == (2, 3, 4, 2)
    # a transposed view and a pending expression as input; the result feeds lazy ops
    x = xp.asarray(big)
    _close(la.det(x.mT), np.linalg.det(big), 1e-4)
    _close(la.inv(x * 2.0), np.linalg.inv(big * 2), 1e-4)
    _close(xp.matmul(la.inv(x), x) - 1.0, np.broadcast_to(np.eye(4), big.shape) - 1, 1e-4)
    q, r = la.qr(x[:, 1])
    _close(xp.matmul(q, r) * 2.0, big[:, 1] * 2, 1e-4)
    # mixed dtypes promote; empty batches give empty results
    if x.device.info.float64:
        assert la.solve(xp.asarray(a), xp.asarray(np.ones(4))).dtype == xp.float64
    empty = xp.asarray(np.zeros((0, 3, 3), np.float32))
    assert la.det(empty).shape == (0,) and la.inv(empty).shape == (0, 3, 3)


def test_singular_and_not_positive_definite(backend):
    a = _well((3, 4, 4))
    a[1, :, 1] = 0                # matrix 1 is singular
    a[2] = 0                      # and matrix 2 too
    x = xp.asarray(a)
    det = np.asarray(la.det(x))
    assert det[1] == 0 and det[2] == 0
    sign, logabs = (np.asarray(v) for v in la.slogdet(x))
    assert sign[2] == 0 and logabs[2] == -np.inf
    with pytest.raises(la.LinAlgError, match=r"inv: matrix \(1,\) of the batch is singular "
                                              r"\(2 of 3 matrices\)"):
        la.inv(x)
    with pytest.raises(ValueError, match="solve: .* singular"):
        la.solve(x, xp.asarray(np.ones(4, np.float32)))
    s = _hermitian_pd((2, 3, 3))
    s[1, 1, 1] = -1.0
    with pytest.raises(la.LinAlgError, match=r"cholesky: matrix \(1,\) of the batch is not "
                                              "positive definite"):
        la.cholesky(xp.asarray(s))
    with pytest.raises(la.LinAlgError, match="the matrix is not positive definite"):
        la.cholesky(xp.asarray(np.array([[1.0, 2.0], [2.0, 1.0]], np.float32)))


def test_bad_input(backend):
    ints = xp.asarray(np.eye(3, dtype=np.int32))
    square = xp.asarray(np.eye(3, dtype=np.float32))
    wide = xp.asarray(np.ones((2, 3), np.float32))
    for fn in (la.det, la.slogdet, la.inv, la.cholesky, la.qr):
        with pytest.raises(TypeError, match="int32"):
            fn(ints)
        with pytest.raises(TypeError, match="takes an array"):
            fn(np.eye(3))
    for fn in (la.det, la.slogdet, la.inv, la.cholesky):
        with pytest.raises(ValueError, match=r"\(2, 3\)"):
            fn(wide)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        la.qr(xp.asarray(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="mode"):
        la.qr(square, mode="r")
    with pytest.raises(ValueError, match=r"x2 of shape \(2,\)"):
        la.solve(square, xp.asarray(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="do not broadcast"):
        la.solve(xp.asarray(np.ones((2, 3, 3), np.float32)),
                 xp.asarray(np.ones((4, 3, 1), np.float32)))
    with pytest.raises(TypeError, match="int32"):
        la.solve(square, xp.asarray(np.ones(3, np.int32)))
    with pytest.raises(ValueError, match="1-D"):
        la.outer(square, square)
    with pytest.raises(ValueError, match="3-vectors"):
        la.cross(wide.mT, wide.mT)
    with pytest.raises(ValueError, match="axis"):
        la.cross(square, square, axis=-3)
    with pytest.raises(TypeError, match="n must be an int"):
        la.matrix_power(square, 2.0)
    with pytest.raises(ValueError, match="square"):
        la.matrix_power(wide, 2)
    with pytest.raises(ValueError, match="ord"):
        la.matrix_norm(square, ord=3)
    with pytest.raises(TypeError, match="int32"):
        la.vector_norm(ints)
    with pytest.raises(ValueError, match="diagonal takes matrices"):
        la.diagonal(xp.asarray(np.ones(3, np.float32)))


def test_repeated_calls_compile_nothing(backend):
    def run(k):
        a = _well((2, 5, 5)) + k
        x = xp.asarray(a)
        s = xp.asarray(_hermitian_pd((2, 5, 5)))
        return [np.asarray(v) for v in (la.det(x), la.inv(x), la.cholesky(s), *la.qr(x),
                                        la.solve(x, x), *la.slogdet(x))]
    run(0)
    before = vd.stats()
    run(1)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta


def test_diagonal_and_trace(backend):
    a = RNG.normal(size=(2, 4, 5)).astype(np.float32)
    x = xp.asarray(a)
    for offset in (-5, -3, -1, 0, 1, 4, 6):
        want = np.diagonal(a, offset=offset, axis1=-2, axis2=-1)
        _close(la.diagonal(x, offset=offset), want, 0)
        _close(la.trace(x, offset=offset), np.trace(a, offset=offset, axis1=-2, axis2=-1),
               1e-5)
    _close(la.diagonal(x.mT, offset=1), np.diagonal(np.swapaxes(a, -1, -2), 1, -2, -1), 0)
    ints = xp.asarray(np.arange(9, dtype=np.int32).reshape(3, 3))
    assert int(la.trace(ints)) == 12
    assert la.trace(x, dtype=xp.float32).dtype == xp.float32


def test_outer_and_cross(backend):
    u = RNG.normal(size=4).astype(np.float32)
    v = RNG.normal(size=3).astype(np.float32)
    _close(la.outer(xp.asarray(u), xp.asarray(v)), np.outer(u, v), 1e-6)
    w = np.arange(3, dtype=np.int32)
    got = la.outer(xp.asarray(w), xp.asarray(w))
    assert got.dtype == xp.int32
    _close(got, np.outer(w, w), 0)
    a = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    b = RNG.normal(size=(5, 3)).astype(np.float32)
    _close(la.cross(xp.asarray(a), xp.asarray(b)), np.cross(a, b), 1e-5)
    at = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    bt = np.ascontiguousarray(b.T)
    _close(la.cross(xp.asarray(at), xp.asarray(bt), axis=-2),
           np.cross(at, bt, axis=-2), 1e-5)


def test_matrix_power(backend):
    a = _well((2, 4, 4))
    x = xp.asarray(a)
    for n in (0, 1, 2, 3, 5, -1, -3):
        _close(la.matrix_power(x, n), np.linalg.matrix_power(a, n), 1e-4)
    m = np.array([[1, 1], [1, 0]], np.int32)
    _close(la.matrix_power(xp.asarray(m), 10), np.linalg.matrix_power(m, 10), 0)


def test_vector_norm(backend):
    a = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    a[0, 0, :2] = 0
    x = xp.asarray(a)
    # PoCL compiles each new kernel in ~0.3 s: OpenCL runs one order of each kind
    ords = (2, 0, np.inf, -1.5) if backend == "opencl" else (2, 1, 0, np.inf, -np.inf, 3, -1.5)
    for ord in ords:
        for axis in (None, -1, (0, 2)):
            for keepdims in (False, True):
                with np.errstate(divide="ignore"):    # 0 ** negative
                    want = np.linalg.vector_norm(a, ord=ord, axis=axis, keepdims=keepdims)
                _close(la.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord), want, 1e-4)
    c = (a + 1j * a[::-1]).astype(np.complex64)
    got = la.vector_norm(xp.asarray(c), axis=1)
    assert got.dtype == xp.float32
    _close(got, np.linalg.vector_norm(c, axis=1), 1e-5)


def test_matrix_norm(backend):
    a = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    x = xp.asarray(a)
    for ord in ("fro", 1, -1, np.inf, -np.inf):
        for keepdims in (False, True):
            want = np.linalg.matrix_norm(a, ord=ord, keepdims=keepdims)
            _close(la.matrix_norm(x, ord=ord, keepdims=keepdims), want, 1e-5)


def test_matrix_norm_from_singular_values(backend):
    pytest.importorskip("vkdispatch.array_api._linalg_spectral")
    a = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    for ord in (2, -2, "nuc"):
        for keepdims in (False, True):
            want = np.linalg.matrix_norm(a, ord=ord, keepdims=keepdims)
            _close(la.matrix_norm(xp.asarray(a), ord=ord, keepdims=keepdims), want, 1e-4)


@pytest.mark.parametrize("target", TARGETS)
def test_kernels_emit_for_every_target(dummy, target):
    """Shared and global workspaces, real and complex, on the dummy device (the CUDA
    sources are checked without a GPU)."""
    coherent = target != "cuda"
    for t in (d.float32, d.float64, d.complex64):
        for cap in (128, 0):
            kernels = [_linalg_kernels.lu_kernel(mode, t, 1, cap, 32, dummy, coherent)
                       for mode in ("det", "slogdet", "solve")]
            kernels += [_linalg_kernels.cholesky_kernel(t, 2, cap, 32, dummy, coherent),
                        _linalg_kernels.qr_kernel(t, 0, cap, 32, dummy, coherent)]
            for k in kernels:
                assert k.name in source(k, target) or target != "cuda"
