import numpy as np
import pytest

import vkdispatch as vd

TOL = {np.complex64: 1e-6, np.complex128: 1e-13, np.float32: 1e-6, np.float64: 1e-13}


def rel_err(got, want) -> float:
    want = np.asarray(want, np.complex128)
    return float(np.linalg.norm(np.asarray(got, np.complex128) - want) / np.linalg.norm(want))


def random_complex(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def skip_without_float64():
    if not vd.get_context().device.float64:
        pytest.skip("the device has no float64")


def two_pass_length() -> int:
    """A power of two of complex64 that one workgroup cannot transform on the current
    device (vd.fft runs it four-step)."""
    from vkdispatch.fft.plan import max_single
    return 2 * max_single(8, vd.get_context().device)
