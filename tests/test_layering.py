"""DESIGN.md's import rules, checked on the source: imports point down the layers."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "vkdispatch"
LEAVES = {"vkdispatch.base.dtype", "vkdispatch.base.abi", "vkdispatch.base.stats",
          "vkdispatch.base.process", "vkdispatch.base.errors", "vkdispatch.base.log",
          "vkdispatch.base.cache",
          "vkdispatch.base.sampling"}   # the sampler description runtimes and vd.Sampler share


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path):
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            yield from [target] + names
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _vkd_imports(path):
    return {t for t in _imports(path) if t.startswith("vkdispatch")}


def _files(sub):
    return sorted((PKG / sub).rglob("*.py"))


@pytest.mark.parametrize("path", _files("backends"), ids=lambda p: str(p.relative_to(PKG)))
def test_backends_import_only_leaves_and_the_runtime_interface(path):
    for target in _vkd_imports(path):
        ok = (target.startswith("vkdispatch.backends") or target == "vkdispatch.base"
              or any(target == leaf or target.startswith(leaf + ".") for leaf in LEAVES))
        assert ok, f"{path.name} imports {target}"


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaves_import_only_other_leaves(leaf):
    path = PKG.parent / (leaf.replace(".", "/") + ".py")
    others = {t for t in _vkd_imports(path)
              if t not in ("vkdispatch.base", "vkdispatch")
              and not any(t == l or t.startswith(l + ".") for l in LEAVES)}
    assert not others, f"{leaf} imports {others}"


@pytest.mark.parametrize("path", _files("base") + _files("codegen"),
                         ids=lambda p: str(p.relative_to(PKG)))
def test_lower_layers_never_import_upper_ones(path):
    upper = ("vkdispatch.shader", "vkdispatch.execution", "vkdispatch.array_api",
             "vkdispatch.interop", "vkdispatch.reduce", "vkdispatch.fft")
    if "/base/" in str(path):
        upper += ("vkdispatch.codegen",)
    else:   # codegen emits the kernel ABI (base/abi.py); it never reaches a backend
        upper += ("vkdispatch.backends",)
    for target in _vkd_imports(path):
        assert not target.startswith(upper), f"{path.name} imports {target}"


@pytest.mark.parametrize("path", _files("codegen/emit"), ids=lambda p: p.name)
def test_emitters_know_nothing_of_tracing(path):
    for target in _vkd_imports(path):
        assert not target.startswith(("vkdispatch.codegen.builder", "vkdispatch.codegen.variables",
                                      "vkdispatch.codegen.functions")), f"{path.name} imports {target}"
