"""Checks and host-memory views written once for every backend, so that the same
misuse raises the same exception type on each (base/errors.py): host bytes, byte
ranges, memory kinds, allocation sizes, launch shapes, sampler and image arguments,
program options, and a timed wait for APIs that have none."""
from __future__ import annotations

import operator
import os
import queue as _queue
import threading
import time
from typing import Callable, Optional

from ..base.abi import NO_OPTIONS, ProgramOptions
from ..base.sampling import SamplerDesc
from ..base.errors import (DeviceLimitError, InvalidArgumentError, OutOfBoundsError,
                           OutOfMemoryError, UnsupportedFeatureError)

MEMORY_KINDS = ("device", "host", "shared")

# ----------------------------------------------------------------------------- host memory


def host_bytes(data, what: str = "data") -> memoryview:
    """A flat byte view of a buffer-protocol object, without copying."""
    try:
        mv = memoryview(data)
    except TypeError:
        raise TypeError(f"{what} must support the buffer protocol (bytes, bytearray, a numpy "
                        f"array), got {type(data).__name__}") from None
    if not mv.c_contiguous:
        raise InvalidArgumentError(f"{what} must be C-contiguous")
    return mv.cast("B") if mv.ndim != 1 or mv.format != "B" else mv


def out_bytes(out, nbytes: int) -> memoryview:
    """The first `nbytes` of `out` as a writable flat byte view (a new bytearray's when
    `out` is None): where a read lands."""
    if out is None:
        return memoryview(bytearray(nbytes))
    mv = host_bytes(out, "out")
    if mv.readonly or mv.nbytes < nbytes:
        state = "read-only" if mv.readonly else f"{mv.nbytes} bytes"
        raise InvalidArgumentError(f"out must be a writable buffer of at least {nbytes} "
                                   f"bytes, got {state}")
    return mv[:nbytes]


# ----------------------------------------------------------------------------- ranges, memory

def check_range(offset: int, nbytes: int, size: int, what: str) -> None:
    """`nbytes` at `offset` must lie inside `size` bytes."""
    if offset < 0 or nbytes < 0 or offset + nbytes > size:
        raise OutOfBoundsError(f"{what} of {nbytes} bytes at offset {offset} does not fit "
                               f"in the buffer's {size} bytes")


def check_copy(src_size: int, dst_size: int, nbytes: int, src_offset: int, dst_offset: int,
               same_buffer: bool) -> None:
    check_range(src_offset, nbytes, src_size, "copy source")
    check_range(dst_offset, nbytes, dst_size, "copy destination")
    if same_buffer:
        check_disjoint(src_offset, dst_offset, nbytes)


def check_disjoint(src_start: int, dst_start: int, nbytes: int) -> None:
    """Two `nbytes` ranges of one allocation must not overlap (copies are not memmove)."""
    if abs(src_start - dst_start) < nbytes:
        raise InvalidArgumentError("the source and destination ranges of a copy overlap")


def _index(value, count: int, what: str) -> int:
    """`value` as an int index into `count` things, else OutOfBoundsError."""
    try:
        i = operator.index(value)
    except TypeError:
        i = -1
    if not 0 <= i < count:
        raise OutOfBoundsError(f"{what} must be an int in [0, {count}), got {value!r}")
    return i


def check_queue(queue, count: int) -> int:
    return _index(queue, count, "queue")


def check_alloc(nbytes, memory: str, limit: Optional[int], limit_name: str,
                device_name: str) -> int:
    """The byte count of an allocation of `memory` kind, refused with OutOfMemoryError
    beyond the device's largest allocation `limit` (None: no limit known)."""
    nbytes = int(nbytes)
    if nbytes < 0:
        raise InvalidArgumentError(f"nbytes must be non-negative, got {nbytes}")
    if memory not in MEMORY_KINDS:
        raise InvalidArgumentError(f"memory must be one of {MEMORY_KINDS}, got {memory!r}")
    if limit is not None and nbytes > limit:
        raise OutOfMemoryError(f"cannot allocate {nbytes} bytes on {device_name}: more than "
                               f"its largest allocation, {limit_name} ({limit} bytes)")
    return nbytes


