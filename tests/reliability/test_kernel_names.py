"""Kernel and identifier names are sanitized and bounded on every backend: PoCL aborted
the process on a kernel named with 255+ characters, and non-ASCII Python names are not
C identifiers everywhere."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32
from vkdispatch.codegen.emit import emit
from vkdispatch.codegen.emit.base import MAX_IDENTIFIER, safe_identifier

from ..codegen.targets import nvrtc_or_skip
from .test_kernel_safety import run_isolated

_MAKE = """
def make(name, param="buf", const="k"):
    src = (f"def {name}({param}: Buff[f32], {const}: Const[f32]):\\n"
           f"    i = vc.global_invocation_id().x\\n"
           f"    {param}[i] = {param}[i] * 2.0 + {const}\\n")
    ns = {"Buff": Buff, "f32": f32, "Const": Const, "vc": vc}
    exec(src, ns)
    return vd.shader(f"{param}.size")(ns[name])
"""


def _make(name, param="buf", const="k"):
    ns = {"vd": vd, "vc": vc, "Buff": Buff, "f32": f32, "Const": Const}
    exec(_MAKE, ns)
    return ns["make"](name, param, const)


@pytest.mark.parametrize("length", [255, 300, 1000])
def test_long_kernel_names_run(backend, length):
    out = run_isolated(backend, _MAKE + f"""
fn = make("k" * {length})
buf = vd.asbuffer(np.arange(8, dtype=np.float32))
fn(buf, 1.0)
assert (buf.read(0) == np.arange(8) * 2 + 1).all(), buf.read(0)
print("ok")
""")
    assert out.strip().endswith("ok")


def test_long_and_unicode_parameter_and_kernel_names(backend):
    fn = _make("größe_" + "x" * 200, param="ß" + "p" * 300, const="κ" * 100)
    buf = vd.asbuffer(np.arange(16, dtype=np.float32))
    fn(buf, 0.5)
    np.testing.assert_array_equal(buf.read(0), np.arange(16) * 2 + 0.5)
    src = fn.get_src()
    assert src.isascii()


@pytest.mark.parametrize("target", ["glsl", "cuda", "opencl"])
def test_entry_points_are_bounded_ascii_and_distinct(dummy, target):
    from vkdispatch.shader.launch import default_local_size
    names = ["a" * 300, "a" * 299 + "b", "größe", "gr__e", "gr_e", "min", "kernel"]
    seen = set()
    for name in names:
        fn = _make(name)
        k = fn.kernel(dummy, default_local_size(1, dummy), True)
        info = emit(k, target, fn.name).info
        e = info.entry_point
        assert e.isidentifier() and e.isascii() and len(e) <= MAX_IDENTIFIER, e
        seen.add(e)
    if target != "glsl":        # GLSL entry points are always main
        assert len(seen) == len(names)


def test_long_names_compile_with_nvrtc(dummy):
    compile_cuda = nvrtc_or_skip()
    from vkdispatch.shader.launch import default_local_size
    fn = _make("ķ" * 300, param="b" * 400)
    k = fn.kernel(dummy, default_local_size(1, dummy), True, (True, ""))
    compile_cuda(emit(k, "cuda", fn.name).source)


def test_safe_identifier():
    assert safe_identifier("abc") == "abc"
    assert safe_identifier("3d") .startswith("vkd_3d")
    long = safe_identifier("x" * 500)
    assert len(long) == MAX_IDENTIFIER and long != safe_identifier("x" * 499 + "y")
    assert safe_identifier("größe") != safe_identifier("gr__e")
    assert safe_identifier("min", "vkd_kernel_", lambda s: s == "min") == "vkd_kernel_min"


_PLAN_SOURCES = {
    "vulkan": """#version 450
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer B { float x[]; } b;
void main() { b.x[gl_GlobalInvocationID.x] += 1.0; }""",
    "cuda": 'extern "C" __global__ void NAME(float* x) { x[blockIdx.x * 64 + threadIdx.x] += 1.0f; }',
    "opencl": "__kernel void NAME(__global float* x) { x[get_global_id(0)] += 1.0f; }",
}


def test_compute_plan_refuses_names_a_backend_cannot_take(backend):
    out = run_isolated(backend, f"""
source = {_PLAN_SOURCES[backend]!r}
for name, exc in (("k" * 300, ValueError), ("größe", ValueError), ("a-b", ValueError),
                  (None, TypeError)):
    text = source.replace("NAME", str(name))
    try:
        vd.ComputePlan(text, local_size=(64, 1, 1), entry_point=name)
    except exc as e:
        assert "entry_point" in str(e), e
    else:
        raise AssertionError(f"{{name!r}} was accepted")
name = "main" if {backend!r} == "vulkan" else "k" * 100
plan = vd.ComputePlan(source.replace("NAME", name), local_size=(64, 1, 1), entry_point=name)
buf = vd.asbuffer(np.zeros(64, np.float32))
plan((1, 1, 1), [buf])
assert (buf.read(0) == 1.0).all()
print("ok")
""")
    assert out.strip().endswith("ok")
