"""Lesson 8 (colourisation) exercise checkers: line art by hand, colourfulness by hand, and how many hints, measured."""
from __future__ import annotations

from typing import Mapping

import numpy

from course.checks import Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function
from course.images import to_grey
from course.data.lineart import line_art
from course.metrics import colourfulness


def _test_images() -> list[tuple[str, numpy.ndarray]]:
    """(description, uint8 RGB image): a real photo crop and a drawn square, each telling mistakes apart."""
    from course.data.photos import load_photo

    square = numpy.full((24, 24, 3), 230, numpy.uint8)
    square[6:18, 6:18] = (200, 40, 40)
    return [("a 24x24 red square on light grey", square),
            ("a 48x48 crop of chelsea", load_photo("chelsea", 96)[10:58, 20:68])]


def _line_variants(image: numpy.ndarray) -> dict[str, numpy.ndarray]:
    """What common mistakes give for dilate-minus-original line art of ``image``."""
    import cv2

    grey = to_grey(image)
    square = numpy.ones((3, 3), numpy.uint8)
    dilated, eroded = cv2.dilate(grey, square), cv2.erode(grey, square)
    return {
        "not inverted": dilated - grey,
        "eroded": 1 - (grey - eroded),
        "absolute difference of an erosion": 1 - numpy.abs(eroded - grey),
        "no difference": 1 - dilated,
        "5x5": 1 - (cv2.dilate(grey, numpy.ones((5, 5), numpy.uint8)) - grey),
        "on 0-255": 255 - (dilated - grey) * 255,
    }


_LINE_HINTS = {
    "not inverted": "the lines are bright on black: invert, 1 - (dilated - grey), so the paper is white and lines dark",
    "eroded": "that is grey minus its erosion (the darkest neighbour), which marks the bright side of each edge; "
              "dilate (the brightest neighbour) and subtract the grey image",
    "absolute difference of an erosion": "erosion takes the darkest neighbour; dilation (cv2.dilate) takes the "
                                         "brightest, which is what marks dark strokes",
    "no difference": "you inverted the dilated image itself; subtract the grey image from it first",
    "5x5": "use a 3x3 square of ones for the dilation, as the lesson does (5x5 gives thicker lines)",
    "on 0-255": "return values in [0, 1] (the grey image from course.images.to_grey is already on that scale)",
}


@checker("your line art")
def check_line_art(my_line_art) -> None:
    """``my_line_art(image)`` (uint8 RGB in) must return dilate-minus-original line art, inverted, in [0, 1]."""
    require_function(my_line_art, "check_line_art(my_line_art)")
    for description, image in _test_images():
        result = call_answer(my_line_art, image.copy(), case=description)
        result = numpy.asarray(getattr(result, "array", result), dtype=numpy.float64)
        if result.shape != image.shape[:2]:
            raise Wrong(f"on {description} it returned shape {result.shape}; return one grey (H, W) image, "
                        f"{image.shape[:2]} here")
        expected = line_art(image)
        if numpy.abs(result - expected).max() <= 1e-4:
            continue
        for mistake, wrong in _line_variants(image).items():
            if numpy.abs(result - wrong).max() <= 1e-4:
                raise Wrong(_LINE_HINTS[mistake])
        raise Wrong(f"on {description} it differs from the lesson's line art by up to "
                    f"{numpy.abs(result - expected).max():.3f}: grey (course.images.to_grey), cv2.dilate with a 3x3 "
                    f"square of ones, subtract the grey image, then 1 minus that")


