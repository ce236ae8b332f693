"""Lesson 2: the MNIST CNN, trained and evaluated as ``python -m course train|evaluate mnist`` does."""
from __future__ import annotations

import os
from pathlib import Path

from course.data.augment import random_shift
from course.data.mnist import MnistData, download_mnist, load_mnist, load_mnist_idx
from course.metrics import accuracy, predict
from course.models.mnist import MnistCNN
from course.profiles import sizes
from course.seed import set_seed
from course.training import History, load_model, train_classifier


def mnist_augmenter(shift: int):
    """The augmentation of the MNIST profile: random shifts of up to ``shift`` pixels (None for 0)."""
    return (lambda images: random_shift(images, shift)) if shift else None


def train_mnist(out: str | os.PathLike, *, profile: str | None = None, device=None, source: str = "auto",
                progress: bool = True, live_plot: bool | None = None) -> tuple[MnistCNN, History, MnistData]:
    """Train lesson 2's CNN with the profile's sizes; writes ``out/model.npz`` and ``out/log.json``.

    Run again with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = sizes("mnist", profile)
    data = load_mnist(source).limit(size["train_limit"])
    set_seed(0)
    model = MnistCNN()
    history = train_classifier(
        model, data.train, data.test,
        epochs=size["cnn_epochs"], batch_size=size["batch_size"], lr=size["lr"], out=out, device=device,
        augment=mnist_augmenter(size["augment_shift"]), snapshot_every=size["snapshot_every"],
        progress=progress, live_plot=live_plot, title="CNN on MNIST",
    )
    return model, history, data


def evaluate_mnist(model_path: str | os.PathLike, data_dir: str | os.PathLike, *, device=None) -> float:
    """Accuracy of the CNN saved at ``model_path`` on the t10k IDX files in ``data_dir`` (any IDX, not only official)."""
    model = load_model(MnistCNN(), Path(model_path))
    x, t = load_mnist_idx(data_dir, "t10k", verify=False)
    return accuracy(predict(model, x, device=device), t)


METRIC = "validation/main/accuracy"
train = train_mnist
evaluate = evaluate_mnist
download = download_mnist
