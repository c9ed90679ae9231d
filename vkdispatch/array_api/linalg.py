"""The standard's linalg extension (`xp.linalg`): factorizations as generated kernels,
one workgroup per matrix (LU with partial pivoting, Cholesky, Householder QR in
_linalg_dense; cyclic Jacobi for eigh and the SVD in _linalg_spectral), the rest from
the namespace's own operations. Complex input: det, slogdet, inv, solve, cholesky, qr,
eigh, eigvalsh, svd, svdvals, matrix_rank and pinv take it (eigh and svd by complex
Jacobi rotations: unitary vectors, real values)."""
from ._linalg import matmul, tensordot, vecdot
from ._linalg_dense import (LinAlgError, cholesky, cross, det, diagonal, inv, matrix_norm,
                            matrix_power, outer, qr, slogdet, solve, trace, vector_norm)
from ._linalg_spectral import eigh, eigvalsh, matrix_rank, pinv, svd, svdvals
from ._manipulation import matrix_transpose

__all__ = ["LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
           "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm"]
