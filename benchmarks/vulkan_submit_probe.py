"""What the driver's vkQueueSubmit costs an eager Vulkan call (not a test).

    python benchmarks/vulkan_submit_probe.py [--calls 3000]

An eager call with unchanged arguments ends in one vkQueueSubmit of the kept list's
recorded command buffer, signalling the queue's timeline semaphore. This times, for
the kept list of one `tiny` call, per call (wall / thread CPU, us):
- runtime submit: the command list's submit (what a replay costs in all);
- timeline signal: the bare vkQueueSubmit that submit makes;
- no semaphore: the same command buffer submitted with nothing to signal;
- signal only: a submission of no command buffer that signals the timeline;
- 8 per submit: eight copies of the command buffer in one submission that signals
  once, per copy.
They call the driver straight from here: their differences are the driver's, and
"runtime submit" minus "timeline signal" is our Python. If "no semaphore" is far
below "timeline signal", signalling only the submissions someone waits for would
pay (a later signal covers every earlier submission on the queue)."""
from __future__ import annotations

import argparse

import vkdispatch as vd
from host_profile import built_list, per_call, tiny
from vkdispatch.backends.vulkan._vk import check, ffi, lib, new, vk
from vkdispatch.backends.vulkan.device import SubmitBatch


def probes(cl, calls: int) -> dict:
    """(wall, CPU) us per call of each way to submit VulkanCommandList `cl`'s kept
    recording (cl must have just been submitted unchanged)."""
    slot = cl._replay
    q = cl._queue
    if slot is None:
        raise RuntimeError("the list has no recording to replay; submit it once unchanged")

    def idle():
        with q.lock:
            check(lib.vkQueueWaitIdle(q.handle), "vkQueueWaitIdle")

    def bare(info):
        def submit():
            with q.lock:   # as Queue.submit: the timeline value is written under it
                q.submitted += 1
                values[0] = q.submitted
                check(lib.vkQueueSubmit(q.handle, 1, info, ffi.NULL), "vkQueueSubmit")
        return submit

    values = slot.batch.values
    cmds = ffi.new("VkCommandBuffer[1]", [slot.cmd])
    plain = new("VkSubmitInfo", sType=vk.VK_STRUCTURE_TYPE_SUBMIT_INFO, commandBufferCount=1,
                pCommandBuffers=cmds)
    signal_only = SubmitBatch(q, [])
    eight = SubmitBatch(q, [slot.cmd] * 8)

    def unsignalled():
        with q.lock:
            check(lib.vkQueueSubmit(q.handle, 1, plain, ffi.NULL), "vkQueueSubmit")

    def signalled(batch):
        def submit():
            q.submit(batch)
        return submit

    out = {"runtime submit": per_call(cl.submit, calls, sync=idle),
           "timeline signal": per_call(bare(slot.batch.info), calls, sync=idle),
           "no semaphore": per_call(unsignalled, calls, sync=idle),
           "signal only": per_call(signalled(signal_only), calls, sync=idle)}
    w, c = per_call(signalled(eight), calls // 8 or 1, sync=idle)
    out["8 per submit (per copy)"] = (w / 8, c / 8)
    idle()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=3000)
    args = p.parse_args()
    vd.initialize(backend="vulkan")
    buf = vd.Buffer((64,), vd.float32)
    tiny(buf, 1.0)           # compiled first
    vd.queue_wait_idle()
    cl = built_list(buf)
    cl.submit()              # unchanged since: its slot replays as is
    print(f"device: {vd.get_context().device.name}; us per call, wall / thread CPU")
    for name, (wall, cpu) in probes(cl, args.calls).items():
        print(f"{name:26} {wall:7.2f} / {cpu:6.2f}")


if __name__ == "__main__":
    main()
