"""eigh, eigvalsh, svd, svdvals, pinv and matrix_rank against NumPy on every backend:
values elementwise (float32 tolerances scaled to the matrix norm), vectors by their
properties (signs, and for complex input phases, are free): reconstruction,
orthonormality (unitarity), order; batches, tall and wide matrices, matrices past the
shared-memory path (scratch memory), rank-deficient input, repeated eigenvalues,
complex input, float64 / complex128 where the device has it, pending and strided
input, no recompiles on a repeated call, bad input."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.array_api import _linalg_spectral as L
from vkdispatch.array_api import _spectral_kernels as K

from ..codegen.targets import emit_and_compile, source

RNG = np.random.default_rng(11)
EPS32 = float(np.finfo(np.float32).eps)


def _sym(n, batch=(), dtype=np.float32):
    a = RNG.normal(size=batch + (n, n))
    return (a + np.swapaxes(a, -1, -2)).astype(dtype)


def _herm(n, batch=(), dtype=np.complex64):
    a = _complex(batch + (n, n))
    return (a + np.conj(np.swapaxes(a, -1, -2))).astype(dtype)


def _complex(shape, dtype=np.complex64):
    return (RNG.normal(size=shape) + 1j * RNG.normal(size=shape)).astype(dtype)


def _wide(a):
    """a in double precision (complex128 for complex a)."""
    return a.astype(np.result_type(a.dtype, np.float64))


def _adjoint(a):
    return np.conj(np.swapaxes(a, -1, -2))


def _limited():
    return vd.get_context().device.max_loop_iterations is not None


def _check_eigh(a, w, v, scale=40):
    a64 = _wide(a)
    eps = float(np.finfo(a.dtype).eps)
    n = a.shape[-1]
    norm = max(np.linalg.norm(a64, 2, axis=(-2, -1)).max(), 1.0)
    tol = scale * n * eps * norm
    assert w.dtype == np.finfo(a.dtype).dtype
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a64), rtol=0, atol=tol)
    assert np.all(np.diff(w, axis=-1) >= 0)
    if v is not None:
        assert v.dtype == a.dtype
        resid = a64 @ v - v * w[..., None, :]
        assert np.abs(resid).max() <= tol
        eye = np.eye(n)
        assert np.abs(_adjoint(v) @ v - eye).max() <= 8 * n * eps + 1e-6 * (
            eps == EPS32)


def _eigh(a):
    r = L.eigh(xp.asarray(a))
    assert r._fields == ("eigenvalues", "eigenvectors")
    return np.asarray(r.eigenvalues), np.asarray(r.eigenvectors)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 64])
def test_eigh_and_eigvalsh_match_numpy(backend, n):
    a = _sym(n)
    w, v = _eigh(a)
    assert w.shape == (n,) and v.shape == (n, n) and w.dtype == np.float32
    _check_eigh(a, w, v)
    w2 = np.asarray(L.eigvalsh(xp.asarray(a)))
    _check_eigh(a, w2, None)


def test_eigh_batches_and_lower_triangle(backend):
    a = _sym(5, (3, 2))
    upper = np.triu(RNG.normal(size=(5, 5)), 1).astype(np.float32)
    w, v = _eigh(a + upper)            # the upper triangle is not read
    assert w.shape == (3, 2, 5) and v.shape == (3, 2, 5, 5)
    _check_eigh(a, w, v)
    for i, j in ((0, 0), (2, 1)):      # each matrix as computed alone
        wi, vi = _eigh(a[i, j])
        np.testing.assert_array_equal(wi, w[i, j])
        np.testing.assert_array_equal(vi, v[i, j])


def test_scratch_memory_path(backend, monkeypatch):
    """With no shared memory, the same kernels keep the matrices in scratch memory."""
    monkeypatch.setattr(L, "SHARED_BUDGET", 0)
    a = _sym(7, (2,))
    w, v = _eigh(a)
    _check_eigh(a, w, v)
    b = RNG.normal(size=(2, 9, 4)).astype(np.float32)
    _check_svd(b, full=True)


def test_beyond_shared_memory(backend):
    """150 x 150 does not fit 32 KiB of shared memory: scratch memory (on lavapipe,
    whose driver skips loop iterations past 65,535 per invocation, in staged launches)."""
    a = _sym(150)
    w, v = _eigh(a)
    _check_eigh(a, w, v)
    b = RNG.normal(size=(150, 40)).astype(np.float32)
    s = np.asarray(L.svdvals(xp.asarray(b)))
    want = np.linalg.svd(b.astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(s, want, rtol=0, atol=40 * 150 * EPS32 * want[0])


def test_staged_launches(backend, monkeypatch):
    """Under a loop limit the stages run as separate launches (sweeps and the
    completion of U in pieces) with the same results, for real and complex input;
    what can't run raises."""
    a, h = _sym(6, (2,)), _herm(6, (2,))
    b, c = RNG.normal(size=(2, 12, 3)).astype(np.float32), _complex((2, 12, 3))
    b[1, :, 2] = 0
    c[1, :, 2] = 0

    def results():
        return [r for x in (a, h) for r in _eigh(x)] + [
            np.asarray(r) for x in (b, c) for r in L.svd(xp.asarray(x))]
    plain = results()
    device = vd.get_context().device
    monkeypatch.setattr(L, "LOOP_LIMIT", 2000 if L._group(device) == 1 else 300)
    lay = L._Layout(device, xp.float32, "svd", True, True, 12, 3, 2, "")
    assert len(lay.launches) >= 4 and lay.shared == 0
    for p, q in zip(plain, results()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-5)
    _check_svd(b, True)
    _check_svd(c, True)
    monkeypatch.setattr(L, "LOOP_LIMIT", 50)
    with pytest.raises(ValueError, match="loop iterations"):
        L.eigh(xp.asarray(_sym(64)))


