"""Checkers for lesson 01 (a first neural net): truth tables, hand-set weights, a net that computes XOR."""
from __future__ import annotations

import chainer
import numpy

from course.checks import Wrong, checker, keep_numpy_random_state
from course.data.logic import GATES, INPUTS
from course.models.logic import OneLayerNet, predict_classes, raw_outputs

ROWS = [f"({int(a)}, {int(b)})" for a, b in INPUTS]


def _wrong_rows(answers, targets) -> str:
    return ", ".join(ROWS[i] for i in range(4) if answers[i] != targets[i])


@checker("the targets of OR")
def check_or_targets(targets) -> None:
    """``targets``: the 4 outputs of OR for the rows (0, 0), (0, 1), (1, 0), (1, 1), in that order."""
    if targets is None:
        raise Wrong("write 4 numbers, 0 or 1: the answers of OR for the rows (0, 0), (0, 1), (1, 0), (1, 1), in that order.")
    values = numpy.asarray(targets).ravel()
    if values.size != 4:
        raise Wrong(f"a two-input truth table has 4 rows, you gave {values.size} values.")
    if not numpy.isin(values, (0, 1)).all():
        raise Wrong(f"the targets are class indices, 0 or 1; you gave {values.tolist()}.")
    values = tuple(int(v) for v in values)
    if values == GATES["or"]:
        return
    for name, table in GATES.items():
        if values == table:
            raise Wrong(f"that is the truth table of {name.upper()}. OR answers 1 when at least one input is 1.")
    raise Wrong(f"wrong on row(s) {_wrong_rows(values, GATES['or'])}. OR answers 1 when at least one input is 1.")


@checker("hand-set weights for AND")
def check_and_weights(W, b) -> None:
    """``W`` (2, 2) and ``b`` (2,) for ``OneLayerNet``: class 1's score must beat class 0's only on (1, 1)."""
    if W is None or b is None:
        raise Wrong("fill in W (2 x 2: row 0 scores class 0, row 1 scores class 1) and b (2 numbers). "
                    "Idea: score(0) = 1.5 always, score(1) = x1 + x2.")
    W = numpy.asarray(W, dtype=numpy.float32)
    b = numpy.asarray(b, dtype=numpy.float32)
    if W.shape != (2, 2):
        raise Wrong(f"W has shape {W.shape}; Linear(2, 2).W has shape (2, 2), one row of 2 input weights per output.")
    if b.shape != (2,):
        raise Wrong(f"b has shape {b.shape}; Linear(2, 2).b holds one number per output, shape (2,).")
    if not (numpy.isfinite(W).all() and numpy.isfinite(b).all()):
        raise Wrong("W and b must be finite numbers.")
    scores = INPUTS @ W.T + b
    ties = [ROWS[i] for i in range(4) if numpy.isclose(scores[i, 0], scores[i, 1])]
    if ties:
        raise Wrong(f"on row(s) {', '.join(ties)} both classes get the same score, so the answer is a coin toss; "
                    "make the right class score strictly higher.")
    with keep_numpy_random_state():  # checking must not change the learner's next random numbers
        model = OneLayerNet()
    model.fc1.W.array[...] = W
    model.fc1.b.array[...] = b
    answers = tuple(int(a) for a in predict_classes(model, INPUTS))
    if answers == GATES["and"]:
        return
    if answers == GATES["nand"]:
        raise Wrong("your net computes NAND, the exact opposite: swap the rows of W (and the entries of b).")
    raise Wrong(f"your net answers {list(answers)} instead of {list(GATES['and'])} "
                f"(wrong on {_wrong_rows(answers, GATES['and'])}). Row k of W and b[k] give the score of class k.")


@checker("a net of your own that computes XOR")
def check_xor_net(model) -> None:
    """``model``: a trained Chainer link, 2 inputs -> 2 class scores (or 1 regression output), right on all 4 rows of XOR."""
    if model is None:
        raise Wrong("build your network, train it on truth_table('xor', ...), then pass the trained model.")
    if not isinstance(model, chainer.Link):
        raise Wrong(f"pass the model itself (a chainer.Chain), not a {type(model).__name__}.")
    if isinstance(model, OneLayerNet):
        raise Wrong("one linear layer cannot compute XOR, however long it trains: no straight line separates "
                    "its 1s from its 0s. Add a hidden layer with a nonlinearity.")
    y = raw_outputs(model, INPUTS)
    if y.ndim != 2 or y.shape[0] != 4 or y.shape[1] not in (1, 2):
        raise Wrong(f"for 4 rows your model returned shape {y.shape}; expected (4, 2) class scores or (4, 1) outputs.")
    if not numpy.isfinite(y).all():
        raise Wrong("your model outputs NaN or infinity; the training diverged. Lower the learning rate.")
    answers = tuple(int(a) for a in predict_classes(model, INPUTS))
    if answers == GATES["xor"]:
        return
    right = sum(a == t for a, t in zip(answers, GATES["xor"]))
    raise Wrong(f"your net gets {right}/4 rows right (wrong on {_wrong_rows(answers, GATES['xor'])}). "
                "Has it been trained? If so, a net this small sometimes gets stuck, as in the lesson: "
                "try another seed or more repeats.")
