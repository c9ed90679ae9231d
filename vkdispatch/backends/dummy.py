"""The dummy backend: a configurable device model for code generation, no execution."""
from __future__ import annotations

import dataclasses

from ..base.errors import UnsupportedFeatureError
from .runtime import DeviceInfo, Runtime, RuntimeContext

_DEFAULT = DeviceInfo(
    backend="dummy", index=0, name="vkdispatch dummy device", device_type="virtual",
    version="codegen only", float64=True, float16=True, int64=True, int16=True, int8=True,
    float32_atomic_add=True, float64_atomic_add=True, int64_atomics=True, subgroup_size=32,
    subgroup_ops=frozenset({"basic", "arithmetic", "ballot", "shuffle", "vote"}),
    max_push_constant_size=128, max_shared_memory=49152, max_workgroup_size=(1024, 1024, 64),
    max_workgroup_invocations=1024, max_workgroup_count=(2 ** 31 - 1, 65535, 65535),
)

# DeviceInfo fields a user may set through vd.set_dummy_context_params
TUNABLE = tuple(f.name for f in dataclasses.fields(DeviceInfo)
                if f.name not in ("backend", "index", "extra"))


class DummyRuntime(Runtime):
    name = "dummy"
    codegen_target = "glsl"

    def __init__(self):
        self.device = _DEFAULT

    def set_params(self, **params) -> None:
        bad = sorted(set(params) - set(TUNABLE))
        if bad:
            raise TypeError(f"unknown dummy device parameter(s) {bad}; valid: {sorted(TUNABLE)}")
        for key in ("max_workgroup_size", "max_workgroup_count"):
            if key in params:
                v = tuple(int(x) for x in params[key])
                if len(v) != 3 or min(v) < 1:
                    raise ValueError(f"{key} must be three positive integers, got {params[key]!r}")
                params[key] = v
        if params.get("max_loop_iterations") is not None:
            n = params["max_loop_iterations"]
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"max_loop_iterations must be a positive int or None, got {n!r}")
        if "subgroup_ops" in params:
            params["subgroup_ops"] = frozenset(params["subgroup_ops"])
        if "max_workgroup_size" in params and "max_workgroup_invocations" not in params:
            params["max_workgroup_invocations"] = max(params["max_workgroup_size"])
        self.device = dataclasses.replace(self.device, **params)

    def devices(self):
        return [self.device]

    def create_context(self, device_indices, queue_counts, debug=False):
        if list(device_indices) != [0]:
            raise ValueError(f"the dummy backend has one device (index 0), got {list(device_indices)}")
        return DummyContext(self, sum(queue_counts))


class DummyContext(RuntimeContext):
    """Holds the device model; every operation that would touch a device raises."""

    def __init__(self, runtime: DummyRuntime, queues: int):
        self.runtime = runtime
        self.queue_device = [0] * max(1, queues)

    @property
    def devices(self):
        return [self.runtime.device]

    def _no(self, what):
        raise UnsupportedFeatureError(
            f"the dummy backend only generates code; {what} needs a real backend "
            f"(vd.initialize(backend='vulkan'|'cuda'|'opencl'))")

    def buffer_alloc(self, queue, nbytes, memory="device"):
        self._no("allocating a buffer")

    def buffer_free(self, handle):
        pass

    def buffer_write(self, handle, data, offset=0):
        self._no("writing a buffer")

    def buffer_read(self, handle, nbytes, offset=0, out=None):
        self._no("reading a buffer")

    def _create_program(self, source, info, options):
        self._no("compiling a kernel")

    def _command_list(self, queue, timestamps, hazard_tracking):
        self._no("recording commands")

    def queue_wait_idle(self, queue=None):
        pass

    def destroy(self):
        pass


def load_runtime() -> DummyRuntime:
    return DummyRuntime()
