"""Flush plans: how one batch of pending nodes becomes kernels (which nodes are computed
into memory, which of those get new memory, in which order, each by which kernel with
which bindings and uniforms), made at the first flush of a structure and replayed when
a batch of the same structure (`lazy.PendingGraph.key`, with the same nodes alive) is
flushed again. A replay partitions, traces, compiles and packs nothing: each launch
reads its buffers and scalar values from the new batch's nodes.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from . import command_graph, fusion, lazy


# memory a plan keeps for its dead steps: small ones only, where binding other buffers
# (recording the lists again) would cost more than their kernels
MAX_SCRATCH_BUFFER = 1 << 20
MAX_SCRATCH_BYTES = 4 << 20
MAX_VARIANTS = 4              # sets of buffers a plan keeps recorded command lists for


class Step:
    """Node `index` of the batch computed into memory: `alloc` (it gets new memory
    first), `custom` (its op records its own kernels), else `launch` (None for an empty
    node) reading the nodes at positions `used`."""
    __slots__ = ("index", "alloc", "custom", "launch", "used")

    def __init__(self, index: int, alloc: bool, custom: bool):
        self.index, self.alloc, self.custom = index, alloc, custom
        self.launch, self.used = None, ()


class Plan:
    """The steps of a batch's structure.

    A plan of fused kernels only (`own`) records into CommandGraphs of its own, one per
    set of buffers its launches bound lately (`MAX_VARIANTS`, the last used kept):
    their kept command lists replay as they are when a batch binds the same buffers, as
    loops do once the buffer pool cycles (the lists are recorded again only for other
    buffers). It keeps the small memory of its dead steps (results only its own later
    kernels read) as `scratch`, given to the same steps at every replay, so that fewer
    buffers change: a replay runs after the previous one on the queue, when that
    memory is free again. A plan with ops that record themselves records into the
    flushing thread's global graph."""
    __slots__ = ("steps", "allocs", "own", "graphs", "lock", "scratch")

    def __init__(self, steps: list, own: bool, nodes: list, alive: list):
        self.steps = steps
        self.own = own and not any(s.custom for s in steps)
        self.graphs: OrderedDict = OrderedDict()   # buffer ids -> CommandGraph
        self.lock = threading.Lock()
        self.scratch = {}
        kept = 0
        for s in steps if self.own else ():
            target = nodes[s.index].target
            nbytes = target.storage.buffer.nbytes
            if (s.alloc and not alive[s.index] and nbytes <= MAX_SCRATCH_BUFFER
                    and kept + nbytes <= MAX_SCRATCH_BYTES):
                self.scratch[s.index] = target
                kept += nbytes
        self.allocs = [s.index for s in steps if s.alloc and s.index not in self.scratch]

    def graph_for(self, buffers: list) -> "command_graph.CommandGraph":
        """The graph of this set of buffers (lock held)."""
        key = tuple(map(id, buffers))
        graphs = self.graphs
        graph = graphs.get(key)
        if graph is not None:
            graphs.move_to_end(key)
        elif len(graphs) < MAX_VARIANTS:
            graph = graphs[key] = command_graph.CommandGraph(reset_on_submit=True)
        else:   # the least used graph records these buffers into the lists it keeps
            graph = graphs[key] = graphs.popitem(last=False)[1]
        return graph


class _StructureKey:
    """A batch's structure as a plan cache key, hashed once: it has thousands of
    entries, and a tuple hashes them all again at every look-up."""
    __slots__ = ("parts", "_hash")

    def __init__(self, parts: tuple):
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return (type(other) is _StructureKey and self._hash == other._hash
                and self.parts == other.parts)


class PlanCache:
    """The plans of one context by batch structure, the `max_plans` used last kept.
    `hits` / `misses` count flushes that found / made their plan."""

    def __init__(self, max_plans: int = 64):
        self.max_plans = max_plans
        self._plans: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            p = self._plans.get(key)
            if p is None:
                self.misses += 1
            else:
                self.hits += 1
                self._plans.move_to_end(key)
            return p

    def put(self, key, p: Plan) -> None:
        with self._lock:
            self._plans[key] = p
            while len(self._plans) > self.max_plans:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)


_caches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def plan_cache(context) -> PlanCache:
    cache = _caches.get(context)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(context, PlanCache())
    return cache


def _settings() -> tuple:
    """What a plan depends on besides the batch's structure."""
    return (lazy.MAX_INLINE, fusion.MAX_GROUPS, fusion.LOCAL_SIZE)


