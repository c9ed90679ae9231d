"""Every case of tests/codegen/cases/ run on each available backend and compared with
its NumPy reference (integers and bools exactly, floats within the case's tolerance)."""
import contextlib

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Var, f32, i32, u32

from ..codegen.cases import BACKEND_TARGET, CASES


@contextlib.contextmanager
def uploaded(arrays: dict, dtypes: dict = None):
    """vd.Buffers holding `arrays` (name -> array, of `dtypes[name]` where given), destroyed
    afterwards; launches a failure left queued are dropped first, so they cannot fail the
    next test."""
    buffers = {}
    try:
        for name, array in arrays.items():
            buffers[name] = vd.asbuffer(np.asarray(array), (dtypes or {}).get(name))
        yield buffers
    finally:
        vd.global_graph().reset()
        for b in buffers.values():
            b.destroy()


def run_case(case, device) -> tuple:
    """(outputs read back, expected outputs) of one launch of `case`."""
    inputs = case.inputs(case.rng())
    expected = case.reference(inputs, device)
    shader = case.make_shader()
    kinds = {p.name: p.type for p in shader.params}
    arrays = {n: v for n, v in inputs.items() if kinds[n].kind == "buffer"}
    with uploaded(arrays, {n: kinds[n].dtype for n in arrays}) as buffers:
        uniforms = {n: v for n, v in inputs.items() if n not in arrays}
        shader(**buffers, **uniforms, **case.launch)
        return {name: buffers[name].read(0) for name in expected}, expected


def check_output(case, name, have, want) -> list:
    """Mismatch descriptions for one output (empty when it matches). Table outputs (1-D with
    a known column count) are checked column by column so a failure names the op."""
    want = np.asarray(want)
    if have.shape != want.shape:
        return [f"{name}: shape {have.shape}, expected {want.shape}"]
    if name in case.unordered:
        have, want = np.sort(have, axis=None), np.sort(want, axis=None)
    columns = case.columns.get(name)
    parts = [(name, have, want)]
    if columns:
        k = len(columns)
        parts = [(f"{name}[{col}]", have.reshape(-1, k)[:, j], want.reshape(-1, k)[:, j])
                 for j, col in enumerate(columns)]
    errors = []
    for label, h, w in parts:
        rtol, atol = case.tolerance(label)
        try:
            if h.dtype.kind in "biu":
                np.testing.assert_array_equal(h, w, err_msg=label)
            else:
                np.testing.assert_allclose(h, w, rtol=rtol, atol=atol, err_msg=label)
        except AssertionError as exc:
            errors.append(str(exc).strip())
    return errors


@pytest.mark.parametrize("case", [c for c in CASES if not c.compile_only], ids=lambda c: c.name)
def test_case(backend, case, request):
    target = BACKEND_TARGET[backend]
    if target not in case.targets:
        pytest.skip(f"{case.name} is not expressible in {target}")
    device = vd.get_context().device
    missing = case.missing(device)
    if missing:
        pytest.skip(f"{device.name} ({backend}) lacks {', '.join(missing)}")
    reason = case.known_bug("run", target, device)
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    have, want = run_case(case, device)
    errors = []
    for name in want:
        errors += check_output(case, name, have[name], want[name])
    assert not errors, f"{case.name} on {backend} ({device.name}):\n" + "\n\n".join(errors)


@pytest.mark.parametrize("form", ["string", "lambda", "tuple", "int", "at_call"])
def test_exec_size_forms_bound_the_launch(backend, form):
    """Each way of giving exec_size runs exactly that many invocations (the buffer is
    longer, so a missing bounds check would write past n)."""
    n = 1000
    spec = {"string": "ref.size", "lambda": lambda args: args.ref.size, "tuple": (n,),
            "int": n, "at_call": "buf.size"}[form]

    @vd.shader(exec_size=spec)
    def mark(buf: Buff[u32], ref: Buff[u32]):
        i = vc.global_invocation_id().x
        buf[i] = buf[i] + ref[i] + 1

    arrays = {"buf": np.zeros(n + 100, np.uint32), "ref": np.arange(n, dtype=np.uint32)}
    with uploaded(arrays) as b:
        if form == "at_call":
            mark(b["buf"], b["ref"], exec_size=n)
        else:
            mark(b["buf"], b["ref"])
        out = b["buf"].read(0)
    np.testing.assert_array_equal(out[:n], np.arange(n) + 1)
    np.testing.assert_array_equal(out[n:], 0)


def test_var_uniform_changes_between_submissions(backend):
    """A Var[...] bound on a CommandGraph takes its value at submit time, so one recording
    runs with several values."""
    @vd.shader("out.size")
    def affine(out: Buff[f32], x: Buff[f32], scale: Var[f32], shift: Var[i32]):
        i = vc.global_invocation_id().x
        out[i] = x[i] * scale + shift

    data = np.linspace(-1, 1, 257, dtype=np.float32)
    graph = vd.CommandGraph()
    with uploaded({"x": data, "out": np.zeros_like(data)}) as b:
        try:
            affine(b["out"], b["x"], graph.bind_var("scale"), graph.bind_var("shift"),
                   graph=graph)
            for scale, shift in ((2.0, 1), (-0.5, -3)):
                graph.set_var("scale", scale)
                graph.set_var("shift", shift)
                graph.submit(wait=True)
                np.testing.assert_allclose(b["out"].read(0), data * np.float32(scale) + shift,
                                           rtol=1e-6)
        finally:
            graph.destroy()
