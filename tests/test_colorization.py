"""Lesson 8: line art, the colourisation metrics and losses, the data and its errors, the models, the CLI."""
import subprocess
import sys
from dataclasses import replace

import chainer
import numpy
import pytest

from conftest import size_arguments
from course.data.colorization import (HELD_OUT, TRAINING, colour_image, hint_channels, load_colour_photos,
                                      place_hints, random_crops, read_colour_folder, sample_hints)
from course.errors import DataError, InputError
from course.images import write_image
from course.data.lineart import line_art, line_mask, shift_sensitivity, shrink_line_art, xdog
from course.losses import gan_l1_generator_loss, pixel_l1
from course.metrics import colourfulness, lab_error, line_f1

TINY = dict(side=32, crop=16, crops=32, base=4, epochs=1, gan_epochs=1, wgan_epochs=1, max_hints=4,
            snapshot_every=50)


def _photo(seed=0, size=40):
    """A colourful test image: smooth colour ramps with a dark square drawn on them."""
    rng = numpy.random.RandomState(seed)
    y, x = numpy.mgrid[0:size, 0:size] / size
    image = numpy.stack([x, y, 1 - x * y], axis=2) * 200 + rng.randint(0, 30, (1, 1, 3))
    image[size // 4:size // 2, size // 4:size // 2] = 20
    return image.astype(numpy.uint8)


# --- line art ----------------------------------------------------------------------------------------

def test_line_art_marks_a_dark_stroke_and_nothing_on_flat_paper():
    image = numpy.full((7, 7), 255, numpy.uint8)
    image[3, 1:6] = 0  # a black horizontal stroke
    lines = line_art(image)
    assert lines.dtype == numpy.float32 and lines.shape == (7, 7)
    assert numpy.all(lines[3, 1:6] == 0)  # the stroke itself is black: its neighbours are brighter
    lines[3, 1:6] = 1
    assert numpy.all(lines == 1)  # everything else stays white paper
    assert numpy.all(line_art(numpy.full((5, 5, 3), 90, numpy.uint8)) == 1)


def test_line_art_is_dilate_minus_original_inverted_with_gain():
    import cv2

    image = _photo()
    grey = cv2.cvtColor(image.astype(numpy.float32) / 255, cv2.COLOR_RGB2GRAY)
    expected = 1 - numpy.clip(3 * (cv2.dilate(grey, numpy.ones((3, 3), numpy.uint8)) - grey), 0, 1)
    assert numpy.allclose(line_art(image, gain=3), expected, atol=1e-5)
    with pytest.raises(ValueError):
        line_art(image, kernel=1)


def test_xdog_draws_the_edges_of_a_square_and_leaves_flat_paper_white():
    image = numpy.full((32, 32), 230, numpy.uint8)
    image[8:24, 8:24] = 30
    lines = xdog(image)
    assert lines.min() >= 0 and lines.max() <= 1
    assert lines[0, 0] == 1 and lines[16, 16] == 1  # far from the edge: paper
    assert line_mask(lines)[8:24, 7:10].any()  # dark strokes along the square's left edge
    assert line_mask(lines).mean() < 0.3


def test_area_shrinking_is_steadier_than_cubic_on_real_line_art():
    from course.data.photos import load_photo

    lines = line_art(load_photo("astronaut", 256), gain=3)
    area, cubic = (shift_sensitivity(lines, 4, method) for method in ("area", "cubic"))
    assert area < cubic / 2, (area, cubic)
    assert shift_sensitivity(numpy.ones((32, 32), numpy.float32), 4, "cubic") == 0
    assert shrink_line_art(lines, 64, "area").shape == (64, 64)
    with pytest.raises(ValueError):
        shrink_line_art(lines, 64, "nearest")


# --- metrics -----------------------------------------------------------------------------------------

def test_line_f1_on_known_masks():
    a = numpy.zeros((8, 8), bool)
    a[2, 2:6] = True
    assert line_f1(a, a) == 1
    assert line_f1(a, numpy.roll(a, 1, axis=0), tolerance=0) == 0
    assert line_f1(a, numpy.roll(a, 1, axis=0), tolerance=1) == 1
    half = numpy.zeros_like(a)
    half[2, 2:4] = True  # precision 1, recall 1/2
    assert line_f1(a, half, tolerance=0) == pytest.approx(2 / 3)
    assert line_f1(a, numpy.zeros_like(a)) == 0
    with pytest.raises(ValueError):
        line_f1(a, a[:4])


def test_lab_error_is_scikit_images_ciede2000():
    from skimage.color import deltaE_ciede2000, rgb2lab

    a, b = _photo(0), _photo(1)
    expected = deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean()
    assert lab_error(a, b) == pytest.approx(expected)
    assert lab_error(a.transpose(2, 0, 1) / 255, b) == pytest.approx(expected, rel=1e-6)  # CHW, floats
    assert lab_error(a, a) == 0
    white, black = numpy.ones((2, 2, 3)), numpy.zeros((2, 2, 3))
    assert lab_error(white, black) == pytest.approx(100, abs=0.01)  # L from 100 to 0, no chroma


def test_colourfulness_against_a_hand_computed_value():
    image = numpy.zeros((2, 2, 3), numpy.uint8)
    image[0, :, 0] = 255  # red row
    image[1, :, 1] = 255  # green row
    # rg = +-255 (mean 0, sd 255), yb = 127.5 everywhere (mean 127.5, sd 0): 255 + 0.3 * 127.5
    assert colourfulness(image) == pytest.approx(255 + 0.3 * 127.5)
    assert colourfulness(image / 255.0) == pytest.approx(255 + 0.3 * 127.5)
    assert colourfulness(numpy.full((4, 4, 3), 77, numpy.uint8)) == 0


# --- losses ------------------------------------------------------------------------------------------

def test_pixel_l1_and_gan_l1_follow_their_formulas():
    rng = numpy.random.RandomState(0)
    output, target = rng.rand(2, 3, 4, 4).astype(numpy.float32), rng.rand(2, 3, 4, 4).astype(numpy.float32)
    logits = rng.randn(2, 1, 2, 2).astype(numpy.float32)
    l1 = numpy.abs(output - target).mean()
    assert float(pixel_l1(output, target).array) == pytest.approx(l1, rel=1e-5)
    expected = numpy.log1p(numpy.exp(-logits)).mean() + 7 * l1  # -log sigmoid(y) + 7 |G - t|
    assert float(gan_l1_generator_loss(logits, output, target, 7).array) == pytest.approx(expected, rel=1e-5)
    variable = chainer.Variable(output)
    gan_l1_generator_loss(logits, variable, target, 7).backward()
    assert numpy.allclose(variable.grad, 7 * numpy.sign(output - target) / output.size, atol=1e-7)


# --- data --------------------------------------------------------------------------------------------

def test_photos_split_by_photo_and_crops_are_repeatable():
    assert not set(HELD_OUT) & set(TRAINING)
    images = load_colour_photos(("rocket", "china"), 48)
    assert all(min(image.colour.shape[:2]) == 48 for image in images)
    assert images[0].lines.shape == images[0].colour.shape[:2]
    lines, colour = random_crops(images, 10, 16, seed=3)
    assert lines.shape == (10, 1, 16, 16) and colour.shape == (10, 3, 16, 16)
    assert 0 <= lines.min() and lines.max() <= 1 and colour.max() <= 1
    again = random_crops(images, 10, 16, seed=3)
    assert numpy.array_equal(lines, again[0]) and numpy.array_equal(colour, again[1])


def test_hints_paint_squares_with_a_mask():
    channels = hint_channels((8, 8), [(2, 3, (1.0, 0.5, 0.0), 1)])
    assert channels.shape == (4, 8, 8)
    assert channels[3].sum() == 9 and channels[3, 1:4, 2:5].all()
    assert numpy.allclose(channels[:3, 2, 3], [1.0, 0.5, 0.0])
    with pytest.raises(ValueError):
        hint_channels((8, 8), [(9, 0, (0, 0, 0), 1)])
    colour = numpy.random.RandomState(0).rand(3, 3, 8, 8).astype(numpy.float32)
    assert not sample_hints(colour, 0).any()
    hints = sample_hints(colour, 5, rng=numpy.random.RandomState(1))
    where = hints[:, 3:] > 0
    assert where.any() and not hints[:, :3][numpy.repeat(~where, 3, axis=1)].any()  # no colour without a mask
    ((row, column, rgb, radius),) = place_hints(colour[0], 1, rng=numpy.random.RandomState(2))
    window = colour[0, :, max(0, row - 1):row + 2, max(0, column - 1):column + 2]
    assert numpy.allclose(rgb, window.mean(axis=(1, 2))) and radius == 1  # the original's colour there


def test_colour_folders_give_clear_errors(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        read_colour_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="empty"):
        read_colour_folder(tmp_path)
    write_image(tmp_path / "grey.png", numpy.full((40, 40), 128, numpy.uint8))
    with pytest.raises(DataError, match="grey"):
        read_colour_folder(tmp_path, 32)
    (tmp_path / "grey.png").unlink()
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="not an image"):
        read_colour_folder(tmp_path, 32)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot be read"):
        read_colour_folder(tmp_path, 32)
    (tmp_path / "broken.png").unlink()
    write_image(tmp_path / "small.png", _photo(size=20))
    with pytest.raises(DataError, match="smaller"):
        read_colour_folder(tmp_path, 32)
    (tmp_path / "small.png").unlink()
    write_image(tmp_path / "fine.png", _photo())
    (image,) = read_colour_folder(tmp_path, 32)
    assert image.name == "fine.png" and image.colour.shape == (32, 32, 3)
    with pytest.raises(DataError, match="grey"):
        colour_image("grey", numpy.repeat(_photo()[..., :1], 3, axis=2), 32)


