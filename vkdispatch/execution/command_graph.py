"""CommandGraph: deferred, replayable recording of dispatches and copies.

Shader calls record into a graph (the thread's global graph unless one is given).
`submit()` turns the records into one runtime command list per queue (built once and
replayed while the records don't change) and runs them. A list outlives its records
for a while: when the same records (same kernels, resources and launch sizes) are
submitted again, as an eager loop or a repeated sequence between host reads does, the
recorded list is replayed instead of rebuilt, its uniforms rewritten where their
values changed. Named variables
(`bind_var`/`set_var`) change uniform values between submissions without re-recording.
With `timestamps=True` the lists time every dispatch on the device (`timestamps()`).
"""
from __future__ import annotations

import dataclasses
import operator
import threading
import time
import weakref
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from ..base.abi import BINDING_SAMPLED_IMAGE, BINDING_STORAGE_IMAGE
from ..base import dtype as dt
from ..base import stats
from ..base.buffer import (Buffer, flush_pending, register_annotation,
                           register_before_host_access)
from ..base.context import get_context
from ..base.errors import (InvalidArgumentError, OutOfBoundsError, UnsupportedFeatureError,
                           UseAfterFreeError, VkDispatchError)
from ..codegen.ir import LENGTH_PREFIX
from ..codegen.types import Buff
from .kernel import CompiledKernel, kernel_cache

register_annotation(Buff.__getitem__)   # vd.Buffer[dtype] == Buff[dtype] in signatures


@dataclasses.dataclass
class BufferBindInfo:
    """vkdispatch 0.1's description of one buffer binding; `CommandGraph.record` takes a
    list of these (placed by `binding`, the kernel's binding index) as its resources.
    The access flags and shape name are informative: the kernel declares its own."""
    buffer: Buffer
    binding: int
    shape_name: str = ""
    read_access: bool = True
    write_access: bool = True


@dataclasses.dataclass
class ImageBindInfo:
    """The same for an image binding; `sampler` is what `record` takes for it (an
    Image, or an (Image, Sampler) pair)."""
    sampler: Any
    binding: int
    read_access: bool = True
    write_access: bool = False


# Called as hook(graph, resources) before a command is recorded into any graph: a lazy
# layer records its pending work on those resources first (base never imports it).
_before_record: list = []


def register_before_record(hook) -> None:
    if hook not in _before_record:
        _before_record.append(hook)


class BoundVariable:
    """A placeholder for a value set later with `graph.set_var(name, value)`."""
    __slots__ = ("graph", "name")

    def __init__(self, graph: "CommandGraph", name: str):
        self.graph = graph
        self.name = name

    def __repr__(self) -> str:
        return f"<bound variable {self.name!r}>"


class _Dispatch:
    __slots__ = ("kernel", "groups", "resources", "values", "var_fields", "packed")

    def __init__(self, kernel, groups, resources, values, var_fields, packed):
        self.kernel = kernel
        self.groups = groups
        self.resources = resources      # Buffer / Image (or (Image, Sampler)) per binding
        self.values = values            # uniform name -> value (constants)
        self.var_fields = var_fields    # uniform name -> bound variable name
        self.packed = packed            # uniform bytes when no field is a bound variable


_NO_VALUES: dict = {}
_DISPATCHES, _SUBMITS = stats.DISPATCHES_RECORDED, stats.SUBMITS   # a graph's tally


class _Copy:
    __slots__ = ("src", "dst", "nbytes", "src_offset", "dst_offset")

    def __init__(self, src, dst, nbytes, src_offset, dst_offset):
        self.src, self.dst, self.nbytes = src, dst, nbytes
        self.src_offset, self.dst_offset = src_offset, dst_offset


class _Built:
    """A command list built from records: its dispatch indices (for set_uniform), its
    mode (timestamps, hazard tracking), and for replay the records' content key (ids of
    kernels and resources, launch sizes; None when bound variables make the uniforms
    change) with weak references that tell whether those ids still name the same live
    objects (an id is reused once its object is gone). `uniforms`: per record, the
    uniform bytes the list now runs (None for a copy): a replay rewrites those that
    changed (set_uniform) instead of recording the list again."""
    __slots__ = ("cl", "indices", "mode", "key", "refs", "uniforms")

    def __init__(self, cl, indices, mode, key, refs, uniforms):
        self.cl, self.indices, self.mode, self.key, self.refs = cl, indices, mode, key, refs
        self.uniforms = uniforms


def _flat_resources(records) -> list:
    out = []
    for rec in records:
        for res in (rec.resources if type(rec) is _Dispatch else (rec.src, rec.dst)):
            if type(res) is tuple:
                out.extend(res)
            else:
                out.append(res)
    return out


def _owner(res):
    """The object a built list's binding of `res` lives on: a buffer view's base buffer
    (so views made afresh for each call of the same memory replay one list), else
    `res` itself."""
    if isinstance(res, Buffer):
        return res._base or res
    return res


def _ident(res):
    """What a built list binds of `res`, comparable across calls: a buffer's memory
    (its base's id, byte offset and size), else the object's id."""
    if isinstance(res, Buffer):
        return (id(res._base or res), res.offset, res.nbytes)
    return id(res)


