"""The lazy layer: array operations record nodes into a per-thread pending graph, and a
flush turns the graph into fused kernels recorded into the thread's CommandGraph.

A node is an elementwise operation over arguments of four kinds: other nodes (values),
`Leaf`s (elements of device memory, read through a strided `View`), `Scalar`s (kernel
arguments) and `Iota`s (the element's index, for arange and friends). Shape and dtype
rules run before a node is recorded (in the array layer), so the flush never meets a
user error.

At a flush (a host access, `vd.queue_wait_idle()`, a shader touching memory that
pending nodes read or write, or `MAX_PENDING` nodes) the nodes that matter are those
whose Array is alive and those that write into existing memory (in-place operations,
`__setitem__`); everything they need is computed, the rest is dropped. A needed node
becomes a kernel output ("materialized") when its Array is alive, it writes into
memory, or it was pinned (read before a write to the memory it reads); the other
needed nodes are inlined into their consumers' kernels and never allocated. Kernels
are recorded in record order of their outputs, which keeps every read before later
writes of the same memory.

While recording, each graph also writes down its structure (`PendingGraph.key`: per
node its op, dtype, shape and arguments, with memory named by the order it was first
touched; every later target or pin): the flush plan (`plan.py`) made for a structure
is kept, and the same structure flushed again replays it.
"""
from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import weakref
from typing import Optional

from ..base import dtype as dt
from ..base.buffer import Buffer, register_before_host_access
from ..base.context import get_context, register_before_destroy
from . import command_graph, plan
from .pool import buffer_pool

_getframe = sys._getframe

MAX_PENDING = 1024        # nodes recorded before a flush is forced (bounded memory)
MAX_INLINE = 48           # inlined nodes per kernel output before one is materialized
MAX_ELEMENTS = 2 ** 31 - 1   # generated kernels index with int32


class Storage:
    """One device allocation that array elements live in. A pooled one goes back to
    the pool when its last reference dies, unless it was handed out (`export`)."""
    __slots__ = ("buffer", "pooled", "__weakref__")

    def __init__(self, buffer: Buffer, pooled: bool):
        self.buffer = buffer
        self.pooled = pooled

    def export(self) -> Buffer:
        self.pooled = False
        _register_shared(self)
        return self.buffer

    def __del__(self):
        if self.pooled:
            try:
                buffer_pool(self.buffer.context).give(self.buffer)
            except Exception:   # interpreter exit: the context frees it
                pass


# Storages whose Buffer the user holds, by id of that Buffer: arrays over one Buffer
# share one Storage, which is how pending reads and writes of its memory are ordered
_shared: dict = {}
_shared_lock = threading.RLock()   # a weakref callback may run while it is held


def _register_shared(storage: Storage) -> None:
    key = id(storage.buffer)

    def gone(ref):
        with _shared_lock:
            if _shared.get(key) is ref:
                del _shared[key]
    with _shared_lock:
        ref = _shared.get(key)
        if ref is None or ref() is not storage:
            _shared[key] = weakref.ref(storage, gone)


def shared_storage(buffer: Buffer) -> Storage:
    """The Storage of user-held `buffer` (a base Buffer, not a view): the one arrays
    over it already use, else a new one (not pooled)."""
    with _shared_lock:
        ref = _shared.get(id(buffer))
        storage = ref() if ref is not None else None
        if storage is None:
            storage = Storage(buffer, pooled=False)
            _register_shared(storage)
    return storage


class View:
    """Where an array's elements are: `storage`, an element offset and element strides
    (one per axis, any sign; 0 along broadcast axes)."""
    __slots__ = ("storage", "offset", "strides")

    def __init__(self, storage: Storage, offset: int, strides: tuple):
        self.storage = storage
        self.offset = offset
        self.strides = strides

    def same_place(self, other: "View") -> bool:
        return (self.storage is other.storage and self.offset == other.offset
                and self.strides == other.strides)


_strides_of: dict = {}


def contiguous_strides(shape: tuple) -> tuple:
    out = _strides_of.get(shape)
    if out is None:
        out, step = [], 1
        for s in reversed(shape):
            out.append(step)
            step *= s
        out = tuple(reversed(out))
        if len(_strides_of) < 4096:
            _strides_of[shape] = out
    return out


