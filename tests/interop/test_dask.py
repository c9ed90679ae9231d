"""Dask arrays whose chunks are vkdispatch Arrays: the threaded scheduler, and a
dask.distributed LocalCluster on loopback (worker processes, values pickled between
them). Skipped where Dask is not installed (the test extra installs it)."""
import pickle

import numpy as np
import pytest

import vkdispatch as vd
import vkdispatch.array_api as xp

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
vdask = pytest.importorskip("vkdispatch.interop.dask")


@pytest.fixture
def data():
    return np.arange(96, dtype=np.float32).reshape(8, 12)


def test_threaded_scheduler_runs_chunks_on_the_device(backend, data):
    d = vdask.from_array(xp.asarray(data), chunks=(4, 6))
    assert d.npartitions == 4
    job = ((d * 2 + 1).map_blocks(xp.sin, dtype=np.float32).T - d.T) / 3
    with dask.config.set(scheduler="threads"):
        out = job.compute()
    assert isinstance(out, xp.Array)             # concatenated on the device
    ref = (np.sin(data * 2 + 1).T - data.T) / 3
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-5)
    with dask.config.set(scheduler="threads"):
        if hasattr(xp, "sum"):     # the reductions, where the namespace has them
            np.testing.assert_allclose(float(d.sum().compute()), data.sum(), rtol=1e-6)
            col = d.sum(axis=0).compute()
            assert isinstance(col, xp.Array)
            np.testing.assert_allclose(np.asarray(col), data.sum(axis=0), rtol=1e-6)
            np.testing.assert_array_equal(np.asarray(d.max(axis=1).compute()), data.max(1))
        else:
            with pytest.raises(TypeError, match="numpy.sum has no vkdispatch device"):
                d.sum().compute()
    with pytest.raises(TypeError, match="vkdispatch Array"):
        vdask.from_array(data, chunks=4)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_threaded_mean_std_var_match_numpy(backend, data, axis):
    """Dask's moment reductions call NumPy methods on the chunks (x.sum(axis=...,
    dtype=..., keepdims=...)) and divide float chunks by int64 counts."""
    if not xp.asarray(data).device.info.float64:
        pytest.skip("Dask's var/std divide by int64 counts, which NumPy does in float64")
    values = data * 0.37 - 11
    d = vdask.from_array(xp.asarray(values), chunks=(3, 5))    # uneven chunks
    with dask.config.set(scheduler="threads"):
        for name, kwargs in (("mean", {}), ("var", {}), ("std", {}), ("var", {"ddof": 1}),
                             ("std", {"ddof": 1}), ("sum", {}), ("prod", {}), ("min", {}),
                             ("max", {})):
            src = values / 40 if name == "prod" else values
            dd = d / 40 if name == "prod" else d
            got = getattr(dd, name)(axis=axis, **kwargs).compute()
            ref = getattr(src, name)(axis=axis, **kwargs)
            np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name}{kwargs} axis={axis}")
        b = d > 0
        for name in ("any", "all"):
            got = getattr(b, name)(axis=axis).compute()
            np.testing.assert_array_equal(np.asarray(got), getattr(values > 0, name)(axis=axis))


def test_arrays_pickle_as_their_values(backend, data):
    x = xp.asarray(data)[::2]
    y = pickle.loads(pickle.dumps(x))
    assert isinstance(y, xp.Array) and y.dtype == x.dtype
    np.testing.assert_array_equal(np.asarray(y), data[::2])


def test_local_cluster_workers_compute_on_their_devices(backend, data):
    if backend == "opencl":
        pytest.skip("one cluster start is enough here (PoCL compiles again in each worker)")
    distributed = pytest.importorskip("distributed")
    d = vdask.from_array(xp.asarray(data), chunks=(4, 6))
    job = (d * 3).map_blocks(xp.sqrt, dtype=np.float32) + 1
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(vdask.device_plugin([0], backend=backend))
        backends = client.run(lambda: vd.get_context().backend)
        assert sorted(backends.values()) == [backend, backend]
        out = job.compute()
    assert isinstance(out, xp.Array)
    np.testing.assert_allclose(np.asarray(out), np.sqrt(data * 3) + 1, rtol=1e-5)


def test_the_multi_gpu_example_runs(backend):
    if backend != "vulkan":
        pytest.skip("runs once, on one backend")
    pytest.importorskip("distributed")
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, os.path.join(root, "examples", "dask_multi_gpu.py"),
                          "--backend", backend, "--size", "256", "--workers", "2"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "2 workers:" in run.stdout
