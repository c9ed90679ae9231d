"""vd.fft complex transforms against numpy.fft on every backend present: one case per
size class (one-kernel power of two, mixed radix, strided axes, four-step, Bluestein),
few kernels each (PoCL compiles ~1 s per FFT kernel)."""
import numpy as np
import pytest

import vkdispatch as vd

from .util import TOL, rel_err, skip_without_float64, random_complex, two_pass_length


def _roundtrip(x, axis, dtype):
    buf = vd.asbuffer(x)
    vd.fft.fft(buf, axis=axis)
    got = buf.read(0)
    assert rel_err(got, np.fft.fft(x.astype(np.complex128), axis=axis)) < TOL[dtype]
    vd.fft.ifft(buf, axis=axis)
    assert rel_err(buf.read(0), x) < TOL[dtype]


@pytest.mark.parametrize("shape,axis", [((5, 64), -1), ((2, 4096), 1), ((3, 360), -1),
                                        ((2, 1001), -1)])
def test_last_axis_complex64(backend, shape, axis):
    x = random_complex(shape, np.complex64)
    _roundtrip(x, axis, np.complex64)


def test_strided_axes_complex128(backend):
    skip_without_float64()
    x = random_complex((12, 5), np.complex128)
    _roundtrip(x, 0, np.complex128)
    y = random_complex((3, 6, 4), np.complex128)
    buf = vd.asbuffer(y)
    vd.fft.fft(buf, axis=1)
    assert rel_err(buf.read(0), np.fft.fft(y, axis=1)) < TOL[np.complex128]


def test_strided_axis_two_coalesced_passes(backend):
    """A long strided axis splits into two passes that each move many columns."""
    x = random_complex((1024, 3), np.complex64)
    _roundtrip(x, 0, np.complex64)


