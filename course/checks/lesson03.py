"""Lesson 3 (image styles) checkers: a noir look, training without the mean image, counting crops, per-style accuracy."""
from __future__ import annotations

import numpy

from course.checks import Wrong, call_answer, checker, require_function, whole_number


def _test_photos() -> list[numpy.ndarray]:
    """Three small real photos as float32 RGB in [0, 1]: colourful, grey, and a dim low-contrast one."""
    import cv2

    from course.data.style import load_photo

    photos = []
    for name in ("astronaut", "camera", "coffee"):
        photo = cv2.resize(load_photo(name), (48, 48), interpolation=cv2.INTER_AREA).astype(numpy.float32) / 255
        photos.append(photo)
    photos[2] = 0.3 + 0.3 * photos[2]  # dim and flat: noir must still make it punchy
    return photos


def _grey_std(image: numpy.ndarray) -> float:
    from course.data.style import luminance

    return float(luminance(image).std())


@checker("your noir look")
def check_noir(look) -> None:
    """``look(image, strength, rng)`` on float RGB (H, W, 3) in [0, 1] must give a grey image with more contrast."""
    require_function(look, "check_noir(my_noir)")
    rng = numpy.random.default_rng(0)
    gains = []
    for photo in _test_photos():
        original = photo.copy()
        out = call_answer(look, photo, 1.0, rng,
                          hint=". It is called as look(image, strength, rng) with an (H, W, 3) float image")
        if not numpy.array_equal(photo, original):
            raise Wrong("it changed the image it was given; work on a copy (e.g. `image = image.copy()`, or build a "
                        "new array) so the original photo stays as it was")
        if out is None:
            raise Wrong("it returned None: end with `return` and the new image")
        out = numpy.asarray(out)
        if out.shape == photo.shape[:2]:
            raise Wrong(f"it returned one grey channel {out.shape}; a look returns RGB (H, W, 3): repeat the grey "
                        f"value in all three channels, e.g. numpy.repeat(grey[..., None], 3, axis=2)")
        if out.shape != photo.shape:
            raise Wrong(f"it returned shape {out.shape} for an image of shape {photo.shape}; return the same shape")
        if not numpy.isfinite(out).all():
            raise Wrong("the result holds NaN or infinite values")
        if out.max() > 20:
            raise Wrong(f"the result goes up to {out.max():.0f}: images here are floats in [0, 1], not 0-255")
        if out.min() < -1e-4 or out.max() > 1 + 1e-4:
            raise Wrong(f"values run from {out.min():.2f} to {out.max():.2f}; clip them to [0, 1] "
                        f"(numpy.clip(image, 0, 1))")
        spread = numpy.abs(out - out.mean(axis=2, keepdims=True)).max()
        if spread > 0.02:
            raise Wrong("the result still has colour (its three channels differ); noir is black and white: "
                        "compute one grey value per pixel, e.g. with course.data.style.luminance(image)")
        gains.append(_grey_std(out) / _grey_std(photo))
    if min(gains) < 1.05 or numpy.mean(gains) < 1.25:
        raise Wrong(f"the contrast did not rise enough (the spread of grey levels grew {numpy.mean(gains):.2f}x on "
                    f"average, want at least 1.25x): stretch values away from the middle, e.g. "
                    f"0.5 + 2 * (grey - 0.5), then clip")


MEAN_EXPERIMENT_EPOCHS = 3
"""The fewest epochs the runs of the mean-image experiment must have."""
SAME_LOSS = 0.02
"""Two training losses closer than this count as the same."""


def _log(history, name: str) -> list[dict]:
    log = getattr(history, "log", history)
    if not isinstance(log, list) or not all(isinstance(entry, dict) and "main/loss" in entry for entry in log):
        raise Wrong(f"{name} must be what course.train_classifier returned (a History), not {type(history).__name__}")
    return log


