"""vd.map: a typed Python function applied inside a kernel another function traces."""
import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32


@vd.map
def scaled_sin(buf: Buff[f32], scale: Const[f32]) -> f32:
    i = vc.global_invocation_id().x
    return vc.sin(buf[i]) * scale


def test_map_reads_signature():
    assert isinstance(scaled_sin, vd.MappingFunction)
    assert scaled_sin.buffer_types == [Buff[f32], Const[f32]]
    assert scaled_sin.return_type is vd.float32


def test_map_explicit_types_and_errors():
    m = vd.map(lambda b: b[0], return_type=f32, input_types=[Buff[f32]])
    assert m.return_type is vd.float32 and m.buffer_types == [Buff[f32]]
    with pytest.raises(TypeError, match="input_types\\[0\\]"):
        vd.map(lambda b: b[0], return_type=f32, input_types=[f32])
    with pytest.raises(TypeError, match="parameter 'x'"):
        vd.map(lambda x: x)
    with pytest.raises(TypeError, match="takes a function"):
        vd.map(3)


def test_map_applied_in_a_shader(backend):
    @vd.shader("out.size")
    def apply(out: Buff[f32], buf: Buff[f32], scale: Const[f32]):
        out[vc.global_invocation_id().x] = scaled_sin.callback(buf, scale)

    data = np.random.default_rng(1).random(100).astype(np.float32)
    out = vd.Buffer((100,), vd.float32)
    apply(out, vd.asbuffer(data), 2.0)
    np.testing.assert_allclose(out.read(0), np.sin(data) * 2, rtol=1e-5, atol=1e-6)


def test_map_converts_its_result_and_checks_arguments(dummy):
    as_float = vd.map(lambda b: b[vc.global_invocation_id().x] + 1, return_type=f32,
                      input_types=[Buff[i32]])

    @vd.shader("out.size")
    def apply(out: Buff[f32], buf: Buff[i32]):
        v = as_float.callback(buf)
        assert v.dtype is vd.float32
        out[vc.global_invocation_id().x] = v

    assert "float" in apply.get_src()

    @vd.shader("out.size")
    def wrong(out: Buff[f32], buf: Buff[f32]):
        out[0] = as_float.callback(buf)

    with pytest.raises(TypeError, match="declared Buff\\[int32\\]"):
        wrong.get_src()
