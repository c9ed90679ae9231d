"""Exception types shared by every layer (a leaf module: imports nothing of vkdispatch)."""


class VkDispatchError(RuntimeError):
    """Base class of every vkdispatch runtime error."""


class BackendUnavailableError(VkDispatchError, ImportError):
    """No runtime backend could be loaded (or the one asked for could not). Also an
    ImportError, as in vkdispatch 0.1, so `except ImportError:` around a backend choice
    still catches it."""


class DeviceError(VkDispatchError):
    """A device, driver or API call failed; the message names the call."""


class OutOfMemoryError(DeviceError, MemoryError):
    """A device or host allocation failed. The context stays usable."""


class DeviceLimitError(VkDispatchError, ValueError):
    """A launch or resource exceeds a device limit; the message names the limit."""


class UnsupportedFeatureError(VkDispatchError):
    """The kernel or call needs a device feature the device lacks."""


class UseAfterFreeError(VkDispatchError, ValueError, TypeError):
    """A freed or destroyed object was used: a buffer, image, sampler, program, command
    list, or the context itself (ValueError and TypeError: what backends raised before)."""


class OutOfBoundsError(VkDispatchError, ValueError, IndexError):
    """An offset, size or index outside what it addresses: bytes past a buffer's end,
    a queue, layer or dispatch index that does not exist."""


class InvalidArgumentError(VkDispatchError, ValueError):
    """An argument no backend accepts: an unknown memory kind or sampler mode, a
    negative size, overlapping copy ranges, the wrong number of bindings."""


class ExternalMemoryError(InvalidArgumentError):
    """Memory cannot pass between two APIs without a copy: it was not made exportable,
    or the importing driver refused it. The message names what failed and why."""


class ForkedProcessError(VkDispatchError):
    """vkdispatch was used in a fork()ed child of a process that had opened a context."""


class CodegenError(VkDispatchError):
    """A shader could not be traced into the IR (names the user's file:line)."""


def number_lines(source: str) -> str:
    lines = source.splitlines()
    width = len(str(len(lines)))
    return "\n".join(f"{i + 1:>{width}} | {line}" for i, line in enumerate(lines))


class ShaderCompileError(VkDispatchError):
    """Generated source failed to compile; carries the source and the compiler's log."""

    def __init__(self, compiler: str, source: str, log: str):
        self.compiler = compiler
        self.source = source
        self.log = log.strip()
        super().__init__(
            f"{compiler} failed to compile the generated kernel:\n{self.log}\n\n"
            f"--- generated source ---\n{number_lines(source)}"
        )
