"""Every backend lists its own devices; a machine with lavapipe and PoCL shows both."""
import pytest

from vkdispatch.backends import runtime as rt
from vkdispatch import cli


@pytest.mark.parametrize("name", ["vulkan", "opencl", "cuda"])
def test_each_backend_lists_its_devices(name, capsys):
    try:
        devices = rt.load_runtime(name).devices()
    except Exception as exc:
        pytest.skip(f"{name}: {exc}")
    assert devices and all(d.backend == name for d in devices)
    assert [d.index for d in devices] == list(range(len(devices)))
    cli.main([f"--{name}"])
    out = capsys.readouterr().out
    assert f"[{name}] {len(devices)} device(s)" in out
    for d in devices:
        assert d.name in out and f"backend: {name}" in out
