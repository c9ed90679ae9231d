"""The documentation: it builds with warnings as errors (where Sphinx is installed),
its examples (docs/examples/*.py, included by the pages) run on every backend present
with results checked against NumPy inside each example, and the vkdispatch names the
pages mention exist."""
import importlib.util
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp
import vkdispatch.codegen as vc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PAGES = sorted(DOCS.rglob("*.rst"))


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _vkfft_missing():
    from vkdispatch.vkfft import _native
    ctx = vd.get_context()
    if ctx.runtime_context.capabilities.native_api is None:
        return "vd.vkfft needs the CUDA or OpenCL backend"
    try:
        _native.load(_native.api_for(ctx))
    except vd.BackendUnavailableError as exc:
        return str(exc)
    return None


def _torch_cuda_missing():
    if not _has("torch"):
        return "needs torch"
    import torch
    return None if torch.cuda.is_available() else "needs torch with a CUDA device"


# What an example needs beyond a backend: (backends it runs on or None for all,
# modules, a check returning why it cannot run here or None)
NEEDS = {
    "vkfft.py": (None, (), _vkfft_missing),
    "cuda_graph.py": (("cuda",), (), None),
    "interop_cupy.py": (("cuda",), ("cupy",), None),
    "interop_torch.py": (None, (), _torch_cuda_missing),
    "interop_dask.py": (None, ("dask",), None),
}
NO_BACKEND = ("codegen_only.py",)      # chooses the dummy backend itself
# Lines an example prints from the exceptions it catches (they must be raised)
PRINTS = {
    "errors.py": ("parameter 'buff' is Buff[float32] but the buffer's dtype is int32",
                  "does not fit in float32", "OutOfMemoryError True",
                  "which has ended", "past its 4 elements"),
    "buffers.py": ("refused: cannot write float64 data to a int32 buffer",),
}
BACKEND_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in NO_BACKEND)


def test_docs_build_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx", minversion="7", reason="Sphinx >= 7 is not installed "
                                                      "(the docs extra)")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
                           "-b", "html", str(DOCS), str(tmp_path / "html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "html" / "api" / "array_api.html").exists()
    assert (tmp_path / "html" / "parity" / "README.md").exists()


@pytest.mark.parametrize("name", BACKEND_EXAMPLES)
def test_example_runs(backend, name, capsys):
    backends, modules, check = NEEDS.get(name, (None, (), None))
    if backends is not None and backend not in backends:
        pytest.skip(f"{name} runs on the {'/'.join(backends)} backend(s)")
    for module in modules:
        if not _has(module):
            pytest.skip(f"{name} needs {module}")
    reason = check() if check is not None else None
    if reason is not None:
        pytest.skip(f"{name}: {reason}")
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    for line in PRINTS.get(name, ()):
        assert line in out, (line, out)


def test_codegen_only_example():
    try:
        runpy.run_path(str(EXAMPLES / "codegen_only.py"), run_name="__main__")
    finally:
        vc.set_codegen_backend(None)
        vd.shutdown()


def test_every_example_is_on_a_page_and_every_include_exists():
    included = set()
    for page in PAGES:
        for target in re.findall(r"\.\. literalinclude:: (\S+)", page.read_text()):
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.name} includes missing {target}"
            included.add(path)
    examples = {p.resolve() for p in EXAMPLES.glob("*.py")}
    assert examples <= included, f"not shown on any page: {sorted(examples - included)}"


def test_section_markers_of_included_examples_exist():
    for page in PAGES:
        text = page.read_text()
        for target, opts in re.findall(r"\.\. literalinclude:: (\S+)\n((?:   :.*\n)*)", text):
            source = (page.parent / target).read_text()
            for marker in re.findall(r":(?:start-after|end-before): (.+)", opts):
                assert marker.strip() in source, (page.name, target, marker)


_ROOTS = {"vd": vd, "vc": vc, "xp": xp, "vkdispatch": vd}
# vd.x, vc.x, xp.x and vkdispatch.x... named in ``code`` or a :role:`target`
_NAME = re.compile(r"(?:``|:`)~?((?:vd|vc|xp|vkdispatch)(?:\.\w+)+)")


def _resolve(dotted: str):
    parts = dotted.split(".")
    obj = _ROOTS[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        module = ".".join(["vkdispatch"] + parts[1:i + 1]) if parts[0] == "vkdispatch" else None
        if module is None or not _has(module):
            raise AttributeError(f"{'.'.join(parts[:i])} has no {part!r}")
        obj = importlib.import_module(module)
    return obj


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_names_on_the_pages_exist(page):
    missing = []
    for dotted in sorted(set(_NAME.findall(page.read_text()))):
        try:
            _resolve(dotted)
        except AttributeError as exc:
            missing.append(f"{dotted}: {exc}")
    assert not missing, missing
