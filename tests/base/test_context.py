import os
import subprocess
import sys

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt
from vkdispatch.base import context as context_mod


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch):
    """These tests are about how the backend is chosen: $VKDISPATCH_BACKEND (set to run
    the rest of the suite on one backend) must not decide for them."""
    monkeypatch.delenv("VKDISPATCH_BACKEND", raising=False)


def _env_without_backend(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "VKDISPATCH_BACKEND"}
    env.update(extra)
    return env


def _dev(backend, device_type, index=0):
    return rt.DeviceInfo(backend=backend, index=index, name=f"{backend} {device_type} {index}",
                         device_type=device_type, version="test")


def _best(devices):
    return min(devices, key=context_mod.device_preference)


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="backend must be one of"):
        vd.initialize(backend="metal")


def test_dummy_backend_and_params():
    vd.initialize(backend="dummy")
    try:
        vd.set_dummy_context_params(subgroup_size=64, max_workgroup_size=(256, 256, 64))
        dev = vd.get_devices()[0]
        assert dev.subgroup_size == 64 and dev.max_workgroup_size == (256, 256, 64)
        assert "dummy" in dev.get_info_string()
        with pytest.raises(TypeError, match="unknown dummy device parameter"):
            vd.set_dummy_context_params(warp=3)
        ctx = vd.make_context()
        with pytest.raises(vd.UnsupportedFeatureError, match="only generates code"):
            vd.Buffer((4,), vd.float32)
        with pytest.raises(ValueError, match="device_ids"):
            vd.make_context(device_ids=[3])
        assert ctx.backend == "dummy"
    finally:
        vd.shutdown()


