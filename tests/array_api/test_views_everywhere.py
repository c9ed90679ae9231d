"""Every function of vkdispatch.array_api that takes arrays, run on views (offset,
strided and reversed slices, sub-blocks and transposes, 0-d / size-1 / empty results
of indexing, arrays over a vd.Buffer view at an element offset) and compared with
NumPy on the same data: dtype, shape and values."""
import math
import operator

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

N = 37
M = (6, 7)
T = (3, 4, 5)
RNG = np.random.default_rng(11)


def _permute(a, axes):
    return xp.permute_dims(a, axes) if isinstance(a, xp.Array) else a.transpose(axes)


# name -> (shape of the base array, the view of it); odd element offsets keep byte
# offsets off the 16 (Vulkan) and 128 (OpenCL) byte binding alignments
VIEWS = {
    "x[1:]": ((N,), lambda a: a[1:]),
    "x[3:-2]": ((N,), lambda a: a[3:-2]),
    "x[::2]": ((N,), lambda a: a[::2]),
    "x[1::3]": ((N,), lambda a: a[1::3]),
    "x[::-1]": ((N,), lambda a: a[::-1]),
    "x[-2:2:-3]": ((N,), lambda a: a[-2:2:-3]),
    "x[4:]": ((N,), lambda a: a[4:]),           # 16-byte aligned: vector reads apply
    "m[1:,2:]": (M, lambda a: a[1:, 2:]),
    "m.T": (M, lambda a: a.T),
    "m[::2,::-1]": (M, lambda a: a[::2, ::-1]),
    "m[1:,2:].T": (M, lambda a: a[1:, 2:].T),
    "t[:,::-1,1:]": (T, lambda a: a[:, ::-1, 1:]),
    "t.permute(2,0,1)": (T, lambda a: _permute(a, (2, 0, 1))),
    # size-1, 0-d and empty results of indexing (NumPy's a[7] is a copy, a[7, ...] a view)
    "x[7:8]": ((N,), lambda a: a[7:8]),
    "x[7]": ((N,), lambda a: a[7] if isinstance(a, xp.Array) else a[7, ...]),
    "x[5:5]": ((N,), lambda a: a[5:5]),
    "m[2:3,4:5]": (M, lambda a: a[2:3, 4:5]),
}
BUFFER_VIEWS = {   # name -> (element offset, shape) of a vd.Buffer view
    "buf.view(5,(29,))": (5, (29,)),
    "buf.view(3,(5,7))": (3, (5, 7)),
    "buf.view(32,(9,))": (32, (9,)),     # 128 bytes of float32: a bindable offset
}
ALL_VIEWS = list(VIEWS) + list(BUFFER_VIEWS)


def np_dtype(t) -> np.dtype:
    return np.dtype(t.numpy_dtype)


def default_int() -> np.dtype:
    """The device's default integer dtype (int64, or int32 without 64-bit integers)."""
    return np_dtype(xp.__array_namespace_info__().default_dtypes()["integral"])


def dtype_or_skip(name: str):
    """The namespace's dtype `name`, skipping where the device does not have it."""
    dtypes = xp.__array_namespace_info__().dtypes()
    if name not in dtypes:
        pytest.skip(f"{name} is not supported on {vd.get_context().device.name}")
    return dtypes[name]


def values(name: str, shape) -> np.ndarray:
    if name == "bool":
        return RNG.random(shape) < 0.5
    if name.startswith("complex"):
        return (RNG.uniform(-2, 2, shape) + 1j * RNG.uniform(-2, 2, shape)).astype(name)
    if name.startswith("float"):
        out = RNG.uniform(-4, 5, shape).astype(name)
        return np.where(np.abs(out) < 0.1, 0.5, out).astype(name)   # no near-zero divisors
    return RNG.integers(-4, 5, shape).astype(name)


def base(name: str, shape):
    """(xp array, NumPy array) of the same random data."""
    dtype_or_skip(name)
    a = values(name, shape)
    return xp.asarray(a), a


def whole_and_view(view: str, dtype: str = "float32"):
    """(xp base, NumPy base, xp view, NumPy view) named `view` over fresh random data
    of `dtype`; a Buffer view's base is an array over the whole Buffer."""
    if view in VIEWS:
        shape, f = VIEWS[view]
        x, a = base(dtype, shape)
        return x, a, f(x), f(a)
    t = dtype_or_skip(dtype)
    k, shape = BUFFER_VIEWS[view]
    a = values(dtype, (k + math.prod(shape) + 4,))
    buf = vd.Buffer(a.shape, t)
    buf.write(a)
    return (xp.from_buffer(buf), a, xp.from_buffer(buf.view(k, shape)),
            a[k:k + math.prod(shape)].reshape(shape))


# PoCL compiles every new kernel with LLVM (about 0.3 s each), and each view makes new
# kernels: on OpenCL the heaviest tests run these views, one of each kind (offset,
# strided, reversed, 2-D sub-block, transpose, Buffer view), and every view on Vulkan.
# How a view is read is decided above the emitters, the same for every backend.
OPENCL_VIEWS = {"x[1:]", "x[1::3]", "x[::-1]", "m[1:,2:]", "m.T", "buf.view(3,(5,7))"}


# reductions build several kernels per operation and type: two views, one each way a
# reduction reads a view (through an element-offset map; computed into memory first)
OPENCL_REDUCTION_VIEWS = {"x[1:]", "m.T"}


def representative(backend: str, *views: str, kept=OPENCL_VIEWS) -> None:
    """Skip on OpenCL unless every one of `views` is in `kept`."""
    if backend == "opencl" and not set(views) <= kept:
        pytest.skip("OpenCL runs the representative views (PoCL compiles slowly)")


def view_pair(view: str, dtype: str = "float32"):
    """(xp view, NumPy view) named `view` over fresh random data of `dtype`."""
    return whole_and_view(view, dtype)[2:]


