"""ir.structural_key: equal for the same computation, different for any change."""
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen import ir
from vkdispatch.codegen.abbreviations import Buff, Const, f32, i32


def _key(shader, dummy):
    return ir.structural_key(shader.kernel(dummy, (64, 1, 1), True))


def test_same_body_other_names_same_key(dummy):
    @vd.shader("b.size")
    def f(b: Buff[f32], c: Const[f32]):
        t = vc.global_invocation_id().x
        b[t] = b[t] * 2.0 + c

    @vd.shader("b.size")
    def g(b: Buff[f32], c: Const[f32]):
        idx = vc.global_invocation_id().x
        b[idx] = b[idx] * 2.0 + c

    assert _key(f, dummy) == _key(g, dummy)
    hash(_key(f, dummy))


def test_any_difference_changes_the_key(dummy):
    def make(lit, typ=f32, param="c"):
        def body(b, c):
            t = vc.global_invocation_id().x
            b[t] = b[t] * lit + c
        body.__annotations__ = {"b": Buff[typ], "c": Const[typ]}
        if param != "c":
            def renamed(b, d):
                t = vc.global_invocation_id().x
                b[t] = b[t] * lit + d
            renamed.__annotations__ = {"b": Buff[typ], "d": Const[typ]}
            body = renamed
        return vd.shader("b.size")(body)

    base = _key(make(2.0), dummy)
    assert _key(make(2.0), dummy) == base
    assert _key(make(3.0), dummy) != base            # literal
    assert _key(make(-0.0), dummy) != _key(make(0.0), dummy)
    assert _key(make(2, i32), dummy) != base         # types
    assert _key(make(2.0, param="d"), dummy) != base  # parameter names bind arguments
    f = make(2.0)
    assert ir.structural_key(f.kernel(dummy, (128, 1, 1), True)) != base   # local size
    assert ir.structural_key(f.kernel(dummy, (64, 1, 1), False)) != base   # bounds check