def _check_svd(a, full, scale=40):
    m, n = a.shape[-2:]
    k = min(m, n)
    r = L.svd(xp.asarray(a), full_matrices=full)
    assert r._fields == ("U", "S", "Vh")
    u, s, vh = (np.asarray(t) for t in r)
    batch = a.shape[:-2]
    assert u.shape == batch + ((m, m) if full else (m, k))
    assert vh.shape == batch + ((n, n) if full else (k, n))
    assert s.shape == batch + (k,)
    eps = float(np.finfo(a.dtype).eps)
    a64 = _wide(a)
    want = np.linalg.svd(a64, compute_uv=False)
    norm = max(want.max(initial=0), 1.0)
    tol = scale * max(m, n) * eps * norm
    assert s.dtype == np.finfo(a.dtype).dtype and u.dtype == vh.dtype == a.dtype
    np.testing.assert_allclose(s, want, rtol=0, atol=tol)
    assert np.all(np.diff(s, axis=-1) <= 0)
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    assert np.abs(rebuilt - a64).max() <= tol
    ortho = 8 * max(m, n) * eps + 1e-6 * (eps == EPS32)
    for q in (_adjoint(u) @ u, vh @ _adjoint(vh)):
        assert np.abs(q - np.eye(q.shape[-1])).max() <= ortho
    np.testing.assert_allclose(np.asarray(L.svdvals(xp.asarray(a))), s, rtol=0, atol=tol)
    return u, s, vh


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (16, 16), (64, 7), (7, 64),
                                   (2, 3, 4, 6), (3, 6, 2)])
def test_svd_matches_numpy(backend, shape):
    a = RNG.normal(size=shape).astype(np.float32)
    for full in (False, True):
        _check_svd(a, full)


