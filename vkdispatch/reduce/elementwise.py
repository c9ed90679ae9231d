"""Elementwise maps for library reductions (the Array API layer's `sum(a * b)`).

Element i of the reduced values is `body(leaf_0[off_0 + i], leaf_1[off_1 + i], ...,
*scalars)`. Unlike a mapping function, which loads what it likes at
`mapped_io_index()`, the reduction does the loads itself: they are in range by a check
at record time (no guard per load), and rows of 32-bit leaves starting 16-byte aligned
are read four elements at a time (ROW4), as a plain reduction's are."""
from __future__ import annotations

from typing import Callable, Sequence

from ..base import dtype as dt
from ..base.buffer import Buffer
from ..base.dtype import DType
from ..codegen.types import Buff, Const

# leaf types ROW4 reads as 4-component vectors
VECTOR_LEAF_TYPES = (dt.float32, dt.int32, dt.uint32)


class ElementwiseMap:
    """`body(values, scalars)` -> the element's value (a ShaderVariable), given each
    leaf's element as a ShaderVariable and the scalars' uniforms. A reduction's inputs
    for it are, per leaf, the Buffer and its element offset, then the scalars' values.
    Kernels are cached by this object: make one per structure and keep it."""

    __slots__ = ("name", "leaf_types", "scalar_types", "body", "return_type",
                 "buffer_types", "param_names", "__weakref__")

    def __init__(self, name: str, leaf_types: Sequence[DType], scalar_types: Sequence[DType],
                 body: Callable, return_type: DType):
        self.name = name
        self.leaf_types = tuple(leaf_types)
        self.scalar_types = tuple(scalar_types)
        self.body = body
        self.return_type = return_type
        self.buffer_types = [p for t in self.leaf_types for p in (Buff[t], Const[dt.uint32])] \
            + [Const[t] for t in self.scalar_types]
        self.param_names = [n for j in range(len(self.leaf_types)) for n in (f"in{j}", f"off{j}")] \
            + [f"s{k}" for k in range(len(self.scalar_types))]

    def __repr__(self) -> str:
        return (f"ElementwiseMap({self.name}, leaves={[t.name for t in self.leaf_types]}, "
                f"scalars={[t.name for t in self.scalar_types]})")

    @property
    def leaf_count(self) -> int:
        return len(self.leaf_types)

    def split(self, inputs: Sequence) -> tuple:
        """(leaf buffers, their element offsets, scalar values) of a reduction's inputs."""
        k = 2 * self.leaf_count
        return list(inputs[0:k:2]), [int(o) for o in inputs[1:k:2]], list(inputs[k:])

    def check_ranges(self, inputs: Sequence, total: int, what: str) -> None:
        """Every leaf holds `total` elements from its offset (the loads are unguarded)."""
        for j, (buf, off) in enumerate(zip(*self.split(inputs)[:2])):
            if not isinstance(buf, Buffer) or off < 0 or off + total > buf.size:
                size = buf.size if isinstance(buf, Buffer) else type(buf).__name__
                raise ValueError(f"{what}: leaf {j} must hold {total} elements from offset "
                                 f"{off}, but has {size}")

    def vectorizable(self, inputs: Sequence) -> bool:
        """Every leaf is a 32-bit type whose first element is 16-byte aligned."""
        if any(t not in VECTOR_LEAF_TYPES for t in self.leaf_types):
            return False
        return all((buf.offset + off * buf.dtype.itemsize) % 16 == 0
                   for buf, off in zip(*self.split(inputs)[:2]))
