"""The Runtime interface every backend implements, and the registry that finds them.

Everything above this module is backend-neutral: it talks to a `Runtime`, the
`RuntimeContext` it creates, and the opaque handles those return. Backends are
imported lazily by name, so `import vkdispatch` needs no GPU package.

Lifetimes: a `RuntimeContext` owns every allocation, program and command list made
from it; `destroy()` on any of them is idempotent, and `RuntimeContext.destroy()`
releases whatever is still alive.
"""
from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence

from ..base.abi import ProgramInfo, ProgramOptions
from ..base.errors import BackendUnavailableError, UnsupportedFeatureError, UseAfterFreeError
from .common import check_queue, program_options

# ----------------------------------------------------------------------------- devices

DEVICE_TYPES = ("discrete", "integrated", "virtual", "cpu", "other")


@dataclass(frozen=True)
class DeviceInfo:
    """What a backend reports of one device; the fields codegen and launch need are typed,
    the rest is free-form `extra` (shown by `get_info_string`)."""

    backend: str                 # "vulkan", "cuda", "opencl", "dummy"
    index: int                   # index in this backend's device list
    name: str
    device_type: str             # one of DEVICE_TYPES
    version: str                 # "Vulkan 1.3.230", "compute capability 9.0", "OpenCL 3.0"
    driver: str = ""
    vendor: str = ""
    float64: bool = True
    float16: bool = True
    int64: bool = True
    int16: bool = True
    int8: bool = True
    float32_atomic_add: bool = False
    float64_atomic_add: bool = False
    int64_atomics: bool = False
    subgroup_size: int = 32
    subgroup_ops: frozenset = frozenset()   # subset of {"basic","arithmetic","ballot","shuffle","vote"}
    max_push_constant_size: int = 128
    max_shared_memory: int = 32768
    max_workgroup_size: tuple = (1024, 1024, 64)
    max_workgroup_invocations: int = 1024
    max_workgroup_count: tuple = (2 ** 31 - 1, 65535, 65535)
    max_storage_buffer_range: int = 2 ** 32 - 1
    max_allocation_size: int = 2 ** 40
    uniform_buffer_alignment: int = 256
    images: bool = True
    memory_heaps: tuple = ()      # ((size_bytes, "device-local"|"host"), ...)
    queue_families: tuple = ()    # ((queue_count, "compute|transfer|..."), ...)
    compute_units: int = 0
    # Loop iterations one invocation may run in total, summed over every loop of the
    # kernel (sequential or nested); None: no such limit is known. lavapipe/llvmpipe
    # (Mesa's CPU Vulkan driver) stops looping after 65,535 iterations and silently
    # skips the rest (nested 2 x 40,000 runs 65,533; two loops of 40,000 run 65,534 in
    # all). Codegen can compare a kernel's static trip count with it.
    max_loop_iterations: Optional[int] = None
    # 16 bytes naming the physical device across APIs (Vulkan's deviceUUID, CUDA's
    # cuDeviceGetUuid): equal for one GPU seen by two runtimes; b"": not reported
    uuid: bytes = b""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def get_info_string(self, verbose: bool = False) -> str:
        gib = 1024 ** 3
        lines = [
            f"Device {self.index}: {self.name}",
            f"    backend: {self.backend}",
            f"    type: {self.device_type}",
            f"    version: {self.version}",
        ]
        if self.vendor:
            lines.append(f"    vendor: {self.vendor}")
        if self.driver:
            lines.append(f"    driver: {self.driver}")
        feats = [n for n in ("float64", "float16", "int64", "int16", "int8") if getattr(self, n)]
        lines.append(f"    types: {', '.join(feats) or 'none beyond 32-bit'}")
        atomics = [n for n, ok in (("float32 add", self.float32_atomic_add),
                                   ("float64 add", self.float64_atomic_add),
                                   ("int64", self.int64_atomics)) if ok]
        lines.append(f"    atomics: {', '.join(atomics) or '32-bit integer only'}")
        lines.append(f"    subgroup size: {self.subgroup_size}"
                     f" (ops: {', '.join(sorted(self.subgroup_ops)) or 'none'})")
        if self.compute_units:
            lines.append(f"    compute units: {self.compute_units}")
        lines.append(f"    push constants: {self.max_push_constant_size} bytes")
        lines.append(f"    shared memory: {self.max_shared_memory} bytes")
        lines.append(f"    max workgroup size: {self.max_workgroup_size}"
                     f" ({self.max_workgroup_invocations} invocations)")
        lines.append(f"    max workgroup count: {self.max_workgroup_count}")
        if self.max_loop_iterations is not None:
            lines.append(f"    max loop iterations: {self.max_loop_iterations} per invocation, "
                         f"all loops together (later iterations are skipped)")
        for size, kind in self.memory_heaps:
            lines.append(f"    memory heap: {size / gib:.2f} GiB {kind}")
        for count, flags in self.queue_families:
            lines.append(f"    queue family: {count} x {flags}")
        if verbose:
            if self.uuid:
                lines.append(f"    uuid: {self.uuid.hex()}")
            for k, v in sorted(self.extra.items()):
                lines.append(f"    {k}: {v}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- capabilities

# DLPack device types (dlpack.h DLDeviceType) of a runtime's buffers
DLPACK_CPU, DLPACK_CUDA, DLPACK_OPENCL, DLPACK_VULKAN = 1, 2, 4, 7


@dataclass(frozen=True)
class Capabilities:
    """Backend-only features of a RuntimeContext. Callers check a flag, never a backend
    name; a method whose flag is False raises UnsupportedFeatureError naming it.

    dlpack_device_type: the DLPack device of the context's buffers (None: no memory).
    cuda_stream: `stream_handle(queue)`, the CUstream a queue's work goes to.
    external_streams: `set_external_stream`, `wait_for_stream`, `order_stream_after`
        (another library's streams).
    cuda_array_interface: `device_pointer(handle)`, a CUDA device address of a buffer
        (what __cuda_array_interface__ exports).
    external_memory: `wrap_device_pointer`, buffers over another library's allocation.
    graph_capture: `begin_capture` / `end_capture`, work recorded into a replayable graph.
    memory_fd_export: `buffer_alloc_exportable`, `memory_export_info`, `export_memory_fd`
        (buffers whose memory other APIs import from an OPAQUE_FD file descriptor).
    device_memory_export: every `buffer_alloc(memory="device")` buffer's memory exports
        that way too (it comes from exportable blocks).
    memory_fd_import: `import_memory_fd` (a buffer over memory exported that way).
    semaphore_fd_export: `semaphore_create_exportable`, `export_semaphore_fd` (timeline
        semaphores other APIs import from an OPAQUE_FD file descriptor), and
        `queue_signal_semaphore` / `queue_wait_semaphore` on them.
    semaphore_fd_import: `import_semaphore_fd` (a timeline semaphore exported that way),
        and `queue_signal_semaphore` / `queue_wait_semaphore` on it.
    foreign_memory_import: `import_foreign_memory_fd`, `buffer_in_foreign_memory`,
        `foreign_memory_free`: memory another API made and exported as an OPAQUE_FD
        (CUDA's cuMemExportToShareableHandle) imported whole, once, with buffers bound at
        offsets in it.
    shareable_allocations: `buffer_alloc_shareable` (a buffer in an allocation of its
        own that exports), and for any buffer handle, wrapped pointers included,
        `shareable_info` / `export_shareable_fd`: where it lies in an allocation made
        exportable (CUDA: cuMemCreate with POSIX file-descriptor handles), and an
        OPAQUE_FD of that allocation.
    native_api: `native_queue`, `native_memory`: the runtime's own queue and memory objects,
        for another library to enqueue work in order with a queue's (VkFFT through
        pyvkfft). "cuda": a CUstream int and device addresses; "opencl": a
        pyopencl.CommandQueue and pyopencl.Buffer; None: not available.
    mipmapped_images: `image_alloc(levels > 1)` and per-level image copies.
    layer_sampling: sampling an image array through a normalized sampler reads the layer
        the coordinate names (False where a driver scales it too: the dispatch is refused).
    """

    dlpack_device_type: Optional[int] = None
    cuda_stream: bool = False
    external_streams: bool = False
    cuda_array_interface: bool = False
    external_memory: bool = False
    graph_capture: bool = False
    memory_fd_export: bool = False
    device_memory_export: bool = False
    memory_fd_import: bool = False
    semaphore_fd_export: bool = False
    semaphore_fd_import: bool = False
    foreign_memory_import: bool = False
    shareable_allocations: bool = False
    native_api: Optional[str] = None
    mipmapped_images: bool = False
    layer_sampling: bool = True


class MemoryExport(NamedTuple):
    """Where an exportable buffer lies: `memory_id` names its device memory object for
    this context's life (importers cache their import under it), `allocation_size`
    and `memory_type_index` describe that object, `offset` is the buffer's start in it,
    `dedicated` says it was a dedicated allocation (importers must say so too)."""

    memory_id: int
    allocation_size: int
    offset: int
    memory_type_index: int
    dedicated: bool


# ----------------------------------------------------------------------------- runtime objects

class Signal(abc.ABC):
    """Completion of one submission."""

    @abc.abstractmethod
    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until done (True) or until `timeout` seconds pass (False)."""

    @abc.abstractmethod
    def done(self) -> bool:
        """True once the work has finished, without blocking."""


class Program(abc.ABC):
    """A compiled kernel bound to one context (all its devices)."""

    info: ProgramInfo

    @abc.abstractmethod
    def destroy(self) -> None: ...


class CommandList(abc.ABC):
    """Recorded work for one queue, replayable. Uniform data of a recorded dispatch
    can be changed between submissions without re-recording (`set_uniform`)."""

    @abc.abstractmethod
    def dispatch(self, program: Program, groups: tuple, bindings: Sequence,
                 uniform: bytes = b"") -> int:
        """Record a launch of `groups` workgroups; `bindings` are the buffer/image handles
        (for this list's queue) in `program.info.bindings` order. Returns the index of
        the dispatch, for `set_uniform`. The runtime inserts the barriers that make
        later commands see earlier writes."""

    @abc.abstractmethod
    def copy(self, src, dst, nbytes: int, src_offset: int = 0, dst_offset: int = 0) -> None:
        """Record a buffer-to-buffer copy."""

    @abc.abstractmethod
    def set_uniform(self, dispatch_index: int, uniform: bytes) -> None: ...

    @abc.abstractmethod
    def submit(self, instance_uniforms: Optional[Sequence[Sequence[bytes]]] = None) -> Signal:
        """Run the list once, or once per entry of `instance_uniforms` (each entry: the
        uniform bytes of every dispatch, in order; a later plain submit runs the recorded
        uniforms again). Returns without waiting. Uniform bytes are none (all zero) or
        cover the kernel's fields, else InvalidArgumentError."""

    @abc.abstractmethod
    def timestamps(self) -> list:
        """Seconds each dispatch of the last submit ran on the device, as floats in
        dispatch order (one per `dispatch` call; copies are not timed; an empty dispatch
        reads 0.0; after an instanced submit, the last instance's). Waits for that
        submit; [] before the first. Raises VkDispatchError unless the list was made
        with `command_list(queue, timestamps=True)`."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget every recorded command (after in-flight submissions finish). The list
        keeps its queue and its `timestamps` setting."""

    @abc.abstractmethod
    def destroy(self) -> None: ...


class CapturedGraph(abc.ABC):
    """Work captured from a queue (`RuntimeContext.end_capture`), replayed on that queue."""

    @abc.abstractmethod
    def launch(self) -> Signal: ...

    @abc.abstractmethod
    def destroy(self) -> None: ...


class RuntimeContext(abc.ABC):
    """Devices and queues in use. Queues are numbered globally 0..queue_count-1 across
    devices; `queue_device[q]` gives the device index in `devices` of queue q.

    The same misuse raises the same type on every backend (base/errors.py): a freed
    handle, a destroyed context or list UseAfterFreeError; a byte range past a buffer's
    end or a queue that does not exist OutOfBoundsError; an unknown memory kind or
    sampler mode InvalidArgumentError; an allocation over the device's limit
    OutOfMemoryError (the context stays usable)."""

    devices: list          # list[DeviceInfo]
    queue_device: list     # list[int]
    capabilities = Capabilities()
    honoured_options: tuple = ()   # the ProgramOptions fields create_program applies
    destroyed = False              # set by destroy(): every later call raises UseAfterFreeError

    def _backend_name(self) -> str:
        return self.devices[0].backend if self.devices else type(self).__name__

    def _check_alive(self) -> None:
        if self.destroyed:
            raise UseAfterFreeError(f"this {self._backend_name()} context was destroyed")

    def _check_queue(self, queue) -> int:
        """`queue` as an index into this context's queues (the context alive)."""
        self._check_alive()
        return check_queue(queue, len(self.queue_device))

    @property
    def queue_count(self) -> int:
        return len(self.queue_device)

    # memory: handles are per queue (vkdispatch buffers exist on every queue)
    @abc.abstractmethod
    def buffer_alloc(self, queue: int, nbytes: int, memory: str = "device"):
        """memory: "device" (device-local), "host" (host-visible) or "shared"
        (device-local and host-visible where the device has it). Raises
        OutOfMemoryError, leaving the context usable."""

    @abc.abstractmethod
    def buffer_free(self, handle) -> None: ...

    @abc.abstractmethod
    def buffer_write(self, handle, data, offset: int = 0) -> None:
        """Copy host bytes (a buffer-protocol object) in; synchronous for the caller's data."""

    @abc.abstractmethod
    def buffer_read(self, handle, nbytes: int, offset: int = 0, out=None) -> memoryview:
        """Copy device bytes out, after all work submitted so far on the handle's queue."""

    # images (backends without image support raise UnsupportedFeatureError)
    def image_alloc(self, queue: int, extent: tuple, layers: int, dtype: str, channels: int,
                    dim: Optional[int] = None, arrayed: Optional[bool] = None):
        """A `dim`-dimensional image (1, 2 or 3; None: guessed from `extent`) of `extent`
        (w, h, d: unused axes are 1), `layers` array layers, texels of `channels`
        components of scalar type `dtype` (a dtype name). `arrayed` (default: layers > 1)
        makes its view an array that shaders index by layer (sampler2DArray, a layered
        texture, image2d_array_t), even of one layer. `levels` > 1: mip levels (each
        half the one above, to 1 texel), written and read one at a time; a backend
        without them raises UnsupportedFeatureError."""
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no images")

    def image_free(self, handle) -> None:
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no images")

    def image_write(self, handle, data, layer: int = 0, level: int = 0) -> None:
        """Copy one layer of one mip level in (exactly its packed bytes)."""
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no images")

    def image_read(self, handle, out, layer: int = 0, level: int = 0) -> None:
        """Fill `out` (a writable buffer of one layer's packed texels of mip `level`)."""
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no images")

    def sampler_create(self, filter: str = "linear", address_mode: str = "clamp_to_edge",
                       normalized: bool = True, **details):
        """A sampler as `base.sampling.SamplerDesc(filter, address_mode, normalized,
        **details)` describes (details: mag_filter, mip_filter, border_color, lod_bias,
        min_lod, max_lod); a mode the backend lacks raises UnsupportedFeatureError
        naming it."""
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no samplers")

    def sampler_free(self, handle) -> None:
        raise UnsupportedFeatureError(f"the {type(self).__name__} backend has no samplers")

    def create_program(self, source: str, info: ProgramInfo,
                       options: Optional[ProgramOptions] = None) -> Program:
        """Compile (through the backend's cached compiler) and prepare `source`.
        `options` a backend cannot honour raise UnsupportedFeatureError naming them."""
        self._check_alive()
        options = program_options(options, self._backend_name(), self.honoured_options)
        program = self._create_program(source, info, options)
        self._programs.add(program)     # destroy() releases what is still alive
        return program

    @abc.abstractmethod
    def _create_program(self, source, info: ProgramInfo, options: ProgramOptions) -> Program:
        """create_program once the context and `options` are checked."""

    def command_list(self, queue: int, timestamps: bool = False,
                     hazard_tracking: bool = False, **backend_options) -> CommandList:
        """An empty command list for `queue`. `timestamps`: time every dispatch on the
        device (`CommandList.timestamps()`); this may cost some launch overhead, so it
        is off by default. `hazard_tracking`: the runtime may drop the barrier between
        commands whose bindings don't conflict (Binding.writable says what a kernel
        writes); only for kernels that touch memory through their bindings alone.
        `backend_options`: a backend's own (documented on its `_command_list`)."""
        queue = self._check_queue(queue)
        cl = self._command_list(queue, timestamps, hazard_tracking, **backend_options)
        self._lists.add(cl)             # destroy() releases what is still alive
        return cl

    @abc.abstractmethod
    def _command_list(self, queue: int, timestamps: bool, hazard_tracking: bool,
                      **backend_options) -> CommandList:
        """command_list once `queue` is checked."""

    @abc.abstractmethod
    def queue_wait_idle(self, queue: Optional[int] = None) -> None: ...

    def queue_capturing(self, queue: int) -> bool:
        """True while `queue`'s work is being captured into a graph (CUDA stream
        capture): callers must then avoid anything that synchronizes with the host."""
        return False

    # backend-only features, each behind a Capabilities flag
    def _lacks(self, capability: str, what: str):
        raise UnsupportedFeatureError(f"{what} needs capabilities.{capability}, which the "
                                      f"{self._backend_name()} runtime lacks")

    def stream_handle(self, queue: int) -> int:
        """The CUstream (an int) `queue`'s work goes to. [cuda_stream]"""
        self._lacks("cuda_stream", "stream_handle")

    def set_external_stream(self, queue: int, stream_handle: Optional[int]) -> None:
        """Send `queue`'s work to another library's stream (None: back to its own),
        ordered after the work already on the queue. [external_streams]"""
        self._lacks("external_streams", "set_external_stream")

    def wait_for_stream(self, stream_handle: int, queue: int = 0) -> None:
        """Order `queue`'s later work after what is on another library's stream, without
        blocking the host. [external_streams]"""
        self._lacks("external_streams", "wait_for_stream")

    def order_stream_after(self, stream_handle: int, queue: int = 0) -> None:
        """Order another library's CUstream's later work after what is already on
        `queue`, without blocking the host (DLPack's producer-side hand-off).
        [external_streams]"""
        self._lacks("external_streams", "order_stream_after")

    def device_pointer(self, handle) -> int:
        """The CUDA device address of a buffer handle. [cuda_array_interface]"""
        self._lacks("cuda_array_interface", "device_pointer")

    def wrap_device_pointer(self, ptr: int, nbytes: int, owner: object, queue: int = 0):
        """A buffer handle over another library's allocation, kept alive through
        `owner` and never freed by the runtime. [external_memory]"""
        self._lacks("external_memory", "wrap_device_pointer")

    def buffer_alloc_exportable(self, queue: int, nbytes: int):
        """A device buffer (a handle like buffer_alloc's) whose memory can be exported
        with export_memory_fd. [memory_fd_export]"""
        self._lacks("memory_fd_export", "buffer_alloc_exportable")

    def memory_export_info(self, handle) -> MemoryExport:
        """Where an exportable buffer's memory lies (InvalidArgumentError for a buffer
        whose memory does not export). From then on host access to the buffer waits for
        the queues' work, since another API may write it. [memory_fd_export]"""
        self._lacks("memory_fd_export", "memory_export_info")

    def export_memory_fd(self, handle) -> int:
        """A new OPAQUE_FD file descriptor of the whole memory object holding an
        exportable buffer (memory_export_info says where in it the buffer is); the
        caller owns it (an importer takes it over). [memory_fd_export]"""
        self._lacks("memory_fd_export", "export_memory_fd")

    def import_memory_fd(self, queue: int, fd: int, allocation_size: int, nbytes: int,
                         memory_type_index: int = 0, offset: int = 0,
                         dedicated: bool = True):
        """A buffer handle over `nbytes` at `offset` of exported memory (a MemoryExport's
        fields describe it); on success the runtime owns `fd`, on failure the caller
        still does. The memory type index matters to importers of the exporter's own
        API. [memory_fd_import]"""
        self._lacks("memory_fd_import", "import_memory_fd")

    def import_foreign_memory_fd(self, queue: int, fd: int, allocation_size: int):
        """A handle of the whole of `allocation_size` bytes of device memory another API
        made and exported as an OPAQUE_FD (not a Vulkan export: the memory type is picked
        among those buffers can use), on `queue`'s device; buffers are then bound in it
        with buffer_in_foreign_memory. On success the runtime owns `fd`, on failure
        (ExternalMemoryError where the driver refuses it) the caller still does.
        [foreign_memory_import]"""
        self._lacks("foreign_memory_import", "import_foreign_memory_fd")

    def buffer_in_foreign_memory(self, memory, offset: int, nbytes: int, owner: object = None):
        """A buffer handle over `nbytes` at `offset` of imported `memory` (a multiple of
        the device's buffer alignment), freed with buffer_free; `owner` (what keeps the
        memory's contents valid, e.g. the producer's tensor) is kept alive until the
        buffer is released, after the work submitted with it. [foreign_memory_import]"""
        self._lacks("foreign_memory_import", "buffer_in_foreign_memory")

    def foreign_memory_free(self, memory) -> None:
        """Drop the import's own reference (idempotent); the memory is released once no
        buffer is bound in it either. [foreign_memory_import]"""
        self._lacks("foreign_memory_import", "foreign_memory_free")

    def buffer_alloc_shareable(self, queue: int, nbytes: int):
        """A device buffer (a handle like buffer_alloc's) in an allocation of its own
        that other APIs import (shareable_info, export_shareable_fd); buffer_free frees
        it once the device's work is done. [shareable_allocations]"""
        self._lacks("shareable_allocations", "buffer_alloc_shareable")

    def shareable_info(self, handle) -> MemoryExport:
        """Where a buffer handle (wrapped pointers included) lies in an allocation made
        exportable: `memory_id` names the allocation while the handle lives, `offset` is
        the buffer's start in it; never dedicated. ExternalMemoryError saying why where
        its memory does not export. [shareable_allocations]"""
        self._lacks("shareable_allocations", "shareable_info")

    def export_shareable_fd(self, handle) -> int:
        """A new OPAQUE_FD file descriptor of the whole allocation holding a buffer
        handle (shareable_info says where); the caller owns it. [shareable_allocations]"""
        self._lacks("shareable_allocations", "export_shareable_fd")

    def semaphore_create_exportable(self, queue: int = 0):
        """A timeline semaphore (value 0) on `queue`'s device that other APIs can
        import; freed by semaphore_free or with the context. [semaphore_fd_export]"""
        self._lacks("semaphore_fd_export", "semaphore_create_exportable")

    def export_semaphore_fd(self, handle) -> int:
        """A new OPAQUE_FD file descriptor of an exportable timeline semaphore; the
        caller owns it (an importer takes it over). [semaphore_fd_export]"""
        self._lacks("semaphore_fd_export", "export_semaphore_fd")

    def import_semaphore_fd(self, fd: int, queue: int = 0):
        """A timeline semaphore handle over one another API exported (on `queue`'s
        device); on success the runtime owns `fd`. [semaphore_fd_import]"""
        self._lacks("semaphore_fd_import", "import_semaphore_fd")

    def semaphore_free(self, handle) -> None:
        """Release a semaphore handle (idempotent), once the work submitted so far that
        uses it has finished. [semaphore_fd_export or semaphore_fd_import]"""
        self._lacks("semaphore_fd_export", "semaphore_free")

    def queue_signal_semaphore(self, queue: int, handle, value: int) -> None:
        """Set the timeline to `value` once the work already submitted to `queue` has
        finished (its writes visible to the semaphore's waiters), without blocking the
        host. Values a timeline is set to must increase. [semaphore_fd_export or
        semaphore_fd_import]"""
        self._lacks("semaphore_fd_export", "queue_signal_semaphore")

    def queue_wait_semaphore(self, queue: int, handle, value: int) -> None:
        """Make the work submitted to `queue` from now on wait until the timeline
        reaches `value` (the signaller's writes visible to it), without blocking the
        host. [semaphore_fd_export or semaphore_fd_import]"""
        self._lacks("semaphore_fd_export", "queue_wait_semaphore")

    def native_queue(self, queue: int):
        """A context manager giving `queue`'s own queue object (see Capabilities.native_api),
        with the queue's device current on this thread inside the block. Work enqueued
        on it there runs after the work submitted to the queue before the block and
        before the work submitted after it. [native_api]"""
        self._lacks("native_api", "native_queue")

    def native_memory(self, handle):
        """The memory object of a buffer handle or (handle, offset, size) view, in the
        API of Capabilities.native_api. [native_api]"""
        self._lacks("native_api", "native_memory")

    def begin_capture(self, queue: int = 0) -> None:
        """Record `queue`'s work into a graph instead of running it. [graph_capture]"""
        self._lacks("graph_capture", "begin_capture")

    def end_capture(self, queue: int = 0) -> CapturedGraph:
        """Stop recording; the captured work, ready to replay. [graph_capture]"""
        self._lacks("graph_capture", "end_capture")

    @abc.abstractmethod
    def destroy(self) -> None: ...


class Runtime(abc.ABC):
    """One backend. `codegen_target` names the emitter its kernels come from."""

    name: str
    codegen_target: str

    @abc.abstractmethod
    def devices(self) -> list:
        """list[DeviceInfo], in the backend's order."""

    @abc.abstractmethod
    def create_context(self, device_indices: Sequence[int], queue_counts: Sequence[int],
                       debug: bool = False) -> RuntimeContext: ...


# ----------------------------------------------------------------------------- registry

# name -> "module:attribute" of a zero-argument factory returning a Runtime
_REGISTRY = {
    "vulkan": "vkdispatch.backends.vulkan:load_runtime",
    "cuda": "vkdispatch.backends.cuda:load_runtime",
    "opencl": "vkdispatch.backends.opencl:load_runtime",
    "dummy": "vkdispatch.backends.dummy:load_runtime",
}
DEFAULT_ORDER = ("vulkan", "cuda", "opencl")
BACKEND_NAMES = tuple(_REGISTRY)


def register_backend(name: str, factory_path: str) -> None:
    _REGISTRY[name] = factory_path


def load_runtime(name: str) -> Runtime:
    """Import and create backend `name`. Raises BackendUnavailableError saying why."""
    if name not in _REGISTRY:
        raise ValueError(f"backend must be one of {sorted(_REGISTRY)}, got {name!r}")
    module_name, attr = _REGISTRY[name].split(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)()
    except BackendUnavailableError:
        raise
    except Exception as exc:  # missing package, missing driver library, no device
        raise BackendUnavailableError(f"backend {name!r} is unavailable: "
                                      f"{type(exc).__name__}: {exc}") from exc
