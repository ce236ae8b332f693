"""Lesson 10 exercise checkers: negative/positive, painting pixels with cluster centres, counting
colours, and choosing the layer to take features from."""
from __future__ import annotations

from typing import Mapping

import numpy

from course.checks import Wrong, as_number, call_answer, checker, require_function


def _random_image(height: int, width: int, channels: int, seed: int) -> numpy.ndarray:
    return numpy.random.RandomState(seed).randint(0, 256, size=(height, width, channels)).astype(numpy.uint8)


def _as_image(result, description: str, shape: tuple[int, ...]) -> numpy.ndarray:
    if result is None:
        raise Wrong(f"on {description} it returned None: return the new image")
    result = numpy.asarray(result)
    if result.shape != shape:
        raise Wrong(f"on {description} it returned shape {result.shape}; the result must have the input's "
                    f"shape {shape}")
    return result


@checker("your negative/positive")
def check_negative(negative) -> None:
    """``negative(image)`` must return ``255 - v`` for R, G and B, keep alpha, keep uint8, not touch the input."""
    require_function(negative, "check_negative(my_negative)")
    for description, image in (("an RGB image (5x7x3)", _random_image(5, 7, 3, 1)),
                               ("an RGBA image (4x6x4) with varied alpha", _random_image(4, 6, 4, 2))):
        original = image.copy()
        result = call_answer(negative, image, case=description)
        if image.shape[2] == 4 and numpy.shape(result) == image.shape[:2] + (3,):
            raise Wrong("it dropped the alpha channel; return all four channels, alpha copied unchanged")
        result = _as_image(result, description, image.shape)
        if not numpy.array_equal(image, original):
            raise Wrong(f"on {description} it changed its input; work on a copy (image.copy()) and return that")
        colour = result[..., :3].astype(numpy.float64)
        values = original[..., :3].astype(numpy.float64)
        if not numpy.array_equal(colour, 255 - values):
            if numpy.array_equal(colour, (256 - values) % 256):
                raise Wrong("it computes -v, which for uint8 wraps around to 256 - v (and 0 stays 0); "
                            "the negative is 255 - v, or ~v (bitwise NOT)")
            if numpy.allclose(colour, (255 - values) / 255, atol=1e-3):
                raise Wrong("it returns values between 0 and 1; the image is uint8 from 0 to 255: use 255 - v")
            raise Wrong(f"on {description} the colour values are wrong: each of R, G, B must become 255 - v")
        if result.dtype != numpy.uint8:
            raise Wrong(f"the values are right but the dtype is {result.dtype}; return uint8 like the input "
                        f"(e.g. 255 - image keeps uint8, or add .astype(numpy.uint8))")
        if image.shape[2] == 4 and not numpy.array_equal(result[..., 3], original[..., 3]):
            if numpy.array_equal(result[..., 3], 255 - original[..., 3]):
                raise Wrong("it inverts alpha too, so opaque pixels turn transparent; invert only the first "
                            "three channels and copy alpha as it is")
            raise Wrong("the alpha channel changed; copy it from the input unchanged")


@checker("pixels painted with their cluster centres")
def check_paint(paint) -> None:
    """``paint(centres, labels)`` must return ``centres[labels]``: shape (H, W, 3), the centres' dtype."""
    require_function(paint, "check_paint(my_paint)")
    rng = numpy.random.RandomState(3)
    centres = rng.randint(0, 256, size=(5, 3)).astype(numpy.uint8)  # k = 5 colours
    labels = rng.randint(0, 5, size=(4, 6)).astype(numpy.int32)  # H = 4, W = 6: nothing square
    description = "5 centres and 4x6 labels"
    result = call_answer(paint, centres.copy(), labels.copy(), case=description,
                         hint=". Each label picks one row of centres: centres[labels]")
    if result is None:
        raise Wrong("it returned None: return the painted image")
    result = numpy.asarray(result)
    expected = centres[labels]
    if result.shape == (labels.size, 3) and numpy.array_equal(result, expected.reshape(-1, 3)):
        raise Wrong("the colours are right but flat, shape (H*W, 3): index with the 2-D labels, or reshape "
                    "to (H, W, 3)")
    if result.shape == (6, 4, 3) and numpy.array_equal(result, expected.transpose(1, 0, 2)):
        raise Wrong("the image is transposed (W, H, 3): labels[y, x] is row y, column x; centres[labels] "
                    "keeps that order")
    if result.shape != expected.shape:
        raise Wrong(f"it returned shape {result.shape}; expected {expected.shape} (H, W, 3): each label "
                    f"picks one row of centres, so index the centres with the labels: centres[labels]")
    if not numpy.array_equal(result, expected):
        if numpy.array_equal(result[..., ::-1], expected):
            raise Wrong("the channels are reversed (BGR); keep the centres' own RGB order")
        raise Wrong("some pixels have the wrong colour: pixel (y, x) must be centres[labels[y, x]]")
    if result.dtype != centres.dtype:
        raise Wrong(f"the colours are right but the dtype is {result.dtype}, not the centres' {centres.dtype}")


