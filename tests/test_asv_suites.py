"""The asv suites in benchmarks/asv/ (asv.conf.json's benchmark_dir) keep working: each
benchmark's setup, one call of every time_/track_ method and teardown, on the smallest
parameters, per backend present. Nothing is timed or compared here; asv itself is not
needed."""
import importlib.util
import inspect
import json
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "vkdispatch_asv_suites"      # imported under its own name: no clash with asv


def _load_suites():
    conf = json.loads((ROOT / "asv.conf.json").read_text())
    where = ROOT / conf["benchmark_dir"]
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, where / "__init__.py", submodule_search_locations=[str(where)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    suites = []
    for info in pkgutil.iter_modules([str(where)]):
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and not name.startswith("_") and _benchmarks(cls):
                suites.append(cls)
    return suites


def _benchmarks(cls) -> list:
    return [n for n in dir(cls) if n.startswith(("time_", "track_")) and callable(getattr(cls, n))]


SUITES = _load_suites()


def _param_lists(cls) -> list:
    """asv's `params`: one list per parameter (a single list for one parameter)."""
    return list(cls.params) if isinstance(cls.params[0], (list, tuple)) else [cls.params]


def _smallest(cls) -> tuple:
    """The parameters after the backend, each its smallest value."""
    return tuple(min(values, key=lambda v: v if isinstance(v, int) else sum(v))
                 for values in _param_lists(cls)[1:])


def test_suites_were_found():
    names = {cls.__name__ for cls in SUITES}
    assert {"ElementwiseChain", "Sum", "EagerCall", "GraphReplay", "BatchedFFT",
            "BufferTransfer"} <= names


@pytest.mark.parametrize("suite", SUITES, ids=lambda cls: f"{cls.__module__.split('.')[-1]}."
                                                          f"{cls.__name__}")
def test_each_benchmark_runs_once(backend, suite):
    assert suite.param_names[0] == "backend" and backend in _param_lists(suite)[0]
    args = (backend,) + _smallest(suite)
    bench = suite()
    bench.setup(*args)
    try:
        for name in _benchmarks(suite):
            value = getattr(bench, name)(*args)
            if name.startswith("track_"):
                assert isinstance(value, float) and value > 0, (name, value)
    finally:
        if hasattr(bench, "teardown"):
            bench.teardown(*args)
