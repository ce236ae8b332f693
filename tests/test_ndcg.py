"""NDCG@k and pair accuracy (course.metrics): against scikit-learn, by hand, and on bad input."""
import math

import numpy
import pytest
from sklearn.metrics import ndcg_score

from course.metrics import dcg_at_k, ndcg_at_k, pair_accuracy


def _log2(i):
    return math.log2(i + 2)


# --- linear gain: the same numbers as scikit-learn ------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_linear_gain_matches_sklearn_with_ties_and_any_k(seed):
    rng = numpy.random.RandomState(seed)
    n = rng.randint(2, 40)
    ratings = rng.randint(0, 5, n).astype(float)
    scores = rng.randint(0, 4, n).astype(float) if seed % 2 else rng.rand(n)  # odd seeds: many tied scores
    for k in (1, 3, n, n + 7):  # k larger than the number of items counts them all
        assert ndcg_at_k(ratings, scores, k, gain="linear") == pytest.approx(
            ndcg_score(ratings[None], scores[None], k=k), abs=1e-12)


def test_linear_gain_matches_sklearn_when_every_rating_is_zero():
    ratings, scores = numpy.zeros(5), numpy.arange(5.0)
    assert ndcg_at_k(ratings, scores, 3, gain="linear") == ndcg_score(ratings[None], scores[None], k=3) == 0.0


# --- exponential gain (2^rating - 1), the seed's: by hand -----------------------------------------

def test_perfect_order_is_one_and_reversed_order_is_computed_by_hand():
    ratings = numpy.array([3, 2, 0, 1])
    assert ndcg_at_k(ratings, [4, 3, 1, 2], 4) == pytest.approx(1.0)
    # Reversed: places hold ratings 0, 1, 2, 3.
    dcg = 0 / _log2(0) + 1 / _log2(1) + 3 / _log2(2) + 7 / _log2(3)
    ideal = 7 / _log2(0) + 3 / _log2(1) + 1 / _log2(2) + 0 / _log2(3)
    assert dcg_at_k(ratings, [1, 2, 4, 3], 4) == pytest.approx(dcg)
    assert ndcg_at_k(ratings, [1, 2, 4, 3], 4) == pytest.approx(dcg / ideal)


def test_only_the_top_k_count():
    ratings = numpy.array([2, 3, 0, 1])
    scores = numpy.array([4, 3, 2, 1])  # the order 2, 3, 0, 1
    dcg3 = 3 / _log2(0) + 7 / _log2(1)
    ideal3 = 7 / _log2(0) + 3 / _log2(1) + 1 / _log2(2)
    assert ndcg_at_k(ratings, scores, 3) == pytest.approx(dcg3 / ideal3)
    assert ndcg_at_k(ratings, scores, 1) == pytest.approx(3 / 7)
    # Changing what is below the top k changes nothing.
    assert ndcg_at_k([2, 3, 0, 1, 5], [4, 3, 2, 1, -9], 2) == pytest.approx(
        (3 + 7 / _log2(1)) / (31 + 7 / _log2(1)))


def test_k_larger_than_the_list_counts_every_item():
    ratings, scores = numpy.array([1, 2, 0]), numpy.array([3, 1, 2])  # order 1, 0, 2
    dcg = 1 / _log2(0) + 0 + 3 / _log2(2)
    ideal = 3 / _log2(0) + 1 / _log2(1)
    assert ndcg_at_k(ratings, scores, 50) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(ratings, scores, 50) == ndcg_at_k(ratings, scores, 3)


def test_tied_scores_share_the_mean_gain_of_their_places():
    # Two items tied for first (ratings 2 and 0), then one rated 1.
    ratings, scores = numpy.array([2, 0, 1]), numpy.array([5.0, 5.0, 1.0])
    tied_gain = (3 + 0) / 2
    dcg = tied_gain * (1 / _log2(0) + 1 / _log2(1)) + 1 / _log2(2)
    assert dcg_at_k(ratings, scores, 3) == pytest.approx(dcg)
    # A tie that straddles the cut-off: only the places inside the top k carry discount.
    assert dcg_at_k(ratings, scores, 1) == pytest.approx(tied_gain)
    # All scores equal: the expected DCG of a random order.
    assert dcg_at_k([3, 1], [0, 0], 2) == pytest.approx((7 + 1) / 2 * (1 + 1 / _log2(1)))


