"""Dask arrays whose chunks are vkdispatch Arrays (dask is imported on first use).

Chunks run elementwise graphs, `map_blocks` and the reductions the namespace has on
the device through NumPy's dispatch protocols; Dask's final `np.concatenate` runs on
the device too. For `dask.distributed`, Arrays pickle as their values (a copy through
the host, as any transfer between processes is) and `device_plugin` gives each worker
its own device.
"""
from __future__ import annotations

import copyreg

import numpy as np

from .. import array_api as xp
from ..array_api._array import Array


def _dask_array():
    try:
        import dask.array as da
    except ImportError as exc:
        raise ImportError("vkdispatch.interop.dask needs Dask (pip install 'dask[array]')") from exc
    return da


def from_array(x: Array, chunks):
    """A dask array over `x` in chunks of `chunks` (as dask.array.from_array takes
    them), each chunk a vkdispatch Array (a view of `x`, no copy)."""
    if not isinstance(x, Array):
        raise TypeError(f"from_array takes a vkdispatch Array, got {type(x).__name__} "
                        f"(xp.asarray it first)")
    da = _dask_array()
    # meta: a NumPy array of the dtype, so Dask's dtype checks compare NumPy dtypes
    meta = np.empty((0,) * x.ndim, dtype=x.dtype.numpy_dtype)
    return da.from_array(x, chunks=chunks, asarray=False, meta=meta)


def _rebuild(values: np.ndarray) -> Array:
    return xp.asarray(values)


def _reduce(x: Array):
    return _rebuild, (np.asarray(x),)


copyreg.pickle(Array, _reduce)


def _open_device(devices: list, backend, worker) -> None:
    import vkdispatch as vd
    index = worker.name if isinstance(worker.name, int) else hash(worker.name)
    if backend is not None:
        vd.initialize(backend=backend)
    vd.make_context(device_ids=[devices[index % len(devices)]])


def device_plugin(devices, backend=None):
    """A dask.distributed WorkerPlugin: worker `i` (its name in a LocalCluster) opens
    device `devices[i % len(devices)]` of `backend` (vd.get_devices() order), so n
    workers share n GPUs one each. Register with `client.register_plugin(...)`."""
    try:
        from distributed import WorkerPlugin
    except ImportError as exc:
        raise ImportError("device_plugin needs dask.distributed "
                          "(pip install 'dask[distributed]')") from exc
    devices = [int(d) for d in devices]
    if not devices:
        raise ValueError("devices must name at least one device index")

    class DevicePlugin(WorkerPlugin):
        name = "vkdispatch-device"
        idempotent = True

        def setup(self, worker):
            _open_device(devices, backend, worker)

    return DevicePlugin()
