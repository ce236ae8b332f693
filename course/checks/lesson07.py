"""Lesson 7 (super-resolution) exercise checkers: Y-PSNR by hand, and two experiments measured on held-out photos."""
from __future__ import annotations

import math

import numpy

from course.checks import Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function
from course.metrics import crop_border, y_channel, y_psnr


def _image_pairs():
    """(description, output, reference): uint8 RGB pairs whose mistakes give different numbers."""
    from course.data.photos import load_photo

    rng = numpy.random.RandomState(7)
    photo = load_photo("rocket", 96)
    noisy = numpy.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(numpy.uint8)
    tinted = photo.copy()
    tinted[..., 2] = numpy.clip(tinted[..., 2].astype(int) + 40, 0, 255)  # mostly a colour change
    framed = photo.copy()
    framed[:3] = 255  # a white frame, inside the cropped border
    framed[20:30, 20:30] = 0
    return [("a photo and a noisy copy", noisy, photo), ("a photo with more blue", tinted, photo),
            ("a photo with a white frame and a black square", framed, photo)]


def _psnr(a, b, peak=255.0):
    mse = float(((numpy.asarray(a, numpy.float64) - numpy.asarray(b, numpy.float64)) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(peak ** 2 / mse)


def _variants(output, reference, border):
    """What common mistakes give."""
    full_range = lambda rgb: rgb.astype(numpy.float64) @ numpy.array([0.299, 0.587, 0.114])  # noqa: E731
    y_out, y_ref = crop_border(y_channel(output), border), crop_border(y_channel(reference), border)
    return {
        "no border": _psnr(y_channel(output), y_channel(reference)),
        "rgb": _psnr(crop_border(output, border), crop_border(reference, border)),
        "full range": _psnr(crop_border(full_range(output), border), crop_border(full_range(reference), border)),
        "peak 1": _psnr(y_out, y_ref, 1.0),
        "mse": float(((y_out - y_ref) ** 2).mean()),
        "y over 255": _psnr(y_out / 255, y_ref / 255, 255.0),
    }


_HINTS = {
    "no border": "crop `border` pixels at each of the four edges of both Y channels first (a network has no "
                 "neighbours to look at there, so papers leave the border out)",
    "rgb": "that is the PSNR over the three RGB channels; papers measure the Y channel alone: "
           "Y = 16 + (65.481 R + 128.553 G + 24.966 B) with R, G, B in [0, 1]",
    "full range": "that is full-range luma (0.299 R + 0.587 G + 0.114 B); BT.601's Y as papers use it is "
                  "16 + (65.481 R + 128.553 G + 24.966 B) with R, G, B in [0, 1] (values 16-235)",
    "peak 1": "the peak is 255 on the 0-255 scale: 10 log10(255^2 / MSE), not 10 log10(1 / MSE)",
    "mse": "that is the mean squared error; PSNR is 10 log10(255^2 / MSE), in dB",
    "y over 255": "with Y divided by 255 the peak is 1, not 255: keep Y on the 0-255 scale with peak 255",
}


@checker("your Y-PSNR")
def check_y_psnr(my_y_psnr) -> None:
    """``my_y_psnr(output, reference, border)`` (uint8 RGB images) must return the Y-PSNR in dB as papers compute it."""
    require_function(my_y_psnr, "check_y_psnr(my_y_psnr)")
    for description, output, reference in _image_pairs():
        for border in (4, 0):
            result = call_answer(my_y_psnr, output.copy(), reference.copy(), border,
                                 case=f"{description}, border {border}")
            value = as_number(result, f"on {description} it returned {result!r}; return one number (dB)")
            expected = y_psnr(output, reference, border)
            if abs(value - expected) <= 1e-6 * max(1, abs(expected)):
                continue
            for mistake, wrong in _variants(output, reference, border).items():
                if abs(value - wrong) <= 1e-4 * max(1, abs(wrong)) and (border or mistake != "no border"):
                    raise Wrong(_HINTS[mistake])
            raise Wrong(f"on {description} (border {border}) it returned {value:.4f} dB, expected {expected:.4f}: "
                        f"take Y of both images, crop the border, then 10 log10(255^2 / mean((Y_out - Y_ref)^2))")


def _measured_gain(model, held_out) -> float:
    from course.tasks.superres import mean_gain, score

    with keep_numpy_random_state():
        return mean_gain(score(model, held_out))


def _check_experiment(model, gain, held_out, *, setting: str, wanted: bool, how: str) -> None:
    from course.models.srresnet import SRResNet

    if not isinstance(model, SRResNet):
        raise Wrong(f"pass the model you trained (an SRResNet from superres.train_mse(...)), "
                    f"not {type(model).__name__}")
    if getattr(model, setting) is not wanted:
        raise Wrong(f"this model has {setting}={getattr(model, setting)}: {how}")
    if model.bicubic_skip and numpy.all(model.tail.W.array == 0):
        raise Wrong("this model's last layer is still all zeros: it has not been trained; train it with "
                    "superres.train_mse(patches, sizes, folder, epochs=sizes.exercise_epochs, ...)")
    answer = as_number(gain, f"answer with the gain in dB (a number, e.g. -0.1), not {gain!r}")
    measured = _measured_gain(model, held_out)
    if abs(answer - measured) <= 0.01:
        return
    if abs(answer + measured) <= 0.01:
        raise Wrong("the sign is the other way round: the gain is the model's PSNR minus bicubic's")
    if answer > 10:
        raise Wrong(f"{answer:.2f} looks like a PSNR, not a gain: subtract bicubic's mean PSNR "
                    f"(superres.mean_gain(superres.score(model, held_out)))")
    raise Wrong(f"measured on the held-out photos this model gains {measured:+.2f} dB over bicubic, not "
                f"{answer:+.2f}: use superres.mean_gain(superres.score(model, held_out))")


@checker("without the bicubic skip, measured")
def check_without_skip(model, gain, held_out) -> None:
    """``model``: an SRResNet trained with ``bicubic_skip=False``; ``gain``: its mean Y-PSNR gain over bicubic (dB)."""
    _check_experiment(model, gain, held_out, setting="bicubic_skip", wanted=False,
                      how="build it with bicubic_skip=False (superres.train_mse(..., bicubic_skip=False))")


@checker("batch normalisation back in, measured")
def check_with_batch_norm(model, gain, held_out) -> None:
    """``model``: an SRResNet trained with ``batch_norm=True``; ``gain``: its mean Y-PSNR gain over bicubic (dB)."""
    _check_experiment(model, gain, held_out, setting="batch_norm", wanted=True,
                      how="build it with batch_norm=True (superres.train_mse(..., batch_norm=True))")