def _resource_handle(res, queue: int):
    if isinstance(res, tuple):   # (image, sampler)
        return (res[0].handle(queue), res[1].handle(queue))
    return res.handle(queue)


_UNSET = object()


def _argument(kernel, name: str) -> str:
    return f"kernel {kernel.info.entry_point}: argument {name!r}"


class CommandGraph:
    """Records shader dispatches and copies for later (repeated) submission.

    reset_on_submit: forget the records after each submit (the global graph does this).
    submit_on_record: submit after every record (immediate mode).
    timestamps: time every dispatch on the device; read with `timestamps()` (this may
    add launch overhead, e.g. CUDA graphs are not used)."""

    def __init__(self, reset_on_submit: bool = False, submit_on_record: bool = False,
                 timestamps: bool = False):
        self.context = get_context()
        self._queues = range(self.context.queue_count)   # fixed for a context
        rctx = self.context.runtime_context
        # a runtime that captures graphs (CUDA) says per queue whether one is under way
        self._queue_capturing = rctx.queue_capturing if rctx.capabilities.graph_capture else None
        self.reset_on_submit = reset_on_submit
        self.submit_on_record = submit_on_record
        self._timestamps = bool(timestamps)
        self._records: list = []
        self._lists: dict = {}          # queue -> _Built
        self._vars: dict = {}           # name -> value
        self._bound_names: set = set()  # every name bind_var gave out
        self._dirty_vars: set = set()
        self._signals: list = []
        self._submitted: dict = {}      # queue -> CommandList of the last submit (timestamps)
        self._spare: dict = {}          # queue -> [(_Built, Signal of its last run)]
        self._singles: dict = {}        # single-dispatch lists of eager calls (_submit_single)
        self._last_single = None        # (kernel, launch, queue, timestamps, _Built,
        #                                   weak refs to its resources): the last submit
        self._lock = threading.RLock()
        self._tally = stats.tally(self)   # dispatches and submits, counted under _lock
        self._hand_written = 0          # records of kernels that may reach unbound memory
        self._debug_records = 0         # records of kernels that report out-of-range accesses
        self._var_records = 0           # records whose uniforms come from bound variables
        # a graph that forgets its records at submit runs them once this many are
        # pending: memory stays bounded, and a loop's equal chunks replay one list
        self._max_pending = self.MAX_PENDING if reset_on_submit else 0

    @property
    def timestamps_enabled(self) -> bool:
        """Whether submits time every dispatch. Switching it rebuilds the command lists
        at the next submit (spare lists of the other setting are not reused)."""
        return self._timestamps

    @timestamps_enabled.setter
    def timestamps_enabled(self, on: bool) -> None:
        with self._lock:
            if bool(on) != self._timestamps:
                self._timestamps = bool(on)
                self._invalidate()

    # ------------------------------------------------------------------ recording
    def bind_var(self, name: str) -> BoundVariable:
        """A placeholder to pass for a Var[...] (or Const[...]) parameter; its value comes
        from set_var at submit time."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"variable name must be a non-empty str, got {name!r}")
        with self._lock:
            self._bound_names.add(name)
        return BoundVariable(self, name)

    def set_var(self, name: str, value) -> None:
        """Set a bound variable. With submit(instance_count=n), a value whose first axis
        has length n gives each instance its own value."""
        with self._lock:
            if name not in self._bound_names:
                raise KeyError(f"{name!r} is not a variable of this graph; bound with "
                               f"bind_var: {sorted(self._bound_names)}")
            self._vars[name] = value
            self._dirty_vars.add(name)

    def record(self, kernel: CompiledKernel, launch: tuple, resources: Sequence,
               uniforms: Union[Mapping, bytes, None] = None) -> None:
        """Record a dispatch of `kernel` over `launch` workgroups (x, y, z).

        resources: a Buffer, Image or (Image, Sampler) per binding, in
            `kernel.binding_names` order (a sampled-image binding given an Image uses its
            default sampler). A kernel that reports out-of-range accesses (debug mode)
            gets the context's debug buffer at its hidden `kernel.debug_binding` when
            that one is left out.
        uniforms: {name: value} for every uniform of the kernel (a value may be a
            `bind_var` placeholder), or the raw uniform bytes (hand-written kernels).
            The hidden element counts of memory-checked kernels (`vkd_len_<param>`,
            `kernel.length_fields`) may be left out: they are the element counts of the
            buffers (views) bound to `<param>`. One given must not exceed that count."""
        if not isinstance(kernel, CompiledKernel):
            raise TypeError(f"record() takes a CompiledKernel, got {type(kernel).__name__}")
        if kernel.context is not self.context:
            raise VkDispatchError("the kernel was built for another context than this graph's; "
                                  "create graphs after vd.make_context()")
        bindings = kernel.info.bindings
        resources = list(resources)
        if resources and isinstance(resources[0], (BufferBindInfo, ImageBindInfo)):
            resources = self._placed(kernel, resources)
        debug = kernel.debug_binding
        if debug is not None and len(resources) == len(bindings) - 1:
            resources.insert(debug, kernel_cache(self.context).debug_buffer())
        if len(resources) != len(bindings):
            raise ValueError(f"kernel {kernel.info.entry_point} has {len(bindings)} bindings "
                             f"{list(kernel.binding_names)}; got {len(resources)} resources")
        for i, binding in enumerate(bindings):
            res = resources[i]
            self._check_resource(_argument(kernel, binding.name), res)
            if binding.kind == BINDING_SAMPLED_IMAGE:
                if not isinstance(res, tuple):   # an Image, or a Sampler bound to one
                    resources[i] = res = res.sampled_binding()
                self._check_layer_sampling(kernel, binding, res[1])
            elif binding.kind == BINDING_STORAGE_IMAGE:
                if isinstance(res, tuple):
                    resources[i] = res = res[0]
                if getattr(res, "levels", 1) > 1:   # a storage view has one level
                    raise UnsupportedFeatureError(
                        f"{_argument(kernel, binding.name)}: a mipmapped image ({res.levels} "
                        f"levels) cannot be bound as a storage image; sample or fetch it")
        values, var_fields = {}, {}
        if isinstance(uniforms, (bytes, bytearray)):
            if len(uniforms) != kernel.info.uniform_size:
                raise ValueError(f"kernel {kernel.info.entry_point} takes "
                                 f"{kernel.info.uniform_size} uniform bytes, got {len(uniforms)}")
            packed = bytes(uniforms)
        else:
            if uniforms is None:
                uniforms = _NO_VALUES
            lengths = kernel.length_fields
            for name in kernel.uniform_names:
                v = uniforms.get(name, _UNSET)
                if name in lengths:
                    v = self._element_count(kernel, name, resources[lengths[name]], v)
                elif v is _UNSET:
                    raise KeyError(f"kernel {kernel.info.entry_point}: no value for uniform "
                                   f"{name!r} (uniforms: {list(kernel.uniform_names)})")
                if isinstance(v, BoundVariable):
                    if v.graph is not self:
                        raise ValueError(f"variable {v.name!r} was bound on another CommandGraph")
                    var_fields[name] = v.name
                else:
                    values[name] = v
            # pack now: bad constants raise at the call, and constant-only records pack once
            if var_fields:
                types = kernel.uniform_types
                packed = kernel.packer.pack({**{n: np.zeros(types[n].numpy_shape,
                                                            dt.storage_numpy_dtype(types[n]))
                                                for n in var_fields}, **values})
            else:
                packed = kernel.packer.pack(values)
        self._append(_Dispatch(kernel, launch, resources, values, var_fields,
                               None if var_fields else packed))

    @staticmethod
    def _placed(kernel: CompiledKernel, infos: list) -> list:
        """BufferBindInfo/ImageBindInfo objects as resources in binding order."""
        by_index = {}
        for info in infos:
            if not isinstance(info, (BufferBindInfo, ImageBindInfo)):
                raise TypeError(f"kernel {kernel.info.entry_point}: give every resource as a "
                                f"BufferBindInfo/ImageBindInfo or none, got "
                                f"{type(info).__name__}")
            by_index[info.binding] = (info.buffer if isinstance(info, BufferBindInfo)
                                      else info.sampler)
        indices = [b.index for b in kernel.info.bindings if b.index in by_index]
        if len(by_index) != len(infos) or len(indices) != len(by_index):
            raise ValueError(f"kernel {kernel.info.entry_point} has bindings "
                             f"{[b.index for b in kernel.info.bindings]}; got bind infos for "
                             f"{[i.binding for i in infos]}")
        return [by_index[i] for i in indices]

    @staticmethod
    def _element_count(kernel: CompiledKernel, name: str, res, given) -> int:
        """The value of hidden length uniform `name`: the element count of `res`, the
        buffer bound to its parameter, or `given` where that is no larger."""
        if not isinstance(res, Buffer):
            raise TypeError(f"kernel {kernel.info.entry_point}: argument "
                            f"{name[len(LENGTH_PREFIX):]!r} must be a vd.Buffer, got "
                            f"{type(res).__name__}")
        if given is _UNSET:
            return res.size
        if isinstance(given, BoundVariable):
            raise ValueError(f"kernel {kernel.info.entry_point}: {name!r} is the element count "
                             f"of the bound buffer and cannot be a bound variable; leave it "
                             f"out and it is filled from the buffer")
        try:
            n = operator.index(given)
        except TypeError:
            raise TypeError(f"kernel {kernel.info.entry_point}: {name!r} must be an int, got "
                            f"{given!r}") from None
        if not 0 <= n <= res.size:
            raise InvalidArgumentError(
                f"kernel {kernel.info.entry_point}: {name!r} = {n} but the buffer bound to "
                f"{name[len(LENGTH_PREFIX):]!r} has {res.size} elements (a count past the "
                f"end would let the kernel touch memory outside it)")
        return n

    def record_packed(self, kernel: CompiledKernel, launch: tuple, resources: list,
                      packed: bytes) -> None:
        """`record` for a producer that already checked `resources` (Buffers, in binding
        order, the debug buffer of a reporting kernel included) and packed the uniforms
        (the eager fast path of @vd.shader)."""
        ctx = self.context
        if kernel.context is not ctx:
            raise VkDispatchError("the kernel was built for another context than this graph's")
        for res in resources:
            if res.context is not ctx or not (res._base or res)._handles:
                for name, r in zip(kernel.binding_names, resources):
                    self._check_resource(_argument(kernel, name), r)
        rec = _Dispatch(kernel, launch, resources, _NO_VALUES, _NO_VALUES, packed)
        if _before_record:   # a lazy layer's pending writes to these buffers come first
            for hook in _before_record:
                hook(self, resources)     # Buffers: nothing to flatten
        with self._lock:     # _append, less what a packed record cannot have
            records = self._records
            records.append(rec)
            if self._lists:
                self._invalidate()
            if not kernel.plain:
                self._count_kernel(kernel)
            self._tally[_DISPATCHES] += 1
            full = len(records) >= self._max_pending > 0 and not self._var_records
        if self.submit_on_record or full:
            self.submit()

    def _check_layer_sampling(self, kernel, binding, sampler) -> None:
        """Refuse, at the call, a kernel sampling an image array through a normalized
        sampler on a device that would read the wrong layer."""
        if binding.arrayed and binding.filtered and sampler.normalized and \
                not self.context.runtime_context.capabilities.layer_sampling:
            raise UnsupportedFeatureError(
                f"{_argument(kernel, binding.name)}: this device cannot sample an image array "
                f"through a normalized-coordinate sampler (capabilities.layer_sampling is "
                f"False: it would read the wrong layer); use texel_fetch or a sampler with "
                f"normalized=False")

    def _check_resource(self, what: str, res) -> None:
        """A resource (`what` names it in errors) must be alive and of this graph's
        context: a bad one raises here, at the call, and the graph stays as it was."""
        for r in (res if isinstance(res, tuple) else (res,)):
            ctx = getattr(r, "context", None)
            if ctx is None:
                raise TypeError(f"{what} must be a vd.Buffer or vd.Image, got {type(r).__name__}")
            if ctx is not self.context:
                if ctx.destroyed:
                    raise UseAfterFreeError(f"{what} belongs to a context that was destroyed or "
                                            f"replaced (vd.make_context / vd.initialize); "
                                            f"create it again in the current context")
                raise InvalidArgumentError(f"{what} belongs to another context than this "
                                           f"graph's")
            try:
                r.handle(0)
            except VkDispatchError as exc:
                raise UseAfterFreeError(f"{what}: {exc}") from None

    MAX_PENDING = 128
    # each instance's uniforms are packed on the host: past this, a submit would run for
    # minutes before the device sees any of it
    MAX_INSTANCES = 1 << 16

    def _append(self, rec) -> None:
        for hook in _before_record:
            hook(self, _flat_resources((rec,)))
        with self._lock:
            self._records.append(rec)
            if self._lists:
                self._invalidate()
            if type(rec) is _Dispatch:
                self._tally[_DISPATCHES] += 1
                if not rec.kernel.plain:
                    self._count_kernel(rec.kernel)
                if rec.var_fields:
                    self._var_records += 1
            full = len(self._records) >= self._max_pending > 0 and not self._var_records
        if self.submit_on_record or full:
            self.submit()

    def _count_kernel(self, kernel: CompiledKernel) -> None:
        if not kernel.bindings_only:
            self._hand_written += 1
        if kernel.debug_binding is not None:
            self._debug_records += 1

    def record_copy(self, src: Buffer, dst: Buffer, nbytes: Optional[int] = None,
                    src_offset: int = 0, dst_offset: int = 0) -> None:
        if nbytes is None:
            nbytes = min(src.nbytes - src_offset, dst.nbytes - dst_offset)
        if src_offset < 0 or dst_offset < 0 or nbytes < 0:
            raise ValueError("copy offsets and size must be non-negative")
        if src_offset + nbytes > src.nbytes or dst_offset + nbytes > dst.nbytes:
            raise ValueError(f"copy of {nbytes} bytes exceeds a buffer (src {src.nbytes} bytes "
                             f"from {src_offset}, dst {dst.nbytes} bytes from {dst_offset})")
        for name, buf in (("src", src), ("dst", dst)):
            if not isinstance(buf, Buffer):
                raise TypeError(f"copy {name} must be a vd.Buffer, got {type(buf).__name__}")
            self._check_resource(f"copy {name}", buf)
        a0 = (src._base or src, src.offset + src_offset)
        b0 = (dst._base or dst, dst.offset + dst_offset)
        if a0[0] is b0[0] and nbytes and a0[1] < b0[1] + nbytes and b0[1] < a0[1] + nbytes:
            raise InvalidArgumentError(f"copy source and destination overlap (bytes "
                                       f"[{a0[1]}, {a0[1] + nbytes}) and [{b0[1]}, "
                                       f"{b0[1] + nbytes}) of one allocation)")
        self._append(_Copy(src, dst, nbytes, src.offset + src_offset, dst.offset + dst_offset))

    def _invalidate(self) -> None:
        lists, self._lists = self._lists, {}
        for q, entry in lists.items():
            self._keep_spare(q, entry, None)

    _MAX_SPARE = 8

    def _keep_spare(self, queue: int, entry: _Built, signal) -> None:
        """Keep a built list for replaying the same records again, or for re-recording
        once `signal` (its last run) is done: both are far cheaper than creating a list,
        and nothing waits here. `mode` (timestamps, hazard tracking) is fixed at a list's
        creation, so a spare is re-recorded only for the same mode."""
        spare = self._spare.setdefault(queue, [])
        spare.append((entry, signal))
        if len(spare) > self._MAX_SPARE and not self._capturing(queue):
            old, _ = spare.pop(0)
            self._forget_submitted(queue, old.cl)
            old.cl.destroy()

    def _capturing(self, queue: int) -> bool:
        return self._queue_capturing is not None and self._queue_capturing(queue)

    def _mode(self) -> tuple:
        """(timestamps, hazard tracking): barriers may be skipped between commands whose
        bindings don't conflict unless a hand-written kernel (which may reach memory
        other than through its bindings) is recorded."""
        return (self._timestamps, self._hand_written == 0)

    def _take_list(self, queue: int):
        mode = self._mode()
        rctx = self.context.runtime_context
        if not self._capturing(queue):   # reusing would wait on or query earlier work
            spare = self._spare.get(queue, [])
            full = len(spare) >= self._MAX_SPARE
            # a list another record set may replay is re-recorded only once the spares
            # are full (the one used longest ago): alternating sets keep their lists
            for i, (built, signal) in enumerate(spare):
                if (built.mode == mode and (signal is None or signal.done())
                        and (full or built.refs is None
                             or any(r() is None for r in built.refs))):
                    del spare[i]
                    self._forget_submitted(queue, built.cl)
                    built.cl.reset()
                    return built.cl, mode
        return rctx.command_list(queue, timestamps=mode[0], hazard_tracking=mode[1]), mode

    def _forget_submitted(self, queue: int, cl) -> None:
        """`cl` is about to be reset or destroyed: its times are gone."""
        if self._submitted.get(queue) is cl:
            del self._submitted[queue]

    # ------------------------------------------------------------------ submission
    def _uniform_bytes(self, rec: _Dispatch, instance: Optional[int] = None,
                       instance_count: int = 0) -> bytes:
        if rec.packed is not None:
            return rec.packed
        values = dict(rec.values)
        for field, var in rec.var_fields.items():
            if var not in self._vars:
                raise ValueError(f"variable {var!r} has no value; call graph.set_var({var!r}, ...)"
                                 f" before submit")
            v = self._vars[var]
            if instance is not None:
                arr = np.asarray(v)
                one = rec.kernel.packer.types[field].numpy_shape
                if arr.shape == (instance_count,) + one:
                    v = arr[instance]
                elif arr.shape != one:
                    raise ValueError(f"variable {var!r}: with instance_count={instance_count} "
                                     f"give one value of shape {one} for every instance or an "
                                     f"array of shape {(instance_count,) + one}, got shape "
                                     f"{arr.shape}")
            values[field] = v
        return rec.kernel.packer.pack(values)

    def _build(self, queue: int, instance_count: Optional[int], key):
        """A list holding the records (`key`: their _content_key)."""
        cl, mode = self._take_list(queue)
        indices, uniforms = [], []
        try:
            for n, rec in enumerate(self._records):
                if isinstance(rec, _Dispatch):
                    handles = []
                    for name, r in zip(rec.kernel.binding_names, rec.resources):
                        try:
                            handles.append(_resource_handle(r, queue))
                        except VkDispatchError as exc:
                            raise type(exc)(
                                f"graph record {n} binds {name!r}: {exc} since it was "
                                f"recorded; reset the graph (graph.reset()) and record "
                                f"again") from None
                    uniform = self._recorded_bytes(rec, instance_count)
                    indices.append(cl.dispatch(rec.kernel.program, rec.groups, handles,
                                               uniform))
                    uniforms.append(uniform)
                else:
                    cl.copy(rec.src.allocation(queue), rec.dst.allocation(queue),
                            rec.nbytes, rec.src_offset, rec.dst_offset)
                    indices.append(None)
                    uniforms.append(None)
        except BaseException:
            cl.destroy()
            raise
        refs = None if key is None else tuple(weakref.ref(_owner(r))
                                              for r in _flat_resources(self._records))
        return _Built(cl, indices, mode, key, refs, uniforms)

    def _content_key(self, mode: tuple):
        """What a built list holds, comparable across record sets: kernels, resources
        (buffers by memory, see _ident), launch sizes and copies (not the uniform bytes,
        which a replay rewrites); None when bound variables make its uniforms depend on
        later set_var calls."""
        parts = [mode]
        for rec in self._records:
            if type(rec) is _Dispatch:
                if rec.packed is None:
                    return None
                parts.append((rec.kernel, rec.groups, *map(_ident, rec.resources)))
            else:
                parts.append((_ident(rec.src), _ident(rec.dst), rec.nbytes, rec.src_offset,
                              rec.dst_offset))
        return tuple(parts)

    def _recorded_spare(self, queue: int, key):
        """A spare list holding exactly the current records (`key`), popped, or None.
        Its resources are checked as a build would (a destroyed buffer raises)."""
        spare = self._spare.get(queue)
        if key is None or not spare or self._capturing(queue):
            return None
        for i, (built, _) in enumerate(spare):
            if built.key == key and self._holds_current_records(built, queue):
                del spare[i]
                self._rewrite_uniforms(built)
                return built
        return None

    def _rewrite_uniforms(self, built: _Built) -> None:
        """A replayed list runs the current records' uniform bytes."""
        uniforms = built.uniforms
        for k, rec in enumerate(self._records):
            if type(rec) is _Dispatch and uniforms[k] != rec.packed:
                built.cl.set_uniform(built.indices[k], rec.packed)
                uniforms[k] = rec.packed

    def _holds_current_records(self, built: _Built, queue: int) -> bool:
        """Whether the ids in `built`'s key still name the current records' objects (an
        id is reused once its object is gone; a buffer view's is its base's); a destroyed
        one raises, as a build would."""
        records = self._records
        rec = records[0] if len(records) == 1 else None
        if type(rec) is _Dispatch and len(rec.resources) == len(built.refs):
            resources = rec.resources      # an eager call's (no (image, sampler) pair)
        else:
            resources = _flat_resources(records)
        for ref, res in zip(built.refs, resources):
            if ref() is not _owner(res):
                return False
            if type(res) is not Buffer or not (res._base or res)._handles:
                res.handle(queue)   # raises for a destroyed one, as a build would
        return True

    def submit(self, instance_count: Optional[int] = None, queue_index: Optional[int] = None,
               wait: bool = False):
        """Run the recorded work on every queue (or `queue_index`); returns the signals.
        With `instance_count`, the work runs that many times, instance i taking element i
        of each per-instance variable value."""
        if instance_count is not None and (not isinstance(instance_count, int) or
                                           not 1 <= instance_count <= self.MAX_INSTANCES):
            raise ValueError(f"instance_count must be an int in [1, {self.MAX_INSTANCES}], got "
                             f"{instance_count!r} (more instances: submit several times, or "
                             f"make the instance an axis of the launch)")
        queues = self._queues if queue_index is None else [self.context.check_queue(queue_index)]
        with self._lock:
            records = self._records
            if not records:
                return []
            debug = self._debug_records
            if (len(records) == 1 and self.reset_on_submit and instance_count is None
                    and len(queues) == 1 and type(records[0]) is _Dispatch
                    and records[0].packed is not None
                    and not (self._queue_capturing and self._queue_capturing(queues[0]))):
                signals = self._submit_single(queues[0])
                if debug:
                    self._raise_reported(queues)
                if wait:
                    signals[0].wait()
                return signals
            signals, by_queue, lists, key = [], {}, self._lists, _UNSET
            for q in queues:
                entry = lists.get(q)
                if entry is None:
                    key = self._content_key(self._mode()) if key is _UNSET else key
                    if instance_count is None:
                        entry = self._recorded_spare(q, key)
                    if entry is None:
                        if self._var_records and self._has_unset_vars():
                            self._uniform_bytes(self._first_var_record(), None)  # raises
                        entry = self._build(q, instance_count, key)
                    lists[q] = entry
                elif self._dirty_vars:
                    self._refresh_vars(entry, instance_count)
                cl = entry.cl
                self._submitted[q] = cl
                if instance_count is None:
                    signal = cl.submit()
                else:
                    signal = cl.submit([[self._uniform_bytes(r, i, instance_count)
                                         for r in self._records if type(r) is _Dispatch]
                                        for i in range(instance_count)])
                by_queue[q] = signal
                signals.append(signal)
            self._dirty_vars.clear()
            self._signals = signals
            self._tally[_SUBMITS] += len(signals)
            if self.reset_on_submit:
                self._retire_after(by_queue)
        if debug:
            self._raise_reported(queues)
        if wait:
            for s in signals:
                s.wait()
        return signals

    def submit_any(self, instance_count: Optional[int] = None):
        """Run the recorded work once, on the next queue in turn (vkdispatch 0.1): for
        independent batches spread over the queues; buffers are only updated on the
        queue that ran it. Returns the signals."""
        return self.submit(instance_count=instance_count,
                           queue_index=self.context.next_queue())

    def prepare_for_cuda_graph_capture(self, instance_count: Optional[int] = None) -> None:
        """Build the command lists now, so that a later submit inside a capture
        (vd.cuda_graph_capture, torch.cuda.graph) only launches (vkdispatch 0.1)."""
        with self._lock:
            if not self._records:
                return
            key = self._content_key(self._mode())
            for q in range(self.context.queue_count):
                if q not in self._lists:
                    self._lists[q] = self._build(q, instance_count, key)

    def _raise_reported(self, queues) -> None:
        """Debug mode: wait for the submitted work and raise OutOfBoundsError for the
        first out-of-range access it reported (the debug buffer is then reset). Work
        being captured (a CUDA graph) cannot be waited for and is not checked."""
        if any(self._capturing(q) for q in queues):
            return
        message = kernel_cache(self.context).take_report(queues)
        if message is not None:
            raise OutOfBoundsError(message)

    _MAX_SINGLES = 32   # eager calls whose lists are kept (a loop over 20 buffers replays)

    def _submit_single(self, queue: int) -> list:
        """An eager call's submit: one dispatch with constant uniforms, then forget it;
        returns [its signal]. Lists of such single dispatches are kept by (mode, kernel,
        launch, resource ids), so the same call again replays its list directly, with
        its uniform bytes rewritten in place when they changed (a loop passing a new
        scalar each call)."""
        rec = self._records[0]
        built = None
        last = self._last_single     # the same call as the last one: no key to build
        if (last is not None and last[0] is rec.kernel and last[1] == rec.groups
                and last[2] == queue and last[3] == self._timestamps
                and last[5] is not None):
            built = last[4]
            for ref, res in zip(last[5], rec.resources):   # the very same objects
                if ref() is not res:
                    built = None
                    break
                if type(res) is not Buffer or not (res._base or res)._handles:
                    res.handle(queue)   # raises for a destroyed one, as a build would
            if built is not None and len(last[5]) != len(rec.resources):
                built = None
        if built is None:
            key = (queue, self._timestamps, rec.kernel, rec.groups,
                   *map(_ident, rec.resources))
            singles = self._singles
            built = singles.get(key)
            if built is not None and not self._holds_current_records(built, queue):
                self._drop_single(key, queue)
                built = None
            if built is None:
                built = self._build(queue, None, self._content_key(self._mode()))
                if len(singles) >= self._MAX_SINGLES:
                    self._drop_single(next(iter(singles)), queue)
                singles[key] = built
            exact = None if any(type(r) is tuple for r in rec.resources) else tuple(
                map(weakref.ref, rec.resources))     # ((image, sampler) pairs: no fast path)
            self._last_single = (rec.kernel, rec.groups, queue, self._timestamps, built,
                                 exact)
        if built.uniforms[0] != rec.packed:
            built.cl.set_uniform(0, rec.packed)
            built.uniforms[0] = rec.packed
        cl = built.cl
        self._submitted[queue] = cl
        signals = self._signals = [cl.submit()]
        self._tally[_SUBMITS] += 1
        self._forget_records()
        return signals

    def _drop_single(self, key, queue: int) -> None:
        built = self._singles.pop(key)
        if self._last_single is not None and self._last_single[4] is built:
            self._last_single = None
        self._forget_submitted(queue, built.cl)
        built.cl.destroy()

    def _has_unset_vars(self) -> bool:
        return any(isinstance(r, _Dispatch) and any(v not in self._vars
                                                    for v in r.var_fields.values())
                   for r in self._records)

    def _first_var_record(self):
        return next(r for r in self._records if isinstance(r, _Dispatch) and r.var_fields)

    def _recorded_bytes(self, rec: _Dispatch, instance_count: Optional[int]) -> bytes:
        """Uniforms baked into the command list (instance 0's under instancing)."""
        if instance_count:
            return self._uniform_bytes(rec, 0, instance_count)
        return self._uniform_bytes(rec, None)

    def _refresh_vars(self, entry, instance_count: Optional[int]) -> None:
        cl, indices = entry.cl, entry.indices
        for rec, idx in zip(self._records, indices):
            if isinstance(rec, _Dispatch) and self._dirty_vars & set(rec.var_fields.values()):
                cl.set_uniform(idx, self._recorded_bytes(rec, instance_count))

    def _retire_after(self, by_queue: dict) -> None:
        """Forget the records; their lists are reused once their work is done."""
        for q, entry in self._lists.items():
            self._keep_spare(q, entry, by_queue.get(q))
        self._forget_records()

    def _forget_records(self) -> None:
        self._records = []
        if self._lists:
            self._lists = {}
        self._hand_written = self._var_records = self._debug_records = 0

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the last submission finished (True), or until `timeout` seconds
        passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for s in self._signals:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if s.wait(left) is False:
                return False
        return True

    def timestamps(self, queue_index: int = 0) -> list:
        """Seconds each recorded dispatch of the last submission on `queue_index` ran on
        the device, in record order (copies are not timed and have no entry; after an
        instanced submit, the last instance's times). Waits for that submission."""
        if not self._timestamps:
            raise VkDispatchError("this graph does not time its dispatches; create it with "
                                  "vd.CommandGraph(timestamps=True)")
        q = self.context.check_queue(queue_index)
        with self._lock:
            cl = self._submitted.get(q)
            if cl is None:
                raise VkDispatchError(f"no submission of this graph on queue {q} to time "
                                      f"(or it was re-recorded since); call submit() first")
            return [float(t) for t in cl.timestamps()]

    def reset(self) -> None:
        """Forget every record (in-flight work still completes)."""
        with self._lock:
            self._invalidate()
            self._forget_records()

    def destroy(self) -> None:
        """Forget the records and release every command list (waits for in-flight work)."""
        with self._lock:
            self.reset()
            spare, self._spare = self._spare, {}
            for entries in spare.values():
                for built, _ in entries:
                    built.cl.destroy()
            singles, self._singles = self._singles, {}
            self._last_single = None
            for built in singles.values():
                built.cl.destroy()

    def __del__(self):
        # lists hold device memory (uniform arenas, command pools): give it back with
        # the graph rather than at context teardown
        try:
            if self.context.destroyed or any(self._capturing(q)
                                             for q in range(self.context.queue_count)):
                return   # a capture forbids waiting; the context's teardown frees them
            self.destroy()
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self._records)


