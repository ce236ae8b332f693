"""Lesson 3's checkers accept right answers and reject typical wrong ones with a hint."""
import numpy
import pytest

from course.checks.lesson03 import check_crop_count, check_mean_image, check_noir, check_per_class_accuracy
from course.data.style import LOOKS, luminance


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


# --- check_mean_image -----------------------------------------------------------------------------

@pytest.fixture
def images():
    rng = numpy.random.RandomState(0)
    return rng.randint(0, 256, (12, 3, 6, 6)).astype(numpy.uint8), rng.randint(0, 256, (4, 3, 6, 6)).astype(numpy.uint8)


def test_mean_image_accepts_the_mean(images, capsys):
    train, test = images
    assert check_mean_image(train.mean(axis=0), train, test).passed is True
    assert check_mean_image(train.mean(axis=0).astype(numpy.float32), train).passed is True
    from course.data.style import compute_mean

    assert check_mean_image(compute_mean(train), train, test).passed is True


@pytest.mark.parametrize("answer, word", [
    (lambda tr, te: None, "placeholder"),
    (lambda tr, te: tr.mean(), "one number for the whole set"),
    (lambda tr, te: tr.mean(axis=(0, 2, 3)), "per colour channel"),
    (lambda tr, te: tr.mean(axis=0).transpose(1, 2, 0), "channels first"),
    (lambda tr, te: tr.mean(axis=1), "axis=0"),
    (lambda tr, te: numpy.concatenate([tr, te]).mean(axis=0), "training images only"),
    (lambda tr, te: tr.mean(axis=0) / 255, "255"),
    (lambda tr, te: tr[0], "first training image"),
    (lambda tr, te: tr.mean(axis=0).astype(numpy.uint8), "rounded"),
    (lambda tr, te: tr.mean(axis=0) + 5, "differ"),
])
def test_mean_image_rejects_typical_mistakes(images, answer, word, capsys):
    train, test = images
    assert check_mean_image(answer(train, test), train, test).passed is False
    assert word in _hint(capsys)


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