class Leaf:
    """An argument read from memory: `view` seen with `shape` and `dtype`. `seen`:
    (batch, slot, its structure entry) of the batch that last recorded it (one tuple,
    replaced whole, so a thread never reads another's half-written entry)."""
    __slots__ = ("view", "shape", "dtype", "seen")

    def __init__(self, view: View, shape: tuple, dtype: dt.DType):
        self.view, self.shape, self.dtype = view, shape, dtype
        self.seen = None


class Scalar:
    """An argument that is one value for every element, passed as a kernel argument."""
    __slots__ = ("value", "dtype")

    def __init__(self, value, dtype: dt.DType):
        self.value, self.dtype = value, dtype


class Iota:
    """An argument that is each element's C-order index within `shape` (int32)."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple):
        self.shape, self.dtype = shape, dt.int32


# Record order across threads: a node's arguments were recorded before it, so sorting
# every thread's pending nodes by it puts producers first.
_sequence = itertools.count()


class Node:
    """A recorded operation. An elementwise `op` has `key` (hashable, what the operation
    computes) and `lower(args, dtype) -> ir node`; an op with its own kernel has
    `record(graph, node)` instead and is never inlined (with `places_itself`, record
    sets `target` and tells the Array, else it writes `target`); with
    `prepare(ctx, node)` -> (launch, the nodes it reads) or None, a flush plan records
    it by `launch.record(graph, nodes)` at every flush of the same structure.
    `target`: the View the result is written to (None until the flush picks a place,
    or for inlined nodes). `index`: its position in the flush's node list; `batch`:
    the pending batch it was recorded in (None outside a pending graph)."""
    __slots__ = ("op", "args", "shape", "dtype", "where", "array", "target", "pinned",
                 "seq", "error", "index", "batch", "__weakref__")

    def __init__(self, op, args: tuple, shape: tuple, dtype: dt.DType, where, array=None):
        self.seq = next(_sequence)
        self.op = op
        self.args = args
        self.shape = shape
        self.dtype = dtype
        self.where = where
        self.array = array     # a weak reference to the Array holding the result
        self.target = None
        self.pinned = False
        self.error = None   # why the flush could not compute it (raised on every read)
        self.index = -1
        self.batch = None

    def location(self) -> str:
        return location(self.where)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_internal_code: dict = {}


def caller(depth: int = 2) -> Optional[tuple]:
    """Where the user's code is (see `location`): the innermost frame outside the
    vkdispatch package, looking from `depth` frames above this function's caller."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    return _user_frame(frame)


def _user_frame(frame) -> Optional[tuple]:
    """(code, instruction offset) of `frame` or of the first frame outside the package
    above it: only these are kept (no frame, so nothing in it stays alive), and the
    line number is looked up when an error needs it."""
    while frame is not None:
        code = frame.f_code
        inside = _internal_code.get(code)
        if inside is None:
            inside = _internal_code[code] = os.path.abspath(code.co_filename).startswith(
                _PACKAGE_DIR)
        if not inside:
            return (code, frame.f_lasti)
        frame = frame.f_back
    return None


def location(where) -> str:
    """'file:line' of a place `caller` found."""
    if not where:
        return "<unknown>"
    code, offset = where
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if start <= offset < end and number is not None:
            line = number
            break
    return f"{code.co_filename}:{line}"


class _Batch:
    """The identity of one pending graph's nodes between two flushes. `known` is False
    once its key cannot tell its structure (a node reads a node of another batch, or
    a node is pinned from outside it): it is then planned at its flush, not replayed."""
    __slots__ = ("flushed", "known")

    def __init__(self):
        self.flushed = False
        self.known = True