# ----------------------------------------------------------------------------- global graph

_tls = threading.local()
# The graphs shader calls record into when given none, of every thread, by (thread,
# "default"|"custom"): a host access in any thread submits the work they hold, and the
# work of a thread that ended before any host access is kept until the next one.
# Only graphs that forget their records at submit are here: one that keeps them (a
# plain CommandGraph set with set_global_graph) runs when its owner submits it, like a
# graph passed as graph=, since running it at every host access would repeat its work.
_global_graphs: dict = {}
_global_graphs_lock = threading.Lock()


class _NotReplayable(Exception):
    pass


class _Capture(CommandGraph):
    """A graph that keeps what is recorded into it, checked and packed, and never runs
    it: no hooks, no counts; a producer that submits it is not captured."""

    def _append(self, rec) -> None:
        self._records.append(rec)

    def submit(self, *args, **kwargs):
        raise _NotReplayable

    def record_packed(self, kernel: CompiledKernel, launch: tuple, resources: list,
                      packed: bytes) -> None:
        if kernel.context is not self.context:
            raise VkDispatchError("the kernel was built for another context than this graph's")
        self._records.append(_Dispatch(kernel, launch, list(resources), _NO_VALUES,
                                       _NO_VALUES, packed))


def capture_dispatches(record) -> Optional[list]:
    """Call `record(graph)` on a graph that only keeps what it is given; returns
    (kernel, launch, resources, packed uniforms) per dispatch it recorded, for a
    producer to record them again later through record_packed (with other buffers
    swapped in), or None when it recorded a copy or a dispatch with bound variables, or
    submitted what it recorded."""
    graph = _Capture()
    try:
        record(graph)
    except _NotReplayable:
        return None
    out = []
    for rec in graph._records:
        if type(rec) is not _Dispatch or rec.packed is None:
            return None
        out.append((rec.kernel, rec.groups, rec.resources, rec.packed))
    return out


