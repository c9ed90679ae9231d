"""The prologue shared by generated per-element kernels (matmul, scans): int32 uniforms,
one invocation per output element, and that element's coordinates."""
from __future__ import annotations

import contextlib

from ..base import dtype as dt
from ..codegen import ir, ops
from ..codegen.variables import convert
from . import _dtypes as d


def uniform(b, name: str, ty=None):
    """A named scalar kernel argument (int32 unless `ty`)."""
    var = b.new_var(ty or d.int32, ir.UNIFORM, name=name)
    b.add_param(name, "const", var)
    return var


@contextlib.contextmanager
def each_element(b, n, dims):
    """Emit `if (i < n) {...}` for invocation i; yields the row-major coordinates of
    element i in a shape of extents `dims` (kernel values)."""
    gid = ops.make("swizzle", ops.make("builtin", attrs=("global_invocation_id",),
                                       dtype=dt.uvec3), attrs=("x",))
    i = b.bind(convert(gid, d.int32))
    body = []
    b.emit(ir.If(ops.make("lt", i, n), body))
    with b.nested(body, "element"):
        rem, coords = i, []
        for j in reversed(range(len(dims))):
            coords.append(b.bind(ops.make("mod", rem, dims[j])))
            if j:
                rem = b.bind(ops.make("div", rem, dims[j]))
        coords.reverse()
        yield coords
