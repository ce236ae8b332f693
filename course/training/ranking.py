"""Learning to rank on the course's loop: batches of rated images, and NDCG@k on held-out images every epoch.

:func:`train_ranknet` trains a score network with RankNet's pairwise loss on every pair within each
batch (or with a pairwise loss of your own); :func:`train_pointwise` trains the same kind of network
on the ratings themselves (the baseline). Both draw the same shuffled batches of images, run under
:func:`course.training.run_trainer` (so they log to ``out/log.json``, snapshot and resume, show a
progress bar and, in a notebook, a live plot), and report the same held-out numbers:
``validation/main/ndcg@K`` and ``validation/main/accuracy`` (the fraction of pairs in the right order).

One training run is one draw of the starting weights and of the order of the batches.
:func:`compare_rankers` trains RankNet and the baseline once per seed and keeps every held-out
figure (:func:`ranking_figures`: NDCG at several depths and pair accuracy), so a difference between
them can be set against the spread between seeds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import chainer
import numpy
from chainer.training import extension

from course.data.ranking import check_ratings
from course.device import get_device
from course.files import check_writable_folder
from course.losses import PointwiseRegressor, RankNet, all_pairs, pair_target
from course.metrics import mean_and_spread, ndcg_at_k, pair_accuracy
from course.models.core import predict
from course.seed import set_seed
from course.training.loop import History, fit
from course.training.updater import make_converter

BatchLoss = Callable[[chainer.Variable, numpy.ndarray], chainer.Variable]
"""A pairwise loss of a whole batch: ``loss(scores, s_ij)``, scores (N,) as a Variable and the (N, N) targets."""


@chainer.dataset.converter()
def pair_converter(batch, device):
    """A batch of ``(image, rating)`` -> images and the (N, N) matrix ``S_ij``, on ``device``.

    The ratings stop here: the model learns from ``S_ij`` (which image of each pair is rated higher)
    only, never from the ratings' values.
    """
    x, ratings = chainer.dataset.concat_examples(batch)
    return device.send(x), device.send(pair_target(ratings[:, None], ratings[None, :]))


class PairwiseRanker(chainer.Chain):
    """``predictor`` trained with any pairwise loss of a batch: ``model(x, s_ij)`` is ``loss(predictor(x), s_ij)``.

    ``loss(scores, s_ij)`` gets the batch's N scores (a Variable) and its (N, N) matrix of targets
    ``S_ij`` and returns one number as a Variable (e.g. :func:`course.losses.ranknet_loss` over the
    pairs it picks). Like :class:`course.losses.RankNet` it reports ``loss`` and ``accuracy``: the
    fraction of the batch's pairs i < j with different ratings that the scores put in the right order.
    """

    def __init__(self, predictor: chainer.Link, loss: BatchLoss):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor
        self.loss = loss

    def forward(self, x, s_ij):
        scores = self.predictor(x)
        loss = self.loss(scores, s_ij)
        if not isinstance(loss, chainer.Variable) or loss.size != 1:
            raise TypeError(f"loss(scores, s_ij) must return one number as a chainer.Variable (what ranknet_loss "
                            f"returns), so that it can backpropagate; it returned {type(loss).__name__}"
                            f"{'' if not hasattr(loss, 'shape') else f' of shape {loss.shape}'}")
        i, j = all_pairs(len(x), self.xp)
        d, target = scores.array[i] - scores.array[j], s_ij[i, j]
        ordered = target != 0
        agreement = self.xp.sign(d[ordered]) * target[ordered]  # 1 right, 0 tie, -1 wrong
        accuracy = ((agreement + 1) / 2).mean() if ordered.any() else self.xp.asarray(0.5, dtype=d.dtype)
        chainer.report({"loss": loss, "accuracy": accuracy}, self)
        return loss


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
    panels = {"loss": (("main/loss", "train"),),
              "pairs in order": (("main/accuracy", "train"), ("validation/main/accuracy", "held out")),
              f"NDCG@{k}": ((f"validation/main/ndcg@{k}", "held out"),)}
    return fit(optimizer, train, {"model": model.predictor}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, converter=converter, evaluator=evaluator, snapshot_every=snapshot_every,
               progress=progress, live_plot=live_plot, panels=panels, title=title)


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
    loss: BatchLoss | None = None,
) -> History:
    """Train ``predictor`` (images -> one score each) with RankNet's pairwise loss and Adam.

    ``train`` and ``validation`` are ``(images, ratings)``. Each step takes ``batch_size`` shuffled
    training images and averages the loss over all their pairs, given only ``S_ij`` for each pair
    (see :func:`pair_converter`). After every epoch the held-out images are ranked by score, and
    ``validation/main/ndcg@k`` and ``validation/main/accuracy`` are logged. Writes ``out/model.npz``
    (the predictor) and ``out/log.json``, and resumes from snapshots in ``out``, like
    :func:`course.train_classifier`. Call :func:`course.set_seed` before building ``predictor``.

    ``loss(scores, s_ij)``, when given, replaces RankNet's loss over all pairs with a pairwise loss of
    your own over the batch's scores and targets (see :class:`PairwiseRanker`); the rest is the same.
    """
    model = RankNet(predictor) if loss is None else PairwiseRanker(predictor, loss)
    return _train(model, pair_converter, train, validation, epochs=epochs, batch_size=batch_size,
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


def ranking_figures(ratings, scores, ks: Sequence[int] = (10, 100)) -> dict[str, float]:
    """How good the order by ``scores`` is: ``ndcg@k`` for each of ``ks``, ``ndcg`` over the whole list, ``pairs``.

    ``pairs`` is :func:`course.metrics.pair_accuracy`, the fraction of pairs with different ratings
    in the right order; the NDCGs use the exponential gain ``2^rating - 1``.
    """
    figures = {f"ndcg@{k}": ndcg_at_k(ratings, scores, k) for k in ks}
    figures["ndcg"] = ndcg_at_k(ratings, scores, len(ratings))
    figures["pairs"] = pair_accuracy(ratings, scores)
    return figures


@dataclass(frozen=True)
class RankingComparison:
    """Held-out figures of several ways to train a ranker, each trained once per seed (:func:`compare_rankers`).

    ``figures[method][name]`` holds one value per seed of ``seeds`` (``name`` as in
    :func:`ranking_figures`); ``scores[method]`` the held-out scores of each seed's model, and ``test``
    the held-out ``(images, ratings)`` they were measured on.
    """

    seeds: tuple[int, ...]
    figures: dict[str, dict[str, numpy.ndarray]]
    scores: dict[str, list[numpy.ndarray]]
    test: tuple[numpy.ndarray, numpy.ndarray]

    @property
    def methods(self) -> list[str]:
        """The methods compared, in the order they were trained."""
        return list(self.figures)

    def spread(self, method: str, name: str) -> tuple[float, float]:
        """Mean and standard deviation over the seeds of ``method``'s figure ``name``."""
        return mean_and_spread(self.figures[method][name])

    def difference(self, name: str, first: str, second: str) -> tuple[float, float]:
        """Mean and standard deviation over the seeds of ``first``'s figure minus ``second``'s, seed by seed."""
        return mean_and_spread(self.figures[first][name] - self.figures[second][name])

    def table(self) -> str:
        """One row per figure: each method's mean ± standard deviation, and the first two methods' difference."""
        first, second = self.methods[:2]
        names = list(self.figures[first])
        lines = [f"{'over ' + str(len(self.seeds)) + ' seeds':15}" + "".join(f"{m:>17}" for m in self.methods)
                 + f"{first + ' - ' + second:>22}"]
        for name in names:
            cells = "".join("{:>17}".format("{:.3f} ± {:.3f}".format(*self.spread(m, name))) for m in self.methods)
            lines.append(f"{name:15}{cells}" + "{:>22}".format("{:+.3f} ± {:.3f}".format(
                *self.difference(name, first, second))))
        return "\n".join(lines)