def _register_global(slot: str, graph: Optional[CommandGraph]) -> None:
    key = (threading.current_thread(), slot)
    with _global_graphs_lock:
        old = _global_graphs.pop(key, None)
        if old is not None and old is not graph and len(old):
            _global_graphs[key[0], ("retired", id(old))] = old   # runs at the next flush
        if graph is not None and graph.reset_on_submit:
            _global_graphs[key] = graph


def default_graph() -> CommandGraph:
    """This thread's default graph: it records shader calls and runs them at the next
    host access, wait or submit (0.1's submitted each call at once: same results)."""
    g = getattr(_tls, "default", None)
    if g is None or g.context.destroyed or g.context is not get_context():
        g = _tls.default = CommandGraph(reset_on_submit=True)
        _register_global("default", g)
    return g


def global_graph() -> CommandGraph:
    """The graph shader calls of this thread record into when given no graph=: the one
    set with set_global_graph, else default_graph()."""
    g = getattr(_tls, "graph", None)   # one look-up on the eager call path
    if g is None or g.context is not get_context():   # (never a destroyed one)
        custom = getattr(_tls, "custom", None)
        g = _tls.graph = custom if custom is not None else default_graph()
    return g


def set_global_graph(graph: Optional[CommandGraph] = None) -> Optional[CommandGraph]:
    """Make `graph` the graph this thread's shader calls record into (None: back to
    default_graph()); returns the graph set before (None for the default), so calls
    nest. A graph that keeps its records runs when you submit it, not at host accesses
    (as in 0.1); 0.1 raised when a graph was already set, this replaces it."""
    if graph is not None and not isinstance(graph, CommandGraph):
        raise TypeError(f"set_global_graph takes a vd.CommandGraph or None, got "
                        f"{type(graph).__name__}")
    old = getattr(_tls, "custom", None)
    _tls.custom = _tls.graph = graph
    _register_global("custom", graph)
    return old