def check(got, want, rtol=2e-6, atol=1e-6):
    """`got` (an xp array) equals NumPy's `want` in dtype, shape and values."""
    assert isinstance(got, xp.Array), type(got)
    want = np.asarray(want)
    assert np_dtype(got.dtype) == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    host = np.asarray(got)
    assert host.shape == want.shape and host.dtype == want.dtype
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(host, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(host, want)


# ----------------------------------------------------------------------------- creation


@pytest.mark.parametrize("view", ALL_VIEWS)
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_read_copy_asarray(backend, view, dtype):
    x, a = view_pair(view, dtype)
    check(x, a)
    check(xp.asarray(x), a)
    c = xp.asarray(x, copy=True)
    check(c, a)
    check(xp.from_dlpack(x), a)
    check(xp.from_dlpack(x, copy=True), a)
    assert x.to_device(x.device) is x
    # the host copy DLPack gives (device memory is shared only with its own device)
    np.testing.assert_array_equal(np.from_dlpack(x, device="cpu"), a)


@pytest.mark.parametrize("view", ["x[1::3]", "m.T", "buf.view(3,(5,7))", "x[7]"])
def test_asarray_of_view_with_dtype_and_like(backend, view):
    x, a = view_pair(view)
    check(xp.asarray(x, dtype=xp.int32), a.astype(np.int32))
    check(xp.zeros_like(x), np.zeros_like(a))
    check(xp.ones_like(x, dtype=xp.int32), np.ones_like(a, dtype=np.int32))
    check(xp.full_like(x, 2.5), np.full_like(a, 2.5))
    if x.ndim == 2:
        check(xp.tril(x, k=1), np.tril(a, k=1))
        check(xp.triu(x, k=-1), np.triu(a, k=-1))


# ----------------------------------------------------------------------------- elementwise

UNARY_FLOAT = ["abs", "negative", "positive", "ceil", "floor", "trunc", "round", "sign",
               "signbit", "isnan", "isinf", "isfinite", "square", "exp", "expm1", "sin",
               "cos", "tan", "atan", "sinh", "cosh", "tanh", "asinh"]
UNARY_POSITIVE = ["sqrt", "log", "log1p", "log2", "log10", "reciprocal", "acosh"]
UNARY_UNIT = ["asin", "acos", "atanh"]
NUMPY_NAME = {"acos": "arccos", "asin": "arcsin", "atan": "arctan", "acosh": "arccosh",
              "asinh": "arcsinh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power",
              "bitwise_invert": "invert", "bitwise_left_shift": "left_shift",
              "bitwise_right_shift": "right_shift", "concat": "concatenate"}


def np_fn(name):
    return getattr(np, NUMPY_NAME.get(name, name))


@pytest.mark.parametrize("view", ["x[1::3]", "m[1:,2:].T", "x[7]"])
def test_unary_float(backend, view):
    representative(backend, view)
    x, a = view_pair(view)
    for name in UNARY_FLOAT:
        check(getattr(xp, name)(x), np_fn(name)(a), rtol=1e-5, atol=1e-5)
    pos, ap = xp.abs(x) + 1.5, np.abs(a) + np.float32(1.5)
    for name in UNARY_POSITIVE:
        check(getattr(xp, name)(pos), np_fn(name)(ap), rtol=1e-5, atol=1e-5)
    unit, au = x / 6, a / np.float32(6)
    for name in UNARY_UNIT:
        check(getattr(xp, name)(unit), np_fn(name)(au), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("view", ["x[-2:2:-3]", "buf.view(3,(5,7))"])
def test_unary_integer_and_bool(backend, view):
    x, a = view_pair(view, "int32")
    for name in ("abs", "negative", "positive", "sign", "square", "bitwise_invert", "ceil",
                 "floor", "trunc", "round", "isnan", "isfinite"):
        check(getattr(xp, name)(x), np_fn(name)(a))
    b, ab = view_pair(view, "bool")
    check(xp.logical_not(b), np.logical_not(ab))
    check(xp.bitwise_invert(b), np.invert(ab))
    check(~b, ~ab)


BINARY_FLOAT = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow",
                "maximum", "minimum", "atan2", "copysign", "hypot", "logaddexp", "equal",
                "not_equal", "less", "less_equal", "greater", "greater_equal"]
BINARY_INT = ["add", "subtract", "multiply", "floor_divide", "remainder", "maximum",
              "minimum", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
              "bitwise_right_shift", "equal", "less"]
BINARY_BOOL = ["logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
               "bitwise_xor", "equal", "not_equal"]
# pairs of views of one shape: (x view, y view)
PAIRS = [("x[1::3]", "x[::-1]"), ("m[1:,2:]", "m[1:,2:].T"), ("m.T", "m[::2,::-1]")]


def _pair_views(vx, vy, dtype):
    """Views `vx` and `vy` of `dtype` cut to their common shape: (x, a, y, b)."""
    x, a = view_pair(vx, dtype)
    y, b = view_pair(vy, dtype)
    key = tuple(slice(0, min(p, q)) for p, q in zip(x.shape, y.shape))
    return x[key], a[key], y[key], b[key]


@pytest.mark.parametrize("vx,vy", PAIRS)
def test_binary(backend, vx, vy):
    representative(backend, vx, vy)
    x, a, y, b = _pair_views(vx, vy, "float32")
    for name in BINARY_FLOAT:
        want = np_fn(name)(a, b) if name != "pow" else np.power(np.abs(a), b)
        got = getattr(xp, name)(x, y) if name != "pow" else xp.pow(xp.abs(x), y)
        check(got, want, rtol=1e-5, atol=1e-5)
    i, ai, j, bj = _pair_views(vx, vy, "int32")
    j, bj = xp.abs(j) % 5 + 1, np.abs(bj) % 5 + 1   # shifts and divisors in range
    for name in BINARY_INT:
        check(getattr(xp, name)(i, j), np_fn(name)(ai, bj))
    p, ap, q, bq = _pair_views(vx, vy, "bool")
    for name in BINARY_BOOL:
        check(getattr(xp, name)(p, q), np_fn(name)(ap, bq))


@pytest.mark.parametrize("vx,vy", [("x[1::3]", "x[::-1]"), ("m.T", "m[1:,2:]"),
                                   ("x[7]", "x[3:-2]")])
def test_broadcasting_and_where_clip(backend, vx, vy):
    x, a = view_pair(vx)
    y, b = view_pair(vy)
    if x.ndim == 1 and y.ndim == 1:
        x, a, y, b = x[:4, None], a[:4, None], y[:5], b[:5]
    elif x.ndim == 2:
        x, a, y, b = x[:, :4], a[:, :4], y[1, :4], b[1, :4]
    check(x + y, a + b)
    check(xp.where(x > y, x, y), np.where(a > b, a, b))
    check(xp.where(x > 0, x, 0.5), np.where(a > 0, a, np.float32(0.5)))
    check(xp.clip(x, -1.0, 2.0), np.clip(a, -1, 2))
    check(xp.clip(x, min=y), np.maximum(a, b))


@pytest.mark.parametrize("view", ["x[1::3]", "m[::2,::-1]", "x[7]", "buf.view(3,(5,7))"])
def test_operators_with_scalars(backend, view):
    representative(backend, view)
    x, a = view_pair(view)
    two, half, first = np.float32(2), np.float32(1.5), a.reshape(-1)[0]
    for got, want in ((x + 2, a + two), (2 + x, two + a), (x - 1.5, a - half),
                      (1.5 - x, half - a), (x * 3, a * 3), (3 * x, 3 * a),
                      (x / 4, a / np.float32(4)), (4 / x, np.float32(4) / a),
                      (x // 2, a // two), (7 // x, np.float32(7) // a),
                      (x % 2, a % two), (7 % x, np.float32(7) % a), (x ** 2, a ** 2),
                      (2 ** x, two ** a), (-x, -a), (+x, +a), (abs(x), abs(a)),
                      (x < 1, a < 1), (1 < x, 1 < a), (x == float(first), a == first),
                      (x != 0.5, a != 0.5), (x >= 1, a >= 1), (x <= 1, a <= 1)):
        check(got, want, rtol=1e-5, atol=1e-5)
    i, ai = view_pair(view, "int32")
    for got, want in ((i & 3, ai & 3), (3 | i, 3 | ai), (i ^ 5, ai ^ 5), (5 ^ i, 5 ^ ai),
                      (i << 2, ai << 2), (1 << (i & 7), 1 << (ai & 7)), (i >> 1, ai >> 1),
                      (64 >> (i & 3), 64 >> (ai & 3)), (~i, ~ai), (i // 3, ai // 3),
                      (i % 3, ai % 3), (i ** 2, ai ** 2)):
        check(got, want)


@pytest.mark.parametrize("view", ["x[1::3]", "x[3:-2]", "m[1:,2:]", "m.T", "x[7]",
                                  "buf.view(5,(29,))"])
def test_inplace_operators_write_through_views(backend, view):
    """In-place operators on a view change the viewed elements of the base, and only
    them."""
    representative(backend, view)
    for dtype, names in (("float32", ("iadd", "isub", "imul", "itruediv", "ipow",
                                      "ifloordiv", "imod")),
                         ("int32", ("iadd", "isub", "imul", "ifloordiv", "imod", "iand",
                                    "ior", "ixor", "ilshift", "irshift"))):
        whole, a, x, v = whole_and_view(view, dtype)
        for name in names:
            rhs = 2.0 if name in ("itruediv", "ipow") else 2
            assert getattr(operator, name)(x, rhs) is x
            v = getattr(operator, name)(v, rhs)
            check(x, v, rtol=1e-5, atol=1e-5)
            check(whole, a, rtol=1e-5, atol=1e-5)


def test_inplace_with_overlapping_operands(backend):
    """`x[1:] += x[:-1]` and friends behave as if the right side were copied first
    (NumPy's rule for overlapping operands)."""
    whole, a = base("float32", (N,))
    v = whole[1:]
    v += whole[:-1]
    a[1:] += a[:-1].copy()
    check(whole, a)
    v = whole[::-1]
    v *= whole
    a[::-1] *= a.copy()
    check(whole, a)
    w = whole[2:]
    w -= whole[:-2] * 2
    a[2:] -= a[:-2] * 2
    check(whole, a, rtol=1e-5, atol=1e-5)
    whole[1:] = whole[:-1] + 1
    a[1:] = a[:-1] + 1
    check(whole, a, rtol=1e-5, atol=1e-5)
    whole[::2] = whole[::-2]
    a[::2] = a[::-2].copy()
    check(whole, a, rtol=1e-5, atol=1e-5)


def test_inplace_matmul_on_a_view(backend):
    m, a = base("float32", (6, 6))
    sub = m[1:4, 1:4]
    e, ae = view_pair("m[1:,2:]")
    e, ae = e[:3, :3], ae[:3, :3]
    sub @= e
    a[1:4, 1:4] = a[1:4, 1:4] @ ae
    check(m, a, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- indexing


@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "m.T", "m[::2,::-1]",
                                  "buf.view(3,(5,7))"])
def test_getitem_of_views(backend, view):
    x, a = view_pair(view)
    keys = [0, -1, slice(1, None), slice(None, None, -2), slice(2, 2), (Ellipsis, None),
            (None, slice(1, None, 2))]
    if x.ndim == 2:
        keys += [(1, 2), (-1, slice(None, None, -1)), (slice(1, 3), 0), (slice(None), -2),
                 (slice(1, None, 2), slice(None, None, -3)), (0, slice(0, 0))]
    for key in keys:
        check(x[key], a[key])
        check(x[key][...], a[key][...])
    y = x[1:][::-1][1:]
    check(y, a[1:][::-1][1:])
    check(y * 2, a[1:][::-1][1:] * 2)


@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "m.T", "m[1:,2:]",
                                  "buf.view(3,(5,7))"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_setitem_through_views(backend, view, dtype):
    whole, a, x, v = whole_and_view(view, dtype)
    one = True if dtype == "bool" else 1
    x[1] = one
    v[1] = one
    x[::-2] = one if dtype == "bool" else 3
    v[::-2] = one if dtype == "bool" else 3
    other, o = base(dtype, tuple(2 * n for n in x[1:].shape))
    every_other_reversed = (slice(None, None, -2),) * x.ndim
    x[1:] = other[every_other_reversed]
    v[1:] = o[every_other_reversed]
    x[0] = x[-1]
    v[0] = v[-1]
    x[2:2] = one
    check(x, v)
    check(whole, a)


# ----------------------------------------------------------------------------- data types


@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "m.T", "x[7]", "x[5:5]",
                                  "buf.view(5,(29,))"])
