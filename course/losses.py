"""The losses the seeds discuss, each named for what it is (Chainer functions: they backpropagate).

Besides the functions, two chains wrap a score network the way ``L.Classifier`` wraps a classifier:
:class:`RankNet` (lesson 5's pairwise loss over every pair of a batch) and :class:`PointwiseRegressor`
(the baseline, fitted to the ratings). Both ``chainer.report`` their ``loss`` and ``accuracy``, the
fraction of pairs with different ratings that the scores put in the right order.
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import numpy


def pair_target(rating_i, rating_j):
    """RankNet's ``S_ij``: 1 where item i is rated higher than item j, -1 where lower, 0 where equal.

    Works on numbers and on NumPy/CuPy arrays (element by element); returns float32.
    """
    xp = chainer.backend.get_array_module(rating_i, rating_j)
    return xp.sign(xp.asarray(rating_i, dtype=numpy.float32) - xp.asarray(rating_j, dtype=numpy.float32))


def _as_variable(value) -> chainer.Variable:
    if isinstance(value, chainer.Variable):
        return value
    xp = chainer.backend.get_array_module(value)
    return chainer.Variable(xp.asarray(value, dtype=numpy.float32))


def ranknet_loss(s_i, s_j, s_ij, reduce: str = "mean") -> chainer.Variable:
    """RankNet's pairwise loss for scores ``s_i``, ``s_j`` and targets ``s_ij`` in {1, 0, -1}.

    With ``d = s_i - s_j`` the loss of one pair is ``(1 - S_ij) / 2 * d + log(1 + exp(-d))``: the
    cross-entropy between the target probability ``(1 + S_ij) / 2`` that i ranks above j and the
    model's probability ``sigmoid(d)``. ``log(1 + exp(-d))`` is computed as ``softplus(-d)``, which
    neither overflows for very negative ``d`` nor rounds to 0 for large ``d``.
    Scores may be Variables (to backpropagate), arrays or numbers. ``reduce="mean"`` averages over
    the pairs; ``"no"`` returns one loss per pair.
    """
    if reduce not in ("mean", "no"):
        raise ValueError(f"reduce must be 'mean' or 'no', not {reduce!r}")
    d = _as_variable(s_i) - _as_variable(s_j)
    target = d.xp.asarray(chainer.as_array(s_ij), dtype=d.dtype)
    if target.shape != d.shape:
        raise ValueError(f"{d.size} score differences but S_ij has shape {target.shape}: give one target per pair")
    loss = (1 - target) / 2 * d + F.softplus(-d)
    return F.mean(loss) if reduce == "mean" else loss


def _ordered_right(d, s_ij):
    """Among pairs with ``S_ij != 0``, the fraction whose score difference ``d`` has the sign of ``S_ij`` (ties 1/2)."""
    xp = chainer.backend.get_array_module(d)
    d, s_ij = chainer.as_array(d), chainer.as_array(s_ij)
    ordered = s_ij != 0
    if not ordered.any():
        return xp.asarray(0.5, dtype=d.dtype)
    agreement = xp.sign(d[ordered]) * s_ij[ordered]  # 1 right, 0 tie, -1 wrong
    return ((agreement + 1) / 2).mean()


def all_pairs(n: int, xp=numpy) -> tuple:
    """Index arrays ``(i, j)`` of every pair ``i < j`` of ``n`` items: ``n * (n - 1) / 2`` pairs."""
    i, j = numpy.triu_indices(n, 1)
    return xp.asarray(i), xp.asarray(j)


class RankNet(chainer.Chain):
    """``predictor`` (images -> scores) trained on pairs: ``model(x, s_ij)`` is the mean pairwise loss.

    ``x`` is a batch of N images and ``s_ij`` the (N, N) matrix of targets ``S_ij`` (1 where image i
    is rated higher than image j, -1 where lower, 0 where equal). Every image is scored once, and all
    ``N * (N - 1) / 2`` pairs ``i < j`` of the batch enter the loss: far more pairs per step than
    scoring each pair's two images separately, for the same computation.
    """

    def __init__(self, predictor: chainer.Link):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor

    def forward(self, x, s_ij):
        scores = self.predictor(x)
        i, j = all_pairs(len(x), self.xp)
        s_ij = s_ij[i, j]
        loss = ranknet_loss(scores[i], scores[j], s_ij)
        chainer.report({"loss": loss, "accuracy": _ordered_right(scores.array[i] - scores.array[j], s_ij)}, self)
        return loss


class PointwiseRegressor(chainer.Chain):
    """The baseline: ``predictor`` fitted to the ratings themselves; ``model(x, ratings)`` is the mean squared error."""

    def __init__(self, predictor: chainer.Link):
        super().__init__()
        with self.init_scope():
            self.predictor = predictor

    def forward(self, x, ratings):
        scores = self.predictor(x)
        loss = F.mean_squared_error(scores, ratings)
        i, j = all_pairs(len(x), self.xp)  # every pair of the batch: is it in the right order?
        ordered = _ordered_right(scores.array[i] - scores.array[j], pair_target(ratings[i], ratings[j]))
        chainer.report({"loss": loss, "accuracy": ordered}, self)
        return loss


# --- GANs (lessons 6-8) ---------------------------------------------------------------------------
# A discriminator outputs one logit y per image: D = sigmoid(y) is its probability that the image is
# real. Written with softplus, log D = -softplus(-y) and log(1 - D) = -softplus(y), which stay exact
# where D is nearly 0 or 1 (log(sigmoid) would round to log(0)).

def discriminator_loss(real_logits, fake_logits) -> chainer.Variable:
    """The discriminator's loss of the original GAN: ``-E[log D(x)] - E[log(1 - D(G(z)))]``.

    Both expectations are means over their batch. At the equilibrium of the original paper
    (D = 1/2 everywhere) it is ``2 log 2`` (about 1.386), a yardstick for a training curve.
    """
    return F.mean(F.softplus(-real_logits)) + F.mean(F.softplus(fake_logits))


def minimax_generator_loss(fake_logits) -> chainer.Variable:
    """The generator's loss of the original minimax game: ``E[log(1 - D(G(z)))]``, minimised.

    Its gradient vanishes when D confidently rejects the samples (D(G(z)) near 0), which is how
    training starts: the generator learns slowly or not at all.
    """
    return -F.mean(F.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits) -> chainer.Variable:
    """The generator's loss that the original paper recommends in practice: ``-E[log D(G(z))]``.

    The same fixed point as the minimax loss, but a strong gradient exactly when D rejects the samples.
    """
    return F.mean(F.softplus(-fake_logits))


def log_ratio_generator_loss(fake_logits) -> chainer.Variable:
    """Seed 003's alternative generator update: maximise ``E[log(D / (1 - D))]``, i.e. minimise ``-E[y]``.

    ``log(D / (1 - D))`` is the logit ``y`` itself. The gradient is the same whatever D says, neither
    vanishing (minimax) nor exploding as D(G(z)) goes to 0 (non-saturating).
    """
    return -F.mean(fake_logits)


def critic_loss(real_scores, fake_scores) -> chainer.Variable:
    """The WGAN critic's loss: ``E[f(G(z))] - E[f(x)]`` (the critic maximises the gap between real and fake)."""
    return F.mean(fake_scores) - F.mean(real_scores)


