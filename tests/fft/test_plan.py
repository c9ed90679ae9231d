"""vd.fft plans without a device: radices, the one-kernel / two-pass choice within the
device's limits, and the bounded plan cache."""
import math

import pytest

import vkdispatch as vd
from vkdispatch.fft import plan


@pytest.fixture
def device(dummy):
    return dummy


def test_radices_multiply_to_the_length():
    for n in (2, 8, 64, 360, 1001, 4096, 15015, 2187):
        rs = plan.radices(n)
        assert math.prod(rs) == n and max(rs) <= 16


def test_plans_fit_the_device(device):
    shared, invocations = plan.limits(device)
    for n, columns in ((4096, False), (1 << 20, False), (4096, True), (12, False)):
        p = plan.make_plan(device, n, columns, -1, 1.0, vd.complex64, vd.complex64,
                           vd.complex64, True)
        assert math.prod(s.spec.n for s in p.steps) == n
        for step in p.steps:
            s = step.spec
            assert s.local_size <= invocations
            assert s.shared_elements * s.compute.itemsize <= shared
            if s.columns and len(p.steps) > 1:
                assert s.batch >= plan.MIN_COLUMN_BATCH


def test_plan_cache_is_bounded():
    cache = plan.PlanCache(size=2)
    for key in range(3):
        cache.get(key, lambda: object())
    assert len(cache) == 2
    made = []
    cache.get(2, lambda: made.append(1))
    assert not made    # the most recent plans stay
