"""Lesson 10 exercise checkers: negative/positive, k-means in CIELAB, counting colours, and a CNN's
features when the new task has few examples."""
from __future__ import annotations

from typing import Mapping

import cv2
import numpy

from course.checks import Wrong, as_number, call_answer, checker, require_function
from course.data.photos import load_photo
from course.features import FEATURE_LAYERS, accuracies, compare_layers
from course.imaging import cluster_colours, colour_error, count_colours, reduce_colours
from course.tasks.classic import FEW_EXAMPLES, TASK


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


LAB_K = 8
"""The number of colours of the CIELAB exercise."""


def _lab_reduction(image: numpy.ndarray, k: int) -> numpy.ndarray:
    """What the exercise asks for: k-means of the CIELAB floats of ``image``, painted, back to uint8 RGB."""
    from skimage.color import lab2rgb, rgb2lab

    lab = rgb2lab(image[..., :3])
    labels, centres = cluster_colours(lab.reshape(-1, 3), k)
    return numpy.clip(numpy.rint(lab2rgb(centres[labels].reshape(lab.shape)) * 255), 0, 255).astype(numpy.uint8)


def _opencv_lab_reduction(image: numpy.ndarray, k: int) -> numpy.ndarray:
    """The same through OpenCV's uint8 CIELAB, whose L runs to 255 and so weighs 2.55 times too much."""
    lab = cv2.cvtColor(numpy.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2LAB)
    return cv2.cvtColor(reduce_colours(lab, k).image, cv2.COLOR_LAB2RGB)


def _as_reduced_image(result, photo: numpy.ndarray, k: int, description: str) -> numpy.ndarray:
    """The learner's reduced image, or :class:`Wrong` naming what is off with its shape, type or colours."""
    if result is None:
        raise Wrong(f"on {description} it returned None: return the reduced image")
    result = numpy.asarray(result)
    if result.shape == (photo.shape[0] * photo.shape[1], 3):
        raise Wrong(f"on {description} it returned one row per pixel, shape {result.shape}: reshape to the "
                    f"photo's shape {photo.shape}")
    if result.shape != photo.shape:
        raise Wrong(f"on {description} it returned shape {result.shape}; return an RGB image of the photo's "
                    f"shape {photo.shape}")
    if result.dtype != numpy.uint8:
        if result.dtype.kind == "f" and 0 <= numpy.nanmin(result) and numpy.nanmax(result) <= 1:
            raise Wrong("it returns floats from 0 to 1 (what lab2rgb gives); scale them to 0-255, round, and "
                        "return uint8 like the photo")
        raise Wrong(f"it returns {result.dtype}; return a uint8 RGB image (0-255) like the photo")
    if count_colours(result) > k:
        raise Wrong(f"on {description} the image has {count_colours(result)} colours, more than k = {k}: paint "
                    f"every pixel with its cluster's centre (centres[labels]) before converting back to RGB")
    return result


