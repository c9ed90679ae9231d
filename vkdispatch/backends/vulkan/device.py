"""A logical VkDevice with its compute queues.

Each queue owns a timeline semaphore that every submission on it signals with the
next value: a Signal is just (queue, value), waiting is vkWaitSemaphores, and no
per-submission fence has to be created, recycled or raced over.
"""
from __future__ import annotations

import threading
import time
from typing import Optional

from ...base.cache import DiskCache, digest
from ...base.errors import UnsupportedFeatureError
from ...base.log import log_debug
from . import copies
from ._vk import UINT64_MAX, check, cstrings, error, ffi, lib, new, out, vk
from .memory import Allocator
from .physical import CORE_FEATURES, FEATURE_STRUCTS, OPTIONAL_EXTENSIONS

_pipeline_disk_cache = DiskCache("vkpipeline", kernels=False)

COMPUTE = vk.VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
TRANSFER = vk.VK_PIPELINE_STAGE_TRANSFER_BIT
HOST = vk.VK_PIPELINE_STAGE_HOST_BIT
ALL = vk.VK_PIPELINE_STAGE_ALL_COMMANDS_BIT
# the accesses each stage we use can make: barriers name exactly these (a narrower
# barrier is cheaper on GPUs, and an access outside its stage is invalid)
_WRITES = {COMPUTE: vk.VK_ACCESS_SHADER_WRITE_BIT, TRANSFER: vk.VK_ACCESS_TRANSFER_WRITE_BIT}
# no UNIFORM_READ: uniforms come from push constants or a host-written arena, never
# from what a kernel wrote, and a narrower mask lets the driver skip a cache invalidate
_READS = {COMPUTE: vk.VK_ACCESS_SHADER_READ_BIT | vk.VK_ACCESS_SHADER_WRITE_BIT,
          TRANSFER: vk.VK_ACCESS_TRANSFER_READ_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT,
          HOST: vk.VK_ACCESS_HOST_READ_BIT}


_queue_submit = lib.vkQueueSubmit     # looked up once: a replay is one call through it
_NULL = ffi.NULL


def _accesses(table, stages: int) -> int:
    return sum(access for stage, access in table.items() if stages & stage)


_WAIT_SLICE_NS = 250_000_000   # long waits return to Python this often (Ctrl-C works)
# GPUs: how long a wait polls before it blocks. A thread that blocked runs the host
# code after it about 2x slower for a while (an H200 host: recording and flushing the
# next kernel took 105 us after a 240 us blocking wait, 53 us after a polled one), and
# CUDA's synchronize polls too.
SPIN_SECONDS = 2e-3


def memory_barrier(src_access: int, dst_access: int):
    return new("VkMemoryBarrier", sType=vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
               srcAccessMask=src_access, dstAccessMask=dst_access)


class SubmitBatch:
    """A prebuilt VkSubmitInfo for `command_buffers` that signals its queue's timeline;
    `Queue.submit` only writes the value, so a replay costs no struct building."""

    __slots__ = ("info", "values", "_keep")

    def __init__(self, queue: "Queue", command_buffers):
        cmds = ffi.new("VkCommandBuffer[]", list(command_buffers))
        self.values = ffi.new("uint64_t[1]")
        timeline = new("VkTimelineSemaphoreSubmitInfo",
                       sType=vk.VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                       signalSemaphoreValueCount=1, pSignalSemaphoreValues=self.values)
        self.info = new("VkSubmitInfo", sType=vk.VK_STRUCTURE_TYPE_SUBMIT_INFO, pNext=timeline,
                        commandBufferCount=len(cmds), pCommandBuffers=cmds,
                        signalSemaphoreCount=1, pSignalSemaphores=queue.semaphore_ptr)
        self._keep = (cmds, timeline)


