"""The standard's set functions (unique_values, unique_counts, unique_inverse,
unique_all) from the device's sort, compaction and binary search: the flattened input
is sorted stably, the first element of each run of equal values marks a group, and the
groups' starts give the values, counts, first indices and (by a binary search per
element) every element's group. NaNs compare unequal, so each is its own group, as the
standard says; -0.0 and +0.0 are one group. Complex values are ordered by (real, imag)
for the grouping."""
from __future__ import annotations

from collections import namedtuple

from . import _dtypes as d
from ._array import Array
from ._creation import arange, empty, ones
from ._elementwise import apply
from ._info import default_int
from ._manipulation import concat, reshape
from ._searchsorted import searchsorted

UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices",
                                                 "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


class _Groups:
    """The sorted flattened input of `x` and where its groups of equal values start."""

    def __init__(self, x, name: str, with_order: bool):
        from ._compact import nonzero
        from ._sorting import argsort, sort
        from ._take import take_in_range as take
        if not isinstance(x, Array):
            raise TypeError(f"{name} takes an array, got {type(x).__name__}")
        self.x = x
        self.flat = reshape(x, (-1,))
        self.n = self.flat.shape[0]
        if x.dtype.is_complex:   # grouped in (real, imag) order: two stable sorts
            by_imag = argsort(apply("imag", self.flat))
            by_real = argsort(take(apply("real", self.flat), by_imag))
            self.order = take(by_imag, by_real)
        else:
            self.order = argsort(self.flat) if with_order else None
        self.sorted = (take(self.flat, self.order) if self.order is not None
                       else sort(self.flat))
        if self.n == 0:
            self.starts = empty((0,), dtype=default_int(x.device), device=x.device)
            return
        first = ones((1,), dtype=d.bool, device=x.device)
        changes = apply("not_equal", self.sorted[1:], self.sorted[:-1])
        (self.starts,) = nonzero(concat([first, changes]))

    def values(self) -> Array:
        from ._take import take_in_range as take
        return take(self.sorted, self.starts) if self.n else self.sorted

    def counts(self) -> Array:
        t = self.starts.dtype
        if not self.n:
            return self.starts
        ends = concat([self.starts[1:], _full1(self.n, t, self.x.device)])
        return apply("subtract", ends, self.starts)

    def indices(self) -> Array:
        from ._take import take_in_range as take
        return take(self.order, self.starts) if self.n else self.starts

    def inverse(self) -> Array:
        """Every element's group, in the input's shape."""
        t = self.starts.dtype
        out = empty((self.n,), dtype=t, device=self.x.device)
        if self.n:
            position = arange(self.n, dtype=t, device=self.x.device)
            group = apply("subtract", searchsorted(self.starts, position, side="right"), 1)
            out[self.order] = group
        return reshape(out, self.x.shape)


def _full1(value: int, t, device) -> Array:
    from ._creation import full
    return full((1,), value, dtype=t, device=device)


def unique_values(x, /) -> Array:
    return _Groups(x, "unique_values", False).values()


def unique_counts(x, /) -> UniqueCountsResult:
    g = _Groups(x, "unique_counts", False)
    return UniqueCountsResult(g.values(), g.counts())


def unique_inverse(x, /) -> UniqueInverseResult:
    g = _Groups(x, "unique_inverse", True)
    return UniqueInverseResult(g.values(), g.inverse())


def unique_all(x, /) -> UniqueAllResult:
    g = _Groups(x, "unique_all", True)
    return UniqueAllResult(g.values(), g.indices(), g.inverse(), g.counts())
