"""Backend selection and the process-wide context (devices + queues in use).

`initialize()` picks a backend: the argument, else $VKDISPATCH_BACKEND, else the backend
of the best device any of Vulkan, CUDA, OpenCL offers (`device_preference`: a GPU before
a CPU whatever the backend; on a CPU-only machine PoCL's OpenCL before lavapipe's Vulkan).
`make_context()` opens devices and queues, by default that best device. Both happen
automatically on first use with default settings.
"""
from __future__ import annotations

import atexit
import operator
import os
import threading
import weakref
from typing import Optional, Sequence

from ..backends import runtime as rt
from . import process
from .device_info import DeviceInfo, queue_families
from .errors import BackendUnavailableError, ForkedProcessError
from .log import log_info, set_log_level

_TYPE_RANK = {"discrete": 0, "integrated": 1, "virtual": 2, "cpu": 3, "other": 4}
# CPU implementations, fastest first (see device_preference for why).
_CPU_BACKEND_ORDER = ("opencl", "vulkan", "cuda")


def device_preference(device: rt.DeviceInfo) -> tuple:
    """Sort key of a device for the default pick: lower is better.

    By kind first: a discrete GPU, then an integrated one, then a virtual one, on any
    backend, before a CPU implementation. Among GPUs of one kind, Vulkan before CUDA
    before OpenCL (rt.DEFAULT_ORDER). Among CPU implementations the faster driver wins:
    PoCL (OpenCL) before lavapipe (Vulkan), because PoCL runs fused elementwise kernels
    6-15x faster: sqrt(a*b+c)*2-a over 2^24 float32 takes PoCL 18-21 ms, lavapipe
    117-164 ms (441 ms in an earlier measurement), NumPy 45-60 ms on a 2-core CI machine
    (benchmarks/cpu_default_bench.py). Ties keep the backend's own device order."""
    order = _CPU_BACKEND_ORDER if device.device_type == "cpu" else rt.DEFAULT_ORDER
    backend_rank = order.index(device.backend) if device.backend in order else len(order)
    return (_TYPE_RANK.get(device.device_type, len(_TYPE_RANK)), backend_rank, device.index)


class _State:
    def __init__(self):
        self.lock = threading.RLock()
        self.runtime: Optional[rt.Runtime] = None
        self.debug = False
        self.context: Optional["Context"] = None
        self.codegen_override: Optional[str] = None   # dummy backend's emitted language


_state = _State()


def initialize(backend: Optional[str] = None, debug: bool = False, log_level=None,
               loader_debug_logs: bool = False, debug_mode: Optional[bool] = None) -> None:
    """Choose the runtime backend ('vulkan', 'cuda', 'opencl', 'dummy'). Without
    `backend`, $VKDISPATCH_BACKEND; without either, the backend of the best device that
    vulkan, cuda and opencl offer (`device_preference`): a discrete, then integrated GPU on
    any backend (Vulkan first among equals), else the faster CPU driver, PoCL (OpenCL)
    before lavapipe (Vulkan). The default context then opens that device.
    `debug=True` (or `debug_mode=True`, vkdispatch 0.1's name) is the debug mode:
    validation layers (Vulkan), failures raised at the submit that caused them (OpenCL),
    debug logging, and generated kernels that report their first out-of-range access
    (an OutOfBoundsError naming the shader, the array, the index and the line, raised
    after the submit that ran it; memory_checks="report" does this for one shader).
    `loader_debug_logs=True` makes the Vulkan loader report how it finds drivers
    (VK_LOADER_DEBUG=all). Re-initializing with another backend or debug setting
    destroys the current context first; without a backend it keeps the one in use."""
    if debug_mode is not None:
        debug = bool(debug) or bool(debug_mode)
    if loader_debug_logs:
        os.environ.setdefault("VK_LOADER_DEBUG", "all")
    if log_level is not None:
        set_log_level(log_level)
    elif debug:
        set_log_level("debug")
    with _state.lock:
        requested = backend or os.environ.get("VKDISPATCH_BACKEND") or None
        if requested is not None:
            requested = requested.strip().lower()
            if requested not in rt.BACKEND_NAMES:
                raise ValueError(f"backend must be one of {list(rt.BACKEND_NAMES)}, "
                                 f"got {requested!r}")
        if _state.runtime is not None:
            requested = requested or _state.runtime.name   # a new debug setting keeps it
            if requested == _state.runtime.name and debug == _state.debug:
                return
            _destroy_context()
            _state.runtime = None
        _state.debug = debug
        if requested is not None:
            _state.runtime = rt.load_runtime(requested)
            if not _state.runtime.devices():
                _state.runtime = None
                raise BackendUnavailableError(f"backend {requested!r} loaded but found no device")
        else:
            _state.runtime = _best_backend()
        log_info("vkdispatch backend: %s", _state.runtime.name)


