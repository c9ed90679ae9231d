"""Recording an op's dispatches again without planning them.

An op that records several kernels (a sort's passes, an FFT's) spends most of a
repeated flush planning, checking and packing uniforms that only depend on the
batch's structure. `capture` runs the op once against a graph that keeps what it is
given (command_graph.capture_dispatches) and notes where each resource came from:
- the op's memory (`memory`, by identity: the node's input and output buffers);
- temporaries it took through the `allocate` it was handed (taken again at replay);
- memory its library owns and may replace (`lookup` names it, `resolve` finds it
  again: vd.fft's scratch);
- anything else (tables, constants) is kept as it is.
`Replay.record` then records the same dispatches on another call's memory. A
captured resource that views the op's memory or a temporary in another way than the
very object given makes the op not replayable (None): it would read stale memory."""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

from ..base.buffer import Buffer
from . import lazy
from .command_graph import capture_dispatches

MEMORY, TEMPORARY, OWNED = 0, 1, 2


class Replay:
    """Captured dispatches: (kernel, launch, resources with the swapped ones left empty,
    packed uniforms, swaps as (position, role, which)), and the temporaries' (shape,
    dtype) in the order the op took them."""
    __slots__ = ("records", "temporaries", "resolve")

    def __init__(self, records: list, temporaries: list, resolve):
        self.records = records
        self.temporaries = temporaries
        self.resolve = resolve

    def record(self, graph, memory: Sequence, allocate=None) -> None:
        """Record the dispatches into `graph` on `memory` (in capture's order), with
        temporaries taken from `allocate(shape, dtype)` (Views) and held until
        recorded (records keep their buffers from then on)."""
        views = [allocate(shape, dtype) for shape, dtype in self.temporaries]
        temps = [v.storage.buffer for v in views]
        for kernel, launch, resources, packed, swaps in self.records:
            if swaps:
                resources = list(resources)
                for i, role, which in swaps:
                    resources[i] = memory[which] if role == MEMORY else \
                        temps[which] if role == TEMPORARY else self.resolve(which)
            graph.record_packed(kernel, launch, resources, packed)


def capture(record: Callable, memory: Sequence, allocate=None,
            lookup: Optional[Callable] = None, resolve: Optional[Callable] = None
            ) -> Optional[Replay]:
    """Capture `record(graph, allocate)`'s dispatches (see the module's doc); None
    when they cannot be recorded again (a copy, a bound variable, or memory reached
    other than through the objects given)."""
    taken: list = []

    def take(shape, dtype):
        view = allocate(shape, dtype)
        taken.append((shape, dtype, view))
        return view
    captured = capture_dispatches(lambda graph: record(graph, take))
    if captured is None:
        return None
    roles = {id(b): (MEMORY, i) for i, b in enumerate(memory)}
    roles.update((id(v.storage.buffer), (TEMPORARY, i)) for i, (_, _, v) in enumerate(taken))
    bases = [b._base or b for b in memory] + [v.storage.buffer for _, _, v in taken]
    records = []
    for kernel, launch, resources, packed in captured:
        kept, swaps = list(resources), []
        for i, res in enumerate(resources):
            role = roles.get(id(res))     # (the objects are alive: no id is reused)
            if role is None:
                if type(res) is not Buffer or any((res._base or res) is b for b in bases):
                    return None
                which = lookup(res) if lookup is not None else None
                if which is None:
                    continue
                role = (OWNED, which)
            swaps.append((i, *role))
            kept[i] = None    # held by no record: another call's memory, replaced scratch
        records.append((kernel, launch, tuple(kept), packed, tuple(swaps)))
    return Replay(records, [(shape, dtype) for shape, dtype, _ in taken], resolve)


class OpReplay:
    """A lazy node op's launch (plan._launch): its dispatches captured at the first
    flush of a batch's structure, recorded again at the later ones on that flush's
    memory, `memory_of(node)`."""
    __slots__ = ("replay", "memory_of")

    def __init__(self, replay: Replay, memory_of: Callable):
        self.replay, self.memory_of = replay, memory_of

    def record(self, graph, used) -> None:
        self.replay.record(graph, self.memory_of(used[0]), lazy.allocate)


def prepare_op(op, node, memory_of: Callable, lookup=None, resolve=None):
    """(OpReplay, [node]) for an op whose `transform(graph, node, memory, allocate)`
    records its kernels on `memory = memory_of(node)` with temporaries from
    `allocate`; None for an empty result or dispatches that cannot be replayed (the
    op then records itself at every flush)."""
    if math.prod(node.shape) == 0:
        return None
    memory = memory_of(node)
    replay = capture(lambda graph, allocate: op.transform(graph, node, memory, allocate),
                     memory, lazy.allocate, lookup, resolve)
    return None if replay is None else (OpReplay(replay, memory_of), [node])
