"""Lesson 7: resampling, the pixel shuffle, SRResNet, the losses, Y-PSNR/SSIM, the data and the command line."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import chainer
import chainer.functions as F
import numpy
import pytest
from PIL import Image

from conftest import size_arguments
from course.__main__ import main
from course.data.photos import load_photo
from course.data.superres import HELD_OUT, TRAINING, model_values, random_patches, read_sr_folder, sr_image
from course.errors import DataError
from course.images import read_image, write_image
from course.losses import content_loss, pixel_mse
from course.metrics import crop_border, sharpness, sharpness_ratio, sr_table, sr_scores, y_channel, y_psnr, y_ssim
from course.models import load_model
from course.models.content import DigitFeatures, load_vgg16_features
from course.models.mnist import MnistCNN
from course.models.srresnet import DeconvolutionUpsampler, ShuffleUpsampler, SRResNet, checkerboard, pixel_shuffle
from course.data.resampling import bicubic_downscale, bicubic_upscale, cubic
from course.tasks import superres
from course.training import GANUpdater
from course.training.superres import SRGANUpdater, SRGANWeights, cosine_rate, train_srgan, train_superres

RNG = numpy.random.RandomState(7)


# --- resampling ------------------------------------------------------------------------------------

def test_cubic_kernel_is_keys_with_a_half():
    assert cubic(0) == 1 and cubic(1) == 0 and cubic(2) == 0 and cubic(2.5) == 0
    assert cubic(0.5) == pytest.approx(0.5625)  # (a+2)/8 - (a+3)/4 + 1 with a = -0.5
    assert cubic(1.5) == pytest.approx(-0.0625)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_downscale_matches_pillows_antialiased_bicubic_inside_the_borders(factor):
    image = (RNG.rand(12 * factor, 10 * factor) * 255).astype(numpy.float32)
    ours = bicubic_downscale(image, factor)
    pillow = numpy.asarray(Image.fromarray(image, mode="F").resize((10, 12), Image.BICUBIC, reducing_gap=None))
    assert ours.shape == (12, 10)
    numpy.testing.assert_allclose(ours[2:-2, 2:-2], pillow[2:-2, 2:-2], atol=1e-3)  # Pillow renormalises at borders
    assert numpy.abs(ours - pillow).max() > 0.01  # ...where MATLAB (and we) mirror


def test_upscale_matches_pillows_bicubic_inside_the_borders_and_keeps_flat_images_flat():
    small = (RNG.rand(10, 12) * 255).astype(numpy.float32)
    ours = bicubic_upscale(small[None, None], 4)[0, 0]
    pillow = numpy.asarray(Image.fromarray(small, mode="F").resize((48, 40), Image.BICUBIC))
    numpy.testing.assert_allclose(ours[8:-8, 8:-8], pillow[8:-8, 8:-8], atol=1e-3)
    flat = bicubic_upscale(numpy.full((1, 2, 5, 6), 0.3, numpy.float32), 4)
    assert flat.shape == (1, 2, 20, 24) and numpy.allclose(flat, 0.3)
    assert numpy.allclose(bicubic_downscale(numpy.full((8, 12, 3), 0.7), 4), 0.7)


def test_downscale_refuses_sides_that_do_not_divide():
    with pytest.raises(ValueError, match="crop it to a multiple of 4"):
        bicubic_downscale(numpy.zeros((10, 12)), 4)


# --- the pixel shuffle and SRResNet ------------------------------------------------------------------

def test_pixel_shuffle_is_depth2space_forward_and_backward():
    x = RNG.randn(2, 12, 3, 5).astype(numpy.float32)
    gy = RNG.randn(2, 3, 6, 10).astype(numpy.float32)
    ours, theirs = chainer.Variable(x.copy()), chainer.Variable(x.copy())
    y_ours, y_theirs = pixel_shuffle(ours, 2), F.depth2space(theirs, 2)
    assert numpy.array_equal(y_ours.array, y_theirs.array)
    y_ours.grad, y_theirs.grad = gy, gy.copy()
    y_ours.backward()
    y_theirs.backward()
    assert numpy.array_equal(ours.grad, theirs.grad)
    # channel (dy * 2 + dx) * C + c of pixel (y, x) -> channel c of pixel (2y + dy, 2x + dx)
    assert y_ours.array[1, 2, 2 * 1 + 1, 2 * 3 + 0] == x[1, (1 * 2 + 0) * 3 + 2, 1, 3]
    with pytest.raises(ValueError, match="multiple of 4"):
        pixel_shuffle(x[:, :10], 2)


def test_an_untrained_srresnet_with_the_bicubic_skip_is_bicubic():
    x = RNG.rand(2, 1, 6, 7).astype(numpy.float32)
    model = SRResNet(channels=4, blocks=1, scale=4, in_channels=1, activation="prelu", kernel=3)
    y = model(x)
    assert y.shape == (2, 1, 24, 28)
    assert numpy.array_equal(y.array, bicubic_upscale(x, 4))
    plain = SRResNet(channels=4, blocks=1, scale=4, in_channels=1, kernel=3, bicubic_skip=False, batch_norm=False)
    assert not numpy.allclose(plain(x).array, bicubic_upscale(x, 4), atol=1e-2)
    deconv = SRResNet(channels=4, blocks=2, scale=2, in_channels=3, kernel=3, upsampler="deconvolution")
    assert deconv(RNG.rand(1, 3, 5, 5).astype(numpy.float32)).shape == (1, 3, 10, 10)
    with pytest.raises(ValueError, match="power of 2"):
        SRResNet(scale=3)


def test_a_deconvolution_whose_kernel_the_stride_does_not_divide_leaves_a_checkerboard():
    def flat_weights(up):
        for param in up.params():
            param.array[...] = 0.1 if param.name == "W" else 0.0
        return up

    odd = checkerboard(flat_weights(DeconvolutionUpsampler(4, ksize=3)), 4)
    even = checkerboard(flat_weights(DeconvolutionUpsampler(4, ksize=6)), 4)
    shuffle = checkerboard(flat_weights(ShuffleUpsampler(4)), 4)
    inside = (slice(4, -4), slice(4, -4))
    assert odd[inside].std() > 0.1 and odd[4, 4] != odd[4, 5] and odd[4, 4] == odd[6, 6]  # period 2
    assert even[inside].std() < 1e-6 and shuffle[inside].std() < 1e-6
    budget = lambda link: sum(p.size for p in link.params() if p.name == "W")  # noqa: E731
    assert budget(DeconvolutionUpsampler(8)) == budget(ShuffleUpsampler(8))  # the same budget: 36 weights a pair


# --- losses -----------------------------------------------------------------------------------------

def test_pixel_mse_and_content_loss_follow_their_formulas():
    a, b = RNG.rand(3, 1, 8, 8).astype(numpy.float32), RNG.rand(3, 1, 8, 8).astype(numpy.float32)
    assert float(pixel_mse(a, b).array) == pytest.approx(((a - b) ** 2).mean(), rel=1e-6)
    assert float(content_loss(lambda x: 2 * x, a, b).array) == pytest.approx(4 * ((a - b) ** 2).mean(), rel=1e-5)
    output, target = chainer.Variable(a), chainer.Variable(b)
    content_loss(lambda x: F.relu(x - 0.5), output, target).backward()
    assert output.grad is not None and target.grad is None  # the target's features carry no gradient
    expected = 2 * (numpy.maximum(a - 0.5, 0) - numpy.maximum(b - 0.5, 0)) * (a > 0.5) / a.size
    numpy.testing.assert_allclose(output.grad, expected, rtol=1e-5, atol=1e-8)


def test_digit_features_are_lesson_2s_cnn_layers_on_grey():
    cnn = MnistCNN()
    grey = RNG.rand(2, 1, 16, 16).astype(numpy.float32)
    rgb = numpy.repeat(grey, 3, axis=1)
    features = DigitFeatures(cnn, "conv1")
    assert features(grey).shape == (2, 32, 8, 8)
    numpy.testing.assert_allclose(features(rgb).array, features(grey).array, atol=1e-5)  # equal channels: same grey
    assert DigitFeatures(cnn, "conv2")(grey).shape == (2, 64, 4, 4)
    with pytest.raises(ValueError, match="conv1 or conv2"):
        DigitFeatures(cnn, "fc3")


def test_vgg16_weights_load_from_a_local_npz_through_vgg16layers(tmp_path):
    """A small npz in the layout of Chainer's VGG16 file: real numbers for conv1_1, one number for every other array."""
    conv1_w = RNG.randn(64, 3, 3, 3).astype(numpy.float32)
    conv1_b = RNG.randn(64).astype(numpy.float32)
    names = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1", "conv4_2",
             "conv4_3", "conv5_1", "conv5_2", "conv5_3", "fc6", "fc7", "fc8"]
    arrays = {f"{name}/{kind}": numpy.float32(0.0) for name in names for kind in ("W", "b")}
    arrays.update({"conv1_1/W": conv1_w, "conv1_1/b": conv1_b})
    path = tmp_path / "vgg16_small.npz"
    numpy.savez(path, **arrays)
    features = load_vgg16_features(path, "conv1_1")
    assert numpy.array_equal(features.vgg.conv1_1.W.array, conv1_w)
    x = RNG.rand(1, 3, 6, 6).astype(numpy.float32)
    bgr = x[:, ::-1] * 255 - numpy.array([103.939, 116.779, 123.68], numpy.float32).reshape(1, 3, 1, 1)
    expected = F.relu(F.convolution_2d(bgr, conv1_w, conv1_b, pad=1)).array
    numpy.testing.assert_allclose(features(x).array, expected, rtol=1e-4, atol=1e-3)
    assert features(x[:, :1]).shape == (1, 64, 6, 6)  # grey is repeated into three channels
    with pytest.raises(DataError, match="does not exist"):
        load_vgg16_features(tmp_path / "missing.npz")
    (tmp_path / "other.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="not VGG16's weights"):
        load_vgg16_features(tmp_path / "other.npz")


# --- measuring ---------------------------------------------------------------------------------------

def test_y_channel_is_bt601_studio_range_as_scikit_image_computes_it():
    from skimage.color import rgb2ycbcr

    colours = numpy.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0]]], numpy.uint8)
    numpy.testing.assert_allclose(y_channel(colours)[0], [235, 16, 16 + 65.481, 16 + 128.553])
    photo = load_photo("astronaut", 64)
    numpy.testing.assert_allclose(y_channel(photo), rgb2ycbcr(photo)[..., 0], atol=1e-6)
    numpy.testing.assert_allclose(y_channel(photo / 255.0), y_channel(photo), atol=1e-9)


