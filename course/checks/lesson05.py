"""Lesson 5 (RankNet) exercise checkers: one pair's loss, the loss of a tie, RankNet without the ties (its loss,
then the network trained with it, measured), NDCG by hand."""
from __future__ import annotations

import math

import chainer
import numpy

from course.checks import Wrong, as_number, call_answer, checker, require_function
from course.losses import all_pairs, pair_target, ranknet_loss
from course.models import predict
from course.training.ranking import ranking_figures


def _number(value, what: str) -> float:
    value = as_number(value, f"answer {what} with one number, not {value!r}")
    if not math.isfinite(value):
        raise Wrong(f"{what} came out as {value}: a finite number was expected")
    return value


def _batch(ratings, seed: int) -> tuple[chainer.Variable, numpy.ndarray]:
    """Scores of a made-up batch (a Variable, to backpropagate) and its (N, N) targets S_ij."""
    ratings = numpy.asarray(ratings, dtype=numpy.float32)
    scores = numpy.random.RandomState(seed).randn(len(ratings)).astype(numpy.float32)
    return chainer.Variable(scores), pair_target(ratings[:, None], ratings[None, :])


def _untied_loss(scores, s_ij):
    """RankNet's loss averaged over the pairs i < j whose ratings differ (what the exercise asks for)."""
    i, j = all_pairs(len(scores))
    keep = s_ij[i, j] != 0
    return ranknet_loss(scores[i[keep]], scores[j[keep]], s_ij[i[keep], j[keep]])


# Made-up batches: ties between several ratings, a rating higher than everything after it (S_ij = 1
# only above the diagonal would be wrong), and no tie at all.
_BATCHES = [("a batch of 8 with three tied pairs", [3, 1, 2, 2, 3, 0, 1, 4], 0),
            ("a batch of 6 rated from high to low, one tie", [5, 4, 4, 2, 1, 0], 1),
            ("a batch of 5 without ties", [0, 3, 1, 4, 2], 2)]


def _other_losses(scores, s_ij) -> dict[str, float]:
    """What typical wrong versions of the untied loss return on one batch."""
    i, j = all_pairs(len(scores))
    d, target = scores.array[i] - scores.array[j], s_ij[i, j]
    per_pair = (1 - target) / 2 * d + numpy.logaddexp(0, -d)
    untied, higher = target != 0, target == 1
    return {"all pairs": per_pair.mean(), "summed": per_pair[untied].sum(),
            "divided by all pairs": per_pair[untied].sum() / len(per_pair),
            "only S_ij = 1": per_pair[higher].mean() if higher.any() else numpy.nan}


@checker("RankNet's loss without the ties")
def check_untied_loss(loss) -> None:
    """``loss(scores, s_ij)`` must average RankNet's loss over the pairs i < j with S_ij != 0 only, as a Variable."""
    require_function(loss, "check_untied_loss(my_untied_loss)")
    for description, ratings, seed in _BATCHES:
        scores, s_ij = _batch(ratings, seed)
        value = call_answer(loss, scores, s_ij.copy(), case=description)
        if not isinstance(value, chainer.Variable):
            raise Wrong(f"on {description} it returned {type(value).__name__}, not a chainer.Variable: compute the "
                        f"loss from the Variable scores with Chainer functions (ranknet_loss), so that training "
                        f"can backpropagate through it")
        number = _number(value, f"the loss on {description}")
        expected = float(_untied_loss(scores, s_ij).array)
        if abs(number - expected) > 1e-4 * max(1.0, abs(expected)):
            others = _other_losses(scores, s_ij)
            if abs(number - others["all pairs"]) < 1e-4:
                raise Wrong(f"on {description} it gives RankNet's loss over all pairs: the pairs rated equal "
                            f"(S_ij = 0) still count; keep only the pairs i < j whose S_ij is not 0")
            if abs(number - others["only S_ij = 1"]) < 1e-4:
                raise Wrong(f"on {description} it also drops the pairs where j is rated higher (S_ij = -1); "
                            f"leave out the ties only")
            if abs(number - others["summed"]) < 1e-3:
                raise Wrong(f"on {description} it adds the pairs' losses up; average them (ranknet_loss's default), "
                            f"or the size of every step depends on how many pairs a batch has")
            if abs(number - others["divided by all pairs"]) < 1e-4:
                raise Wrong(f"on {description} it divides by the number of all pairs, ties included; average over "
                            f"the pairs you keep")
            raise Wrong(f"on {description} it gives {number:.4f}, but RankNet's loss averaged over the pairs i < j "
                        f"with S_ij != 0 is {expected:.4f}")
        value.grad = None
        scores.cleargrad()
        value.backward()
        if scores.grad is None or not numpy.isfinite(scores.grad).all() or not numpy.abs(scores.grad).sum():
            raise Wrong(f"on {description} the loss does not reach the scores: compute it from the Variable "
                        f"scores (scores[i], not scores.array[i]), so that the network learns from it")


