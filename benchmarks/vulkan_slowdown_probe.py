"""Which earlier activity slows a later bandwidth-bound Vulkan kernel (not a test)."""
import numpy as np

import vkdispatch as vd
import vkdispatch.codegen as vc
from vkdispatch.codegen.abbreviations import Buff, Const, f32

N = 1 << 26


@vd.shader("out.size")
def fma(out: Buff[f32], a: Buff[f32], b: Buff[f32], c: Buff[f32]):
    i = vc.global_invocation_id().x
    out[i] = a[i] * b[i] + c[i]


@vd.shader("buf.size")
def tiny(buf: Buff[f32], k: Const[f32]):
    i = vc.global_invocation_id().x
    buf[i] = buf[i] + k


def gbs(label, bufs=None):
    bufs = bufs or [vd.Buffer((N,), vd.float32) for _ in range(4)]
    g = vd.CommandGraph(timestamps=True)
    for _ in range(10):
        fma(*bufs, graph=g)
    g.submit(wait=True)
    g.submit(wait=True)
    t = float(np.median(g.timestamps(0)))
    print(f"{label}: {16 * N / t / 1e9:.0f} GB/s")
    return bufs


def main():
    vd.initialize(backend="vulkan")
    keep = gbs("fresh")
    gbs("fresh, same buffers again", keep)
    big = vd.Buffer((N,), vd.float32)
    big.write(np.ones(N, np.float32))
    big.read(0)
    big.destroy()
    gbs("after a 256 MiB write/read/free")
    gbs("old buffers after that", keep)
    small = vd.Buffer((64,), vd.float32)
    for _ in range(2000):
        tiny(small, 1.0)
        vd.global_graph().submit()
    vd.queue_wait_idle()
    gbs("after 2000 eager calls")
    gbs("old buffers after that", keep)
    g = vd.CommandGraph()
    for _ in range(1000):
        tiny(small, 1.0, graph=g)
    for _ in range(20):
        g.submit()
    g.wait()
    gbs("after 20 x 1000-dispatch replays")
    gbs("old buffers after that", keep)


if __name__ == "__main__":
    main()