def test_env_var_selects_backend():
    code = "import vkdispatch as vd; print(vd.get_backend())"
    env = _env_without_backend(VKDISPATCH_BACKEND="dummy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "dummy"


def test_no_backend_lists_what_was_tried(monkeypatch):
    def fail(name):
        raise vd.BackendUnavailableError(f"backend {name!r} is unavailable: test")
    monkeypatch.setattr(rt, "load_runtime", fail)
    vd.shutdown()
    with pytest.raises(vd.BackendUnavailableError) as info:
        vd.initialize()
    for name in ("vulkan", "cuda", "opencl"):
        assert name in str(info.value)
    assert "backend='dummy'" in str(info.value)


def test_import_loads_no_gpu_package():
    code = ("import sys, vkdispatch, vkdispatch.codegen; "
            "print([m for m in ('vulkan', 'cuda', 'pyopencl') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env_without_backend())
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- default pick

def test_gpu_beats_cpu_whatever_the_backend():
    for gpu_backend in ("vulkan", "cuda", "opencl"):
        for cpu_backend in ("vulkan", "opencl"):
            for gpu_type in ("discrete", "integrated", "virtual"):
                gpu, cpu = _dev(gpu_backend, gpu_type), _dev(cpu_backend, "cpu")
                assert _best([cpu, gpu]) is gpu and _best([gpu, cpu]) is gpu


def test_vulkan_gpu_beats_cuda_gpu_beats_opencl_gpu():
    vk, cu, cl = _dev("vulkan", "discrete"), _dev("cuda", "discrete"), _dev("opencl", "discrete")
    assert _best([cl, cu, vk]) is vk
    assert _best([cl, cu]) is cu


def test_discrete_beats_integrated_on_any_backend():
    integrated, discrete = _dev("vulkan", "integrated"), _dev("opencl", "discrete")
    assert _best([integrated, discrete]) is discrete


def test_opencl_cpu_beats_vulkan_cpu():
    """PoCL runs fused elementwise kernels 6-15x faster than lavapipe."""
    lavapipe, pocl = _dev("vulkan", "cpu"), _dev("opencl", "cpu")
    assert _best([lavapipe, pocl]) is pocl and _best([pocl, lavapipe]) is pocl


def test_integrated_beats_cpu():
    cpu, integrated = _dev("opencl", "cpu"), _dev("vulkan", "integrated", index=1)
    assert _best([cpu, integrated]) is integrated


def test_default_context_opens_the_best_device_not_index_0():
    devices = [_dev("vulkan", "cpu", 0), _dev("vulkan", "discrete", 1), _dev("vulkan", "cpu", 2)]
    assert context_mod._ranked_devices(devices)[0] == 1
    assert context_mod._ranked_devices(devices[:1]) == [0]


class _FakeRuntime:
    def __init__(self, name, types):
        self.name = name
        self._devices = [_dev(name, t, i) for i, t in enumerate(types)]

    def devices(self):
        if self._devices == [] and self.name == "broken":
            raise RuntimeError("driver exploded")
        return self._devices


def _fake_machine(monkeypatch, machine) -> list:
    """Make rt.load_runtime load a fake machine: backend name -> its device types, or
    "broken" (devices() raises); a backend not named is unavailable. Returns the list of
    backends loaded, in order."""
    loaded = []

    def load(name):
        loaded.append(name)
        if name not in machine:
            raise vd.BackendUnavailableError(f"backend {name!r} is unavailable: test")
        if machine[name] == "broken":
            return _FakeRuntime("broken", [])
        return _FakeRuntime(name, machine[name])
    monkeypatch.setattr(rt, "load_runtime", load)
    vd.shutdown()
    return loaded


def _default_backend(monkeypatch, machine) -> tuple:
    loaded = _fake_machine(monkeypatch, machine)
    try:
        vd.initialize()
        return vd.get_backend(), loaded
    finally:
        vd.shutdown()


def test_pick_loads_every_backend_on_a_cpu_machine(monkeypatch):
    assert _default_backend(monkeypatch, {"vulkan": ["cpu"], "opencl": ["cpu"]}) == \
        ("opencl", ["vulkan", "cuda", "opencl"])


def test_pick_prefers_a_later_backends_gpu(monkeypatch):
    machine = {"vulkan": ["cpu"], "cuda": ["discrete"], "opencl": ["cpu"]}
    assert _default_backend(monkeypatch, machine)[0] == "cuda"
    machine = {"vulkan": ["cpu", "integrated"], "opencl": ["cpu"]}
    assert _default_backend(monkeypatch, machine)[0] == "vulkan"


def test_pick_stops_at_a_discrete_gpu_on_the_first_backend(monkeypatch):
    machine = {"vulkan": ["cpu", "discrete"], "cuda": ["discrete"]}
    assert _default_backend(monkeypatch, machine) == ("vulkan", ["vulkan"])


def test_pick_skips_a_broken_backend(monkeypatch):
    machine = {"vulkan": ["cpu"], "opencl": "broken"}
    assert _default_backend(monkeypatch, machine) == ("vulkan", ["vulkan", "cuda", "opencl"])
    _fake_machine(monkeypatch, {"opencl": "broken"})
    with pytest.raises(vd.BackendUnavailableError, match="driver exploded"):
        vd.initialize()


def test_env_var_and_argument_still_decide(monkeypatch):
    _fake_machine(monkeypatch, {"vulkan": ["cpu"], "opencl": ["cpu"]})
    try:
        vd.initialize(backend="vulkan")
        assert vd.get_backend() == "vulkan"
        vd.shutdown()
        monkeypatch.setenv("VKDISPATCH_BACKEND", "vulkan")
        vd.initialize()
        assert vd.get_backend() == "vulkan"
    finally:
        vd.shutdown()


def _devices_of(name) -> list:
    try:
        return rt.load_runtime(name).devices()
    except vd.BackendUnavailableError:
        return []


def test_default_on_this_machine_is_the_best_device():
    """Without $VKDISPATCH_BACKEND: a GPU if there is one; with only lavapipe and PoCL,
    PoCL (OpenCL). Run in a fresh process, as a user's first `vd.get_context()` would."""
    code = ("import vkdispatch as vd; d = vd.get_context().device; "
            "print(vd.get_backend(), d.device_type, d.index)")
    out = subprocess.run([sys.executable, "-c", code], env=_env_without_backend(),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    backend, device_type, index = out.stdout.split()
    every = [d for name in rt.DEFAULT_ORDER for d in _devices_of(name)]
    best = _best(every)
    assert (backend, device_type, int(index)) == (best.backend, best.device_type, best.index)
    if {d.backend for d in every} >= {"vulkan", "opencl"} and \
            all(d.device_type == "cpu" for d in every):
        assert backend == "opencl"   # lavapipe + PoCL: PoCL


@pytest.mark.parametrize("name", ["vulkan", "opencl"])
def test_multi_queue_falls_back_to_the_queues_a_device_has(name):
    try:
        vd.initialize(backend=name)
    except vd.BackendUnavailableError as exc:
        pytest.skip(str(exc))
    try:
        ctx = vd.make_context(multi_queue=True)
        families = [n for n, flags in ctx.device.queue_families if "compute" in flags]
        assert ctx.queue_count == (min(2, max(families)) if families else 2)
        buf = vd.asbuffer(np.arange(4, dtype=np.float32))
        for q in range(ctx.queue_count):
            np.testing.assert_array_equal(buf.read(q), np.arange(4, dtype=np.float32))
    finally:
        vd.shutdown()


def test_vkdispatch_0_1_start_lines_run(monkeypatch):
    """The first lines of 0.1's tutorials: initialize with debug_mode and a LogLevel,
    make_context(use_cpu=True), the backend predicates, 0.1's log calls."""
    import logging
    monkeypatch.delenv("VKDISPATCH_BACKEND", raising=False)
    try:
        vd.initialize(debug_mode=False, log_level=vd.LogLevel.WARNING)
        ctx = vd.make_context(use_cpu=True)
        name = vd.get_backend()
        assert [vd.is_vulkan(), vd.is_cuda(), vd.is_opencl(), vd.is_dummy()].count(True) == 1
        assert {"vulkan": vd.is_vulkan, "cuda": vd.is_cuda, "opencl": vd.is_opencl,
                "dummy": vd.is_dummy}[name]()
        assert ctx.queue_count == 1
        ctx = vd.make_context(device_count=1, queue_families=None)
        assert len(ctx.devices) == 1
        ctx = vd.make_context(device_ids=[0], queue_families=[[0]])
        assert ctx.queue_count == 1
        with pytest.raises(ValueError, match="device_count"):
            vd.make_context(device_count=99)
        assert logging.getLogger("vkdispatch").level == logging.WARNING
        vd.log_verbose("hidden at WARNING")
        vd.log("shown", level=vd.LogLevel.ERROR)
        vd.set_log_level(vd.LogLevel.VERBOSE)
        assert logging.getLogger("vkdispatch").level == logging.DEBUG
    finally:
        vd.set_log_level("warning")
        vd.shutdown()