@checker("k-means in CIELAB")
def check_lab_reduction(reduce, photo, answer) -> None:
    """``reduce(image, k)`` must cluster in CIELAB; ``answer`` = ``colour_error`` of ``photo``'s two reductions.

    ``answer`` is (the RGB reduction's error, the CIELAB reduction's error), both with k = :data:`LAB_K`
    colours; the RGB one is :func:`course.imaging.reduce_colours`'s.
    """
    require_function(reduce, "check_lab_reduction(my_lab_reduction, astronaut, answer)")
    own = load_photo("coffee", 64)
    description = "a 64-pixel photo of coffee with k = 5"
    result = _as_reduced_image(call_answer(reduce, own.copy(), 5, case=description), own, 5, description)
    expected = _lab_reduction(own, 5)
    if not numpy.array_equal(result, expected):
        error, wanted = colour_error(own, result), colour_error(own, expected)
        if numpy.array_equal(result, reduce_colours(own, 5).image):
            raise Wrong("that is the reduction in RGB: convert the photo to CIELAB (skimage.color.rgb2lab) and "
                        "cluster those values")
        if numpy.array_equal(result, _opencv_lab_reduction(own, 5)):
            raise Wrong("OpenCV's uint8 CIELAB stretches L from 0-100 to 0-255, so k-means there weighs lightness "
                        "2.55 times too much; cluster the floats that skimage.color.rgb2lab gives")
        if error > 2 * wanted:
            raise Wrong(f"on {description} its colours are far from the photo's (mean ΔE {error:.1f}): are they "
                        f"still CIELAB values? Convert the painted image back to RGB (skimage.color.lab2rgb)")
        if abs(error - wanted) > 0.02 * wanted:
            raise Wrong(f"on {description} its mean ΔE is {error:.2f}, not what k-means in CIELAB gives: cluster "
                        f"the (H * W, 3) CIELAB values with cluster_colours, paint with centres[labels], convert back")
    try:
        rgb_error, lab_error = answer
    except (TypeError, ValueError):
        raise Wrong(f"answer with two numbers, (RGB reduction's error, CIELAB reduction's error), "
                    f"not {answer!r}") from None
    rgb_error = as_number(rgb_error, f"the RGB reduction's error should be one number, not {rgb_error!r}")
    lab_error = as_number(lab_error, f"the CIELAB reduction's error should be one number, not {lab_error!r}")
    reduced = reduce_colours(photo, LAB_K)
    mine = _as_reduced_image(call_answer(reduce, photo.copy(), LAB_K, case=f"your photo with k = {LAB_K}"),
                             photo, LAB_K, f"your photo with k = {LAB_K}")
    expected = colour_error(photo, reduced.image), colour_error(photo, mine)
    if all(abs(got - want) <= 1e-3 * want for got, want in zip((rgb_error, lab_error), expected)):
        return
    if all(abs(got - want) <= 1e-3 * want for got, want in zip((lab_error, rgb_error), expected)):
        raise Wrong("the two numbers are swapped: first the RGB reduction's error, then the CIELAB one's")
    if abs(rgb_error - reduced.distortion) <= 1e-3 * reduced.distortion:
        raise Wrong("that is the distortion k-means minimises in RGB (mean squared RGB distance); measure how far "
                    "each reduction looks from the photo with colour_error(photo, reduced)")
    raise Wrong(f"measure colour_error(photo, reduced) for reduce_colours(photo, {LAB_K}).image and for "
                f"my_lab_reduction(photo, {LAB_K}), on the photo you pass here")


def _accuracy_answer(answer) -> dict[str, float]:
    if not isinstance(answer, Mapping) or not answer:
        raise Wrong(f"answer with a dict {{layer: accuracy}}, e.g. accuracies(compare_layers(...)), not {answer!r}")
    unknown = [name for name in answer if name not in FEATURE_LAYERS]
    if unknown:
        raise Wrong(f"{unknown[0]!r} is not a layer; use names among {', '.join(FEATURE_LAYERS)}")
    if "pixels" not in answer or len(answer) < 2:
        raise Wrong("give the accuracy of the pixels and of at least one CNN layer, to compare them")
    return {name: as_number(getattr(value, "accuracy", value), f"the accuracy of {name} should be one number, "
                            f"not {value!r}") for name, value in answer.items()}


@checker("features when examples are few")
def check_few_examples(answer, model, split) -> None:
    """``answer`` = ``{layer: accuracy}`` of forests fitted to the first FEW_EXAMPLES unseen training digits.

    Each forest is scored on the other unseen training digits. ``model`` is the lesson's CNN and
    ``split`` its :class:`course.features.DigitSplit`; the forests have the profile's ``n_trees`` and
    seed 0, as :func:`course.features.compare_layers` grows them.
    """
    values = _accuracy_answer(answer)
    n_trees = TASK.sizes_for().n_trees
    x, t = split.unseen_train
    fit, rest = (x[:FEW_EXAMPLES], t[:FEW_EXAMPLES]), (x[FEW_EXAMPLES:], t[FEW_EXAMPLES:])
    expected = accuracies(compare_layers(model, fit, rest, list(values), n_trees=n_trees, progress=False))
    # Float32 rounding aside, the same forests give the same accuracies; one digit more or less moves them far more.
    wrong = [name for name in values if abs(values[name] - expected[name]) > 1e-6]
    if not wrong:
        return
    name = wrong[0]
    if values[name] == 1.0:
        raise Wrong(f"{name} is right on every digit: that is scored on the {FEW_EXAMPLES} digits the forest was "
                    f"fitted to; score it on the other unseen training digits")
    on_test = accuracies(compare_layers(model, fit, split.unseen_test, [name], n_trees=n_trees, progress=False))
    if abs(values[name] - on_test[name]) <= 1e-6:
        raise Wrong(f"{name} was scored on the test digits; leave those for the lesson's final figures and score "
                    f"on the unseen training digits the forest did not see, x[{FEW_EXAMPLES}:]")
    raise Wrong(f"{name}: {values[name]:.4f} is not what a forest of n_trees={n_trees} (the profile's) fitted to the "
                f"first {FEW_EXAMPLES} unseen training digits scores on the other ones")
