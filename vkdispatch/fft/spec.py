"""What one FFT kernel computes, as hashable data (the plan cache's keys).

A kernel runs `batch` transforms of length `n` per workgroup, `threads` invocations
each, as Stockham stages of the given radices: the first stage reads global memory,
the last writes it, the stages between exchange through shared memory. Where the
elements of a transform sit is given at launch by uniforms (see `Layout`), so the same
kernel serves every batch count and every array with the same inner layout."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..base.dtype import DType

# uniforms of one side (input or output): element (o, c, e) of transform (o, c) is at
# (o // q) * a + (o % q) * b + c + e * es
SIDE_FIELDS = ("q", "a", "b", "es")
# launch-wide uniforms: o in [0, outer), c in [0, columns), workgroups in all, workgroups
# per row of columns (column mode), inner stride (four-step twiddle: n2 = c // inner)
LAUNCH_FIELDS = ("outer", "columns", "groups", "col_groups", "inner")


@dataclass(frozen=True)
class Layout:
    """Addresses of the transforms of one launch (values of the uniforms)."""
    q: int
    a: int
    b: int
    es: int

    def values(self, side: str) -> dict:
        return {f"{side}_{f}": getattr(self, f) for f in SIDE_FIELDS}


@dataclass(frozen=True)
class Edge:
    """How values enter or leave a kernel besides plain loads and stores.

    limit: elements from it on read as zero (input) or are not stored (output);
    start: elements before it read as zero (input);
    chirp: multiply by the Bluestein chirp exp(-pi i e^2 / |chirp|), conjugated where
    chirp < 0 (0: none);
    kernel: multiply loaded element e by element e of the "kernel" buffer.
    The element index e is the index along the whole transform (in a four-step pass:
    e * (twiddle / n) + n2 on the load, k1 + outer_split * f on the store)."""
    limit: int = 0
    chirp: int = 0
    start: int = 0
    kernel: bool = False


@dataclass(frozen=True)
class PassSpec:
    n: int
    radices: tuple
    threads: int
    batch: int
    columns: bool            # transforms along a strided axis: neighbours are columns
    sign: int                # -1 forward, +1 inverse
    scale: float             # applied on the final store
    io_in: DType
    io_out: DType
    compute: DType
    in_place: bool
    twiddle: int = 0         # four-step: multiply output f by W_twiddle^(n2 * f)
    split: int = 0           # the two-level twiddle table's low part size
    load: Edge = Edge()
    store: Edge = Edge()
    # convolve: ("buffer", dtype name, layout, conjugate, kernels) or ("map", kernels)
    kernel_mul: Optional[tuple] = None
    real: str = ""           # "r2c" / "c2r": the packed real transform of length 2n (rfft.py)
    # "in" / "out": that side is a real array and complex element e the pair of reals
    # at 2e and 2e + 1 along its axis (realpass.py); its layout counts reals
    pairs: str = ""
    outer_split: int = 0     # four-step second pass: the first pass's length n1
    pad: bool = False        # shared rows keep a spare element per 16 (bank conflicts)
    # (input Layout, output Layout) of a launch over rows (one column), compiled as
    # literals so that addresses fold into the loads' and stores' offsets
    rows: tuple = ()

    @property
    def local_size(self) -> int:
        return self.batch * self.threads

    @property
    def shared_elements(self) -> int:
        per = self.n + self.n // 16 if self.pad else self.n
        return self.batch * per if len(self.radices) > 1 or self.real == "r2c" else 0