@checker("RankNet trained without the ties")
def check_untied_ranker(model, comparison) -> None:
    """``model`` must be a score network newly trained (with the untied loss); measured on the held-out digits.

    ``comparison`` is the lesson's :class:`course.training.ranking.RankingComparison`: the model is
    scored on its held-out digits, and its figures are printed beside those of RankNet with the ties.
    """
    if not isinstance(model, chainer.Link):
        raise Wrong(f"pass the score network you trained with loss=my_untied_loss, not {type(model).__name__}")
    images, ratings = comparison.test
    scores = predict(model, images)
    if numpy.shape(scores) != numpy.shape(ratings):
        raise Wrong(f"the model gives scores of shape {numpy.shape(scores)} for {len(ratings)} held-out digits: "
                    f"pass the ScoreCNN you trained, which gives one score per image")
    figures = ranking_figures(ratings, scores)
    if any(numpy.allclose(scores, seen, atol=1e-6) for seen in comparison.scores["RankNet"]):
        raise Wrong("this model scores the held-out digits exactly like one of the lesson's RankNets, trained on "
                    "every pair: build a new ScoreCNN and train it with loss=my_untied_loss")
    if figures["pairs"] < 0.75:
        raise Wrong(f"the model puts only {figures['pairs']:.1%} of the held-out pairs in order (a random order "
                    f"puts half): train it with loss=my_untied_loss first, for the lesson's epochs")
    print(f"held out, without the ties: NDCG@100 {figures['ndcg@100']:.3f}, pairs in order {figures['pairs']:.3f}; "
          f"RankNet with them over {len(comparison.seeds)} seeds: "
          + ", ".join("{} {:.3f} ± {:.3f}".format(label, *comparison.spread("RankNet", name))
                      for label, name in (("NDCG@100", "ndcg@100"), ("pairs", "pairs"))))


_S_I, _S_J = 1.5, 0.5  # scores of the pair in the exercise; image j is the one rated higher (S_ij = -1)


def _pair_loss(d: float, s_ij: float) -> float:
    return (1 - s_ij) / 2 * d + math.log1p(math.exp(-d))


