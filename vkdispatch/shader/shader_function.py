"""ShaderFunction: trace (cached), emit, build (cached per context), bind and launch."""
from __future__ import annotations

import ast
import struct
import threading
import weakref
from typing import Optional

from ..base.buffer import Buffer
from ..base.context import Context, get_context
from ..base.errors import ShaderCompileError, number_lines
from ..codegen import ir
from ..codegen.context import ShaderDescription
from ..codegen.emit import emit
from ..codegen.settings import get_shader_print_line_numbers
from ..codegen.trace import EXEC_COUNT, FOLD, trace
from ..codegen.types import BUFFER, IMAGE, STRUCT, struct_field_name
from ..execution.command_graph import global_graph
from ..execution.kernel import (CompiledKernel, EmitOptions, build_kernel,
                                preserves_inf_nan, push_constant_limit)
from .launch import (_as_dims, check_local_size, check_workgroups, default_local_size,
                     check_size_value, evaluate_exec_size, parse_size, size_lambda,
                     workgroups_for)
from .signature import ShaderParam, check_buffer_argument, parse_signature
from .source import ShaderBuildError, ShaderSource


# memory_checks of a shader that reports its first out-of-range access (debug mode)
REPORT = "report"

# uniform sources of a _CallPlan: an argument index i >= 0, the exec count, or the
# element count of argument i (a hidden length uniform), coded as LENGTH_OF - i
EXEC_DIMS = -1
LENGTH_OF = -2


def _size_buffer(exec_size, params) -> str:
    """The buffer parameter `b` of exec_size "b.size", else ""."""
    if not isinstance(exec_size, str):
        return ""
    tree = parse_size(exec_size, None).body   # checked (and cached) by the caller already
    if isinstance(tree, ast.Attribute) and tree.attr == "size" and \
            isinstance(tree.value, ast.Name):
        name = tree.value.id
        if any(p.name == name and p.type.kind == BUFFER for p in params):
            return name
    return ""


class _CallPlan:
    """What a positional call with a given exec count needs, resolved once: the kernel,
    the workgroups, `bind` (args, n) -> (resources, uniform bytes), or None where the
    call needs the full path, and the buffer arguments the kernel takes as at least
    as long as the exec size (`in_range`: their element global_invocation_id().x is
    not guarded; a call must check it)."""
    __slots__ = ("context", "kernel", "groups", "bind", "in_range")

    def __init__(self, context, kernel, groups, bind, in_range):
        self.context = context
        self.kernel = kernel
        self.groups = groups
        self.bind = bind
        self.in_range = in_range


_PACK_ERRORS = (struct.error, OverflowError, TypeError)


def _binder(kernel, binding_sources, uniform_sources, buffer_indices, address_limit):
    """The argument binder of a _CallPlan (as Triton's runtime/jit.py builds one): a
    function of (args, n), n the exec count along x, returning the resources in binding
    order and the packed uniforms, or None when the call needs the full path (a buffer
    past `address_limit` bytes, a value struct refuses). Sources code where each
    binding and uniform comes from: argument index i >= 0, EXEC_DIMS, LENGTH_OF - i.
    Generated code where every uniform is plain numbers; else through pack_sequence."""
    layout = kernel.packer.flat_layout()
    exprs = []
    for src, count in zip(uniform_sources, layout[1] if layout else ()):
        if src == EXEC_DIMS and count == 3:
            exprs += ["n", "1", "1"]
        elif count != 1:
            layout = None     # a vector argument: pack_sequence checks it is a tuple
            break
        else:
            exprs.append(f"args[{src}]" if src >= 0 else f"args[{LENGTH_OF - src}].size")
    if layout is None:
        packer = kernel.packer

        def bind(args, n):
            if address_limit is not None and any(args[i].nbytes > address_limit
                                                 for i in buffer_indices):
                return None
            packed = packer.pack_sequence([args[i] if i >= 0 else (n, 1, 1) if i == EXEC_DIMS
                                           else args[LENGTH_OF - i].size
                                           for i in uniform_sources])
            return None if packed is None else ([args[i] for i in binding_sources], packed)
        return bind
    lines = ["def bind(args, n):"]
    if address_limit is not None:
        lines += [f"    if args[{i}].nbytes > {address_limit}: return None"
                  for i in buffer_indices]
    resources = "".join(f"args[{i}], " for i in binding_sources)
    lines += ["    try:", f"        return ({resources}), pack({', '.join(exprs)})",
              "    except errors:", "        return None"]
    scope = {"pack": layout[0].pack, "errors": _PACK_ERRORS}
    exec("\n".join(lines), scope)
    return scope["bind"]