def compare_rankers(
    build: Callable[[], chainer.Link],
    train: tuple[numpy.ndarray, numpy.ndarray],
    test: tuple[numpy.ndarray, numpy.ndarray],
    *,
    seeds: Iterable[int],
    epochs: int,
    out: str | os.PathLike,
    batch_size: int = 64,
    lr: float = 1e-3,
    ks: Sequence[int] = (10, 100),
    k: int = 10,
    snapshot_every: int = 500,
    device=None,
    progress: bool = True,
) -> RankingComparison:
    """Train RankNet (:func:`train_ranknet`) and the pointwise baseline (:func:`train_pointwise`) once per seed.

    For each seed, :func:`course.set_seed` is called and ``build()`` makes a fresh score network, so
    the seed sets both the starting weights and the order of the batches. Each run writes to
    ``out/ranknet/seed<N>`` or ``out/pointwise/seed<N>``; a run already finished there (e.g. the
    one you trained yourself with the same settings) is loaded from its snapshot, not trained again.
    The held-out ``test`` images are scored by every model (:func:`ranking_figures` with ``ks``).
    ``k`` is the NDCG@k logged during training.
    """
    from tqdm.auto import tqdm

    seeds = tuple(int(seed) for seed in seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"give two or more different seeds, so that there is a spread to measure, not {seeds}")
    out = check_writable_folder(out)
    methods = {"RankNet": ("ranknet", train_ranknet), "pointwise": ("pointwise", train_pointwise)}
    found: dict[str, dict[str, list[float]]] = {method: {} for method in methods}
    scores: dict[str, list[numpy.ndarray]] = {method: [] for method in methods}
    with tqdm(total=len(seeds) * len(methods), desc="seeds", unit="run", disable=not progress) as bar:
        for seed in seeds:
            for method, (folder, train_function) in methods.items():
                set_seed(seed)
                model = build()
                train_function(model, train, test, epochs=epochs, batch_size=batch_size, lr=lr, k=k,
                               out=out / folder / f"seed{seed}", seed=seed, device=device,
                               snapshot_every=snapshot_every, progress=False, live_plot=False)
                predicted = predict(model, test[0], device=device)
                scores[method].append(predicted)
                for name, value in ranking_figures(test[1], predicted, ks).items():
                    found[method].setdefault(name, []).append(value)
                bar.set_postfix(seed=seed, refresh=False)
                bar.update()
    figures = {method: {name: numpy.asarray(values) for name, values in by_name.items()}
               for method, by_name in found.items()}
    return RankingComparison(seeds, figures, scores, test)
