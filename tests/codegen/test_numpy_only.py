"""Code generation with the dummy backend needs nothing beyond numpy: simulate a venv
without the GPU packages by making their imports fail in a fresh interpreter."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, importlib.abc

    class Block(importlib.abc.MetaPathFinder):
        BLOCKED = ("vulkan", "cffi", "cuda", "pyopencl", "array_api_compat", "cmeel", "nvidia")
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ImportError(f"blocked for this test: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import vkdispatch as vd
    import vkdispatch.codegen as vc
    from vkdispatch.codegen.abbreviations import Buff, Const, f32

    vd.initialize(backend="dummy")
    vd.set_dummy_context_params(subgroup_size=32, max_workgroup_size=(128, 1, 1),
                                max_workgroup_count=(65535, 65535, 65535))

    @vd.shader("buff.size")
    def add_scalar(buff: Buff[f32], bias: Const[f32]):
        tid = vc.global_invocation_id().x
        buff[tid] = buff[tid] + bias

    for target in ("glsl", "cuda", "opencl"):
        vc.set_codegen_backend(target)
        src = add_scalar.get_src(line_numbers=True)
        assert "bias" in src, src
        print(target, "ok")
''')


def test_codegen_needs_only_numpy():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["glsl", "ok", "cuda", "ok", "opencl", "ok"]