def wasserstein_generator_loss(fake_scores) -> chainer.Variable:
    """The WGAN generator's loss: ``-E[f(G(z))]``: move the samples to where the critic scores real images."""
    return -F.mean(fake_scores)


GENERATOR_LOSSES = {
    "minimax": minimax_generator_loss,
    "non-saturating": non_saturating_generator_loss,
    "log-ratio": log_ratio_generator_loss,
    "wasserstein": wasserstein_generator_loss,
}
"""The generator losses by name, as :class:`course.training.GANUpdater` takes them."""


def clip_weights(link: chainer.Link, limit: float) -> None:
    """Clip every parameter of ``link`` into ``[-limit, limit]`` in place: WGAN's crude Lipschitz constraint."""
    if limit <= 0:
        raise ValueError(f"the clipping limit must be positive, not {limit}")
    for param in link.params():
        if param.array is not None:
            xp = chainer.backend.get_array_module(param.array)
            xp.clip(param.array, -limit, limit, out=param.array)


# --- super-resolution (lesson 7) ------------------------------------------------------------------

def pixel_mse(output, target) -> chainer.Variable:
    """The pixel loss: the mean over every pixel and channel of ``(output - target)^2``.

    Minimising it gives the mean of every picture that could have produced the input: on detail
    the low-resolution image does not determine, a blur (the highest PSNR, but soft).
    """
    return F.mean_squared_error(output, target)


def content_loss(features, output, target) -> chainer.Variable:
    """SRGAN's content loss: the mean squared difference between ``features(output)`` and ``features(target)``.

    ``features`` is a fixed network (the paper: VGG19's ``conv5_4``; offline, the course's own
    classifier, :mod:`course.models.content`) mapping images to feature maps. Two pictures that
    differ by a small shift of a texture differ a lot pixel by pixel but little in such features, so
    this loss blames the generator less for detail in the wrong place than for missing detail. The
    target's features carry no gradient; gradients reach only ``output``, through ``features``.
    """
    with chainer.no_backprop_mode():
        wanted = chainer.as_array(features(target))
    return F.mean_squared_error(features(output), wanted)


# --- colourisation (lesson 8) ---------------------------------------------------------------------

def pixel_l1(output, target) -> chainer.Variable:
    """The L1 pixel loss: the mean over every pixel and channel of ``|output - target|``.

    Where several colours are possible, MSE is smallest at their mean and L1 at their median: both
    settle on one compromise colour for every doubtful region, L1 a little less washed out (pix2pix).
    """
    return F.mean_absolute_error(output, target)


PIX2PIX_L1_WEIGHT = 100.0
"""pix2pix's weighting: G minimises the adversarial loss plus 100 times the L1 loss (images in [-1, 1])."""


def gan_l1_generator_loss(fake_logits, output, target, l1_weight: float = PIX2PIX_L1_WEIGHT) -> chainer.Variable:
    """pix2pix's generator loss: ``-E[log D(lines, G(lines))] + l1_weight * |G(lines) - target|_1``.

    The adversarial part (the non-saturating loss of the patch logits) pushes every patch towards
    colours D takes for real; the L1 part keeps the whole image close to the original.
    """
    return non_saturating_generator_loss(fake_logits) + l1_weight * pixel_l1(output, target)
