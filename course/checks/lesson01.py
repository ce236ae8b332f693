"""Checkers for lesson 01 (a first neural net): a truth table, two layers with nothing between, a tanh net for XOR."""
from __future__ import annotations

import chainer
import chainer.computational_graph
import chainer.functions as F
import chainer.links as L
import numpy

from course.checks import Wrong, checker
from course.data.logic import GATES, INPUTS, truth_table
from course.models.logic import OneLayerNet, class1_probability, predict_classes, raw_outputs, rows_right

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


def _function_names(model: chainer.Link) -> set[str]:
    """The names of the functions ``model`` applies to the four rows (``Sigmoid``, ``Tanh``...), read from its graph."""
    with chainer.using_config("train", False), chainer.using_config("enable_backprop", True):
        y = model(model.device.send(INPUTS))
    if not isinstance(y, chainer.Variable):
        return set()
    graph = chainer.computational_graph.build_computational_graph([y])
    return {node.label for node in graph.nodes if isinstance(node, chainer.FunctionNode)}


def _bends(names: set[str]) -> list[str]:
    """The functions among ``names`` that are not affine (anything but linear layers, sums, products with constants)."""
    affine = {"LinearFunction", "Add", "AddConstant", "Sub", "Neg", "MulConstant", "Reshape", "Identity", "Copy",
              "Transpose", "Concat", "GetItem", "Cast"}
    return sorted(names - affine)


def _linear_layers(model: chainer.Link) -> list[L.Linear]:
    return [link for link in model.links(skipself=True) if isinstance(link, L.Linear)]


def _affine_map(model: chainer.Link) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``(A, c)`` with ``model(x) = A x + c``, read off the model's outputs at 0 and at each unit vector."""
    y = raw_outputs(model, numpy.array([[0, 0], [1, 0], [0, 1]], numpy.float32)).astype(numpy.float64)
    return (y[1:] - y[0]).T, y[0]


def _is_affine(model: chainer.Link) -> bool:
    """Whether ``model``'s outputs on random points are those of :func:`_affine_map` (up to float32 rounding)."""
    A, c = _affine_map(model)
    points = numpy.random.default_rng(0).uniform(-2, 3, size=(64, 2))
    y = raw_outputs(model, points).astype(numpy.float64)
    return bool(numpy.allclose(y, points @ A.T + c, rtol=1e-4, atol=1e-4 * (1 + numpy.abs(y).max())))


def _check_linear_net(model, name: str, gate: str) -> None:
    """:class:`Wrong` unless ``model`` is a link with two or more linear layers that computes an affine function."""
    if model is None:
        raise Wrong(f"build a LinearTwoLayerNet (fc1 and fc2, nothing between them), train it on {gate.upper()}, "
                    f"then pass it as {gate}_net.")
    if not isinstance(model, chainer.Link):
        raise Wrong(f"pass {name} itself (a chainer.Chain), not a {type(model).__name__}.")
    layers = _linear_layers(model)
    if len(layers) < 2:
        raise Wrong(f"{name} has {len(layers)} linear layer(s); the experiment needs two, one after the other "
                    "(fc1 = L.Linear(2, 2), fc2 = L.Linear(2, 2)).")
    y = raw_outputs(model, INPUTS)
    if y.shape != (4, 2):
        raise Wrong(f"for 4 rows {name} returned shape {y.shape}; the experiment uses two class scores, (4, 2).")
    if not numpy.isfinite(y).all():
        raise Wrong(f"{name} outputs NaN or infinity; the training diverged. Lower the learning rate.")
    bends = _bends(_function_names(model))
    if bends or not _is_affine(model):
        between = f"{', '.join(bends)} " if bends else "something that is not linear "
        raise Wrong(f"{name} still bends: it applies {between}between its layers. Leave fc2 to take fc1's output "
                    "as it is.")