def _best_backend() -> rt.Runtime:
    """Load the backends of rt.DEFAULT_ORDER and return the one whose device ranks best
    (`device_preference`). A backend that is unavailable or fails to list its devices is
    skipped (and named in the error if none works). Stops early at a discrete GPU: no
    later backend can beat it."""
    reasons = []
    best = None   # (preference key, runtime)
    for name in rt.DEFAULT_ORDER:
        try:
            runtime = rt.load_runtime(name)
            devices = runtime.devices()
        except BackendUnavailableError as exc:
            reasons.append(str(exc))
            continue
        except Exception as exc:  # a broken backend must not break the pick of another
            reasons.append(f"backend {name!r} failed to list devices: "
                           f"{type(exc).__name__}: {exc}")
            continue
        if not devices:
            reasons.append(f"{name}: no devices found")
            continue
        key = min(device_preference(d) for d in devices)
        if best is None or key < best[0]:
            best = (key, runtime)
        if best[0][0] == _TYPE_RANK["discrete"]:
            break
    if best is not None:
        for reason in reasons:
            log_info("vkdispatch: skipped %s", reason)
        return best[1]
    raise BackendUnavailableError(
        "no vkdispatch backend works on this machine. Tried, in order:\n  " +
        "\n  ".join(reasons) +
        "\nInstall a Vulkan driver (e.g. mesa-vulkan-drivers), the CUDA extra "
        "(pip install vkdispatch[cuda]) or the OpenCL extra with a driver (pocl-opencl-icd), "
        "or use vd.initialize(backend='dummy') for code generation only.")


def get_runtime() -> rt.Runtime:
    with _state.lock:
        if _state.runtime is None:
            initialize()
        return _state.runtime


def get_backend() -> str:
    """Name of the active backend, initializing with defaults if needed."""
    return get_runtime().name


def is_vulkan() -> bool:
    return get_backend() == "vulkan"


def is_cuda() -> bool:
    return get_backend() == "cuda"


def is_opencl() -> bool:
    return get_backend() == "opencl"


def is_dummy() -> bool:
    return get_backend() == "dummy"


def is_initialized() -> bool:
    return _state.runtime is not None


def get_devices() -> list:
    """The active backend's devices (DeviceInfo: `get_info_string()`, name, limits...,
    and vkdispatch 0.1's field names)."""
    return [DeviceInfo.of(d) for d in get_runtime().devices()]


def set_dummy_context_params(**params) -> None:
    """Tune the dummy device model used for code generation (subgroup_size,
    max_workgroup_size, max_workgroup_count, max_shared_memory, float64, ...)."""
    runtime = get_runtime()
    if runtime.name != "dummy":
        raise RuntimeError("set_dummy_context_params needs vd.initialize(backend='dummy') first; "
                           f"the active backend is {runtime.name!r}")
    with _state.lock:
        runtime.set_params(**params)
        if _state.context is not None:
            _state.context.devices = list(_state.context.runtime_context.devices)


def set_codegen_target(target: Optional[str]) -> None:
    """Language the dummy backend emits ('glsl', 'cuda', 'opencl'; None: GLSL)."""
    _state.codegen_override = target


def get_codegen_target() -> Optional[str]:
    return _state.codegen_override


# ----------------------------------------------------------------------------- context

_before_destroy: list = []   # fn(context), run as a context starts to close


def register_before_destroy(fn) -> None:
    """Run `fn(context)` when a context is destroyed, before its memory is freed (the
    lazy layer drops work recorded against it, which could only run on freed memory)."""
    if fn not in _before_destroy:
        _before_destroy.append(fn)


