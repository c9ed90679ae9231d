"""A CUDA runtime context stood in for by a second Vulkan context, for cuda_peer's
bookkeeping tests here (no GPU): memory is imported and shared for real, device
addresses are made up, streams only record their calls."""
import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt
from vkdispatch.interop import _capsule, cuda_peer
from vkdispatch.interop.dlpack import row_major


class FakeCuda:
    """The part of a CUDA RuntimeContext a CudaPeer uses, over a Vulkan context: buffer
    `h` sits at the made-up address h.serial << 40; streams only record their calls."""

    capabilities = rt.Capabilities(memory_fd_import=True)

    def __init__(self):
        self.vk = rt.load_runtime("vulkan").create_context([0], [1])
        self.freed, self.calls = [], []

    def import_memory_fd(self, queue, fd, allocation_size, nbytes, memory_type_index=0,
                         offset=0, dedicated=True):
        return self.vk.import_memory_fd(queue, fd, allocation_size, nbytes, memory_type_index,
                                        offset, dedicated)

    def device_pointer(self, handle):
        h, offset = (handle[0], handle[1]) if isinstance(handle, tuple) else (handle, 0)
        return (h.serial << 40) + offset

    def buffer_free(self, handle):
        self.freed.append(handle)
        self.vk.buffer_free(handle)

    def read(self, view, dtype):
        h, offset, nbytes = view
        return np.frombuffer(self.vk.buffer_read(h, nbytes, offset), dtype)

    def stream_handle(self, queue):
        return 77

    def order_stream_after(self, stream, queue=0):
        self.calls.append(("order_stream_after", stream))

    def wait_for_stream(self, stream, queue=0):
        self.calls.append(("wait_for_stream", stream))

    def queue_wait_idle(self, queue=None):
        self.vk.queue_wait_idle(queue)

    def destroy(self):
        self.vk.destroy()


class Wrapped:
    """A wrapped device pointer (what wrap_device_pointer returns)."""

    def __init__(self, ptr, nbytes, owner):
        self.ptr, self.nbytes, self.owner = ptr, nbytes, owner


class FakeCudaAllocations(FakeCuda):
    """FakeCuda with CUDA memory that exports (shareable_allocations): `alloc` gives
    memory in an allocation (an exportable Vulkan block of this context, at the made-up
    address block id << 40); an address in no allocation does not export."""

    capabilities = rt.Capabilities(memory_fd_import=True, shareable_allocations=True)

    def __init__(self):
        super().__init__()
        self.allocations = {}    # memory_id -> a Vulkan buffer handle in that block
        self.wrapped = []        # wrapped pointers not freed yet

    def alloc(self, nbytes: int) -> tuple:
        """(Vulkan handle, fake CUDA address) of `nbytes` of exportable memory."""
        h = self.vk.buffer_alloc(0, nbytes)
        info = self.vk.memory_export_info(h)
        self.allocations.setdefault(info.memory_id, h)
        return h, (info.memory_id << 40) + info.offset

    def wrap_device_pointer(self, ptr, nbytes, owner, queue=0):
        w = Wrapped(ptr, nbytes, owner)
        self.wrapped.append(w)
        return w

    def shareable_info(self, w):
        memory_id = w.ptr >> 40
        h = self.allocations.get(memory_id)
        if h is None:
            raise vd.ExternalMemoryError(f"CUDA memory at 0x{w.ptr:x} was not made by "
                                         f"cuMemCreate (fake)")
        info = self.vk.memory_export_info(h)
        return rt.MemoryExport(memory_id, info.allocation_size, w.ptr - (memory_id << 40), 0,
                               False)

    def export_shareable_fd(self, w):
        return self.vk.export_memory_fd(self.allocations[w.ptr >> 40])

    def buffer_free(self, handle):
        if isinstance(handle, Wrapped):
            self.wrapped.remove(handle)
            self.freed.append(handle)
            return
        super().buffer_free(handle)


class Producer:
    """A DLPack producer of float32 CUDA memory at a (fake) address; records the
    streams it is handed over on."""

    def __init__(self, ptr: int, shape: tuple, read_only: bool = False):
        self.ptr, self.shape, self.read_only = ptr, shape, read_only
        self.streams = []

    def __dlpack_device__(self):
        return (2, 0)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        self.streams.append(stream)
        versioned = max_version is not None and max_version[0] >= 1
        flags = _capsule.READ_ONLY if self.read_only else 0
        return _capsule.make_capsule(self, self.ptr, (2, 0), self.shape, row_major(self.shape),
                                     vd.float32.dlpack, flags, versioned)


def open_peer(fake_type):
    """Yields a CudaPeer of the Vulkan context over a `fake_type()` (a fixture's body)."""
    vd.initialize(backend="vulkan")
    try:
        ctx = vd.get_context()
    except vd.BackendUnavailableError as exc:
        vd.shutdown()
        pytest.skip(str(exc))
    if not ctx.runtime_context.capabilities.device_memory_export:
        vd.shutdown()
        pytest.skip(f"{ctx.devices[0].name} does not export device memory")
    p = cuda_peer.CudaPeer(ctx, fake_type(), 0)
    yield p
    vd.shutdown()
    assert p.closed