class PendingGraph:
    """One thread's recorded, not yet flushed nodes, with their structure.

    `key` lists, in record order, each node as (op key, dtype, shape, argument count)
    followed by one entry per argument (the index of an argument node, (slot, offset,
    strides, shape, dtype) of a Leaf, the dtype of a Scalar, ("iota", shape)), and the
    events that change a node later: ("slot", element count, bytes) when a storage is
    first touched (slots number storages in that order), ("target", index, slot,
    offset, strides), ("pin", index).
    Two batches with equal keys (and the same nodes alive at the flush) are flushed by
    the same plan."""

    def __init__(self):
        self.lock = threading.RLock()
        self.run_soon = False       # flush and submit before the next record (run_soon())
        self._start()

    def _start(self) -> None:
        self.nodes: list = []
        self.key: list = []
        self.slots: dict = {}      # id(Storage) -> slot
        self.readers: list = []    # per slot: nodes reading it since its last pending write
        self.touched: set = set()  # ids of the base Buffers pending nodes read or write
        self.batch = _Batch()

    def take(self) -> tuple:
        """(nodes, key or None, touched) of this batch, and start an empty one (lock
        held)."""
        out = (self.nodes, self.key if self.batch.known else None, self.touched)
        self.batch.flushed = True
        self._start()
        return out

    def slot(self, storage: Storage) -> int:
        s = self.slots.get(id(storage))
        if s is None:
            s = self.slots[id(storage)] = len(self.readers)
            self.readers.append([])
            buf = storage.buffer
            self.key.append(("slot", buf.size, buf.nbytes))
            self.touched.add(id(buf._base or buf))
        return s

    def __len__(self) -> int:
        return len(self.nodes)


_tls = threading.local()
# every thread's graph, held strongly: work a thread recorded before it ended is flushed
# at the next sync point, never dropped with the thread
_graphs: dict = {}     # threading.Thread -> PendingGraph
_graphs_lock = threading.Lock()


def pending_graph() -> PendingGraph:
    g = getattr(_tls, "graph", None)
    if g is None:
        g = _tls.graph = PendingGraph()
        with _graphs_lock:
            for t in [t for t, p in _graphs.items() if not t.is_alive() and not p.nodes]:
                del _graphs[t]
            _graphs[threading.current_thread()] = g
    return g


def _too_many(shape: tuple) -> ValueError:
    return ValueError(f"an array of shape {shape} has more than {MAX_ELEMENTS} elements; "
                      f"generated kernels index with 32-bit integers")


_small_shapes: set = set()   # shapes known to have at most MAX_ELEMENTS elements
_weakref = weakref.ref


def _check_size(shape: tuple) -> None:
    if math.prod(shape) > MAX_ELEMENTS:
        raise _too_many(shape)
    if len(_small_shapes) >= 4096:
        _small_shapes.clear()
    _small_shapes.add(shape)


def record(op, args: tuple, shape: tuple, dtype: dt.DType, array=None,
           target: Optional[View] = None, where=None, pinned: bool = False,
           depth: int = 1) -> Node:
    """Record `op(*args)` of `shape` and `dtype`; `array` (the Array holding the result)
    is referenced weakly; `target`: write the result there (existing memory); `where`:
    the user's (file, line), else found from the frame `depth` above this one outward;
    `pinned`: computed apart (materialized) even when dead. A full graph is flushed
    first."""
    if shape not in _small_shapes:
        _check_size(shape)
    g = getattr(_tls, "graph", None)
    if g is None:
        g = pending_graph()
    if g.run_soon:
        _run_now(g)
    elif len(g.nodes) >= MAX_PENDING:
        flush()
    if where is None:
        try:
            frame = _getframe(depth)
        except ValueError:
            frame = _getframe(1)
        code = frame.f_code
        if _internal_code.get(code) is False:   # the user's code, seen before
            where = (code, frame.f_lasti)
        else:
            where = _user_frame(frame)
    node = Node(op, args, shape, dtype, where,
                None if array is None else _weakref(array))
    lock = g.lock
    lock.acquire()
    try:
        nodes = g.nodes
        node.index = len(nodes)
        node.batch = batch = g.batch
        if target is not None:
            _before_write(g, target, node)
        key = g.key
        key.append((op.key, dtype, shape, len(args)))
        for a in args:
            t = type(a)
            if t is Node:
                if a.batch is batch:
                    key.append(a.index)
                    if a.target is not None:
                        g.readers[g.slot(a.target.storage)].append(node)
                    continue
                a = _outside_arg(g, node, a)
                t = type(a)
                if t is Node:
                    key.append(None)
                    continue
            if t is Leaf:
                seen = a.seen
                if seen is None or seen[0] is not batch:
                    v = a.view
                    s = g.slot(v.storage)
                    seen = a.seen = (batch, s, (s, v.offset, v.strides, a.shape, a.dtype))
                g.readers[seen[1]].append(node)
                key.append(seen[2])
            elif t is Scalar:
                key.append(a.dtype)
            else:
                key.append(("iota", a.shape))
        nodes.append(node)
        if pinned:
            node.pinned = True
            g.key.append(("pin", node.index))
    finally:
        lock.release()
    return node