class Context:
    """The devices and queues vkdispatch works with. Queues are numbered 0..queue_count-1
    across devices; buffers exist on every queue."""

    def __init__(self, runtime: rt.Runtime, device_ids: list, queue_counts: list, debug: bool):
        self.runtime = runtime
        self.device_ids = list(device_ids)
        self.runtime_context = runtime.create_context(device_ids, queue_counts, debug)
        self.debug = bool(debug)     # debug mode (initialize(debug=True))
        self.devices = list(self.runtime_context.devices)
        self.queue_counts = list(queue_counts)
        self._resources = weakref.WeakSet()
        self._lock = threading.RLock()
        self._any_queue = -1         # the queue submit_any used last
        self.destroyed = False
        self.closing = False     # destroy() under way

    @property
    def backend(self) -> str:
        return self.runtime.name

    @property
    def codegen_target(self) -> str:
        if self.runtime.name == "dummy" and _state.codegen_override:
            return _state.codegen_override
        return self.runtime.codegen_target

    @property
    def queue_count(self) -> int:
        return self.runtime_context.queue_count

    def queue_device(self, queue: int):
        return self.devices[self.runtime_context.queue_device[queue]]

    @property
    def device(self):
        """The first device (launch defaults and codegen use its limits)."""
        return self.devices[0]

    def register(self, resource) -> None:
        self._resources.add(resource)

    def check_queue(self, queue_index, name: str = "queue_index") -> int:
        """`queue_index` as an int (any integer type) in [0, queue_count)."""
        if type(queue_index) is not int:
            try:
                if isinstance(queue_index, bool):
                    raise TypeError
                queue_index = operator.index(queue_index)
            except TypeError:
                raise TypeError(f"{name} must be an integer in [0, {self.queue_count}), got "
                                f"{queue_index!r}") from None
        if not 0 <= queue_index < self.queue_count:
            raise IndexError(f"{name} must be an int in [0, {self.queue_count}), got "
                             f"{queue_index!r}")
        return queue_index

    def next_queue(self) -> int:
        """Queues in turn, for work that may run on any queue (`submit_any`)."""
        with self._lock:
            self._any_queue = (self._any_queue + 1) % self.queue_count
            return self._any_queue

    # ------------------------------------------------ the limits vkdispatch 0.1 code reads
    # Over all devices of the context: the smallest limit (the largest alignment), so a
    # kernel sized by them runs on every device.
    @property
    def device_infos(self) -> list:
        return [DeviceInfo.of(d) for d in self.devices]

    mapped_device_ids = property(lambda self: list(self.device_ids))

    @property
    def queue_families(self) -> list:
        """Per device, the queue family of each of its queues (0.1's layout)."""
        return [_family_list(d, n) for d, n in zip(self.devices, self.queue_counts)]

    subgroup_size = property(lambda self: min(d.subgroup_size for d in self.devices))
    subgroup_enabled = property(lambda self: all(d.subgroup_ops and d.subgroup_size
                                                 for d in self.devices))
    subgroup_arithmetic = property(lambda self: all("arithmetic" in d.subgroup_ops
                                                    for d in self.devices))
    max_workgroup_size = property(lambda self: tuple(
        min(axis) for axis in zip(*(d.max_workgroup_size for d in self.devices))))
    max_workgroup_invocations = property(lambda self: min(d.max_workgroup_invocations
                                                          for d in self.devices))
    max_workgroup_count = property(lambda self: tuple(
        min(axis) for axis in zip(*(d.max_workgroup_count for d in self.devices))))
    uniform_buffer_alignment = property(lambda self: max(d.uniform_buffer_alignment
                                                         for d in self.devices))
    max_shared_memory = property(lambda self: min(d.max_shared_memory for d in self.devices))
    max_push_constant_size = property(lambda self: min(d.max_push_constant_size
                                                       for d in self.devices))

    def is_apple(self) -> bool:
        return any(DeviceInfo.of(d).is_apple() for d in self.devices)

    def destroy(self) -> None:
        with self._lock:
            if self.destroyed:
                return
            self.closing = True     # buffers freed now submit no recorded work
            for fn in _before_destroy:
                try:
                    fn(self)
                except Exception:  # best effort during teardown
                    pass
            for res in list(self._resources):
                try:
                    res.destroy()
                except Exception:  # best effort during teardown
                    pass
            self.runtime_context.destroy()
            self.destroyed = True

    def __repr__(self) -> str:
        names = ", ".join(d.name for d in self.devices)
        return f"<vkdispatch Context {self.backend}: {names}; queues {self.queue_counts}>"