# --- models and training ------------------------------------------------------------------------------

def test_models_shapes_and_skips():
    from course.models.colorization import ColorAutoencoder, Critic, PatchDiscriminator, UNet

    x = numpy.random.RandomState(0).rand(2, 1, 16, 16).astype(numpy.float32)
    for model in (ColorAutoencoder(1, 4, 2), UNet(1, 4, 2)):
        y = model(x)
        assert y.shape == (2, 3, 16, 16) and 0 <= y.array.min() and y.array.max() <= 1
    assert UNet(5, 4, 2)(numpy.zeros((1, 5, 16, 16), numpy.float32)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="multiple of 4"):
        UNet(1, 4, 2)(x[:, :, :14])
    assert PatchDiscriminator(1, 4, 2)(x, numpy.zeros((2, 3, 16, 16), numpy.float32)).shape == (2, 1, 4, 4)
    assert Critic(1, 4, 2)(x, numpy.zeros((2, 3, 16, 16), numpy.float32)).shape == (2, 1)
    # The U-Net's last layer reads the input itself: a change at one pixel changes the output there at once.
    unet = UNet(1, 4, 2)
    with chainer.using_config("train", False):
        a, b = unet(x).array, unet(numpy.where(numpy.arange(16) == 5, 0, x)).array
    assert not numpy.allclose(a, b)


