"""`Array`: the standard's array object over the lazy layer.

An Array is either pending (its value is a node of the lazy graph, with no memory yet)
or placed (a strided `View` of device memory, possibly with pending writes). Every
Array is made by `Array._new`; operators call the namespace's functions."""
from __future__ import annotations

import math
import operator
import weakref

import numpy as np

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..execution import lazy
from . import _dtypes
from ._numpy_methods import NumpyMethods


# Memory and NumPy protocols that vkdispatch.interop implements (method name ->
# function), registered by interop: array_api never imports it.
_protocols: dict = {}


def register_protocol(name: str, fn) -> None:
    _protocols[name] = fn


def _protocol(name: str):
    try:
        return _protocols[name]
    except KeyError:
        raise TypeError(f"{name} needs vkdispatch.interop (import vkdispatch)") from None


class Array(NumpyMethods):   # NumPy's reduction methods: sum, mean, var, astype, ...
    __slots__ = ("_node", "_view", "_shape", "_dtype", "_device", "_leaf", "__weakref__")
    __array_priority__ = 100.0   # NumPy defers to our reflected operators

    def __init__(self, *args, **kwargs):
        raise TypeError("vkdispatch arrays are made by the namespace's functions (asarray, "
                        "zeros, ...) or from a vd.Buffer with from_buffer, not by Array()")

    @classmethod
    def _new(cls, shape: tuple, dtype: dt.DType, device, node=None, view=None) -> "Array":
        self = object.__new__(cls)
        self._shape = shape
        self._dtype = dtype
        self._device = device
        self._node = node
        self._view = view
        self._leaf = None
        return self

    @classmethod
    def _record(cls, op, args: tuple, shape: tuple, dtype: dt.DType, device) -> "Array":
        """A pending Array holding `op(*args)`."""
        return pending(op, args, shape, dtype, device, 1)

    def _realized(self, view) -> None:
        """The lazy layer placed this array's value in memory (`view`)."""
        self._view = view
        self._node = None

    def _arg(self):
        """This array as an argument of a new node."""
        if self._node is not None:
            return self._node
        leaf = self._leaf    # one Leaf per array: a kernel binds its memory once
        if leaf is None:
            leaf = self._leaf = lazy.Leaf(self._view, self._shape, self._dtype)
        return leaf

    def _placed(self):
        """This array's View, giving a pending array its memory now."""
        if self._view is None:
            view = lazy.allocate(self._shape, self._dtype)
            lazy.assign_target(self._node, view)
            self._realized(view)
        return self._view

    # ------------------------------------------------------------------ attributes
    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return math.prod(self._shape)

    @property
    def T(self) -> "Array":
        if self.ndim != 2:
            raise ValueError(f"x.T needs a 2-D array, got {self.ndim}-D; use "
                             f"permute_dims or matrix_transpose (x.mT)")
        return _manip().permute_dims(self, (1, 0))

    @property
    def mT(self) -> "Array":
        if self.ndim < 2:
            raise ValueError(f"x.mT needs at least 2 dimensions, got {self.ndim}")
        axes = tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2)
        return _manip().permute_dims(self, axes)

    def __array_namespace__(self, *, api_version=None):
        if api_version not in (None, "2021.12", "2022.12", "2023.12", "2024.12"):
            raise ValueError(f"api_version {api_version!r} is not supported; this namespace "
                             f"implements 2024.12")
        import vkdispatch.array_api as xp
        return xp

    def to_device(self, device, /, *, stream=None) -> "Array":
        if stream is not None:
            raise ValueError("to_device takes no stream on vkdispatch (work is ordered on the "
                             "device's queues)")
        if device != self._device:
            raise ValueError(f"{device!r} is not a device of this array's context; only "
                             f"{self._device!r} is available")
        return self

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d array")
        return self._shape[0]

    def __repr__(self) -> str:
        state = "pending" if self._node is not None else "placed"
        return f"<vkdispatch Array shape={self._shape} dtype={self._dtype.name} {state}>"

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._shape[0]))

    def __hash__(self):
        raise TypeError("vkdispatch arrays are not hashable")

    # ------------------------------------------------------------------ host
    def _to_numpy(self) -> np.ndarray:
        """The values as a NumPy array (a sync point: pending work runs)."""
        if self._view is None:
            lazy.flush()
        view = self._view
        if view is None:
            raise RuntimeError(f"this array could not be computed (recorded at "
                               f"{self._node.location()}): {self._node.error!r}")
        shape = self._shape
        count = math.prod(shape)
        if count == 0:
            return np.empty(shape, dtype=self._dtype.numpy_dtype)
        if count == 1 or view.strides == lazy.contiguous_strides(shape):
            return view.storage.buffer.read_elements(view.offset, shape)
        lo = view.offset + sum(min(0, st * (n - 1)) for st, n in zip(view.strides, shape))
        hi = view.offset + sum(max(0, st * (n - 1)) for st, n in zip(view.strides, shape))
        buf = view.storage.buffer
        raw = buf.view(lo, (hi - lo + 1,)).read(0)    # bools come back as NumPy bools
        out = np.lib.stride_tricks.as_strided(
            raw[view.offset - lo:], shape, [st * raw.itemsize for st in view.strides])
        return np.array(out)

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("a vkdispatch array lives in device memory; NumPy needs a copy")
        out = self._to_numpy()
        return out if dtype is None else out.astype(dtype)

    # ------------------------------------------------------------------ interop
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return _protocol("__dlpack__")(self, stream=stream, max_version=max_version,
                                       dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple:
        return _protocol("__dlpack_device__")(self)

    @property
    def __cuda_array_interface__(self) -> dict:
        return _protocol("__cuda_array_interface__")(self)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _protocol("__array_ufunc__")(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _protocol("__array_function__")(func, types, args, kwargs)

    def _scalar(self, kind: str):
        if self.size != 1:
            raise TypeError(f"only arrays of one element convert to a Python {kind}; this "
                            f"one has shape {self._shape}")
        return self._to_numpy().reshape(()).item()

    def __bool__(self) -> bool:
        return bool(self._scalar("bool"))

    def __int__(self) -> int:
        if self._dtype.is_complex:
            raise TypeError("int() of a complex array; take real() first")
        v = self._scalar("int")
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            raise ValueError(f"cannot convert {v} to int") if math.isnan(v) else \
                OverflowError(f"cannot convert {v} to int")
        return int(v)

    def __float__(self) -> float:
        if self._dtype.is_complex:
            raise TypeError("float() of a complex array; take real() first")
        return float(self._scalar("float"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if not self._dtype.is_integer:
            raise TypeError(f"only integer arrays can be used as an index, got {self._dtype.name}")
        if self.ndim != 0:
            raise TypeError(f"only 0-d integer arrays can be used as an index, got shape "
                            f"{self._shape}")
        return int(self._scalar("int"))

    # ------------------------------------------------------------------ buffers
    @property
    def buffer(self) -> Buffer:
        """The vd.Buffer holding this array's elements (no copy; the array must be
        C-contiguous). An array made from a Buffer gives that Buffer back; otherwise the
        memory is handed out for good (it never returns to the array pool)."""
        view = self._placed()
        if view.strides != lazy.contiguous_strides(self._shape) and self.size > 1:
            raise ValueError(f"this array is a strided view (strides {view.strides}); "
                             f"only C-contiguous arrays have a Buffer: copy it first "
                             f"(xp.asarray(x, copy=True))")
        base = view.storage.export()
        if base.shape == self._shape and view.offset == 0 and base.dtype is self._dtype:
            return base
        return base.view(view.offset, self._shape)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key) -> "Array":
        return _indexing().getitem(self, key)

    def __setitem__(self, key, value) -> None:
        _indexing().setitem(self, key, value)

    # ------------------------------------------------------------------ operators
    def _inplace(self, name, other):
        if not isinstance(other, (Array, int, float, complex)):
            return NotImplemented
        if self._view is not None:
            _indexing().check_writable(self._shape, self._view.strides)
        result = _binary(name, self, other)
        if result.shape != self._shape:
            raise ValueError(f"in-place {name} would change the shape {self._shape} to "
                             f"{result.shape} (broadcasting may not grow the left operand)")
        if result.dtype is not self._dtype:
            raise TypeError(f"in-place {name} would change the dtype {self._dtype.name} to "
                            f"{result.dtype.name}")
        node = result._node
        if self._view is None:   # a pending value has no other holder: take the new value
            self._node.array = None
            self._node = node
            node.array = weakref.ref(self)
        else:                    # write the result straight into this array's memory
            lazy.retarget(node, self._view)
        result._node = None
        return self

    def __pos__(self): return _unary("positive", self)
    def __neg__(self): return _unary("negative", self)
    def __abs__(self): return _unary("abs", self)
    def __invert__(self): return _unary("bitwise_invert", self)

    def __matmul__(self, other):
        return _linalg().matmul(self, other) if isinstance(other, Array) else NotImplemented

    def __rmatmul__(self, other):
        return _linalg().matmul(other, self) if isinstance(other, Array) else NotImplemented

    def __imatmul__(self, other):
        result = self @ other
        if result.shape != self._shape or result.dtype is not self._dtype:
            raise ValueError("in-place matmul must keep the shape and dtype")
        self[...] = result
        return self


_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
           "floordiv": "floor_divide", "mod": "remainder", "pow": "pow",
           "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
           "lshift": "bitwise_left_shift", "rshift": "bitwise_right_shift"}
_COMPARE = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
            "eq": "equal", "ne": "not_equal"}


_new_object = object.__new__


def pending(op, args: tuple, shape: tuple, dtype: dt.DType, device, depth: int) -> Array:
    """A pending Array holding `op(*args)`; the user's code is looked for from the frame
    `depth` above this one's caller outward (see lazy.record)."""
    self = _new_object(Array)
    self._shape = shape
    self._dtype = dtype
    self._device = device
    self._view = None
    self._leaf = None
    self._node = lazy.record(op, args, shape, dtype, self, None, None, False, depth + 2)
    return self


def _binary(name, x1, x2):
    """Elementwise `name` (the array layer's `binary`, installed when it is imported)."""
    from . import _elementwise
    return _elementwise.binary(name, x1, x2)


def _unary(name, x):
    from . import _elementwise
    return _elementwise.unary(name, x)


def install_operators(binary, unary) -> None:
    """The operators record through these (no import per call)."""
    global _binary, _unary
    _binary, _unary = binary, unary


_OPERANDS = frozenset((Array, float, int, bool, complex))


def _method(name, reflected=False):
    if reflected:
        def f(self, other):
            if type(other) in _OPERANDS or isinstance(other, (int, float, complex)):
                return _binary(name, other, self)
            return NotImplemented
    else:
        def f(self, other):
            if type(other) in _OPERANDS or isinstance(other, (int, float, complex)):
                return _binary(name, self, other)
            return NotImplemented
    f.__name__ = f"__{'r' if reflected else ''}{name}__"
    return f


def _imethod(name):
    def f(self, other):
        return self._inplace(name, other)
    return f


for _short, _name in _BINARY.items():
    setattr(Array, f"__{_short}__", _method(_name))
    setattr(Array, f"__r{_short}__", _method(_name, True))
    setattr(Array, f"__i{_short}__", _imethod(_name))
for _short, _name in _COMPARE.items():
    setattr(Array, f"__{_short}__", _method(_name))


def _power(self, other):
    # x ** 2 as x * x, NumPy's scalar-power fast path: exact, and it needs no pow (Dask's
    # var squares data this way)
    if self._dtype is not dt.bool_ and (
            (type(other) is int and other == 2)
            or (type(other) is float and other == 2.0 and (self._dtype.is_float
                                                            or self._dtype.is_complex))):
        return _binary("multiply", self, self)
    if type(other) in _OPERANDS or isinstance(other, (int, float, complex)):
        return _binary("pow", self, other)
    return NotImplemented


Array.__pow__ = _power


def _manip():
    from . import _manipulation as m
    return m


def _indexing():
    from . import _indexing as m
    return m


def _linalg():
    from . import _linalg as m
    return m


def check_axis(axis, ndim: int, what: str = "axis") -> int:
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise IndexError(f"{what} {a} is out of range for a {ndim}-D array")
    return a % ndim


def is_array_dtype(t) -> bool:
    return _dtypes.is_array_dtype(t)
