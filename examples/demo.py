"""vkdispatch demo: a kernel written in Python, run on the best device found."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32


@vd.shader("buff.size")
def add_scalar(buff: Buff[f32], bias: Const[f32]):
    tid = vc.global_invocation_id().x
    buff[tid] = buff[tid] + bias


@vd.shader(exec_size=lambda args: args.out.size)
def saxpy(out: Buff[f32], x: Buff[f32], y: Buff[f32], a: Const[f32]):
    i = vc.global_invocation_id().x
    out[i] = a * x[i] + y[i]


def main():
    try:
        vd.initialize()
    except vd.BackendUnavailableError as exc:
        print(f"No GPU runtime works here ({exc}).\nShowing generated code only.\n")
        vd.initialize(backend="dummy")
        print(add_scalar.get_src(line_numbers=True))
        return

    device = vd.get_context().device
    print(device.get_info_string())
    print("\nGenerated source for add_scalar:")
    print(add_scalar.get_src(line_numbers=True))

    arr = np.arange(8, dtype=np.float32)
    buff = vd.asbuffer(arr)
    add_scalar(buff, 1.5)
    result = buff.read(0)
    print("\nadd_scalar(arange(8), 1.5) =", result)
    assert np.allclose(result, arr + 1.5)

    rng = np.random.default_rng(0)
    n = 1_000_003
    x, y = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    out = vd.Buffer((n,), vd.float32)
    saxpy(out, vd.asbuffer(x), vd.asbuffer(y), 2.0)
    err = np.abs(out.read(0) - (2.0 * x + y)).max()
    print(f"saxpy on {n} elements: max error vs NumPy {err:.2e}")
    assert err < 1e-5


if __name__ == "__main__":
    main()
