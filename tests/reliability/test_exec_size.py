"""exec_size / workgroups strings are parsed, not evaluated blindly: only argument names,
attributes not starting with '_', subscripts, numbers, tuples, + - * // % and calls of
len/min/max/int are allowed; anything else raises ValueError naming the construct, and
a size that is not an int or a tuple of ints raises instead of launching something."""
import os

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, f32, u32


def _body(buf: Buff[u32]):
    i = vc.global_invocation_id()
    buf[i.x + i.y * 4 + i.z * 16] = buf[i.x + i.y * 4 + i.z * 16] + 1


def _ran(spec, n=32, **call):
    """Counts of the invocations of a launch over a buffer of n elements."""
    fn = vd.shader(spec)(_body)
    buf = vd.asbuffer(np.zeros(n, np.uint32))
    fn(buf, **call)
    return buf.read(0)


def _expected(dims, n=32):
    out = np.zeros(n, np.uint32)
    x, y, z = (tuple(dims) + (1, 1))[:3]
    for k in range(z):
        for j in range(y):
            for i in range(x):
                idx = i + j * 4 + k * 16
                if idx < n:
                    out[idx] += 1
    return out


@pytest.mark.parametrize("spec,dims", [
    ("buf.size", (32,)), ("buf.shape[0]", (32,)), ("len(buf)", (32,)),
    ("min(buf.size, 5)", (5,)), ("max(3, buf.size // 8)", (4,)),
    ("int(buf.size * 0.25)", (8,)), ("buf.size // 3 + 1", (11,)), ("(buf.size - 3) % 7", (1,)),
    ("-(-buf.size // 5)", (7,)), ("(4, buf.size // 16)", (4, 2)), ("buf.shape[:1]", (32,)),
    ("(2, 2, 2)", (2, 2, 2)), (" buf.size ", (32,)),
])
def test_allowed_forms(backend, spec, dims):
    np.testing.assert_array_equal(_ran(spec), _expected(dims))


def test_fast_and_full_paths_agree(backend):
    fn = vd.shader("buf.size // 2")(_body)
    assert fn._size_of is not None
    a = vd.asbuffer(np.zeros(32, np.uint32))
    b = vd.asbuffer(np.zeros(32, np.uint32))
    fn(a)            # positional: the compiled size rule
    fn(buf=b)        # keywords: the full path
    np.testing.assert_array_equal(a.read(0), b.read(0))
    np.testing.assert_array_equal(a.read(0), _expected((16,)))


@pytest.mark.parametrize("spec,construct", [
    ("'123'", "constant '123'"),
    ("b'1'", "constant"),
    ("True", "constant True"),
    ("buf.size ** 2", "Pow"),
    ("buf.size / 2", "Div"),
    ("buf.size << 1", "LShift"),
    ("[buf.size]", "List"),
    ("{buf.size}", "Set"),
    ("buf.size if buf else 1", "IfExp"),
    ("lambda: 1", "Lambda"),
    ("[i for i in (1, 2)]", "ListComp"),
    ("(x := 3)", "NamedExpr"),
    ("f'{buf}'", "JoinedStr"),
    ("buf.size > 3", "Compare"),
    ("buf.size and 2", "BoolOp"),
    ("buf.read()", "methods cannot be called"),
    ("buf.__class__", "'__class__'"),
    ("buf._handles", "'_handles'"),
    ("buf.__class__.__init__.__globals__['os'].system('true')", "attribute '__"),
    ("().__class__.__bases__[0].__subclasses__()", "'__subclasses__'"),
    ("__import__('os').system('true')", "__import__(...)"),
    ("eval('1')", "eval(...)"),
    ("len(*buf.shape)", "* arguments"),
    ("int(buf.size, base=10)", "keyword"),
    ("len", "not an argument"),
    ("buf.size)", "not a Python expression"),
    ("buf.size), (__import__('os').system('true')", "not a Python expression"),
])
def test_refused_constructs_raise_at_decoration(spec, construct):
    with pytest.raises(ValueError, match="exec_size") as info:
        fn = vd.shader(spec)(_body)
        fn(vd.asbuffer(np.zeros(4, np.uint32)))      # names are checked at the call
    assert construct in str(info.value)


