"""Staged transfers (device memory the host cannot map) are ordered on the buffer's
queue after the work submitted there, without a host wait first: a read sees the
writes of a kernel still running when it was asked for, and a write lands after the
kernels reading the old contents."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32


@vd.shader("out.size")
def slow_fill(out: Buff[f32], src: Buff[f32], rounds: Const[i32]):
    i = vc.global_invocation_id().x
    acc = vc.new_float(0.0)
    for _ in vc.range(rounds):
        acc += src[i] * 0.0 + 1.0
    out[i] = acc


@pytest.fixture
def staged(backend, monkeypatch):
    if backend != "vulkan":
        pytest.skip("the Vulkan runtime's staging path")
    monkeypatch.setattr(vd.get_context().runtime_context, "force_staging", True)


def test_a_read_sees_a_kernel_still_running(staged):
    n = 1 << 14
    src = vd.asbuffer(np.ones(n, np.float32))
    out = vd.Buffer((n,), vd.float32)
    for rounds in (200, 3000):
        slow_fill(out, src, rounds)
        vd.global_graph().submit()            # no wait: the read is queued after it
        np.testing.assert_array_equal(out.read(0), np.full(n, rounds, np.float32))


def test_a_write_lands_after_kernels_reading_the_old_contents(staged):
    n = 1 << 14
    src = vd.asbuffer(np.ones(n, np.float32))
    out = vd.Buffer((n,), vd.float32)
    slow_fill(out, src, 3000)                 # reads src (ones) for a while
    vd.global_graph().submit()
    src.write(np.full(n, np.nan, np.float32))  # after the kernel on the queue
    np.testing.assert_array_equal(out.read(0), np.full(n, 3000, np.float32))