def _colour_cases():
    """(description, image, number of distinct RGB colours)."""
    # Channel values 0 and 255 only: 2 distinct values, 3 distinct rows of pixels, 9 pixels, 4 colours.
    primaries = numpy.array([
        [[255, 0, 0], [0, 255, 0], [255, 0, 0]],
        [[0, 0, 255], [0, 0, 255], [255, 255, 255]],
        [[0, 255, 0], [255, 0, 0], [255, 0, 0]],
    ], dtype=numpy.uint8)
    rng = numpy.random.RandomState(4)
    palette = rng.randint(0, 256, size=(7, 3)).astype(numpy.uint8)
    few = palette[numpy.arange(60) % 7][rng.permutation(60)].reshape(6, 10, 3)
    # Two colours that share every channel value with other colours: (1, 2, 3) and (3, 2, 1).
    swapped = numpy.array([[[1, 2, 3], [3, 2, 1]], [[1, 2, 3], [1, 2, 3]]], dtype=numpy.uint8)
    return [
        ("a 3x3 image of pure reds, greens, blues and one white", primaries, 4),
        ("a 6x10 image painted from 7 colours", few, 7),
        ("a 2x2 image with colours (1, 2, 3) and (3, 2, 1)", swapped, 2),
        ("a single pixel", numpy.array([[[9, 9, 9]]], dtype=numpy.uint8), 1),
    ]


@checker("your colour count")
def check_count_colours(count) -> None:
    """``count(image)`` must return how many distinct (R, G, B) triples a uint8 (H, W, 3) image holds."""
    require_function(count, "check_count_colours(my_count_colours)")
    for description, image, expected in _colour_cases():
        result = call_answer(count, image.copy(), case=description)
        value = as_number(result, f"on {description} it returned {result!r}; return one whole number")
        if value == expected:
            continue
        pixels = image.reshape(-1, 3)
        if value == len(numpy.unique(image)):
            raise Wrong("it counts distinct channel values, not colours: numpy.unique(image) looks at single "
                        "numbers; a colour is a whole pixel, a row of image.reshape(-1, 3)")
        if value == len(numpy.unique(image, axis=0)):
            raise Wrong("axis=0 of an (H, W, 3) image compares whole rows of pixels; reshape to (H*W, 3) "
                        "first, so each row is one pixel")
        if value == len(pixels):
            raise Wrong("it counts pixels; many pixels share a colour, count each colour once")
        if value == sum(len(numpy.unique(pixels[:, c])) for c in range(3)):
            raise Wrong("it adds up the distinct values of each channel; a colour is the three values "
                        "together, so compare whole pixels")
        raise Wrong(f"on {description} it returned {result!r}, expected {expected}")


def _accuracy(score) -> float:
    return float(getattr(score, "accuracy", score))


@checker("the layer to take features from")
def check_best_layer(answer, scores: Mapping) -> None:
    """``answer`` = the layer whose features gave the forest the best accuracy in ``scores`` ({layer: score})."""
    names = list(scores)
    if not names:
        raise Wrong("the second argument must be the measured scores, e.g. unseen_scores, not an empty mapping")
    if not isinstance(answer, str) or answer not in scores:
        raise Wrong(f"answer with one of the names {', '.join(repr(n) for n in names)}, not {answer!r}")
    accuracy = {name: _accuracy(score) for name, score in scores.items()}
    best = max(accuracy.values())
    if accuracy[answer] >= best:
        return
    winner = max(accuracy, key=accuracy.get)
    if answer == names[-1] and answer != "pixels":
        raise Wrong(f"{answer!r} is the last layer: its outputs are the scores of the classes the CNN was "
                    f"trained on, which say how much a new image looks like each old class and little "
                    f"else ({accuracy[answer]:.1%}); look further down the network")
    if answer == "pixels":
        raise Wrong(f"raw pixels gave {accuracy[answer]:.1%}, but {winner!r} gave {best:.1%}: some layer of "
                    f"the CNN describes the new digits better than their pixels")
    raise Wrong(f"{answer!r} gave {accuracy[answer]:.1%}, but {winner!r} gave {best:.1%}")