def test_y_psnr_and_ssim_on_known_images():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    grey = numpy.repeat(RNG.randint(20, 200, (32, 32, 1)), 3, axis=2).astype(numpy.uint8)
    brighter = grey + 3  # Y moves by 3 * 219 / 255 everywhere
    assert y_psnr(brighter, grey, border=0) == pytest.approx(20 * numpy.log10(255 / (3 * 219 / 255)), abs=1e-9)
    assert y_psnr(grey, grey) == float("inf")
    framed = grey.copy()
    framed[:4] = 0  # differences only in the cropped border
    assert y_psnr(framed, grey, border=4) == float("inf") and y_psnr(framed, grey, border=0) < 20
    photo = load_photo("coffee", 96)
    noisy = numpy.clip(photo + RNG.normal(0, 8, photo.shape), 0, 255).astype(numpy.uint8)
    y_a, y_b = crop_border(y_channel(noisy), 4), crop_border(y_channel(photo), 4)
    assert y_psnr(noisy, photo) == pytest.approx(peak_signal_noise_ratio(y_b, y_a, data_range=255))
    assert y_ssim(noisy, photo) == pytest.approx(structural_similarity(
        y_b, y_a, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
    assert y_ssim(photo, photo) == pytest.approx(1.0) and 0 < y_ssim(noisy, photo) < 0.95
    with pytest.raises(ValueError, match="both images as uint8"):
        y_psnr(noisy / 255.0, photo)


def test_sharpness_is_the_mean_gradient_of_y():
    ramp = numpy.repeat(numpy.repeat(numpy.arange(40, dtype=numpy.uint8)[None, :, None], 20, axis=0), 3, axis=2)
    assert sharpness(ramp, border=2) == pytest.approx(219 / 255)  # one grey level per column, on Y's scale
    assert sharpness(numpy.full((20, 20, 3), 90, numpy.uint8)) == 0
    photo = load_photo("astronaut", 128)
    blurred = superres.bicubic(numpy.clip(numpy.round(bicubic_downscale(photo, 4)), 0, 255).astype(numpy.uint8))
    assert sharpness_ratio(blurred, photo) < 0.8 and sharpness_ratio(photo, photo) == 1
    scores = [sr_scores("a", photo, blurred, photo), sr_scores("b", blurred, blurred, photo)]
    table = sr_table(scores).splitlines()
    assert table[-1].startswith("mean") and len(table) == 4 and "+" in table[1]


# --- data ----------------------------------------------------------------------------------------------

def test_the_split_is_by_photo():
    assert len(TRAINING) == 17 and not set(TRAINING) & set(HELD_OUT)
    assert {"colorwheel", "logo", "horse"}.isdisjoint(TRAINING)


def test_sr_image_converts_and_crops_and_says_so():
    said = []
    grey = sr_image("g", RNG.randint(0, 255, (37, 42)).astype(numpy.uint8), 4, say=said.append)
    assert grey.hr.shape == (36, 40, 3) and grey.lr.shape == (9, 10, 3)
    assert any("grey" in line for line in said) and any("cropped to 40x36" in line for line in said)
    said.clear()
    rgba = sr_image("t", numpy.zeros((16, 16, 4), numpy.uint8), 4, say=said.append)
    assert any("RGBA" in line for line in said) and (rgba.hr == 255).all()  # transparent -> white
    with pytest.raises(DataError, match="at least 16x16"):
        sr_image("small", numpy.zeros((15, 40, 3), numpy.uint8), 4)


def test_folders_give_clear_errors(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        read_sr_folder(tmp_path)
    write_image(tmp_path / "a.png", load_photo("chelsea", 64))
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(DataError, match="notes.txt is not an image file"):
        read_sr_folder(tmp_path)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="broken.png"):
        read_sr_folder(tmp_path)
    (tmp_path / "broken.png").unlink()
    write_image(tmp_path / "tiny.png", numpy.zeros((8, 8, 3), numpy.uint8))
    with pytest.raises(DataError, match="tiny.png is 8x8"):
        read_sr_folder(tmp_path)


def test_patches_pair_a_low_resolution_square_with_its_original():
    images = [sr_image(name, load_photo(name, 128), 4, say=None) for name in ("rocket", "grace_hopper")]
    lr, hr = random_patches(images, 40, 32, channels=1, seed=3)
    assert lr.shape == (40, 1, 8, 8) and hr.shape == (40, 1, 32, 32) and lr.dtype == numpy.float32
    again, _ = random_patches(images, 40, 32, channels=1, seed=3)
    assert numpy.array_equal(lr, again)
    error = lambda a, b: float(((bicubic_upscale(a, 4) - b)[:, :, 4:-4, 4:-4] ** 2).mean())  # noqa: E731
    assert error(lr, hr) < 0.3 * error(lr[::-1], hr)  # each pair shows one scene
    lr_rgb, hr_rgb = random_patches(images, 5, 32, channels=3)
    assert lr_rgb.shape == (5, 3, 8, 8) and hr_rgb.max() <= 1
    numpy.testing.assert_allclose(model_values(numpy.full((1, 2, 2, 3), 255, numpy.uint8), 1), 235 / 255)


# --- training -------------------------------------------------------------------------------------------

def tiny_patches(n=32, channels=1):
    images = [sr_image(name, load_photo(name, 96), 4, say=None) for name in ("rocket", "grace_hopper")]
    return random_patches(images, n, 16, channels=channels)


def test_cosine_rate():
    assert cosine_rate(1e-3, 0) == 1e-3 and cosine_rate(1e-3, 0.5) == pytest.approx(5e-4)
    assert cosine_rate(1e-3, 1) == pytest.approx(0) and cosine_rate(1e-3, 2) == pytest.approx(0)


def test_mse_stage_learns_and_resumes(tmp_path):
    patches = tiny_patches(64)
    model = SRResNet(channels=8, blocks=1, scale=4, in_channels=1, activation="relu", kernel=3, batch_norm=False)
    history = train_superres(model, patches, epochs=2, batch_size=8, lr=1e-3, out=tmp_path, progress=False,
                             live_plot=False)
    assert {"main/loss", "main/psnr"} <= history.keys()
    assert not numpy.allclose(model.tail.W.array, 0)  # the zero-initialised last layer moved
    again = SRResNet(channels=8, blocks=1, scale=4, in_channels=1, activation="relu", kernel=3, batch_norm=False)
    assert train_superres(again, patches, epochs=2, batch_size=8, out=tmp_path, progress=False).log == history.log
    assert numpy.array_equal(again.tail.W.array, model.tail.W.array)


def test_srgan_updater_feeds_d_originals_and_g_low_resolution(tmp_path):
    lr, hr = tiny_patches(16)
    generator = SRResNet(channels=4, blocks=1, scale=4, in_channels=1, kernel=3, batch_norm=False)
    discriminator = superres.build_discriminator(replace(superres.QUICK, patch=16, dis_channels=4, dis_levels=2))
    before = generator.tail.W.array.copy()
    seen = []

    def features(x):
        seen.append(x.shape)
        return x * 3

    weights = SRGANWeights(content=1.0, pixel=0.5, adversarial=1e-2)
    history = train_srgan(generator, discriminator, (lr, hr), epochs=1, features=features, weights=weights,
                          batch_size=8, out=tmp_path, progress=False, live_plot=False)
    assert issubclass(SRGANUpdater, GANUpdater)
    assert {"dis/loss", "gen/loss", "gen/adversarial_loss", "gen/extra_loss"} <= history.keys()
    assert seen and all(shape == (8, 1, 16, 16) for shape in seen)
    assert not numpy.array_equal(before, generator.tail.W.array)
    assert (tmp_path / "generator.npz").exists() and (tmp_path / "discriminator.npz").exists()
    entry = history.log[-1]
    assert entry["gen/loss"] == pytest.approx(entry["gen/adversarial_loss"] + entry["gen/extra_loss"], rel=1e-4)
    assert entry["gen/extra_loss"] > 0 and entry["gen/adversarial_loss"] < 0.1


# --- enlarging, the command line ------------------------------------------------------------------------

def test_upscale_in_tiles_has_no_seams():
    model = SRResNet(channels=4, blocks=2, scale=4, in_channels=1, kernel=3, batch_norm=False)
    model.tail.W.array[...] = RNG.randn(*model.tail.W.shape) * 0.5  # a network whose output is not just bicubic
    x = RNG.rand(1, 45, 38).astype(numpy.float32)
    whole = superres.enlarge_values(model, x, tile=1000)
    tiled = superres.enlarge_values(model, x, tile=10)
    assert whole.shape == (1, 180, 152)
    assert numpy.abs(tiled - whole).max() < 1e-5


@pytest.fixture
def no_margin(monkeypatch):
    monkeypatch.setattr(superres, "margin", lambda model: 0)


def test_tiles_without_the_margin_show_seams(no_margin):
    model = SRResNet(channels=4, blocks=2, scale=4, in_channels=1, kernel=3, batch_norm=False)
    model.tail.W.array[...] = RNG.randn(*model.tail.W.shape) * 0.5
    x = RNG.rand(1, 30, 30).astype(numpy.float32)
    seams = superres.enlarge_values(model, x, tile=10) - superres.enlarge_values(model, x, tile=100)
    assert numpy.abs(seams).max() > 1e-3


@pytest.fixture
def tiny_superres():
    return size_arguments(replace(superres.QUICK, channels=4, blocks=1, patch=16, patches=48, mse_epochs=1,
                                  gan_epochs=1, dis_channels=4, dis_levels=2, feature_digits=100, snapshot_every=2))


def test_train_evaluate_and_upscale_from_the_command_line(tiny_superres, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "superres", "--out", str(out), *tiny_superres]) == 0
    printed = capsys.readouterr().out
    assert f"{superres.METRIC} " in printed and "the adversarial model" in printed
    for name in ("model", "generator", "discriminator"):
        assert (out / f"{name}.npz").exists() and (out / f"{name}.json").exists()
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"]["channels"] == 4 and superres.METRIC in report
    logs = {part: (out / part / "log.json").read_text() for part in ("mse", "features", "gan")}
    assert main(["train", "superres", "--out", str(out), *tiny_superres]) == 0  # resumes: nothing left to do
    assert logs == {part: (out / part / "log.json").read_text() for part in logs}
    assert isinstance(load_model(out / "generator.npz"), SRResNet)

    folder = tmp_path / "set"
    folder.mkdir()
    write_image(folder / "coffee.png", load_photo("coffee", 70))  # 70x47: cropped to 68x44
    write_image(folder / "grey.png", load_photo("camera", 48, rgb=False))
    capsys.readouterr()
    assert main(["evaluate", "superres", "--model", str(out / "model.npz"), "--data", str(folder)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"psnr_gain_db [+-]\d+\.\d\d", lines[-1]), lines[-1]
    assert any(line.startswith("coffee.png") for line in lines) and any(line.startswith("mean") for line in lines)
    assert any("grey image" in line for line in lines) and any("cropped to 68x44" in line for line in lines)

    big = tmp_path / "big.png"
    assert main(["upscale", "--model", str(out / "generator.npz"), str(folder / "grey.png"), str(big)]) == 0
    assert read_image(big).shape == (192, 192, 3)
    assert "written to" in capsys.readouterr().out


def test_command_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    model = SRResNet(channels=4, blocks=1, scale=4, in_channels=1, kernel=3)
    from course.models import save_model

    save_model(model, tmp_path / "model.npz")
    assert main(["evaluate", "superres", "--model", str(tmp_path / "model.npz"), "--data", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err
    assert main(["upscale", "--model", str(tmp_path / "missing.npz"), str(tmp_path / "in.png"),
                 str(tmp_path / "out.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    write_image(tmp_path / "in.png", numpy.zeros((3, 3, 3), numpy.uint8))
    assert main(["upscale", "--model", str(tmp_path / "model.npz"), str(tmp_path / "in.png"),
                 str(tmp_path / "out.png")]) == 2
    assert "at least 4x4" in capsys.readouterr().err


def test_an_rgb_model_enlarges_all_three_channels_and_a_y_model_keeps_bicubic_colour():
    lr = load_photo("coffee", 40)[:24, :32]
    rgb = SRResNet(channels=4, blocks=1, scale=4, in_channels=3, kernel=3, batch_norm=False)
    assert numpy.abs(superres.upscale(rgb, lr).astype(int) - superres.bicubic(lr)).max() <= 1  # untrained: bicubic
    y_model = SRResNet(channels=4, blocks=1, scale=4, in_channels=1, kernel=3, batch_norm=False)
    y_model.tail.W.array[...] = 0.002  # a small change of Y: little clipping in the colour conversion
    out = superres.upscale(y_model, lr)
    assert out.shape == (96, 128, 3)
    from skimage.color import rgb2ycbcr

    chroma = numpy.abs(rgb2ycbcr(out)[..., 1:] - rgb2ycbcr(superres.bicubic(lr))[..., 1:])
    assert chroma.mean() < 0.5 and not numpy.array_equal(out, superres.bicubic(lr))


def test_training_images_from_a_folder(tmp_path):
    sizes = replace(superres.QUICK, patch=16)
    write_image(tmp_path / "a.png", load_photo("rocket", 64))
    write_image(tmp_path / "b.jpg", load_photo("grace_hopper", 64))
    images = superres.training_images(tmp_path, sizes, verbose=False)
    assert [image.name for image in images] == ["a.png", "b.jpg"] and images[0].lr.shape[2] == 3
    write_image(tmp_path / "c.png", numpy.zeros((12, 40, 3), numpy.uint8))
    with pytest.raises(DataError, match="c.png is 40x12 px"):
        superres.training_images(tmp_path, sizes, verbose=False)
    with pytest.raises(DataError, match="neither"):
        superres.training_images(tmp_path / "missing", sizes, verbose=False)


def test_the_full_profiles_networks_fit_together():
    full = superres.FULL
    generator = superres.build_generator(full)
    discriminator = superres.build_discriminator(full)
    x = numpy.random.RandomState(0).rand(2, 3, full.patch // 4, full.patch // 4).astype(numpy.float32)
    y = generator(x)
    assert y.shape == (2, 3, full.patch, full.patch) and discriminator(y).shape == (2, 1)
    assert generator.in_channels == 3 and len(generator.body) == 16
