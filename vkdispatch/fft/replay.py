"""Recording a transform again without planning it: the dispatches a transform recorded
once (captured, see command_graph.capture_dispatches) are recorded anew with another
call's input and output buffers swapped in and the context's scratch looked up as it
is now. Nothing is planned, checked or packed again."""
from __future__ import annotations

from typing import Optional

from ..base.buffer import Buffer
from ..execution.command_graph import capture_dispatches
from .launch import scratch, scratch_slot

SRC, DST = 0, 1


def capture(ctx, record, src: Buffer, dst: Buffer) -> Optional[list]:
    """The dispatches `record(graph)` records, as (kernel, launch, resources, packed,
    swaps) with the positions of `src`, `dst` and scratch memory among the resources
    (left empty there, so that a kept record holds none of them);
    None when they cannot be replayed: a copy, or memory of src or dst reached other
    than through these very views."""
    captured = capture_dispatches(record)
    if captured is None:
        return None
    own = (src._base or src, dst._base or dst)   # compared by identity
    records = []
    for kernel, launch, resources, packed in captured:
        swaps = []
        for i, res in enumerate(resources):
            if res is src or res is dst:
                swaps.append((i, SRC if res is src else DST))
                continue
            if type(res) is not Buffer or any((res._base or res) is b for b in own):
                return None
            slot = scratch_slot(ctx, res)
            if slot is not None:
                swaps.append((i, (slot[0], res.size, slot[1])))
        kept = list(resources)
        for i, _ in swaps:   # held by no record: the call's memory, scratch that may grow
            kept[i] = None
        records.append((kernel, launch, tuple(kept), packed, tuple(swaps)))
    return records


def replay(ctx, graph, records: list, src: Buffer, dst: Buffer) -> None:
    """Record captured `records` into `graph` on this call's `src` and `dst`."""
    for kernel, launch, resources, packed, swaps in records:
        if swaps:
            resources = list(resources)
            for i, role in swaps:
                resources[i] = src if role == SRC else dst if role == DST else \
                    scratch(ctx, *role)
        graph.record_packed(kernel, launch, resources, packed)
