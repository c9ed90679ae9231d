"""Generated kernels emitted for every target without a GPU, and their CUDA sources
compiled with NVRTC where it runs here (the CUDA backend's kernels are checked on
machines without one)."""
import pytest

from vkdispatch.codegen.emit import emit

TARGETS = ("glsl", "cuda", "opencl")


def source(kernel, target: str) -> str:
    """`kernel`'s source for `target`, its name the entry point (GLSL with 128 bytes of
    push constants)."""
    return emit(kernel, target, kernel.name, 128 if target == "glsl" else 0, (), {},
                0).source


def nvrtc_or_skip():
    """A function compiling CUDA source with NVRTC for sm_90, or the test skips saying
    why NVRTC cannot run here."""
    try:
        from vkdispatch.backends.cuda.nvrtc import compile_cuda
        compile_cuda('extern "C" __global__ void k() {}', arch="sm_90")
    except Exception as exc:   # no NVRTC here
        pytest.skip(f"NVRTC unavailable: {exc}")
    return lambda src: compile_cuda(src, arch="sm_90")


def emit_and_compile(kernels, compiled=None) -> None:
    """Emit each of `kernels` for every target, then compile the CUDA sources of
    `compiled` (default: all of them) with NVRTC, or skip where it cannot run."""
    for k in kernels:
        for target in TARGETS:
            source(k, target)
    compile_cuda = nvrtc_or_skip()
    for k in kernels if compiled is None else compiled:
        compile_cuda(source(k, "cuda"))