def test_rank_deficient(backend):
    """Zero singular values: U is still orthonormal (completed on the device);
    matrix_rank and pinv match NumPy."""
    a = (RNG.normal(size=(2, 9, 3)) @ RNG.normal(size=(2, 3, 6))).astype(np.float32)
    a[1, :, 4] = 0
    for full in (False, True):
        _check_svd(a, full)
        _check_svd(np.swapaxes(a, -1, -2).copy(), full)
    _check_svd(np.zeros((4, 3), np.float32), True)
    x = xp.asarray(a)
    rank = np.asarray(L.matrix_rank(x))
    np.testing.assert_array_equal(rank, np.linalg.matrix_rank(a))
    assert rank.dtype == np.int64 or rank.dtype == np.int32
    want = np.linalg.pinv(a, rcond=9 * EPS32)      # the standard's default rtol
    np.testing.assert_allclose(np.asarray(L.pinv(x)), want, rtol=0,
                               atol=1e-4 * np.abs(want).max())
    # an rtol per matrix (an array broadcast against the batch) and as a float
    rtol = xp.asarray(np.array([1e-3, 0.9], np.float32))
    s = np.linalg.svd(a, compute_uv=False)
    want = (s > np.array([1e-3, 0.9])[:, None] * s[:, :1]).sum(-1)
    np.testing.assert_array_equal(np.asarray(L.matrix_rank(x, rtol=rtol)), want)
    np.testing.assert_array_equal(np.asarray(L.matrix_rank(x, rtol=0.9)),
                                  (s > 0.9 * s[:, :1]).sum(-1))
    want = np.linalg.pinv(a, rcond=0.5)
    np.testing.assert_allclose(np.asarray(L.pinv(x, rtol=0.5)), want, rtol=0,
                               atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("n", [1, 4, 17])
def test_complex_eigh_matches_numpy(backend, n):
    """Hermitian input: real ascending eigenvalues, unitary eigenvectors; like NumPy,
    eigh reads the lower triangle and the diagonal's real part only."""
    a = _herm(n, (2,))
    junk = np.triu(_complex((n, n)), 1) + 1j * np.diag(RNG.normal(size=n))
    w, v = _eigh(a + junk.astype(np.complex64))
    assert w.shape == (2, n) and v.shape == (2, n, n)
    _check_eigh(a, w, v)
    _check_eigh(a, np.asarray(L.eigvalsh(xp.asarray(a + junk.astype(np.complex64)))), None)


def test_complex_eigh_repeated_eigenvalues(backend):
    """Repeated eigenvalues (any unitary basis of each eigenspace is right), a
    diagonal matrix and the identity (nothing to rotate)."""
    q = np.linalg.qr(_complex((6, 6), np.complex128))[0]
    a = (q * np.array([2, 2, 2, -1, -1, 0.5])) @ _adjoint(q)
    a = (a + _adjoint(a)) / 2
    batch = np.stack([a, np.diag([3.0, 1, 3, 1, 3, 1]), np.eye(6)]).astype(np.complex64)
    w, v = _eigh(batch)
    _check_eigh(batch, w, v)
    np.testing.assert_array_equal(w[2], np.ones(6))
    np.testing.assert_array_equal(v[2], np.eye(6))


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (16, 16), (2, 3, 4, 6)])
def test_complex_svd_matches_numpy(backend, shape):
    a = _complex(shape)
    for full in (False, True):
        _check_svd(a, full)


def test_complex_rank_deficient(backend):
    """Zero and repeated singular values of complex matrices: U and Vh stay unitary
    (U completed in complex arithmetic); matrix_rank and pinv match NumPy."""
    a = _complex((2, 9, 3)) @ _complex((2, 3, 6))
    a[1] = _complex((9, 2)) @ _complex((2, 6))
    a[1, :, 4] = 0
    for full in (False, True):
        _check_svd(a, full)
        _check_svd(_adjoint(a).copy(), full)
    _check_svd(np.zeros((4, 3), np.complex64), True)
    same = np.stack([np.eye(4, 3) * (1 + 1j), np.ones((4, 3)) * 1j]).astype(np.complex64)
    _check_svd(same, True)
    x = xp.asarray(a)
    np.testing.assert_array_equal(np.asarray(L.matrix_rank(x)), [3, 2])
    p = np.asarray(L.pinv(x))
    assert p.dtype == np.complex64 and p.shape == (2, 6, 9)
    ref = np.linalg.pinv(a.astype(np.complex128), rcond=9 * EPS32)
    np.testing.assert_allclose(p, ref, rtol=0, atol=1e-4 * np.abs(ref).max())


def test_complex_beyond_shared_memory(backend, monkeypatch):
    """Complex matrices in scratch memory: 40 x 40 (on lavapipe in staged launches),
    and small ones with no shared memory."""
    a = _herm(40)
    _check_eigh(a, *_eigh(a))
    _check_svd(_complex((47, 20)), True)
    monkeypatch.setattr(L, "SHARED_BUDGET", 0)
    a = _herm(7, (2,))
    _check_eigh(a, *_eigh(a))
    _check_svd(_complex((2, 4, 9)), True)


def test_float64(backend):
    if "float64" not in xp.__array_namespace_info__().dtypes():
        with pytest.raises(TypeError, match="float64"):
            L.eigh(xp.asarray(np.eye(2)))
        return
    a = _sym(16, (2,), np.float64)
    w, v = _eigh(a)
    assert w.dtype == np.float64
    _check_eigh(a, w, v, scale=10)
    b = RNG.normal(size=(9, 5))
    _check_svd(b, True, scale=10)
    np.testing.assert_allclose(np.asarray(L.pinv(xp.asarray(b))), np.linalg.pinv(b),
                               rtol=0, atol=1e-12)
    h = _herm(9, (2,), np.complex128)
    _check_eigh(h, *_eigh(h), scale=10)
    c = _complex((2, 7, 4), np.complex128)
    for full in (False, True):
        _check_svd(c, full, scale=10)
        _check_svd(_adjoint(c).copy(), full, scale=10)


