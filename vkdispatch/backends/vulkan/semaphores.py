"""Timeline semaphores other APIs import (VK_KHR_external_semaphore_fd, OPAQUE_FD): the
hand-off that orders a CUDA stream's work with a queue's without blocking the host."""
from __future__ import annotations

from ._vk import check, device_function, ffi, lib, new, out, vk
from .memory import next_serial

OPAQUE_FD = vk.VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT


class SemaphoreHandle:
    """An exportable timeline semaphore on one device; `ptr` is a VkSemaphore[1] for
    submit infos."""

    __slots__ = ("semaphore", "ptr", "device", "serial", "alive")

    def __repr__(self):
        state = "" if self.alive else ", freed"
        return f"<vulkan timeline semaphore #{self.serial}{state}>"


def exportable(phys) -> bool:
    """Whether `phys` exports timeline semaphores as OPAQUE_FD."""
    return ("VK_KHR_external_semaphore_fd" in phys.extensions
            and bool(phys.external_semaphore_features(OPAQUE_FD)
                     & vk.VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT))


def create_timeline(device, exportable: bool = True) -> SemaphoreHandle:
    """A timeline semaphore at value 0, exportable as OPAQUE_FD where asked."""
    export = new("VkExportSemaphoreCreateInfo",
                 sType=vk.VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO, handleTypes=OPAQUE_FD)
    timeline = new("VkSemaphoreTypeCreateInfo",
                   sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                   pNext=export if exportable else ffi.NULL,
                   semaphoreType=vk.VK_SEMAPHORE_TYPE_TIMELINE, initialValue=0)
    info = new("VkSemaphoreCreateInfo", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
               pNext=timeline)
    sem = out("VkSemaphore")
    check(lib.vkCreateSemaphore(device.handle, info, ffi.NULL, sem), "vkCreateSemaphore",
          "an exportable timeline semaphore" if exportable else "a timeline semaphore")
    h = SemaphoreHandle()
    h.semaphore, h.ptr, h.device = sem[0], ffi.new("VkSemaphore[1]", [sem[0]]), device
    h.serial, h.alive = next_serial(), True
    return h


def export_fd(h: SemaphoreHandle) -> int:
    """A new OPAQUE_FD of `h`; the caller owns it."""
    device = h.device
    fn = device_function(device, "vkGetSemaphoreFdKHR")
    info = new("VkSemaphoreGetFdInfoKHR", sType=vk.VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
               semaphore=h.semaphore, handleType=OPAQUE_FD)
    fd = out("int")
    check(fn(device.handle, info, fd), "vkGetSemaphoreFdKHR")
    return int(fd[0])


def destroy(h: SemaphoreHandle) -> None:
    """Free the semaphore (the caller knows no submitted work uses it); idempotent."""
    if h.semaphore is None:
        return
    if h.device.handle is not None:
        lib.vkDestroySemaphore(h.device.handle, h.semaphore, ffi.NULL)
    h.semaphore = None
    h.alive = False
