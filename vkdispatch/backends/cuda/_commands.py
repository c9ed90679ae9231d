"""Command lists (recorded launches and copies, replayed in stream order), their CUDA
Graph replay path, and Signals wrapping CUevents.

Each recorded dispatch owns an argument arena (binding slots + uniform bytes) and the
kernelParams pointer array into it, built once; `set_uniform` rewrites the arena in
place. cuLaunchKernel copies parameter values at the call, so the arena may change as
soon as a launch is enqueued.

Graphs: a submit that finds the list unchanged since the previous submit captures the
list into a CUDA graph (stream capture) and launches that; later unchanged submits only
call cuGraphLaunch. Any change (a new command, set_uniform with new bytes) makes the
graph stale: the next submit launches directly, and the one after re-captures, updating
the executable graph in place (cuGraphExecUpdate) when it can. Per-instance uniforms
launch directly and leave the recorded uniforms (and the graph) as they were.
"""
from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np
from cuda.bindings import driver

from ...base.errors import (InvalidArgumentError, UnsupportedFeatureError, UseAfterFreeError,
                            VkDispatchError)
from ..common import (check_binding_count, check_copy, check_disjoint, check_dispatch_index,
                      check_instance_count, check_uniform_size, host_bytes, poll,
                      workgroup_counts)
from ..runtime import CommandList, Signal
from ...base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_BUFFER, BINDING_STORAGE_IMAGE, BINDING_UNIFORM_BUFFER
from . import _image
from ._check import check, error_for, quiet
from ._memory import resolve

_NOT_READY = driver.CUresult.CUDA_ERROR_NOT_READY
_NO_TIMING = driver.CUevent_flags.CU_EVENT_DISABLE_TIMING
_CAPTURE_NONE = driver.CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_NONE
_THREAD_LOCAL = driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
_graph_launch = driver.cuGraphLaunch
_event_record = driver.cuEventRecord


def _capturing(stream) -> bool:
    """Whether the driver reports `stream` as being captured."""
    err, status = driver.cuStreamIsCapturing(stream)
    return not err and status != _CAPTURE_NONE


def capturing(q) -> bool:
    """Whether work sent to queue `q` now goes into a graph capture. vkdispatch's own
    stream is captured only through begin_capture (which keeps `q.own_capturing`), so
    only an external stream, which its library may be capturing, costs a driver call."""
    if q.stream is q.own_stream:
        return q.own_capturing
    return _capturing(q.stream)


class EventPool:
    """The events of one device's Signals, reused: a Signal gives its event back once
    its work is done or when it is dropped (re-recording an event that is still
    pending only moves what it captures, and nobody waits on the dropped Signal), so a
    submit records an event instead of creating one and a Signal's end destroys none.
    `close()` (context teardown, after every stream was synchronized) destroys them all;
    Signals still alive then report done."""

    __slots__ = ("guard", "free", "created", "closed", "lock")

    def __init__(self, guard):
        self.guard = guard
        self.free = []           # events no Signal holds
        self.created = []        # every event made here, destroyed by close()
        self.closed = False
        self.lock = threading.Lock()

    def take(self):
        """An event to record (the device's context must be current)."""
        try:
            return self.free.pop()
        except IndexError:
            pass
        event = check(driver.cuEventCreate(_NO_TIMING), "cuEventCreate")
        self.created.append(event)
        return event

    def give(self, event) -> None:
        if not self.closed:
            self.free.append(event)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            created, self.created, self.free = self.created, [], []
        if created:
            with self.guard:
                for event in created:
                    quiet(driver.cuEventDestroy(event))


def signal_after(q, pool: EventPool) -> "CudaSignal":
    """A Signal for the work enqueued so far on queue `q` (its device's context current,
    its lock held)."""
    if capturing(q):
        # the work went into a graph capture: nothing runs now, and an event recorded
        # here could not be queried until the capture ends
        return CudaSignal(None, pool, True)
    event = pool.take()
    (err,) = _event_record(event, q.stream)
    if err:
        pool.give(event)
        raise error_for(err, "cuEventRecord")
    return CudaSignal(event, pool, False)


