"""Lesson 3's checkers accept right answers and reject typical wrong ones with a hint."""
import numpy
import pytest

from course.checks.lesson03 import check_crop_count, check_mean_experiment, check_noir, check_per_class_accuracy
from course.data.style import LOOKS, luminance
from course.models import NIN, MnistCNN
from course.tasks.style import build_nin
from course.training import History


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


# --- check_noir -----------------------------------------------------------------------------------

def simple_noir(image, strength, rng):
    grey = luminance(image)
    grey = numpy.clip(0.5 + 2.5 * (grey - grey.mean()), 0, 1)
    return numpy.repeat(grey[..., None], 3, axis=2)


def test_noir_accepts_a_right_look_and_the_courses(capsys):
    assert check_noir(simple_noir).passed is True
    assert check_noir(LOOKS["Noir"]).passed is True
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("look, word", [
    (lambda image, s, rng: image, "colour"),  # the placeholder: unchanged
    (lambda image, s, rng: numpy.repeat(luminance(image)[..., None], 3, axis=2), "contrast"),  # grey only
    (lambda image, s, rng: numpy.clip(0.5 + 3 * (image - 0.5), 0, 1), "colour"),  # contrast only
    (lambda image, s, rng: numpy.clip(0.5 + 3 * (luminance(image) - 0.5), 0, 1), "three channels"),
    (lambda image, s, rng: 0.5 + 3 * (simple_noir(image, s, rng) - 0.5), "clip"),
    (lambda image, s, rng: simple_noir(image, s, rng) * 255, "0-255"),
    (lambda image, s, rng: simple_noir(image, s, rng)[:10], "same shape"),
    (lambda image, s, rng: None, "return"),
    (lambda image: image, "look(image, strength, rng)"),
])
def test_noir_rejects_typical_mistakes(look, word, capsys):
    assert check_noir(look).passed is False
    assert word in _hint(capsys)


def test_noir_rejects_a_look_that_changes_its_input(capsys):
    def in_place(image, strength, rng):
        image[...] = simple_noir(image, strength, rng)
        return image

    assert check_noir(in_place).passed is False
    assert "copy" in _hint(capsys)


def test_noir_rejects_a_non_function(capsys):
    assert check_noir("noir").passed is False
    assert "function" in _hint(capsys)


# --- check_mean_experiment ----------------------------------------------------------------------

def _log(losses, steps=24):
    """A training log as train_classifier writes it: one entry per epoch, ``steps`` iterations each."""
    return [{"epoch": i + 1, "iteration": steps * (i + 1), "main/loss": loss, "validation/main/accuracy": 0.1}
            for i, loss in enumerate(losses)]


LESSON = _log([2.92, 2.70, 2.45, 2.23, 2.13])  # the lesson's run, mean subtracted


@pytest.fixture(scope="module")
def no_mean():
    return build_nin()  # no mean given: zeros, nothing subtracted


@pytest.mark.parametrize("mine, answer", [
    ([2.94, 2.75, 2.58], "with"),  # epoch 3: 2.45 with the mean, 2.58 without
    ([2.94, 2.75, 2.58], " With "),
    ([2.94, 2.75, 2.40], "without"),
    ([2.94, 2.75, 2.46], "same"),
    ([2.94, 2.75, 2.55, 2.40, 2.12], "same"),  # compared at epoch 5
])
def test_mean_experiment_accepts_what_the_runs_measured(no_mean, capsys, mine, answer):
    assert check_mean_experiment(no_mean, History(_log(mine), None), History(LESSON, None), answer).passed is True
    assert "training loss at epoch" in capsys.readouterr().out


def test_mean_experiment_takes_plain_logs_too(no_mean):
    assert check_mean_experiment(no_mean, _log([2.94, 2.75, 2.58]), LESSON, "with")


