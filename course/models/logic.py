"""The smallest networks of lesson 1: one linear layer, and two layers with a sigmoid between."""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L


class OneLayerNet(chainer.Chain):
    """``y = W x + b``: two inputs, ``n_out`` outputs (2 class scores, or 1 value for regression)."""

    def __init__(self, n_out: int = 2):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, n_out)

    def forward(self, x):
        return self.fc1(x)


class TwoLayerNet(chainer.Chain):
    """``y = W2 sigmoid(W1 x + b1) + b2``: the hidden layer bends the decision boundary."""

    def __init__(self, n_hidden: int = 2, n_out: int = 2):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, n_hidden)
            self.fc2 = L.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.fc2(F.sigmoid(self.fc1(x)))