def _ranked_devices(devices: Sequence, use_cpu: bool = True) -> list:
    """Device indices, best first (`device_preference`, the rank `initialize()` chose
    the backend by), so the default context opens the device the backend was picked for.
    `use_cpu=False` drops CPU devices when any other kind is there."""
    ranked = sorted(range(len(devices)), key=lambda i: device_preference(devices[i]))
    if not use_cpu and any(devices[i].device_type != "cpu" for i in ranked):
        ranked = [i for i in ranked if devices[i].device_type != "cpu"]
    return ranked


def _compute_family(device) -> int:
    """Index of the queue family the runtime opens queues of: the compute family with
    the most queues (the first of equals)."""
    fams = queue_families(device)
    compute = [i for i, (_, flags) in enumerate(fams) if "compute" in flags]
    if not compute:
        raise ValueError(f"device {device.name!r} has no compute queue family")
    return max(compute, key=lambda i: (fams[i][0], -i))


def _compute_queues(device) -> int:
    """Queues a device offers for compute work."""
    return queue_families(device)[_compute_family(device)][0]


def _family_list(device, queue_count: int) -> list:
    return [_compute_family(device)] * queue_count


def select_queue_families(device_index: int, queue_count: Optional[int] = None) -> list:
    """The queue family of each queue to open on device `device_index` (an index into
    vd.get_devices()), as vkdispatch 0.1 chose them for make_context(queue_families=).
    `queue_count` None: as many as make_context(multi_queue=True) opens. Every queue
    comes from the one compute family the runtime opens (so only the count matters)."""
    devices = get_runtime().devices()
    if not isinstance(device_index, int) or not 0 <= device_index < len(devices):
        raise ValueError(f"device_index must be an int in [0, {len(devices)}), got "
                         f"{device_index!r}")
    device = devices[device_index]
    available = _compute_queues(device)
    if queue_count is None:
        queue_count = min(2, available)
    if not isinstance(queue_count, int) or not 1 <= queue_count <= available:
        raise ValueError(f"queue_count must be an int in [1, {available}] for {device.name!r}, "
                         f"got {queue_count!r}")
    return _family_list(device, queue_count)


def _check_families(device, families, device_id: int) -> None:
    fams = queue_families(device)
    for f in families:
        if not isinstance(f, int) or not 0 <= f < len(fams) or "compute" not in fams[f][1]:
            valid = [i for i, (_, flags) in enumerate(fams) if "compute" in flags]
            raise ValueError(f"queue_families for device {device_id} must name compute queue "
                             f"families {valid} (vd.select_queue_families), got {families!r}")


