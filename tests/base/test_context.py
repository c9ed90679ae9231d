import os
import subprocess
import sys

import pytest

import vkdispatch as vd
from vkdispatch.backends import runtime as rt


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
    env = dict(os.environ, VKDISPATCH_BACKEND="dummy")
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
