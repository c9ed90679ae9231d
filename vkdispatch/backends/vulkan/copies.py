"""Device-to-device buffer copies as compute dispatches.

On an H200, vkCmdCopyBuffer moves 837 GB/s where a copy shader moves 4040 GB/s
(benchmarks/vulkan_barrier_probe.py); on lavapipe vkCmdCopyBuffer is a memcpy and
beats any shader. So GPUs copy with a shader whenever offsets and size are multiples
of 4 bytes (16-byte vectors when they are multiples of 16); CPU devices, and copies
that are not 4-byte aligned, use vkCmdCopyBuffer.
"""
from __future__ import annotations

import struct

from ...base.abi import Binding, ProgramInfo

LOCAL_SIZE = 256
_SOURCE = """#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src {{ {t} src[]; }};
layout(std430, binding = 1) writeonly buffer Dst {{ {t} dst[]; }};
layout(push_constant) uniform Range {{ uint src_first; uint dst_first; uint count; }};
void main() {{
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < count; i += stride)
        dst[dst_first + i] = src[src_first + i];
}}
"""
_TYPES = {16: "uvec4", 4: "uint"}
_INFO = ProgramInfo("main", (LOCAL_SIZE, 1, 1),
                    (Binding("src", "storage_buffer", 0, writable=False),
                     Binding("dst", "storage_buffer", 1)), uniform_size=12)


def shader_copies_pay(phys) -> bool:
    """Whether copies on this physical device should run as a shader (Device.copy_with_shader)."""
    return phys.device_type != "cpu"


def uses_shader(device, nbytes: int, src_offset: int, dst_offset: int) -> bool:
    return device.copy_with_shader and not (nbytes | src_offset | dst_offset) % 4


def copy_program(ctx, unit: int):
    """The context's copy kernel moving `unit`-byte elements (built on first use)."""
    with ctx._lock:
        program = ctx._copy_programs.get(unit)
        if program is None or program.destroyed:
            program = ctx.create_program(_SOURCE.format(t=_TYPES[unit]), _INFO)
            ctx._copy_programs[unit] = program
        return program


def plan(device, nbytes: int, src_offset: int, dst_offset: int):
    """Yield (element bytes, src view, dst view, push constants, groups) dispatches that
    copy `nbytes`: every view starts at a multiple of minStorageBufferOffsetAlignment
    and spans at most maxStorageBufferRange bytes."""
    limits = device.phys.limits
    align = limits.minStorageBufferOffsetAlignment
    unit = 16 if not (nbytes | src_offset | dst_offset) % 16 else 4
    chunk = (limits.maxStorageBufferRange - align) // 16 * 16
    max_groups = limits.maxComputeWorkGroupCount[0]
    done = 0
    while done < nbytes:
        n = min(chunk, nbytes - done)
        s, d = src_offset + done, dst_offset + done
        s_base, d_base = s - s % align, d - d % align
        count = n // unit
        push = struct.pack("<3I", (s - s_base) // unit, (d - d_base) // unit, count)
        groups = min(-(-count // LOCAL_SIZE), max_groups)
        yield unit, (s_base, s - s_base + n), (d_base, d - d_base + n), push, groups
        done += n
