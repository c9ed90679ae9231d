"""Generated kernels never touch memory outside their arrays: a read past the end of a
buffer (a view: of the view), a shared array or a local array gives 0, a write or an
atomic past it is not performed. `@vd.shader(..., memory_checks=False)` opts out.

Launches that would have corrupted memory before run in a subprocess, so a crash fails
the test instead of killing pytest."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen import ir
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32, u32, v3


def run_isolated(backend: str, code: str, timeout: int = 120) -> str:
    """stdout of `code` run in a fresh interpreter on `backend`; fails on a crash."""
    prelude = textwrap.dedent(f"""
        import numpy as np
        import vkdispatch as vd
        import vkdispatch.codegen as vc
        from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32, u32
        vd.initialize(backend={backend!r})
    """)
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"the process died (exit status {proc.returncode}):\n"
                                  f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def test_copy_into_a_short_buffer_does_not_crash(backend):
    """The reported repro: 100,000 invocations copy into a buffer of 10 floats. It
    corrupted the host heap on PoCL and could SIGSEGV on Vulkan."""
    out = run_isolated(backend, """
        @vd.shader("src.size")
        def copy(dst: Buff[f32], src: Buff[f32]):
            i = vc.global_invocation_id().x
            dst[i] = src[i]

        dst = vd.asbuffer(np.zeros(10, np.float32))
        neighbour = vd.asbuffer(np.full(1000, 7.0, np.float32))
        src = vd.asbuffer(np.arange(100_000, dtype=np.float32))
        for _ in range(3):
            copy(dst, src)
        assert (dst.read(0) == np.arange(10)).all(), dst.read(0)
        assert (neighbour.read(0) == 7.0).all()
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_read_past_the_end_into_a_big_output_does_not_crash(backend):
    out = run_isolated(backend, """
        @vd.shader("dst.size")
        def gather(dst: Buff[f32], src: Buff[f32], stride: Const[i32]):
            i = vc.global_invocation_id().x
            dst[i] = src[i * stride]

        src = vd.asbuffer(np.arange(10, dtype=np.float32))
        dst = vd.Buffer((100_000,), vd.float32)
        gather(dst, src, 1000)
        got = dst.read(0)
        assert got[0] == 0.0 and (got[1:] == 0.0).all(), got[:4]
        gather(dst, src, -1)            # negative indices are past the end as well
        got = dst.read(0)
        assert got[0] == 0.0 and (got[1:] == 0.0).all()
        print("ok")
    """)
    assert out.strip().endswith("ok")


