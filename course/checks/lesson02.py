"""Lesson 2 (MNIST) exercise checkers: an accuracy function, the most confused pair, a layer's parameters, SGD's rate."""
from __future__ import annotations

import math

import numpy

from course.checks import (Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function,
                           whole_number)

_ARGMAX_HINT = (
    "when `predicted` is a 2-D array of scores (one row per example, one column per class), the "
    "predicted class is the column with the highest score: `predicted.argmax(axis=1)`"
)


def _accuracy_cases():
    """(description, predicted, labels, expected, hint if this case fails)."""
    labels = numpy.array([3, 1, 4, 1, 5, 9], dtype=numpy.int32)
    # 6 examples, 10 classes: N != classes, so argmax over the wrong axis cannot pass by luck.
    scores = numpy.full((6, 10), -2.0, dtype=numpy.float32)
    scores[numpy.arange(6), [3, 1, 4, 7, 5, 0]] = 1.5  # 4 of 6 right
    # 3 examples, 3 classes, raw (negative) scores; argmax(axis=0) would give [2, 0, 1] (1 of 3 right).
    square = numpy.array([[-1.0, 2.0, -3.0], [-0.5, -2.0, 0.5], [3.0, -1.0, -0.2]], dtype=numpy.float32)
    return [
        ("all predictions right", labels.copy(), labels, 1.0,
         "when every prediction equals its label, the accuracy is 1.0"),
        ("2 of 6 right", numpy.array([3, 1, 0, 0, 0, 0]), labels, 2 / 6,
         "accuracy is the fraction of predictions equal to their labels: (predicted == labels).mean()"),
        ("all wrong", numpy.array([0, 0, 0, 0, 0, 0]), labels, 0.0,
         "when no prediction equals its label, the accuracy is 0.0"),
        ("2-D scores, 4 of 6 right", scores, labels, 4 / 6, _ARGMAX_HINT),
        ("2-D scores with negative values, 3 examples and 3 classes", square, numpy.array([1, 2, 0]), 1.0,
         _ARGMAX_HINT + " (axis=1: along each row, not down the columns)"),
        ("a single example given as scores of shape (1, 10)", scores[3:4], labels[3:4], 0.0, _ARGMAX_HINT),
    ]


@checker("your accuracy function")
def check_accuracy(accuracy_function) -> None:
    """``accuracy_function(predicted, labels)`` must return the fraction right, for class indices or 2-D scores."""
    require_function(accuracy_function, "check_accuracy(my_accuracy)")
    cases = _accuracy_cases()
    values = []
    for description, predicted, labels, _expected, hint in cases:
        result = call_answer(accuracy_function, predicted.copy(), labels.copy(), case=description,
                             hint=f". Hint: {hint}")
        values.append(as_number(result, f"on {description} it returned {result!r}; "
                                        f"return one number, the fraction right"))
    wrong = [(case, value) for case, value in zip(cases, values) if not abs(value - case[3]) <= 1e-6]  # NaN is wrong too
    if not wrong:
        return
    if all(abs(value - case[3] * len(case[2])) < 1e-6 for case, value in zip(cases, values)):
        raise Wrong("it returns the number of right predictions; divide by the number of examples "
                    "to get a fraction")
    if all(abs(value - (1 - case[3])) < 1e-6 for case, value in zip(cases, values)):
        raise Wrong("it returns the fraction wrong (the error rate); accuracy is the fraction right")
    (description, _, _, expected, hint), value = wrong[0]
    raise Wrong(f"on {description} it returned {value:g}, expected {expected:g}. Hint: {hint}")


def _as_pair(answer) -> tuple[int, int]:
    try:
        items = list(answer)
    except TypeError:
        raise Wrong(f"answer with a pair (true, predicted), e.g. (4, 9), not {answer!r}") from None
    hint = f"answer with a pair of two whole numbers (true, predicted), e.g. (4, 9), not {answer!r}"
    if len(items) != 2:
        raise Wrong(hint)
    return whole_number(items[0], hint, floats=False), whole_number(items[1], hint, floats=False)


@checker("the most confused pair")
def check_most_confused(answer, cm) -> None:
    """``answer`` = (true digit, predicted digit) with the most mistakes in confusion matrix ``cm``."""
    cm = numpy.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise Wrong(f"the second argument must be the square confusion matrix, not shape {cm.shape}")
    true, predicted = _as_pair(answer)
    n = len(cm)
    if not (0 <= true < n and 0 <= predicted < n):
        raise Wrong(f"both digits must be between 0 and {n - 1}; you gave {answer!r}")
    if true == predicted:
        raise Wrong(f"cm[{true}, {predicted}] is on the diagonal: those are the {true}s predicted correctly. "
                    f"Look for the largest number off the diagonal")
    off_diagonal = cm.copy()
    numpy.fill_diagonal(off_diagonal, 0)
    most = off_diagonal.max()
    if cm[true, predicted] == most:
        return
    if cm[predicted, true] == most:
        raise Wrong(f"({true}, {predicted}) is the right cell read the wrong way round: rows are the true "
                    f"digit and columns the prediction, so cm[row, column] counts row-digits taken for column-digits")
    raise Wrong(f"cm[{true}, {predicted}] = {cm[true, predicted]} mistakes, but another pair of different "
                f"digits has {most}. Look for the largest number off the diagonal")