@checker("training without the mean image")
def check_mean_experiment(model, history, lesson_history, answer) -> None:
    """``model``/``history``: the lesson's NIN built with a mean image of zeros and trained like the lesson's
    (``lesson_history``); ``answer``: which run had the lower training loss at the last epoch both reached.

    ``answer`` is ``"with"`` (the lesson's run, mean subtracted), ``"without"`` (``model``'s) or
    ``"same"`` (within :data:`SAME_LOSS`). The runs must have the same steps per epoch and
    ``model``'s at least :data:`MEAN_EXPERIMENT_EPOCHS` epochs.
    """
    from course.models import NIN
    from course.models.saving import model_config
    from course.tasks.style import build_nin

    if model is None or history is None:
        raise Wrong("build the lesson's network with a mean image of zeros, train it, and pass the model and the "
                    "history train_classifier returned")
    if not isinstance(model, NIN):
        raise Wrong(f"pass the NIN you trained, not a {type(model).__name__}")
    subtracted = float(numpy.abs(model.input.mean).max())
    if subtracted > 0:
        raise Wrong("its input layer still subtracts a mean image (it is not zero everywhere): build it with "
                    "mean=numpy.zeros_like(mean)")
    config, lesson_config = model_config(model)["arguments"], model_config(build_nin())["arguments"]
    if {k: v for k, v in config.items() if k != "mean"} != {k: v for k, v in lesson_config.items() if k != "mean"}:
        raise Wrong("that is not the lesson's network (its sizes differ): build it with build_nin(mean=...), so "
                    "the mean image is the only difference")
    log, lesson_log = _log(history, "history"), _log(lesson_history, "the lesson's history")
    if log is lesson_log or log == lesson_log:
        raise Wrong("the two histories are the same run: pass your run's history and the lesson's")
    epochs = len(log)
    if epochs < MEAN_EXPERIMENT_EPOCHS:
        raise Wrong(f"your run has {epochs} epoch(s); train for at least {MEAN_EXPERIMENT_EPOCHS}, so there is "
                    "something to compare")
    if len(lesson_log) < epochs:
        raise Wrong(f"the lesson's run has {len(lesson_log)} epochs and yours {epochs}; compare them at the same "
                    f"epoch: train yours for at most {len(lesson_log)}")
    mine, theirs = log[epochs - 1], lesson_log[epochs - 1]
    if mine.get("iteration") != theirs.get("iteration"):
        raise Wrong(f"by epoch {epochs} your run took {mine.get('iteration')} steps and the lesson's "
                    f"{theirs.get('iteration')}: train on the same images with the same batch size")
    if not isinstance(answer, str) or answer.strip().lower() not in ("with", "without", "same"):
        raise Wrong('answer "with" (the lesson\'s run had the lower training loss), "without" (yours had) or '
                    '"same"')
    without, with_mean = mine["main/loss"], theirs["main/loss"]
    measured = "same" if abs(without - with_mean) < SAME_LOSS else ("with" if with_mean < without else "without")
    if answer.strip().lower() != measured:
        raise Wrong(f"that is not what your two runs measured: read main/loss of both histories at epoch {epochs}")
    print(f"  training loss at epoch {epochs}: with the mean image {with_mean:.3f}, without {without:.3f}")


@checker("crops of one image")
def check_crop_count(answer) -> None:
    """How many different 227 x 227 crops, mirrored ones included, fit in a 256 x 256 image: 2 x 30 x 30."""
    answer = whole_number(answer)
    positions = 256 - 227 + 1
    if answer == 2 * positions**2:
        return
    if answer == positions**2:
        raise Wrong(f"{answer} counts the positions; each crop can also be mirrored left to right")
    if answer in ((positions - 1) ** 2, 2 * (positions - 1) ** 2):
        raise Wrong("off by one: the left edge can sit at 0, 1, ..., 29: that is 30 positions, not 29")
    if answer in (positions, positions - 1):
        raise Wrong("that is one direction; the crop also moves down, independently of across")
    if answer in (2 * positions, 2 * positions + 2, 4 * positions, 2 * (positions - 1)):
        raise Wrong("combine the choices by multiplying, not adding: every position across goes with every "
                    "position down, and each crop is mirrored or not")
    raise Wrong("count the positions of the left edge (0 ... 256-227), the same for the top edge, "
                "then mirrored or not, and multiply")


def _confusion_cases():
    """(description, confusion matrix with unequal class sizes, expected per-class accuracy)."""
    cm = numpy.array([[8, 2, 0], [5, 5, 10], [0, 1, 3]])
    square = numpy.array([[40, 10], [30, 20]])
    return [
        ("3 classes of 10, 20 and 4 examples", cm, cm.diagonal() / cm.sum(axis=1)),
        ("2 classes of 50 examples", square, square.diagonal() / square.sum(axis=1)),
    ]


@checker("per-style accuracy")
def check_per_class_accuracy(function) -> None:
    """``function(cm)`` must return, for each true class (row), the fraction of its examples predicted right."""
    require_function(function, "check_per_class_accuracy(my_function)")
    for description, cm, expected in _confusion_cases():
        result = call_answer(function, cm.copy(), case=description)
        try:
            result = numpy.asarray(result, dtype=numpy.float64)
        except (TypeError, ValueError):
            raise Wrong(f"on {description} it returned {result!r}; return one number per class") from None
        if result.shape != expected.shape:
            if result.size == 1:
                raise Wrong("it returns one number; give one accuracy per class (one per row of the matrix)")
            raise Wrong(f"on {description} it returned shape {result.shape}; want one number per class, "
                        f"{expected.shape}")
        if numpy.allclose(result, expected):
            continue
        if numpy.allclose(result, cm.diagonal()):
            raise Wrong("those are counts of right answers; divide each by how many examples that class has "
                        "(its row's sum)")
        if numpy.allclose(result, cm.diagonal() / cm.sum(axis=0)):
            raise Wrong("that divides by the column sums (how often each class was predicted: precision); the "
                        "accuracy of a true class divides by its row's sum")
        if numpy.allclose(result, cm.diagonal() / cm.sum()):
            raise Wrong("that divides by all examples; divide each class's right answers by its own row's sum")
        raise Wrong(f"on {description} it returned {numpy.round(result, 3).tolist()}, expected "
                    f"{numpy.round(expected, 3).tolist()}: right answers (the diagonal) over each row's sum")