class CudaSignal(Signal):
    """Completion of one submit: an event (from its device's EventPool) recorded after
    its work."""

    __slots__ = ("_event", "_pool", "_done")

    def __init__(self, event, pool: EventPool, done: bool = False):
        self._event = event
        self._pool = pool
        self._done = done

    def done(self) -> bool:
        if self._done:
            return True
        if self._pool.closed:     # the context was destroyed after synchronizing
            self.finish()
            return True
        with self._pool.guard:
            (err,) = driver.cuEventQuery(self._event)
        if not err:
            self.finish()
            return True
        if err == _NOT_READY:
            return False
        raise error_for(err, "cuEventQuery")

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self._done:
            return True
        if self._pool.closed:
            self.finish()
            return True
        if timeout is None:
            with self._pool.guard:
                check(driver.cuEventSynchronize(self._event), "cuEventSynchronize")
            self.finish()
            return True
        return poll(self.done, timeout)   # cuEventSynchronize has no timeout

    def finish(self) -> None:
        """Mark done and give the event back (once, also when threads race here)."""
        self._done = True
        with self._pool.lock:
            event, self._event = self._event, None
        if event is not None:
            self._pool.give(event)

    def __del__(self):
        # no other reference exists, so no lock; no driver call either (safe at any
        # time, in a forked child too)
        event = self._event
        if event is not None:
            self._event = None
            self._pool.give(event)


class _Launch:
    __slots__ = ("name", "func", "gx", "gy", "gz", "bx", "by", "bz", "skip", "layout",
                 "arena", "arena_bytes", "params", "params_addr", "events", "refs")

    def enqueue(self, stream) -> None:
        if self.skip:
            return
        events = self.events
        if events:
            check(driver.cuEventRecord(events[0], stream), "cuEventRecord")
        (err,) = driver.cuLaunchKernel(self.func, self.gx, self.gy, self.gz, self.bx, self.by,
                                       self.bz, 0, stream, self.params_addr, 0)
        if err:
            raise error_for(err, "cuLaunchKernel", f"kernel {self.name!r}")
        if events:
            check(driver.cuEventRecord(events[1], stream), "cuEventRecord")

    def uniform_bytes(self, data):
        """`data` as flat bytes (bytes as is, else a byte view) after checking its size;
        None for empty data."""
        if type(data) is bytes:      # what graphs pass: no view to make
            mv, n = data, len(data)
        else:
            mv = host_bytes(data, f"uniform of kernel {self.name!r}")
            n = mv.nbytes
        if n == 0:
            return None
        check_uniform_size(n, self.layout.uniform_needed, self.layout.uniform_size, self.name)
        return mv

    def write_uniform(self, new) -> bool:
        """Copy checked uniform bytes into the arena; True when they changed. (Byte
        views, not numpy calls: an eager call with a new scalar comes here each time.)"""
        if new is None:
            return False
        start = self.layout.uniform_offset
        region = self.arena_bytes[start:start + len(new)]
        if region == new:
            return False
        region[:] = new
        return True


class _Copy:
    __slots__ = ("dst", "src", "nbytes", "skip", "refs")

    def enqueue(self, stream) -> None:
        if not self.skip:
            (err,) = driver.cuMemcpyDtoDAsync(self.dst, self.src, self.nbytes, stream)
            if err:
                raise error_for(err, "cuMemcpyDtoDAsync", f"{self.nbytes} bytes")