def _outside_arg(g: PendingGraph, node: Node, a: Node):
    """Argument node `a` of `node` is not in this batch: a flushed one that has its
    value in memory is read from there (a Leaf, which replaces it in node.args);
    another thread's pending node, or one that failed, stays a node and makes the
    batch's structure unknown (it is planned at every flush)."""
    if a.batch is not None and a.batch.flushed and a.target is not None and a.error is None:
        leaf = Leaf(a.target, a.shape, a.dtype)
        node.args = tuple(leaf if x is a else x for x in node.args)
        return leaf
    g.batch.known = False
    return a


def record_write(op, args: tuple, shape: tuple, dtype: dt.DType, target: View) -> Node:
    """Record `op(*args)` written into existing memory `target` (of `shape`). An
    argument read from the same storage at another place (`a[1:] = a[:-1]`) is first
    copied to its own memory, as one kernel reading and writing overlapping elements
    would race."""
    fixed = []
    where = caller()
    for a in args:
        if type(a) is Leaf and a.view.storage is target.storage and not (
                a.view.same_place(target) and a.shape == shape):
            a = record(IDENTITY, (a,), a.shape, a.dtype, where=where, pinned=True)
        fixed.append(a)
    return record(op, tuple(fixed), shape, dtype, target=target, where=where)


class _Identity:
    key = ("identity",)

    @staticmethod
    def lower(args, dtype):
        return args[0]


IDENTITY = _Identity()


def _pin(g: PendingGraph, node: Node) -> None:
    """`node` will be computed apart (materialized), in record order."""
    with g.lock:
        if not node.pinned:
            node.pinned = True
            if node.batch is g.batch:
                g.key.append(("pin", node.index))
            elif node.batch is not None:
                node.batch.known = False


def _before_write(g: PendingGraph, target: View, node: Node) -> None:
    """`node` will write `target`: nodes recorded earlier that read its storage are
    computed before (pinned), so they see the memory as it was when they were recorded.
    (The writer's own reads of `target` happen element by element before its write of
    the same element; `record_write` keeps reads of other places apart.)"""
    s = g.slot(target.storage)
    readers = g.readers[s]
    g.readers[s] = [node]
    for reader in readers:
        if reader is not node:
            _pin(g, reader)
    node.target = target
    g.key.append(("target", node.index, s, target.offset, target.strides))


def retarget(node: Node, target: View) -> None:
    """Make the last recorded `node` (whose Array is dropped) write its result into
    existing memory `target` (in-place operators)."""
    g = pending_graph()
    with g.lock:
        node.array = None
        last = g.nodes and g.nodes[-1] is node
        if not last or any(type(a) is Leaf and a.view.storage is target.storage and not (
                a.view.same_place(target) and a.shape == node.shape) for a in node.args):
            _pin(g, node)    # computed apart first, then copied in
            record_write(IDENTITY, (node,), node.shape, node.dtype, target)
            return
        _before_write(g, target, node)


def assign_target(node: Node, target: View) -> None:
    """Give pending `node` its place in memory now (a view of it is taken, or its
    Buffer is asked for): it becomes a kernel output, and consumers recorded before
    read it from there."""
    g = pending_graph()
    with g.lock:
        if node.batch is not g.batch:
            raise RuntimeError("assign_target: the node is not pending in this thread")
        node.target = target
        s = g.slot(target.storage)
        g.key.append(("target", node.index, s, target.offset, target.strides))
        readers = g.readers[s]
        for n in g.nodes[node.index + 1:]:
            if any(a is node for a in n.args):
                readers.append(n)