def test_astype(backend, view):
    representative(backend, view)
    x, a = view_pair(view)
    for name in ("int32", "bool", "float32", "float64", "int64"):
        t = dtype_or_skip(name)
        check(xp.astype(x, t), a.astype(name))
    # a negative float to an unsigned type is unspecified (the standard): NumPy on x86
    # wraps it, GPUs saturate; compare in range
    check(xp.astype(xp.abs(x), xp.uint8), np.abs(a).astype(np.uint8))
    i, ai = view_pair(view, "int32")
    check(xp.astype(i, xp.float32), ai.astype(np.float32))
    check(xp.astype(i, xp.bool), ai.astype(bool))
    b, ab = view_pair(view, "bool")
    check(xp.astype(b, xp.int32), ab.astype(np.int32))
    check(xp.astype(b, xp.float32), ab.astype(np.float32))
    assert xp.astype(x, x.dtype, copy=False) is x
    assert xp.result_type(x, xp.float64) == xp.float64
    assert xp.can_cast(i, xp.int64) and not xp.can_cast(x, xp.int32)


# ----------------------------------------------------------------------------- statistics

REDUCTION_VIEWS = ["x[1:]", "x[3:-2]", "x[1::3]", "x[::-1]", "x[4:]", "m[1:,2:]", "m.T",
                   "m[::2,::-1]", "t[:,::-1,1:]", "t.permute(2,0,1)", "x[7:8]", "x[7]",
                   "m[2:3,4:5]", "buf.view(5,(29,))", "buf.view(3,(5,7))",
                   "buf.view(32,(9,))"]


