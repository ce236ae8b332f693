"""Learning to rank on the course's loop: batches of rated images, and NDCG@k on held-out images every epoch.

:func:`train_ranknet` trains a score network with RankNet's pairwise loss on every pair within each
batch; :func:`train_pointwise` trains the same kind of network on the ratings themselves (the
baseline). Both draw the same shuffled batches of images, run under
:func:`course.training.run_trainer` (so they log to ``out/log.json``, snapshot and resume, show a
progress bar and, in a notebook, a live plot), and report the same held-out numbers:
``validation/main/ndcg@K`` and ``validation/main/accuracy`` (the fraction of pairs in the right order).
"""
from __future__ import annotations

import os

import chainer
import numpy
from chainer.training import extension

from course.data.ranking import check_ratings
from course.device import get_device
from course.losses import PointwiseRegressor, RankNet, pair_target
from course.metrics import ndcg_at_k, pair_accuracy
from course.models.core import predict
from course.seed import set_seed
from course.training.loop import History, fit
from course.training.updater import make_converter


@chainer.dataset.converter()
def pair_converter(batch, device):
    """A batch of ``(image, rating)`` -> images and the (N, N) matrix ``S_ij``, on ``device``.

    The ratings stop here: the model learns from ``S_ij`` (which image of each pair is rated higher)
    only, never from the ratings' values.
    """
    x, ratings = chainer.dataset.concat_examples(batch)
    return device.send(x), device.send(pair_target(ratings[:, None], ratings[None, :]))


class RankingEvaluator(extension.Extension):
    """Score held-out images with ``predictor`` and report NDCG@k and pair accuracy (once an epoch by default).

    Reports ``<name>/main/ndcg@<k>`` and ``<name>/main/accuracy``; under ``run_trainer`` the name is
    ``validation``. Call it without a trainer to get the same numbers as a dict.
    """

    trigger = (1, "epoch")
    priority = extension.PRIORITY_WRITER
    name = "validation"

    def __init__(self, predictor: chainer.Link, images: numpy.ndarray, ratings: numpy.ndarray, *,
                 k: int = 10, device=None):
        self.predictor, self.images, self.ratings = predictor, images, ratings
        self.k, self.device = k, device

    def __call__(self, trainer=None) -> dict[str, float]:
        scores = predict(self.predictor, self.images, device=self.device)
        result = {
            f"{self.name}/main/ndcg@{self.k}": ndcg_at_k(self.ratings, scores, self.k),
            f"{self.name}/main/accuracy": pair_accuracy(self.ratings, scores),
        }
        if trainer is not None:
            chainer.report(result)
        return result


def _train(model: chainer.Chain, converter, train, validation, *, epochs: int, batch_size: int, lr: float,
           k: int, out, seed: int, device, snapshot_every: int, progress: bool, live_plot: bool | None,
           title: str) -> History:
    """Check the data, then train ``model`` (RankNet or PointwiseRegressor) with Adam under :func:`course.training.loop.fit`."""
    x, ratings = train
    train = (x, check_ratings(x, ratings))
    if len(x) < batch_size:
        raise ValueError(f"{len(x)} training images, fewer than batch_size={batch_size}; lower batch_size")
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 1:
        raise ValueError(f"k must be a whole number >= 1 (how many top items NDCG@k counts), not {k!r}")
    evaluator = None
    if validation is not None:
        validation = (validation[0], check_ratings(*validation))
        if validation[1].min() < 0:
            raise ValueError(f"NDCG needs held-out ratings >= 0, but one is {validation[1].min():g}: shift them, "
                             f"e.g. ratings - ratings.min()")
    device = get_device(device)
    set_seed(seed)
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(model)
    if validation is not None:
        evaluator = RankingEvaluator(model.predictor, *validation, k=k, device=device)
    return fit(optimizer, train, {"model": model.predictor}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, converter=converter, evaluator=evaluator, snapshot_every=snapshot_every,
               progress=progress, live_plot=live_plot, title=title)


def train_ranknet(
    predictor: chainer.Link,
    train: tuple[numpy.ndarray, numpy.ndarray],
    validation: tuple[numpy.ndarray, numpy.ndarray] | None = None,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    k: int = 10,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    device=None,
    snapshot_every: int = 500,
    progress: bool = True,
    live_plot: bool | None = None,
    title: str = "",
) -> History:
    """Train ``predictor`` (images -> one score each) with RankNet's pairwise loss and Adam.

    ``train`` and ``validation`` are ``(images, ratings)``. Each step takes ``batch_size`` shuffled
    training images and averages the loss over all their pairs, given only ``S_ij`` for each pair
    (see :func:`pair_converter`). After every epoch the held-out images are ranked by score, and
    ``validation/main/ndcg@k`` and ``validation/main/accuracy`` are logged. Writes ``out/model.npz``
    (the predictor) and ``out/log.json``, and resumes from snapshots in ``out``, like
    :func:`course.train_classifier`. Call :func:`course.set_seed` before building ``predictor``.
    """
    return _train(RankNet(predictor), pair_converter, train, validation, epochs=epochs, batch_size=batch_size,
                  lr=lr, k=k, out=out, seed=seed, device=device, snapshot_every=snapshot_every,
                  progress=progress, live_plot=live_plot, title=title)


def train_pointwise(
    predictor: chainer.Link,
    train: tuple[numpy.ndarray, numpy.ndarray],
    validation: tuple[numpy.ndarray, numpy.ndarray] | None = None,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    k: int = 10,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    device=None,
    snapshot_every: int = 500,
    progress: bool = True,
    live_plot: bool | None = None,
    title: str = "",
) -> History:
    """The baseline: train ``predictor`` to output each training image's rating (mean squared error, Adam).

    The same batches, arguments, logged keys and files as :func:`train_ranknet`; only the loss
    differs, and this model does see the ratings' values.
    """
    return _train(PointwiseRegressor(predictor), make_converter(), train, validation, epochs=epochs,
                  batch_size=batch_size, lr=lr, k=k, out=out, seed=seed, device=device,
                  snapshot_every=snapshot_every, progress=progress, live_plot=live_plot, title=title)