def is_pending(node: Node) -> bool:
    g = getattr(_tls, "graph", None)
    return g is not None and node.batch is g.batch


# ----------------------------------------------------------------------------- flushing

def flush() -> None:
    """Turn every thread's pending nodes into kernels (see plan.flush_nodes: submitted,
    or recorded into the calling thread's global CommandGraph)."""
    with _graphs_lock:
        graphs = [g for g in _graphs.values() if g.nodes]
    if not graphs:
        return
    _tls.flushing = True
    try:
        batches = []
        for g in graphs:
            with g.lock:
                if g.nodes:
                    batches.append(g.take())
        glob = command_graph.global_graph()
        if _independent(batches):   # each on its own, by its own plan
            error = None
            for nodes, key, _ in batches:
                try:
                    plan.flush_nodes(nodes, key, glob)
                except Exception as exc:   # the others still run
                    error = error or exc
            if error is not None:
                raise error
            return
        # one pass over all threads' nodes in record order: a thread's node may read
        # another's (Dask hands pending chunks between its worker threads), or memory
        # another's writes
        nodes = [n for b in batches for n in b[0]]
        nodes.sort(key=_record_order)
        for i, n in enumerate(nodes):
            n.index = i
        plan.flush_nodes(nodes, None, glob)
    finally:
        _tls.flushing = False


def run_soon() -> None:
    """Have the pending work start on the device when this thread records its next
    node (or at the next sync point, whichever comes first), so that the host records
    what follows while it runs. Not at once: the arguments of the call asking for it
    are still alive then, and would be computed into memory."""
    pending_graph().run_soon = True


def _run_now(g: "PendingGraph") -> None:
    """Flush, and submit what the flush recorded into this thread's global graph
    (unless that graph keeps its records for its owner to submit)."""
    g.run_soon = False
    flush()
    glob = command_graph.global_graph()
    if glob.reset_on_submit and len(glob):
        glob.submit()


def _independent(batches: list) -> bool:
    """Whether these batches (of different threads) share no node and no memory."""
    seen: set = set()
    for _, key, touched in batches:
        if key is None or not seen.isdisjoint(touched):
            return False
        seen |= touched
    return True


def _record_order(node: Node) -> int:
    return node.seq


def allocate(shape: tuple, dtype: dt.DType) -> View:
    """A contiguous View over a pooled buffer of `shape` and `dtype`."""
    count = math.prod(shape)
    buf = buffer_pool(get_context()).take(dtype, max(count, 1))
    return View(Storage(buf, pooled=True), 0, contiguous_strides(shape))


def _flush_touching(graph, resources) -> None:
    """A command is being recorded into `graph` on `resources`: pending work on any of
    them is recorded first (and submitted first when `graph` is not the global graph)."""
    if getattr(_tls, "flushing", False):   # our own flush records its kernels
        return
    # the common case, no pending array work, without the lock: copying a dict's
    # values is one step under the GIL
    touched = [p.touched for p in list(_graphs.values()) if p.touched]
    if not touched:
        return
    hit = False
    for r in resources:
        r = r[0] if type(r) is tuple else r
        base = id(getattr(r, "_base", None) or r)
        if any(base in t for t in touched):
            hit = True
            break
    if hit:
        flush()
        glob = command_graph.global_graph()
        if graph is not glob:
            glob.submit()


def _drop_pending(context) -> None:
    """`context` is being destroyed: the pending work of every thread (recorded in it,
    as only one context is current) is dropped, and reading what it computes raises."""
    from ..base.errors import UseAfterFreeError
    error = UseAfterFreeError(f"its context ({context!r}) was destroyed before it ran "
                              f"(vd.shutdown, vd.initialize or vd.make_context)")
    with _graphs_lock:
        graphs = list(_graphs.values())
    for g in graphs:
        with g.lock:
            g.run_soon = False
            if g.nodes:
                for n in g.take()[0]:
                    n.error = error


register_before_host_access(flush, stage="record")
register_before_destroy(_drop_pending)
command_graph.register_before_record(_flush_touching)
