"""The IR of one FFT kernel (a `PassSpec`): Stockham stages in registers and shared
memory, traced through the codegen builder so the same kernel runs on every backend.

Stage s of radix R over a transform of length n (Ns = product of earlier radices) runs
n/R butterflies; butterfly j reads elements j + r*n/R, multiplies input r by
W_(Ns*R)^(r * (j % Ns)), takes the DFT in registers and writes output r to
(j // Ns) * Ns * R + j % Ns + r * Ns. The first stage reads global memory and the last
writes it (both at consecutive addresses across neighbouring invocations); the stages
between exchange through shared memory. Invocations past the end of the data work on a
clamped copy of the last transform (their loads stay in range) and skip their stores."""
from __future__ import annotations

from ..base import dtype as dt
from ..codegen import ir
from ..codegen.builder import Builder
from ..codegen.functions import builtins as bi
from ..codegen.functions.control_flow import if_block, return_
from ..codegen.functions.math import min as vmin, select
from ..codegen.functions.memory import barrier, shared_buffer
from ..codegen.functions.complex import conj, make_complex
from ..codegen.variables import ShaderVariable
from . import realpack, tables
from .hooks import WriteOp, kernel_index
from .registers import bind, dft, scaled
from .spec import LAUNCH_FIELDS, SIDE_FIELDS, Edge, PassSpec


def kernel_name(spec: PassSpec) -> str:
    kind = "ifft" if spec.sign > 0 else "fft"
    if spec.kernel_mul:
        kind = "conv"
    elif spec.real:
        kind = "rfft" if spec.real == "r2c" else "irfft"
    return f"vkd_{kind}_{spec.n}_{'x'.join(map(str, spec.radices))}"


def build_ir(spec: PassSpec, device, hooks=None) -> ir.Kernel:
    """The checked IR kernel of `spec` for `device`; `hooks` (hooks.Hooks) add the
    mapping functions' parameters and run them on the loads, stores and the
    frequency-domain multiply."""
    b = Builder(kernel_name(spec), device)
    with b.active():
        _Kernel(b, spec, hooks).trace()
    return b.finish((spec.local_size, 1, 1))


def _u(b: Builder, value) -> ShaderVariable:
    return ShaderVariable(b, ir.Lit(int(value), dt.uint32))


