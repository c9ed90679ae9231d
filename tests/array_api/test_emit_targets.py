"""Every elementwise function's fused kernel, for each dtype it takes, emits for GLSL,
CUDA and OpenCL on the dummy device (no GPU needed); a few compile with NVRTC, so the
CUDA backend's kernels are checked on machines without one."""
import pytest

import vkdispatch as vd
from vkdispatch.array_api import _dtypes as d
from vkdispatch.array_api import _elementwise as E
from vkdispatch.array_api._linalg import _generate as matmul_kernel
from vkdispatch.execution import fusion, lazy

from ..codegen.targets import TARGETS, emit_and_compile, source

DTYPES = (d.float32, d.float64, d.int32, d.uint8, d.bool, d.complex64)


@pytest.fixture(scope="module")
def device():
    vd.initialize(backend="dummy")
    yield vd.make_context().device
    vd.shutdown()


def _kernel(name, t, device):
    arity, rule = E.TABLE[name].arity, E.TABLE[name].rule
    result = {E.SAME: t, E.BOOL: d.bool, E.REAL: E._real_of(t)}[rule]
    place = lazy.View(lazy.Storage(None, pooled=False), 0, (1,))
    args = tuple(lazy.Leaf(place, (4,), t) for _ in range(arity))
    node = lazy.Node(E.OPS[name], args, (4,), result, None)
    node.target = lazy.View(lazy.Storage(None, pooled=False), 0, (1,))
    return fusion._generate(fusion.build_program(node, lazy), device, False)


def _sources(name, device):
    for t in DTYPES:
        if t not in d.CATEGORY_SETS[E.TABLE[name].category]:
            continue
        k = _kernel(name, t, device)
        for target in TARGETS:
            yield t, target, source(k, target)


@pytest.mark.parametrize("name", sorted(E.TABLE))
def test_every_op_emits_for_every_target(device, name):
    assert sum(1 for _ in _sources(name, device)) >= 2


def test_cuda_kernels_compile_with_nvrtc(device):
    # the complex functions' special-value selects and remainder's signed zeros too
    special = [(n, d.complex128) for n in ("exp", "expm1", "sinh", "cosh", "tanh", "tan",
                                           "asinh", "acosh", "atanh", "acos", "sqrt")]
    cases = [("pow", d.int32), ("logaddexp", d.float32), ("signbit", d.float64),
             ("divide", d.complex64), ("divide", d.complex128), ("remainder", d.float32),
             ("remainder", d.float64), ("tanh", d.complex64)] + special
    emit_and_compile([_kernel(name, t, device) for name, t in cases]
                     + [matmul_kernel(3, d.float32, device)])