class CudaCommandList(CommandList):
    """Work for one queue. `use_graphs` (default True) enables CUDA Graph replay;
    `timestamps=True` brackets every dispatch with timing events (and disables graphs)."""

    def __init__(self, context, queue: int, timestamps: bool = False):
        self.context = context
        self.queue = queue
        self._q = context._queues[queue]
        self._dev = context._devices[self._q.device]
        self.timestamps_enabled = bool(timestamps)
        self.use_graphs = True
        self.graph_captures = 0
        self.graph_launches = 0
        self._commands = []
        self._launches = []
        self._version = 0              # bumped by every change to what a submit runs
        self._submitted_version = -1   # version of the last submit
        self._graph_version = -1       # version the executable graph was captured at
        self._exec = None
        self._last_signal = None
        self._timed = 0                # dispatches whose events the last submit recorded
        self._checked_epoch = -1       # context.free_epoch when the refs were last seen alive
        self.destroyed = False

    def __repr__(self) -> str:
        return (f"<CudaCommandList queue {self.queue}: {len(self._launches)} dispatches, "
                f"{len(self._commands) - len(self._launches)} copies>")

    # ------------------------------------------------------------------ recording

    def _alive(self) -> None:
        if self.destroyed:
            raise UseAfterFreeError("this command list was destroyed")
        self.context._check_alive()

    def _check_device(self, device: int, what: str) -> None:
        if device != self._q.device:
            raise ValueError(f"{what} lives on device {device} of the context, but queue "
                             f"{self.queue} runs on device {self._q.device}")

    def _binding_value(self, binding, operand, refs) -> int:
        what = f"binding {binding.name!r}"
        kind = binding.kind
        if kind in (BINDING_STORAGE_BUFFER, BINDING_UNIFORM_BUFFER):
            buf, ptr, _ = resolve(operand, what)
            self._check_device(buf.device, what)
            refs.append(buf)
            return ptr
        if kind == BINDING_SAMPLED_IMAGE:
            if not (isinstance(operand, tuple) and len(operand) == 2
                    and isinstance(operand[0], _image.CudaImage)
                    and isinstance(operand[1], _image.CudaSampler)):
                raise TypeError(f"{what} is a sampled image: pass (image, sampler), "
                                f"got {type(operand).__name__}")
            img, sampler = operand
            value = _image.texture(self._live_image(img, what), sampler)
        elif kind == BINDING_STORAGE_IMAGE:
            img = operand[0] if isinstance(operand, tuple) and operand else operand
            if not isinstance(img, _image.CudaImage):
                raise TypeError(f"{what} is a storage image: pass the image, "
                                f"got {type(operand).__name__}")
            if img.texel_size != 16:
                # the emitter addresses surfaces in 16-byte texels (float4/int4/uint4)
                raise UnsupportedFeatureError(
                    f"{what}: CUDA storage images must have 4 channels of a 32-bit type "
                    f"(float32, int32 or uint32), got {img.channels} x {img.dtype}")
            value = _image.surface(self._live_image(img, what))
        else:
            raise ValueError(f"{what} has unknown kind {kind!r}")
        refs.append(img)
        return value

    def _live_image(self, img, what):
        if img.freed:
            raise UseAfterFreeError(f"{what}: {img!r} was freed")
        self._check_device(img.device, what)
        return img

    def dispatch(self, program, groups, bindings, uniform=b"") -> int:
        self._alive()
        ctx_program = getattr(program, "context", None)
        if ctx_program is not self.context:
            raise InvalidArgumentError("program must be created by the same context as this "
                                       "command list")
        if program.destroyed:
            raise UseAfterFreeError(f"program {program.info.entry_point!r} was destroyed")
        info, layout = program.info, program.layout
        bindings = list(bindings)
        check_binding_count(info, bindings)
        launch = _Launch()
        launch.name = info.entry_point
        launch.layout = layout
        launch.func = program.functions[self._q.device]
        launch.gx, launch.gy, launch.gz = grid = workgroup_counts(groups, self._dev.info)
        launch.bx, launch.by, launch.bz = program.local_size
        launch.skip = 0 in grid
        launch.events = ()
        refs = [program]
        # 8-byte aligned: numpy allocations are 16-byte aligned
        launch.arena = np.zeros(max(layout.arena_size, 8), np.uint8)
        launch.arena_bytes = memoryview(launch.arena)
        with self._q.lock, self._dev.guard:
            slots = launch.arena[:layout.uniform_offset].view(np.uint64)
            for i, (b, operand) in enumerate(zip(info.bindings, bindings)):
                slots[layout.slot_of[i]] = self._binding_value(b, operand, refs)
            launch.write_uniform(launch.uniform_bytes(uniform))
            base = launch.arena.ctypes.data
            launch.params = np.array([base + o for o in layout.param_offsets], np.uint64)
            launch.params_addr = launch.params.ctypes.data if layout.param_offsets else 0
            launch.refs = refs
            if self.timestamps_enabled:
                launch.events = self._timing_events()
            self._commands.append(launch)
            self._launches.append(launch)
            self._version += 1
        return len(self._launches) - 1

    def _timing_events(self) -> tuple:
        start = check(driver.cuEventCreate(0), "cuEventCreate")
        try:
            return (start, check(driver.cuEventCreate(0), "cuEventCreate"))
        except BaseException:
            quiet(driver.cuEventDestroy(start))
            raise

    def copy(self, src, dst, nbytes: int, src_offset: int = 0, dst_offset: int = 0) -> None:
        self._alive()
        sbuf, sptr, ssize = resolve(src, "copy source")
        dbuf, dptr, dsize = resolve(dst, "copy destination")
        nbytes, src_offset, dst_offset = int(nbytes), int(src_offset), int(dst_offset)
        check_copy(ssize, dsize, nbytes, src_offset, dst_offset, False)
        if sbuf is dbuf:   # views of one buffer: compare device addresses
            check_disjoint(sptr + src_offset, dptr + dst_offset, nbytes)
        cmd = _Copy()
        cmd.src, cmd.dst, cmd.nbytes = sptr + src_offset, dptr + dst_offset, nbytes
        cmd.skip = nbytes == 0
        cmd.refs = (sbuf, dbuf)
        with self._q.lock:
            self._commands.append(cmd)
            self._version += 1

    def set_uniform(self, dispatch_index: int, uniform) -> None:
        if self.destroyed or self.context.destroyed:
            self._alive()
        launch = self._launches[check_dispatch_index(dispatch_index, len(self._launches))]
        new = launch.uniform_bytes(uniform)
        with self._q.lock:
            if launch.write_uniform(new):
                self._version += 1

    # ------------------------------------------------------------------ running

    def submit(self, instance_uniforms: Optional[Sequence[Sequence[bytes]]] = None) -> CudaSignal:
        if self.destroyed or self.context.destroyed:
            self._alive()
        if self._checked_epoch != self.context.free_epoch:
            self._check_refs()
        if instance_uniforms is not None:
            return self._submit_instances(instance_uniforms)
        q = self._q
        dev = self._dev
        with q.lock:
            if not dev.guard.current():
                with dev.guard:
                    return self._run(q)
            if q.stream is not q.own_stream or q.own_capturing:
                return self._run(q)
            # the common cases on the queue's own stream with the context current,
            # inlined: a replay (three driver calls: cuCtxGetCurrent above,
            # cuGraphLaunch, cuEventRecord, no event created or destroyed), or the
            # direct launches of a list changed since its last submit (an eager call
            # with a new scalar); a capture goes through _run
            stream = q.stream
            if self._graph_version == self._version:
                (err,) = _graph_launch(self._exec, stream)
                if err:
                    raise error_for(err, "cuGraphLaunch")
                self.graph_launches += 1
            elif self._submitted_version != self._version:
                for cmd in self._commands:
                    cmd.enqueue(stream)
            else:
                return self._run(q)
            self._submitted_version = self._version
            self._timed = len(self._launches)
            pool = dev.events
            try:
                event = pool.free.pop()
            except IndexError:
                event = pool.take()
            (err,) = _event_record(event, stream)
            if err:
                pool.give(event)
                raise error_for(err, "cuEventRecord")
            signal = CudaSignal(event, pool, False)
            self._last_signal = signal
            return signal

    def _run(self, q) -> CudaSignal:
        """Run the recorded commands on `q` (locked, context current): replay the graph,
        capture one (the list is unchanged since its last submit), or launch directly."""
        stream = q.stream
        if self._graph_version == self._version and self._exec is not None:
            (err,) = _graph_launch(self._exec, stream)
            if err:
                raise error_for(err, "cuGraphLaunch")
            self.graph_launches += 1
        elif (self._submitted_version == self._version
              and self._graph_refusal(q) is None):   # (refuses capturing streams)
            self._capture(stream)
            self._launch_graph(stream)
        else:
            self._enqueue(stream)
        self._submitted_version = self._version
        self._timed = len(self._launches)
        signal = signal_after(q, self._dev.events)
        if not signal._done:     # (one into a capture is: keep the last that runs)
            self._last_signal = signal
        return signal

    def _submit_instances(self, instance_uniforms) -> CudaSignal:
        instances = [self._instance(k, inst) for k, inst in enumerate(instance_uniforms)]
        q = self._q
        with q.lock, self._dev.guard:
            stream = q.stream
            # a later plain submit runs the recorded uniforms again (as on every
            # backend): launches copy their parameters, so restore them at once
            recorded = [launch.arena.copy() for launch in self._launches]
            try:
                for inst in instances:
                    for launch, new in zip(self._launches, inst):
                        launch.write_uniform(new)
                    self._enqueue(stream)
            finally:
                for launch, arena in zip(self._launches, recorded):
                    launch.arena[:] = arena
            self._submitted_version = self._version
            self._timed = len(self._launches)
            signal = signal_after(q, self._dev.events)
        if not signal._done:
            self._last_signal = signal
        return signal

    def _check_refs(self) -> None:
        """Something was freed since the last submit: refuse to run on freed memory."""
        for cmd in self._commands:
            for ref in cmd.refs:
                if getattr(ref, "freed", False) or getattr(ref, "destroyed", False):
                    raise UseAfterFreeError(f"this command list uses {ref!r}, freed after "
                                            f"recording; reset() and record again")
        self._checked_epoch = self.context.free_epoch

    def _instance(self, k: int, inst) -> list:
        inst = list(inst)
        check_instance_count(len(inst), len(self._launches))
        return [launch.uniform_bytes(u) for launch, u in zip(self._launches, inst)]

    def _enqueue(self, stream) -> None:
        for cmd in self._commands:
            cmd.enqueue(stream)

    def _graph_refusal(self, q) -> Optional[str]:
        """Why this list cannot be captured into a graph on queue `q`'s stream now (None:
        it can)."""
        if not self.use_graphs:
            return "use_graphs is False"
        if self.timestamps_enabled:
            return "the list records timestamps"
        if all(c.skip for c in self._commands):
            return "the list has no work"
        if int(q.stream) <= 2:
            return "the queue runs on a default (legacy or per-thread) stream"
        if capturing(q):
            return "the stream is already being captured"
        return None

    def _capture(self, stream) -> None:
        check(driver.cuStreamBeginCapture(stream, _THREAD_LOCAL), "cuStreamBeginCapture")
        try:
            self._enqueue(stream)
        except BaseException:
            err, graph = driver.cuStreamEndCapture(stream)
            if not err and graph is not None and int(graph):
                quiet(driver.cuGraphDestroy(graph))
            raise
        graph = check(driver.cuStreamEndCapture(stream), "cuStreamEndCapture")
        try:
            if self._exec is not None and driver.cuGraphExecUpdate(self._exec, graph)[0]:
                self._drop_graph()   # topology changed: instantiate anew
            if self._exec is None:
                self._exec = check(driver.cuGraphInstantiate(graph, 0), "cuGraphInstantiate")
        finally:
            quiet(driver.cuGraphDestroy(graph))
        self._graph_version = self._version
        self.graph_captures += 1

    def _launch_graph(self, stream) -> None:
        check(driver.cuGraphLaunch(self._exec, stream), "cuGraphLaunch")
        self.graph_launches += 1

    def _drop_graph(self) -> None:
        if self._exec is not None:
            quiet(driver.cuGraphExecDestroy(self._exec))
            self._exec = None
        self._graph_version = -1

    def capture_graph(self) -> None:
        """Capture the recorded commands into a CUDA graph now, so the next submit (with
        no change in between) replays it. Raises UnsupportedFeatureError saying why not."""
        self._alive()
        with self._q.lock, self._dev.guard:
            reason = self._graph_refusal(self._q)
            if reason:
                raise UnsupportedFeatureError(f"cannot capture this command list into a CUDA "
                                              f"graph: {reason}")
            self._capture(self._q.stream)

    @property
    def graph_ready(self) -> bool:
        """True when the next plain submit will be a graph replay."""
        return self._exec is not None and self._graph_version == self._version

    def timestamps(self) -> list:
        """Seconds each dispatch of the last submit took on the GPU (its last instance),
        in dispatch order; waits for that submit."""
        if not self.timestamps_enabled:
            raise VkDispatchError("create the command list with timestamps=True to time "
                                  "dispatches")
        if self._last_signal is None:
            return []
        self._last_signal.wait()
        out = []
        with self._dev.guard:
            for launch in self._launches[:self._timed]:
                if launch.skip:
                    out.append(0.0)
                else:
                    ms = check(driver.cuEventElapsedTime(*launch.events), "cuEventElapsedTime")
                    out.append(float(ms) * 1e-3)
        return out

    # ------------------------------------------------------------------ teardown

    def reset(self) -> None:
        self._alive()
        self._clear()

    def _clear(self, teardown: bool = False) -> None:
        if self._last_signal is not None:
            try:
                self._last_signal.wait()
            except Exception:
                if not teardown:
                    raise
            self._last_signal = None
        with self._q.lock, self._dev.guard:
            self._drop_graph()
            for launch in self._launches:
                for ev in launch.events:
                    quiet(driver.cuEventDestroy(ev))
                launch.events = ()
            self._commands.clear()
            self._launches.clear()
            self._version += 1
            self._timed = 0

    def destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        try:
            self._clear(teardown=True)
        finally:
            self.context._lists.discard(self)
