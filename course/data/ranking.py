"""Rated images for learning to rank: digits with a hidden rating, and folders of a person's own ratings.

A rated set is images plus one number per image, higher = preferred. RankNet never sees the numbers
themselves, only which image of a pair is rated higher.

- :func:`rank_digits`: MNIST digits (see :func:`course.data.load_mnist`) rated by their value, or by
  any function of the image and digit that you choose, turned into a few levels like a person's 1-5.
- :func:`save_rated` / :func:`load_rated`: a folder with ``images.npy`` (N images) and ``ratings.txt``
  (N lines, one rating each), the format the seed's scripts read; the rating panel saves this too.
- :func:`split_rated`: hold out part of a rated set, spread over the whole range of ratings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy

from course.data.mnist import load_mnist
from course.files import DataError, atomic_write
from course.images import as_batch

IMAGES_FILE = "images.npy"
RATINGS_FILE = "ratings.txt"


@dataclass(frozen=True)
class RankingData:
    """Images as float32 (N, C, H, W) and ratings as float32 (N,), for training and held out."""

    train: tuple[numpy.ndarray, numpy.ndarray]
    test: tuple[numpy.ndarray, numpy.ndarray]
    description: str


def check_ratings(images: numpy.ndarray, ratings) -> numpy.ndarray:
    """``ratings`` as float32 after checking they can teach an order of ``images``; else a clear ``ValueError``.

    There must be one finite rating per image and at least two different ratings (with all ratings
    equal there is no pair to learn an order from).
    """
    ratings = numpy.asarray(ratings)
    if ratings.dtype.kind not in "biuf":
        raise ValueError(f"ratings must be numbers, not {ratings.dtype} values")
    if ratings.ndim != 1:
        raise ValueError(f"ratings must hold one number per image (a 1-D array), not shape {ratings.shape}")
    if len(ratings) != len(images):
        raise ValueError(f"{len(images)} images but {len(ratings)} ratings: give exactly one rating per image, "
                         f"in the same order")
    bad = numpy.flatnonzero(~numpy.isfinite(ratings))
    if len(bad):
        raise ValueError(f"{len(bad)} ratings are NaN or infinite (at positions {bad[:5].tolist()}"
                         f"{'...' if len(bad) > 5 else ''}): rate those images, or leave them out of both "
                         f"images and ratings")
    if len(numpy.unique(ratings)) < 2:
        value = f" {ratings[0]:g}" if len(ratings) else ""
        raise ValueError(f"all {len(ratings)} ratings are{value}: with fewer than two different ratings there is "
                         f"no pair to learn an order from; rate some images higher or lower than others")
    return ratings.astype(numpy.float32)


def to_levels(values, levels: int = 5) -> numpy.ndarray:
    """Turn any numbers (higher = better) into ratings 1..``levels``, like a person's stars.

    With at most ``levels`` distinct values they become 1, 2, 3... in order; with more, they are cut
    at their quantiles into ``levels`` groups of about equal size.
    """
    values = numpy.asarray(values, dtype=numpy.float64)
    if isinstance(levels, bool) or not isinstance(levels, (int, numpy.integer)) or levels < 2:
        raise ValueError(f"levels must be a whole number >= 2, not {levels!r}")
    if values.ndim != 1 or not numpy.isfinite(values).all():
        raise ValueError(f"to_levels needs a 1-D array of finite numbers, not shape {values.shape} "
                         f"with {int((~numpy.isfinite(values)).sum())} NaN/inf")
    distinct = numpy.unique(values)
    if len(distinct) <= levels:
        return (numpy.searchsorted(distinct, values) + 1).astype(numpy.float32)
    edges = numpy.quantile(values, numpy.linspace(0, 1, levels + 1)[1:-1])
    return (numpy.searchsorted(edges, values, side="right") + 1).astype(numpy.float32)


Rating = Callable[[numpy.ndarray, numpy.ndarray], numpy.ndarray]


def rank_digits(rating: Rating | None = None, *, source: str = "auto", levels: int = 5,
                train_limit: int | None = None, verbose: bool = True) -> RankingData:
    """MNIST digits rated by their value (``rating=None``: 0 worst ... 9 best) or by ``rating``.

    ``rating(images, digits)`` gets all images (N, 1, 28, 28) and their digits (N,) and returns one
    number per image, higher = better; :func:`to_levels` turns those into 1..``levels``, using the
    same cut points for training and held-out digits. ``source`` and ``train_limit`` are those of
    :func:`course.data.load_mnist` and :meth:`MnistData.limit`.
    """
    data = load_mnist(source, verbose=verbose).limit(train_limit)
    (x, t), (x_test, t_test) = data.train, data.test
    if rating is None:
        ratings = numpy.concatenate([t, t_test]).astype(numpy.float32)
        what = "rated by their value (0 lowest, 9 highest)"
    else:
        images = numpy.concatenate([x, x_test])
        values = numpy.asarray(rating(images, numpy.concatenate([t, t_test])))
        if values.shape != (len(images),):
            raise ValueError(f"the rating function returned shape {values.shape} for {len(images)} images: "
                             f"it must return one number per image")
        ratings = to_levels(values, levels)
        name = getattr(rating, "__name__", "your rating")
        what = f"rated 1-{int(ratings.max())} by {name}"
    train_ratings = check_ratings(x, ratings[:len(x)])
    test_ratings = check_ratings(x_test, ratings[len(x):])
    return RankingData((x, train_ratings), (x_test, test_ratings), f"{data.description}; {what}")


def save_rated(directory: str | os.PathLike, images: numpy.ndarray, ratings) -> Path:
    """Write ``images.npy`` and ``ratings.txt`` (one rating a line) into ``directory``, each atomically.

    Images go through :func:`course.images.as_batch` (uint8 scaled to [0, 1]) and are stored as float32.
    """
    images = as_batch(images)
    ratings = check_ratings(images, ratings)
    directory = Path(directory)
    with atomic_write(directory / IMAGES_FILE, "wb") as f:
        numpy.save(f, images)
    with atomic_write(directory / RATINGS_FILE, "wb") as f:
        numpy.savetxt(f, ratings, fmt="%g")
    return directory


def load_rated(directory: str | os.PathLike) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Read ``images.npy`` and ``ratings.txt`` from ``directory``: float32 images (N, C, H, W) and ratings (N,).

    uint8 images are scaled to [0, 1]. Raises :class:`course.data.DataError` naming the file and the
    problem when a file is missing, unreadable, or the two do not fit together.
    """
    directory = Path(directory)
    images_path, ratings_path = directory / IMAGES_FILE, directory / RATINGS_FILE
    for path in (images_path, ratings_path):
        if not path.exists():
            raise DataError(f"{path} does not exist. A rated folder holds {IMAGES_FILE} (N images) and "
                            f"{RATINGS_FILE} (N lines, one rating each); the rating panel's save() writes both.")
    try:
        images = as_batch(numpy.load(images_path, allow_pickle=False))
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"{images_path} is not a NumPy array of images ({error}): write it with numpy.save "
                        f"from an (N, H, W) or (N, C, H, W) array.") from None
    try:
        ratings = numpy.loadtxt(ratings_path, dtype=numpy.float64, ndmin=1)
    except ValueError as error:
        raise DataError(f"{ratings_path} must hold one number a line ({error}).") from None
    try:
        return images, check_ratings(images, ratings)
    except ValueError as error:
        raise DataError(f"{directory}: {error}.") from None