@pytest.mark.parametrize("mine, answer, word", [
    ([2.94, 2.75, 2.58], "without", "not what your two runs measured"),
    ([2.94, 2.75, 2.58], "same", "not what your two runs measured"),
    ([2.94, 2.75, 2.46], "with", "read main/loss of both histories at epoch 3"),
    ([2.94, 2.75, 2.58], None, '"with"'),
    ([2.94, 2.75, 2.58], "yes", '"without"'),
    ([2.94, 2.75], "with", "at least 3"),
    ([2.9, 2.8, 2.7, 2.6, 2.5, 2.4], "with", "train yours for at most 5"),
])
def test_mean_experiment_rejects_wrong_answers_with_a_hint(no_mean, capsys, mine, answer, word):
    assert check_mean_experiment(no_mean, History(_log(mine), None), History(LESSON, None), answer).passed is False
    assert word in _hint(capsys)


def test_mean_experiment_rejects_runs_of_different_steps(no_mean, capsys):
    assert check_mean_experiment(no_mean, _log([2.94, 2.75, 2.58], steps=12), LESSON, "with").passed is False
    assert "same batch size" in _hint(capsys)


def test_mean_experiment_rejects_the_lessons_history_twice(no_mean, capsys):
    assert check_mean_experiment(no_mean, LESSON, list(LESSON), "same").passed is False
    assert "same run" in _hint(capsys)


@pytest.mark.parametrize("model, word", [
    (None, "build the lesson's network"),
    (lambda: MnistCNN(), "pass the NIN"),
    (lambda: build_nin(mean=numpy.full(build_nin().input.mean.shape, 100, numpy.float32)), "still subtracts a mean image"),
    (lambda: NIN(20, image_size=48, insize=40, widths=(8, 16, 16, 16), ksizes=(5, 3, 3, 3), first_stride=2),
     "not the lesson's network"),
])
def test_mean_experiment_rejects_the_wrong_model(capsys, model, word):
    model = model() if callable(model) else model
    assert check_mean_experiment(model, _log([2.94, 2.75, 2.58]), LESSON, "with").passed is False
    assert word in _hint(capsys)


def test_mean_experiment_rejects_something_that_is_not_a_history(no_mean, capsys):
    assert check_mean_experiment(no_mean, 2.58, LESSON, "with").passed is False
    assert "History" in _hint(capsys)


# --- check_crop_count -----------------------------------------------------------------------------

def test_crop_count_accepts_1800(capsys):
    assert check_crop_count(1800) and check_crop_count(2 * 30 * 30) and check_crop_count(1800.0)
    assert check_crop_count(numpy.int64(1800))


@pytest.mark.parametrize("answer, word", [
    (900, "mirrored"), (841, "off by one"), (1682, "off by one"), (30, "one direction"), (29, "one direction"),
    (60, "multiplying"), (62, "multiplying"), (120, "multiplying"), (0, "multiply"), (65536, "multiply"),
])
def test_crop_count_rejects_typical_mistakes(answer, word, capsys):
    assert check_crop_count(answer).passed is False
    assert word in _hint(capsys)


@pytest.mark.parametrize("answer", ["1800", None, 1800.5, True, float("nan")])
def test_crop_count_rejects_non_integers(answer, capsys):
    assert check_crop_count(answer).passed is False
    assert "whole number" in _hint(capsys)


# --- check_per_class_accuracy ---------------------------------------------------------------------

def test_per_class_accuracy_accepts_row_normalised_diagonals(capsys):
    assert check_per_class_accuracy(lambda cm: cm.diagonal() / cm.sum(axis=1)).passed is True
    assert check_per_class_accuracy(lambda cm: [cm[i, i] / cm[i].sum() for i in range(len(cm))]).passed is True


@pytest.mark.parametrize("function, word", [
    (lambda cm: cm.diagonal(), "counts"),
    (lambda cm: cm.diagonal() / cm.sum(axis=0), "column sums"),
    (lambda cm: cm.diagonal() / cm.sum(), "all examples"),
    (lambda cm: cm.diagonal().sum() / cm.sum(), "one number"),
    (lambda cm: cm / cm.sum(axis=1, keepdims=True), "shape"),
    (lambda cm: numpy.zeros(len(cm)), "expected"),
    (lambda cm: 1 / 0, "ZeroDivisionError"),
    ("not a function", "function itself"),
])
def test_per_class_accuracy_rejects_typical_mistakes(function, word, capsys):
    assert check_per_class_accuracy(function).passed is False
    assert word in _hint(capsys)