class MemoryBudget:
    """Bytes allocated on one device against the memory it reports, for drivers that
    do not refuse an over-commitment themselves (PoCL allocates lazily and aborts the
    process when a later malloc fails). Shared by every context of the device."""

    def __init__(self, total: int, limit_name: str, device_name: str):
        self.total = int(total)
        self.limit_name = limit_name
        self.device_name = device_name
        self.used = 0
        self._lock = threading.Lock()

    def reserve(self, nbytes: int, what: str = "allocate") -> int:
        """Count `nbytes` in, or raise OutOfMemoryError (nothing counted)."""
        with self._lock:
            if self.used + nbytes > self.total:
                raise OutOfMemoryError(
                    f"cannot {what} {nbytes} bytes on {self.device_name}: {self.used} of its "
                    f"{self.total} bytes ({self.limit_name}) are allocated already; free "
                    f"buffers or images first")
            self.used += nbytes
        return nbytes

    def release(self, nbytes: int) -> None:
        with self._lock:
            self.used = max(0, self.used - nbytes)


# ----------------------------------------------------------------------------- launches

def check_kernel_limits(info, dev, names=("max_workgroup_size", "max_workgroup_invocations",
                                          "max_shared_memory")) -> tuple:
    """The kernel's local size as three ints, checked against DeviceInfo `dev`; `names`
    are the backend's own names of those three limits, for the messages."""
    local = tuple(int(x) for x in info.local_size)
    if not 1 <= len(local) <= 3 or min(local) < 1:
        raise InvalidArgumentError(f"local_size must be 1 to 3 positive sizes, "
                                   f"got {info.local_size!r}")
    local += (1,) * (3 - len(local))
    for axis, (n, most) in enumerate(zip(local, dev.max_workgroup_size)):
        if n > most:
            raise DeviceLimitError(f"local_size {local} exceeds {names[0]} "
                                   f"{tuple(dev.max_workgroup_size)} (axis {'xyz'[axis]}) "
                                   f"of {dev.name}")
    total = local[0] * local[1] * local[2]
    if total > dev.max_workgroup_invocations:
        raise DeviceLimitError(f"local_size {local} has {total} invocations, over {names[1]} "
                               f"({dev.max_workgroup_invocations}) of {dev.name}")
    if info.shared_memory > dev.max_shared_memory:
        raise DeviceLimitError(f"the kernel {info.entry_point!r} needs {info.shared_memory} "
                               f"bytes of shared memory, over {names[2]} "
                               f"({dev.max_shared_memory}) of {dev.name}")
    for feature in sorted(info.features):
        if not getattr(dev, feature, False):
            raise UnsupportedFeatureError(f"the kernel {info.entry_point!r} needs {feature}, "
                                          f"which {dev.name} lacks")
    return local


def workgroup_counts(groups, dev, limit_name: str = "max_workgroup_count") -> tuple:
    """`groups` as three non-negative counts within the device's limit."""
    g = tuple(int(x) for x in (groups if isinstance(groups, (tuple, list)) else (groups,)))
    if not 1 <= len(g) <= 3 or min(g) < 0:
        raise InvalidArgumentError(f"groups must be 1 to 3 non-negative counts, got {groups!r}")
    g += (1,) * (3 - len(g))
    for axis, (n, most) in enumerate(zip(g, dev.max_workgroup_count)):
        if n > most:
            raise DeviceLimitError(f"{g} workgroups exceed {limit_name} "
                                   f"{tuple(dev.max_workgroup_count)} (axis {'xyz'[axis]})")
    return g


def check_global_size(groups: tuple, local: tuple, dev, size_bits: int = 64,
                      max_groups: Optional[int] = None, groups_limit: str = "") -> tuple:
    """The global size (work-items per axis) of `groups` workgroups of `local`, refused
    with DeviceLimitError where an axis or the total does not fit the device's size_t
    (`size_bits`), or the total workgroup count exceeds `max_groups` (named by
    `groups_limit`): what a driver would fail on, or crash on, at enqueue."""
    most = (1 << size_bits) - 1
    global_size = tuple(g * l for g, l in zip(groups, local))
    total = global_size[0] * global_size[1] * global_size[2]
    if max(global_size) > most or total > most:
        raise DeviceLimitError(f"{groups} workgroups of {tuple(local)} are {global_size} "
                               f"work-items ({total} in all), more than the {size_bits}-bit "
                               f"size_t of {dev.name} holds")
    count = groups[0] * groups[1] * groups[2]
    if max_groups is not None and count > max_groups:
        raise DeviceLimitError(f"{groups} workgroups are {count} in all, over {groups_limit} "
                               f"({max_groups}) of {dev.name}")
    return global_size


