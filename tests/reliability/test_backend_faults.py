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


# ----------------------------------------------------------------------------- interrupts

_SPIN = {   # x[i] += 1 after a loop of LOOP steps per invocation (short: no long loops)
    "opencl": ("__kernel void spin(__global float* x) { size_t i = get_global_id(0); "
               "float v = x[i]; for (int k = 0; k < LOOP; k++) v = v * 0.9999f + 1e-7f; "
               "x[i] = x[i] + (v > 1e30f ? 2.0f : 1.0f); }", "spin"),
    "vulkan": ("#version 450\nlayout(local_size_x = 64) in;\n"
               "layout(std430, binding = 0) buffer X { float x[]; };\n"
               "void main() { uint i = gl_GlobalInvocationID.x; float v = x[i];"
               " for (int k = 0; k < LOOP; k++) v = v * 0.9999 + 1e-7;"
               " x[i] = x[i] + (v > 1e30 ? 2.0 : 1.0); }", "main"),
}


@pytest.mark.parametrize("name", ["opencl", "vulkan"])
def test_ctrl_c_during_a_long_kernel_is_honoured_at_once(name):
    """SIGINT (or _thread.interrupt_main) while a host access, queue_wait_idle or a
    graph's wait waits for a kernel of seconds raises KeyboardInterrupt at once (OpenCL
    waited for the kernel to finish), and the next read sees the kernel's result."""
    _runtime(name)
    source, entry = _SPIN[name]
    out = run_isolated(f"""
        import os, signal, threading, time, _thread
        import numpy as np
        import vkdispatch as vd
        vd.initialize(backend={name!r})
        device = vd.get_context().device
        # long loops on GPUs; lavapipe stops loops after 65,535 steps
        steps = "1000" if device.device_type == "cpu" else "60000"
        plan = vd.ComputePlan({source!r}.replace("LOOP", steps), local_size=(64, 1, 1),
                              entry_point={entry!r})
        # a buffer of at most 256 MiB, within every device's largest allocation
        most = min(device.max_workgroup_count[0], (256 << 20) // (64 * 4))

        def timed(groups):
            buf = vd.asbuffer(np.zeros(groups * 64, np.float32))
            t = time.perf_counter()
            plan((groups, 1, 1), [buf])
            buf.read(0)
            return buf, time.perf_counter() - t

        groups = 64
        while True:
            _, seconds = timed(groups)
            if seconds > 0.5 or groups * 2 > most:
                break
            groups *= 2
        groups = min(most, int(groups * 3.0 / max(seconds, 1e-3)))   # about 3 s
        buf, seconds = timed(groups)
        # a fast GPU runs even the largest launch in well under a second: queue several
        # (dependent: same buffer) so that each wait below lasts about 3 s
        reps = max(1, min(1000, round(3.0 / max(seconds, 1e-3))))
        seconds *= reps
        print("kernel seconds", round(seconds, 2), "launches", reps)
        expected = 1.0
        for how, interrupt in (("read", lambda: os.kill(os.getpid(), signal.SIGINT)),
                               ("wait_idle", _thread.interrupt_main),
                               ("graph", lambda: os.kill(os.getpid(), signal.SIGINT))):
            graph = vd.CommandGraph()
            for _ in range(reps):
                if how == "graph":
                    plan((groups, 1, 1), [buf], graph=graph)
                else:
                    plan((groups, 1, 1), [buf])
            expected += reps
            timer = threading.Timer(0.3, interrupt)
            t = time.perf_counter()
            timer.start()
            try:
                if how == "read":
                    buf.read(0)
                elif how == "wait_idle":
                    vd.queue_wait_idle()
                else:
                    graph.submit(wait=True)
                    time.sleep(seconds * 3)   # not interrupted in the wait: fail below
            except KeyboardInterrupt:
                late = time.perf_counter() - t - 0.3
                print(how, "interrupted after", round(late, 2))
                assert late < min(1.5, seconds / 2), (how, late, seconds)
            else:
                raise AssertionError(f"{{how}}: no KeyboardInterrupt")
            timer.join()
            got = buf.read(0)        # the kernel finished: its result is there
            assert (got == expected).all(), (how, got[:4], expected)
            graph.destroy()
        plan((groups, 1, 1), [buf])
        assert (buf.read(0) == expected + 1).all()
        print("ok")
    """, timeout=300)
    assert out.strip().endswith("ok"), out


