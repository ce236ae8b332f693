"""The losses the seeds discuss, each named for what it is (Chainer functions: they backpropagate)."""
from __future__ import annotations

import chainer
import chainer.functions as F
import numpy


def pair_target(rating_i, rating_j):
    """RankNet's ``S_ij``: 1 where item i is rated higher than item j, -1 where lower, 0 where equal.

    Works on numbers and on NumPy/CuPy arrays (element by element); returns float32.
    """
    xp = chainer.backend.get_array_module(rating_i, rating_j)
    return xp.sign(xp.asarray(rating_i, dtype=numpy.float32) - xp.asarray(rating_j, dtype=numpy.float32))


def _as_variable(value) -> chainer.Variable:
    if isinstance(value, chainer.Variable):
        return value
    xp = chainer.backend.get_array_module(value)
    return chainer.Variable(xp.asarray(value, dtype=numpy.float32))


def ranknet_loss(s_i, s_j, s_ij, reduce: str = "mean") -> chainer.Variable:
    """RankNet's pairwise loss for scores ``s_i``, ``s_j`` and targets ``s_ij`` in {1, 0, -1}.

    With ``d = s_i - s_j`` the loss of one pair is ``(1 - S_ij) / 2 * d + log(1 + exp(-d))``: the
    cross-entropy between the target probability ``(1 + S_ij) / 2`` that i ranks above j and the
    model's probability ``sigmoid(d)``. ``log(1 + exp(-d))`` is computed as ``softplus(-d)``, which
    neither overflows for very negative ``d`` nor rounds to 0 for large ``d``.
    Scores may be Variables (to backpropagate), arrays or numbers. ``reduce="mean"`` averages over
    the pairs; ``"no"`` returns one loss per pair.
    """
    if reduce not in ("mean", "no"):
        raise ValueError(f"reduce must be 'mean' or 'no', not {reduce!r}")
    d = _as_variable(s_i) - _as_variable(s_j)
    target = d.xp.asarray(chainer.as_array(s_ij), dtype=d.dtype)
    if target.shape != d.shape:
        raise ValueError(f"{d.size} score differences but S_ij has shape {target.shape}: give one target per pair")
    loss = (1 - target) / 2 * d + F.softplus(-d)
    return F.mean(loss) if reduce == "mean" else loss
