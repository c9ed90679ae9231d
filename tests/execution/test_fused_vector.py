"""Fused elementwise kernels that compute four elements per invocation (GPUs; turned on
here for the CPU drivers too): against NumPy for sizes around the tail, broadcast
single elements, scalars, in-place and offset outputs, and the fallbacks where memory
is not 16-byte aligned or not 32-bit."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
from vkdispatch.execution import fusion

RNG = np.random.default_rng(21)
N = 4096


@pytest.fixture(autouse=True)
def vector_on_cpu(monkeypatch):
    monkeypatch.setattr(fusion, "VECTOR_ON_CPU", True)


def _vector_kernels() -> int:
    return sum(1 for key in fusion._cache.get(vd.get_context(), {}) if key[-1])


@pytest.mark.parametrize("n", [2, 3, 4, 7, N, N + 1, N + 3, 3 * N + 2])
def test_chain_matches_numpy(backend, n):
    h = [RNG.random(n, dtype=np.float32) + 0.5 for _ in range(3)]
    a, b, c = (xp.asarray(x) for x in h)
    before = _vector_kernels()
    got = np.asarray(xp.sqrt(a * b + c) * 2 - a)
    np.testing.assert_allclose(got, np.sqrt(h[0] * h[1] + h[2]) * 2 - h[0], rtol=1e-5)
    assert _vector_kernels() >= before and any(k[-1] for k in fusion._cache[vd.get_context()])


def test_broadcast_scalars_ints_and_where(backend):
    i = RNG.integers(-1000, 1000, N + 5, dtype=np.int32)
    u = RNG.integers(0, 1000, N + 5, dtype=np.uint32)
    xi, xu = xp.asarray(i), xp.asarray(u)
    one = xp.asarray(np.array([3], np.int32))
    np.testing.assert_array_equal(np.asarray(xi * one + 7), i * 3 + 7)
    np.testing.assert_array_equal(np.asarray(xu // 3 + xu % 5), u // 3 + u % 5)
    np.testing.assert_array_equal(np.asarray(xp.where(xi > 0, xi, -xi)), np.abs(i))


def test_in_place_and_offset_outputs(backend):
    h = RNG.random(N + 7, dtype=np.float32)
    a = xp.asarray(h)
    a += 1.0
    a[4:] = a[4:] * 2.0          # aligned output view
    a[1:] = a[1:] - 0.5          # misaligned: the one-element kernel
    want = h + 1.0
    want[4:] *= 2.0
    want[1:] -= 0.5
    np.testing.assert_allclose(np.asarray(a), want, rtol=1e-6)


def test_misaligned_and_wide_inputs_fall_back(backend):
    h = RNG.random(N + 8, dtype=np.float32)
    a = xp.asarray(h)
    np.testing.assert_allclose(np.asarray(a[1:N + 1] + a[4:N + 4]), h[1:N + 1] + h[4:N + 4],
                               rtol=1e-6)
    if vd.get_context().device.float64:
        d = xp.asarray(h.astype(np.float64))
        np.testing.assert_allclose(np.asarray(d * 2.0 + d), h.astype(np.float64) * 3.0,
                                   rtol=1e-15)


def test_replays_with_new_data(backend):
    ref = np.zeros(N + 1, np.float32)
    a = xp.asarray(ref)
    for _ in range(4):
        h = RNG.random(N + 1, dtype=np.float32)
        a = a * 0.5 + xp.asarray(h)
        ref = ref * np.float32(0.5) + h
        np.testing.assert_allclose(np.asarray(a), ref, rtol=1e-6)