def test_lazy_and_strided_input_compiles_once(backend):
    a = RNG.normal(size=(8, 12)).astype(np.float32)
    x = xp.asarray(a)

    def run(k):
        pending = x * float(k)                 # a pending expression
        sym = pending[:, ::2][:6] + xp.matrix_transpose(pending[:, ::2][:6])   # strided
        w, v = L.eigh(sym)
        u, s, vh = L.svd(xp.matrix_transpose(pending), full_matrices=False)
        again = (u * s[..., None, :]) @ vh     # results feed later lazy ops
        return np.asarray(w), np.asarray(v), np.asarray(again)
    run(1)
    before = vd.stats()
    w, v, again = run(2)
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta
    s6 = 2 * a[:6, ::2]
    _check_eigh(s6 + s6.T, w, v)
    np.testing.assert_allclose(again, 2 * a.T, rtol=0, atol=1e-4 * np.abs(a).max() * 2)


def test_empty_and_bad_input(backend):
    w, v = L.eigh(xp.asarray(np.zeros((3, 0, 0), np.float32)))
    assert w.shape == (3, 0) and v.shape == (3, 0, 0)
    u, s, vh = L.svd(xp.asarray(np.zeros((2, 0), np.float32)))
    assert u.shape == (2, 2) and s.shape == (0,) and vh.shape == (0, 0)
    np.testing.assert_array_equal(np.asarray(u), np.eye(2))
    assert L.svdvals(xp.asarray(np.zeros((0, 4, 3), np.float32))).shape == (0, 3)
    w, v = L.eigh(xp.asarray(np.zeros((2, 0, 0), np.complex64)))     # real values
    assert w.dtype == xp.float32 and v.dtype == xp.complex64
    u, s, vh = L.svd(xp.asarray(np.zeros((0, 3, 2), np.complex64)), full_matrices=False)
    assert (u.shape, s.shape, vh.shape) == ((0, 3, 2), (0, 2), (0, 2, 2))
    assert s.dtype == xp.float32 and u.dtype == vh.dtype == xp.complex64
    assert L.eigvalsh(xp.asarray(np.zeros((0, 0), np.complex64))).dtype == xp.float32
    assert L.pinv(xp.asarray(np.zeros((2, 0), np.float32))).shape == (0, 2)
    np.testing.assert_array_equal(np.asarray(L.matrix_rank(
        xp.asarray(np.zeros((2, 3), np.float32)))), 0)
    with pytest.raises(TypeError, match="int32"):
        L.eigh(xp.asarray(np.eye(2, dtype=np.int32)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        L.eigvalsh(xp.asarray(np.zeros((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        L.svdvals(xp.asarray(np.zeros(4, np.float32)))
    with pytest.raises(TypeError, match="array"):
        L.svdvals(np.eye(2))
    with pytest.raises(TypeError, match="rtol"):
        L.matrix_rank(xp.asarray(np.eye(2, dtype=np.float32)), rtol="big")


def test_kernels_emit_for_every_target(dummy):
    """Every variant emits for every target (complex ones for CUDA as its backend
    builds them: no coherent complex buffers); a third compile with NVRTC."""
    from vkdispatch.array_api import _dtypes as d
    variants = [(gen, vectors, shared, w) for gen in (K.eigh_kernel, K.svd_kernel)
                for vectors in (False, True) for shared, w in ((0, 64), (2048, 64), (0, 1))]
    kernels = [gen(t, vectors, shared, w, dummy) for gen, vectors, shared, w in variants
               for t in (d.float32, d.float64)]
    for gen, vectors, shared, w in variants:
        for t in (d.complex64, d.complex128):
            for target in ("glsl", "opencl"):
                source(gen(t, vectors, shared, w, dummy), target)
    cuda = [gen(t, vectors, shared, w, dummy, coherent=False)
            for gen, vectors, shared, w in variants for t in (d.complex64, d.complex128)]
    emit_and_compile(kernels + cuda, compiled=kernels[::3] + cuda[::3])
