"""SPIR-V reflection (vulkan/spirv.py) and the checks create_program makes with it: a
module must be well formed, have the GLCompute entry point the ProgramInfo names, and
declare exactly the descriptor bindings (of set 0, of the same kinds) and push
constants the ProgramInfo gives. Before, a mismatch ran with the wrong layout (a kernel
wrote into its input), `entry_point="nope"` ran `main`, and garbage or truncated SPIR-V
failed with VK_ERROR_UNKNOWN."""
import struct

import numpy as np
import pytest

from vkdispatch.backends.vulkan import glslang, spirv
from vkdispatch.base.abi import Binding, ProgramInfo
from vkdispatch.base.errors import InvalidArgumentError

try:
    glslang.compiler_version()
    NO_COMPILER = None
except Exception as exc:
    NO_COMPILER = str(exc)
pytestmark = pytest.mark.skipif(NO_COMPILER is not None, reason=f"no GLSL compiler: {NO_COMPILER}")

ALL_KINDS = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(binding = 2) uniform sampler2D tex;
layout(binding = 3, rgba32f) uniform image2D img;
layout(binding = 4) uniform Params { float q; } params;
layout(push_constant) uniform U { float a; uint n; } u;
void main() { uint i = gl_GlobalInvocationID.x; if (i < u.n) y[i] = u.a * x[i] + y[i]; }
"""
# y = x + 1: binding 0 is read, binding 1 written
TWO = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
void main() { uint i = gl_GlobalInvocationID.x; y[i] = x[i] + 1.0; }
"""


def buffers(n):
    return tuple(Binding(f"b{i}", "storage_buffer", i, "float32") for i in range(n))


def info(bindings=(), entry="main", uniform_size=0):
    return ProgramInfo(entry, (64, 1, 1), bindings=bindings, uniform_size=uniform_size)


# ----------------------------------------------------------------------------- reflection

@pytest.mark.parametrize("vulkan_version", [(1, 0), (1, 2), (1, 3)])
def test_reflection_of_a_compiled_module(vulkan_version):
    m = spirv.parse(glslang.compile_glsl(ALL_KINDS, vulkan_version=vulkan_version))
    assert [(ep.name, ep.model_name) for ep in m.entry_points] == [("main", "GLCompute")]
    assert m.entry_point("main") is not None and m.entry_point("nope") is None
    assert list(m.local_size.values()) == [(64, 1, 1)]
    kinds = {r.binding: (r.set, r.kind) for r in m.resources}
    assert kinds == {0: (0, "storage_buffer"), 1: (0, "storage_buffer"),
                     2: (0, "sampled_image"), 3: (0, "storage_image"),
                     4: (0, "uniform_buffer")}
    assert {r.binding: r.name for r in m.resources}[4] == "params"
    assert m.push_constants == ["u"]


def test_malformed_modules_are_named():
    good = glslang.compile_glsl(TWO)
    words = list(struct.unpack(f"<{len(good) // 4}I", good))
    cases = {
        "whole number of 32-bit words": good[:-3],
        "shorter than the 20-byte header": good[:16],
        "magic number": b"\0" * len(good),
        "big-endian": struct.pack(f">{len(words)}I", *words),
        "truncated SPIR-V": good[:len(good) // 2 // 4 * 4],
        "does not end with OpFunctionEnd": good[:-4],
        "no OpMemoryModel": good[:20] + struct.pack("<I", 1 << 16) * 64,   # OpNops
        "needs 770 words": good[:20] + bytes(range(256)) * 4,
        "word count of 0": good[:20] + b"\0" * 8,
        "version word": good[:4] + struct.pack("<I", 0x00020000) + good[8:],
    }
    for message, blob in cases.items():
        with pytest.raises(InvalidArgumentError, match=message):
            spirv.parse(blob)
    assert issubclass(spirv.SpirvError, ValueError)


# ----------------------------------------------------------------------------- create_program

def test_a_binding_count_unlike_the_source_is_refused(ctx):
    for given, message in ((buffers(1), r"no resource is given for binding\(s\) 1 \(Y\)"),
                           (buffers(3), r"binding\(s\) \[2\] are given")):
        with pytest.raises(InvalidArgumentError, match=message):
            ctx.create_program(TWO, info(given))
    ctx.create_program(TWO, info(buffers(2))).destroy()


def test_an_entry_point_not_in_the_source_is_refused(ctx):
    with pytest.raises(InvalidArgumentError, match=r"no GLCompute entry point 'nope'.*'main'"):
        ctx.create_program(TWO, info(buffers(2), entry="nope"))
    with pytest.raises(InvalidArgumentError, match="'main' \\(GLCompute\\)"):
        ctx.create_program(glslang.compile_glsl(TWO), info(buffers(2), entry="nope"))


def test_kinds_sets_and_push_constants_must_match(ctx):
    wrong_kind = (Binding("b0", "storage_buffer", 0), Binding("b1", "storage_image", 1, dim=2))
    with pytest.raises(InvalidArgumentError, match="binding 1 is a storage_buffer in the kernel"):
        ctx.create_program(TWO, info(wrong_kind))
    with pytest.raises(InvalidArgumentError, match="descriptor sets other than 0"):
        ctx.create_program(TWO.replace("binding = 1", "set = 1, binding = 1"), info(buffers(2)))
    pushed = TWO.replace("void main()", "layout(push_constant) uniform U { float a; } u;\n"
                                        "void main()")
    with pytest.raises(InvalidArgumentError, match="declares push constants"):
        ctx.create_program(pushed, info(buffers(2)))
    ctx.create_program(pushed, info(buffers(2), uniform_size=4)).destroy()


def test_spirv_newer_than_the_context_consumes_is_refused(ctx):
    if ctx.vulkan_version >= (1, 3):
        pytest.skip("the context consumes every SPIR-V version")
    blob = glslang.compile_glsl(TWO, vulkan_version=(1, 3))
    with pytest.raises(InvalidArgumentError, match="SPIR-V 1.6"):
        ctx.create_program(blob, info(buffers(2)))


def test_valid_spirv_bytes_run(ctx, vkh):
    prog = ctx.create_program(glslang.compile_glsl(TWO, vulkan_version=ctx.vulkan_version),
                              info(buffers(2)))
    x = np.arange(64, dtype=np.float32)
    bx, by = vkh.upload(ctx, x), vkh.upload(ctx, np.zeros(64, np.float32))
    vkh.run(ctx, prog, (1,), [bx, by])
    np.testing.assert_array_equal(vkh.download(ctx, by, np.float32, 64), x + 1)
    np.testing.assert_array_equal(vkh.download(ctx, bx, np.float32, 64), x)
    for h in (bx, by):
        ctx.buffer_free(h)
    prog.destroy()


def test_check_module_names_the_spirv_version_a_context_consumes():
    from vkdispatch.backends.vulkan.program import check_module, layout_bindings
    i = info(buffers(2))
    module = spirv.parse(glslang.compile_glsl(TWO, vulkan_version=(1, 3)))
    assert module.version == (1, 6)
    check_module(module, i, layout_bindings(i), 0, "main", (1, 3))
    with pytest.raises(InvalidArgumentError, match=r"SPIR-V 1.6; a Vulkan 1.2 context .* 1.5"):
        check_module(module, i, layout_bindings(i), 0, "main", (1, 2))