def split_rated(images: numpy.ndarray, ratings, *, test_every: int = 5, seed: int = 0,
                description: str = "your rated images") -> RankingData:
    """Hold out every ``test_every``-th image in order of rating (ties in random order); train on the rest.

    Taking them in order of rating spreads the held-out images over the whole range of ratings,
    which a purely random split of a small set may not.
    """
    images = as_batch(images)
    ratings = check_ratings(images, ratings)
    if isinstance(test_every, bool) or not isinstance(test_every, (int, numpy.integer)) or test_every < 2:
        raise ValueError(f"test_every must be a whole number >= 2, not {test_every!r}")
    if len(ratings) < 2 * test_every:
        raise ValueError(f"only {len(ratings)} rated images: rate at least {2 * test_every} so that "
                         f"some can be held out")
    shuffled = numpy.random.RandomState(seed).permutation(len(ratings))
    by_rating = shuffled[numpy.argsort(ratings[shuffled], kind="stable")]
    test = numpy.zeros(len(ratings), bool)
    test[by_rating[test_every // 2::test_every]] = True
    train_index, test_index = numpy.flatnonzero(~test), numpy.flatnonzero(test)
    for part, index in (("training", train_index), ("held-out", test_index)):
        if len(numpy.unique(ratings[index])) < 2:
            raise ValueError(f"the {len(index)} {part} images would all have the same rating "
                             f"({ratings[index][0]:g}): rate more images, at different levels")
    return RankingData((images[train_index], ratings[train_index]), (images[test_index], ratings[test_index]),
                       f"{description}: {len(train_index)} for training, {len(test_index)} held out")
