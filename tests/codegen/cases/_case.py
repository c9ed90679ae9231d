"""The Case record, the registry and helpers the case modules share."""
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import vkdispatch.codegen as vc

TARGETS = ("glsl", "cuda", "opencl")
BACKEND_TARGET = {"vulkan": "glsl", "cuda": "cuda", "opencl": "opencl"}
SUBGROUP_FEATURES = ("basic", "arithmetic", "ballot", "shuffle", "vote")


@dataclass(frozen=True)
class Case:
    name: str
    make_shader: Callable          # () -> vd.ShaderFunction (a fresh one per call)
    inputs: Callable               # (np.random.Generator) -> {param name: array or value}
    reference: Callable            # (inputs, DeviceInfo) -> {output buffer name: expected}
    rtol: float = 1e-6
    atol: float = 0.0
    tols: dict = field(default_factory=dict)      # output or "output[column]" -> (rtol, atol)
    needs: frozenset = frozenset()                # DeviceInfo flags / subgroup op groups
    targets: tuple = TARGETS
    compile_only: bool = False
    unordered: tuple = ()                         # outputs compared after sorting
    columns: dict = field(default_factory=dict)   # table output -> column names (error messages)
    launch: dict = field(default_factory=dict)    # extra keyword arguments of the call
    xfail: dict = field(default_factory=dict)     # known codegen bugs: see known_bug()

    def __repr__(self) -> str:
        return f"Case({self.name})"

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(zlib.crc32(self.name.encode()))

    def tolerance(self, label: str) -> tuple:
        """(rtol, atol) of an output ("out") or one column of a table output ("out[sin]")."""
        return self.tols.get(label, self.tols.get(label.split("[")[0], (self.rtol, self.atol)))

    def known_bug(self, stage: str, target: str, device=None):
        """The xfail reason for `stage` ("compile" or "run") on `target`, or None. Keys of
        `xfail`: "compile:<target>", "run:<target>", "<stage>:all", and "run:<target>:<text>"
        for a bug that shows only on devices whose name contains <text> (lower case). A case
        that does not compile does not run either."""
        for st in (("compile", "run") if stage == "run" else ("compile",)):
            for key in (f"{st}:{target}", f"{st}:all"):
                if key in self.xfail:
                    return self.xfail[key]
        if stage == "run" and device is not None:
            for key, reason in self.xfail.items():
                st, _, rest = key.partition(":")
                tgt, _, text = rest.partition(":")
                if st == "run" and tgt == target and text and text in device.name.lower():
                    return reason
        return None

    def missing(self, device) -> list:
        """The features of `needs` that `device` (a DeviceInfo) lacks: DeviceInfo flags,
        subgroup op groups, or "cl:<extension>" (checked on OpenCL devices only)."""
        out = []
        for need in sorted(self.needs):
            if need.startswith("cl:"):
                ok = device.backend != "opencl" or \
                    need[3:] in device.extra.get("extensions", "").split()
            elif need in SUBGROUP_FEATURES:
                ok = need in device.subgroup_ops
            else:
                ok = bool(getattr(device, need))
            if not ok:
                out.append(need)
        return out


CASES: list = []


def case(name, inputs, reference, **kw):
    """Register the decorated shader factory as a case."""
    def register(make_shader):
        CASES.append(Case(name, make_shader, inputs, reference, **kw))
        return make_shader
    return register


def gid():
    return vc.global_invocation_id().x


def flat(*columns, dtype=None):
    """Column outputs interleaved per element, as the table kernels write them."""
    out = np.stack([np.broadcast_to(c, np.shape(columns[0])) for c in columns], axis=1)
    return out.reshape(-1) if dtype is None else out.reshape(-1).astype(dtype)


def nonzero(rng, low, high, n, dtype):
    v = rng.integers(low, high, n).astype(dtype)
    v[v == 0] = 1
    return v


N = 1001        # odd, so the last workgroup is partial and the bounds check matters
