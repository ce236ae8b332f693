"""Lesson 4's face / non-face classifier, after the seed's "FrgNet64".

The seed's network, for 64x64 colour crops: conv(96, 5x5)-BN-ReLU-pool, conv(128, 5x5)-BN-ReLU-pool,
conv(256, 3x3)-ReLU-pool, conv(384, 3x3)-leaky ReLU, fc(2048)-leaky ReLU-dropout, fc(2), on images
with the training set's mean image subtracted. :class:`FrgNet` keeps that shape for grey crops of
any side divisible by 8, with the widths as arguments, 2x2 pooling (so the sizes halve: 32 -> 16 ->
8 -> 4), and the mean image stored inside the model, so a saved model carries its own mean.
"""
from __future__ import annotations

from typing import Sequence

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.models.core import predict
from course.models.saving import saveable

SEED_CHANNELS = (96, 128, 256, 384)
SEED_HIDDEN = 2048


@saveable
class FrgNet(chainer.Chain):
    """conv-BN-ReLU-pool x 2, conv-ReLU-pool, conv-leaky ReLU, fc-leaky ReLU-dropout, fc(2).

    ``insize`` is the side of the square grey input (a multiple of 8); ``channels`` the four
    convolutions' widths; ``hidden`` the first fully connected layer's. Class 1 is "face".
    Call :meth:`set_mean` with the training images before training.
    """

    def __init__(self, insize: int = 32, channels: Sequence[int] = (16, 32, 64, 64), hidden: int = 128,
                 dropout: float = 0.5):
        super().__init__()
        if insize % 8 or insize < 8:
            raise ValueError(f"insize must be a multiple of 8 (three 2x2 poolings), not {insize}")
        if len(channels) != 4:
            raise ValueError(f"channels needs the widths of the four convolutions, not {tuple(channels)}")
        self.insize, self.dropout = insize, dropout
        c1, c2, c3, c4 = channels
        with self.init_scope():
            self.conv1 = L.Convolution2D(1, c1, ksize=5, pad=2)
            self.bn1 = L.BatchNormalization(c1)
            self.conv2 = L.Convolution2D(c1, c2, ksize=5, pad=2)
            self.bn2 = L.BatchNormalization(c2)
            self.conv3 = L.Convolution2D(c2, c3, ksize=3, pad=1)
            self.conv4 = L.Convolution2D(c3, c4, ksize=3, pad=1)
            self.fc5 = L.Linear(c4 * (insize // 8) ** 2, hidden)
            self.fc6 = L.Linear(hidden, 2)
        self.add_persistent("mean", numpy.zeros((1, insize, insize), numpy.float32))

    def set_mean(self, images: numpy.ndarray) -> None:
        """Store the mean image of ``images`` (N, 1, insize, insize); :meth:`forward` subtracts it."""
        images = numpy.asarray(images)
        if images.shape[1:] != self.mean.shape:
            raise ValueError(f"images of shape {images.shape[1:]} do not fit a FrgNet for {self.mean.shape}")
        self.mean = self.xp.asarray(images.mean(axis=0, dtype=numpy.float64).astype(numpy.float32))

    def forward(self, x):
        if x.shape[1:] != self.mean.shape:
            raise ValueError(f"FrgNet(insize={self.insize}) takes (N, 1, {self.insize}, {self.insize}) images, "
                             f"not {tuple(x.shape)}; resize the crops to {self.insize}x{self.insize}")
        h = x - self.mean
        h = F.relu(F.max_pooling_2d(self.bn1(self.conv1(h)), 2))
        h = F.relu(F.max_pooling_2d(self.bn2(self.conv2(h)), 2))
        h = F.relu(F.max_pooling_2d(self.conv3(h), 2))
        h = F.leaky_relu(self.conv4(h), slope=0.2)
        h = F.dropout(F.leaky_relu(self.fc5(h), slope=0.2), self.dropout)
        return self.fc6(h)

    def face_probability(self, x: numpy.ndarray, *, batch_size: int = 1000, device=None) -> numpy.ndarray:
        """P(face) for each image of ``x`` (N, 1, insize, insize), in test mode, as float64.

        Computed in float64 from the two scores, so confident windows still get different values
        (in float32 they would all round to 1.0, and the most confident could not be told apart).
        """
        scores = predict(self, x, batch_size=batch_size, device=device).astype(numpy.float64)
        return 1 / (1 + numpy.exp(scores[:, 0] - scores[:, 1]))
