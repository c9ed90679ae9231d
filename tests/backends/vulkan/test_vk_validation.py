"""The Vulkan runtime and generated kernels break no rule the Khronos validation layer
checks: the runtime tests run again in a child process with the layer on, and any
"Validation Error" it prints fails this test. Skipped where the layer is not installed
(scripts/setup.sh installs it)."""
import os
import subprocess
import sys

import pytest

from vkdispatch.backends.vulkan.instance import VALIDATION_LAYER, instance_layers

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))


def test_runtime_tests_pass_validation(vk_runtime):
    if os.environ.get("VK_INSTANCE_LAYERS") == VALIDATION_LAYER:
        pytest.skip("already running under the validation layer")
    if VALIDATION_LAYER not in instance_layers():
        pytest.skip(f"{VALIDATION_LAYER} is not installed")
    env = dict(os.environ, VK_INSTANCE_LAYERS=VALIDATION_LAYER, VKDISPATCH_TEST_BACKENDS="vulkan")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         os.path.join(TESTS, "runtime"), HERE],
        env=env, capture_output=True, text=True, timeout=1200)
    out = run.stdout + run.stderr
    errors = [line for line in out.splitlines() if "Validation Error" in line]
    assert not errors, "\n".join(errors[:5])
    assert run.returncode == 0, out[-3000:]
