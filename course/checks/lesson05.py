"""Lesson 5 (RankNet) exercise checkers: S_ij from two ratings, one pair's loss, the loss of a tie, NDCG by hand."""
from __future__ import annotations

import math

from course.checks import Wrong, as_number, call_answer, checker, require_function


def _number(value, what: str) -> float:
    value = as_number(value, f"answer {what} with one number, not {value!r}")
    if not math.isfinite(value):
        raise Wrong(f"{what} came out as {value}: a finite number was expected")
    return value


# (rating_i, rating_j, S_ij)
_TARGET_CASES = [(3, 1, 1), (1, 3, -1), (2, 2, 0), (5, 4, 1), (0, 5, -1), (4.5, 4.0, 1), (2.5, 2.5, 0)]


@checker("S_ij from two ratings")
def check_pair_target(pair_target) -> None:
    """``pair_target(rating_i, rating_j)`` must return 1 (i rated higher), -1 (lower) or 0 (equal)."""
    require_function(pair_target, "check_pair_target(my_pair_target)")
    results = {}
    for t_i, t_j, expected in _TARGET_CASES:
        answer = call_answer(pair_target, t_i, t_j, case=f"pair_target({t_i}, {t_j})")
        results[t_i, t_j] = _number(answer, f"for ratings ({t_i}, {t_j})")
    wrong = [(t_i, t_j, expected) for t_i, t_j, expected in _TARGET_CASES if results[t_i, t_j] != expected]
    if not wrong:
        return
    if all(math.copysign(1, results[t_i, t_j]) == -expected for t_i, t_j, expected in _TARGET_CASES if expected):
        raise Wrong("the signs are swapped: S_ij = 1 when image i is rated HIGHER than image j")
    if results[5, 4] == 1 and results[3, 1] == 2:
        raise Wrong(f"pair_target(3, 1) gave {results[3, 1]:g}, the difference of the ratings: S_ij keeps only its "
                    f"sign (1, 0 or -1), however far apart the ratings are")
    if results[1, 3] == 0 and results[3, 1] == 1:
        raise Wrong("pair_target(1, 3) gave 0: a lower rating is S_ij = -1 (t_i > t_j alone gives True/False, "
                    "two values; S_ij has three)")
    ties = [(t_i, t_j) for t_i, t_j, expected in _TARGET_CASES if expected == 0 and results[t_i, t_j] != 0]
    if ties:
        t_i, t_j = ties[0]
        raise Wrong(f"equal ratings ({t_i}, {t_j}) gave {results[t_i, t_j]:g}: a tie is S_ij = 0, neither image "
                    f"preferred")
    t_i, t_j, expected = wrong[0]
    raise Wrong(f"pair_target({t_i}, {t_j}) gave {results[t_i, t_j]:g}, expected {expected}")


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
