"""Lesson 5's learning to rank: a CNN that gives each image one score, trained on pairs (RankNet) or pointwise.

- :class:`ScoreCNN`: the seed's score network (two 5x5 convolutions with pooling, a hidden layer, one
  output), with its widths as arguments so that it trains in seconds on 28x28 digits.
- :class:`RankNet`: wraps a score network; given a batch of images and ``S_ij`` for every pair of
  them (which one is rated higher) it returns RankNet's pairwise loss
  (:func:`course.losses.ranknet_loss`) averaged over the pairs.
- :class:`PointwiseRegressor`: the baseline; the same score network fitted to the ratings with the
  mean squared error.

Both report ``loss`` and ``accuracy``, the fraction of pairs with different ratings that the scores
put in the right order, so their curves can be compared.
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.functions import Convolution2D, max_pooling_2x2
from course.losses import pair_target, ranknet_loss


class ScoreCNN(chainer.Chain):
    """conv(5x5) - pool - conv(5x5) - pool - fc(hidden) - fc(1): one score per image, shape (N,).

    The seed used ``channels=(20, 50), hidden=500`` on 80x80 colour images; the default, narrower
    widths do for 28x28 digits. The input channels and the first fully connected layer's size are
    taken from the first batch, so any image size from 16x16 up works.
    """

    def __init__(self, channels: tuple[int, int] = (8, 16), hidden: int = 64):
        super().__init__()
        with self.init_scope():
            self.conv1 = Convolution2D(None, channels[0], ksize=5)
            self.conv2 = Convolution2D(channels[0], channels[1], ksize=5)
            self.fc3 = L.Linear(None, hidden)
            self.fc4 = L.Linear(hidden, 1)

    def forward(self, x):
        # Pooling before ReLU is the same function (max and ReLU commute) on a quarter of the values.
        h = F.relu(max_pooling_2x2(self.conv1(x)))
        h = F.relu(max_pooling_2x2(self.conv2(h)))
        return F.flatten(self.fc4(F.relu(self.fc3(h))))


def _ordered_right(d, s_ij):
    """Among pairs with ``S_ij != 0``, the fraction whose score difference ``d`` has the sign of ``S_ij`` (ties 1/2)."""
    xp = chainer.backend.get_array_module(d)
    d, s_ij = chainer.as_array(d), chainer.as_array(s_ij)
    ordered = s_ij != 0
    if not ordered.any():
        return xp.asarray(0.5, dtype=d.dtype)
    agreement = xp.sign(d[ordered]) * s_ij[ordered]  # 1 right, 0 tie, -1 wrong
    return ((agreement + 1) / 2).mean()


def all_pairs(n: int, xp=numpy) -> tuple:
    """Index arrays ``(i, j)`` of every pair ``i < j`` of ``n`` items: ``n * (n - 1) / 2`` pairs."""
    i, j = numpy.triu_indices(n, 1)
    return xp.asarray(i), xp.asarray(j)


class RankNet(chainer.Chain):
    """``predictor`` (images -> scores) trained on pairs: ``model(x, s_ij)`` is the mean pairwise loss.

    ``x`` is a batch of N images and ``s_ij`` the (N, N) matrix of targets ``S_ij`` (1 where image i
    is rated higher than image j, -1 where lower, 0 where equal). Every image is scored once, and all
    ``N * (N - 1) / 2`` pairs ``i < j`` of the batch enter the loss: far more pairs per step than
    scoring each pair's two images separately, for the same computation.
    """

    def __init__(self, predictor: chainer.Link):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor

    def forward(self, x, s_ij):
        scores = self.predictor(x)
        i, j = all_pairs(len(x), self.xp)
        s_ij = s_ij[i, j]
        loss = ranknet_loss(scores[i], scores[j], s_ij)
        chainer.report({"loss": loss, "accuracy": _ordered_right(scores.array[i] - scores.array[j], s_ij)}, self)
        return loss


class PointwiseRegressor(chainer.Chain):
    """The baseline: ``predictor`` fitted to the ratings themselves; ``model(x, ratings)`` is the mean squared error."""

    def __init__(self, predictor: chainer.Link):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor

    def forward(self, x, ratings):
        scores = self.predictor(x)
        loss = F.mean_squared_error(scores, ratings)
        i, j = all_pairs(len(x), self.xp)  # every pair of the batch: is it in the right order?
        ordered = _ordered_right(scores.array[i] - scores.array[j], pair_target(ratings[i], ratings[j]))
        chainer.report({"loss": loss, "accuracy": ordered}, self)
        return loss