def flush_nodes(nodes: list, key, graph) -> None:
    """Record the kernels computing `nodes` (a batch in record order, `node.index` its
    position); `key`: the batch's structure (None: not to be kept); `graph`: the
    flushing thread's global graph. While that is a graph that keeps its records (one
    set with set_global_graph, run when its owner submits it), everything is recorded
    into it, in order with the shader calls there."""
    alive = [n.array is not None and n.array() is not None for n in nodes]
    apart = graph.reset_on_submit   # plans of their own may run apart
    cache = full_key = None
    if key is not None:
        cache = plan_cache(graph.context)
        try:
            full_key = _StructureKey((_settings(), tuple(key), bytes(alive)))
        except TypeError:     # an op key that cannot be hashed: plan it every time
            cache = None
        else:
            found = cache.get(full_key)
            if found is not None:
                allocate = lazy.allocate
                for i in found.allocs:
                    n = nodes[i]
                    n.target = allocate(n.shape, n.dtype)
                for i, view in found.scratch.items():
                    n = nodes[i]
                    n.target = view if apart else allocate(n.shape, n.dtype)
                _record(found, nodes, graph, False, apart)
                return
    made = Plan(_partition(nodes, alive), cache is not None and apart, nodes, alive)
    _record(made, nodes, graph, True, apart)
    if cache is not None:
        cache.put(full_key, made)


def _partition(nodes: list, alive: list) -> list:
    """The steps computing what `nodes` must leave in memory (their results' Arrays
    alive, writes into memory, pinned reads, ops with their own kernels), every other
    node they need inlined; each step's new memory is taken here."""
    Node = lazy.Node
    needed = set()   # ids of the nodes some kept node depends on
    for i in range(len(nodes) - 1, -1, -1):   # consumers come after their producers
        n = nodes[i]
        if id(n) in needed or n.target is not None or alive[i]:
            needed.add(id(n))
            for a in n.args:
                if type(a) is Node:
                    needed.add(id(a))
    cost: dict = {}  # id -> nodes an inlined node brings into its consumer's kernel
    steps = []
    for i, n in enumerate(nodes):
        if id(n) not in needed:
            continue
        c = 1
        for a in n.args:
            if type(a) is Node and a.target is None:
                c += cost.get(id(a), 0)
        custom = getattr(n.op, "record", None) is not None
        if n.target is None and not (n.pinned or custom or alive[i]) and c <= lazy.MAX_INLINE:
            cost[id(n)] = c
            continue
        alloc = n.target is None and not getattr(n.op, "places_itself", False)
        if alloc:
            n.target = lazy.allocate(n.shape, n.dtype)
        steps.append(Step(i, alloc, custom))
    return steps


def _record(p: Plan, nodes: list, glob, first: bool, apart: bool) -> None:
    """Record the steps of `p` for `nodes` (`first`: making the plan, so fused kernels
    are built and their launches kept); a plan of its own (`apart`: allowed to) submits
    them, after what the global graph `glob` holds, else they go into `glob`."""
    if not (p.own and apart):
        for k, step in enumerate(p.steps):
            n = nodes[step.index]
            try:
                if step.custom:   # an op with its own kernels (a reduction, matmul)
                    launch, used = _launch(step, nodes, glob.context, first)
                    if launch is None:
                        n.op.record(glob, n)
                    else:
                        launch.record(glob, used)
                else:
                    launch, used = _launch(step, nodes, glob.context, first)
                    if launch is not None:
                        launch.record(glob, used)
            except Exception as exc:
                _failed(nodes, p.steps[k:], exc)
                raise
            _realize(n)
        return
    steps, bound, failed, error = p.steps, [], len(p.steps), None
    for k, step in enumerate(steps):
        try:
            launch, used = _launch(step, nodes, glob.context, first)
            if launch is not None:
                bound.append((k, launch, *launch.bind(used)))
        except Exception as exc:
            failed, error = k, exc
            break
    with p.lock:   # what could be recorded runs, in order after the global graph's records
        graph = p.graph_for([b for entry in bound for b in entry[2]])
        try:
            for k, launch, buffers, packed in bound:
                graph.record_packed(launch.kernel, launch.groups, buffers, packed)
        except Exception as exc:
            failed, error = k, exc
        finally:
            if glob.reset_on_submit and len(glob):
                glob.submit()
            if len(graph):
                graph.submit()
    for step in steps[:failed]:
        _realize(nodes[step.index])
    if error is not None:
        _failed(nodes, steps[failed:], error)
        raise error


def _launch(step: Step, nodes: list, ctx, first: bool) -> tuple:
    """(the step's launch, the nodes it reads), made and kept when `first`: a fused
    kernel's (None for an empty node), or for a custom step the one its op prepares
    to record it at every flush of the plan (None: the op records itself each time)."""
    if first:
        n = nodes[step.index]
        if step.custom:
            prepare = getattr(n.op, "prepare", None)
            prepared = prepare(ctx, n) if prepare is not None else None
        else:
            prepared = fusion.prepare(ctx, n)
        if prepared is None:
            return None, None
        step.launch, used = prepared
        step.used = tuple(u.index for u in used)
        return prepared
    if step.launch is None:
        return None, None
    return step.launch, [nodes[u] for u in step.used]


def _failed(nodes: list, steps: list, exc: Exception) -> None:
    """The work recorded so far stands; what depends on these steps cannot run."""
    for step in steps:
        nodes[step.index].error = exc


def _realize(n) -> None:
    arr = n.array() if n.array is not None else None
    if arr is not None and arr._node is n and n.target is not None:
        arr._realized(n.target)     # its Array reads the result from now on