@checker("the loss of one pair")
def check_pair_loss(answer) -> None:
    """``answer`` = RankNet's loss for scores s_i = 1.5, s_j = 0.5 when image j is rated higher."""
    value = _number(answer, "the loss")
    d = _S_I - _S_J
    expected = _pair_loss(d, -1)
    if abs(value - expected) < 1e-3:
        return
    if abs(value - _pair_loss(d, 1)) < 1e-3:
        raise Wrong(f"{value:.4f} is the loss if image i were the preferred one (S_ij = 1); here j is rated "
                    f"higher, so S_ij = -1 and the first term (1 - S_ij)/2 * d no longer vanishes")
    if abs(value - _pair_loss(d, 0)) < 1e-3:
        raise Wrong(f"{value:.4f} uses S_ij = 0 (a tie); j is rated higher, so S_ij = -1")
    if abs(value - ((1 + 1) / 2 * d + math.log2(1 + math.exp(-d)))) < 1e-3:
        raise Wrong("the log in RankNet's loss is the natural logarithm (numpy.log), not log2")
    if abs(value - ((1 + 1) / 2 * d + math.log1p(math.exp(d)))) < 1e-3:
        raise Wrong("the second term is log(1 + exp(-d)), with a minus sign: d = s_i - s_j = 1, so exp(-1)")
    if value < 0:
        raise Wrong(f"{value:.4f} is negative, but RankNet's loss is a cross-entropy, never below 0")
    raise Wrong(f"{value:.4f} is not it. With d = s_i - s_j = {d:g} and S_ij = -1, compute "
                f"(1 - S_ij)/2 * d + log(1 + exp(-d))")


@checker("the loss of a tie")
def check_tie_minimum(answer) -> None:
    """``answer`` = (d where the loss with S_ij = 0 is lowest, the loss there): (0, log 2)."""
    try:
        d, loss = answer
    except (TypeError, ValueError):
        raise Wrong(f"answer with a pair (score difference, loss), e.g. (1.0, 0.5), not {answer!r}") from None
    d, loss = _number(d, "the score difference"), _number(loss, "the loss")
    if abs(d) > 0.05:
        raise Wrong(f"at d = {d:g} the loss is {_pair_loss(d, 0):.4f}, but it is lower at d = {d / 2:g}: with "
                    f"S_ij = 0 it is symmetric in d (log(2 cosh(d/2))), so look at the middle")
    if abs(loss) < 1e-3:
        raise Wrong("the loss of a tie never reaches 0: put d = 0 into (1 - 0)/2 * d + log(1 + exp(-d))")
    if abs(loss - math.log(2)) > 1e-3:
        raise Wrong(f"at d = 0 the loss is log(1 + exp(0)) = log 2, not {loss:g}")


_RANKED = [2, 3, 0, 1]  # ratings of the images in the order the model ranked them
_K = 3


def _dcg(ratings, k, gain=lambda r: 2 ** r - 1) -> float:
    return sum(gain(r) / math.log2(i + 2) for i, r in enumerate(ratings[:k]))


@checker("NDCG@3 by hand")
def check_ndcg(answer) -> None:
    """``answer`` = NDCG@3 of a model that ranked four images rated 2, 3, 0, 1 in that order."""
    value = _number(answer, "NDCG@3")
    ideal = sorted(_RANKED, reverse=True)
    expected = _dcg(_RANKED, _K) / _dcg(ideal, _K)
    if abs(value - expected) < 1e-3:
        return
    if abs(value - _dcg(_RANKED, _K)) < 1e-3:
        raise Wrong(f"{value:.4f} is DCG@3; divide it by the DCG@3 of the ideal order {ideal} to get NDCG")
    if abs(value - 1) < 1e-3:
        raise Wrong("1 would mean the model's order is already the best one; but it put the 3 second")
    if value > 1:
        raise Wrong("NDCG cannot exceed 1: the ideal order puts the highest ratings first (sort descending)")
    linear = lambda r: r  # noqa: E731
    if abs(value - _dcg(_RANKED, _K, linear) / _dcg(ideal, _K, linear)) < 1e-3:
        raise Wrong("that uses the rating itself as the gain; this lesson's gain is 2**rating - 1")
    if abs(value - _dcg(_RANKED, 4) / _dcg(ideal, 4)) < 1e-3:
        raise Wrong("that counts all 4 images; NDCG@3 stops after the top 3, in both DCGs")
    raise Wrong(f"{value:.4f} is not it. Position i = 0, 1, 2 adds (2**rating - 1) / log2(i + 2); do that for "
                f"the model's order and for the ideal order {ideal}, then divide")