def check_binding_count(info, bindings) -> None:
    if len(bindings) != len(info.bindings):
        names = ", ".join(b.name for b in info.bindings) or "none"
        raise InvalidArgumentError(f"kernel {info.entry_point!r} takes {len(info.bindings)} "
                                   f"bindings ({names}), got {len(bindings)}")


def check_dispatch_index(index, count: int) -> int:
    return _index(index, count, "dispatch_index")


def uniform_need(info) -> int:
    """Bytes of a kernel's uniform block its fields cover."""
    return max((f.offset + f.size for f in info.uniforms), default=0)


def check_uniform_size(nbytes: int, need: int, size: int, entry_point: str) -> None:
    """A dispatch's uniform bytes are none (all zero) or cover the fields (`need`)
    within the block (`size`)."""
    most = max(size, need)
    if nbytes and not need <= nbytes <= most:
        raise InvalidArgumentError(f"kernel {entry_point!r} takes {need} to {most} uniform "
                                   f"bytes (or none), got {nbytes}")


def check_instance_count(count: int, dispatches: int) -> None:
    if count != dispatches:
        raise InvalidArgumentError(f"each instance needs the uniform bytes of all "
                                   f"{dispatches} dispatches, got {count}")


def program_options(options, backend: str, honoured: tuple) -> ProgramOptions:
    """`options` (None: none), refusing a field this backend cannot honour."""
    if options is None:
        return NO_OPTIONS
    if not isinstance(options, ProgramOptions):
        raise TypeError(f"options must be a ProgramOptions (ProgramOptions.make(...)), "
                        f"got {type(options).__name__}")
    for name in ("specialization", "build_flags"):
        if getattr(options, name) and name not in honoured:
            raise UnsupportedFeatureError(f"ProgramOptions.{name} is not supported by the "
                                          f"{backend} backend")
    return options


# ----------------------------------------------------------------------------- images, samplers

def sampler_desc(filter, address_mode, normalized, details: dict) -> SamplerDesc:
    """The checked SamplerDesc a runtime's sampler_create(filter, address_mode,
    normalized, **details) describes (details: SamplerDesc's other fields)."""
    unknown = sorted(set(details) - set(SamplerDesc.__dataclass_fields__))
    if unknown:
        raise TypeError(f"sampler_create got unknown argument(s) {unknown}; valid: "
                        f"{sorted(SamplerDesc.__dataclass_fields__)}")
    return SamplerDesc(filter, address_mode, normalized, **details)


def refuse_sampler_modes(desc: SamplerDesc, backend: str, lacks: dict) -> None:
    """UnsupportedFeatureError naming the first mode of `desc` the backend lacks:
    `lacks` maps a description of the mode to a predicate on desc."""
    for what, applies in lacks.items():
        if applies(desc):
            raise UnsupportedFeatureError(f"the {backend} backend has no {what}")


def image_shape(extent, layers, dim) -> tuple:
    """((w, h, d), layers, dim) of an image; `dim` defaults to the last axis above 1."""
    ext = tuple(int(e) for e in (extent if isinstance(extent, (tuple, list)) else (extent,)))
    if not 1 <= len(ext) <= 3 or min(ext) < 1:
        raise InvalidArgumentError(f"extent must be 1 to 3 positive sizes (w, h, d), "
                                   f"got {extent!r}")
    ext += (1,) * (3 - len(ext))
    least = 3 if ext[2] > 1 else 2 if ext[1] > 1 else 1
    dim = least if dim is None else dim
    if dim not in (1, 2, 3) or dim < least:
        raise InvalidArgumentError(f"dim must be in [{least}, 3] for extent {ext}, got {dim!r}")
    layers = int(layers)
    if layers < 1:
        raise InvalidArgumentError(f"layers must be at least 1, got {layers}")
    if dim == 3 and layers > 1:
        raise InvalidArgumentError("3-D images cannot have array layers (layers must be 1)")
    return ext, layers, dim