class Queue:
    """One VkQueue, its timeline and locks. `index` is the context-global queue number."""

    def __init__(self, device: "Device", handle, index: int):
        self.device = device
        self.handle = handle
        self.index = index
        self.lock = threading.Lock()            # vkQueueSubmit needs external sync
        self.transfer_lock = threading.Lock()   # staged copies share one staging buffer
        self.submitted = 0                      # last timeline value handed out
        self.completed_value = 0                # last value seen complete (a cache)
        self._transfer = None
        stype = new("VkSemaphoreTypeCreateInfo", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                    semaphoreType=vk.VK_SEMAPHORE_TYPE_TIMELINE, initialValue=0)
        info = new("VkSemaphoreCreateInfo", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                   pNext=stype)
        sem = out("VkSemaphore")
        check(lib.vkCreateSemaphore(device.handle, info, ffi.NULL, sem), "vkCreateSemaphore")
        self.semaphore = sem[0]
        self.semaphore_ptr = ffi.new("VkSemaphore[1]", [sem[0]])
        self._counter = ffi.new("uint64_t *")

    def submit(self, batch: SubmitBatch) -> int:
        """Submit a prebuilt batch; returns the timeline value it signals."""
        with self.lock:
            value = self.submitted + 1
            batch.values[0] = value
            r = _queue_submit(self.handle, 1, batch.info, _NULL)
            if r:
                raise error(r, "vkQueueSubmit")
            self.submitted = value
        return value

    def submit_semaphore(self, semaphore_ptr, value: int, wait: bool) -> int:
        """An empty submission that waits for (`wait`) or signals another timeline at
        `value`, and signals this queue's timeline as every submission does. A wait
        holds back all later work on the queue (a vkQueueSubmit semaphore wait covers
        every command later in submission order); a signal comes after all earlier work
        and makes its writes available. Returns this queue's timeline value."""
        stages = ffi.new("VkPipelineStageFlags[1]", [ALL])
        with self.lock:
            own = self.submitted + 1
            if wait:
                waits = ffi.new("uint64_t[1]", [value])
                signals = ffi.new("uint64_t[1]", [own])
                sems = self.semaphore_ptr
            else:
                waits = ffi.NULL
                signals = ffi.new("uint64_t[2]", [own, value])
                sems = ffi.new("VkSemaphore[2]", [self.semaphore, semaphore_ptr[0]])
            timeline = new("VkTimelineSemaphoreSubmitInfo",
                           sType=vk.VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                           waitSemaphoreValueCount=1 if wait else 0, pWaitSemaphoreValues=waits,
                           signalSemaphoreValueCount=1 if wait else 2,
                           pSignalSemaphoreValues=signals)
            info = new("VkSubmitInfo", sType=vk.VK_STRUCTURE_TYPE_SUBMIT_INFO, pNext=timeline,
                       waitSemaphoreCount=1 if wait else 0,
                       pWaitSemaphores=semaphore_ptr if wait else ffi.NULL,
                       pWaitDstStageMask=stages if wait else ffi.NULL,
                       signalSemaphoreCount=1 if wait else 2, pSignalSemaphores=sems)
            r = _queue_submit(self.handle, 1, info, _NULL)
            if r:
                raise error(r, "vkQueueSubmit", "a semaphore wait" if wait else "a semaphore signal")
            self.submitted = own
        return own

    def completed(self) -> int:
        if self.semaphore is None:          # destroyed: everything has finished
            return self.submitted
        check(lib.vkGetSemaphoreCounterValue(self.device.handle, self.semaphore, self._counter),
              "vkGetSemaphoreCounterValue")
        value = self._counter[0]
        if value > self.completed_value:
            self.completed_value = value
        return value

    def is_done(self, value: int) -> bool:
        return value <= self.completed_value or value <= self.completed()

    def wait(self, value: int, timeout: Optional[float] = None) -> bool:
        """Block until the timeline reaches `value` (True) or `timeout` seconds pass. On
        a GPU it first polls for up to SPIN_SECONDS: a blocking wait wakes up late (an
        interrupt and a thread switch), which short waits - a read after a small kernel
        - would pay many times over. CPU drivers need the core it would spin on."""
        if value <= self.completed_value or self.semaphore is None:
            return True
        if self.device.phys.device_type != "cpu" and (timeout is None or timeout > 0):
            end = time.perf_counter() + (SPIN_SECONDS if timeout is None
                                         else min(SPIN_SECONDS, timeout))
            while True:
                if self.completed() >= value:
                    return True
                if time.perf_counter() >= end:
                    break
        values = ffi.new("uint64_t[1]", [value])
        info = new("VkSemaphoreWaitInfo", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                   semaphoreCount=1, pSemaphores=self.semaphore_ptr, pValues=values)
        left = UINT64_MAX if timeout is None else max(0, int(timeout * 1e9))
        while True:
            step = min(left, _WAIT_SLICE_NS)
            r = lib.vkWaitSemaphores(self.device.handle, info, step)
            if r == vk.VK_SUCCESS:
                if value > self.completed_value:
                    self.completed_value = value
                return True
            check(r, "vkWaitSemaphores")
            if timeout is not None:
                left -= step
                if left <= 0:
                    return False

    def wait_idle(self) -> None:
        self.wait(self.submitted)

    @property
    def transfer(self):
        if self._transfer is None:
            from .transfer import Transfer
            self._transfer = Transfer(self)
        return self._transfer

    def destroy(self) -> None:
        if self._transfer is not None:
            self._transfer.destroy()
            self._transfer = None
        if self.semaphore is not None:
            lib.vkDestroySemaphore(self.device.handle, self.semaphore, ffi.NULL)
            self.semaphore = None