# ----------------------------------------------------------------------------- launch sizes

def test_launch_sizes_a_driver_cannot_run_raise(runtime):
    """Workgroup counts past what the device numbers raise DeviceLimitError at dispatch
    (PoCL numbers workgroups with 32-bit ints: 2^32 or more overran it), and the
    context goes on working. Run apart: before, PoCL ran such a launch for hours."""
    kernel = {
        "vulkan": ("#version 450\nlayout(local_size_x = 1) in;\n"
                   "layout(std430, binding = 0) buffer X { uint x[]; };\n"
                   "void main() { if (gl_GlobalInvocationID.x == 0u) x[0] += 1u; }", "main"),
        "opencl": ("__kernel void k(__global uint* x) { if (get_global_id(0) == 0) x[0] += 1; }",
                   "k"),
        "cuda": ('extern "C" __global__ void k(unsigned int* x) '
                 '{ if (blockIdx.x == 0 && threadIdx.x == 0) x[0] += 1; }', "k"),
    }[runtime.name]
    out = run_isolated(f"""
        import numpy as np
        from vkdispatch.backends import runtime as rt
        from vkdispatch.base.abi import Binding, ProgramInfo
        from vkdispatch.base.errors import DeviceLimitError, InvalidArgumentError
        ctx = rt.load_runtime({runtime.name!r}).create_context([0], [1])
        info = ProgramInfo({kernel[1]!r}, (1, 1, 1),
                           bindings=(Binding("x", "storage_buffer", 0, "uint32"),))
        prog = ctx.create_program({kernel[0]!r}, info)
        h = ctx.buffer_alloc(0, 16)
        ctx.buffer_write(h, np.zeros(4, np.uint32))
        most = ctx.devices[0].max_workgroup_count
        cases = [(most[0] + 1, 1, 1), (1, most[1] + 1, 1), (2 ** 40, 1, 1), (10 ** 30, 1, 1)]
        if {runtime.name!r} == "opencl":   # every axis within its limit, the total past 2^32
            cases += [(most[0], most[1], 1), (most[0], 2, 2), (1, 2 ** 16 + 1, 2 ** 16)]
        for groups in cases:
            cl = ctx.command_list(0)
            try:
                cl.dispatch(prog, groups, [h])
            except DeviceLimitError as exc:
                print("refused", groups, exc)
            else:
                raise AssertionError(f"{{groups}} was recorded")
            cl.destroy()
        for groups in ((-1, 1, 1), (1, 1, 1, 1)):
            cl = ctx.command_list(0)
            try:
                cl.dispatch(prog, groups, [h])
            except InvalidArgumentError:
                pass
            cl.destroy()
        cl = ctx.command_list(0)
        cl.dispatch(prog, (3, 1, 1), [h])
        cl.submit().wait()
        print("result", np.frombuffer(ctx.buffer_read(h, 4), np.uint32)[0])
    """, timeout=120)
    assert "result 1" in out, out


def test_huge_exec_sizes_raise_value_errors(backend):
    import vkdispatch as vd
    import vkdispatch.codegen as vc
    from vkdispatch.codegen.abbreviations import Buff, f32
    buf = vd.asbuffer(np.zeros(64, np.float32))
    for size in (2 ** 40, 10 ** 12):
        with pytest.raises(ValueError):      # at decoration or at the call
            @vd.shader(exec_size=size)
            def touch(x: Buff[f32]):
                i = vc.global_invocation_id().x
                x[i] = x[i] + 1.0
            touch(buf)
    assert (buf.read(0) == 0).all()


# ----------------------------------------------------------------------------- kernel names

