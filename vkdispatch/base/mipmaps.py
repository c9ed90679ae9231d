"""Mip levels made on the host, as vkdispatch 0.1 made them on the GPU: each level a
blit of the one above with linear filtering (nearest for integer texels), i.e. per axis
the texel centre i of the smaller level reads the larger one at (i + 0.5) * n / m - 0.5,
clamped to the edge. For even sizes that is the mean of each 2x2(x2) block."""
from __future__ import annotations

import numpy as np


def _halve_axis(a: np.ndarray, axis: int, integer: bool) -> np.ndarray:
    n = a.shape[axis]
    m = max(1, n // 2)
    if n == m:
        return a
    centre = (np.arange(m) + 0.5) * (n / m)
    if integer:
        return np.take(a, np.minimum(np.floor(centre).astype(int), n - 1), axis=axis)
    u = centre - 0.5
    i0 = np.floor(u).astype(int)
    f = (u - i0).reshape([-1 if k == axis else 1 for k in range(a.ndim)])
    lo = np.take(a, np.clip(i0, 0, n - 1), axis=axis)
    hi = np.take(a, np.clip(i0 + 1, 0, n - 1), axis=axis)
    return lo * (1 - f) + hi * f


def next_level(texels: np.ndarray, dims: int, integer: bool) -> np.ndarray:
    """The level below `texels`, whose first `dims` axes are the texel axes (in either
    order: the filter is separable) and any further axis the channels."""
    out = texels.astype(np.float64) if not integer else texels
    for axis in range(dims):
        out = _halve_axis(out, axis, integer)
    return out


def mip_chain(texels: np.ndarray, dims: int, levels: int, integer: bool) -> list:
    """[level 0 (`texels`), level 1, ...] in `texels`' dtype."""
    chain = [texels]
    for _ in range(1, levels):       # each from the stored level above, as a blit reads it
        chain.append(next_level(chain[-1], dims, integer).astype(texels.dtype))
    return chain