def flush_global_graph() -> None:
    """Submit what every thread's global graphs hold (a host access must see all work
    recorded before it, whichever thread recorded it)."""
    with _global_graphs_lock:
        graphs = list(_global_graphs.items())
    reported = None
    for key, g in graphs:
        if len(g) and not g.context.destroyed:
            try:
                g.submit()
            except OutOfBoundsError as exc:   # debug mode: submit the rest first
                reported = reported or exc
        if not key[0].is_alive() or g.context.destroyed or key[1] not in ("default", "custom"):
            with _global_graphs_lock:
                if _global_graphs.get(key) is g and not len(g):
                    del _global_graphs[key]
    if reported is not None:
        raise reported


def queue_wait_idle(queue_index: Optional[int] = None, context=None) -> None:
    """Submit every thread's pending work and wait until the queue(s) are idle.
    `context` (0.1's argument) must be the current context, if given."""
    flush_pending()
    ctx = get_context()
    if context is not None and context is not ctx:
        raise ValueError("context must be the current context (vd.get_context()); a "
                         "replaced context has no queues left to wait for")
    if queue_index is not None:
        ctx.check_queue(queue_index)
    ctx.runtime_context.queue_wait_idle(queue_index)


def copy_buffer(src: Buffer, dst: Buffer, graph: Optional[CommandGraph] = None) -> None:
    """Record a device-side copy of `src` into `dst` (same byte size, or the smaller)."""
    if not isinstance(src, Buffer) or not isinstance(dst, Buffer):
        raise TypeError("copy_buffer takes two vd.Buffer objects")
    if src.dtype is not dst.dtype:
        raise TypeError(f"copy_buffer copies between buffers of one dtype (bytes are not "
                        f"converted); src is {src.dtype.name}, dst is {dst.dtype.name}")
    (graph if graph is not None else global_graph()).record_copy(src, dst)


register_before_host_access(flush_global_graph)
