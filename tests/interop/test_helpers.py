"""vkdispatch.interop.torch / .cupy where those libraries or CUDA are missing."""
import importlib.util
import warnings

import numpy as np
import pytest

import vkdispatch as vd
from vkdispatch.interop import _fallback
from vkdispatch.interop.cupy import as_cupy
from vkdispatch.interop.torch import as_torch


@pytest.mark.parametrize("fn, lib", [(as_torch, "torch"), (as_cupy, "cupy")])
def test_helpers_name_the_missing_library(backend, fn, lib):
    if importlib.util.find_spec(lib) is not None:
        pytest.skip(f"{lib} is installed")
    with pytest.raises(ImportError, match=f"needs .*pip install {lib}"):
        fn(vd.asbuffer(np.zeros(3, np.float32)))


def test_host_copy_fallback_warns_once(backend, monkeypatch):
    buf = vd.asbuffer(np.arange(6, dtype=np.float32))
    if _fallback.shares_memory(buf):
        pytest.skip("this backend shares memory with CUDA libraries")
    monkeypatch.setattr(_fallback, "_warned", set())
    with pytest.warns(RuntimeWarning, match="copied through the host"):
        first = _fallback.host_copy(buf, "as_test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = _fallback.host_copy(buf, "as_test")
    np.testing.assert_array_equal(first, np.arange(6))
    np.testing.assert_array_equal(second, np.arange(6))


def test_the_exportable_allocator_is_one_object_and_names_cupy_when_missing():
    from vkdispatch.interop.cupy import ExportableAllocator, exportable_allocator
    alloc = exportable_allocator()
    assert isinstance(alloc, ExportableAllocator) and exportable_allocator() is alloc
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed")
    with pytest.raises(ImportError, match="needs CuPy"):
        alloc(64)
    with pytest.raises(ImportError, match="needs CuPy"):
        with alloc:
            pass
