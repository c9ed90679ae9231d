import numpy as np
import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buff.size")
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias


buf = vd.asbuffer(np.zeros(4, np.float32))

# Bad calls raise at the call, with the argument named, and record nothing.
try:
    add_scalar(vd.asbuffer(np.zeros(4, np.int32)), 1.0)
except TypeError as exc:
    print(exc)     # shader add_scalar: parameter 'buff' is Buff[float32] but ... int32

try:
    add_scalar(buf, 1e300)
except ValueError as exc:
    print(exc)     # parameter 'bias': 1e+300 does not fit in float32

# Every runtime error is a vd.VkDispatchError; many are also a builtin type.
try:
    vd.Buffer((1 << 40,), vd.float32)                  # 4 TiB
except vd.OutOfMemoryError as exc:                     # also a MemoryError
    print(type(exc).__name__, isinstance(exc, vd.VkDispatchError))


# A value made inside a traced branch cannot be used after it: CodegenError names
# the line and the fix.
def bad(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    with vc.if_block(i > 2):
        y = buff[i] * 2
    buff[i] = y


try:
    vd.shader("buff.size")(bad)(buf)
except vd.CodegenError as exc:
    print(str(exc).splitlines()[0])


# Memory checks: an access past the end is never performed; "report" raises after the
# submission that ran it.
@vd.shader("buff.size", memory_checks="report")
def shifted(buff: Buff[f32]):
    i = vc.global_invocation_id().x
    buff[i + 2] = 1.0


shifted(buf)
try:
    buf.read(0)                                        # submits, then reports
except vd.OutOfBoundsError as exc:
    print(exc)
assert np.array_equal(buf.read(0), [0, 0, 1, 1])       # the in-range writes happened
