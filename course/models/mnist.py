"""Lesson 2's digit classifiers: a multi-layer perceptron and a small convolutional network."""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L

from course.models.saving import saveable


PIXELS = 28 * 28
"""The inputs of the MLP: one per pixel of a 28x28 digit."""


@saveable
class MLP(chainer.Chain):
    """The network of Chainer's MNIST example: flatten the image, two hidden ReLU layers, 10 scores.

    Chainer's example has 1,000 units per hidden layer; the default here is 256, which trains several
    times faster on a CPU. The example writes ``L.Linear(None, n_units)``: a layer with input size
    ``None`` learns it from the first batch and only then draws its weights. Here the first layer
    names its 784 inputs, so every weight is drawn when the model is built, right after
    :func:`course.set_seed`. ``dropout`` (default 0, as in the example: none) is the fraction of each
    hidden layer's outputs set to zero at every training step.
    """

    def __init__(self, n_hidden: int = 256, n_out: int = 10, dropout: float = 0.0):
        super().__init__()
        self.dropout = dropout
        with self.init_scope():
            self.fc1 = L.Linear(PIXELS, n_hidden)
            self.fc2 = L.Linear(n_hidden, n_hidden)
            self.fc3 = L.Linear(n_hidden, n_out)

    def forward(self, x):
        h = self.drop(F.relu(self.fc1(x)))
        h = self.drop(F.relu(self.fc2(h)))
        return self.fc3(h)

    def drop(self, h):
        """``F.dropout`` while training; nothing at all (no random numbers drawn) when ``dropout`` is 0."""
        return F.dropout(h, self.dropout) if self.dropout > 0 else h


@saveable
class MnistCNN(chainer.Chain):
    """conv(32) - pool - conv(64) - pool - fc(128) - dropout - fc(10), for 1x28x28 inputs.

    Plain Chainer links and functions. On a CPU, ``import course`` puts faster NumPy kernels beneath
    Chainer's own convolution and pooling (:mod:`course.kernels`), so this network, and yours, train
    about twice as fast with the same results.
    """

    LAYERS = ("conv1", "conv2", "fc3", "fc4")
    """The layers :meth:`activations` names, from the input side to the output side."""

    def __init__(self, n_out: int = 10, dropout: float = 0.3):
        super().__init__()
        self.dropout = dropout
        with self.init_scope():
            self.conv1 = L.Convolution2D(1, 32, ksize=3, pad=1)
            self.conv2 = L.Convolution2D(32, 64, ksize=3, pad=1)
            self.fc3 = L.Linear(64 * 7 * 7, 128)
            self.fc4 = L.Linear(128, n_out)

    def activations(self, x, last: str = "fc4") -> dict[str, chainer.Variable]:
        """Each layer's output by name, from ``conv1`` up to ``last`` (one of :attr:`LAYERS`).

        ``conv1`` and ``conv2`` are after pooling and ReLU (32x14x14 and 64x7x7), ``fc3`` is
        :meth:`features` (128 values) and ``fc4`` the class scores without dropout (as in test mode).
        """
        if last not in self.LAYERS:
            raise ValueError(f"no layer named {last!r}; MnistCNN's layers are {', '.join(self.LAYERS)}")
        # Pooling before ReLU is the same function (max and ReLU commute, gradients included) on a
        # quarter of the values.
        stages = (
            ("conv1", lambda h: F.relu(F.max_pooling_2d(self.conv1(h), 2))),
            ("conv2", lambda h: F.relu(F.max_pooling_2d(self.conv2(h), 2))),
            ("fc3", lambda h: F.relu(self.fc3(h))),
            ("fc4", self.fc4),
        )
        outputs = {}
        h = x
        for name, stage in stages:
            h = outputs[name] = stage(h)
            if name == last:
                break
        return outputs

    def features(self, x):
        """The 128 values before the last layer: what the network learned to see."""
        return self.activations(x, last="fc3")["fc3"]

    def forward(self, x):
        return self.fc4(F.dropout(self.features(x), self.dropout))
