"""What a dependent dispatch and a device copy cost on a Vulkan device (not a test).

    python benchmarks/vulkan_barrier_probe.py [device_index]

Replays 1000 tiny dispatches that each increment the same buffer, recorded with each
kind of dependency between them, on each compute queue family of the device and with
several workgroup sizes, and prints microseconds per dispatch (wall clock over 20
back-to-back submissions). "none" has no dependency at all: it is the front end's
floor and its result is wrong by design; every other variant is checked. Then
compares vkCmdCopyBuffer with a copy shader at several grid sizes (GB/s, checked)."""
from __future__ import annotations

import sys
import time

import numpy as np

from vkdispatch.base.abi import Binding, ProgramInfo
from vkdispatch.backends.vulkan import load_runtime
from vkdispatch.backends.vulkan._vk import check, ffi, lib, new, out, vk
from vkdispatch.backends.vulkan.commands import VulkanCommandList
from vkdispatch.backends.vulkan.device import COMPUTE

N, SUBMITS = 1000, 20
SHADER = """#version 450
layout(local_size_x = {local}) in;
layout(std430, binding = 0) buffer X {{ uint x[]; }};
layout(push_constant) uniform P {{ uint k; }};
void main() {{ uint i = gl_GlobalInvocationID.x; if (i < x.length()) x[i] += k; }}
"""
MEMORY_BARRIER = vk.VK_ACCESS_SHADER_WRITE_BIT, vk.VK_ACCESS_SHADER_READ_BIT | vk.VK_ACCESS_SHADER_WRITE_BIT


class ProbeList(VulkanCommandList):
    """A command list that records its dispatches with one dependency `variant`."""

    variant = "memory"
    rebind = True

    def _record_run(self, cmd, base, pushes, queries):
        dev = self._device.handle
        mem = new("VkMemoryBarrier", sType=vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                  srcAccessMask=MEMORY_BARRIER[0], dstAccessMask=MEMORY_BARRIER[1])
        target = self.target
        bmb = new("VkBufferMemoryBarrier", sType=vk.VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                  srcAccessMask=MEMORY_BARRIER[0], dstAccessMask=MEMORY_BARRIER[1],
                  srcQueueFamilyIndex=0xFFFFFFFF,
                  dstQueueFamilyIndex=0xFFFFFFFF,
                  buffer=target.buffer, offset=0, size=(1 << 64) - 1)
        if self.variant == "event" and not hasattr(self, "_event"):
            ev = out("VkEvent")
            check(lib.vkCreateEvent(dev, new("VkEventCreateInfo",
                                             sType=vk.VK_STRUCTURE_TYPE_EVENT_CREATE_INFO),
                                    ffi.NULL, ev), "vkCreateEvent")
            self._event = ev
        lib.vkCmdPipelineBarrier(cmd, COMPUTE | vk.VK_PIPELINE_STAGE_TRANSFER_BIT, COMPUTE, 0, 1,
                                 self._device.barriers[COMPUTE | vk.VK_PIPELINE_STAGE_TRANSFER_BIT,
                                                       COMPUTE], 0, ffi.NULL, 0, ffi.NULL)
        for i, op in enumerate(self._dispatches):
            if i:
                v = self.variant
                if v == "memory":
                    lib.vkCmdPipelineBarrier(cmd, COMPUTE, COMPUTE, 0, 1, mem, 0, ffi.NULL, 0, ffi.NULL)
                elif v == "exec":
                    lib.vkCmdPipelineBarrier(cmd, COMPUTE, COMPUTE, 0, 0, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL)
                elif v == "buffer":
                    lib.vkCmdPipelineBarrier(cmd, COMPUTE, COMPUTE, 0, 0, ffi.NULL, 1, bmb, 0, ffi.NULL)
                elif v == "event":
                    lib.vkCmdWaitEvents(cmd, 1, self._event, COMPUTE, COMPUTE, 1, mem, 0, ffi.NULL,
                                        0, ffi.NULL)
                    lib.vkCmdResetEvent(cmd, self._event[0], COMPUTE)
            if i == 0 or self.rebind:
                lib.vkCmdBindPipeline(cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, op.pipeline)
                self._set_arr[0] = self._descriptor_set(op)
                lib.vkCmdBindDescriptorSets(cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, op.layout, 0, 1,
                                            self._set_arr, 0, ffi.NULL)
                lib.vkCmdPushConstants(cmd, op.layout, vk.VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                       op.push_size, op.push)
            lib.vkCmdDispatch(cmd, *op.groups)
            if self.variant == "event":
                lib.vkCmdSetEvent(cmd, self._event[0], COMPUTE)
        return COMPUTE


