"""Every case of tests/codegen/cases/ emitted for GLSL, CUDA and OpenCL and compiled: GLSL with
glslang (in process), CUDA with NVRTC for sm_90 (no GPU needed), OpenCL on PoCL.

Together the cases must use every IR op and every builtin, so a new op without a case
fails here. Targets whose emitter or compiler is missing are skipped, saying which."""
import importlib.util

import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.base.errors import BackendUnavailableError
from vkdispatch.codegen import ir, ops
from vkdispatch.codegen.emit import emit
from vkdispatch.codegen.functions.builtins import BUILTINS

from .cases import CASES, TARGETS, compile_params, trace


@pytest.fixture(scope="module")
def device():
    """The dummy device (every feature on): tracing and emitting need no hardware."""
    vd.initialize(backend="dummy")
    yield vd.make_context().device
    vc.set_codegen_backend(None)
    vd.shutdown()


def _require_emitter(target):
    if importlib.util.find_spec(f"vkdispatch.codegen.emit.{target}") is None:
        pytest.skip(f"the {target} emitter (vkdispatch/codegen/emit/{target}.py) does not "
                    f"exist yet")


def _load_compiler(target):
    if target == "glsl":
        from vkdispatch.backends.vulkan.glslang import compile_glsl
        return compile_glsl
    if target == "cuda":
        from vkdispatch.backends.cuda.nvrtc import compile_cuda
        return lambda source: compile_cuda(source, arch="sm_90")
    from vkdispatch.backends.opencl.compiler import build_opencl
    return build_opencl


_compilers = {}   # target -> compile function, or the reason there is none


def _compile(source, target):
    """Compile `source`, or skip saying why the target's compiler cannot run here."""
    if target not in _compilers:
        try:
            _compilers[target] = _load_compiler(target)
        except (ImportError, BackendUnavailableError) as exc:
            _compilers[target] = f"no {target} compiler: {type(exc).__name__}: {exc}"
    fn = _compilers[target]
    if isinstance(fn, str):
        pytest.skip(fn)
    try:
        return fn(source)
    except BackendUnavailableError as exc:
        pytest.skip(f"no {target} compiler: {exc}")


_opencl_device = []


def _require_compiler_features(case, target):
    """PoCL builds only what its device supports (no half, no subgroups): skip the rest.
    glslang and NVRTC (sm_90) compile every feature."""
    if target != "opencl" or not case.needs:
        return
    if not _opencl_device:
        from vkdispatch.backends import opencl
        reason = opencl.probe()
        _opencl_device.append(reason or opencl.load_runtime().devices()[0])
    dev = _opencl_device[0]
    if isinstance(dev, str):
        pytest.skip(f"no OpenCL device: {dev}")
    missing = case.missing(dev)
    if missing:
        pytest.skip(f"the OpenCL compiler's device {dev.name!r} lacks {', '.join(missing)}")


@pytest.mark.parametrize("checks", [False, True], ids=["plain", "memory_checks"])
@pytest.mark.parametrize("case,target", compile_params())
def test_case_compiles(device, case, target, checks):
    """Every case with and without memory checks (calls have them: the CUDA ones can
    run nowhere here, so this is where their guarded source is proven to build)."""
    _require_emitter(target)
    _require_compiler_features(case, target)
    shader = case.make_shader()
    emitted = emit(trace(shader, device, checks), target, shader.name)
    assert emitted.target == target
    _compile(emitted.source, target)


@pytest.fixture(scope="module")
def kernels(device):
    return {c.name: trace(c.make_shader(), device) for c in CASES}


def test_cases_cover_every_op(kernels):
    used = set().union(*(ir.used_ops(k) for k in kernels.values()))
    missing = sorted(set(ops.OPS) - used)
    assert not missing, f"ops without a case in tests/codegen/cases/: {missing}"
    assert used <= set(ops.OPS), f"traced ops unknown to ops.py: {sorted(used - set(ops.OPS))}"


def test_cases_cover_every_builtin(kernels):
    used = {n.attrs[0] for k in kernels.values() for n in ir.all_nodes(k)
            if isinstance(n, ir.Expr) and n.op == "builtin"}
    missing = sorted(set(BUILTINS) - used)
    assert not missing, f"builtins without a case in tests/codegen/cases/: {missing}"


def test_case_names_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


def test_every_target_is_listed():
    from vkdispatch.codegen.emit import TARGETS as EMIT_TARGETS
    assert set(TARGETS) == set(EMIT_TARGETS)
