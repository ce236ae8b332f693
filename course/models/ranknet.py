"""Lesson 5's score network: a CNN that gives each image one number, higher = preferred.

It is trained on pairs by :class:`course.losses.RankNet` (or, as the baseline, on the ratings
themselves by :class:`course.losses.PointwiseRegressor`).
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L

from course.models.saving import saveable


@saveable
class ScoreCNN(chainer.Chain):
    """conv(5x5) - pool - conv(5x5) - pool - fc(hidden) - fc(1): one score per image, shape (N,).

    The seed used ``channels=(20, 50), hidden=500`` on 80x80 colour images; the default, narrower
    widths do for 28x28 digits. The input channels and the first fully connected layer's size are
    taken from the first batch, so any image size from 16x16 up works.
    """

    def __init__(self, channels: tuple[int, int] = (8, 16), hidden: int = 64):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(None, channels[0], ksize=5)
            self.conv2 = L.Convolution2D(channels[0], channels[1], ksize=5)
            self.fc3 = L.Linear(None, hidden)
            self.fc4 = L.Linear(hidden, 1)

    def forward(self, x):
        # Pooling before ReLU is the same function (max and ReLU commute) on a quarter of the values.
        h = F.relu(F.max_pooling_2d(self.conv1(x), 2))
        h = F.relu(F.max_pooling_2d(self.conv2(h), 2))
        return F.flatten(self.fc4(F.relu(self.fc3(h))))
