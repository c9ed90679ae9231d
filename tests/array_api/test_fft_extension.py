"""The standard's fft extension (xp.fft) against numpy.fft in float64, on every backend:
lengths of every plan kind (power of two, mixed radix, prime through Bluestein),
n (crop and zero-pad), axes, norms, the real and Hermitian transforms, views and
pending inputs, complex128, the helpers, bad arguments, and replay."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

from ..fft.util import two_pass_length

RNG = np.random.default_rng(7)
C = (RNG.standard_normal((6, 16)) + 1j * RNG.standard_normal((6, 16))).astype(np.complex64)
R = RNG.standard_normal((6, 15)).astype(np.float32)

# name: (call taking a namespace and an array, input)
CASES = {
    "fft": (lambda m, x: m.fft.fft(x), C),
    "fft n crops, axis 0, ortho": (lambda m, x: m.fft.fft(x, n=4, axis=0, norm="ortho"), C),
    "fft n pads, forward": (lambda m, x: m.fft.fft(x, n=24, norm="forward"), C),
    "ifft": (lambda m, x: m.fft.ifft(x), C),
    "ifft n pads, forward": (lambda m, x: m.fft.ifft(x, n=20, norm="forward"), C),
    "fft of a prime length": (lambda m, x: m.fft.fft(x, n=17), C),
    "fft of a real input": (lambda m, x: m.fft.fft(x), R),
    "fftn": (lambda m, x: m.fft.fftn(x), C),
    "fftn s and axes": (lambda m, x: m.fft.fftn(x, s=(12, 5), axes=(1, 0)), C),
    "ifftn s": (lambda m, x: m.fft.ifftn(x, s=(4, 8), axes=(0, 1), norm="ortho"), C),
    "rfft": (lambda m, x: m.fft.rfft(x), R),
    "rfft n, axis 0": (lambda m, x: m.fft.rfft(x, n=8, axis=0), R),
    "irfft": (lambda m, x: m.fft.irfft(x), C),
    "irfft odd n": (lambda m, x: m.fft.irfft(x, n=15, norm="ortho"), C),
    "irfft n past the input": (lambda m, x: m.fft.irfft(x, n=40, axis=-1), C),
    "rfftn": (lambda m, x: m.fft.rfftn(x), R),
    "irfftn": (lambda m, x: m.fft.irfftn(x, norm="forward"), C),
    "hfft": (lambda m, x: m.fft.hfft(x), C),
    "ihfft": (lambda m, x: m.fft.ihfft(x, norm="ortho"), R),
    "fftshift": (lambda m, x: m.fft.fftshift(x), R),
    "ifftshift one axis": (lambda m, x: m.fft.ifftshift(x, axes=1), R),
    "a strided view": (lambda m, x: m.fft.fft(x[1:, ::2]), C),
}


def _close(got, want, tol):
    got = np.asarray(got)
    assert got.shape == want.shape
    err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)
    assert err < tol, err


@pytest.mark.parametrize("case", CASES)
def test_matches_numpy_fft(backend, case):
    call, data = CASES[case]
    want = call(np, data.astype(np.complex128 if np.iscomplexobj(data) else np.float64))
    got = call(xp, xp.asarray(data))
    assert got.dtype == (xp.float32 if want.dtype.kind == "f" else xp.complex64)
    _close(got, want, 1e-6)


def test_pending_input_and_a_chain_after(backend):
    x = xp.asarray(C)
    got = xp.abs(xp.fft.ifft(xp.fft.fft(x * 2.0) * 0.5))   # lazy before and after
    _close(got, np.abs(C.astype(np.complex128)), 1e-6)


def test_complex128(backend):
    if not vd.get_context().device.float64:
        pytest.skip("the device has no float64")
    x = (RNG.standard_normal((3, 30)) + 1j * RNG.standard_normal((3, 30)))
    got = xp.fft.fft(xp.asarray(x), norm="ortho")
    assert got.dtype == xp.complex128
    _close(got, np.fft.fft(x, norm="ortho"), 1e-13)
    _close(xp.fft.irfft(xp.asarray(x), n=58), np.fft.irfft(x, n=58), 1e-13)


def test_frequencies(backend):
    np.testing.assert_allclose(np.asarray(xp.fft.fftfreq(7, d=0.5)), np.fft.fftfreq(7, 0.5),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(xp.fft.fftfreq(8)), np.fft.fftfreq(8), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(xp.fft.rfftfreq(9, d=2.0)), np.fft.rfftfreq(9, 2.0),
                               rtol=1e-6)
    assert xp.fft.fftfreq(4).dtype == xp.float32


def test_a_repeated_transform_compiles_nothing(backend):
    x, r = xp.asarray(C), xp.asarray(R[:, :14])
    np.asarray(xp.fft.fft(x))
    np.asarray(xp.fft.irfft(xp.fft.rfft(r)))
    before = vd.stats()
    for _ in range(3):
        np.asarray(xp.fft.fft(x))
        np.asarray(xp.fft.irfft(xp.fft.rfft(r)))
    delta = vd.stats() - before
    assert delta.kernels_compiled == 0 and delta.disk_cache_hits == 0, delta


def test_bad_arguments_name_themselves(backend):
    x = xp.asarray(C)
    with pytest.raises(ValueError, match="norm must be one of"):
        xp.fft.fft(x, norm="half")
    with pytest.raises(ValueError, match="n must be a positive int"):
        xp.fft.fft(x, n=0)
    with pytest.raises(TypeError, match="fft.rfft takes real floating-point arrays, got "
                                        "complex64"):
        xp.fft.rfft(x)
    with pytest.raises(TypeError, match="fft.fft takes floating-point arrays, got int32"):
        xp.fft.fft(xp.asarray(np.arange(4, dtype=np.int32)))
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        xp.fft.fft(x, axis=2)
    with pytest.raises(ValueError, match="s has 1 entries and axes 2"):
        xp.fft.fftn(x, s=(4,), axes=(0, 1))
    with pytest.raises(ValueError, match="repeat an axis"):
        xp.fft.fftn(x, axes=(1, -1))
    with pytest.raises(ValueError, match="no output length"):
        xp.fft.irfft(x[:, :1])
    with pytest.raises(TypeError, match="takes an array"):
        xp.fft.fft(C)


# The real transforms: even lengths whose half is a Stockham length run packed (half
# the length, the real side read or written as reals), the rest as complex transforms.
REAL_LENGTHS = [2, 16, 64, 6, 10, 12, 30, 1000, 194, 7, 97, 15]


def _real(shape, dtype=np.float32, seed=3):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _spectrum(shape, dtype=np.complex64, seed=4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _both(call, data, tol):
    """`call` on xp and on numpy (float64/complex128 data) agree within `tol`."""
    wide = data.astype(np.complex128 if np.iscomplexobj(data) else np.float64)
    _close(call(xp, xp.asarray(data)), call(np, wide), tol)


@pytest.mark.parametrize("n", REAL_LENGTHS)
def test_real_transforms_of_every_length(backend, n):
    x, z = _real((3, n)), _spectrum((3, n // 2 + 1))
    for k, norm in ((None, "backward"), (max(1, n - 3), "ortho"), (n + 4, "forward")):
        _both(lambda m, a: m.fft.rfft(a, n=k, norm=norm), x, 1e-6)
        _both(lambda m, a: m.fft.irfft(a, n=k or n, norm=norm), z, 1e-6)
    _both(lambda m, a: m.fft.irfft(a), z, 1e-6)
    _both(lambda m, a: m.fft.ihfft(a), x, 1e-6)
    _both(lambda m, a: m.fft.hfft(a, n=n), z, 1e-6)


@pytest.mark.parametrize("shape,axis", [((16, 3), 0), ((2, 30, 3), 1), ((5, 2, 12), 2),
                                        ((2, 1 << 14), 1), ((1 << 14, 3), 0)])
def test_real_transforms_along_any_axis(backend, shape, axis):
    """Batched leading axes, strided axes (a kernel over columns), and lengths whose
    half takes two passes and an untangling kernel (1 << 14 here)."""
    x = _real(shape)
    n = shape[axis]
    _both(lambda m, a: m.fft.rfft(a, axis=axis), x, 1e-6)
    _both(lambda m, a: m.fft.rfft(a, n=n + 6, axis=axis, norm="ortho"), x, 1e-6)
    z = _spectrum(shape[:axis] + (n // 2 + 1,) + shape[axis + 1:])
    _both(lambda m, a: m.fft.irfft(a, axis=axis), z, 1e-6)
    _both(lambda m, a: m.fft.irfft(a, n=n - 4, axis=axis, norm="forward"), z, 1e-6)
    _both(lambda m, a: m.fft.irfft(a, n=n + 8, axis=axis), z, 1e-6)


def test_real_transforms_in_float64(backend):
    if not vd.get_context().device.float64:
        pytest.skip("the device has no float64")
    for n in (18, 30, 1000, 97, 1 << 14):
        x, z = _real((2, n), np.float64), _spectrum((2, n // 2 + 1), np.complex128)
        got = xp.fft.rfft(xp.asarray(x), norm="ortho")
        assert got.dtype == xp.complex128
        _close(got, np.fft.rfft(x, norm="ortho"), 1e-13)
        back = xp.fft.irfft(xp.asarray(z), n=n)
        assert back.dtype == xp.float64
        _close(back, np.fft.irfft(z, n=n), 1e-13)
    _close(xp.fft.rfft(xp.asarray(_real((12, 3), np.float64)), axis=0),
           np.fft.rfft(_real((12, 3), np.float64), axis=0), 1e-13)


def test_real_transforms_of_views_and_chains(backend):
    x = _real((8, 64))
    a = xp.asarray(x)
    for index in ((slice(None), slice(None, None, 2)), (slice(1, None), slice(3, 63)),
                  (slice(None, None, 2), slice(None)), (slice(None), slice(None, None, -1))):
        _close(xp.fft.rfft(a[index]), np.fft.rfft(x[index].astype(np.float64)), 1e-6)
    _close(xp.fft.rfft(a.T, axis=0), np.fft.rfft(x.T.astype(np.float64), axis=0), 1e-6)
    k = _real(33, seed=5)
    got = xp.fft.irfft(xp.fft.rfft(a * 2.0) * xp.asarray(k)) + 1.0
    _close(got, np.fft.irfft(np.fft.rfft(2.0 * x.astype(np.float64)) * k) + 1.0, 1e-6)


@pytest.mark.parametrize("s,axes", [(None, None), ((6, 10), (0, 1)), ((8, 30), (1, 0)),
                                    (None, (0,))])
def test_real_nd_transforms(backend, s, axes):
    x = _real((8, 64))
    _both(lambda m, a: m.fft.rfftn(a, s=s, axes=axes), x, 1e-6)
    z = np.fft.rfftn(x.astype(np.float64), s=s, axes=axes).astype(np.complex64)
    _both(lambda m, a: m.fft.irfftn(a, s=s, axes=axes, norm="ortho"), z, 1e-6)


@pytest.mark.parametrize("n,kernels", [(64, 1), (1 << 15, 3)])
def test_even_real_transforms_run_packed(backend, n, kernels):
    """rfft / irfft of an even length: one packed kernel (past one workgroup: two passes
    and the untangling), with no complex copy of the input or full spectrum made."""
    x, z = xp.asarray(_real((4, n))), xp.asarray(_spectrum((4, n // 2 + 1)))
    for call in (lambda: xp.fft.rfft(x), lambda: xp.fft.irfft(z)):
        np.asarray(call())
        before = vd.stats()
        np.asarray(call())
        assert (vd.stats() - before).dispatches_recorded == kernels


@pytest.mark.parametrize("kind", ["fft", "fft two passes", "fft bluestein", "ifft",
                                  "rfft", "rfft two passes", "irfft two passes", "rfft odd"])
def test_a_replayed_transform_runs_on_this_flush_memory(backend, kind):
    """The second and later flushes of a transform's structure record the dispatches
    captured at the first with the new input and output memory (and the context's
    scratch as it is now: a larger transform in between grows it); each result matches
    NumPy, and every flush records the same dispatches."""
    big = two_pass_length()
    n = {"fft": 16, "fft two passes": big, "fft bluestein": 17, "ifft": 48, "rfft": 64,
         "rfft two passes": 2 * big, "irfft two passes": 2 * big, "rfft odd": 15}[kind]
    name = kind.split()[0]
    make = _spectrum if name in ("fft", "ifft", "irfft") else _real
    shape = (2, n // 2 + 1) if name == "irfft" else (2, n)
    call = {"fft": lambda m, a: m.fft.fft(a), "ifft": lambda m, a: m.fft.ifft(a),
            "rfft": lambda m, a: m.fft.rfft(a), "irfft": lambda m, a: m.fft.irfft(a, n=n)}[name]
    counts = []
    for seed in range(3):
        data = make(shape, seed=10 + seed)
        before = vd.stats()
        got = call(xp, xp.asarray(data))
        _close(got, call(np, data.astype(np.complex128 if name != "rfft" else np.float64)),
               1e-5)
        counts.append((vd.stats() - before).dispatches_recorded)
        if seed == 0:   # grows the scratch memory the two-pass transforms use
            np.asarray(xp.fft.fft(xp.asarray(_spectrum((8, 2 * big)))))
    assert counts[0] == counts[1] == counts[2] > 0, counts