def test_gan_and_wgan_steps_run_and_the_critic_is_clipped(tmp_path):
    from course.tasks import colorize

    sizes = replace(colorize.QUICK, **TINY)
    crops = random_crops(load_colour_photos(("rocket",), sizes.side), 32, sizes.crop)
    generator, discriminator, history = colorize.train_gan_l1(crops, sizes, tmp_path / "gan", progress=False,
                                                              live_plot=False)
    assert {"dis/loss", "gen/adversarial_loss", "gen/extra_loss"} <= history.keys()
    from course.losses import log_ratio_generator_loss

    _, _, log_ratio = colorize.train_gan_l1(crops, sizes, tmp_path / "log_ratio", start=generator, progress=False,
                                            live_plot=False, generator_loss=log_ratio_generator_loss)
    assert log_ratio.log != history.log  # another adversarial loss, another run
    _, critic, history = colorize.train_wgan_l1(crops, sizes, tmp_path / "wgan", progress=False, live_plot=False)
    assert max(float(abs(p.array).max()) for p in critic.params()) <= 0.01 + 1e-7
    assert (tmp_path / "wgan" / "generator.npz").exists()


def test_colorize_any_size_and_hints(tmp_path):
    from course.tasks import colorize

    sizes = replace(colorize.QUICK, **TINY)
    hinted = colorize.build_unet(sizes, hints=True)
    lines = numpy.ones((13, 19), numpy.float32)
    out = colorize.colorize(hinted, lines)
    assert out.shape == (3, 13, 19)
    hints = hint_channels((13, 19), [(4, 4, (1.0, 0.0, 0.0), 1)])
    assert not numpy.allclose(colorize.colorize(hinted, lines, hints), out)  # hints reach the output
    with pytest.raises(InputError):
        colorize.colorize(colorize.build_unet(sizes), lines, hints)


def test_hint_panel_without_a_browser(tmp_path):
    from course.tasks import colorize
    from course.widgets import HintPanel

    sizes = replace(colorize.QUICK, **TINY)
    model = colorize.build_unet(sizes, hints=True)
    lines = load_colour_photos(("rocket",), 32)[0].lines
    panel = HintPanel(lambda l, h: colorize.colorize(model, l, h), lines)
    before = panel.render()
    panel.add(10, 12, "#ff0000")
    panel.add(20, 5, (0.0, 0.0, 1.0))
    assert len(panel.hints) == 2 and "2 hints" in panel.status.value
    assert not numpy.allclose(panel.render(), before)
    written = panel.save_hints(tmp_path / "hints.png")
    assert numpy.allclose(colorize.read_hints(written, lines.shape), panel.hint_channels(), atol=1 / 255)
    panel.undo()
    assert len(panel.hints) == 1
    panel.clear()
    assert numpy.allclose(panel.render(), before)
    with pytest.raises(ValueError):
        panel.add(0, 0, "red")