class _Kernel:
    def __init__(self, b: Builder, spec: PassSpec, hooks):
        self.b = b
        self.s = spec
        self.hooks = hooks
        io_in, io_out = spec.io_in, spec.io_out
        maps = hooks if hooks is not None and hooks else None
        self.maps = maps
        reads, writes = not (maps and maps.has("input_map")), not (maps and maps.has("output_map"))
        if spec.in_place and reads and writes:
            self.dst = self.src = self._buffer("data", io_out, True)
        else:
            self.dst = self._buffer("dst", io_out, True) if writes else None
            self.src = self._buffer("src", io_in, False) if reads else None
        self.parts = tables.layout(spec)
        self.table = self._buffer("table", spec.compute, False) if self.parts else None
        self.kernel = None
        if spec.kernel_mul and spec.kernel_mul[0] == "buffer":
            self.kernel = self._buffer("kernel", dt.from_name(spec.kernel_mul[1]), False)
        elif spec.load.kernel:
            self.kernel = self._buffer("kernel", spec.compute, False)
        if maps is not None:
            maps.declare(b)
        self.u = {}
        for side in ("in", "out"):
            for f in SIDE_FIELDS:
                self.u[f"{side}_{f}"] = self._uniform(f"{side}_{f}")
        for f in LAUNCH_FIELDS:
            self.u[f] = self._uniform(f)
        if spec.rows:   # the values the launch passes, as literals
            self.u["columns"] = _u(b, 1)
            for side, layout in zip(("in", "out"), spec.rows):
                for f in SIDE_FIELDS:
                    self.u[f"{side}_{f}"] = _u(b, getattr(layout, f))
        if spec.kernel_mul and spec.kernel_mul[0] == "buffer" and spec.kernel_mul[2] == "same":
            self.u["kernel_size"] = self._uniform("kernel_size")

    # ------------------------------------------------------------------ parameters
    def _buffer(self, name, dtype, writable) -> ShaderVariable:
        var = self.b.new_var(dtype, ir.BUFFER, name=name, mutable=True, writable=writable)
        self.b.add_param(name, "buffer", var)
        return ShaderVariable(self.b, var)

    def _uniform(self, name) -> ShaderVariable:
        var = self.b.new_var(dt.uint32, ir.UNIFORM, name=name)
        self.b.add_param(name, "const", var)
        return ShaderVariable(self.b, var)

    # ------------------------------------------------------------------ addressing
    def _where(self):
        """(transform in workgroup p, invocation in transform t, outer o, column c,
        active) of this invocation."""
        s, u, b = self.s, self.u, self.b
        P, T = s.batch, s.threads
        lid = bi.local_invocation_id().x
        wg, nwg = bi.workgroup_id(), bi.num_workgroups()
        g = bind(wg.x + wg.y * nwg.x)
        with if_block(g >= u["groups"]):
            return_()
        if s.columns:
            p = bind(lid % P) if P > 1 else _u(b, 0)
            t = bind(lid // P) if P > 1 else lid
            o = bind(g // u["col_groups"])
            c0 = bind((g % u["col_groups"]) * P + p)
            active = bind(c0 < u["columns"])
            c = bind(vmin(c0, u["columns"] - 1))
        else:
            p = bind(lid // T) if P > 1 else _u(b, 0)
            t = bind(lid % T) if P > 1 else lid
            total = bind(u["outer"] * u["columns"])
            i0 = bind(g * P + p)
            active = bind(i0 < total)
            i = bind(vmin(i0, total - 1))
            o = bind(i // u["columns"])
            c = bind(i % u["columns"])
        return p, t, o, c, active

    def _base(self, side, o, c) -> ShaderVariable:
        u = self.u
        q = u[f"{side}_q"]
        if side == self.s.pairs and self.s.columns:
            # reals: virtual complex column c (axis position c // inner) starts at
            # 2 * (c // inner) * inner + c % inner
            c = bind(c * 2 - c % u["inner"])
        return bind((o // q) * u[f"{side}_a"] + (o % q) * u[f"{side}_b"] + c)

    def _pair(self):
        """How far apart the two reals of a complex element are: the axis' stride, which
        is the launch's inner stride (1 along the last axis, where a kernel runs rows)."""
        return self.u["inner"] if self.s.columns else 1

    # ------------------------------------------------------------------ memory
    def _load_global(self, e) -> ShaderVariable:
        s, edge = self.s, self.s.load
        full = bind(e * (s.twiddle // s.n) + self.n2) if s.twiddle and edge != Edge() else e
        if s.pairs == "in":
            return self._load_pair(e, full)
        inside = None
        if edge.limit:
            inside = bind(full < edge.limit)
        if edge.start:
            inside = bind(full >= edge.start) if inside is None else \
                bind(inside & (full >= edge.start))
        idx = e
        pos = bind(self.base_in + e * self.u["in_es"])
        if inside is not None:    # outside the signal: read element 0, then use zero
            pos = bind(select(inside, pos, 0))
        if self.maps is not None and self.maps.has("input_map"):
            v = self.maps.read("input_map", s.compute, pos, idx)
        else:
            v = self.src[pos]
        if v.dtype is not s.compute:
            v = bind(v.cast(s.compute))
        if edge.chirp or edge.kernel:
            safe = full if inside is None else bind(select(inside, full, 0))
            if edge.chirp:
                v = bind(v * self._root("chirp_in", safe, 1 if edge.chirp < 0 else -1))
            if edge.kernel:
                v = bind(v * self.kernel[safe])
        if inside is not None:
            v = bind(select(inside, v, ShaderVariable(self.b, ir.Lit(0j, s.compute))))
        return v

    def _store_global(self, f, v, factor: float = 1.0) -> None:
        """Store output f: v times the spec's scale and `factor`."""
        s, edge = self.s, self.s.store
        if s.twiddle:
            m = bind(self.n2 * f)
            w = bind(self._root("lo", m % s.split, s.sign) * self._root("hi", m // s.split, s.sign))
            v = bind(v * w)
        full = bind(self.k1 + f * s.outer_split) if s.outer_split else f
        if edge.chirp:
            inside = bind(full < edge.limit) if edge.limit else None
            safe = full if inside is None else bind(select(inside, full, 0))
            v = bind(v * self._root("chirp_out", safe, 1 if edge.chirp < 0 else -1))
        if s.scale * factor != 1.0:
            v = scaled(v, s.scale * factor)
        pos = bind(self.base_out + f * self.u["out_es"])
        cond = self.active if not edge.limit else bind(self.active & (full < edge.limit))
        if self.maps is not None and self.maps.has("output_map"):
            with if_block(cond):
                self.maps.call("output_map", WriteOp(v, pos, f))
            return
        if s.pairs == "out":
            re, im = v.real, v.imag
            if re.dtype is not s.io_out:
                re, im = re.cast(s.io_out), im.cast(s.io_out)
            with if_block(cond):
                self.dst[pos] = re
                self.dst[bind(pos + self._pair())] = im
            return
        if s.io_out is not s.compute:
            v = bind(v.cast(s.io_out))
        with if_block(cond):
            self.dst[pos] = v

    def _load_pair(self, e, full) -> ShaderVariable:
        """Complex element e of a real input: its two reals, each zero outside the load
        edge's [start, limit) (counted in reals along the whole axis)."""
        s, edge = self.s, self.s.load
        pos = bind(self.base_in + e * self.u["in_es"])
        halves = []
        for h, at in enumerate((pos, bind(pos + self._pair()))):
            inside = None
            if edge.limit or edge.start:
                r = bind(full * 2 + h)
                inside = bind(r < edge.limit) if edge.limit else None
                if edge.start:
                    inside = bind(r >= edge.start) if inside is None else \
                        bind(inside & (r >= edge.start))
                at = bind(select(inside, at, 0))
            v = self.src[at]
            if inside is not None:
                v = bind(select(inside, v, s.io_in.numpy_dtype.type(0)))
            halves.append(v)
        v = bind(make_complex(*halves))
        if v.dtype is not s.compute:
            v = bind(v.cast(s.compute))
        return v

    def _root(self, part, index, sign) -> ShaderVariable:
        """Table entry `index` of `part` (forward roots; conjugated for sign > 0)."""
        at = self.parts[part][0]
        w = self.table[index + at] if at else self.table[index]
        return bind(conj(w)) if sign > 0 else w

    def _sidx(self, e):
        s = self.s
        if s.columns:
            return e * s.batch + self.p if s.batch > 1 else e
        if s.pad:
            e = e + e // 16
            return self.p * (s.n + s.n // 16) + e if s.batch > 1 else e
        return self.p * s.n + e if s.batch > 1 else e

    def _slots(self, base, step, count, low=None) -> list:
        """Shared indices of elements base + r*step, r < count: one computed index plus
        literal offsets where the padding allows (so the compiler folds them into the
        loads and stores), else each computed alone. `low`: a bound on base % 16."""
        s = self.s
        if s.columns:
            scale = s.batch
        elif not s.pad:
            scale = 1
        elif step % 16 == 0 or (low is not None and low + (count - 1) * step < 16):
            scale = None
        else:
            return [self._sidx(bind(base + r * step) if r else base) for r in range(count)]
        at = bind(self._sidx(base))
        out = [at]
        for r in range(1, count):
            o = r * step
            o = o * scale if scale is not None else o + o // 16
            out.append(bind(at + o))
        return out

    # ------------------------------------------------------------------ stages
    def _stages(self, sign, read, write, write_shared=False, radices=None, initial=None):
        """One transform of `sign` through `radices` (default: the spec's): `read(e)`
        gives input e ("shared": the shared array), `write(f, v)` takes output f
        ("shared" likewise; `write_shared`: the writer stores to the shared array
        itself). write="registers" returns the last stage's outputs instead, as
        [(j, values)] per butterfly (output r is element j + r * n / R); `initial` feeds
        such a list to the first stage (same radix, so the same butterflies)."""
        s = self.s
        n, T = s.n, s.threads
        ns = 1
        radices = radices or s.radices
        count = len(radices)
        for si, R in enumerate(radices):
            nb = n // R
            src = read if si == 0 else "shared"
            dst = write if si == count - 1 else "shared"
            to_shared = dst == "shared" or (si == count - 1 and write_shared)
            held = []
            for m in range(-(-nb // T)):
                j = bind(self.t + m * T) if m else self.t
                if (m + 1) * T > nb:
                    j = bind(vmin(j, nb - 1))
                k = bind(j % ns) if ns > 1 else None
                xs = []
                if si == 0 and initial is not None:
                    xs = list(initial[m][1])
                elif src == "shared":
                    xs = [self.sh[i] for i in self._slots(j, nb, R)]
                for r in range(len(xs), R):
                    e = bind(j + r * nb) if r else j
                    xs.append(src(e))
                if k is not None:
                    part = tables.stage_part(ns, R, 1 if initial is not None else 0)
                    for r in range(1, R):
                        idx = bind(k + (r - 1) * ns) if r > 1 else k
                        xs[r] = bind(xs[r] * self._root(part, idx, sign))
                ys = dft(xs, sign)
                base = bind((j // ns) * (ns * R) + k) if ns > 1 else bind(j * R)
                held.append((base, ys))
            if dst == "registers":
                return held
            if (src == "shared" or initial is not None) and to_shared:
                barrier()     # every invocation has read what is overwritten
            # base % 16 < ns where the butterflies' spans (ns * R) are whole multiples of 16
            low = ns - 1 if (ns * R) % 16 == 0 else None
            for base, ys in held:
                if dst == "shared":
                    for i, y in zip(self._slots(base, ns, R, low), ys):
                        self.sh[i] = y
                    continue
                for r, y in enumerate(ys):
                    dst(bind(base + r * ns) if r else base, y)
            if to_shared:
                barrier()
            ns *= R

    def trace(self) -> None:
        s = self.s
        self.p, self.t, o, c, self.active = self._where()
        self.base_in = self._base("in", o, c)
        self.base_out = self._base("out", o, c)
        if s.twiddle:
            self.n2 = bind(c // self.u["inner"])
        if s.outer_split:
            self.k1 = bind(o % s.outer_split)
        if s.shared_elements:
            self.sh = shared_buffer(s.compute, s.shared_elements)
        if s.real == "r2c":
            self._stages(s.sign, self._load_global, "shared")
            realpack.r2c_store(self)
            return
        if s.real == "c2r":
            self._stages(s.sign, lambda e: realpack.c2r_load(self, e), self._store_global)
            return
        if not s.kernel_mul:
            self._stages(s.sign, self._load_global, self._store_global)
            return
        # convolve, one pass over memory: forward, the multiply in registers, and the
        # inverse through the radices reversed, so its first stage takes the forward's
        # last outputs where they are (no shared-memory round trip)
        held = self._stages(-1, self._load_global, "registers")
        nb = s.n // s.radices[-1]
        for k in range(s.kernel_mul[-1]):     # kernel_num: one spectrum, k kernels
            with kernel_index(k):
                spectrum = []
                for base, ys in held:
                    spectrum.append((base, [self._multiply(bind(base + r * nb) if r else base,
                                                           y) for r, y in enumerate(ys)]))
                self._stages(1, None, self._store_global, radices=tuple(reversed(s.radices)),
                             initial=spectrum)

    def _multiply(self, f, v):
        """Frequency f's value v after the convolution's kernel (map)."""
        s = self.s
        if self.maps is not None and self.maps.has("kernel_map"):
            pos = bind(self.base_out + f * self.u["out_es"])
            return self.maps.read("kernel_map", s.compute, pos, f, initial=v)
        k = self._kernel_value(f)
        return bind(v * (bind(conj(k)) if s.kernel_mul[3] else k))

    def _kernel_value(self, f):
        """Element f of the frequency-domain kernel: one vector for every transform
        ("shared"), or one per transform laid out like the output ("same")."""
        if self.s.kernel_mul[2] == "shared":
            v = self.kernel[f]
        else:
            v = self.kernel[bind((self.base_out + f * self.u["out_es"]) % self.u["kernel_size"])]
        if v.dtype is not self.s.compute:
            v = bind(v.cast(self.s.compute))
        return v


def shared_bytes(spec: PassSpec) -> int:
    return spec.shared_elements * spec.compute.itemsize