def _axes(x):
    extra = {2: [(0, 1), -1], 3: [(0, 2), (1, 2), -2]}.get(x.ndim, [])
    return [None] + list(range(x.ndim)) + extra


@pytest.mark.parametrize("view", REDUCTION_VIEWS)
def test_float_reductions(backend, view):
    representative(backend, view, kept=OPENCL_REDUCTION_VIEWS)
    x, a = view_pair(view)
    for axis in _axes(x):
        for name in ("sum", "prod", "min", "max", "mean"):
            check(getattr(xp, name)(x, axis=axis), getattr(np, name)(a, axis=axis),
                  rtol=1e-4, atol=1e-5)
        check(xp.sum(x, axis=axis, keepdims=True), np.sum(a, axis=axis, keepdims=True),
              rtol=1e-5, atol=1e-5)
        if a.size > 1:
            check(xp.var(x, axis=axis), np.var(a, axis=axis), rtol=1e-4, atol=1e-5)
            check(xp.std(x, axis=axis, correction=1), np.std(a, axis=axis, ddof=1),
                  rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("view", REDUCTION_VIEWS)
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_reductions(backend, view, dtype):
    representative(backend, view, kept=OPENCL_REDUCTION_VIEWS)
    x, a = view_pair(view, dtype)
    for axis in _axes(x):
        check(xp.any(x, axis=axis), np.any(a, axis=axis))
        check(xp.all(x, axis=axis), np.all(a, axis=axis))
        check(xp.count_nonzero(x, axis=axis), np.asarray(np.count_nonzero(a, axis=axis),
                                                         dtype=default_int()))
        if dtype == "bool":   # not numeric in the standard: no sum, prod, min, max
            continue
        check(xp.sum(x, axis=axis), np.sum(a, axis=axis, dtype=_sum_dtype(a.dtype)))
        check(xp.prod(x, axis=axis), np.prod(a, axis=axis, dtype=_sum_dtype(a.dtype)))
        check(xp.max(x, axis=axis), np.max(a, axis=axis))
        check(xp.min(x, axis=axis), np.min(a, axis=axis))
        if not isinstance(axis, tuple):   # argmax's axis is an int or None
            check(xp.argmax(x, axis=axis), np.asarray(np.argmax(a, axis=axis), default_int()))
            check(xp.argmin(x, axis=axis), np.asarray(np.argmin(a, axis=axis), default_int()))


def test_reduction_dtype_and_empty_views(backend):
    x, a = view_pair("x[1::3]")
    check(xp.sum(x, dtype=xp.float64), np.sum(a, dtype=np.float64), rtol=1e-6)
    i, ai = view_pair("x[::-1]", "int32")
    check(xp.sum(i, dtype=xp.int32), np.sum(ai, dtype=np.int32))
    check(xp.prod(i[:5], dtype=xp.float32), np.prod(ai[:5], dtype=np.float32))
    e, ae = view_pair("x[5:5]")
    check(xp.sum(e), np.sum(ae))
    check(xp.prod(e), np.prod(ae))
    check(xp.all(e), np.all(ae))
    check(xp.any(e), np.any(ae))
    with pytest.raises(ValueError):
        xp.max(e)
    with pytest.raises(ValueError):
        xp.argmin(e)


@pytest.mark.parametrize("view", ["x[1:]", "x[1::3]", "x[::-1]", "m[1:,2:]", "m.T",
                                  "m[::2,::-1]", "x[7:8]", "x[5:5]", "buf.view(5,(29,))",
                                  "buf.view(3,(5,7))"])
def test_cumulative(backend, view):
    x, a = view_pair(view)
    i, ai = view_pair(view, "int32")
    for axis in range(x.ndim):
        ax = None if x.ndim == 1 else axis
        check(xp.cumulative_sum(x, axis=ax), np.cumulative_sum(a, axis=axis), rtol=1e-5,
              atol=1e-5)
        check(xp.cumulative_sum(x, axis=ax, include_initial=True),
              np.cumulative_sum(a, axis=axis, include_initial=True), rtol=1e-5, atol=1e-5)
        small, asmall = x / 4, a / np.float32(4)
        check(xp.cumulative_prod(small, axis=ax), np.cumulative_prod(asmall, axis=axis),
              rtol=1e-4, atol=1e-6)
        check(xp.cumulative_sum(i, axis=ax), np.cumulative_sum(ai, axis=axis))
        check(xp.cumulative_prod(i[..., :6], axis=ax),
              np.cumulative_prod(ai[..., :6], axis=axis))


@pytest.mark.parametrize("view", ["x[1:]", "x[1::3]", "x[::-1]", "m[1:,2:]", "m.T",
                                  "x[7:8]", "buf.view(3,(5,7))"])
def test_diff(backend, view):
    x, a = view_pair(view)
    for axis in range(x.ndim):
        check(xp.diff(x, axis=axis), np.diff(a, axis=axis), rtol=1e-5, atol=1e-5)
        check(xp.diff(x, axis=axis, n=2), np.diff(a, axis=axis, n=2), rtol=1e-5, atol=1e-5)
    p, ap = view_pair(view, "bool")
    check(xp.diff(p, axis=-1), np.diff(ap, axis=-1))
    if x.ndim == 1:
        y, b = view_pair("x[::-1]")
        check(xp.diff(x, prepend=y[:3], append=y[5:7]), np.diff(a, prepend=b[:3],
                                                                 append=b[5:7]),
              rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "m[1:,2:]", "m.T", "m[::2,::-1]",
                                  "x[7]", "buf.view(3,(5,7))"])
