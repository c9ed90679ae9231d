"""Faults at the runtime level: out of memory, interrupted waits, malformed or
mismatched kernels, bad cache entries and launch sizes a driver cannot run. Each
raises a typed error (base/errors.py) and leaves the context usable; repros that
crashed the process before run in a subprocess, so a crash fails the test instead of
killing pytest."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.conftest import selected_backends
from vkdispatch.backends import runtime as rt
from vkdispatch.base.errors import DeviceLimitError, OutOfMemoryError

BACKENDS = [b for b in ("vulkan", "opencl", "cuda") if b in selected_backends()]
_probes = {}


def _runtime(name):
    if name not in _probes:
        import importlib
        _probes[name] = importlib.import_module(f"vkdispatch.backends.{name}").probe()
    if _probes[name] is not None:
        pytest.skip(f"{name}: {_probes[name]}")
    return rt.load_runtime(name)


@pytest.fixture(params=BACKENDS)
def runtime(request):
    return _runtime(request.param)


@pytest.fixture
def opencl():
    return _runtime("opencl")


def run_isolated(code: str, timeout: int = 180) -> str:
    """stdout of `code` run in a fresh interpreter; fails on a crash or a non-zero exit."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (f"the process died (exit status {proc.returncode}):\n"
                                  f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def _usable(ctx, queue=0):
    """The context still allocates, writes and reads."""
    a = np.arange(64, dtype=np.float32)
    h = ctx.buffer_alloc(queue, a.nbytes)
    ctx.buffer_write(h, a)
    assert (np.frombuffer(ctx.buffer_read(h, a.nbytes), np.float32) == a).all()
    ctx.buffer_free(h)


# ----------------------------------------------------------------------------- out of memory

def test_a_failing_host_allocation_raises_instead_of_aborting(runtime):
    """With the address space capped, a buffer or image the host cannot back raises
    OutOfMemoryError. PoCL allocated lazily and aborted in pocl_create_migration_commands
    (`p->mem_ptr != NULL`) at the first use of such a buffer."""
    out = run_isolated(f"""
        import re, resource
        import numpy as np
        from vkdispatch.backends import runtime as rt
        from vkdispatch.base.errors import OutOfMemoryError
        ctx = rt.load_runtime({runtime.name!r}).create_context([0], [1])
        keep = ctx.buffer_alloc(0, 256)
        ctx.buffer_write(keep, np.arange(64, dtype=np.float32))
        status = open("/proc/self/status").read()
        used = int(re.search(r"VmSize:\\s+(\\d+)", status).group(1)) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (used + (512 << 20), resource.RLIM_INFINITY))
        attempts = [lambda m=m: ctx.buffer_alloc(0, 1 << 30, m) for m in ("device", "host")]
        attempts.append(lambda: ctx.image_alloc(0, (8192, 8192), 1, "float32", 4))
        for attempt in attempts:
            try:
                h = attempt()
            except OutOfMemoryError as exc:
                print("refused:", exc)
                continue
            # a driver that reserves nothing yet must still run what uses it, or raise
            try:
                if hasattr(h, "nbytes"):
                    ctx.buffer_write(h, np.ones(16, np.uint8))
                    ctx.buffer_read(h, 16)
            except OutOfMemoryError as exc:
                print("refused at first use:", exc)
        print(np.frombuffer(ctx.buffer_read(keep, 256), np.float32).sum())
    """)
    assert out.strip().endswith(str(float(sum(range(64))))), out


def test_allocations_past_the_device_memory_raise(opencl):
    """Buffers under CL_DEVICE_MAX_MEM_ALLOC_SIZE whose total exceeds the global memory
    raise OutOfMemoryError; freeing one makes room again (PoCL does not count)."""
    ctx = opencl.create_context([0], [1])
    try:
        dev = ctx.devices[0]
        total = dev.memory_heaps[0][0]
        size = min(dev.max_allocation_size, total * 3 // 4)
        handles = []
        with pytest.raises(OutOfMemoryError, match="CL_DEVICE_GLOBAL_MEM_SIZE"):
            for _ in range(total // size + 2):
                handles.append(ctx.buffer_alloc(0, size))
        assert 1 <= len(handles) <= total // size
        _usable(ctx)
        ctx.buffer_free(handles.pop())
        handles.append(ctx.buffer_alloc(0, size))     # the freed bytes count no more
        with pytest.raises(OutOfMemoryError):
            ctx.image_alloc(0, (8192, 8192), 1, "float32", 4)   # images count too
        for h in handles:
            ctx.buffer_free(h)
        image = ctx.image_alloc(0, (4096, 4096), 1, "float32", 4)
        ctx.image_free(image)
        _usable(ctx)
    finally:
        ctx.destroy()


def test_images_beyond_the_device_limits_raise(opencl):
    ctx = opencl.create_context([0], [1])
    try:
        dev = ctx.devices[0]
        with pytest.raises(DeviceLimitError, match="IMAGE2D_MAX_WIDTH"):
            ctx.image_alloc(0, (1 << 20, 4), 1, "float32", 4)
        with pytest.raises(DeviceLimitError, match="IMAGE3D_MAX_DEPTH"):
            ctx.image_alloc(0, (4, 4, 1 << 20), 1, "float32", 1)
        with pytest.raises(DeviceLimitError, match="IMAGE_MAX_ARRAY_SIZE"):
            ctx.image_alloc(0, (4, 4), 1 << 20, "float32", 1)
        side = 1
        while side * side * 16 <= dev.max_allocation_size:
            side *= 2
        with pytest.raises((OutOfMemoryError, DeviceLimitError)):
            ctx.image_alloc(0, (side, side), 1, "float32", 4)
        _usable(ctx)
    finally:
        ctx.destroy()