def per_dispatch(cl) -> float:
    cl.submit().wait()
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(SUBMITS):
            s = cl.submit()
        s.wait()
        best = min(best, (time.perf_counter() - t) / (SUBMITS * N))
    return best


COPY = """#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer S { uvec4 s[]; };
layout(std430, binding = 1) writeonly buffer D { uvec4 d[]; };
void main() {
    uint n = s.length(), stride = gl_NumWorkGroups.x * 256;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) d[i] = s[i];
}
"""


def copy_rates(ctx, reps=20):
    """GB/s (read + write) of vkCmdCopyBuffer and of a copy shader (256 MiB, or the
    largest bindable range), warm GPU."""
    nbytes = min(256 << 20, ctx._queues[0].device.phys.limits.maxStorageBufferRange // 16 * 16)
    src, dst = ctx.buffer_alloc(0, nbytes), ctx.buffer_alloc(0, nbytes)
    host = np.arange(nbytes // 4, dtype=np.uint32)
    ctx.buffer_write(src, host)
    prog = ctx.create_program(COPY, ProgramInfo("main", (256, 1, 1), (
        Binding("s", "storage_buffer", 0, writable=False), Binding("d", "storage_buffer", 1))))
    lists = {}
    device = ctx._queues[0].device
    for name, by_shader in (("vkCmdCopyBuffer", False), ("copy() as the runtime picks", None)):
        saved = device.copy_with_shader
        if by_shader is not None:
            device.copy_with_shader = by_shader
        cl = lists[name] = ctx.command_list(0)
        for _ in range(reps):
            cl.copy(src, dst, nbytes)
        device.copy_with_shader = saved
    sms = 132
    for waves in (1, 4, 16, 0):
        groups = waves * sms * 8 if waves else nbytes // 16 // 256
        cl = lists[f"shader, {groups} groups"] = ctx.command_list(0)
        for _ in range(reps):
            cl.dispatch(prog, (groups,), [src, dst])
    out = []
    for name, cl in lists.items():
        t = time.time()
        while time.time() - t < 0.3:       # clocks up
            cl.submit().wait()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            cl.submit().wait()
            best = min(best, time.perf_counter() - t0)
        ok = (np.frombuffer(ctx.buffer_read(dst, nbytes), np.uint32) == host).all()
        out.append(f"{name} {2 * nbytes * reps / best / 1e9:.0f}{'' if ok else ' WRONG'}")
        cl.destroy()
    print("copy GB/s: " + ", ".join(out))
    ctx.buffer_free(src)
    ctx.buffer_free(dst)


def main(device=0):
    rt = load_runtime()
    phys = rt.instance.physical_devices[device]
    families = [i for i, (flags, count, _) in enumerate(phys.queue_families)
                if flags & vk.VK_QUEUE_COMPUTE_BIT and count]
    default = phys.compute_family
    print(phys.name, "compute families:", {i: phys.queue_families[i][:2] for i in families},
          "default:", default)
    try:
        for fam in families:
            phys.compute_family = fam
            ctx = rt.create_context([device], [1])
            try:
                for local in (32, 64, 256):
                    prog = ctx.create_program(SHADER.format(local=local), ProgramInfo(
                        "main", (local, 1, 1), (Binding("x", "storage_buffer", 0),),
                        uniform_size=4))
                    buf = ctx.buffer_alloc(0, 4 * 64)
                    row = []
                    for variant, rebind in (("memory", True), ("memory", False), ("exec", True),
                                            ("exec", False), ("buffer", True), ("event", True),
                                            ("none", True)):
                        ctx.buffer_write(buf, np.zeros(64, np.uint32))
                        cl = ProbeList(ctx, 0)
                        cl.variant, cl.rebind, cl.target = variant, rebind, buf
                        for _ in range(N):
                            cl.dispatch(prog, (-(-64 // local),), [buf], np.uint32(1).tobytes())
                        t = per_dispatch(cl)
                        got = np.frombuffer(ctx.buffer_read(buf, 4 * 64), np.uint32)
                        runs = 1 + 3 * SUBMITS
                        ok = "" if variant == "none" or (got == runs * N).all() else " WRONG"
                        row.append(f"{variant}{'' if rebind else '/bind once'} {t * 1e6:.2f}{ok}")
                        cl.destroy()
                    print(f"family {fam} local {local:3}: " + ", ".join(row))
                    ctx.buffer_free(buf)
                copy_rates(ctx)
            finally:
                ctx.destroy()
    finally:
        phys.compute_family = default


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