def test_searching_float(backend, view):
    x, a = view_pair(view)
    for axis in [None] + list(range(x.ndim)):
        check(xp.argmax(x, axis=axis), np.asarray(np.argmax(a, axis=axis), default_int()))
        check(xp.argmin(x, axis=axis, keepdims=True),
              np.asarray(np.argmin(a, axis=axis, keepdims=True), default_int()))


# ----------------------------------------------------------------------------- manipulation


@pytest.mark.parametrize("view", ["x[1:]", "x[3:-2]", "x[1::3]", "x[::-1]", "x[7:8]",
                                  "x[5:5]", "buf.view(5,(29,))"])
def test_manipulation_1d(backend, view):
    x, a = view_pair(view)
    n = x.shape[0]
    check(xp.reshape(x, (1, n)), a.reshape(1, n))
    check(xp.reshape(x, (-1,)), a.reshape(-1))
    if n and n % 3 == 0:
        check(xp.reshape(x, (3, -1)), a.reshape(3, -1))
    check(xp.expand_dims(x, axis=0), np.expand_dims(a, 0))
    check(xp.expand_dims(x, axis=-1), np.expand_dims(a, -1))
    check(xp.squeeze(xp.expand_dims(x, axis=1), axis=1), a)
    check(xp.broadcast_to(x, (3, n)), np.broadcast_to(a, (3, n)))
    check(xp.flip(x), np.flip(a))
    check(xp.roll(x, 3), np.roll(a, 3))
    check(xp.roll(x, -2, axis=0), np.roll(a, -2, axis=0))
    check(xp.repeat(x, 2), np.repeat(a, 2))
    check(xp.tile(x, (2,)), np.tile(a, (2,)))
    check(xp.tile(x, (2, 1)), np.tile(a, (2, 1)))
    y, b = view_pair("x[::-1]")
    y, b = y[:n], b[:n]
    check(xp.concat([x, y, x]), np.concatenate([a, b, a]))
    check(xp.stack([x, y]), np.stack([a, b]))
    check(xp.stack([x, y], axis=1), np.stack([a, b], axis=1))
    u, v = xp.broadcast_arrays(x, y[:1])
    bu, bv = np.broadcast_arrays(a, b[:1])
    check(u, bu)
    check(v, bv)
    parts = xp.unstack(xp.reshape(x, (1, n)), axis=1)
    assert len(parts) == n
    for p, q in zip(parts, np.moveaxis(a.reshape(1, n), 1, 0)):
        check(p, q)


@pytest.mark.parametrize("view", ["m[1:,2:]", "m.T", "m[::2,::-1]", "m[1:,2:].T",
                                  "m[2:3,4:5]", "buf.view(3,(5,7))"])
def test_manipulation_2d(backend, view):
    x, a = view_pair(view)
    r, c = x.shape
    check(xp.reshape(x, (-1,)), a.reshape(-1))
    check(xp.reshape(x, (c, r)), a.reshape(c, r))
    check(xp.reshape(x, (1, r, c)), a.reshape(1, r, c))
    check(xp.permute_dims(x, (1, 0)), a.T)
    check(xp.matrix_transpose(x), a.T)
    check(x.mT, a.T)
    check(xp.moveaxis(x, 0, -1), np.moveaxis(a, 0, -1))
    check(xp.expand_dims(x, axis=1), np.expand_dims(a, 1))
    check(xp.squeeze(x[:1], axis=0), np.squeeze(a[:1], axis=0))
    check(xp.broadcast_to(x, (2, r, c)), np.broadcast_to(a, (2, r, c)))
    check(xp.broadcast_to(x[:1], (3, c)), np.broadcast_to(a[:1], (3, c)))
    for axis in (None, 0, 1, (0, 1)):
        check(xp.flip(x, axis=axis), np.flip(a, axis=axis))
        check(xp.roll(x, 2, axis=axis), np.roll(a, 2, axis=axis))
    check(xp.roll(x, (1, -1), axis=(0, 1)), np.roll(a, (1, -1), axis=(0, 1)))
    for axis in (None, 0, 1):
        check(xp.repeat(x, 2, axis=axis), np.repeat(a, 2, axis=axis))
    counts = xp.asarray(np.arange(r) % 3)
    check(xp.repeat(x, counts, axis=0), np.repeat(a, np.arange(r) % 3, axis=0))
    check(xp.tile(x, (2, 3)), np.tile(a, (2, 3)))
    check(xp.concat([x, x * 2], axis=1), np.concatenate([a, a * 2], axis=1))
    check(xp.concat([x, x[::-1]], axis=0), np.concatenate([a, a[::-1]], axis=0))
    check(xp.concat([x, x.T], axis=None), np.concatenate([a, a.T], axis=None))
    check(xp.stack([x, x[::-1]], axis=-1), np.stack([a, a[::-1]], axis=-1))
    for i, p in enumerate(xp.unstack(x, axis=1)):
        check(p, a[:, i])


# ----------------------------------------------------------------------------- linear algebra


@pytest.mark.parametrize("vx,vy", [("m[1:,2:]", "m[1:,2:].T"), ("m.T", "m[::2,::-1]"),
                                   ("buf.view(3,(5,7))", "m.T"), ("m[2:3,4:5]", "m[1:,2:]")])
def test_matmul_tensordot_vecdot(backend, vx, vy):
    x, a = view_pair(vx)
    y, b = view_pair(vy)
    k = min(x.shape[1], y.shape[0])
    x, a, y, b = x[:, :k], a[:, :k], y[:k], b[:k]
    check(xp.matmul(x, y), a @ b, rtol=1e-5, atol=1e-5)
    check(x @ y, a @ b, rtol=1e-5, atol=1e-5)
    check(xp.matmul(x[0], y), a[0] @ b, rtol=1e-5, atol=1e-5)
    check(xp.matmul(x, y[:, -1]), a @ b[:, -1], rtol=1e-5, atol=1e-5)
    check(xp.matmul(x[0], y[:, 0]), a[0] @ b[:, 0], rtol=1e-5, atol=1e-5)
    check(xp.tensordot(x, y, axes=1), np.tensordot(a, b, axes=1), rtol=1e-5, atol=1e-5)
    check(xp.tensordot(x, y.T, axes=([1], [1])), np.tensordot(a, b.T, axes=([1], [1])),
          rtol=1e-5, atol=1e-5)
    check(xp.tensordot(x, x, axes=2), np.tensordot(a, a, axes=2), rtol=1e-4, atol=1e-4)
    check(xp.vecdot(x, x), np.vecdot(a, a), rtol=1e-5, atol=1e-5)
    check(xp.vecdot(x.T, x.T, axis=-2), np.vecdot(a.T, a.T, axis=-2), rtol=1e-5, atol=1e-5)
    i, ai = view_pair(vx, "int32")
    j, bj = view_pair(vy, "int32")
    i, ai, j, bj = i[:, :k], ai[:, :k], j[:k], bj[:k]
    check(i @ j, ai @ bj)


