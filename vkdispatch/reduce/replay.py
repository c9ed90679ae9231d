"""Recorded reductions: the kernels, launch sizes, bindings and uniforms of one
reduction layout, worked out once and recorded again for new inputs.

A `ReductionPlan` is made by the engine for (shape, axes, the inputs' alignment and
sizes) and keeps what does not change between calls: its scratch memory (partials of
a split row, the results of passes before the last) and the counters of its finishing
stages. Recording it again takes the new inputs and output, so a loop binds the same
buffers every call and the command graph replays its kept command list.

Two records of one plan in one graph share its scratch memory: the second writes
what the first read, so the graph orders them, as streams and in-order queues do."""
from __future__ import annotations

from ..base.buffer import Buffer

OUT = -1    # a resource slot: the call's output buffer


class Scratch:
    """Memory a plan allocates for every record instead of keeping (too large to hold
    on to between calls), and a plan's scratch while it is being made."""
    __slots__ = ("shape", "dtype", "nbytes")
    offset = 0

    def __init__(self, shape: tuple, dtype):
        self.shape, self.dtype = shape, dtype
        self.nbytes = shape[0] * dtype.itemsize


class Launch:
    """One dispatch of a plan. `slots`: per binding, an input position, OUT, a Buffer
    the plan keeps or a Scratch; `constants`: uniform values fixed by the layout;
    `fed`: (uniform name, input position) for the values the inputs give; `lengths`:
    (uniform name, binding position) for the element counts a memory-checked kernel
    takes of its bound buffers."""
    __slots__ = ("kernel", "groups", "slots", "constants", "fed", "lengths", "_last")

    def __init__(self, kernel, groups: tuple, slots: list, constants: dict, fed: tuple):
        self.kernel, self.groups, self.slots = kernel, groups, slots
        self.constants, self.fed = constants, fed
        self.lengths = tuple(kernel.length_fields.items())
        self._last = None     # (fed values, packed bytes) of the last record

    def packed(self, inputs, resources: list) -> bytes:
        values = tuple(inputs[k] for _, k in self.fed)
        if self.lengths:
            values += tuple(resources[i].size for _, i in self.lengths)
        last = self._last
        if last is not None and last[0] == values:
            return last[1]
        uniforms = dict(self.constants)
        uniforms.update(zip([name for name, _ in self.fed + self.lengths], values))
        packed = self.kernel.packer.pack(uniforms)
        self._last = (values, packed)
        return packed


class ReductionPlan:
    """The launches of one reduction layout, in order."""
    __slots__ = ("launches", "__weakref__")

    def __init__(self, launches: list):
        self.launches = launches

    def record(self, graph, inputs, out: Buffer) -> None:
        """Record the reduction of `inputs` (checked by the engine when it made this
        plan; the same layout) into `out`."""
        fresh = {}
        for launch in self.launches:
            resources = []
            for slot in launch.slots:
                if type(slot) is int:
                    resources.append(out if slot == OUT else inputs[slot])
                elif type(slot) is Scratch:
                    buf = fresh.get(id(slot))
                    if buf is None:
                        buf = fresh[id(slot)] = Buffer(slot.shape, slot.dtype)
                    resources.append(buf)
                else:
                    resources.append(slot)
            graph.record_packed(launch.kernel, launch.groups, resources, launch.packed(inputs, resources))
