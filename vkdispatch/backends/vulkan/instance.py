"""The VkInstance: API version, portability enumeration (MoltenVK), and in debug mode
the validation layer with its messages routed to vkdispatch's logger."""
from __future__ import annotations

from ...base.errors import BackendUnavailableError
from ...base.log import log_debug, log_error, log_warning
from ._vk import check, cstrings, enumerate_, ffi, lib, make_version, new, out, string, vk
from .physical import PhysicalDevice

VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation"
_MAX_API = (1, 3)


def _severity_logger(severity: int):
    if severity & vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT:
        return log_error
    if severity & vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT:
        return log_warning
    return log_debug     # info messages (the loader's device sorting...) are chatty


def _on_message(severity, types, data, user):
    try:
        text = ffi.string(data.pMessage).decode(errors="replace") if data.pMessage else ""
        _severity_logger(severity)("vulkan: %s", text)
    except Exception:  # never let an exception cross into the driver
        pass
    return 0


_callback = None   # made on first use: a libffi closure, which hardened systems may refuse


def _message_callback():
    global _callback
    if _callback is None:
        _callback = ffi.callback(
            "VkBool32(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,"
            " const VkDebugUtilsMessengerCallbackDataEXT *, void *)", _on_message)
    return _callback


def instance_layers() -> set:
    """Names of the instance layers installed."""
    return {string(l.layerName) for l in enumerate_(
        lib.vkEnumerateInstanceLayerProperties, "vkEnumerateInstanceLayerProperties",
        "VkLayerProperties")}


class Instance:
    """A VkInstance and its physical devices (in the loader's order)."""

    def __init__(self, debug: bool = False):
        self.debug = debug
        self.handle = None
        self._messenger = None
        loader = out("uint32_t")
        try:
            check(lib.vkEnumerateInstanceVersion(loader), "vkEnumerateInstanceVersion")
            loader_version = ((loader[0] >> 22) & 0x7F, (loader[0] >> 12) & 0x3FF)
        except AttributeError:  # a Vulkan 1.0 loader
            loader_version = (1, 0)
        if loader_version < (1, 1):
            raise BackendUnavailableError(
                f"the Vulkan loader supports only Vulkan {loader_version[0]}.{loader_version[1]}; "
                "vkdispatch needs 1.1 or newer (update the Vulkan loader / driver)")
        self.api_version = min(loader_version, _MAX_API)

        available = {string(e.extensionName) for e in enumerate_(
            lib.vkEnumerateInstanceExtensionProperties, "vkEnumerateInstanceExtensionProperties",
            "VkExtensionProperties", ffi.NULL)}
        layers_available = instance_layers()
        extensions, layers, flags = [], [], 0
        if "VK_KHR_portability_enumeration" in available:   # lists MoltenVK's devices
            extensions.append("VK_KHR_portability_enumeration")
            flags |= vk.VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR
        use_messenger = debug and "VK_EXT_debug_utils" in available
        if use_messenger:
            extensions.append("VK_EXT_debug_utils")
        if debug:
            if VALIDATION_LAYER in layers_available:
                layers.append(VALIDATION_LAYER)
            else:
                log_warning("debug=True but %s is not installed; running without validation "
                            "(install the Vulkan SDK or your distribution's vulkan-validationlayers)",
                            VALIDATION_LAYER)

        app_name = ffi.new("char[]", b"vkdispatch")
        app = new("VkApplicationInfo", sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO,
                  pApplicationName=app_name, pEngineName=app_name,
                  apiVersion=make_version(*self.api_version))
        ext_arr, keep_e = cstrings(extensions)
        layer_arr, keep_l = cstrings(layers)
        info = new("VkInstanceCreateInfo", sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                   flags=flags, pApplicationInfo=app,
                   enabledExtensionCount=len(extensions), ppEnabledExtensionNames=ext_arr,
                   enabledLayerCount=len(layers), ppEnabledLayerNames=layer_arr)
        handle = out("VkInstance")
        r = lib.vkCreateInstance(info, ffi.NULL, handle)
        if r < 0:
            raise BackendUnavailableError(f"vkCreateInstance failed with {r} "
                                          "(is a Vulkan driver installed?)")
        self.handle = handle[0]
        if use_messenger:
            self._create_messenger()
        handles = enumerate_(lib.vkEnumeratePhysicalDevices, "vkEnumeratePhysicalDevices",
                             "VkPhysicalDevice", self.handle)
        self.physical_devices = [PhysicalDevice(h, i) for i, h in enumerate(handles)]

    def _create_messenger(self):
        create = ffi.cast("PFN_vkCreateDebugUtilsMessengerEXT",
                          lib.vkGetInstanceProcAddr(self.handle, b"vkCreateDebugUtilsMessengerEXT"))
        if create == ffi.NULL:
            return
        info = new("VkDebugUtilsMessengerCreateInfoEXT",
                   sType=vk.VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
                   messageSeverity=(vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                                    | vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT
                                    | vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT),
                   messageType=(vk.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                                | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                                | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT),
                   pfnUserCallback=_message_callback())
        messenger = out("VkDebugUtilsMessengerEXT")
        check(create(self.handle, info, ffi.NULL, messenger), "vkCreateDebugUtilsMessengerEXT")
        self._messenger = messenger[0]

    def destroy(self) -> None:
        """Idempotent; every device made from this instance must be destroyed first."""
        if self.handle is None:
            return
        if self._messenger is not None:
            destroy = ffi.cast("PFN_vkDestroyDebugUtilsMessengerEXT", lib.vkGetInstanceProcAddr(
                self.handle, b"vkDestroyDebugUtilsMessengerEXT"))
            if destroy != ffi.NULL:
                destroy(self.handle, self._messenger, ffi.NULL)
            self._messenger = None
        lib.vkDestroyInstance(self.handle, ffi.NULL)
        self.handle = None