def _fresh_cnn():
    """A fresh MnistCNN, built without moving NumPy's global random state."""
    from course.models import MnistCNN

    with keep_numpy_random_state():
        return MnistCNN()


@checker("parameters of the first convolution")
def check_conv1_parameters(answer) -> None:
    """``answer`` = how many numbers MnistCNN's ``conv1`` holds: weights (out x in x k x k) plus biases (out)."""
    model = _fresh_cnn()
    conv = model.conv1
    out_channels, in_channels, kh, kw = conv.W.shape
    weights = conv.W.size
    expected = weights + conv.b.size
    answer = whole_number(answer)
    if answer == expected:
        return
    if answer == weights:
        raise Wrong(f"that counts the weights only; each of the {out_channels} filters also has one bias")
    if answer in (kh * kw, kh * kw * in_channels, kh * kw * in_channels + 1):
        raise Wrong(f"that is one filter; the layer has {out_channels} of them, each with its own weights and bias")
    from course.models import count_parameters

    if answer == count_parameters(model):
        raise Wrong("that is the whole network; count only conv1")
    raise Wrong(f"conv1 has {out_channels} filters; each has a {kh}x{kw} weight per input channel "
                f"({in_channels} here) plus one bias. Multiply, then add the biases")


SGD_MARGIN = 0.02
"""How far below Adam's validation accuracy SGD may end and still count as having caught up."""


def _train_mlp(optimizer, sizes, data) -> float:
    """The validation accuracy of the lesson's MLP after ``sizes.mlp_epochs`` epochs with ``optimizer`` (None: Adam)."""
    import tempfile

    from course.models import MLP
    from course.seed import set_seed
    from course.training import train_classifier

    with keep_numpy_random_state(), tempfile.TemporaryDirectory() as out:
        set_seed(0)
        model = MLP()
        history = train_classifier(model, data.train, data.validation, epochs=sizes.mlp_epochs,
                                   batch_size=sizes.batch_size, optimizer=optimizer, out=out, progress=False,
                                   live_plot=False)
    return history.last("validation/main/accuracy")


def _lesson_setup():
    """The active profile's MNIST sizes and the lesson's digits (train, validation, test)."""
    from course.tasks import sizes
    from course.tasks.mnist import load_data

    size = sizes("mnist")
    return size, load_data(size, verbose=False)


_ADAM: dict[tuple, float] = {}


def _adam_accuracy(sizes, data) -> float:
    """What Adam reaches, kept for the process: the check is often run several times with different rates."""
    key = (sizes, data.source, len(data.train[1]))
    if key not in _ADAM:
        _ADAM[key] = _train_mlp(None, sizes, data)
    return _ADAM[key]


@checker("a learning rate at which SGD catches up with Adam")
def check_sgd_learning_rate(lr) -> None:
    """``lr``: a rate at which plain SGD brings the lesson's MLP within :data:`SGD_MARGIN` of Adam's validation accuracy.

    The check trains the lesson's MLP twice, from the same start and on the same batches, for the
    profile's ``mlp_epochs``: once with ``chainer.optimizers.SGD(lr=lr)`` and once with Adam, and
    compares their accuracies on the validation digits.
    """
    import chainer

    if lr is None:
        raise Wrong("try some learning rates for SGD first, then answer with the one that worked best")
    rate = as_number(lr, f"answer with one number, the learning rate, not {lr!r}")
    if not (math.isfinite(rate) and rate > 0):
        raise Wrong(f"a learning rate is a positive number, not {rate:g}")
    sizes, data = _lesson_setup()
    try:
        sgd = _train_mlp(chainer.optimizers.SGD(lr=rate), sizes, data)
    except FloatingPointError:
        raise Wrong(f"at lr={rate:g} the loss blew up to NaN during training: the steps are far too large") from None
    adam = _adam_accuracy(sizes, data)
    measured = f"after {sizes.mlp_epochs} epochs SGD(lr={rate:g}) reached {sgd:.1%} on the validation digits"
    if sgd >= adam - SGD_MARGIN:
        print(f"  {measured}, Adam {adam:.1%}")
        return
    if rate <= 0.01:
        raise Wrong(f"{measured}, Adam {adam:.1%}. At this rate SGD's steps are Chainer's default size or smaller; "
                    "try rates many times larger")
    raise Wrong(f"{measured}, {adam - sgd:.1%} below Adam's {adam:.1%}, more than {SGD_MARGIN:.0%}. Look at its "
                "curves: does the loss fall slowly (the steps are too small) or jump about (too large)?")
