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
