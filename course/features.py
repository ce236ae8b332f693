"""Image features for a classic classifier: raw pixels, or a trained CNN's layer, judged by a random forest.

A CNN trained on one task computes, layer by layer, descriptions of its input that become more and
more specific to that task: the first layers respond to strokes and edges that any digit has, the
last one to "how much like a 3 is this". To reuse a CNN for a task it was not trained on, take the
output of an intermediate layer and train a new, cheap classifier on it; here a random forest
(scikit-learn), and the comparison is the forest's accuracy on held-out examples, layer by layer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import chainer
import numpy

from course.device import get_device
from course.models.mnist import MnistCNN

FEATURE_LAYERS = ("pixels",) + MnistCNN.LAYERS
"""What :func:`features_by_layer` can return: the raw pixels, or the output of one of MnistCNN's layers."""


def select_digits(pair: tuple[numpy.ndarray, numpy.ndarray],
                  digits: Iterable[int]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The ``(images, labels)`` of ``pair`` whose label is one of ``digits``, labels unchanged, order kept."""
    x, t = pair
    digits = sorted(set(int(d) for d in digits))
    if not digits:
        raise ValueError("give at least one digit to select")
    keep = numpy.isin(t, digits)
    if not keep.any():
        raise ValueError(f"no example has a label in {digits}; the labels present are {sorted(set(t.tolist()))}")
    return x[keep], t[keep]


@dataclass(frozen=True)
class DigitSplit:
    """MNIST cut in two tasks: the ``known`` digits a CNN trains on, and the ``unseen`` ones it never sees.

    Each of the four parts is ``(images, labels)`` with the original labels (known digits are
    ``0 .. n_known - 1``, so they are also the CNN's class indices).
    """

    known_train: tuple[numpy.ndarray, numpy.ndarray]
    known_test: tuple[numpy.ndarray, numpy.ndarray]
    unseen_train: tuple[numpy.ndarray, numpy.ndarray]
    unseen_test: tuple[numpy.ndarray, numpy.ndarray]
    known: tuple[int, ...]
    unseen: tuple[int, ...]


def split_digits(train: tuple[numpy.ndarray, numpy.ndarray], test: tuple[numpy.ndarray, numpy.ndarray],
                 n_known: int = 5) -> DigitSplit:
    """Digits ``0 .. n_known - 1`` of ``train`` and ``test`` on one side, the other digits on the other."""
    if not 1 <= n_known <= 9:
        raise ValueError(f"n_known must leave digits on both sides: between 1 and 9, not {n_known}")
    known, unseen = tuple(range(n_known)), tuple(range(n_known, 10))
    return DigitSplit(select_digits(train, known), select_digits(test, known),
                      select_digits(train, unseen), select_digits(test, unseen), known, unseen)


def features_by_layer(model: MnistCNN, x: numpy.ndarray, layers: Sequence[str], *, batch_size: int = 500,
                      device=None, flat: bool = True) -> dict[str, numpy.ndarray]:
    """For each of ``layers``, one row of features per image of ``x``: the raw pixels or ``model``'s layer.

    Layer outputs (see :meth:`MnistCNN.activations`) are computed in test mode, batch by batch on
    ``device``, in one pass up to the deepest layer asked for, and flattened to ``(N, values)``
    float32 on the CPU. ``"pixels"`` is the images themselves, flattened. ``flat=False`` keeps each
    layer's own shape instead, e.g. ``(N, 32, 14, 14)`` for conv1's 32 maps, to look at.
    """
    unknown = [layer for layer in layers if layer not in FEATURE_LAYERS]
    if unknown or not layers:
        raise ValueError(f"layers must be some of {', '.join(FEATURE_LAYERS)}; got {list(layers)}")
    x = numpy.asarray(x)
    if len(x) == 0:
        raise ValueError("x holds no images")
    features = {}
    if "pixels" in layers:
        features["pixels"] = (x.reshape(len(x), -1) if flat else x).astype(numpy.float32, copy=False)
    wanted = [layer for layer in MnistCNN.LAYERS if layer in layers]
    if wanted:
        device = get_device(device)
        model.to_device(device)
        rows = {layer: [] for layer in wanted}
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            for start in range(0, len(x), batch_size):
                outputs = model.activations(device.send(x[start:start + batch_size]), last=wanted[-1])
                for layer in wanted:
                    h = outputs[layer].array
                    h = chainer.backend.CpuDevice().send(h)
                    rows[layer].append(h.reshape(len(h), -1) if flat else h)
        features.update((layer, numpy.concatenate(rows[layer])) for layer in wanted)
    return {layer: features[layer] for layer in layers}


@dataclass(frozen=True)
class ForestScore:
    """A random forest trained on one kind of features and scored on held-out examples.

    ``predicted`` and ``labels`` are the held-out predictions and true labels, ``classes`` the labels
    the forest knows (sorted), ``dimension`` the number of features per example and ``seconds`` the
    time to fit and predict. ``seed`` grew the forest.
    """

    layer: str
    accuracy: float
    predicted: numpy.ndarray
    labels: numpy.ndarray
    classes: numpy.ndarray
    dimension: int
    seconds: float
    seed: int = 0

    @property
    def right(self) -> numpy.ndarray:
        """One entry per held-out example: 1.0 where the forest's answer is its label, 0.0 where not."""
        return (self.predicted == self.labels).astype(numpy.float64)

    def confusion(self) -> numpy.ndarray:
        """``cm[i, j]``: how many held-out examples of ``classes[i]`` the forest called ``classes[j]``."""
        from sklearn.metrics import confusion_matrix

        return confusion_matrix(self.labels, self.predicted, labels=self.classes)


def fit_forest(features: numpy.ndarray, labels: numpy.ndarray, *, n_trees: int = 100, seed: int = 0):
    """A scikit-learn ``RandomForestClassifier`` of ``n_trees`` trees fitted to ``features`` (N, D), ``labels`` (N,).

    The same ``seed`` grows the same forest, whatever the number of CPU cores it is grown on.
    """
    from sklearn.ensemble import RandomForestClassifier

    features = numpy.asarray(features)
    labels = numpy.asarray(labels)
    if features.ndim != 2:
        raise ValueError(f"features must be 2-D, one row per example, not shape {features.shape}")
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} rows of features for {len(labels)} labels; they must match one to one")
    if len(features) == 0:
        raise ValueError("no examples to fit the forest to")
    if n_trees < 1:
        raise ValueError(f"n_trees must be at least 1, not {n_trees}")
    return RandomForestClassifier(n_estimators=n_trees, random_state=seed, n_jobs=-1).fit(features, labels)


def forest_score(train: tuple[numpy.ndarray, numpy.ndarray], test: tuple[numpy.ndarray, numpy.ndarray], *,
                 layer: str = "", n_trees: int = 100, seed: int = 0) -> ForestScore:
    """Fit :func:`fit_forest` to ``train`` = (features, labels) and score it on ``test`` = (features, labels)."""
    start = time.perf_counter()
    forest = fit_forest(*train, n_trees=n_trees, seed=seed)
    test_features, test_labels = (numpy.asarray(a) for a in test)
    if test_features.ndim != 2 or test_features.shape[1] != train[0].shape[1]:
        raise ValueError(f"test features have shape {test_features.shape}; the forest was fitted to "
                         f"{train[0].shape[1]} features per example")
    predicted = forest.predict(test_features)
    return ForestScore(layer, float((predicted == test_labels).mean()), predicted, test_labels,
                       forest.classes_, train[0].shape[1], time.perf_counter() - start, seed)


def compare_layers(model: MnistCNN, train: tuple[numpy.ndarray, numpy.ndarray],
                   test: tuple[numpy.ndarray, numpy.ndarray], layers: Sequence[str] = FEATURE_LAYERS, *,
                   n_trees: int = 100, seed: int = 0, device=None, progress: bool = True) -> dict[str, ForestScore]:
    """For each of ``layers``, a random forest on those features of ``train`` images, scored on ``test``.

    ``train`` and ``test`` are ``(images, labels)``; the labels need not be the ones ``model`` was
    trained on (that is the point: a new task on old features).
    """
    from tqdm.auto import tqdm

    train_features = features_by_layer(model, train[0], layers, device=device)
    test_features = features_by_layer(model, test[0], layers, device=device)
    scores = {}
    for layer in tqdm(layers, desc="random forests", unit="layer", disable=not progress):
        scores[layer] = forest_score((train_features[layer], train[1]), (test_features[layer], test[1]),
                                     layer=layer, n_trees=n_trees, seed=seed)
    return scores


def accuracies(scores: Mapping[str, ForestScore]) -> dict[str, float]:
    """``{layer: accuracy}`` of :func:`compare_layers`' result."""
    return {layer: score.accuracy for layer, score in scores.items()}


def forests_over_seeds(model: MnistCNN, train: tuple[numpy.ndarray, numpy.ndarray],
                       test: tuple[numpy.ndarray, numpy.ndarray], layers: Sequence[str], *, seeds: Iterable[int],
                       n_trees: int = 100, known: Mapping[str, ForestScore] | None = None, device=None,
                       progress: bool = True) -> dict[str, list[ForestScore]]:
    """The forests of :func:`compare_layers` grown once per seed: ``{layer: [ForestScore per seed]}``.

    A random forest draws its trees at random (each from a bootstrap sample of the examples, each
    split from a random subset of the features), so its accuracy moves from seed to seed; this
    measures how far. ``known`` holds scores already computed (e.g. :func:`compare_layers`' result
    for seed 0, with the same data and ``n_trees``): a layer's score there for the same seed is
    reused, not fitted again.
    """
    from tqdm.auto import tqdm

    seeds = [int(seed) for seed in seeds]
    known = dict(known or {})
    todo = [(layer, seed) for layer in layers for seed in seeds
            if not (layer in known and known[layer].seed == seed)]
    needed = sorted({layer for layer, _ in todo}, key=list(layers).index)
    train_features = features_by_layer(model, train[0], needed, device=device) if needed else {}
    test_features = features_by_layer(model, test[0], needed, device=device) if needed else {}
    fitted = {}
    for layer, seed in tqdm(todo, desc="random forests", unit="forest", disable=not progress):
        fitted[layer, seed] = forest_score((train_features[layer], train[1]), (test_features[layer], test[1]),
                                           layer=layer, n_trees=n_trees, seed=seed)
    return {layer: [fitted.get((layer, seed)) or known[layer] for seed in seeds] for layer in layers}
