"""Predictions and the numbers that judge them."""
from __future__ import annotations

import chainer
import numpy

from course.device import get_device


def predict(model: chainer.Link, x: numpy.ndarray, *, batch_size: int = 1000, device=None) -> numpy.ndarray:
    """Run ``model`` on ``x`` in test mode, batch by batch, and return its outputs as a NumPy array."""
    device = get_device(device)
    model.to_device(device)
    outputs = []
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        for start in range(0, len(x), batch_size):
            y = model(device.send(x[start : start + batch_size]))
            outputs.append(chainer.backend.CpuDevice().send(y.array))
    return numpy.concatenate(outputs)


def as_classes(predicted: numpy.ndarray) -> numpy.ndarray:
    """Class indices: ``predicted`` itself, or the argmax of each row when it holds scores (N, classes)."""
    predicted = numpy.asarray(predicted)
    return predicted.argmax(axis=1) if predicted.ndim == 2 else predicted


def accuracy(predicted: numpy.ndarray, labels: numpy.ndarray) -> float:
    """The fraction of ``predicted`` (class indices, or scores to argmax) equal to ``labels``."""
    predicted = as_classes(predicted)
    labels = numpy.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValueError(f"{predicted.shape[0]} predictions for {labels.shape[0]} labels")
    return float((predicted == labels).mean())


def confusion_matrix(predicted: numpy.ndarray, labels: numpy.ndarray, n_classes: int) -> numpy.ndarray:
    """``cm[i, j]`` = how many examples of true class ``i`` were predicted as ``j`` (scikit-learn's)."""
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(labels, as_classes(predicted), labels=numpy.arange(n_classes))


def most_confused_pair(cm: numpy.ndarray) -> tuple[int, int]:
    """The (true, predicted) pair of different classes with the most mistakes."""
    off_diagonal = numpy.array(cm, copy=True)
    numpy.fill_diagonal(off_diagonal, -1)
    true, predicted = numpy.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
    return int(true), int(predicted)


def misclassified(predicted: numpy.ndarray, labels: numpy.ndarray) -> numpy.ndarray:
    """Indices of the examples whose prediction is not their label.

    With class indices, in data order; with scores (N, classes), the most confident mistakes first
    (largest gap between the winning score and the true class's score).
    """
    predicted = numpy.asarray(predicted)
    labels = numpy.asarray(labels)
    if predicted.shape[0] != labels.shape[0]:
        raise ValueError(f"{predicted.shape[0]} predictions for {labels.shape[0]} labels")
    if predicted.ndim != 2:
        return numpy.flatnonzero(predicted != labels)
    winners = predicted.argmax(axis=1)
    wrong = numpy.flatnonzero(winners != labels)
    gap = predicted[wrong, winners[wrong]] - predicted[wrong, labels[wrong]]
    return wrong[numpy.argsort(-gap, kind="stable")]