@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "buf.view(5,(29,))"])
def test_vecdot_1d(backend, view):
    x, a = view_pair(view)
    y, b = view_pair("x[3:-2]")
    n = min(x.shape[0], y.shape[0])
    x, a, y, b = x[:n], a[:n], y[:n], b[:n]
    check(xp.vecdot(x, y), np.vecdot(a, b), rtol=1e-5, atol=1e-5)
    check(xp.matmul(x, y), a @ b, rtol=1e-5, atol=1e-5)
    check(xp.tensordot(x, y, axes=0), np.tensordot(a, b, axes=0), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- buffers


def test_buffer_views_that_overlap(backend):
    """Two arrays over overlapping views of one vd.Buffer see each other's writes, in
    record order."""
    a = values("float32", (N,))
    buf = vd.Buffer(a.shape, xp.float32)
    buf.write(a)
    lo = xp.from_buffer(buf.view(0, (N - 3,)))
    hi = xp.from_buffer(buf.view(3, (N - 3,)))
    t = lo * 2
    hi[...] = 1.0
    a2 = a.copy()
    t_want = a2[:N - 3] * 2
    a2[3:] = 1.0
    u = t + 1
    del t
    check(u, t_want + 1)
    check(xp.from_buffer(buf), a2)
    hi[...] = lo          # overlapping copy: as if the right side were copied first
    a2[3:] = a2[:N - 3].copy()
    check(xp.from_buffer(buf), a2)
    hi += lo
    a2[3:] += a2[:N - 3].copy()
    check(xp.from_buffer(buf), a2)


def test_buffer_of_a_view(backend):
    x, a = view_pair("x[3:-2]")
    b = x.buffer
    np.testing.assert_array_equal(b.read(0), a)
    y, _ = view_pair("x[1::3]")
    with pytest.raises(ValueError, match="strided"):
        y.buffer
    z = xp.from_buffer(b)      # the same memory as x: reads and writes stay ordered
    t = x * 2
    z[...] = 0.0
    u = t + 1
    del t
    check(u, a * 2 + 1)
    check(x, np.zeros_like(a))
    z += 1
    check(x, np.ones_like(a))


# ----------------------------------------------------------------------------- more dtypes


@pytest.mark.parametrize("dtype", ["float64", "int64", "int8", "uint8", "int16", "uint32",
                                   "complex64"])
@pytest.mark.parametrize("view", ["x[1::3]", "x[::-1]", "m[1:,2:].T", "x[7]",
                                  "buf.view(5,(29,))"])
def test_other_dtypes(backend, view, dtype):
    representative(backend, view)
    x, a = view_pair(view, dtype)
    check(x, a)
    check(xp.asarray(x, copy=True), a)
    check(x + x, a + a)
    check(x * 2, a * np.asarray(2, a.dtype))
    if dtype == "complex64":
        check(xp.real(x), a.real)
    else:
        check(xp.astype(x, xp.float32), a.astype(np.float32))
    check(xp.sum(x), np.sum(a, dtype=_sum_dtype(a.dtype)), rtol=1e-5, atol=1e-4)
    if x.ndim:
        check(xp.sum(x, axis=0), np.sum(a, axis=0, dtype=_sum_dtype(a.dtype)), rtol=1e-5,
              atol=1e-4)
        check(xp.cumulative_sum(x, axis=0), np.cumulative_sum(a, axis=0,
                                                              dtype=_sum_dtype(a.dtype)),
              rtol=1e-5, atol=1e-4)
        check(xp.flip(x, axis=0), np.flip(a, axis=0))
        check(xp.concat([x, x], axis=0), np.concatenate([a, a], axis=0))
        y = xp.asarray(x, copy=True)
        b = a.copy()
        y[::2] = x[::-1][::2]
        b[::2] = a[::-1][::2]
        check(y, b)
    if x.ndim == 2:
        check(x @ x.T, a @ a.T, rtol=1e-5, atol=1e-4)
    if dtype == "complex64":
        check(xp.conj(x), np.conj(a))
        check(xp.imag(x), a.imag)
        check(xp.abs(x), np.abs(a), rtol=1e-5, atol=1e-5)
        check(xp.exp(x / 4), np.exp(a / np.complex64(4)), rtol=1e-5, atol=1e-5)
        y, b = (x[:4], a[:4]) if x.ndim else (x, a)
        check(xp.prod(y / 2), np.prod(b / np.complex64(2)), rtol=1e-5, atol=1e-5)
        check(xp.mean(x), np.mean(a), rtol=1e-5, atol=1e-5)


def _sum_dtype(t):
    """The standard's sum dtype: the default integer for signed integers, the widest
    unsigned one for unsigned ones."""
    if t.kind == "i":
        return default_int()
    if t.kind == "u":
        return np.uint64 if "uint64" in xp.__array_namespace_info__().dtypes() else np.uint32
    return t


# ----------------------------------------------------------------------------- edge cases


def test_scalar_conversions_and_iteration_of_views(backend):
    x, a = view_pair("x[1::3]")
    assert float(x[2]) == float(a[2])
    assert bool(x[2] > 0) == bool(a[2] > 0)
    i, ai = view_pair("x[::-1]", "int32")
    assert int(i[3]) == int(ai[3])
    assert [1, 2, 3, 4, 5][i[-1] % 5] == [1, 2, 3, 4, 5][ai[-1] % 5]
    assert len(x) == len(a)
    for got, want in zip(x, a):
        check(got, want[...])
    check(x[5:5] + 1, a[5:5] + np.float32(1))
    check(xp.sin(x[5:5]), np.sin(a[5:5]))


def test_views_of_pending_and_reduced_results(backend):
    x, a = view_pair("m.T")
    y = x * 2
    v = y[1:, ::2]
    v += 1
    b = a * 2
    b[1:, ::2] += 1
    check(y, b)
    s = xp.sum(x, axis=0)
    check(s[1:], np.sum(a, axis=0)[1:], rtol=1e-5, atol=1e-5)
    s = xp.sum(x, axis=1)
    s[0] = 5.0
    want = np.sum(a, axis=1)
    want[0] = 5
    check(s, want, rtol=1e-5, atol=1e-5)
    check(xp.sum(xp.sum(x, axis=1)[2:]), np.sum(np.sum(a, axis=1)[2:]), rtol=1e-5, atol=1e-5)
    w = xp.cumulative_sum(x, axis=0)[1:, 2:]
    check(xp.sum(w, axis=1), np.sum(np.cumsum(a, axis=0)[1:, 2:], axis=1), rtol=1e-5,
          atol=1e-5)


def test_reductions_feeding_on_views_through_pending_maps(backend):
    """Reductions of pending expressions of views: offset, strided, broadcast 0-d."""
    x, a = view_pair("x[3:-2]")
    y, b = view_pair("x[1::3]")
    z, c = view_pair("x[7]")
    n = y.shape[0]
    check(xp.sum(x[:n] * y), np.sum(a[:n] * b), rtol=1e-5, atol=1e-5)
    check(xp.sum(x * z), np.sum(a * c), rtol=1e-5, atol=1e-5)
    check(xp.max(x[:n] - y), np.max(a[:n] - b))
    check(xp.mean(xp.broadcast_to(z, (4, 3)), axis=0), np.mean(np.broadcast_to(c, (4, 3)),
                                                                axis=0))
    check(xp.sum(x[4:5] * 3), np.sum(a[4:5] * np.float32(3)), rtol=1e-6)


@pytest.mark.parametrize("n", [2500, 70 * 130])
def test_large_views(backend, n):
    """Views long enough that reductions split rows among workgroups."""
    if backend == "opencl" and n != 2500:
        pytest.skip("OpenCL runs the smaller size (PoCL compiles slowly)")
    x, a = base("float32", (n + 5,))
    for f in (lambda v: v[3:], lambda v: v[1::2], lambda v: v[::-1], lambda v: v[4:]):
        check(xp.sum(f(x)), np.sum(f(a), dtype=np.float64).astype(np.float32), rtol=1e-4,
              atol=1e-2)
        check(xp.max(f(x)), np.max(f(a)))
        check(xp.argmin(f(x)), np.asarray(np.argmin(f(a)), default_int()))
    m = xp.reshape(x[5:], (-1, 50))
    am = a[5:].reshape(-1, 50)
    check(xp.sum(m[1:, 1:], axis=0), np.sum(am[1:, 1:], axis=0, dtype=np.float64).astype(
        np.float32), rtol=1e-4, atol=1e-3)
    check(xp.sum(m.T[1:], axis=1), np.sum(am.T[1:], axis=1, dtype=np.float64).astype(
        np.float32), rtol=1e-4, atol=1e-3)


def test_empty_axes_of_views(backend):
    m, a = base("float32", M)
    e, ae = m[:, 3:3], a[:, 3:3]
    check(xp.sum(e, axis=1), np.sum(ae, axis=1))
    check(xp.sum(e, axis=0), np.sum(ae, axis=0))
    check(xp.prod(e.T, axis=0), np.prod(ae.T, axis=0))
    check(xp.cumulative_sum(e, axis=1), np.cumulative_sum(ae, axis=1))
    check(xp.cumulative_sum(e, axis=1, include_initial=True),
          np.cumulative_sum(ae, axis=1, include_initial=True))
    check(e @ m[3:3, :], ae @ a[3:3, :])
    check(m[:, :0] @ m[:0, :], a[:, :0] @ a[:0, :])
    check(xp.concat([e, m[:, :2]], axis=1), np.concatenate([ae, a[:, :2]], axis=1))
    check(xp.reshape(e, (0, 4)), ae.reshape(0, 4))


def test_broadcast_0d_views_and_stacks(backend):
    x, a = view_pair("x[1::3]")
    z, c = x[2], a[2, ...]
    check(xp.broadcast_to(z, (3, 4)), np.broadcast_to(c, (3, 4)))
    check(xp.broadcast_to(z, (3, 4)) + x[:4], np.broadcast_to(c, (3, 4)) + a[:4])
    check(xp.stack([x[3], x[5], z]), np.stack([a[3], a[5], c]))
    check(xp.expand_dims(z, axis=0), np.expand_dims(c, 0))
    check(xp.reshape(z, (1, 1)), c.reshape(1, 1))
    check(xp.asarray([x[:3], x[3:6]]), np.asarray([a[:3], a[3:6]]))
    gx, gy = xp.meshgrid(x[:3], x[::-1][:4])
    nx, ny = np.meshgrid(a[:3], a[::-1][:4])
    check(gx, nx)
    check(gy, ny)
    b, ab = view_pair("x[::-1]", "bool")
    y, yb = view_pair("x[3:-2]")
    k = min(b.shape[0], y.shape[0])
    check(xp.where(b[:k], y[:k], x[0]), np.where(ab[:k], yb[:k], a[0]))
    check(xp.count_nonzero(x > 0), np.asarray(np.count_nonzero(a > 0), default_int()))


def test_setitem_from_the_same_memory(backend):
    whole, a = base("float32", (N,))
    whole[1:] = whole[0]
    a[1:] = a[0]
    check(whole, a)
    whole, a = base("float32", M)
    whole[1:, ::2] *= 2
    a[1:, ::2] *= 2
    whole[...] = whole[::-1, ::-1]
    a[...] = a[::-1, ::-1].copy()
    check(whole, a)
    whole[:, 1:] = whole[:, :-1] * 2
    a[:, 1:] = a[:, :-1] * 2
    check(whole, a)
    whole[2:4] = whole[1:3]
    a[2:4] = a[1:3].copy()
    check(whole, a)


def test_buffer_views_through_asarray_and_dlpack(backend):
    a = values("float32", (40,))
    buf = vd.Buffer(a.shape, xp.float32)
    buf.write(a)
    v = buf.view(5, (29,))
    check(xp.asarray(v), a[5:34])
    c = xp.asarray(v, copy=True)
    check(xp.from_dlpack(v), a[5:34])
    v2 = xp.from_buffer(v)
    v2[0] = 100.0
    check(c, a[5:34])
    a[5] = 100
    check(xp.from_buffer(buf), a)
    check(xp.from_dlpack(a[::-2]), a[::-2])
    check(xp.from_dlpack(a[3:].reshape(-1, 37)[:, ::2]), a[3:].reshape(-1, 37)[:, ::2])


@pytest.mark.parametrize("view", ["x[3:-2]", "x[7]", "x[5:5]", "x[7:8]",
                                  "buf.view(5,(29,))", "m[1:,2:]"])
def test_buffer_property_of_views(backend, view):
    x, a = view_pair(view)
    if view == "m[1:,2:]":
        with pytest.raises(ValueError, match="strided"):
            x.buffer
        return
    b = x.buffer
    assert b.shape == x.shape
    np.testing.assert_array_equal(b.read(0), a)


def test_matmul_with_batched_views(backend):
    t, at = view_pair("t[:,::-1,1:]")      # (3, 4, 4)
    m, am = view_pair("m.T")              # (7, 6)
    check(t @ m[:4, :5], at @ am[:4, :5], rtol=1e-5, atol=1e-5)
    check(m[:4, :4] @ t, am[:4, :4] @ at, rtol=1e-5, atol=1e-5)
    check(xp.matmul(t, t.mT), at @ np.swapaxes(at, -1, -2), rtol=1e-5, atol=1e-5)
    check(xp.matmul(t[1:2], t[:, ::-1]), at[1:2] @ at[:, ::-1], rtol=1e-5, atol=1e-5)
    check(xp.tensordot(t, m[:4, :4], axes=([2, 1], [0, 1])),
          np.tensordot(at, am[:4, :4], axes=([2, 1], [0, 1])), rtol=1e-5, atol=1e-5)
    check(xp.vecdot(t, m[:4, :4]), np.vecdot(at, am[:4, :4]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("view", ["x[1::3]", "m.T", "m[1:,2:]", "buf.view(3,(5,7))"])
def test_numpy_methods_and_protocols_on_views(backend, view):
    x, a = view_pair(view)
    check(x.sum(axis=0), a.sum(axis=0), rtol=1e-5, atol=1e-5)
    check(x.mean(), a.mean(), rtol=1e-5, atol=1e-5)
    check(x.var(ddof=1), a.var(ddof=1), rtol=1e-4, atol=1e-5)
    check(x.std(axis=-1), a.std(axis=-1), rtol=1e-4, atol=1e-5)
    check(x.astype(np.float64), a.astype(np.float64))
    check(x.max(axis=0), a.max(axis=0))
    b, ab = view_pair(view, "bool")
    check(b.min(axis=0), ab.min(axis=0))
    check(b.sum(), np.asarray(ab.sum(), default_int()))
    check(np.sin(x), np.sin(a), rtol=1e-5, atol=1e-6)
    check(np.add(x, 1.5), a + np.float32(1.5))
    check(np.concatenate([x, x[::-1]]), np.concatenate([a, a[::-1]]))
    check(np.sum(x, axis=0), np.sum(a, axis=0), rtol=1e-5, atol=1e-5)
    whole, w = base("float32", (2,) + x.shape)
    np.multiply(x, 2, out=whole[1])
    w[1] = a * 2
    check(whole, w)


def test_writes_through_overlapping_views_raise(backend):
    """A broadcast view has elements that share memory: NumPy makes it read-only, and
    a write through it would race; it raises, naming the view's strides."""
    x, a = view_pair("x[1::3]")
    b = xp.broadcast_to(x[:3], (2, 3))
    with pytest.raises(ValueError, match="broadcast"):
        b[...] = xp.reshape(xp.arange(6, dtype=xp.float32), (2, 3))
    with pytest.raises(ValueError, match="broadcast"):
        b += 1
    with pytest.raises(ValueError, match="broadcast"):
        b[:, 1] = 2.0
    with pytest.raises(ValueError, match="broadcast"):
        xp.broadcast_to(x[0], (4,))[...] = 1.0
    check(x, a)            # nothing was written
    b[0] = xp.asarray(np.array([1, 2, 3], np.float32))   # one row: no element twice
    a[:3] = [1, 2, 3]
    check(x, a)
    e = xp.expand_dims(x, axis=0)                          # stride 0 on a length-1 axis
    e += 1
    check(x, a + 1)


@pytest.mark.parametrize("view", ["t[:,::-1,1:]", "t.permute(2,0,1)"])
def test_manipulation_3d(backend, view):
    x, a = view_pair(view)
    check(x.mT, np.swapaxes(a, -1, -2))
    check(xp.matrix_transpose(x), np.swapaxes(a, -1, -2))
    check(xp.moveaxis(x, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0)))
    check(xp.reshape(x, (x.shape[0], -1)), a.reshape(a.shape[0], -1))
    check(xp.squeeze(x[:, :1], axis=1), np.squeeze(a[:, :1], axis=1))
    check(xp.flip(x, axis=(0, 2)), np.flip(a, axis=(0, 2)))
    check(xp.roll(x, (1, 2), axis=(1, 2)), np.roll(a, (1, 2), axis=(1, 2)))
    check(xp.concat([x, x[::-1]], axis=1), np.concatenate([a, a[::-1]], axis=1))
    for i, p in enumerate(xp.unstack(x, axis=2)):
        check(p, a[:, :, i])
    check(xp.cumulative_sum(x, axis=1), np.cumsum(a, axis=1), rtol=1e-5, atol=1e-5)
    check(xp.diff(x, axis=0), np.diff(a, axis=0), rtol=1e-5, atol=1e-5)
    check(xp.argmax(x, axis=1), np.asarray(np.argmax(a, axis=1), default_int()))


def test_replayed_flushes_read_the_new_views(backend):
    """A loop flushes batches of one structure: later ones replay the first's plan, and
    must bind each iteration's own memory and offsets."""
    for _ in range(3):
        m, a = base("float32", (9, 8))
        x, ax = m[1:, 3:], a[1:, 3:]
        results = (xp.sum(x, axis=0), xp.sum(m[3:], axis=1), xp.sum(m[2:5] * 2),
                   xp.max(m.T[1:], axis=1), xp.cumulative_sum(x, axis=1), x @ m[3:, :5].T,
                   m[1:, ::2] + m[:-1, 1::2])
        wants = (ax.sum(axis=0), a[3:].sum(axis=1), (a[2:5] * 2).sum(), a.T[1:].max(axis=1),
                 np.cumsum(ax, axis=1), ax @ a[3:, :5].T, a[1:, ::2] + a[:-1, 1::2])
        for got, want in zip(results, wants):
            check(got, want, rtol=1e-5, atol=1e-4)