@vd.shader("out.size")
def shifted_copy(out: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    out[i] = src[i.cast(vd.int32) + shift]


def _shifted(src: np.ndarray, n: int, shift: int) -> np.ndarray:
    want = np.zeros(n, np.float32)
    for i in range(n):
        j = i + shift
        if 0 <= j < len(src):
            want[i] = src[j]
    return want


@pytest.mark.parametrize("shift", [0, 5, -7, 1000], ids=["0", "+5", "-7", "+1000"])
def test_reads_past_either_end_give_zero(backend, shift):
    src = np.arange(1, 41, dtype=np.float32)
    s, out = vd.asbuffer(src), vd.Buffer((64,), vd.float32)
    shifted_copy(out, s, shift)
    np.testing.assert_array_equal(out.read(0), _shifted(src, 64, shift))


@vd.shader("src.size")
def scatter(dst: Buff[f32], src: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    dst[i.cast(vd.int32) + shift] = src[i]


@pytest.mark.parametrize("shift", [0, 3, -5], ids=["0", "+3", "-5"])
def test_writes_past_a_views_end_are_dropped(backend, shift):
    """dst is a view in the middle of a larger buffer: its neighbours stay untouched."""
    base = vd.asbuffer(np.full(256, -1.0, np.float32))
    dst = base.view(64, (64,))                 # 256-byte offset: aligned everywhere
    src = np.arange(100, dtype=np.float32)
    scatter(dst, vd.asbuffer(src), shift)
    want = np.full(256, -1.0, np.float32)
    for i in range(100):
        if 0 <= i + shift < 64:
            want[64 + i + shift] = src[i]
    np.testing.assert_array_equal(base.read(0), want)


def test_views_bound_their_reads(backend):
    base = vd.asbuffer(np.arange(256, dtype=np.float32))
    view = base.view(64, (16,))
    out = vd.Buffer((40,), vd.float32)
    shifted_copy(out, view, 0)
    want = np.zeros(40, np.float32)
    want[:16] = np.arange(64, 80)
    np.testing.assert_array_equal(out.read(0), want)


@vd.shader("idx.size")
def count(hist: Buff[u32], idx: Buff[i32], old: Buff[u32]):
    i = vc.global_invocation_id().x
    old[i] = vc.atomic_add(hist[idx[i]], 1)


def test_atomics_past_the_end_are_not_performed(backend):
    idx = np.array([0, 1, 2, 3, 4, 5, 6, 7, -1, 8, 1000, 3], np.int32)
    base = vd.asbuffer(np.zeros(64, np.uint32))
    hist = base.view(0, (8,))
    old = vd.asbuffer(np.full(len(idx), 99, np.uint32))
    count(hist, vd.asbuffer(idx), old)
    want = np.zeros(64, np.uint32)
    for j in idx:
        if 0 <= j < 8:
            want[j] += 1
    np.testing.assert_array_equal(base.read(0), want)
    got_old = old.read(0)
    assert (got_old[[8, 9, 10]] == 0).all()      # out of range: nothing done, 0 returned


@vd.shader("out.size", local_size=(64, 1, 1))
def shared_shift(out: Buff[f32], shift: Const[i32]):
    i = vc.global_invocation_id().x
    tid = vc.local_invocation_id().x.cast(vd.int32)
    sh = vc.shared_buffer(vd.float32, 64)
    sh[tid] = 1.0
    vc.barrier()
    sh[tid + shift] = 2.0 + tid.cast(vd.float32)   # past the end: dropped
    vc.barrier()
    loc = vc.local_array(vd.float32, 4)
    for k in range(4):
        loc[k] = float(k + 1)
    out[i] = sh[tid] + loc[tid % 8] * 100.0                # loc[4..7]: 0


def test_shared_and_local_arrays_are_guarded(backend):
    shift = 40
    out = vd.Buffer((64,), vd.float32)
    shared_shift(out, shift)
    sh = np.ones(64, np.float32)
    for t in range(64):
        if 0 <= t + shift < 64:
            sh[t + shift] = 2.0 + t
    loc = np.array([1, 2, 3, 4, 0, 0, 0, 0], np.float32)
    want = sh + loc[np.arange(64) % 8] * 100.0
    np.testing.assert_array_equal(out.read(0), want)


@vd.shader("src.size")
def vec3_copy(dst: Buff[v3], src: Buff[v3]):
    i = vc.global_invocation_id().x
    dst[i] = src[i] * 2.0


def test_vector_elements(backend):
    src = np.arange(30, dtype=np.float32).reshape(10, 3)
    base = vd.asbuffer(np.full((16, 3), -1.0, np.float32), vd.vec3)
    dst = base.view(0, (4,))
    vec3_copy(dst, vd.asbuffer(src, vd.vec3))
    want = np.full((16, 3), -1.0, np.float32)
    want[:4] = src[:4] * 2
    np.testing.assert_array_equal(base.read(0), want)


def test_positional_and_keyword_calls_agree(backend):
    """The eager fast path (positional) fills the hidden lengths as the full path does."""
    src = vd.asbuffer(np.arange(1, 21, dtype=np.float32))
    a, b = vd.Buffer((32,), vd.float32), vd.Buffer((32,), vd.float32)
    for _ in range(2):
        shifted_copy(a, src, 3)
        shifted_copy(out=b, src=src, shift=3)
    np.testing.assert_array_equal(a.read(0), b.read(0))
    np.testing.assert_array_equal(a.read(0), _shifted(np.arange(1, 21, dtype=np.float32), 32, 3))
    # a shorter source through the same plan: the length comes from this call's buffer
    short = vd.asbuffer(np.arange(1, 6, dtype=np.float32))
    shifted_copy(a, short, 0)
    np.testing.assert_array_equal(a.read(0), _shifted(np.arange(1, 6, dtype=np.float32), 32, 0))


def test_buffers_reached_by_device_address_are_guarded(backend, monkeypatch):
    """Vulkan reaches buffers past maxStorageBufferRange through their device addresses,
    which have no bound range: the launcher passes their lengths."""
    if backend != "vulkan":
        pytest.skip("only Vulkan passes buffers by device address")
    if not vd.get_context().device.extra.get("buffer_device_address"):
        pytest.skip("the device lacks buffer device addresses")

    @vd.shader("out.size")
    def addressed_copy(out: Buff[f32], src: Buff[f32], shift: Const[i32]):
        i = vc.global_invocation_id().x
        j = i.cast(vd.int32) + shift
        out[i] = src[j]
        src[j] = -1.0

    monkeypatch.setattr(addressed_copy, "_addressed", lambda bound, device: ("src",))
    base = vd.asbuffer(np.arange(128, dtype=np.float32))
    src = base.view(32, (16,))
    out = vd.Buffer((64,), vd.float32)
    addressed_copy(out, src, -4)
    variants = addressed_copy._compiled[vd.get_context()]
    assert [key[2] for key in variants] == [("src",)]
    want = np.zeros(64, np.float32)
    want[4:20] = np.arange(32, 48)
    np.testing.assert_array_equal(out.read(0), want)
    base_want = np.arange(128, dtype=np.float32)
    base_want[32:48] = -1.0
    np.testing.assert_array_equal(base.read(0), base_want)


def test_opting_out_emits_no_guards(backend):
    def body(out: Buff[f32], a: Buff[f32], b: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = a[i] + b[i]

    fast = vd.shader("out.size", memory_checks=False)(body)
    safe = vd.shader("out.size")(body)
    assert "vkd_len_" not in fast.get_src() and ".length()" not in fast.get_src()
    src = safe.get_src()
    if backend == "vulkan":
        assert "a.data.length()" in src and "b.data.length()" in src
    else:
        assert "vkd_len_a" in src and "vkd_len_b" in src
    assert "vkd_len_out" not in src     # out[i] is below the exec size, out's length
    x = np.arange(64, dtype=np.float32)
    for fn in (fast, safe):
        out = vd.Buffer((64,), vd.float32)
        fn(out, vd.asbuffer(x), vd.asbuffer(2 * x))
        np.testing.assert_array_equal(out.read(0), 3 * x)
    with pytest.raises(TypeError, match="memory_checks"):
        vd.shader("out.size", memory_checks="no")(body)


def test_structural_key_tells_checked_from_unchecked(dummy):
    from vkdispatch.codegen.trace import trace
    from vkdispatch.shader.signature import parse_signature

    def body(out: Buff[f32], a: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = a[i]

    params = parse_signature(body)
    plain = trace(body, params, dummy, (64, 1, 1), True)
    checked = trace(body, params, dummy, (64, 1, 1), True, True)
    trusted = trace(body, params, dummy, (64, 1, 1), True, True, ("out",))
    keys = {ir.structural_key(k) for k in (plain, checked, trusted)}
    assert len(keys) == 3
    assert [p.name for p in checked.params if p.hidden] == ["vkd_exec_count", "vkd_len_a",
                                                             "vkd_len_out"]
    assert [p.name for p in trusted.params if p.hidden] == ["vkd_exec_count", "vkd_len_a"]
    assert ir.structural_key(trace(body, params, dummy, (64, 1, 1), True, True)) == \
        ir.structural_key(checked)


def test_a_length_name_clash_is_an_error(dummy):
    @vd.shader("a.size")
    def clash(a: Buff[f32], vkd_len_a: Const[u32]):
        i = vc.global_invocation_id().x
        a[i + 1] = 1.0

    with pytest.raises(vd.CodegenError, match="vkd_len_a"):
        clash.get_src()


@vd.shader("out.size")
def add3(out: Buff[f32], a: Buff[f32], b: Buff[f32]):
    i = vc.global_invocation_id().x
    out[i] = a[i] + b[i]


def _guards(kernel) -> set:
    """Buffers the compiled kernel guards (by their hidden lengths or .length())."""
    src = kernel.source
    return {n for n in ("out", "a", "b")
            if f"vkd_len_{n}" in src or f" {n}.data.length()" in src
            or f"({n}.data.length()" in src}


def test_buffers_as_long_as_the_exec_size_need_no_guard(backend):
    """An element at global_invocation_id().x of a buffer at least as long as the exec
    size is in range (the exec-size check bounds x): the call leaves it unguarded, so
    the common elementwise kernel costs nothing; a shorter buffer is guarded."""
    x = np.arange(64, dtype=np.float32)
    out, a, b = vd.Buffer((64,), vd.float32), vd.asbuffer(x), vd.asbuffer(2 * x)
    short = vd.asbuffer(x[:10])
    ctx = vd.get_context()
    # alternate a full and a short input through the fast path (same exec size)
    for _ in range(2):
        add3(out, a, b)
        np.testing.assert_array_equal(out.read(0), 3 * x)
        add3(out, short, b)
        np.testing.assert_array_equal(out.read(0), np.concatenate([x[:10], np.zeros(54)]) + 2 * x)
        add3(out=out, a=a, b=short)                  # the full path does the same
        np.testing.assert_array_equal(out.read(0), x + np.concatenate([x[:10], np.zeros(54)]))
    kernels = {key[4][1]: k for key, k in add3._compiled[ctx].items()}
    assert set(kernels) == {("out", "a", "b"), ("out", "b"), ("out", "a")}
    assert _guards(kernels[("out", "a", "b")]) == set()
    assert _guards(kernels[("out", "b")]) == {"a"}
    assert _guards(kernels[("out", "a")]) == {"b"}
    if backend != "vulkan":
        assert not any(n.startswith("vkd_len_") for n in kernels[("out", "a", "b")].uniform_names)


def test_an_explicit_exec_size_past_the_buffers_is_guarded(backend):
    x = np.arange(16, dtype=np.float32)
    out, a, b = vd.Buffer((16,), vd.float32), vd.asbuffer(x), vd.asbuffer(x)
    base = vd.asbuffer(np.full(256, -1.0, np.float32))
    out = base.view(64, (16,))
    add3(out, a, b, exec_size=100)                   # past every buffer: all guarded
    want = np.full(256, -1.0, np.float32)
    want[64:80] = 2 * x
    np.testing.assert_array_equal(base.read(0), want)


def test_an_empty_buffer_has_no_elements(backend, request):
    if backend == "vulkan":
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "Vulkan cannot bind a 0-byte range: an empty buffer is a 16-byte VkBuffer bound "
            "whole, so .length() counts 16 bytes of it (no memory outside the buffer is "
            "touched); fixing it needs the backend to report empty bindings")))

    @vd.shader("out.size")
    def touch(out: Buff[f32], src: Buff[f32]):
        i = vc.global_invocation_id().x
        out[i] = src[i] + 1.0
        src[i] = 5.0

    out, src = vd.Buffer((8,), vd.float32), vd.Buffer((0,), vd.float32)
    touch(out, src)
    touch(out, src)
    np.testing.assert_array_equal(out.read(0), np.ones(8, np.float32))