def test_opencl_entry_points_are_checked_before_building(opencl):
    """Over-long names raise InvalidArgumentError (PoCL aborted the process from 254
    characters on: run apart); a kernel not in the source is named with those that are;
    a parameter count unlike the ProgramInfo's is an InvalidArgumentError."""
    out = run_isolated("""
        from vkdispatch.backends import runtime as rt
        from vkdispatch.base.abi import Binding, ProgramInfo
        from vkdispatch.base.errors import InvalidArgumentError
        ctx = rt.load_runtime("opencl").create_context([0], [1])
        src = "__kernel void NAME(__global float* x) { x[get_global_id(0)] += 1.0f; }"
        one = (Binding("x", "storage_buffer", 0, "float32"),)
        for name, where, bindings in (("k" * 260, "NAME", one), ("k" * 129, "NAME", one),
                                      ("a-b", "ab", one), ("größe", "g", one),
                                      ("nope", "real", one), ("k", "k", one * 2)):
            info = ProgramInfo(name, (64, 1, 1), bindings=tuple(
                Binding(f"b{i}", b.kind, i, b.dtype) for i, b in enumerate(bindings)))
            try:
                ctx.create_program(src.replace("NAME", where if where != "NAME" else name), info)
            except InvalidArgumentError as exc:
                print("refused:", str(exc)[:160])
            else:
                raise AssertionError(f"{name[:20]!r} was accepted")
        prog = ctx.create_program(src.replace("NAME", "k" * 128), ProgramInfo("k" * 128, (64, 1, 1),
                                  bindings=one))
        print("ok")
    """)
    assert out.strip().endswith("ok"), out
    assert "['real']" in out and "takes 1 parameters" in out, out



# ----------------------------------------------------------------------------- mismatched kernels

_TWO_BUFFERS = {   # y = x + 1 over binding/parameter 0 (x) and 1 (y)
    "vulkan": ("""#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
void main() { uint i = gl_GlobalInvocationID.x; y[i] = x[i] + 1.0; }
""", "main"),
    "opencl": ("__kernel void k(__global const float* x, __global float* y) "
               "{ size_t i = get_global_id(0); y[i] = x[i] + 1.0f; }", "k"),
}


@pytest.mark.parametrize("name", ["vulkan", "opencl"])
def test_compute_plans_unlike_their_source_are_refused(name):
    """A binding count or an entry point the source does not have raises
    InvalidArgumentError naming what the source has; garbage or truncated SPIR-V too.
    Run apart: a wrong layout could crash the driver."""
    _runtime(name)
    source, entry = _TWO_BUFFERS[name]
    out = run_isolated(f"""
        import numpy as np
        import vkdispatch as vd
        from vkdispatch.base.errors import InvalidArgumentError
        vd.initialize(backend={name!r})
        source, entry = {source!r}, {entry!r}
        for bindings, ep in ((("buffer",), entry), (("buffer",) * 3, entry),
                             (("buffer",) * 2, "nope")):
            try:
                vd.ComputePlan(source, bindings=bindings, local_size=(64, 1, 1), entry_point=ep)
            except InvalidArgumentError as exc:
                print("refused:", str(exc).splitlines()[0][:200])
            else:
                raise AssertionError(f"{{bindings}} {{ep}} was accepted")
        if {name!r} == "vulkan":
            from vkdispatch.backends.vulkan import glslang
            good = glslang.compile_glsl(source, vulkan_version=vd.get_context().runtime_context.vulkan_version)
            for blob in (good[:len(good) // 2 // 4 * 4], good[:20] + bytes(4000), good[:-4],
                         bytes(len(good)), good[:4] + np.random.default_rng(1).integers(
                             0, 2 ** 32, len(good) // 4 - 1, dtype=np.uint32).tobytes()):
                try:
                    vd.ComputePlan(blob, bindings=("buffer",) * 2, local_size=(64, 1, 1))
                except InvalidArgumentError as exc:
                    print("refused:", str(exc)[:200])
                else:
                    raise AssertionError("bad SPIR-V was accepted")
        plan = vd.ComputePlan(source, bindings=("buffer",) * 2, local_size=(64, 1, 1),
                              entry_point=entry)
        x = vd.asbuffer(np.arange(64, dtype=np.float32))
        y = vd.asbuffer(np.zeros(64, np.float32))
        plan((1, 1, 1), [x, y])
        assert (y.read(0) == np.arange(64) + 1).all() and (x.read(0) == np.arange(64)).all()
        print("ok")
    """)
    assert out.strip().endswith("ok"), out
    assert "'nope'" in out and ("'main'" in out or "['k']" in out), out