def image_arrayed(layers: int, dim: int, arrayed) -> bool:
    """Whether an image is an array of layers (shaders index its layer): `arrayed`, or
    by default whether it has more than one layer."""
    arrayed = layers > 1 if arrayed is None else bool(arrayed)
    if arrayed and dim == 3:
        raise InvalidArgumentError("3-D images cannot be arrayed")
    return arrayed


def mip_levels_of(extent) -> int:
    """Levels of a full mip chain of `extent`: down to 1 texel along every axis."""
    return max(int(e) for e in extent).bit_length()


def check_levels(levels, extent) -> int:
    """`levels` (an int in [1, full chain]) or InvalidArgumentError naming the range."""
    most = mip_levels_of(extent)
    if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= most:
        raise InvalidArgumentError(f"levels must be an int in [1, {most}] for extent "
                                   f"{tuple(extent)}, got {levels!r}")
    return levels


def level_extent(extent, level: int) -> tuple:
    """(w, h, d) of mip level `level`."""
    return tuple(max(1, int(e) >> level) for e in extent)


def check_layer(layer, layers: int) -> int:
    return _index(layer, layers, "layer")


def check_level(level, levels: int) -> int:
    return _index(level, levels, "level")


def layer_view(data, layer_bytes: int, writable: bool = False) -> memoryview:
    """The host side of a copy of one image layer (of one level): exactly `layer_bytes`
    bytes."""
    what = "out" if writable else "data"
    mv = host_bytes(data, what)
    if writable and mv.readonly:
        raise InvalidArgumentError("out must be writable")
    if mv.nbytes != layer_bytes:
        raise InvalidArgumentError(f"{what} holds {mv.nbytes} bytes; one layer of the image "
                                   f"holds {layer_bytes} bytes")
    return mv


# ----------------------------------------------------------------------------- waiting

def poll(done, timeout: float, first: float = 2e-5, longest: float = 1e-3) -> bool:
    """Call `done()` until it is true (True) or `timeout` seconds pass (False), sleeping
    from `first` doubling up to `longest` between calls: short waits stay short, long
    ones cost little CPU."""
    deadline = time.perf_counter() + max(0.0, float(timeout))
    pause = first
    while not done():
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, longest)
    return True


class _WaitJob:
    __slots__ = ("fn", "done", "error")

    def __init__(self, fn):
        self.fn = fn
        self.done = threading.Event()
        self.error = None


_waiters_lock = threading.Lock()
_idle_waiters: list = []     # job queues of waiter threads with nothing to do


def _waiter(jobs: "_queue.SimpleQueue") -> None:
    while True:
        job = jobs.get()
        try:
            job.fn()
        except BaseException as exc:   # handed to the caller
            job.error = exc
        finally:
            job.done.set()
            job = None
        with _waiters_lock:
            _idle_waiters.append(jobs)


def _forget_waiters() -> None:       # a fork()ed child has none of the parent's threads
    global _waiters_lock
    _waiters_lock = threading.Lock()
    _idle_waiters.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_waiters)

WAIT_SLICE = 0.05   # seconds between checks for an interrupt (a real SIGINT needs none)


def wait_interruptibly(blocking: Callable[[], object], timeout: Optional[float] = None) -> bool:
    """Run `blocking()` - a driver wait that cannot be interrupted (clWaitForEvents,
    a blocking transfer) - on a waiter thread, waiting for it here in slices, so that
    Ctrl-C (KeyboardInterrupt) is honoured at once instead of when the work finishes.
    True once it returned (its exception is raised here), False after `timeout`
    seconds. An interrupted or timed-out wait leaves the call running to its end on
    its thread: nothing is torn down half-way."""
    job = _WaitJob(blocking)
    with _waiters_lock:
        jobs = _idle_waiters.pop() if _idle_waiters else None
    if jobs is None:
        jobs = _queue.SimpleQueue()
        threading.Thread(target=_waiter, args=(jobs,), name="vkdispatch-waiter",
                         daemon=True).start()
    jobs.put(job)
    deadline = None if timeout is None else time.perf_counter() + max(0.0, float(timeout))
    while True:
        step = WAIT_SLICE if deadline is None else min(WAIT_SLICE,
                                                       deadline - time.perf_counter())
        if job.done.wait(max(step, 0.0)):
            break
        if deadline is not None and time.perf_counter() >= deadline:
            return False
    if job.error is not None:
        error, job.error = job.error, None
        raise error
    return True