def _colourfulness_variants(image: numpy.ndarray) -> dict[str, float]:
    rgb = image.astype(numpy.float64)
    rg, yb = rgb[..., 0] - rgb[..., 1], (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    spread, mean = numpy.hypot(rg.std(), yb.std()), numpy.hypot(rg.mean(), yb.mean())
    return {
        "on [0, 1]": (spread + 0.3 * mean) / 255,
        "no mean term": spread,
        "variances": rg.var() + yb.var() + 0.3 * mean,
        "mean weight 1": spread + mean,
        "absolute means": spread + 0.3 * numpy.hypot(numpy.abs(rg).mean(), numpy.abs(yb).mean()),
        "yb without halving": numpy.hypot(rg.std(), (rgb[..., 0] + rgb[..., 1] - rgb[..., 2]).std()) + 0.3 * numpy.hypot(
            rg.mean(), (rgb[..., 0] + rgb[..., 1] - rgb[..., 2]).mean()),
    }


_COLOURFULNESS_HINTS = {
    "on [0, 1]": "that is the value for pixels in [0, 1]; the measure is defined on 0-255 values (uint8 as they are)",
    "no mean term": "add 0.3 times sqrt(mean(rg)^2 + mean(yb)^2): a uniformly coloured image is colourful too",
    "variances": "take standard deviations, and the square root of the sum of their squares: sqrt(sd_rg^2 + sd_yb^2)",
    "mean weight 1": "the mean term is weighted by 0.3, not 1",
    "absolute means": "the mean term uses the plain means of rg and yb, not of their absolute values",
    "yb without halving": "yb is (R + G) / 2 - B: the mean of red and green, minus blue",
}


@checker("your colourfulness")
def check_colourfulness(my_colourfulness) -> None:
    """``my_colourfulness(image)`` (uint8 RGB in) must return Hasler and Süsstrunk's colourfulness on 0-255 values."""
    require_function(my_colourfulness, "check_colourfulness(my_colourfulness)")
    grey = numpy.full((8, 8, 3), 120, numpy.uint8)
    value = as_number(call_answer(my_colourfulness, grey.copy(), case="a grey image"),
                      "return one number: the colourfulness")
    if abs(value) > 1e-6:
        raise Wrong(f"a grey image has R = G = B everywhere, so colourfulness 0; yours gives {value:.4g}")
    for description, image in _test_images():
        value = as_number(call_answer(my_colourfulness, image.copy(), case=description),
                          "return one number: the colourfulness")
        expected = colourfulness(image)
        if abs(value - expected) <= 1e-6 + 1e-6 * expected:
            continue
        for mistake, wrong in _colourfulness_variants(image).items():
            if abs(value - wrong) <= 1e-6 + 1e-6 * abs(wrong):
                raise Wrong(_COLOURFULNESS_HINTS[mistake])
        raise Wrong(f"on {description} it gives {value:.4g}, expected {expected:.4g}: with rg = R - G and "
                    f"yb = (R + G) / 2 - B on 0-255 values, sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2)")


@checker("how many hints, measured")
def check_hint_counts(errors: Mapping, best, model, images) -> None:
    """``errors`` = {number of hints: mean held-out Lab error of ``model`` with that many}, for three or more
    counts including 0; ``best`` = the count with the lowest error. Measured again with
    :func:`course.tasks.colorize.held_out_scores`."""
    from course.tasks.colorize import held_out_scores

    if not isinstance(errors, Mapping) or len(errors) < 3:
        raise Wrong("pass a dict of three or more {number of hints: Lab error}, e.g. {0: ..., 4: ..., 16: ...}")
    if 0 not in errors:
        raise Wrong("include 0 hints, the model's colours on its own, to compare against")
    counts = []
    for count in errors:
        if isinstance(count, bool) or not isinstance(count, (int, numpy.integer)) or count < 0:
            raise Wrong(f"the keys are numbers of hints (0, 1, 2...), not {count!r}")
        counts.append(int(count))
    with keep_numpy_random_state():
        measured = {count: held_out_scores(model, images, hints=count).lab_error for count in counts}
    for count in counts:
        given = as_number(errors[count], f"the error for {count} hints should be one number, not {errors[count]!r}")
        if abs(given - measured[count]) > 0.01 + 0.001 * measured[count]:
            raise Wrong(f"for {count} hints the held-out Lab error is {measured[count]:.3f}, not {given:.3f}: use "
                        f"colorize.held_out_scores(hinted, held_out, hints={count}).lab_error")
    if best not in measured:
        raise Wrong(f"answer with one of the counts you measured, {', '.join(map(str, counts))}, not {best!r}")
    if measured[best] > min(measured.values()):
        raise Wrong(f"{best} hints do not give the lowest error of the counts you measured: compare them again")