class Device:
    """A VkDevice on `phys` with `queue_count` queues of its compute family, every
    kernel-relevant feature it supports enabled, an allocator and a pipeline cache."""

    def __init__(self, phys, queue_count: int, first_queue: int, position: int):
        self.phys = phys
        self.position = position              # index in the context's device list
        self.handle = None
        self.queues = []
        self._deferred = []                   # [(queue marks, release callable)]
        self._defer_lock = threading.Lock()
        if not phys.features.get("timelineSemaphore"):
            raise UnsupportedFeatureError(
                f"{phys.name} lacks timeline semaphores (Vulkan 1.2 core); vkdispatch needs them")
        self.buffer_device_address = phys.features.get("bufferDeviceAddress", False)
        self.family = phys.compute_family
        self.copy_with_shader = copies.shader_copies_pay(phys)
        self._create(queue_count)
        try:
            self.queues = [Queue(self, self._get_queue(i), first_queue + i)
                           for i in range(queue_count)]
            self.allocator = Allocator(self)
            self.pipeline_cache = self._create_pipeline_cache()
        except BaseException:
            self.destroy()
            raise
        # barriers[src stages, dst stages]: all writes of src visible to dst
        both = COMPUTE | TRANSFER
        self.barriers = {(src, dst): memory_barrier(_accesses(_WRITES, src), _accesses(_READS, dst))
                         for src in (COMPUTE, TRANSFER, both) for dst in (COMPUTE, TRANSFER, HOST)}

    def _create(self, queue_count: int) -> None:
        phys = self.phys
        features = new("VkPhysicalDeviceFeatures2", sType=vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
        for name in CORE_FEATURES:
            setattr(features.features, name, int(phys.features.get(name, False)))
        structs = [features]
        for sname, stype, core, ext, fields in FEATURE_STRUCTS:
            if phys.has(core, ext):
                s = new(sname, sType=stype)
                for f in fields:
                    setattr(s, f, int(phys.features.get(f, False)))
                structs.append(s)
        for a, b in zip(structs, structs[1:]):
            a.pNext = ffi.cast("void *", b)
        extensions = [e for e in OPTIONAL_EXTENSIONS if e in phys.extensions]
        ext_arr, keep = cstrings(extensions)
        priorities = ffi.new("float[]", [1.0] * queue_count)
        qinfo = new("VkDeviceQueueCreateInfo", sType=vk.VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                    queueFamilyIndex=self.family, queueCount=queue_count,
                    pQueuePriorities=priorities)
        info = new("VkDeviceCreateInfo", sType=vk.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                   pNext=features, queueCreateInfoCount=1, pQueueCreateInfos=qinfo,
                   enabledExtensionCount=len(extensions), ppEnabledExtensionNames=ext_arr)
        handle = out("VkDevice")
        check(lib.vkCreateDevice(phys.handle, info, ffi.NULL, handle), "vkCreateDevice",
              phys.name)
        self.handle = handle[0]
        log_debug("vulkan: created device %s with extensions %s", phys.name, extensions)

    def _get_queue(self, i: int):
        q = out("VkQueue")
        lib.vkGetDeviceQueue(self.handle, self.family, i, q)
        return q[0]

    # ------------------------------------------------------------------ pipeline cache
    def _cache_key(self) -> str:
        p = self.phys
        return digest("vkpipeline", p.vendor_id, p.device_id, p.driver_version,
                      p.pipeline_cache_uuid)

    def _create_pipeline_cache(self):
        data = _pipeline_disk_cache.get(self._cache_key()) or b""
        blob = ffi.from_buffer(data) if data else ffi.NULL
        info = new("VkPipelineCacheCreateInfo", sType=vk.VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                   initialDataSize=len(data), pInitialData=blob)
        cache = out("VkPipelineCache")
        r = lib.vkCreatePipelineCache(self.handle, info, ffi.NULL, cache)
        if r < 0 and data:   # a stale blob the driver refuses: start empty
            info.initialDataSize, info.pInitialData = 0, ffi.NULL
            r = lib.vkCreatePipelineCache(self.handle, info, ffi.NULL, cache)
        check(r, "vkCreatePipelineCache")
        self._cache_loaded = len(data)
        return cache[0]

    def _save_pipeline_cache(self) -> None:
        size = ffi.new("size_t *")
        if lib.vkGetPipelineCacheData(self.handle, self.pipeline_cache, size, ffi.NULL) < 0:
            return
        if size[0] == 0 or size[0] == self._cache_loaded:
            return
        buf = ffi.new("char[]", size[0])
        if lib.vkGetPipelineCacheData(self.handle, self.pipeline_cache, size, buf) >= 0:
            _pipeline_disk_cache.put(self._cache_key(), ffi.buffer(buf, size[0])[:])

    # ------------------------------------------------------------------ deferred frees
    def defer(self, release) -> None:
        """Run `release()` once the work submitted so far on every queue of this device
        has finished (now, if it has): freeing needs no wait on the caller's side."""
        marks = [q.submitted for q in self.queues]
        if all(q.is_done(m) for q, m in zip(self.queues, marks)):
            release()
        else:
            with self._defer_lock:
                self._deferred.append((marks, release))

    def collect(self) -> None:
        """Run the deferred releases whose work has finished."""
        if not self._deferred:
            return
        done = [q.completed() for q in self.queues]
        with self._defer_lock:
            ready = [r for m, r in self._deferred if all(a <= b for a, b in zip(m, done))]
            self._deferred = [(m, r) for m, r in self._deferred
                              if not all(a <= b for a, b in zip(m, done))]
        for release in ready:
            release()

    def wait_queues(self) -> None:
        """Wait for the work submitted so far on every queue of this device."""
        for q in self.queues:
            q.wait(q.submitted)

    # ------------------------------------------------------------------ teardown
    def wait_idle(self) -> None:
        if self.handle is not None:
            lib.vkDeviceWaitIdle(self.handle)

    def destroy(self) -> None:
        """Idempotent. Everything made on this device must be released first."""
        if self.handle is None:
            return
        lib.vkDeviceWaitIdle(self.handle)
        deferred, self._deferred = self._deferred, []
        for _, release in deferred:
            release()
        for q in self.queues:
            q.destroy()
        allocator = getattr(self, "allocator", None)
        if allocator is not None:
            allocator.destroy()
        cache = getattr(self, "pipeline_cache", None)
        if cache is not None:
            try:
                self._save_pipeline_cache()
            finally:
                lib.vkDestroyPipelineCache(self.handle, cache, ffi.NULL)
            self.pipeline_cache = None
        lib.vkDestroyDevice(self.handle, ffi.NULL)
        self.handle = None
