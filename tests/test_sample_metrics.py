"""Lesson 6's judges of samples: confidence, mode coverage and the Fréchet distance against hand-computed cases."""
import math

import numpy
import pytest

from course.metrics import Coverage, confident_fraction, frechet_distance, mean_top_confidence, mode_coverage


def test_the_frechet_distance_of_one_feature_is_the_gap_of_means_and_of_spreads():
    a = numpy.array([[0.0], [1.0], [2.0], [3.0], [4.0]])  # mean 2, variance 2.5 (N - 1)
    b = numpy.array([[1.0], [4.0], [7.0], [10.0], [13.0]])  # mean 7, variance 22.5
    # One dimension: (mu_a - mu_b)^2 + s_a^2 + s_b^2 - 2 s_a s_b = (mu_a - mu_b)^2 + (s_a - s_b)^2
    expected = (2 - 7) ** 2 + (math.sqrt(2.5) - math.sqrt(22.5)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected)
    assert frechet_distance(a, b) == pytest.approx(25 + 10)  # sqrt(22.5) = 3 sqrt(2.5): (2 sqrt 2.5)^2 = 10


def test_the_frechet_distance_by_hand_in_two_dimensions():
    # Two sets with diagonal covariances: the formula splits into one term per dimension.
    rng = numpy.random.RandomState(0)
    a = rng.standard_normal((4000, 2))
    a = (a - a.mean(0)) / a.std(0, ddof=1)  # exactly mean 0 and variance 1 in each dimension...
    a[:, 1] -= a[:, 0] * (a[:, 0] @ a[:, 1]) / (a[:, 0] @ a[:, 0])  # ...and uncorrelated
    a = (a - a.mean(0)) / a.std(0, ddof=1)
    b = a * [2.0, 3.0] + [1.0, -1.0]  # means (1, -1), standard deviations 2 and 3
    expected = (1 + 1) + (1 - 2) ** 2 + (1 - 3) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)  # symmetric


def test_identical_sets_are_at_distance_zero_even_with_dead_features():
    rng = numpy.random.RandomState(1)
    features = numpy.maximum(rng.standard_normal((300, 20)), 0)  # after a ReLU
    features[:, :5] = 0  # units that never fire: a singular covariance
    assert frechet_distance(features, features.copy()) == pytest.approx(0, abs=1e-6)
    shifted = features + 0.5
    assert frechet_distance(features, shifted) == pytest.approx(20 * 0.25, rel=1e-6)


def test_the_frechet_distance_refuses_too_few_samples_and_mismatched_features():
    rng = numpy.random.RandomState(2)
    with pytest.raises(ValueError, match="too few: each set needs more vectors than dimensions"):
        frechet_distance(rng.standard_normal((10, 10)), rng.standard_normal((50, 10)))
    with pytest.raises(ValueError, match="too few"):
        frechet_distance(rng.standard_normal((1, 1)), rng.standard_normal((5, 1)))
    with pytest.raises(ValueError, match="of the same D"):
        frechet_distance(rng.standard_normal((50, 3)), rng.standard_normal((50, 4)))
    broken = rng.standard_normal((50, 3))
    broken[0, 0] = numpy.nan
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(broken, rng.standard_normal((50, 3)))


def test_confidence_counts_the_top_probability_of_each_sample():
    p = numpy.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    assert confident_fraction(p) == pytest.approx(0.5)  # 0.95 and 0.9 reach 0.9
    assert confident_fraction(p, 0.75) == pytest.approx(0.75)
    assert mean_top_confidence(p) == pytest.approx((0.95 + 0.9 + 0.6 + 0.8) / 4)
    with pytest.raises(ValueError, match="one row of class probabilities per sample"):
        confident_fraction(numpy.array([0.9, 0.1]))


def test_mode_coverage_gives_each_class_its_share():
    predicted = numpy.array([0, 0, 1, 3, 3, 3, 3, 3, 3, 3])
    coverage = mode_coverage(predicted, 5)
    assert isinstance(coverage, Coverage)
    numpy.testing.assert_allclose(coverage.shares, [0.2, 0.1, 0.0, 0.7, 0.0])
    assert coverage.classes_seen == 3
    assert coverage.classes_with(0.15) == 2
    assert str(coverage).startswith("0:20.0% 1:10.0% 2:0.0%")
    scores = numpy.eye(5)[predicted] * 3  # the same classes, as scores
    numpy.testing.assert_allclose(mode_coverage(scores, 5).shares, coverage.shares)
    with pytest.raises(ValueError, match="0..4"):
        mode_coverage(numpy.array([0, 5]), 5)
