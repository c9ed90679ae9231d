"""Recorded command lists and submission signals of the OpenCL backend.

A recorded command is a `functools.partial` of a pyopencl enqueue call whose
arguments are fixed at record time; each dispatch owns its own cl.Kernel with its
arguments already set, so replay only enqueues. Queues are in-order, so commands
see earlier commands' writes without explicit barriers.

Timestamps need a profiling-enabled queue. Unless the context was made with
profiling=True, a list made with timestamps=True runs on a profiling twin of its
queue (made on first use), fenced on both sides by events so that it stays in order
with everything else on the queue; lists without timestamps pay nothing.
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence

import pyopencl as cl

from ...base.errors import DeviceError, InvalidArgumentError, UseAfterFreeError, VkDispatchError
from ..common import (check_binding_count, check_copy, check_dispatch_index, check_global_size,
                      check_instance_count, check_uniform_size, wait_interruptibly,
                      workgroup_counts)
from ..runtime import CommandList, Signal
from ...base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_IMAGE
from ._check import error_for
from .memory import BufferHandle, ImageHandle, SamplerHandle, check_layer_sampling

_COMPLETE = cl.command_execution_status.COMPLETE
_enqueue_kernel = cl.enqueue_nd_range_kernel


def wait_event(event, timeout: Optional[float] = None) -> bool:
    """Wait for `event` (True), or `timeout` seconds (False), interruptibly: Ctrl-C
    raises KeyboardInterrupt at once, the work goes on and nothing is left half-done."""
    try:
        if event.command_execution_status <= _COMPLETE:   # done or failed: no thread
            return True
        return wait_interruptibly(event.wait, timeout)
    except cl.Error as exc:
        raise error_for(exc, "clWaitForEvents") from None


class OpenCLSignal(Signal):
    """Completion of the last command of a submission (queues are in-order)."""

    __slots__ = ("event",)

    def __init__(self, event):
        self.event = event

    def _status(self) -> int:
        try:
            status = self.event.command_execution_status
        except cl.Error as exc:
            raise error_for(exc, "clGetEventInfo") from None
        if status < 0:
            raise DeviceError(f"an OpenCL command of this submission failed with "
                              f"status {status}")
        return status

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self.done():
            return True
        if not wait_event(self.event, timeout):
            return False
        self._status()
        return True

    def done(self) -> bool:
        return self._status() == _COMPLETE


class _Dispatch:
    """One recorded launch: its kernel (arguments set) and where uniforms go."""

    __slots__ = ("program", "kernel", "uniform")

    def __init__(self, program, kernel, uniform: bytes):
        self.program = program
        self.kernel = kernel
        self.uniform = uniform

    def set_uniform(self, uniform, previous: Optional[bytes] = None) -> None:
        """Set the uniform arguments from `uniform`; those whose bytes equal the ones in
        `previous` (what the kernel holds now) are left as they are: clSetKernelArg
        costs several microseconds on PoCL."""
        slots = self.program.uniform_slots
        if not slots:
            return
        mv = memoryview(uniform).cast("B")
        need = self.program.uniform_end
        check_uniform_size(mv.nbytes, need, self.program.info.uniform_size,
                           self.program.info.entry_point)
        if not mv.nbytes:   # none given: all zero
            mv = memoryview(bytes(need))
        if previous is not None and len(previous) != mv.nbytes:
            previous = None
        kernel = self.kernel
        for arg, offset, size, name in slots:
            if previous is not None and mv[offset:offset + size] == previous[offset:offset + size]:
                continue
            try:
                kernel.set_arg(arg, mv[offset:offset + size])
            except cl.Error as exc:
                raise error_for(exc, "clSetKernelArg",
                                f"uniform {name!r} ({size} bytes) as parameter {arg} of "
                                f"{self.program.info.entry_point!r}") from None


class OpenCLCommandList(CommandList):
    def __init__(self, ctx, queue_index: int, timestamps: bool = False):
        self._ctx = ctx
        self._queue_index = queue_index
        self._main = ctx._queues[queue_index]
        self.timestamps_enabled = bool(timestamps)
        # the queue the commands go to: a profiling one when timing
        self._queue = ctx._timing_queue(queue_index) if timestamps else self._main
        self._slot = ctx._queue_slots[queue_index]
        self._ops = []          # partials, in order; each returns its cl.Event
        self._dispatches = []   # _Dispatch, in dispatch-index order
        self._op_of_dispatch = []  # index in _ops of each dispatch (None: empty launch)
        self._resources = {}    # id -> handle used by a recorded command
        self._last = None       # OpenCLSignal of the latest submission
        self._events = []       # per-dispatch events of the latest run (timestamps)
        self._destroyed = False

    # ------------------------------------------------------------------ recording
    def dispatch(self, program, groups: tuple, bindings: Sequence, uniform: bytes = b"") -> int:
        self._check_usable()
        info = program.info
        if program.ctx is not self._ctx:
            raise InvalidArgumentError("the program belongs to another context")
        slot = self._slot
        groups = workgroup_counts(groups, slot.info)
        global_size = check_global_size(groups, program.local_size, slot.info, slot.size_bits,
                                        slot.max_groups, slot.max_groups_name)
        check_binding_count(info, bindings)
        kernel = program.take_kernel(self._slot)
        try:
            used = self._bind(program, kernel, bindings)
            entry = _Dispatch(program, kernel, bytes(uniform))
            entry.set_uniform(entry.uniform)
        except BaseException:
            program.give_kernels(self._slot, [kernel])
            raise
        for handle in (program, *used):   # a submit refuses any of them once freed
            self._resources[id(handle)] = handle
        if min(groups) > 0:  # a zero group count records an empty launch
            self._op_of_dispatch.append(len(self._ops))
            self._ops.append(functools.partial(_enqueue_kernel, self._queue, kernel,
                                               global_size, program.local_size))
        else:
            self._op_of_dispatch.append(None)
        self._dispatches.append(entry)
        return len(self._dispatches) - 1

    def _check_handle(self, handle, kind, name):
        if not isinstance(handle, kind):
            raise TypeError(f"binding {name!r} needs an OpenCL {kind.__name__}, "
                            f"got {type(handle).__name__}")
        if handle.freed:
            raise UseAfterFreeError(f"binding {name!r} uses a freed {kind.__name__}")
        if kind is not SamplerHandle and handle.slot is not self._slot:
            raise ValueError(f"binding {name!r} was allocated for queue {handle.queue} on "
                             f"another device than this list's queue {self._queue_index}")
        return handle

    def _bind(self, program, kernel, bindings) -> list:
        """Set the binding arguments of `kernel`; returns the handles used."""
        used = []
        use = self._check_handle
        for pos, arg in program.binding_plan:
            b = program.info.bindings[pos]
            value = bindings[pos]
            try:
                if b.kind == BINDING_SAMPLED_IMAGE:
                    if not (isinstance(value, tuple) and len(value) == 2):
                        raise TypeError(f"sampled image {b.name!r} takes an (image, sampler) "
                                        f"tuple, got {type(value).__name__}")
                    image = use(value[0], ImageHandle, b.name)
                    sampler = use(value[1], SamplerHandle, b.name)
                    self._check_dim(image, b)
                    check_layer_sampling(image, sampler, b)
                    used += (image, sampler)
                    kernel.set_arg(arg, image.mem)
                    kernel.set_arg(arg + 1, sampler.samplers[self._slot])
                elif b.kind == BINDING_STORAGE_IMAGE:
                    image = use(value, ImageHandle, b.name)
                    self._check_dim(image, b)
                    used.append(image)
                    kernel.set_arg(arg, image.mem)
                elif isinstance(value, tuple):  # (handle, byte_offset, byte_size) view
                    if len(value) != 3:
                        raise TypeError(f"buffer view {b.name!r} must be (handle, byte_offset,"
                                        f" byte_size), got a {len(value)}-tuple")
                    handle, offset, size = value
                    use(handle, BufferHandle, b.name)
                    kernel.set_arg(arg, handle.view(int(offset), int(size)))
                    used.append(handle)
                else:
                    kernel.set_arg(arg, use(value, BufferHandle, b.name).mem)
                    used.append(value)
            except cl.Error as exc:
                raise error_for(exc, "clSetKernelArg", f"binding {b.name!r} as parameter "
                                f"{arg} of {program.info.entry_point!r}") from None
        return used

    @staticmethod
    def _check_dim(image, binding) -> None:
        if image.dim != binding.dim:
            raise ValueError(f"image binding {binding.name!r} is {binding.dim}-D, but the "
                             f"image {image.extent} is {image.dim}-D")

    def copy(self, src, dst, nbytes: int, src_offset: int = 0, dst_offset: int = 0) -> None:
        self._check_usable()
        self._check_handle(src, BufferHandle, "copy source")
        self._check_handle(dst, BufferHandle, "copy destination")
        nbytes, src_offset, dst_offset = int(nbytes), int(src_offset), int(dst_offset)
        check_copy(src.nbytes, dst.nbytes, nbytes, src_offset, dst_offset, src is dst)
        if nbytes:
            self._resources[id(src)] = src
            self._resources[id(dst)] = dst
            self._ops.append(functools.partial(
                cl.enqueue_copy, self._queue, dst.mem, src.mem, byte_count=nbytes,
                src_offset=src_offset, dst_offset=dst_offset))

    def set_uniform(self, dispatch_index: int, uniform: bytes) -> None:
        entry = self._dispatches[check_dispatch_index(dispatch_index, len(self._dispatches))]
        entry.set_uniform(uniform, entry.uniform)
        entry.uniform = bytes(uniform)

    # ------------------------------------------------------------------ running
    def submit(self, instance_uniforms=None) -> OpenCLSignal:
        self._check_usable()
        for per_dispatch in instance_uniforms or ():
            check_instance_count(len(per_dispatch), len(self._dispatches))
        for handle in self._resources.values():
            if handle.freed:
                raise UseAfterFreeError(f"this command list uses {handle!r}, freed after "
                                        f"recording; reset() and record again")
        timed = self.timestamps_enabled
        twin = self._queue is not self._main   # timing on the profiling twin queue
        self._events = []
        event = None
        try:
            if twin:  # start after everything enqueued on the queue so far
                cl.enqueue_barrier(self._queue, wait_for=[cl.enqueue_marker(self._main)])
            if instance_uniforms is None:
                event = self._run(timed)
            else:
                try:
                    for per_dispatch in instance_uniforms:
                        for entry, uniform in zip(self._dispatches, per_dispatch):
                            entry.set_uniform(uniform)
                        last = self._run(timed)
                        event = last if last is not None else event
                finally:  # a later plain submit() runs the recorded uniforms again
                    for entry in self._dispatches:
                        entry.set_uniform(entry.uniform)
            if event is None:  # nothing ran: signal the queue's earlier work
                event = cl.enqueue_marker(self._queue)
            if twin:  # later work on the queue waits for this submission
                self._queue.flush()
                event = cl.enqueue_barrier(self._main, wait_for=[event])
            self._main.flush()
        except cl.Error as exc:
            raise error_for(exc, "clEnqueue (command list submit)") from None
        self._ctx._last_events[self._queue_index] = event   # host accesses wait for it
        self._last = OpenCLSignal(event)
        if self._ctx.debug:  # debugging: surface failures at the submit call
            self._last.wait()
        return self._last

    def _run(self, timed: bool):
        ops = self._ops
        if not ops:
            return None
        if timed:  # keep the dispatch events of this run (the last instance's at the end)
            events = [op() for op in ops]
            self._events = [None if i is None else events[i] for i in self._op_of_dispatch]
            return events[-1]
        for op in ops:
            event = op()
        return event

    def timestamps(self) -> list:
        """Seconds each dispatch of the latest submission ran (its last instance), in
        dispatch order; 0.0 for an empty launch. Waits for them."""
        if not self.timestamps_enabled:
            raise VkDispatchError("create the command list with timestamps=True to time "
                                  "dispatches")
        try:
            out = []
            for event in self._events:
                if event is None:
                    out.append(0.0)
                else:
                    wait_event(event)
                    out.append((event.profile.end - event.profile.start) * 1e-9)
            return out
        except cl.Error as exc:
            raise error_for(exc, "clGetEventProfilingInfo") from None

    def reset(self) -> None:
        # No wait: an enqueued command keeps its kernel and memory objects alive, and
        # its arguments were captured at enqueue, so in-flight work is unaffected by
        # dropping or re-using (with new arguments) the kernels here.
        self._last = None
        self._events = []
        by_program = {}
        for entry in self._dispatches:
            by_program.setdefault(entry.program, []).append(entry.kernel)
        for program, kernels in by_program.items():
            program.give_kernels(self._slot, kernels)
        self._ops.clear()
        self._dispatches.clear()
        self._op_of_dispatch.clear()
        self._resources.clear()

    def destroy(self) -> None:
        if self._destroyed:
            return
        self.reset()
        self._destroyed = True
        self._ctx._forget_list(self)

    def _check_usable(self) -> None:
        if self._destroyed:
            raise UseAfterFreeError("this command list was destroyed")
        self._ctx._check_alive()

    def __len__(self) -> int:
        return len(self._dispatches)
