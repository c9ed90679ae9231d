"""Kernels over buffers larger than the device binds as one storage buffer: on Vulkan
they are reached through buffer device addresses (lavapipe binds only 128 MiB)."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, Var, f32, u32


@vd.shader("out.size")
def scale_add(out: Buff[f32], a: Buff[f32], b: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    out[i] = a[i] * k + b[i]


@vd.shader("out.size")
def count_into(out: Buff[f32], hist: Buff[u32]):
    i = vc.global_invocation_id().x
    vc.atomic_add(hist[i % 16], 1)
    out[i] = out[i] + 1.0


def _big_count(backend) -> int:
    """float32 elements just past one storage-buffer binding, or skip."""
    dev = vd.get_context().device
    limit = dev.max_storage_buffer_range
    if backend != "vulkan":
        pytest.skip(f"{backend} binds buffers of any size ({limit} bytes)")
    if not dev.extra.get("buffer_device_address"):
        pytest.skip(f"{dev.name} lacks buffer device addresses")
    if limit > 8 << 30:
        pytest.skip(f"maxStorageBufferRange is {limit} bytes: too large to exceed in a test")
    n = (limit + (1 << 20)) // 4
    if 4 * n > dev.max_allocation_size:
        pytest.skip(f"{dev.name} allocates at most {dev.max_allocation_size} bytes at once, "
                    f"within the {limit}-byte binding range")
    return n


def test_kernel_over_buffers_past_the_binding_limit(backend):
    n = _big_count(backend)
    rng = np.random.default_rng(3)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    ba, bb, out = vd.asbuffer(a), vd.asbuffer(b), vd.Buffer((n,), vd.float32)
    small = vd.asbuffer(b[:1000])
    try:
        scale_add(out, ba, bb, 2.0)
        np.testing.assert_allclose(out.read(0), a * 2.0 + b, rtol=1e-6, atol=1e-6)
        variants = scale_add._compiled[vd.get_context()]
        assert [key[2] for key in variants] == [("out", "a", "b")]
        # a dependent chain in one graph: barriers see the addressed buffers too
        graph = vd.CommandGraph()
        scale_add(out, out, bb, 0.5, graph=graph)
        scale_add(ba, out, out, 1.0, graph=graph)
        graph.submit(wait=True)
        step = (a * 2.0 + b) * np.float32(0.5) + b
        np.testing.assert_allclose(ba.read(0), step * 2.0, rtol=1e-5, atol=1e-5)
        # a small output with big inputs: only the big ones go by address
        tail = ba.view(n - 1000, (1000,))
        scale_add(small, tail, small, 1.0)
        np.testing.assert_allclose(small.read(0), step[-1000:] * 2.0 + b[:1000], rtol=1e-5,
                                   atol=1e-5)
    finally:
        for buf in (ba, bb, out, small):
            buf.destroy()


def test_atomics_through_addresses(backend):
    n = _big_count(backend)
    out = vd.asbuffer(np.zeros(n, np.float32))
    hist = vd.asbuffer(np.zeros(16, np.uint32))
    try:
        count_into(out, hist)
        got = out.read(0)
        assert got[0] == 1.0 and got[-1] == 1.0 and (got == 1.0).all()
        np.testing.assert_array_equal(hist.read(0), np.bincount(np.arange(n) % 16, minlength=16))
    finally:
        out.destroy()
        hist.destroy()


def test_only_glsl_takes_buffers_by_address(backend):
    from vkdispatch.codegen.emit import emit
    kernel = scale_add.kernel(vd.get_context().device, (64, 1, 1), True)
    glsl = emit(kernel, "glsl", "scale_add", 128, {"a"})
    assert "GL_EXT_buffer_reference" in glsl.source
    assert [b.kind for b in glsl.info.bindings] == ["storage_buffer", "buffer_address",
                                                     "storage_buffer"]
    assert glsl.info.bindings[1].uniform_offset == 0 and glsl.info.uniforms[0].offset == 8
    with pytest.raises(ValueError, match="address_params"):
        emit(kernel, "cuda", "scale_add", 0, {"a"})


@pytest.mark.parametrize("push_constants", ["1", "0"], ids=["push_constants", "uniform_buffer"])
def test_addresses_with_variables_and_instances(backend, monkeypatch, push_constants):
    """Addresses live in the uniforms, so they must survive set_var and per-instance
    uniforms, in push constants and in the uniform buffer alike."""
    monkeypatch.setenv("VKDISPATCH_PUSH_CONSTANTS", push_constants)
    n = _big_count(backend)

    @vd.shader("out.size")      # defined here: each run builds its own kernel
    def axpy_var(out: Buff[f32], a: Buff[f32], k: Var[f32]):
        i = vc.global_invocation_id().x
        out[i] = out[i] + a[i] * k

    a = np.arange(n, dtype=np.float32) % 1000
    ba, out = vd.asbuffer(a), vd.asbuffer(np.zeros(n, np.float32))
    try:
        graph = vd.CommandGraph()
        axpy_var(out, ba, graph.bind_var("k"), graph=graph)
        graph.set_var("k", 2.0)
        graph.submit(wait=True)
        graph.set_var("k", np.array([1.0, 3.0], np.float32))
        graph.submit(instance_count=2, wait=True)
        got = out.read(0)
        (compiled,) = axpy_var._compiled[vd.get_context()].values()
        assert compiled.info.uniform_in_push_constants == (push_constants == "1")
        np.testing.assert_array_equal(got[:5000], a[:5000] * 6)
        np.testing.assert_array_equal(got[-5000:], a[-5000:] * 6)
        graph.destroy()
    finally:
        ba.destroy()
        out.destroy()
