import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

vd.initialize(backend="dummy")            # no driver needed: code generation only
vd.set_dummy_context_params(
    subgroup_size=32,
    max_workgroup_size=(128, 1, 1),
    max_workgroup_count=(65535, 65535, 65535),
)
vc.set_codegen_backend("cuda")            # or "glsl", "opencl"


@vd.shader("buff.size")
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias


src = add_scalar.get_src(line_numbers=True)
print(src)
assert "__global__" in src
glsl = add_scalar.get_src(target="glsl")  # any language, whatever the current one
assert "void main()" in glsl
vc.set_codegen_backend(None)              # back to the backend's own language
