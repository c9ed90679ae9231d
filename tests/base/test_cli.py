import subprocess
import sys

from vkdispatch import cli


def test_vdlist_reports_each_backend(capsys):
    code = cli.main([])
    out = capsys.readouterr().out
    for name in ("vulkan", "cuda", "opencl"):
        assert f"[{name}]" in out
    assert code in (0, 1)
    assert (code == 0) == ("device(s)" in out and "Device 0" in out)


def test_vdlist_single_backend_flag():
    out = subprocess.run([sys.executable, "-m", "vkdispatch.cli", "--cuda"], capture_output=True,
                         text=True)
    assert "[cuda]" in out.stdout and "[vulkan]" not in out.stdout


def test_0_1_entry_points_and_options(capsys, monkeypatch):
    """vkdispatch 0.1's `python -m vkdispatch`, `cli.cli_entrypoint` and vdlist options."""
    import vkdispatch as vd
    out = subprocess.run([sys.executable, "-m", "vkdispatch", "--version"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and vd.__version__ in out.stdout
    assert cli.cli_entrypoint is cli.main
    monkeypatch.delenv("VK_LOADER_DEBUG", raising=False)
    from vkdispatch.base.log import logger
    monkeypatch.setattr(logger, "level", logger.level)       # restored afterwards
    code = cli.main(["--opencl", "--log_info", "--loader_debug"])
    assert logger.level == 20
    assert "[opencl]" in capsys.readouterr().out and code in (0, 1)
    import os
    assert os.environ["VK_LOADER_DEBUG"] == "all"
