"""Staged copies between host memory and device-local buffers or images, on one queue.

Each copy is recorded into the queue's transfer command buffer behind a barrier that
waits for all earlier work on the queue, submitted, and waited for: transfers are
synchronous for the caller's data. Large copies go through the staging buffer in
chunks of at most STAGING_MAX bytes.
"""
from __future__ import annotations

from ._vk import check, ffi, lib, memmove, new, out, vk
from .device import ALL, HOST, TRANSFER, SubmitBatch, memory_barrier
from .memory import create_buffer, destroy_buffer

STAGING_MIN = 1 << 20
STAGING_MAX = 64 << 20


class _Lane:
    """One half of the double-buffered staging: a command buffer, a staging buffer and
    the timeline value of its last submission."""
    __slots__ = ("cmd", "batch", "staging", "busy")


class Transfer:
    """The caller holds `queue.transfer_lock` around every method."""

    def __init__(self, queue):
        self.queue = queue
        self.device = queue.device
        dev = self.device.handle
        info = new("VkCommandPoolCreateInfo", sType=vk.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                   flags=(vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT
                          | vk.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT),
                   queueFamilyIndex=self.device.family)
        pool = out("VkCommandPool")
        check(lib.vkCreateCommandPool(dev, info, ffi.NULL, pool), "vkCreateCommandPool")
        self.pool = pool[0]
        alloc = new("VkCommandBufferAllocateInfo",
                    sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, commandPool=self.pool,
                    level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, commandBufferCount=2)
        cmds = ffi.new("VkCommandBuffer[2]")
        r = lib.vkAllocateCommandBuffers(dev, alloc, cmds)
        if r < 0:
            lib.vkDestroyCommandPool(dev, self.pool, ffi.NULL)
            check(r, "vkAllocateCommandBuffers")
        self.lanes = []
        for i in range(2):
            lane = _Lane()
            lane.cmd, lane.staging, lane.busy = cmds[i], None, 0
            lane.batch = SubmitBatch(queue, [lane.cmd])
            self.lanes.append(lane)
        self.begin = new("VkCommandBufferBeginInfo",
                         sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                         flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)
        self.before = memory_barrier(vk.VK_ACCESS_MEMORY_WRITE_BIT,
                                     vk.VK_ACCESS_TRANSFER_READ_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT)
        self.after = memory_barrier(vk.VK_ACCESS_TRANSFER_WRITE_BIT,
                                    vk.VK_ACCESS_MEMORY_READ_BIT | vk.VK_ACCESS_MEMORY_WRITE_BIT
                                    | vk.VK_ACCESS_HOST_READ_BIT)

    def _staging(self, nbytes: int, limit: int = STAGING_MAX, lane: int = 0):
        """Lane `lane`'s staging buffer, grown to hold min(nbytes, limit) bytes."""
        ln = self.lanes[lane]
        want = min(max(nbytes, 1), max(limit, 1))
        if ln.staging is None or ln.staging.size < want:
            size = STAGING_MIN
            while size < want:
                size *= 2
            if ln.staging is not None:
                self.queue.wait(ln.busy)
                destroy_buffer(ln.staging)
                ln.staging = None
            ln.staging = create_buffer(self.device, self.queue.index, size, "host")
        return ln.staging

    def _submit(self, lane: _Lane, record) -> int:
        """Record `record(cmd)` between full barriers into `lane` and submit it."""
        cmd = lane.cmd
        check(lib.vkBeginCommandBuffer(cmd, self.begin), "vkBeginCommandBuffer")
        lib.vkCmdPipelineBarrier(cmd, ALL, TRANSFER, 0, 1, self.before, 0, ffi.NULL, 0, ffi.NULL)
        record(cmd)
        lib.vkCmdPipelineBarrier(cmd, TRANSFER, ALL | HOST, 0, 1, self.after, 0, ffi.NULL, 0, ffi.NULL)
        check(lib.vkEndCommandBuffer(cmd), "vkEndCommandBuffer")
        lane.busy = self.queue.submit(lane.batch)
        return lane.busy

    def run(self, record) -> None:
        """Record `record(cmd)` between full barriers, submit, and wait."""
        lane = self.lanes[0]
        self.queue.wait(lane.busy)
        self.queue.wait(self._submit(lane, record))

    # ------------------------------------------------------------------ buffers
    def _chunk_size(self, nbytes: int) -> int:
        # two lanes of half the staging size each, so host and GPU copies overlap
        return min(max(nbytes, 1), STAGING_MAX // 2) if nbytes > STAGING_MIN else max(nbytes, 1)

    def write_buffer(self, dst, dst_offset: int, src, nbytes: int) -> None:
        """Copy `nbytes` from host pointer `src` into buffer handle `dst`: the host fills
        one lane's staging buffer while the GPU copies out of the other."""
        chunk = self._chunk_size(nbytes)
        done, k = 0, 0
        while done < nbytes:
            lane = self.lanes[k % 2]
            staging = self._staging(chunk, lane=k % 2)
            n = min(chunk, nbytes - done)
            self.queue.wait(lane.busy)
            memmove(staging.ptr, src + done, n)
            region = new("VkBufferCopy", srcOffset=0, dstOffset=dst_offset + done, size=n)
            self._submit(lane, lambda cmd, r=region, b=staging.buffer:
                         lib.vkCmdCopyBuffer(cmd, b, dst.buffer, 1, r))
            done += n
            k += 1
        for lane in self.lanes:
            self.queue.wait(lane.busy)

    def read_buffer(self, src, src_offset: int, dst, nbytes: int) -> None:
        """Copy `nbytes` of buffer handle `src` to host pointer `dst`: the GPU fills one
        lane's staging buffer while the host drains the other."""
        chunk = self._chunk_size(nbytes)
        pending = []   # (lane, staging, host offset, n), in submission order
        done, k = 0, 0
        while done < nbytes or pending:
            if done < nbytes and len(pending) < 2:
                lane = self.lanes[k % 2]
                staging = self._staging(chunk, lane=k % 2)
                n = min(chunk, nbytes - done)
                region = new("VkBufferCopy", srcOffset=src_offset + done, dstOffset=0, size=n)
                self._submit(lane, lambda cmd, r=region, b=staging.buffer:
                             lib.vkCmdCopyBuffer(cmd, src.buffer, b, 1, r))
                pending.append((lane, staging, done, n))
                done += n
                k += 1
                continue
            lane, staging, offset, n = pending.pop(0)
            self.queue.wait(lane.busy)
            memmove(dst + offset, staging.ptr, n)

    # ------------------------------------------------------------------ images
    def _image_chunks(self, image, layer: int, level: int):
        """(byte offset, VkBufferImageCopy) pieces of one layer of one mip level, each
        fitting the staging buffer: whole rows (1-D/2-D) or whole slices (3-D)."""
        w, h, d = (max(1, e >> level) for e in image.extent)
        unit, count = ((w * image.texel_size, h) if d == 1 else (w * h * image.texel_size, d))
        staging = self._staging(unit * count, limit=max(STAGING_MAX, unit))
        per = max(1, staging.size // unit)
        for start in range(0, count, per):
            n = min(per, count - start)
            region = new("VkBufferImageCopy")
            sub = region.imageSubresource
            sub.aspectMask, sub.mipLevel = vk.VK_IMAGE_ASPECT_COLOR_BIT, level
            sub.baseArrayLayer, sub.layerCount = layer, 1
            if d == 1:
                region.imageOffset.y = start
                region.imageExtent.width, region.imageExtent.height, region.imageExtent.depth = w, n, 1
            else:
                region.imageOffset.z = start
                region.imageExtent.width, region.imageExtent.height, region.imageExtent.depth = w, h, n
            yield start * unit, n * unit, region, staging

    def write_image(self, image, layer: int, src, nbytes: int, level: int = 0) -> None:
        for offset, n, region, staging in self._image_chunks(image, layer, level):
            ffi.memmove(staging.ptr, src + offset, n)
            self.run(lambda cmd: lib.vkCmdCopyBufferToImage(
                cmd, staging.buffer, image.image, vk.VK_IMAGE_LAYOUT_GENERAL, 1, region))

    def read_image(self, image, layer: int, dst, nbytes: int, level: int = 0) -> None:
        for offset, n, region, staging in self._image_chunks(image, layer, level):
            self.run(lambda cmd: lib.vkCmdCopyImageToBuffer(
                cmd, image.image, vk.VK_IMAGE_LAYOUT_GENERAL, staging.buffer, 1, region))
            memmove(dst + offset, staging.ptr, n)

    def to_general_layout(self, image) -> None:
        """Move a new image from UNDEFINED to GENERAL, where it stays for its life."""
        barrier = new("VkImageMemoryBarrier", sType=vk.VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                      srcAccessMask=0,
                      dstAccessMask=vk.VK_ACCESS_MEMORY_READ_BIT | vk.VK_ACCESS_MEMORY_WRITE_BIT,
                      oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, newLayout=vk.VK_IMAGE_LAYOUT_GENERAL,
                      srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
                      dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, image=image.image)
        rng = barrier.subresourceRange
        rng.aspectMask, rng.baseMipLevel, rng.levelCount = vk.VK_IMAGE_ASPECT_COLOR_BIT, 0, image.levels
        rng.baseArrayLayer, rng.layerCount = 0, image.layers
        self.run(lambda cmd: lib.vkCmdPipelineBarrier(
            cmd, vk.VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ALL, 0, 0, ffi.NULL, 0, ffi.NULL, 1, barrier))

    def destroy(self) -> None:
        for lane in self.lanes:
            self.queue.wait(lane.busy)
            if lane.staging is not None:
                destroy_buffer(lane.staging)
                lane.staging = None
        if self.pool is not None:
            lib.vkDestroyCommandPool(self.device.handle, self.pool, ffi.NULL)
            self.pool = None
