"""Lesson 7's checkers accept right answers and reject typical wrong ones with a hint."""
import numpy
import pytest

from course.checks.lesson07 import check_with_batch_norm, check_without_skip, check_y_psnr
from course.data.superres import load_sr_photos, random_patches, sr_image
from course.data.photos import load_photo
from course.metrics import crop_border, y_channel, y_psnr
from course.tasks import superres


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


# --- check_y_psnr ------------------------------------------------------------------------------------

def right_psnr(output, reference, border):
    def luma(rgb):
        rgb = rgb.astype(numpy.float64) / 255
        return 16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]

    a, b = luma(output), luma(reference)
    if border:
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    return 10 * numpy.log10(255 ** 2 / ((a - b) ** 2).mean())


def test_y_psnr_accepts_a_right_function_and_the_courses(capsys):
    assert check_y_psnr(right_psnr).passed is True
    assert check_y_psnr(y_psnr).passed is True
    assert capsys.readouterr().out.count("✓") == 2


def _mse_db(a, b, peak=255.0):
    return 10 * numpy.log10(peak ** 2 / ((a - b) ** 2).mean())


@pytest.mark.parametrize("wrong, hint", [
    (lambda o, r, b: y_psnr(o, r, 0), "crop `border` pixels"),
    (lambda o, r, b: _mse_db(crop_border(o, b).astype(float), crop_border(r, b).astype(float)), "three RGB channels"),
    (lambda o, r, b: _mse_db(crop_border(o.astype(float) @ [0.299, 0.587, 0.114], b),
                             crop_border(r.astype(float) @ [0.299, 0.587, 0.114], b)), "full-range luma"),
    (lambda o, r, b: _mse_db(crop_border(y_channel(o), b), crop_border(y_channel(r), b), 1.0), "the peak is 255"),
    (lambda o, r, b: float(((crop_border(y_channel(o), b) - crop_border(y_channel(r), b)) ** 2).mean()),
     "mean squared error"),
    (lambda o, r, b: _mse_db(crop_border(y_channel(o), b) / 255, crop_border(y_channel(r), b) / 255),
     "with Y divided by 255"),
    (lambda o, r, b: 0.0, "expected"),
    (lambda o, r, b: [1, 2], "return one number"),
])
def test_y_psnr_names_the_mistake(wrong, hint, capsys):
    assert not check_y_psnr(wrong)
    assert hint in _hint(capsys)


def test_y_psnr_wants_a_function(capsys):
    assert not check_y_psnr(30.0)
    _hint(capsys)


# --- the experiments ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    """A tiny lesson: sizes, patches of two small photos, and small held-out photos."""
    from dataclasses import replace

    sizes = replace(superres.QUICK, channels=4, blocks=1, patch=16, patches=64, exercise_epochs=1)
    images = [sr_image(name, load_photo(name, 96), 4, say=None) for name in ("rocket", "grace_hopper")]
    patches = random_patches(images, sizes.patches, sizes.patch, channels=1)
    held_out = load_sr_photos(max_side=64)
    return sizes, patches, held_out


def _trained(tiny, tmp_path, **changes):
    sizes, patches, held_out = tiny
    model, _ = superres.train_mse(patches, sizes, tmp_path, epochs=1, progress=False, live_plot=False, **changes)
    return model, superres.mean_gain(superres.score(model, held_out))


def test_without_skip_accepts_the_measured_gain_and_rejects_others(tiny, tmp_path, capsys):
    held_out = tiny[2]
    model, gain = _trained(tiny, tmp_path / "a", bicubic_skip=False)
    assert check_without_skip(model, gain, held_out)
    assert check_without_skip(model, round(gain, 3), held_out)
    capsys.readouterr()
    assert not check_without_skip(model, gain + 0.5, held_out)
    assert "this model gains" in _hint(capsys)
    if abs(gain) > 0.01:
        assert not check_without_skip(model, -gain, held_out)
        assert "the other way round" in _hint(capsys)
    assert not check_without_skip(model, 25.0, held_out)
    assert "looks like a PSNR" in _hint(capsys)
    with_skip, skip_gain = _trained(tiny, tmp_path / "b")
    assert not check_without_skip(with_skip, skip_gain, held_out)
    assert "bicubic_skip=True" in _hint(capsys)
    assert not check_without_skip(None, 0.0, held_out)
    assert "pass the model you trained" in _hint(capsys)
    assert not check_without_skip(model, "a lot", held_out)
    assert "answer with the gain" in _hint(capsys)


def test_with_batch_norm_wants_a_trained_model_with_bn(tiny, tmp_path, capsys):
    held_out = tiny[2]
    model, gain = _trained(tiny, tmp_path / "bn", batch_norm=True)
    assert check_with_batch_norm(model, gain, held_out)
    capsys.readouterr()
    untrained = superres.build_generator(tiny[0], batch_norm=True)
    assert not check_with_batch_norm(untrained, 0.0, held_out)
    assert "not been trained" in _hint(capsys)
    plain, plain_gain = _trained(tiny, tmp_path / "plain")
    assert not check_with_batch_norm(plain, plain_gain, held_out)
    assert "batch_norm=False" in _hint(capsys)
