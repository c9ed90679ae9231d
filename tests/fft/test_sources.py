"""vd.fft's generated kernels: *_src / *_print_src helpers and print_shader show them,
mixed precision through compute_type, and the CUDA source compiles with NVRTC."""
import numpy as np
import pytest

import vkdispatch as vd

from .util import rel_err, random_complex, skip_without_float64


def test_src_helpers_show_the_kernels(backend, capsys):
    src = vd.fft.fft_src((4, 64))
    assert "barrier" in src.lower() or "__syncthreads" in src
    assert vd.fft.fft_src((1, 1 << 22)).count("next kernel") == 1   # two passes
    for text in (vd.fft.fft2_src((8, 16)), vd.fft.rfft_src((4, 16)),
                 vd.fft.convolve2DR_src((8, 16)), vd.fft.ifft3_src((2, 4, 8))):
        assert isinstance(text, str) and len(text) > 100
    vd.fft.convolve_print_src((2, 16))
    assert "kernel_size" in capsys.readouterr().out
    buf = vd.asbuffer(random_complex((2, 16), np.complex64))
    vd.fft.fft(buf, print_shader=True)
    assert "out_es" in capsys.readouterr().out


def test_contiguous_rows_compile_their_strides_as_literals(backend):
    """A transform of consecutive rows (the last axis) gets a kernel with its layout as
    literals (the stride uniforms are declared, never read); a strided axis reads them.
    Both compute what NumPy does."""
    rows, strided = vd.fft.fft_src((4, 64)), vd.fft.fft_src((64, 4), axis=0)
    assert rows.count("in_es") == 1 and rows.count("out_es") == 1
    assert strided.count("in_es") > 1 and strided.count("out_es") > 1
    for real in (vd.fft.rfft_src((4, 64)), vd.fft.irfft_src((4, 64))):   # packed rows
        assert real.count("in_es") == 1 and real.count("out_es") == 1
    for shape, axis in (((4, 64), 1), ((64, 4), 0), ((3, 5, 32), 2)):
        x = random_complex(shape, np.complex64)
        buf = vd.asbuffer(x)
        vd.fft.fft(buf, axis=axis)
        assert rel_err(buf.read(0), np.fft.fft(x.astype(np.complex128), axis=axis)) < 1e-6


def test_compute_type_mixed_precision(backend):
    skip_without_float64()
    x = random_complex((3, 64), np.complex64)
    buf = vd.asbuffer(x)
    vd.fft.fft(buf, compute_type=vd.complex128)
    assert rel_err(buf.read(0), np.fft.fft(x.astype(np.complex128))) < 1e-6
    y = random_complex((3, 64), np.complex128)
    buf = vd.asbuffer(y)
    vd.fft.fft(buf, compute_type=vd.complex64)
    assert rel_err(buf.read(0), np.fft.fft(y)) < 1e-6


def test_cuda_source_compiles_with_nvrtc():
    try:
        from vkdispatch.backends.cuda import nvrtc
        nvrtc.compile_cuda('extern "C" __global__ void k() {}', arch="sm_90")
    except Exception as exc:   # no NVRTC on this machine
        pytest.skip(f"NVRTC unavailable: {exc}")
    from vkdispatch.codegen.emit import emit
    from vkdispatch.fft import plan, stages
    vd.initialize(backend="dummy")
    try:
        device = vd.make_context().device
        for n, columns in ((4096, False), (360, True)):
            p = plan.make_plan(device, n, columns, -1, 1.0, vd.complex64, vd.complex64,
                               vd.complex64, True)
            k = stages.build_ir(p.steps[0].spec, device)
            nvrtc.compile_cuda(emit(k, "cuda", "fft").source, arch="sm_90")
        # xp.fft's packed real transforms: reals in (zero-padded), reals out, scaled
        for io, real, pairs in (((vd.float32, vd.complex64), "r2c", "in"),
                                ((vd.complex64, vd.float32), "c2r", "out")):
            p = plan.make_plan(device, 2048, False, -1, 0.5, *io, vd.complex64, False,
                               load=plan.Edge(limit=1000), real=real, pairs=pairs)
            k = stages.build_ir(p.steps[0].spec, device)
            nvrtc.compile_cuda(emit(k, "cuda", "fft").source, arch="sm_90")
    finally:
        vd.shutdown()


def test_big_kernels_keep_their_occupancy(caplog):
    """Occupancy guard on sm_90 (256 invocations a workgroup, no spills): the 4096-point
    kernel within 64 registers (four workgroups an SM), the 1024-point kernel and the
    4096-point convolution by a kernel buffer within 80 (three); more registers halved
    the speed of the convolution."""
    import logging
    import re
    try:
        from vkdispatch.backends.cuda import nvrtc
        nvrtc.compile_cuda('extern "C" __global__ void k() {}', arch="sm_90")
    except Exception as exc:   # no NVRTC on this machine
        pytest.skip(f"NVRTC unavailable: {exc}")
    from vkdispatch.codegen.emit import emit
    from vkdispatch.fft import plan, stages
    vd.initialize(backend="dummy")
    try:
        device = vd.make_context().device
        conv = ("buffer", "complex64", "shared", False)
        # the GPU machine's NVRTC (CUDA 13.0) gives the 1024-point kernel 74 registers
        for n, mul, budget in ((4096, None, 64), (1024, None, 80), (4096, conv, 80)):
            p = plan.make_plan(device, n, False, -1, 1.0, vd.complex64, vd.complex64,
                               vd.complex64, True, kernel_mul=mul)
            source = emit(stages.build_ir(p.steps[0].spec, device), "cuda", "fft").source
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="vkdispatch"):
                nvrtc._compile(source, "sm_90", nvrtc._options("sm_90", ["--ptxas-options=-v"]),
                               "fft.cu")
            log = caplog.text
            found = re.search(r"Used (\d+) registers", log)
            if found is None:   # some NVRTC builds print no ptxas report into the log
                pytest.skip(f"this NVRTC printed no register report: {log[-300:]!r}")
            used = int(found.group(1))
            assert used <= budget and "0 bytes spill stores" in log, (n, mul, log)
    finally:
        vd.shutdown()