def make_context(device_ids=None, queue_counts=None, multi_device: bool = False,
                 multi_queue: bool = False, device_count: Optional[int] = None,
                 queue_families=None, use_cpu: bool = True) -> Context:
    """Open devices and queues, replacing any current context; the current context
    itself when it has exactly the devices and queues asked for (its buffers stay
    valid, as vkdispatch 0.1 code that calls make_context() again expects; 0.1 returned
    the current context whatever was asked, which silently ignored a different request).

    device_ids: indices into vd.get_devices() (default: the best device by
    `device_preference`, discrete > integrated > virtual > CPU, whatever its index;
    with multi_device=True, all devices; with device_count=n, the best n).
    queue_counts: queues per device (default 1; with multi_queue=True 2, or fewer on a
    device that has fewer, as vkdispatch 0.1 did).
    vkdispatch 0.1's spellings are accepted: `queue_families` (a list per device of
    queue family indices) asks for that many queues per device (the runtime picks the
    families); `use_cpu=False` leaves CPU devices out where a GPU exists (0.1 left them
    out always; here a CPU-only machine still gets its CPU device)."""
    runtime = get_runtime()
    devices = runtime.devices()
    if queue_families is not None:
        if queue_counts is not None:
            raise ValueError("give queue_counts or queue_families, not both")
        if device_ids is None:
            raise ValueError("queue_families needs device_ids (one list of families per "
                             "device), as in vkdispatch 0.1")
        ids = [device_ids] if isinstance(device_ids, int) else list(device_ids)
        for d, fams in zip(ids, queue_families):
            if isinstance(d, int) and 0 <= d < len(devices):   # else: named below
                _check_families(devices[d], fams, d)
        queue_counts = [len(f) for f in queue_families]
    if device_ids is None:
        ranked = _ranked_devices(devices, use_cpu)
        if device_count is not None:
            if not isinstance(device_count, int) or not 1 <= device_count <= len(ranked):
                raise ValueError(f"device_count must be an int in [1, {len(ranked)}], got "
                                 f"{device_count!r}")
            device_ids = ranked[:device_count]
        else:
            device_ids = ranked if multi_device else ranked[:1]
    elif isinstance(device_ids, int):
        device_ids = [device_ids]
    device_ids = list(device_ids)
    if not device_ids:
        raise ValueError("device_ids must name at least one device")
    for d in device_ids:
        if not isinstance(d, int) or not 0 <= d < len(devices):
            raise ValueError(f"device_ids entries must be ints in [0, {len(devices)}) for the "
                             f"{runtime.name} backend, got {d!r}")
    if len(set(device_ids)) != len(device_ids):
        raise ValueError(f"device_ids has duplicates: {device_ids}")
    if queue_counts is None:
        # multi_queue asks for 2 queues, as many as the device has (0.1 falls back to one)
        queue_counts = [min(2, _compute_queues(devices[d])) if multi_queue else 1
                        for d in device_ids]
    elif isinstance(queue_counts, int):
        queue_counts = [queue_counts] * len(device_ids)
    queue_counts = list(queue_counts)
    if len(queue_counts) != len(device_ids):
        raise ValueError(f"queue_counts needs one entry per device ({len(device_ids)}), got "
                         f"{queue_counts}")
    if any(not isinstance(q, int) or q < 1 for q in queue_counts):
        raise ValueError(f"queue_counts entries must be positive ints, got {queue_counts}")
    with _state.lock:
        cur = _state.context
        if (cur is not None and not cur.destroyed and cur.runtime is runtime
                and cur.device_ids == device_ids and cur.queue_counts == queue_counts
                and cur.debug == _state.debug):
            return cur   # the same request: its buffers stay valid (as in 0.1)
        _destroy_context()
        _state.context = Context(runtime, device_ids, queue_counts, _state.debug)
        log_info("vkdispatch context: %r", _state.context)
        return _state.context


def get_context() -> Context:
    """The current context, created with defaults on first use."""
    if process.forked_child:
        _refuse_in_fork()
    ctx = _state.context
    if ctx is None or ctx.destroyed:
        with _state.lock:
            if _state.context is None or _state.context.destroyed:
                make_context()
            ctx = _state.context
    return ctx


def has_context() -> bool:
    return _state.context is not None and not _state.context.destroyed


is_context_initialized = has_context   # vkdispatch 0.1's name


def get_context_handle():
    """The runtime's context object (what every runtime call goes through); 0.1 gave
    the native library's integer handle."""
    return get_context().runtime_context


def _destroy_context() -> None:
    ctx = _state.context
    _state.context = None
    if ctx is not None:
        ctx.destroy()


def shutdown() -> None:
    """Destroy the context and forget the backend (a later call re-initializes)."""
    with _state.lock:
        _destroy_context()
        _state.runtime = None


atexit.register(shutdown)


_FORK_MESSAGE = ("vkdispatch cannot be used in a fork()ed child of a process that opened a "
                 "context: the driver's threads, queues and memory mappings do not survive "
                 "fork(). Use multiprocessing's 'spawn' or 'forkserver' start method "
                 "(multiprocessing.set_start_method('spawn')), or open the context only in "
                 "the children.")


class _ForkedRuntimeContext:
    """Stands in for a forked child's inherited runtime context: every use raises
    (touching the parent's driver objects would hang or corrupt them)."""

    def __getattr__(self, name):
        _refuse_in_fork()

    def destroy(self) -> None:   # teardown at exit must not touch the parent's driver
        pass


def _refuse_in_fork():
    raise ForkedProcessError(_FORK_MESSAGE)


def _after_fork_in_child() -> None:
    ctx = _state.context
    if ctx is None or ctx.destroyed or ctx.backend == "dummy":
        return
    process.forked_child = True   # get_context refuses; inherited objects' finalizers do nothing
    _state.lock = threading.RLock()   # a lock held by another thread at fork stays held
    ctx.runtime_context = _ForkedRuntimeContext()
    ctx.destroyed = True
    ctx._resources = weakref.WeakSet()   # their handles belong to the parent's driver


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
