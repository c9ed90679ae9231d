"""xp.linalg: every function of the 2024.12 extension is there (the kernels' own tests
are test_linalg_dense.py and test_linalg_spectral.py), and a short chain through the
public names matches NumPy on every backend."""
import numpy as np
import pytest

import vkdispatch.array_api as xp

EXTENSION = ("cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
             "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer",
             "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace",
             "vecdot", "vector_norm")


def test_every_name_of_the_extension():
    assert sorted(n for n in xp.linalg.__all__ if n != "LinAlgError") == sorted(EXTENSION)
    assert all(callable(getattr(xp.linalg, n)) for n in EXTENSION)
    assert "linalg" in xp.__all__


def test_public_names_match_numpy(backend):
    rng = np.random.default_rng(5)
    a = (rng.standard_normal((4, 6, 6)) + 6 * np.eye(6)).astype(np.float32)
    b = rng.standard_normal((4, 6, 2)).astype(np.float32)
    A, B = xp.asarray(a), xp.asarray(b)
    x = xp.linalg.solve(A, B)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(xp.linalg.matrix_norm(A, ord=2)),
                               np.linalg.norm(a, 2, axis=(-2, -1)), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(xp.linalg.matrix_norm(A, ord="nuc")),
                               np.linalg.norm(a, "nuc", axis=(-2, -1)), rtol=1e-4)
    s = a + np.swapaxes(a, -1, -2)
    np.testing.assert_allclose(np.asarray(xp.linalg.eigvalsh(xp.asarray(s))),
                               np.linalg.eigvalsh(s), rtol=1e-4, atol=1e-4)
    singular = xp.asarray(np.ones((3, 3), np.float32))
    with pytest.raises(xp.linalg.LinAlgError, match="singular"):
        xp.linalg.inv(singular)
