"""One call to make a run repeatable."""
from __future__ import annotations

import random

import numpy


def set_seed(seed: int = 0) -> None:
    """Seed Python's, NumPy's and (if present) CuPy's global generators.

    Chainer draws initial weights, dropout masks and shuffling from these, so two runs with the same
    seed on the same device start from, and follow, the same numbers.
    """
    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    try:
        import cupy
    except ImportError:
        return
    try:
        cupy.random.seed(seed % 2**32)
    except Exception:  # CuPy present but no usable GPU
        pass