def _shader_shape(res) -> tuple:
    """The hidden shape uniform of a bound buffer or image (ir.shader_shape); an image
    array's layers are its third axis."""
    from ..base.image import Image, Sampler
    img = res.image if isinstance(res, Sampler) else res[0] if isinstance(res, tuple) else res
    if isinstance(img, Image):
        return ir.shader_shape(img.shape + ((img.layers,) if img.arrayed else ()))
    return ir.shader_shape(res.shape)


class ShaderFunction:
    """A Python function compiled to a GPU kernel on first call.

    Call it with the arguments its annotations describe; the launch size comes from
    `exec_size` (a string over argument names, a lambda over the bound arguments, or
    numbers) or explicit `workgroups`. Calls are recorded into the current
    CommandGraph (the thread's global graph unless `graph=` is given)."""

    def __init__(self, func, exec_size=None, local_size=None, workgroups=None,
                 bounds_check: Optional[bool] = None, memory_checks=True, params=None,
                 description: Optional[ShaderDescription] = None):
        if exec_size is not None and workgroups is not None:
            raise ValueError("give exec_size or workgroups, not both")
        self.func = func
        # a kernel traced in vc.shader_context (make_shader_function) instead of `func`
        self.description = description
        self.name = func.__name__ if description is None else description.name
        self.params = parse_signature(func) if params is None else tuple(params)
        self._param_count = len(self.params)
        self._storage_images = [p.name for p in self.params
                                if p.type.kind == IMAGE and p.type.writable]
        self._buffer_params = [p.name for p in self.params if p.type.kind == BUFFER]
        for what, spec in (("exec_size", exec_size), ("workgroups", workgroups)):
            if isinstance(spec, str):           # ValueError naming a refused construct
                parse_size(spec, None, what)    # (names: when it is evaluated)
        self.exec_size = exec_size
        self.workgroups = workgroups
        self.local_size = local_size
        self.bounds_check = bounds_check
        if not (isinstance(memory_checks, bool) or isinstance(memory_checks, str)
                and memory_checks == REPORT):
            raise TypeError(f"memory_checks must be True, False or {REPORT!r}, got "
                            f"{memory_checks!r}")
        self.memory_checks = memory_checks
        self._size_buffer = _size_buffer(exec_size, self.params)
        self._kernels = {}       # (device, local_size, bounds, checks) -> traced Kernel
        self._geometry = {}      # exec dims -> (device, workgroups, local_size) of the last launches
        self._compiled = weakref.WeakKeyDictionary()   # Context -> {(local_size, bounds, ...): CompiledKernel}
        self._lock = threading.Lock()
        self._size_of = self._positional_size_rule()
        self._buffer_checks = tuple((i, p.type.dtype) for i, p in enumerate(self.params)
                                    if p.type.kind == BUFFER)
        self._plans = {}         # exec count -> _CallPlan of positional calls (the fast path)
        if func is not None:
            self.__doc__ = func.__doc__
            self.__wrapped__ = func

    def __repr__(self) -> str:
        sig = ", ".join(f"{p.name}: {p.type!r}" for p in self.params)
        return f"<vd.shader {self.name}({sig})>"

    def __str__(self) -> str:
        """The generated source with numbered lines, as `print(shader)` shows it."""
        return repr(self.get_src(line_numbers=True))

    def print_src(self, line_numbers: Optional[bool] = None) -> None:
        print(self.get_src(line_numbers))

    # ------------------------------------------------------------------ tracing
    def _local_size_for(self, ndim: int, device) -> tuple:
        if self.local_size is not None:
            return check_local_size(self.local_size, device)
        return default_local_size(ndim, device)

    def _uses_bounds(self, explicit_groups: bool) -> bool:
        if self.bounds_check is not None:
            return self.bounds_check
        return not explicit_groups

    def _mode(self, ctx: Context):
        """The memory checks of a kernel built for `ctx`: in debug mode
        (`vd.initialize(debug=True)`) every shader reports its out-of-range accesses,
        those built with memory_checks=False too."""
        return REPORT if ctx.debug else self.memory_checks

    def _checks(self, ctx: Context, bound: dict, exec_count, bounds) -> tuple:
        """(memory_checks, in_range) of a call: the buffer arguments at least as long as
        the exec size along x, whose elements at global_invocation_id().x need no guard
        when the kernel skips the invocations past the exec size (see `trace`)."""
        mode = self._mode(ctx)
        if not mode:
            return (False, ())
        if not bounds or exec_count is None:
            return (mode, ())
        n = exec_count[0]
        return (mode, tuple(name for name in self._buffer_params if bound[name].size >= n))

    def kernel(self, device, local_size: tuple, bounds: bool, checks: Optional[tuple] = None
               ) -> ir.Kernel:
        """The traced kernel. `checks` = (memory_checks, in_range) (see `trace`); calls
        pass their own. By default the shader's memory checks with no buffer promised
        long enough: every access is guarded, and the buffers' element counts are hidden
        uniforms (`vkd_len_<param>`) that `CommandGraph.record` fills from the bound
        buffers when a caller dispatching the kernel by hand does not give them."""
        if checks is None:
            checks = (self.memory_checks, ())
        key = (device, local_size, bounds, checks)
        k = self._kernels.get(key)
        if k is None:
            if self.description is None:
                k = trace(self.func, self.params, device, local_size, bounds, *checks)
            elif bounds == FOLD:
                raise ValueError(f"shader {self.name} (traced in vc.shader_context) was "
                                 f"launched with more workgroups along x than the device "
                                 f"allows; give a 2-D exec size, or write it with @vd.shader")
            else:     # traced once: every access guarded, its own bounds check
                k = self.description.kernel(local_size)
            self._kernels[key] = k
        return k

    def get_src(self, line_numbers: Optional[bool] = None, local_size=None,
                target: Optional[str] = None, build: bool = True) -> ShaderSource:
        """The generated source for the current context's device and language (or
        `target`), with the local size a call would use (or `local_size`). A str with
        vkdispatch 0.1's fields (`name`, `code`, `local_size`). `line_numbers` None:
        vc.get_shader_print_line_numbers(). `build` (0.1: compile first) changes
        nothing: the source does not depend on compiling it."""
        if line_numbers is None:
            line_numbers = get_shader_print_line_numbers()
        ctx = get_context()
        ls = self._default_local_size(ctx, local_size)
        bounds = self._uses_bounds(self.workgroups is not None)
        # a call with exec_size "buf.size" finds buf long enough; others are guarded
        mode = self._mode(ctx)
        checks = (mode, (self._size_buffer,) if self._size_buffer and bounds and mode else ())
        kernel = self.kernel(ctx.device, ls, bounds, checks)
        src = emit(kernel, target or ctx.codegen_target, self.name, push_constant_limit(ctx),
                   preserve_inf_nan=preserves_inf_nan(ctx)).source
        return ShaderSource(self.name, number_lines(src) if line_numbers else src, ls)

    # ------------------------------------------------------------------ building
    def _default_local_size(self, ctx: Context, local_size=None) -> tuple:
        """`local_size` checked, or the one a call with the declared exec size uses."""
        if local_size is not None:
            return check_local_size(local_size, ctx.device)
        spec = self.exec_size
        ndim = len(spec) if isinstance(spec, (tuple, list)) else 1
        return self._local_size_for(ndim, ctx.device)

    @property
    def source(self) -> str:
        """vkdispatch 0.1's attribute: the generated source (see get_src)."""
        return str(self.get_src(line_numbers=False))

    def build(self, ctx: Optional[Context] = None, local_size: Optional[tuple] = None,
              bounds=None, addressed: tuple = (), image_formats: tuple = (),
              checks: Optional[tuple] = None) -> CompiledKernel:
        """The kernel compiled for `ctx` (traced once, built through the context's
        structural kernel cache); `addressed` names buffer parameters passed by device
        address, `image_formats` gives (param, dtype name, channels) of the storage
        images, `checks` is as for `kernel` (default: every access guarded, and in
        debug mode reported). With no arguments (0.1's `shader.build()`): for the
        current context, with the local size and bounds check of a call with the
        declared launch size."""
        if ctx is None:
            ctx = get_context()
        if local_size is None:
            local_size = self._default_local_size(ctx)
        if bounds is None:
            bounds = self._uses_bounds(self.workgroups is not None)
        if checks is None:
            checks = (self._mode(ctx), ())
        key = (local_size, bounds, addressed, image_formats, checks)
        per_ctx = self._compiled.get(ctx)
        c = per_ctx.get(key) if per_ctx is not None else None
        if c is not None:
            return c
        with self._lock:
            per_ctx = self._compiled.setdefault(ctx, {})
            c = per_ctx.get(key)
            if c is None:
                options = EmitOptions(ctx.codegen_target, self.name, push_constant_limit(ctx),
                                      addressed, image_formats)
                try:
                    c = build_kernel(ctx, self.kernel(ctx.device, local_size, bounds, checks),
                                     options)
                except ShaderCompileError as exc:
                    raise ShaderBuildError(self.name, exc, local_size) from exc
                per_ctx[key] = c
            return c

    def _image_formats(self, bound: dict) -> tuple:
        """(param, dtype name, channels) of each storage-image argument: GLSL declares
        them with format qualifiers (reading a formatless storage image needs a format
        feature not every device has)."""
        out = []
        for name in self._storage_images:
            img = bound[name]
            img = img[0] if isinstance(img, tuple) else img
            out.append((name, img.dtype.name, img.channels))
        return tuple(out)

    @staticmethod
    def _address_limit(device) -> Optional[int]:
        """The size past which a buffer is reached by its device address (Vulkan devices
        with buffer device addresses), or None where buffers are always bound."""
        if device.backend != "vulkan" or not device.extra.get("buffer_device_address"):
            return None   # the runtime names the limit when a buffer cannot be bound
        return device.max_storage_buffer_range

    def _addressed(self, bound: dict, device) -> tuple:
        """Buffer parameters too large to bind as storage buffers on a GLSL device with
        buffer device addresses: the kernel reaches those through their addresses."""
        limit = self._address_limit(device)
        if limit is None:
            return ()
        return tuple(name for name in self._buffer_params if bound[name].nbytes > limit)

    def _bounds_mode(self, groups: tuple, exec_count) -> object:
        """The invocation check of a launch: False, True (skip invocations past the exec
        size) or FOLD (a 1-D launch spread over a 2-D grid of workgroups)."""
        bounds = self._uses_bounds(explicit_groups=exec_count is None)
        if bounds and exec_count is not None and groups[1] > 1 and exec_count[1] == 1 \
                and exec_count[2] == 1:
            return FOLD
        return bounds

    # ------------------------------------------------------------------ calling
    def bind_arguments(self, args, kwargs) -> dict:
        if len(args) > len(self.params):
            raise TypeError(f"shader {self.name} takes {len(self.params)} argument(s) "
                            f"({', '.join(p.name for p in self.params)}), got {len(args)}")
        bound = {}
        for p, a in zip(self.params, args):
            bound[p.name] = a
        for k, v in kwargs.items():
            if k in bound:
                raise TypeError(f"shader {self.name} got multiple values for argument {k!r}")
            if k not in {p.name for p in self.params}:
                raise TypeError(f"shader {self.name} has no parameter {k!r}; parameters: "
                                f"{[p.name for p in self.params]}")
            bound[k] = v
        for p in self.params:
            if p.name not in bound and p.has_default:
                bound[p.name] = p.default
        missing = [p.name for p in self.params if p.name not in bound]
        if missing:
            raise TypeError(f"shader {self.name} is missing argument(s) {missing}")
        for p in self.params:
            v = bound[p.name]
            t = p.type
            if t.kind == BUFFER:
                check_buffer_argument(f"shader {self.name}: parameter {p.name!r}", t, v)
            elif t.kind == IMAGE:
                self._check_image(p.name, t, v)
            elif t.kind == STRUCT and not isinstance(v, t.struct):
                raise TypeError(f"shader {self.name}: parameter {p.name!r} needs a "
                                f"{t.struct.__name__} instance, got {type(v).__name__}")
        return bound

    def _check_image(self, name: str, t, v) -> None:
        """An image argument: an Image of the parameter's dimension and texel kind, or for
        a sampled parameter (image, sampler) as `img.sampler("nearest")` returns, or a
        sampler bound to an image as `img.sample()` returns (vkdispatch 0.1's form)."""
        from ..base.image import Image, Sampler
        what = f"shader {self.name}: parameter {name!r} is {t!r}"
        if isinstance(v, Sampler):
            if t.writable:
                raise TypeError(f"{what}, a storage image: pass the image, not a sampler")
            if v.image is None:
                raise TypeError(f"{what}: a vd.Sampler made without an image cannot stand "
                                f"for one; pass (image, sampler) or image.sample(...)")
            v = v.image
        img = v[0] if isinstance(v, tuple) and v else v
        if not isinstance(img, Image):
            raise TypeError(f"{what} and needs a vd.Image{t.dim}D, got {type(v).__name__}")
        if isinstance(v, tuple) and not (len(v) == 2 and isinstance(v[1], Sampler)):
            raise TypeError(f"{what}: pass the image or (image, vd.Sampler) as "
                            f"image.sampler(...) returns, got a {len(v)}-tuple")
        if img.dim != t.dim:
            raise TypeError(f"{what} and needs a {t.dim}-D image, got {img!r}")
        if img.arrayed != t.arrayed:
            index = (f"declare the parameter Img{t.dim}Array to index the layers of"
                     if t.dim == 2 else "shaders cannot index the layers of")
            want = ("an arrayed image (vd.Image2DArray)" if t.arrayed else
                    f"a single-layer image ({index} one with {img.layers} layers)")
            raise TypeError(f"{what} and needs {want}, got {img!r}")
        if img.dtype.kind != t.dtype.kind:
            raise TypeError(f"{what} but the image holds {img.dtype.name} texels; declare "
                            f"the parameter with the matching kind (f32 for float32/float16, "
                            f"i32 for signed, u32 for unsigned texels)")

    def launch_geometry(self, bound: dict, device, exec_size=None, workgroups=None):
        """(groups, exec_count or None, local_size)."""
        if exec_size is not None and workgroups is not None:
            raise ValueError("give exec_size or workgroups, not both")
        if workgroups is None and exec_size is None:
            exec_size, workgroups = self.exec_size, self.workgroups
        if workgroups is not None:
            wg = evaluate_exec_size(workgroups, bound, "workgroups") if (
                callable(workgroups) or isinstance(workgroups, str)) \
                else _as_dims(workgroups, "workgroups")
            ndim = 1 if self.local_size is None else 3
            ls = self._local_size_for(ndim, device)
            return check_workgroups(wg, device), None, ls
        if exec_size is None:
            raise ValueError(f"shader {self.name} has no launch size: pass exec_size= or "
                             f"workgroups= to @vd.shader or to the call")
        dims = evaluate_exec_size(exec_size, bound)
        hit = self._geometry.get(dims)
        if hit is not None and hit[0] is device:
            return hit[1], dims, hit[2]
        ndim = 3 if dims[2] > 1 else (2 if dims[1] > 1 else 1)
        ls = self._local_size_for(ndim, device)
        groups = None
        if ndim == 1:
            n = -(-dims[0] // ls[0])
            max_x = device.max_workgroup_count[0]
            if n > max_x:   # fold into rows of max_x workgroups
                groups = check_workgroups((max_x, -(-n // max_x), 1), device)
        if groups is None:
            groups = workgroups_for(dims, ls, device)
        if len(self._geometry) >= 64:
            self._geometry.clear()
        self._geometry[dims] = (device, groups, ls)
        return groups, dims, ls

    # ------------------------------------------------------------------ the fast path
    def _positional_size_rule(self):
        """exec_size as a function of the positional arguments, for shaders whose calls
        can take the fast path (an exec_size string or number, no images); else None."""
        if self.workgroups is not None or self.exec_size is None or \
                any(p.type.kind in (IMAGE, STRUCT) for p in self.params):
            return None
        spec = self.exec_size
        if not isinstance(spec, str):
            if callable(spec):
                return None
            dims = _as_dims(check_size_value(tuple(spec) if isinstance(spec, list) else spec),
                            "exec_size")
            if dims[1:] != (1, 1):
                return None     # the fast path launches along x only
            return lambda *args: dims[0]
        names = tuple(p.name for p in self.params)
        if not all(n.isidentifier() for n in names):
            return None
        try:
            return size_lambda(spec, names)
        except ValueError:
            return None   # an unknown name: the full path names it

    def _fast_call(self, args, graph) -> bool:
        """Record a positional call through a prebuilt plan; False when the call needs
        the full path (other argument types, a new context, values to convert or to
        reject with a message), which then does everything again."""
        for i, dtype in self._buffer_checks:
            a = args[i]
            if type(a) is not Buffer or a.dtype is not dtype:
                return False
        try:
            n = self._size_of(*args)
        except Exception:
            return False
        if type(n) is not int or n <= 0:
            return False
        if graph is None:
            graph = global_graph()       # always of the current context
        elif graph.context is not get_context():
            return False                 # the full path names the mismatch
        ctx = graph.context
        plan = self._plans.get(n)
        if plan is not None:
            for i in plan.in_range:      # buffers whose accesses at x are not guarded
                if args[i].size < n:
                    plan = None
                    break
        if plan is None or plan.context is not ctx:
            plan = self._make_plan(ctx, n, args)
            if plan is None:
                return False
        bound = plan.bind(args, n)
        if bound is None:
            return False
        graph.record_packed(plan.kernel, plan.groups, bound[0], bound[1])
        return True

    def _make_plan(self, ctx, n, args):
        bound = dict(zip((p.name for p in self.params), args))
        groups, exec_count, ls = self.launch_geometry(bound, ctx.device)
        bounds = self._bounds_mode(groups, exec_count)
        if self._addressed(bound, ctx.device):
            return None
        checks = self._checks(ctx, bound, exec_count, bounds)
        kernel = self.build(ctx, ls, bounds, checks=checks)
        if kernel.debug_binding is not None or any(
                name.startswith(ir.SHAPE_PREFIX) for name in kernel.uniform_names):
            return None   # reporting kernels and buf.shape readers take the full path
        index = {p.name: i for i, p in enumerate(self.params)}
        index[EXEC_COUNT] = EXEC_DIMS
        for i, p in enumerate(self.params):
            index[ir.length_param_name(p.name)] = LENGTH_OF - i
        bind = _binder(kernel, tuple(index[name] for name in kernel.binding_names),
                       tuple(index[name] for name in kernel.uniform_names),
                       tuple(i for i, _ in self._buffer_checks),
                       self._address_limit(ctx.device))
        plan = _CallPlan(ctx, kernel, groups, bind, tuple(index[name] for name in checks[1]))
        if len(self._plans) >= 64:
            self._plans.clear()
        self._plans[n] = plan
        return plan

    def __call__(self, *args, exec_size=None, workgroups=None, graph=None, **kwargs):
        if self._size_of is not None and not kwargs and exec_size is None and \
                workgroups is None and len(args) == self._param_count and \
                self._fast_call(args, graph):
            return
        bound = self.bind_arguments(args, kwargs)
        ctx = get_context()
        groups, exec_count, ls = self.launch_geometry(bound, ctx.device, exec_size, workgroups)
        if exec_count is not None and 0 in exec_count:
            return  # nothing to do for an empty launch
        bounds = self._bounds_mode(groups, exec_count)
        if bounds and exec_count is None and self.description is not None:
            # 0.1: a workgroups= launch of a bounds-checked kernel runs the whole grid
            exec_count = tuple(g * n for g, n in zip(groups, ls))
        if bounds and exec_count is None:
            raise ValueError(f"shader {self.name} has bounds_check=True but was launched with "
                             f"workgroups=; give exec_size instead")
        compiled = self.build(ctx, ls, bounds, self._addressed(bound, ctx.device),
                              self._image_formats(bound) if self._storage_images else (),
                              self._checks(ctx, bound, exec_count, bounds))
        uniforms = bound
        shapes = [n for n in compiled.uniform_names if n.startswith(ir.SHAPE_PREFIX)]
        structs = [p for p in self.params if p.type.kind == STRUCT]
        if bounds or shapes or structs:
            uniforms = dict(bound)
            for p in structs:    # a dataclass argument: one uniform per field
                for field, _ in p.type.fields:
                    uniforms[struct_field_name(p.name, field)] = getattr(bound[p.name], field)
            if bounds:
                uniforms[EXEC_COUNT] = exec_count
            for n in shapes:     # buf.shape in the kernel (vkdispatch 0.1), image array sizes
                uniforms[n] = _shader_shape(bound[n[len(ir.SHAPE_PREFIX):]])
        # the hidden element counts (memory checks) come from the bound buffers in record
        names = compiled.binding_names
        if compiled.debug_binding is not None:   # record binds the debug buffer
            names = names[:compiled.debug_binding] + names[compiled.debug_binding + 1:]
        (graph if graph is not None else global_graph()).record(
            compiled, groups, [bound[n] for n in names], uniforms)


def make_shader_function(description: ShaderDescription, local_size=None, workgroups=None,
                         exec_count=None) -> ShaderFunction:
    """vkdispatch 0.1's launcher of a kernel traced in `vc.shader_context`: a
    ShaderFunction called like a `@vd.shader` one (`exec_count` is its exec_size)."""
    if not isinstance(description, ShaderDescription):
        raise TypeError(f"make_shader_function takes the ShaderDescription of a "
                        f"vc.shader_context (ctx.get_description(name)), got "
                        f"{type(description).__name__}")
    params = tuple(ShaderParam(p.name, p.type, p.default) if p.has_default
                   else ShaderParam(p.name, p.type) for p in description.params)
    return ShaderFunction(None, exec_size=exec_count, local_size=local_size,
                          workgroups=workgroups, bounds_check=description.bounds_check,
                          params=params, description=description)