def test_escapes_run_nothing(backend, tmp_path):
    """Each of these ran a shell command before: through dunder attributes, and through
    the fast path's lambda, which was built by pasting the string into source text."""
    marker = tmp_path / "pwned"
    cmd = f"touch {marker}"
    specs = [
        f"buf.__class__.__init__.__globals__['os'].system({cmd!r})",
        f"buf.size), (buf.__class__.__init__.__globals__['os'].system({cmd!r})",
        f"buf.size, buf.__class__.__init__.__globals__['os'].system({cmd!r})",
    ]
    for spec in specs:
        with pytest.raises(ValueError):
            fn = vd.shader(spec)(_body)
            fn(vd.asbuffer(np.zeros(4, np.uint32)))
        with pytest.raises(ValueError):
            ok = vd.shader("buf.size")(_body)
            ok(vd.asbuffer(np.zeros(4, np.uint32)), exec_size=spec)
        with pytest.raises(ValueError):
            vd.shader(workgroups=spec, local_size=(1, 1, 1))(_body)
    assert not os.path.exists(marker)


@pytest.mark.parametrize("spec", ["buf.dtype.name", "buf.size * 1.5", "buf.shape[0] * 0.5",
                                  "(buf.size, 0.5)", "buf", "buf.shape[:0] + (buf.dtype,)"])
def test_results_that_are_not_ints_raise(backend, spec):
    with pytest.raises(ValueError, match="int"):
        _ran(spec)


@pytest.mark.parametrize("spec", [lambda a: "123", lambda a: a.buf.size * 1.0,
                                  lambda a: [a.buf], lambda a: None],
                         ids=["str", "float", "list-of-buffer", "None"])
def test_callable_results_are_checked(backend, spec):
    with pytest.raises((ValueError, TypeError), match="exec_size"):
        _ran(spec)


@pytest.mark.parametrize("spec", ["'123'", "str(buf.size)"], ids=["literal", "str-call"])
def test_a_string_result_never_becomes_dimensions(backend, spec):
    """A size string evaluating to the string '123' launched 1x2x3 invocations before."""
    with pytest.raises(ValueError, match="exec_size"):
        fn = vd.shader("buf.size")(_body)
        fn(vd.asbuffer(np.zeros(8, np.uint32)), exec_size=spec)
    with pytest.raises(ValueError, match="exec_size"):
        vd.shader(exec_size=spec)(_body)


def test_floats_given_directly_are_refused(backend):
    with pytest.raises(ValueError, match="exec_size"):
        vd.shader(exec_size=10.5)(_body)
    with pytest.raises(ValueError, match="exec_size"):
        fn = vd.shader("buf.size")(_body)
        fn(vd.asbuffer(np.zeros(8, np.uint32)), exec_size=10.5)
    np.testing.assert_array_equal(_ran("123"), _expected((123,)))   # an int expression


def test_numpy_integers_and_lists_still_work(backend):
    np.testing.assert_array_equal(_ran(np.int64(5)), _expected((5,)))
    np.testing.assert_array_equal(_ran([4, 2]), _expected((4, 2)))
    np.testing.assert_array_equal(_ran("buf.size", exec_size=np.uint32(3)), _expected((3,)))


def test_workgroups_strings_follow_the_same_rules(backend):
    fn = vd.shader(workgroups="buf.size // 8", local_size=(4, 1, 1))(_body)
    buf = vd.asbuffer(np.zeros(32, np.uint32))
    fn(buf)
    np.testing.assert_array_equal(buf.read(0), _expected((16,)))
    with pytest.raises(ValueError, match="workgroups"):
        vd.shader(workgroups="buf.__len__()", local_size=(4, 1, 1))(_body)
