"""How sure a figure is: bootstrap intervals over test items, and the spread over seeds."""
import numpy
import pytest

from course.metrics import Interval, bootstrap_interval, mean_and_spread


def precision(tp, fp):
    return tp.sum() / (tp.sum() + fp.sum())


def test_the_interval_holds_the_figure_and_narrows_with_more_items():
    rng = numpy.random.RandomState(0)
    few_tp, few_fp = rng.binomial(4, 0.9, 10), rng.binomial(1, 0.2, 10)
    few = bootstrap_interval(precision, (few_tp, few_fp))
    many = bootstrap_interval(precision, (numpy.tile(few_tp, 10), numpy.tile(few_fp, 10)))
    assert isinstance(few, Interval) and few.confidence == 0.95
    assert few.low <= few.value <= few.high and many.low <= many.value <= many.high
    assert many.value == pytest.approx(few.value)
    assert many.high - many.low < (few.high - few.low) / 2  # ten times the items: about a third as wide
    assert bootstrap_interval(precision, (few_tp, few_fp)) == few  # the same seed, the same interval
    assert str(few).count("%") == 3


def test_items_are_resampled_together():
    # Each scene has tp + fp == 4: a resample that split a scene's entries apart would not keep that.
    tp = numpy.array([4, 3, 2, 4, 1])
    interval = bootstrap_interval(lambda tp, fp: float(((tp + fp) == 4).mean()), (tp, 4 - tp))
    assert interval.low == interval.high == interval.value == 1.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="same length"):
        bootstrap_interval(precision, (numpy.ones(3), numpy.ones(4)))
    with pytest.raises(ValueError, match="two or more values"):
        mean_and_spread([0.5])


def test_mean_and_spread_is_the_sample_standard_deviation():
    mean, spread = mean_and_spread([1.0, 2.0, 3.0])
    assert mean == 2.0 and spread == pytest.approx(1.0)
