"""The smallest networks of lesson 1 (one linear layer, and two layers with a sigmoid between), and
helpers that read their answers on the four rows of a truth table."""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.data.logic import truth_table
from course.models.core import predict
from course.models.saving import saveable


@saveable
class OneLayerNet(chainer.Chain):
    """``y = W x + b``: two inputs, ``n_out`` outputs (2 class scores, or 1 value for regression)."""

    def __init__(self, n_out: int = 2):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, n_out)

    def forward(self, x):
        return self.fc1(x)


@saveable
class TwoLayerNet(chainer.Chain):
    """``y = W2 sigmoid(W1 x + b1) + b2``: the hidden layer bends the decision boundary."""

    def __init__(self, n_hidden: int = 2, n_out: int = 2):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, n_hidden)
            self.fc2 = L.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.fc2(F.sigmoid(self.fc1(x)))


def raw_outputs(model: chainer.Link, x) -> numpy.ndarray:
    """``model(x)`` as a NumPy array, computed in test mode without building a graph."""
    return predict(model, numpy.asarray(x, dtype=numpy.float32), device=model.device)


def class1_probability(model: chainer.Link, x) -> numpy.ndarray:
    """One number per row of ``x``: how strongly ``model`` says "1".

    For a classifier (2 outputs) it is the softmax probability of class 1; for a regression net
    (1 output) it is the output itself. Either way 0.5 is the line between answering 0 and 1, which
    is what :func:`course.viz.plot_decision_boundary` draws.
    """
    y = raw_outputs(model, x)
    if y.shape[1] == 1:
        return y[:, 0]
    if y.shape[1] != 2:
        raise ValueError(f"expected a model with 1 or 2 outputs, this one has {y.shape[1]}")
    shifted = numpy.exp(y - y.max(axis=1, keepdims=True))
    return shifted[:, 1] / shifted.sum(axis=1)


def predict_classes(model: chainer.Link, x) -> numpy.ndarray:
    """The answer, 0 or 1, for each row of ``x``: the larger score (2 outputs) or output >= 0.5 (1 output)."""
    y = raw_outputs(model, x)
    if y.shape[1] == 1:
        return (y[:, 0] >= 0.5).astype(numpy.int32)
    return y.argmax(axis=1).astype(numpy.int32)


def rows_right(model: chainer.Link, gate: str) -> int:
    """How many of the 4 rows of ``gate``'s truth table ``model`` answers correctly (0 to 4)."""
    x, t = truth_table(gate)
    return int((predict_classes(model, x) == t).sum())


def show_predictions(model: chainer.Link, gate: str) -> None:
    """Print the truth table of ``gate`` next to what ``model`` answers for each row."""
    x, t = truth_table(gate)
    y = raw_outputs(model, x)
    score = "output" if y.shape[1] == 1 else "P(1)"
    print(f"x1 x2 | target | {score:>6} | answer")
    for xi, ti, pi, ci in zip(x, t, class1_probability(model, x), predict_classes(model, x)):
        mark = "ok" if ci == ti else "WRONG"
        print(f" {int(xi[0])}  {int(xi[1])} |   {ti}    | {pi:6.3f} |   {ci}  {mark}")
    print(f"{rows_right(model, gate)}/4 rows right")
