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

from . import fusion, lazy


class Step:
    """Node `index` of the batch computed into memory: `alloc` (it gets new memory
    first), `custom` (its op records its own kernels), else `launch` (None for an empty
    node) reading the nodes at positions `used`."""
    __slots__ = ("index", "alloc", "custom", "launch", "used")

    def __init__(self, index: int, alloc: bool, custom: bool):
        self.index, self.alloc, self.custom = index, alloc, custom
        self.launch, self.used = None, ()


class Plan:
    __slots__ = ("steps", "allocs")

    def __init__(self, steps: list):
        self.steps = steps
        self.allocs = [s.index for s in steps if s.alloc]


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
    position) into `graph`; `key`: the batch's structure (None: not to be cached)."""
    alive = [n.array is not None and n.array() is not None for n in nodes]
    cache = full_key = None
    if key is not None:
        cache = plan_cache(graph.context)
        full_key = (_settings(), tuple(key), bytes(alive))
        try:
            found = cache.get(full_key)
        except TypeError:     # an op key that cannot be hashed: plan it every time
            cache = None
        else:
            if found is not None:
                _replay(found, nodes, graph)
                return
    made = _make(nodes, alive, graph)
    if cache is not None:
        cache.put(full_key, made)


def _make(nodes: list, alive: list, graph) -> Plan:
    """Plan `nodes` and record it (the first flush of a structure)."""
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
    ctx = graph.context
    for k, step in enumerate(steps):
        n = nodes[step.index]
        try:
            if step.custom:   # an op with its own kernel (matmul): Leaf arguments only
                n.op.record(graph, n)
            else:
                prepared = fusion.prepare(ctx, n)
                if prepared is not None:
                    step.launch, used = prepared
                    step.used = tuple(u.index for u in used)
                    step.launch.record(graph, used)
        except Exception as exc:
            _failed(nodes, steps[k:], exc)
            raise
        _realize(n)
    return Plan(steps)


def _replay(p: Plan, nodes: list, graph) -> None:
    allocate = lazy.allocate
    for i in p.allocs:
        n = nodes[i]
        n.target = allocate(n.shape, n.dtype)
    steps = p.steps
    for k, step in enumerate(steps):
        n = nodes[step.index]
        try:
            if step.custom:
                n.op.record(graph, n)
            elif step.launch is not None:
                step.launch.record(graph, [nodes[u] for u in step.used])
        except Exception as exc:
            _failed(nodes, steps[k:], exc)
            raise
        _realize(n)


def _failed(nodes: list, steps: list, exc: Exception) -> None:
    """The work recorded so far stands; what depends on these steps cannot run."""
    for step in steps:
        nodes[step.index].error = exc


def _realize(n) -> None:
    arr = n.array() if n.array is not None else None
    if arr is not None and arr._node is n and n.target is not None:
        arr._realized(n.target)     # its Array reads the result from now on
