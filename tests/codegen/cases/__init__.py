"""Kernel cases with NumPy references, shared by two tests:

* tests/codegen/test_compile_all.py emits every case for GLSL, CUDA and OpenCL and
  compiles it (and checks that together the cases use every IR op and builtin);
* tests/runtime/test_execute_cases.py runs every case on each real backend and compares
  the output buffers with the reference.

A case's shader parameters are filled from `inputs(rng)` by name: buffer parameters get
a vd.Buffer of the annotated dtype (outputs too, holding their initial contents), Const /
Var parameters get the value as it is. `reference(inputs, device)` returns the expected
contents of the output buffers (the device gives the subgroup size). Outputs of integer
or bool dtype are compared exactly, floats with the case's tolerances.
"""
from . import (arithmetic, compat, compile_only, control, dtypes, functions,  # noqa: F401
               launch, memory, subgroups, vectors)
from ._case import BACKEND_TARGET, CASES, SUBGROUP_FEATURES, TARGETS, Case  # noqa: F401


def by_name(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def trace(shader, device, memory_checks: bool = False):
    """The IR kernel `shader` launches with on `device` (its own or the default local size),
    with or without memory checks (a call has them unless the shader opts out)."""
    from vkdispatch.shader.launch import check_local_size, default_local_size
    ls = check_local_size(shader.local_size, device) if shader.local_size is not None \
        else default_local_size(1, device)
    bounds = shader.bounds_check if shader.bounds_check is not None \
        else shader.workgroups is None
    return shader.kernel(device, ls, bounds, (memory_checks, ()))   # every access guarded


def compile_params() -> list:
    """pytest params (case, target) for every target each case applies to, with the case's
    known compile bugs as strict xfails."""
    import pytest
    out = []
    for c in CASES:
        for t in c.targets:
            reason = c.known_bug("compile", t)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            out.append(pytest.param(c, t, id=f"{c.name}-{t}", marks=marks))
    return out