@checker("two layers with nothing between them")
def check_linear_two_layers(xor_net, and_net, W, b) -> None:
    """Two ``LinearTwoLayerNet``s (two ``L.Linear``, nothing between) trained on XOR and on AND; ``W``, ``b``: the AND net as one layer.

    The check measures the nets: each has two linear layers and computes an affine function (no
    nonlinearity); training took ``xor_net`` as far as a line gets on XOR (loss about ln 2, the same
    answer on every row) and ``and_net`` to all four rows of AND; and ``OneLayerNet`` with ``W``
    (2, 2) and ``b`` (2,) gives the AND net's two scores for every input.
    """
    _check_linear_net(xor_net, "the XOR net", "xor")
    _check_linear_net(and_net, "the AND net", "and")
    _, t = truth_table("xor")
    loss = float(F.softmax_cross_entropy(raw_outputs(xor_net, INPUTS), t).array)
    probability = class1_probability(xor_net, INPUTS)
    if loss > numpy.log(2) + 0.02 or probability.max() - probability.min() > 0.05:
        raise Wrong(f"the XOR net's loss on the four XOR rows is {loss:.3f}: it has not been trained on XOR, or not "
                    "to the end. Train it with train_row_by_row on truth_table('xor', repeats=REPEATS), as in the lesson.")
    right = rows_right(and_net, "and")
    if right < 4:
        raise Wrong(f"the AND net gets {right}/4 rows of AND right: train it with train_row_by_row on "
                    "truth_table('and', repeats=REPEATS), as in the lesson (a new net, not the XOR one).")
    if W is None or b is None:
        raise Wrong("both nets are right; now give W (2 x 2) and b (2 numbers) of the one layer that computes the "
                    "AND net's scores, worked out from its trained weights.")
    W = numpy.asarray(W, dtype=numpy.float64)
    b = numpy.asarray(b, dtype=numpy.float64)
    if W.shape != (2, 2):
        raise Wrong(f"W has shape {W.shape}; Linear(2, 2).W has shape (2, 2), one row of 2 input weights per output.")
    if b.shape != (2,):
        raise Wrong(f"b has shape {b.shape}; Linear(2, 2).b holds one number per output, shape (2,).")
    A, c = _affine_map(and_net)
    scale = 1e-3 * (1 + numpy.abs(A).max() + numpy.abs(c).max())
    W_right, b_right = numpy.allclose(W, A, atol=scale), numpy.allclose(b, c, atol=scale)
    if W_right and b_right:
        return
    layers = _linear_layers(and_net)[:2]
    weights = [layer.W.array.astype(numpy.float64) for layer in layers]
    biases = [layer.b.array.astype(numpy.float64) for layer in layers if layer.b is not None]
    if not W_right and numpy.allclose(W.T, A, atol=scale):
        raise Wrong("W is transposed: row k of W holds the input weights of output k, as in Linear.W.")
    if not W_right and any(numpy.allclose(W, first @ second, atol=scale) for first, second in (weights, weights[::-1])):
        raise Wrong("W multiplies the two weight matrices in the wrong order: which layer meets the input first?")
    if W_right and any(numpy.allclose(b, candidate, atol=scale) for candidate in [*biases, sum(biases)]):
        raise Wrong("W is right, but b misses part of the first layer's bias: on its way out, that bias passes "
                    "through the second layer's weights too.")
    what = "W and b are" if not (W_right or b_right) else ("W is" if not W_right else "b is")
    raise Wrong(f"{what} not those of the AND net: write out fc2(fc1(x)) with each layer's W and b, then collect "
                "the terms that multiply x (that is W) and those that do not (that is b).")


@checker("a net of your own that computes XOR")
def check_xor_net(model) -> None:
    """``model``: a trained Chainer link with ``F.tanh`` in it, 2 inputs -> 2 class scores (or 1 output), right on all 4 XOR rows."""
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
    names = _function_names(model)
    if "Tanh" not in names:
        if "Sigmoid" in names:
            raise Wrong("your net uses F.sigmoid, as the lesson's TwoLayerNet does; the exercise asks for F.tanh "
                        "between the layers.")
        used = ", ".join(sorted(names)) or "no Chainer functions"
        raise Wrong(f"the exercise asks for F.tanh between the layers; your net's graph has {used}.")
    answers = tuple(int(a) for a in predict_classes(model, INPUTS))
    if answers == GATES["xor"]:
        return
    right = sum(a == t for a, t in zip(answers, GATES["xor"]))
    raise Wrong(f"your net gets {right}/4 rows right (wrong on {_wrong_rows(answers, GATES['xor'])}). "
                "Has it been trained? If so, a net this small sometimes gets stuck, as in the lesson: "
                "try another seed or more repeats.")