def test_four_step_two_to_the_twenty(backend):
    x = random_complex((1, 1 << 20), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft(buf)
    assert rel_err(buf.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]


@pytest.mark.parametrize("n,dtype", [(17, np.complex64), (97, np.complex128)])
def test_bluestein(backend, n, dtype):
    if dtype is np.complex128:
        skip_without_float64()
    x = random_complex((3, n), dtype)
    _roundtrip(x, -1, dtype)


def test_bluestein_past_one_workgroup(backend):
    """A prime length whose padded transform needs four passes (two four-step FFTs)."""
    x = random_complex((2, 4099), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft(buf)
    assert rel_err(buf.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]


def test_fft2_fft3(backend):
    x = random_complex((8, 12), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft2(buf)
    assert rel_err(buf.read(0), np.fft.fft2(x.astype(np.complex128))) < TOL[np.complex64]
    vd.fft.ifft2(buf)
    assert rel_err(buf.read(0), x) < TOL[np.complex64]
    y = random_complex((4, 6, 8), np.complex64)
    buf = vd.asbuffer(y)
    vd.fft.fft3(buf)
    assert rel_err(buf.read(0), np.fft.fftn(y.astype(np.complex128))) < TOL[np.complex64]
    vd.fft.ifft3(buf, normalize=False)
    assert rel_err(buf.read(0), y * y.size) < TOL[np.complex64]


def test_out_of_place_and_unnormalized(backend):
    x = random_complex((4, 64), np.complex64)
    src, dst = vd.asbuffer(x), vd.Buffer((4, 64), vd.complex64)
    vd.fft.fft(dst, src)
    assert rel_err(dst.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]
    np.testing.assert_array_equal(src.read(0), x)
    vd.fft.ifft(dst, normalize=False)
    assert rel_err(dst.read(0), x * 64) < TOL[np.complex64]


def test_new_batch_count_compiles_nothing(backend):
    for rows in (3, 7, 40):
        x = random_complex((rows, 64), np.complex64)
        buf = vd.asbuffer(x)
        before = vd.stats()
        vd.fft.fft(buf)
        got = buf.read(0)
        if rows != 3:
            delta = vd.stats() - before
            assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0
        assert rel_err(got, np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]


def test_bad_input_names_the_argument(backend):
    buf = vd.Buffer((4, 8), vd.complex64)
    with pytest.raises(ValueError, match="axis"):
        vd.fft.fft(buf, axis=2)
    with pytest.raises(TypeError, match="complex64 or complex128"):
        vd.fft.fft(vd.Buffer((8,), vd.float32))
    with pytest.raises(TypeError, match="vd.Buffer"):
        vd.fft.fft(np.zeros(8, np.complex64))
    with pytest.raises(TypeError, match="compute_type"):
        vd.fft.fft(buf, compute_type=vd.float32)
    with pytest.raises(ValueError, match="2 or 3 dimensions"):
        vd.fft.fft2(vd.Buffer((8,), vd.complex64))
    with pytest.raises(ValueError, match="input_signal_range"):
        vd.fft.fft(buf, input_signal_range=(6, 20))


@pytest.mark.parametrize("kind", ["one kernel", "two passes", "bluestein", "length one"])
@pytest.mark.parametrize("place", ["in place", "out of place", "views"])
def test_a_repeated_call_runs_on_its_own_buffers(backend, kind, place):
    """A plain transform called again on other buffers of the same layout records what
    its first call recorded, on the new buffers (and on the scratch memory as it is
    now: a larger transform in between grows it); every result matches NumPy."""
    n = {"one kernel": 64, "two passes": two_pass_length(), "bluestein": 17,
         "length one": 1}[kind]
    shape = (3, n)
    for seed in range(3):
        x = random_complex(shape, np.complex64, seed=seed)
        if place == "in place":
            buf = out = vd.asbuffer(x)
            vd.fft.fft(buf)
        elif place == "out of place":
            buf, out = vd.asbuffer(x), vd.Buffer(shape, vd.complex64)
            vd.fft.fft(out, buf)
        else:   # views of larger buffers, at their start
            big = vd.Buffer((2 * x.size + 8 * seed,), vd.complex64)
            buf = out = big.view(0, shape)
            buf.write(x)
            vd.fft.fft(buf)
        assert rel_err(out.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]
        if seed == 0:   # a larger two-pass transform grows the context's scratch
            vd.fft.fft(vd.asbuffer(random_complex((8, two_pass_length()), np.complex64)))


def test_a_repeated_call_records_into_the_graph_given(backend):
    graph = vd.CommandGraph()
    xs = [random_complex((2, 32), np.complex64, seed=s) for s in range(3)]
    bufs = [vd.asbuffer(x) for x in xs]
    for buf in bufs:
        vd.fft.fft(buf, graph=graph)
    vd.queue_wait_idle()
    for buf, x in zip(bufs, xs):   # nothing ran before the submit
        np.testing.assert_array_equal(buf.read(0), x)
    graph.submit()
    for buf, x in zip(bufs, xs):
        assert rel_err(buf.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]


def test_a_repeated_call_keeps_no_buffer_alive(backend):
    """What a transform keeps for its next call holds neither the call's buffers nor
    scratch memory (a larger transform later replaces it)."""
    import gc
    import weakref
    from vkdispatch.fft import launch
    x = random_complex((2, two_pass_length()), np.complex64)
    src, dst = vd.asbuffer(x), vd.Buffer(x.shape, vd.complex64)
    vd.fft.fft(dst, src)
    assert rel_err(dst.read(0), np.fft.fft(x.astype(np.complex128))) < TOL[np.complex64]
    ctx = vd.get_context()
    gone = [weakref.ref(src), weakref.ref(dst),
            weakref.ref(launch._scratch[ctx][(vd.complex64, 0)])]
    del src, dst
    rows = launch._scratch[ctx][(vd.complex64, 0)].size // x.shape[1] + 1   # past its size
    vd.fft.fft(vd.asbuffer(random_complex((rows, x.shape[1]), np.complex64)))
    vd.queue_wait_idle()
    gc.collect()
    assert all(r() is None for r in gone)
