"""vd.reduce: reductions on buffers, staged for memory bandwidth (vkdispatch 0.1's API).

    @vd.reduce.reduce(0)
    def total(a: f32, b: f32) -> f32:
        return a + b

    @vd.reduce.map_reduce(vd.reduce.SubgroupAdd)
    def energy(buf: Buff[f32]) -> f32:
        v = buf[vd.reduce.mapped_io_index()]
        return v * v

`total(buf).read(0)[0]` is the sum. Library code calls `reduce_buffers`."""
from .decorator import map_reduce, reduce
from .engine import Reduction, reduce_buffers
from .operations import (ReduceOp, SubgroupAdd, SubgroupAnd, SubgroupMax, SubgroupMin,
                         SubgroupMul, SubgroupOr, SubgroupXor)
from .reduce_function import ReduceFunction
from .stage import mapped_io_index

__all__ = ["reduce", "map_reduce", "mapped_io_index", "ReduceFunction", "ReduceOp",
           "SubgroupAdd", "SubgroupMul", "SubgroupMin", "SubgroupMax", "SubgroupAnd",
           "SubgroupOr", "SubgroupXor", "Reduction", "reduce_buffers"]
