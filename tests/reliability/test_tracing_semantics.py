"""No silent wrong results from tracing: a block (if/else branch, loop body) is traced once,
so a value made inside it cannot be used after it, and a loop body cannot rebind a name
whose old value it reads (Python would carry the new value into the next iteration, the
traced loop would not). Both raise CodegenError at trace time naming the user's file and
line and the fix: declare the variable before the block with vc.new_*(...) and assign
in place (x += ..., x.set(...), x[:] = ...), which gives the right result."""
import os
import re

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32, i32

HERE = os.path.basename(__file__)


def _line_of(marker: str) -> int:
    """The line of this file holding `# <marker>`."""
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return n
    raise LookupError(marker)


def _run(fn, n=16, init=None):
    buf = vd.asbuffer(np.zeros(n, np.float32) if init is None else init)
    fn(buf)
    return buf.read(0)


def _trace_error(body, exec_size="buff.size") -> str:
    fn = vd.shader(exec_size)(body)
    with pytest.raises(vd.CodegenError) as info:
        fn.get_src()
    return str(info.value)


def _assert_names(msg: str, *markers):
    for m in markers:
        assert f"{HERE}:{_line_of(m)}" in msg, (m, msg)


# ---------------------------------------------------------------------- loop-carried names

def rebind_in_loop(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    x = vc.new_float(0.0)
    for j in vc.range(10):  # rebind-loop
        x = x + 1.0
    buff[i] = x


def test_rebinding_a_variable_in_a_loop_raises(backend):
    """The reported case: it stored 1.0, not 10.0."""
    msg = _trace_error(rebind_in_loop)
    _assert_names(msg, "rebind-loop")
    assert "`x`" in msg and "x += ..." in msg and "x.set(...)" in msg


@pytest.mark.parametrize("form", ["iadd", "set", "slice"])
def test_in_place_updates_carry_through_the_loop(backend, form):
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        x = vc.new_float(0.0)
        for j in vc.range(10):
            if form == "iadd":
                x += 1.0
            elif form == "set":
                x.set(x + 1.0)
            else:
                x[:] = x + 1.0
        buff[i] = x

    np.testing.assert_array_equal(_run(vd.shader("buff.size")(body)), np.full(16, 10.0))


def python_accumulator(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    acc = 0.0
    for j in vc.range(4):  # python-acc-loop
        acc = acc + buff[j]
    buff[i] = acc


def test_a_python_number_accumulated_in_a_loop_raises(backend):
    msg = _trace_error(python_accumulator)
    _assert_names(msg, "python-acc-loop")
    assert "acc = vc.new_float(...)" in msg


def test_the_declared_accumulator_matches_numpy(backend):
    @vd.shader("out.size")
    def prefix(out: Buff[f32], src: Buff[f32]):
        i = vc.global_invocation_id().x
        acc = vc.new_float(0.0)
        for j in vc.range(i + 1):
            acc += src[j]
        out[i] = acc

    x = np.arange(1, 17, dtype=np.float32)
    out = vd.Buffer((16,), vd.float32)
    prefix(out, vd.asbuffer(x))
    np.testing.assert_array_equal(out.read(0), np.cumsum(x))


def pure_value_rebound(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    step = vc.global_invocation_id().x * 2
    for j in vc.range(3):  # pure-loop
        step = step + 1
        buff[i] = step


def test_rebinding_a_pure_value_in_a_loop_raises(backend):
    _assert_names(_trace_error(pure_value_rebound), "pure-loop")


def rebind_in_while(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    n = vc.new_int(0)
    total = vc.new_float(0.0)
    with vc.while_block(lambda: n < 5):  # while-loop
        n += 1
        total = total + 2.0
    buff[i] = total


def test_rebinding_in_a_while_loop_raises(backend):
    _assert_names(_trace_error(rebind_in_while), "while-loop")


def test_while_loop_in_place_matches(backend):
    @vd.shader("buff.size")
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        n = vc.new_int(0)
        total = vc.new_float(0.0)
        with vc.while_block(lambda: n < vc.global_invocation_id().x.cast(vd.int32)):
            n += 1
            total += 2.0
        buff[i] = total

    np.testing.assert_array_equal(_run(body), np.arange(16) * 2.0)


def test_temporaries_rebound_without_reading_the_old_value_are_fine(backend):
    @vd.shader("buff.size")
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        t = buff[i]
        k = 3                       # a Python number used again as a name in the loop
        buff[i] = t
        for j in vc.range(2):
            t = buff[i] * 2.0       # a new value; the old t is not read in the body
            k = t + 1.0
            buff[i] = k

    init = np.arange(16, dtype=np.float32)
    want = init.copy()
    for _ in range(2):
        want = want * 2 + 1
    np.testing.assert_array_equal(_run(body, init=init), want)


# ---------------------------------------------------------------------- values leaving a block

def value_from_false_if(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    with vc.if_block(i > 1000):  # false-if
        y = buff[i] + 5.0
    buff[i] = y  # use-after-if


def test_a_value_made_in_an_if_block_cannot_be_used_after_it(backend):
    """It read an uninitialized variable where the condition was false."""
    msg = _trace_error(value_from_false_if)
    _assert_names(msg, "use-after-if", "false-if")
    assert "vc.if_block" in msg and "vc.new_float(0.0)" in msg and "x.set(value)" in msg


def test_the_declared_variable_merges_both_paths(backend):
    @vd.shader("buff.size")
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        y = vc.new_float(-1.0)
        with vc.if_block(i % 3 == 0):
            y.set(buff[i] + 5.0)
        with vc.else_if_block(i % 3 == 1):
            y[:] = 100.0
        buff[i] = y

    init = np.arange(16, dtype=np.float32)
    want = np.where(init % 3 == 0, init + 5, np.where(init % 3 == 1, 100.0, -1.0))
    np.testing.assert_array_equal(_run(body, init=init), want)


def if_else_merge(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    with vc.if_block(i % 2 == 0):
        y = i * 2
    with vc.else_block():  # else-branch
        y = i * 3
    buff[i] = y  # use-after-else


def test_if_else_assigning_one_name_raises(backend):
    """Both branches set `y`; after them it silently held the else branch's value."""
    _assert_names(_trace_error(if_else_merge), "use-after-else", "else-branch")


def value_from_loop(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    for j in vc.range(4):  # value-loop
        last = buff[j]
    buff[i] = last  # use-after-loop


def loop_index_after_loop(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    for j in vc.range(4):
        buff[j] = 1.0
    buff[i] = j.cast(vd.float32)  # index-after-loop


@pytest.mark.parametrize("body,markers", [
    (value_from_loop, ("use-after-loop", "value-loop")),
    (loop_index_after_loop, ("index-after-loop",)),
], ids=["value", "index"])
def test_values_of_a_loop_body_cannot_be_used_after_it(backend, body, markers):
    msg = _trace_error(body)
    _assert_names(msg, *markers)
    assert "vc.range loop" in msg


def test_a_value_from_a_branch_cannot_be_used_in_the_next(backend):
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        with vc.if_block(i > 3):
            a = buff[i]
        with vc.else_block():
            buff[i] = a

    assert "vc.if_block" in _trace_error(body)


def test_atomics_on_a_value_from_an_ended_block_raise(backend):
    def body(buff: Buff[f32], cnt: Buff[i32]):
        i = vc.global_invocation_id().x
        with vc.if_block(i > 3):
            c = cnt[0]
        vc.atomic_add(c, 1)

    assert "vc.if_block" in _trace_error(body)


def test_values_from_before_a_block_and_shared_arrays_are_fine(backend):
    @vd.shader("buff.size", local_size=(16, 1, 1))
    def body(buff: Buff[f32]):
        i = vc.global_invocation_id().x
        before = buff[i] * 2.0
        with vc.if_block(i < 100):
            sh = vc.shared_buffer(vd.float32, 16)
            sh[i] = before
            for j in vc.range(1):
                buff[i] = before + 1.0
        vc.barrier()
        buff[i] = sh[i] + before

    init = np.arange(16, dtype=np.float32)
    np.testing.assert_array_equal(_run(body, init=init), init * 4)


def else_if_condition_used_after(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    with vc.if_block(i < 4):
        buff[i] = 1.0
    big = buff[i] > 10.0
    with vc.else_if_block(big):  # else-if-cond
        buff[i] = 2.0
    buff[i] = vc.select(big, 3.0, 4.0)


def test_an_else_if_condition_value_used_after_the_chain_raises(backend):
    msg = _trace_error(else_if_condition_used_after)
    _assert_names(msg, "else-if-cond")
    assert "else_if_block" in msg


def test_ir_built_by_hand_cannot_escape_a_block(dummy):
    from vkdispatch.base import dtype as dt
    from vkdispatch.codegen import ir
    b = vc.Builder("k")
    out = b.new_var(dt.float32, ir.BUFFER, name="out", mutable=True)
    b.add_param("out", "buffer", out)
    stmt = ir.If(ir.Lit(True, dt.bool_), [])
    b.emit(stmt)
    with b.nested(stmt.body):
        v = b.bind(ir.Lit(1.0, dt.float32))
    b.emit(ir.Assign(ir.Expr("index", (out, ir.Lit(0, dt.uint32)), dt.float32), v))
    with pytest.raises(vd.CodegenError, match=re.escape(repr(v.name))):
        b.finish((1, 1, 1))
