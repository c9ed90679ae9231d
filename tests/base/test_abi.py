"""The uniform packer's fast path gives the same bytes as the full one, or defers."""
import random

import numpy as np
import pytest

from vkdispatch.base.abi import ProgramInfo, UniformField, UniformPacker

FIELDS = (UniformField("k", "float32", 0, 4), UniformField("e", "uvec3", 4, 12),
          UniformField("i", "int32", 16, 4), UniformField("h", "float16", 20, 2),
          UniformField("d", "float64", 24, 8), UniformField("u", "uint8", 32, 1))
PACKER = UniformPacker(ProgramInfo("m", (1, 1, 1), uniforms=FIELDS, uniform_size=48))

SCALARS = [0.0, -0.0, 1.5, -2, 3, True, 2 ** 31, -2 ** 31 - 1, 2 ** 40, 1e39, 65519.0, 70000.0,
           float("inf"), float("nan"), np.float32(0.1), np.int32(-7), np.float16(0.3),
           np.array(2.5), "x", None, (1, 2), 255, 256, -1]


def _full(values):
    try:
        return PACKER.pack(dict(zip("keihdu", values)))
    except (TypeError, ValueError) as exc:
        return type(exc)


@pytest.mark.parametrize("seed", range(20))
def test_pack_sequence_matches_pack(seed):
    rng = random.Random(seed)
    for _ in range(200):
        vec = rng.choice([(1, 2, 3), (0, 2 ** 32 - 1, 5), (1, 2), (1.0, 2, 3), (1, 2, -3),
                          np.array([1, 2, 3]), [1, 2, 3]])
        values = [rng.choice(SCALARS), vec] + [rng.choice(SCALARS) for _ in range(4)]
        fast = PACKER.pack_sequence(values)
        if fast is not None:
            assert fast == _full(values), values


def test_pack_sequence_takes_the_common_call():
    assert PACKER.pack_sequence([1.0, (64, 1, 1), 3, 0.5, 2.0, 7]) == \
        PACKER.pack(dict(zip("keihdu", [1.0, (64, 1, 1), 3, 0.5, 2.0, 7])))