def test_tied_ratings_do_not_matter_for_the_ideal():
    assert ndcg_at_k([2, 2, 1], [1, 2, 0], 2) == pytest.approx(1.0)


def test_exponential_and_linear_gains_differ_as_they_should():
    ratings, scores = numpy.array([0, 3, 1]), numpy.array([3, 2, 1])  # order 0, 3, 1
    exponential = (7 / _log2(1) + 1 / _log2(2)) / (7 + 1 / _log2(1))
    linear = (3 / _log2(1) + 1 / _log2(2)) / (3 + 1 / _log2(1))
    assert ndcg_at_k(ratings, scores, 3) == pytest.approx(exponential)
    assert ndcg_at_k(ratings, scores, 3, gain="linear") == pytest.approx(linear)


def test_all_zero_ratings_give_zero():
    assert ndcg_at_k([0, 0, 0], [1, 2, 3], 2) == 0.0


def test_ndcg_is_vectorised_enough_for_a_large_list():
    rng = numpy.random.RandomState(0)
    ratings = rng.randint(0, 10, 200_000)
    assert 0 < ndcg_at_k(ratings, rng.rand(len(ratings)), 10) < 1
    assert ndcg_at_k(ratings, ratings + 0.5 * rng.rand(len(ratings)), 10) == pytest.approx(1.0)


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, -1, 2.5, "10", True, None])
def test_k_must_be_a_whole_number_of_at_least_one(k):
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        ndcg_at_k([1, 0], [0.5, 0.2], k)


def test_nan_ratings_are_refused():
    with pytest.raises(ValueError, match=r"ratings \[1\] are NaN"):
        ndcg_at_k([1, numpy.nan, 2], [0.1, 0.2, 0.3], 2)


def test_nan_scores_say_the_model_diverged():
    with pytest.raises(ValueError, match="diverged"):
        ndcg_at_k([1, 0, 2], [0.1, numpy.nan, 0.3], 2)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="one score per rated item"):
        ndcg_at_k([1, 0, 2], [0.1, 0.3], 2)
    with pytest.raises(ValueError, match="one score per rated item"):
        pair_accuracy([1, 0, 2], [0.1, 0.3])


def test_negative_ratings_and_unknown_gains_are_refused():
    with pytest.raises(ValueError, match="ratings >= 0"):
        ndcg_at_k([1, -1], [0, 1], 1)
    with pytest.raises(ValueError, match="gain must be one of"):
        ndcg_at_k([1, 0], [0, 1], 1, gain="quadratic")
    with pytest.raises(ValueError, match="no items"):
        ndcg_at_k([], [], 1)


# --- pair accuracy --------------------------------------------------------------------------------

def test_pair_accuracy_by_hand():
    ratings = [1, 2, 3]
    assert pair_accuracy(ratings, [0.1, 0.2, 0.3]) == 1.0
    assert pair_accuracy(ratings, [0.3, 0.2, 0.1]) == 0.0
    assert pair_accuracy(ratings, [0.1, 0.5, 0.2]) == pytest.approx(2 / 3)  # (2,3) is the wrong way round
    assert pair_accuracy(ratings, [0.0, 0.0, 1.0]) == pytest.approx(2.5 / 3)  # a tied pair counts 1/2


def test_pair_accuracy_ignores_pairs_rated_equal_and_matches_a_loop():
    rng = numpy.random.RandomState(1)
    ratings, scores = rng.randint(0, 4, 60), rng.randint(0, 6, 60)
    right = total = 0
    for i in range(60):
        for j in range(60):
            if ratings[i] > ratings[j]:
                total += 1
                right += 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0
    assert pair_accuracy(ratings, scores) == pytest.approx(right / total)


def test_pair_accuracy_needs_two_different_ratings():
    with pytest.raises(ValueError, match="all ratings are equal"):
        pair_accuracy([2, 2, 2], [0.1, 0.2, 0.3])