# --- checkers ----------------------------------------------------------------------------------------

def test_checkers_tell_right_from_wrong():
    import cv2

    from course.checks.lesson08 import check_colourfulness, check_line_art
    from course.images import to_grey

    def right(image):
        grey = to_grey(image)
        return 1 - (cv2.dilate(grey, numpy.ones((3, 3), numpy.uint8)) - grey)

    def not_inverted(image):
        grey = to_grey(image)
        return cv2.dilate(grey, numpy.ones((3, 3), numpy.uint8)) - grey

    assert check_line_art(right)
    result = check_line_art(not_inverted)
    assert not result and "invert" in result.message
    assert check_colourfulness(colourfulness)
    result = check_colourfulness(lambda image: colourfulness(image) / 255)
    assert not result and "0-255" in result.message


# --- command line ------------------------------------------------------------------------------------

def _run(*arguments):
    return subprocess.run([sys.executable, "-m", "course", *arguments], capture_output=True, text=True,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def test_cli_trains_resumes_and_colours(tmp_path):
    from course.tasks import colorize

    sizes = replace(colorize.QUICK, **TINY)
    out = tmp_path / "run"
    done = _run("train", "colorize", "--out", str(out), *size_arguments(sizes))
    assert done.returncode == 0, done.stderr
    assert "held_out/hinted_lab_error" in done.stdout
    for name in ("model", "generator", "discriminator"):
        assert (out / f"{name}.npz").exists() and (out / f"{name}.json").exists()
    again = _run("train", "colorize", "--out", str(out), *size_arguments(sizes))
    assert again.returncode == 0 and again.stdout.splitlines()[-4:] == done.stdout.splitlines()[-4:]

    photo = tmp_path / "photo.png"
    write_image(photo, _photo(size=30))
    coloured = tmp_path / "coloured.png"
    done = _run("colorize", "--model", str(out / "model.npz"), str(photo), str(coloured), "--from-colour")
    assert done.returncode == 0, done.stderr
    from course.images import read_image

    assert read_image(coloured).shape == (30, 30, 3)
    hints = numpy.zeros((30, 30, 4), numpy.uint8)
    hints[5:8, 5:8] = (255, 0, 0, 255)
    write_image(tmp_path / "hints.png", hints)
    lines = tmp_path / "lines.png"
    write_image(lines, line_art(_photo(size=30)))
    done = _run("colorize", "--model", str(out / "model.npz"), str(lines), str(coloured), "--hints",
                str(tmp_path / "hints.png"))
    assert done.returncode == 0, done.stderr
    missing = _run("colorize", "--model", str(out / "model.npz"), str(tmp_path / "nope.png"), str(coloured))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    wrong = _run("colorize", "--model", str(out / "model.npz"), str(lines), str(coloured), "--hints", str(photo))
    assert wrong.returncode == 2 and "alpha" in wrong.stderr
    folder = tmp_path / "illustrations"
    folder.mkdir()
    write_image(folder / "one.png", _photo(size=70))
    scored = _run("evaluate", "colorize", "--model", str(out / "model.npz"), "--data", str(folder))
    assert scored.returncode == 0, scored.stderr
    assert "line_f1" in scored.stdout and "hinted_lab_error" in scored.stdout
    refused = _run("colorize", "--model", str(out / "discriminator.npz"), str(lines), str(coloured))
    assert refused.returncode == 2 and "not a colouriser" in refused.stderr


def test_hint_count_checker_measures_the_answer():
    from course.checks.lesson08 import check_hint_counts
    from course.tasks import colorize

    sizes = replace(colorize.QUICK, **TINY)
    model = colorize.build_unet(sizes, hints=True)
    images = load_colour_photos(("chelsea",), 32)
    errors = {n: colorize.held_out_scores(model, images, hints=n).lab_error for n in (0, 4, 16)}
    best = min(errors, key=errors.get)
    assert check_hint_counts(errors, best, model, images)
    worst = max(errors, key=errors.get)
    assert not check_hint_counts(errors, worst, model, images)
    assert not check_hint_counts({4: 1.0, 16: 1.0, 32: 1.0}, 4, model, images)  # no 0 to compare with
    assert not check_hint_counts({**errors, 0: errors[0] + 1}, best, model, images)  # a made-up number