# ----------------------------------------------------------------------------- bad cache entries

def test_a_bad_spirv_cache_entry_is_dropped_and_recompiled(tmp_path):
    """Disk entries with a valid checksum but a bad payload - garbage, another kernel's
    SPIR-V, SPIR-V the driver refuses (VK_ERROR_UNKNOWN) - cost one recompile; before,
    they broke the kernel on every later run. Run apart: drivers may crash on them."""
    _runtime("vulkan")
    code = f"""
        import os, struct
        os.environ["VKDISPATCH_CACHE_DIR"] = {str(tmp_path)!r}
        import numpy as np
        from vkdispatch.backends import runtime as rt
        from vkdispatch.backends.vulkan import glslang
        from vkdispatch.base.abi import Binding, ProgramInfo
        from vkdispatch.base import stats
        SRC = '''#version 450
        layout(local_size_x = 64) in;
        layout(std430, binding = 0) buffer X {{ float x[]; }};
        void main() {{ uint i = gl_GlobalInvocationID.x; x[i] = x[i] * 2.0 + 1.0; }}
        '''
        OTHER = SRC.replace("void main", "layout(std430, binding = 1) buffer Y {{ float y[]; }};\\nvoid main")
        ctx = rt.load_runtime("vulkan").create_context([0], [1])
        version = ctx.vulkan_version
        info = ProgramInfo("main", (64, 1, 1), bindings=(Binding("x", "storage_buffer", 0, "float32"),))
        good = glslang.compile_glsl(SRC, vulkan_version=version)
        words = list(struct.unpack(f"<{{len(good) // 4}}I", good))
        i = 5
        while i < len(words):        # OpFMul (133) -> an opcode no driver knows
            count, op = words[i] >> 16, words[i] & 0xFFFF
            if op == 133:
                words[i] = (count << 16) | 4000
            i += count
        refused = struct.pack(f"<{{len(words)}}I", *words)
        key = glslang.cache_key(SRC, version)
        cases = [("garbage", good[:4] + b"garbage!" * 50),
                 ("another kernel", glslang.compile_glsl(OTHER, vulkan_version=version))]
        # invalid SPIR-V is undefined behaviour for a driver: lavapipe refuses it
        # (VK_ERROR_UNKNOWN), NVIDIA's driver crashes, so only a CPU driver is fed it
        if ctx.devices[0].device_type == "cpu":
            cases.append(("refused by the driver", refused))
        print("cases", len(cases))
        for name, payload in cases:
            glslang.memory_cache.clear()
            glslang.disk_cache.put(key, payload)
            assert glslang.disk_cache.get(key) == payload
            prog = ctx.create_program(SRC, info)
            h = ctx.buffer_alloc(0, 256)
            ctx.buffer_write(h, np.ones(64, np.float32))
            cl = ctx.command_list(0)
            cl.dispatch(prog, (1,), [h])
            cl.submit().wait()
            assert (np.frombuffer(ctx.buffer_read(h, 256), np.float32) == 3.0).all(), name
            assert glslang.disk_cache.get(key) == good, name     # the entry was replaced
            cl.destroy(); prog.destroy(); ctx.buffer_free(h)
            print("recovered from", name)
    """
    out = run_isolated(code)
    cases = int(out.split("cases ")[1].split()[0])
    assert cases >= 2 and out.count("recovered from") == cases, out


