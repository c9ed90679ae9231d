import numpy as np
import pytest

from vkdispatch.base.errors import ShaderCompileError
from vkdispatch.backends.opencl import compiler

GOOD = """__kernel void scale(__global float* a, float s) {
    a[get_global_id(0)] *= s;
}
"""

BAD = """__kernel void broken(__global float* a) {
    float x = 1.0f;
    a[0] = undeclared_thing + x;
}
"""


def test_build_error_names_the_platform_and_numbers_the_source(cl_runtime):
    with pytest.raises(ShaderCompileError) as err:
        compiler.build_opencl(BAD)
    msg = str(err.value)
    assert err.value.compiler.startswith("OpenCL (")
    assert cl_runtime.devices()[0].extra["platform"] in err.value.compiler
    assert "undeclared_thing" in err.value.log
    assert "3 |     a[0] = undeclared_thing + x;" in msg
    assert "1 | __kernel void broken" in msg


def test_build_opencl_accepts_valid_source_and_options(cl_runtime):
    compiler.build_opencl(GOOD)
    compiler.build_opencl(GOOD.replace("*= s", "*= s * FACTOR"), options=("-D", "FACTOR=2.0f"))
    with pytest.raises(ShaderCompileError, match="FACTOR"):
        compiler.build_opencl(GOOD.replace("*= s", "*= s * FACTOR"))


def test_memory_cache_returns_the_same_program(cl_runtime):
    import pyopencl as cl

    dev = cl.get_platforms()[0].get_devices()[0]
    cl_ctx = cl.Context([dev])
    first = compiler.build_program(cl_ctx, [dev], GOOD)
    assert compiler.build_program(cl_ctx, [dev], GOOD) is first
    assert compiler.build_program(cl_ctx, [dev], GOOD, ("-cl-fast-relaxed-math",)) is not first
    compiler.MEMORY_CACHE.forget_context(cl_ctx)
    assert not [k for k in compiler.MEMORY_CACHE.keys() if k[0] == cl_ctx.int_ptr]


def _scale_info(clh):
    return clh.program_info("scale", local=(4, 1, 1), bindings=clh.buffers("a"),
                            fields=clh.uniforms(s="float32"))


def _run_scale(ctx, clh, source, value):
    prog = ctx.create_program(source, _scale_info(clh))
    buf = clh.upload(ctx, np.arange(8, dtype=np.float32))
    cmd = ctx.command_list(0)
    cmd.dispatch(prog, (2,), [buf], clh.pack(value))
    cmd.submit().wait()
    out = clh.download(ctx, buf, np.float32, 8)
    cmd.destroy()
    ctx.buffer_free(buf)
    prog.destroy()
    return out


def test_disk_cache_hit_on_the_second_build(cl_runtime, ctx, clh, tmp_path, monkeypatch):
    monkeypatch.setenv("VKDISPATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiler.DISK_CACHE, "enabled", True)
    source = GOOD + f"// unique to {tmp_path}\n"  # no earlier build can match
    compiler.clear_memory_cache()
    hits = compiler.DISK_CACHE.hits
    ctx.create_program(source, _scale_info(clh)).destroy()
    entries = [p for p in (tmp_path / "opencl").rglob("*") if p.is_file()]
    assert len(entries) == 1
    assert compiler.DISK_CACHE.hits == hits

    compiler.clear_memory_cache()
    assert np.array_equal(_run_scale(ctx, clh, source, 3.0), 3 * np.arange(8, dtype=np.float32))
    assert compiler.DISK_CACHE.hits == hits + 1
    ctx.create_program(source, _scale_info(clh)).destroy()  # now a memory-cache hit
    assert compiler.DISK_CACHE.hits == hits + 1


def test_refused_binary_falls_back_to_a_source_build(cl_runtime, ctx, clh, tmp_path, monkeypatch):
    monkeypatch.setenv("VKDISPATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiler.DISK_CACHE, "enabled", True)
    compiler.clear_memory_cache()
    source = GOOD + f"// unique to {tmp_path}\n"
    _run_scale(ctx, clh, source, 2.0)
    (entry,) = [p for p in (tmp_path / "opencl").rglob("*") if p.is_file()]
    compiler.DISK_CACHE.put(entry.name, b"not a device binary")  # valid checksum, bad payload
    compiler.clear_memory_cache()
    hits = compiler.DISK_CACHE.hits
    assert np.array_equal(_run_scale(ctx, clh, source, 5.0), 5 * np.arange(8, dtype=np.float32))
    assert compiler.DISK_CACHE.hits == hits + 1  # read, refused by the driver, rebuilt
