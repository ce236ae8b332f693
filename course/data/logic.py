"""Truth tables of two-input logic gates, for lesson 1."""
from __future__ import annotations

import numpy

GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
}
INPUTS = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)


def truth_table(gate: str, *, repeats: int = 1, regression: bool = False):
    """The four rows of ``gate`` as ``(x, t)``, each row repeated ``repeats`` times in order.

    ``x`` is float32 of shape (4 * repeats, 2). ``t`` is the int32 class index (classification) or a
    float32 column of shape (N, 1) (regression), the dtypes Chainer's losses expect.
    """
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; choose one of {', '.join(GATES)}")
    x = numpy.tile(INPUTS, (repeats, 1))
    targets = numpy.tile(numpy.array(GATES[gate]), repeats)
    t = targets.astype(numpy.float32).reshape(-1, 1) if regression else targets.astype(numpy.int32)
    return x, t