def test_an_opencl_binary_without_its_kernel_is_rebuilt(tmp_path):
    """A cached program binary that lacks the kernel (another source's, under this key)
    is built again from source once; before, clCreateKernel failed on every run."""
    _runtime("opencl")
    out = run_isolated(f"""
        import os
        os.environ["VKDISPATCH_CACHE_DIR"] = {str(tmp_path)!r}
        import numpy as np
        from vkdispatch.backends import runtime as rt
        from vkdispatch.backends.opencl import compiler
        from vkdispatch.backends.opencl.program import _std_option
        from vkdispatch.base.abi import Binding, ProgramInfo
        SRC = "__kernel void k(__global float* x) {{ x[get_global_id(0)] = x[get_global_id(0)] * 2.0f + 1.0f; }}"
        OTHER = SRC.replace("void k(", "void other(")
        ctx = rt.load_runtime("opencl").create_context([0], [1])
        slot = ctx._slots[0]
        opts = compiler._options_string(_std_option(slot.cl_device, ()))
        keys = [compiler.disk_key(s, opts, slot.cl_device) for s in (SRC, OTHER)]
        one = (Binding("x", "storage_buffer", 0, "float32"),)
        ctx.create_program(OTHER, ProgramInfo("other", (64, 1, 1), bindings=one)).destroy()
        compiler.DISK_CACHE.put(keys[0], compiler.DISK_CACHE.get(keys[1]))
        compiler.clear_memory_cache()
        prog = ctx.create_program(SRC, ProgramInfo("k", (64, 1, 1), bindings=one))
        h = ctx.buffer_alloc(0, 256)
        ctx.buffer_write(h, np.ones(64, np.float32))
        cl = ctx.command_list(0)
        cl.dispatch(prog, (1,), [h])
        cl.submit().wait()
        assert (np.frombuffer(ctx.buffer_read(h, 256), np.float32) == 3.0).all()
        assert compiler.DISK_CACHE.get(keys[0]) != compiler.DISK_CACHE.get(keys[1])
        print("ok")
    """)
    assert out.strip().endswith("ok"), out


def test_cache_keys_hold_the_compiler_and_package_versions(tmp_path, monkeypatch):
    """Every disk key names the compiler's version and vkdispatch's: an upgrade of
    either never loads what the other compiled."""
    import vkdispatch
    from vkdispatch.base.cache import DiskCache, package_version
    assert package_version() == vkdispatch.__version__
    monkeypatch.setenv("VKDISPATCH_CACHE_DIR", str(tmp_path))
    cache = DiskCache("test-versions", kernels=False)
    cache.put("ab" * 32, b"payload")
    assert cache.get("ab" * 32) == b"payload"
    cache.delete("ab" * 32)
    assert cache.get("ab" * 32) is None

    keys = {}   # key function -> its key now
    try:
        from vkdispatch.backends.vulkan import glslang
        keys[lambda: glslang.cache_key("void main() {}", (1, 2))] = ("vulkan", glslang, "_version")
    except Exception:
        pass
    try:
        import pyopencl as cl
        from vkdispatch.backends.opencl import compiler
        device = cl.get_platforms()[0].get_devices()[0]
        assert device.platform.version in compiler.device_identity(device)
        keys[lambda: compiler.disk_key("__kernel void k() {}", "", device)] = ("opencl", None, None)
    except Exception:
        pass
    from vkdispatch.backends.cuda import nvrtc
    monkeypatch.setattr(nvrtc, "nvrtc_version", lambda: (12, 0))
    monkeypatch.setattr(nvrtc, "_options", lambda arch, options: (arch,) + tuple(options))
    keys[lambda: nvrtc.cache_key("__global__ void k() {}", "sm_90")] = ("cuda", nvrtc, None)
    before = {fn: fn() for fn in keys}
    with monkeypatch.context() as m:            # another vkdispatch release
        m.setattr(vkdispatch, "__version__", "9.9.9")
        for fn, (name, _, _) in keys.items():
            assert fn() != before[fn], name
    for fn, (name, module, attr) in keys.items():
        assert fn() == before[fn], name
        if name == "cuda":                      # another compiler release
            monkeypatch.setattr(nvrtc, "nvrtc_version", lambda: (13, 0))
            assert fn() != before[fn]
        elif attr:
            monkeypatch.setattr(module, attr, "glslang 0.0.0")
            assert fn() != before[fn], name
