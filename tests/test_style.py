"""Lesson 3's data (list files, Flickr csv, downloads, tile-and-crop, looks, the offline set), NIN and CLI."""
import gzip
import hashlib
import http.server
import threading
import time
from dataclasses import replace
from functools import partial

import chainer
import cv2
import numpy
import pytest

from conftest import size_arguments
from course.data import DataError, DownloadError, flickr, style
from course.data.flickr import download_flickr_style, read_flickr_csv
from course.data.style import (
    LOOKS,
    N_STYLES,
    PHOTO_NAMES,
    STYLE_NAMES,
    VALIDATION_PHOTOS,
    ImageListDataset,
    apply_look,
    compute_mean,
    load_flickr_style,
    load_image_list,
    load_offline_style,
    load_style,
    make_style_set,
    read_image_list,
    read_list_image,
    save_image_list,
    tile_and_crop,
    write_image_list,
)
from course.models.nin import NIN, ImageInput


def write_png(path, size=(20, 30), seed=0):
    """A real image file (PNG or JPEG by suffix) with random colours; returns the RGB array written."""
    rgb = numpy.random.RandomState(seed).randint(0, 256, size=(*size, 3)).astype(numpy.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return rgb


# --- tile and crop --------------------------------------------------------------------------------

def test_tile_and_crop_cuts_the_centre_of_a_big_image():
    image = numpy.arange(10 * 12).reshape(10, 12)
    numpy.testing.assert_array_equal(tile_and_crop(image, 4), image[3:7, 4:8])


def test_tile_and_crop_repeats_a_small_image_without_scaling():
    image = numpy.random.RandomState(0).randint(0, 256, (5, 7, 3)).astype(numpy.uint8)
    out = tile_and_crop(image, 16)
    assert out.shape == (16, 16, 3) and out.dtype == numpy.uint8
    # every pixel is a pixel of the image, periodic with the image's own size
    numpy.testing.assert_array_equal(out[5:, :], out[:-5, :])
    numpy.testing.assert_array_equal(out[:, 7:], out[:, :-7])
    assert {tuple(p) for p in out.reshape(-1, 3)} <= {tuple(p) for p in image.reshape(-1, 3)}


def test_tile_and_crop_mixes_both_for_a_long_thin_image():
    out = tile_and_crop(numpy.ones((3, 100), numpy.float32), 10)
    assert out.shape == (10, 10) and out.dtype == numpy.float32


@pytest.mark.parametrize("image, size", [(numpy.zeros((4, 4)), 0), (numpy.zeros((4, 4)), 2.5),
                                         (numpy.zeros(4), 2), (numpy.zeros((0, 4)), 2)])
def test_tile_and_crop_refuses_bad_arguments(image, size):
    with pytest.raises(ValueError):
        tile_and_crop(image, size)


# --- list files and images ------------------------------------------------------------------------

def test_list_file_round_trip_with_relative_absolute_and_spaced_paths(tmp_path):
    write_png(tmp_path / "images" / "a.png")
    write_png(tmp_path / "my photos" / "b c.jpg")
    elsewhere = tmp_path / "other" / "d.png"
    write_png(elsewhere)
    list_file = write_image_list(tmp_path / "train.txt", [(tmp_path / "images" / "a.png", 3),
                                                           (tmp_path / "my photos" / "b c.jpg", 19),
                                                           (elsewhere, 0)])
    text = list_file.read_text()
    assert text.startswith("images/a.png 3\nmy photos/b c.jpg 19\n")
    with open(list_file, "a") as f:
        f.write("\n")  # blank lines are fine
    entries = read_image_list(list_file)
    assert [e.label for e in entries] == [3, 19, 0]
    assert entries[1].path == tmp_path / "my photos" / "b c.jpg"


def test_list_file_with_absolute_paths_as_the_seed_wrote_them(tmp_path):
    rgb = write_png(tmp_path / "img" / "x.png", size=(8, 8))
    (tmp_path / "train.txt").write_text(f"{tmp_path / 'img' / 'x.png'} 4\n")
    images, labels = load_image_list(tmp_path / "train.txt", 8)
    numpy.testing.assert_array_equal(images[0], rgb.transpose(2, 0, 1))
    assert labels.tolist() == [4] and labels.dtype == numpy.int32


@pytest.mark.parametrize("line, message", [
    ("images/a.png", r"line 1: 'images/a.png' is not `path label`"),
    ("images/a.png Noir", r"line 1: the label 'Noir' is not a whole number"),
    ("images/a.png 20", r"line 1: label 20 is outside 0-19"),
    ("images/a.png -1", r"label -1 is outside 0-19"),
    ("images/gone.png 1", r"names 1 image file\(s\) that do not exist: .*gone.png"),
])
def test_bad_list_lines_are_named(tmp_path, line, message):
    write_png(tmp_path / "images" / "a.png")
    (tmp_path / "train.txt").write_text(line + "\n")
    with pytest.raises(DataError, match=message):
        read_image_list(tmp_path / "train.txt")


def test_missing_and_empty_list_files(tmp_path):
    with pytest.raises(DataError, match="does not exist.*download style"):
        read_image_list(tmp_path / "train.txt")
    (tmp_path / "train.txt").write_text("\n\n")
    with pytest.raises(DataError, match="lists no images"):
        read_image_list(tmp_path / "train.txt")


def test_an_unreadable_image_is_named(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(DataError, match=r"broken.jpg cannot be read as an image"):
        read_list_image(tmp_path / "broken.jpg", 8)


def test_image_list_dataset_reads_lazily_and_stacks_slices(tmp_path):
    rgbs = [write_png(tmp_path / f"{i}.png", size=(6, 9), seed=i) for i in range(3)]
    write_image_list(tmp_path / "l.txt", [(tmp_path / f"{i}.png", i) for i in range(3)])
    images, labels = load_image_list(tmp_path / "l.txt", 12)
    assert isinstance(images, ImageListDataset) and len(images) == 3 and images.shape == (3, 3, 12, 12)
    assert images[1].shape == (3, 12, 12) and images[1].dtype == numpy.uint8
    numpy.testing.assert_array_equal(images[2], tile_and_crop(rgbs[2], 12).transpose(2, 0, 1))
    assert images[0:2].shape == (2, 3, 12, 12) and images[numpy.array([2, 0])].shape == (2, 3, 12, 12)
    assert images[5:9].shape == (0, 3, 12, 12)
    assert labels.tolist() == [0, 1, 2]


def test_flickr_folder_loads_and_an_empty_one_says_what_to_do(tmp_path):
    folder = tmp_path / "flickr_style"
    folder.mkdir()
    with pytest.raises(DataError, match="empty or missing.*download style"):
        load_flickr_style(folder)
    write_png(folder / "images" / "a.jpg", size=(40, 50))
    with pytest.raises(DataError, match="has no train.txt and test.txt"):
        load_flickr_style(folder)
    write_png(folder / "images" / "b.png", size=(10, 10), seed=1)
    write_image_list(folder / "train.txt", [(folder / "images" / "a.jpg", 7)])
    write_image_list(folder / "test.txt", [(folder / "images" / "b.png", 11)])
    data = load_flickr_style(folder, image_size=32)
    assert data.source == "flickr" and data.train[0][0].shape == (3, 32, 32)
    assert data.test[1].tolist() == [11] and set(data.train_photos).isdisjoint(data.test_photos)


def test_auto_uses_flickr_when_downloaded(tmp_data_dir):
    folder = tmp_data_dir / "flickr_style"
    write_png(folder / "images" / "a.png")
    for split in ("train", "test"):
        write_image_list(folder / f"{split}.txt", [(folder / "images" / "a.png", 2)])
    assert load_style("auto", image_size=16, verbose=False).source == "flickr"


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown style source 'kaggle'"):
        load_style("kaggle")


# --- Caffe's flickr_style.csv.gz ------------------------------------------------------------------

CSV_HEADER = ["image_id", "image_url", "page_url", "label", "_split"]


def write_flickr_csv(path, rows, header=CSV_HEADER):
    """A gzipped csv in the layout of Caffe's flickr_style.csv.gz (index column first)."""
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def flickr_rows(base="https://farm1.staticflickr.com/1/"):
    return [(f"{100 + i}", f"{base}{100 + i}_abc.jpg", f"https://www.flickr.com/photos/x/{100 + i}",
             i % N_STYLES, "train" if i % 3 else "test") for i in range(6)]


def test_reads_the_flickr_csv(tmp_path):
    photos = read_flickr_csv(write_flickr_csv(tmp_path / "flickr_style.csv.gz", flickr_rows()))
    assert len(photos) == 6
    assert photos[1] == ("101", "https://farm1.staticflickr.com/1/101_abc.jpg", 1, "train")
    assert [p.split for p in photos].count("test") == 2


@pytest.mark.parametrize("change, message", [
    (lambda rows, h: (rows, ["image_id", "url", "label", "_split", "x"]), r"no column\(s\) image_url"),
    (lambda rows, h: ([rows[0][:3] + (25, "train")], h), r"line 2: label 25 is outside 0-19"),
    (lambda rows, h: ([rows[0][:3] + ("Noir", "train")], h), r"line 2: label 'Noir' is not a number"),
    (lambda rows, h: ([rows[0][:4] + ("val",)], h), r"_split is 'val', not train or test"),
    (lambda rows, h: ([rows[0][:2]], h), r"line 2: 2 fields where the header has 5"),
    (lambda rows, h: ([], h), r"lists no photos"),
])
def test_a_bad_flickr_csv_is_refused(tmp_path, change, message):
    rows, header = change(flickr_rows(), CSV_HEADER)
    path = write_flickr_csv(tmp_path / "f.csv.gz", rows, header)
    with pytest.raises(DataError, match=message):
        read_flickr_csv(path)


def test_a_corrupt_or_changed_csv_is_refused(tmp_path):
    path = tmp_path / "flickr_style.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08 truncated")
    with pytest.raises(DataError, match="not a readable gzip file"):
        read_flickr_csv(path)
    write_flickr_csv(path, flickr_rows())
    (tmp_path / "flickr_style.csv.gz.sha256").write_text("0" * 64 + "  flickr_style.csv.gz\n")
    with pytest.raises(DataError, match="changed since it was downloaded"):
        read_flickr_csv(path)


# --- downloading, against a server on this machine ------------------------------------------------

@pytest.fixture
def flickr_server(tmp_path, monkeypatch):
    """A local 'Flickr' serving two good photos, Flickr's missing-photo placeholder, and a 404; and the csv."""
    served = tmp_path / "served"
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                                       {"log_message": lambda *a: None}), directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    write_png(served / "p" / "1_a.jpg", size=(30, 40), seed=1)
    write_png(served / "p" / "2_b.png", size=(30, 40), seed=2)
    placeholder = b"placeholder"
    monkeypatch.setattr(flickr, "MISSING_IMAGE_SHA1", hashlib.sha1(placeholder).hexdigest())
    (served / "p" / "3_c.jpg").write_bytes(placeholder)
    rows = [("1", base + "p/1_a.jpg", "-", 3, "train"), ("2", base + "p/2_b.png", "-", 5, "test"),
            ("3", base + "p/3_c.jpg", "-", 7, "train"), ("4", base + "p/4_gone.jpg", "-", 9, "train")]
    write_flickr_csv(served / "flickr_style.csv.gz", rows)
    monkeypatch.setattr(flickr, "FLICKR_CSV_URLS", (base + "nothing-here.csv.gz", base + "flickr_style.csv.gz"))
    yield base
    server.shutdown()


def test_download_skips_dead_photos_writes_list_files_and_resumes(flickr_server, tmp_path, capsys):
    folder = tmp_path / "flickr_style"
    assert download_flickr_style(None, directory=folder, workers=2) == folder
    assert (folder / "train.txt").read_text() == "images/1_a.jpg 3\n"
    assert (folder / "test.txt").read_text() == "images/2_b.png 5\n"
    assert not (folder / "images" / "3_c.jpg").exists() and not (folder / "images" / "4_gone.jpg").exists()
    recorded = (folder / "flickr_style.csv.gz.sha256").read_text().split()[0]
    assert recorded == hashlib.sha256((folder / "flickr_style.csv.gz").read_bytes()).hexdigest()
    assert "2 of 4 photos present, 2 gone" in capsys.readouterr().out
    data = load_flickr_style(folder, image_size=16)
    assert len(data.train[0]) == 1 and len(data.test[0]) == 1
    before = (folder / "images" / "1_a.jpg").stat().st_mtime_ns
    download_flickr_style(None, directory=folder, workers=2)  # resumes: nothing downloaded again
    assert (folder / "images" / "1_a.jpg").stat().st_mtime_ns == before


def test_offline_download_fails_at_once_and_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(flickr, "FLICKR_CSV_URLS", ("http://127.0.0.1:9/flickr_style.csv.gz",))
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"(?s)Could not download flickr_style.csv.gz.*offline.*download style"):
        download_flickr_style(directory=tmp_path / "flickr_style")
    assert time.perf_counter() - start < 10


# --- looks and the offline set --------------------------------------------------------------------

@pytest.fixture(scope="module")
def photo():
    return cv2.resize(style.load_photo("astronaut"), (40, 40), interpolation=cv2.INTER_AREA)


def test_twenty_looks_in_caffes_order(photo):
    assert len(STYLE_NAMES) == N_STYLES == 20 and list(LOOKS) == list(STYLE_NAMES)
    assert STYLE_NAMES[3] == "Noir" and STYLE_NAMES[-1] == "Romantic"
    for name in STYLE_NAMES:
        out = apply_look(name, photo, 0.8, numpy.random.default_rng(0))
        assert out.shape == photo.shape and out.dtype == numpy.uint8, name
        assert numpy.abs(out.astype(int) - photo).mean() > 3, f"{name} hardly changes the photo"
        again = apply_look(name, photo, 0.8, numpy.random.default_rng(0))
        numpy.testing.assert_array_equal(out, again)


def test_looks_have_their_character(photo):
    from course.data.style import luminance

    base = photo.astype(numpy.float32) / 255
    noir = apply_look("Noir", base)
    assert numpy.abs(noir - noir.mean(axis=2, keepdims=True)).max() < 1e-6  # black and white
    assert luminance(noir).std() > 1.2 * luminance(base).std()
    assert apply_look("Bright", base).mean() > base.mean() + 0.1
    assert apply_look("Horror", base).mean() < base.mean() - 0.1
    sunny = apply_look("Sunny", base)
    assert (sunny[..., 0] - sunny[..., 2]).mean() > (base[..., 0] - base[..., 2]).mean()  # warmer
    minimal = apply_look("Minimal", base)
    assert minimal.std() < 0.5 * base.std()


def test_apply_look_refuses_bad_input(photo):
    with pytest.raises(ValueError, match="no look named 'Cubism'"):
        apply_look("Cubism", photo)
    with pytest.raises(ValueError, match=r"RGB image of shape \(H, W, 3\)"):
        apply_look("Noir", photo[..., 0])


def test_every_shipped_photo_loads_as_rgb():
    for name in PHOTO_NAMES:
        image = style.load_photo(name)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == numpy.uint8 and min(image.shape[:2]) >= 100


def test_style_set_is_balanced_shuffled_and_repeatable(photo):
    photos = {"a": photo, "b": photo[::-1]}
    x, t, sources = make_style_set(photos, 3, 16, seed=5)
    assert x.shape == (60, 3, 16, 16) and x.dtype == numpy.uint8 and t.dtype == numpy.int32
    assert numpy.bincount(t).tolist() == [3] * 20 and len(set(t[:20].tolist())) > 10
    assert set(sources) == {"a", "b"}
    x2, t2, _ = make_style_set(photos, 3, 16, seed=5)
    numpy.testing.assert_array_equal(x, x2)
    numpy.testing.assert_array_equal(t, t2)


def test_offline_set_is_split_by_photo():
    data = load_offline_style(image_size=16, train_per_class=2, test_per_class=1)
    assert data.source == "offline" and data.class_names == STYLE_NAMES
    assert set(data.test_photos) <= set(VALIDATION_PHOTOS)
    assert set(data.train_photos).isdisjoint(data.test_photos)
    assert len(data.train[1]) == 40 and len(data.test[1]) == 20
    assert data.train[0].shape[1:] == (3, 16, 16)


def test_compute_mean_of_arrays_and_of_files(tmp_path):
    images = numpy.random.RandomState(0).randint(0, 256, (7, 3, 5, 5)).astype(numpy.uint8)
    mean = compute_mean(images, batch_size=3)
    assert mean.dtype == numpy.float32 and mean.shape == (3, 5, 5)
    numpy.testing.assert_allclose(mean, images.mean(axis=0), rtol=1e-6)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), images[i].transpose(1, 2, 0)[..., ::-1])
    dataset = ImageListDataset([style.ImageEntry(tmp_path / f"{i}.png", 0) for i in range(3)], 5)
    numpy.testing.assert_allclose(compute_mean(dataset, batch_size=2, progress=False), images[:3].mean(axis=0),
                                  rtol=1e-6)
    with pytest.raises(ValueError):
        compute_mean(images[:0])


# --- the model ------------------------------------------------------------------------------------

def test_image_input_subtracts_the_mean_and_crops():
    rng = numpy.random.RandomState(0)
    x = rng.randint(0, 256, (4, 3, 10, 10)).astype(numpy.uint8)
    mean = rng.uniform(0, 255, (3, 10, 10)).astype(numpy.float32)
    layer = ImageInput(mean, 6)
    expected = (x.astype(numpy.float32) - mean) / 255
    with chainer.using_config("train", False):
        numpy.testing.assert_allclose(layer(x), expected[:, :, 2:8, 2:8], rtol=1e-5, atol=1e-6)
    numpy.random.seed(1)
    with chainer.using_config("train", True):
        out = layer(x)
    assert out.shape == (4, 3, 6, 6)
    for image, crop in zip(expected, out):  # each is some window of its own image, maybe mirrored
        windows = [image[:, y:y + 6, x0:x0 + 6][..., ::flip] for y in range(5) for x0 in range(5) for flip in (1, -1)]
        assert any(numpy.allclose(crop, w, atol=1e-6) for w in windows)
    with pytest.raises(ValueError, match=r"tile_and_crop\(image, 10\)"):
        layer(x[:, :, :8, :8])


def test_nin_outputs_one_score_per_style_and_saves_its_mean(tmp_path):
    from course.models import load_model, save_model

    sizes = {"image_size": 24, "insize": 20, "widths": (8, 8, 8, 8), "ksizes": (5, 3, 3, 3), "first_stride": 2}
    mean = numpy.full((3, 24, 24), 100, numpy.float32)
    model = NIN(20, mean=mean, **sizes)
    x = numpy.random.RandomState(0).randint(0, 256, (2, 3, 24, 24)).astype(numpy.uint8)
    with chainer.using_config("train", False):
        y = model(x).array
    assert y.shape == (2, 20) and y.dtype == numpy.float32
    save_model(model, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")  # rebuilt from m.json: sizes, and the mean from the npz
    numpy.testing.assert_array_equal(loaded.input.mean, mean)
    with chainer.using_config("train", False):
        numpy.testing.assert_allclose(loaded(x).array, y, rtol=1e-5)


def test_the_full_profile_builds_chainers_imagenet_nin():
    from course.tasks.style import build_nin

    model = build_nin(profile="full")
    assert model.input.image_size == 256 and model.input.insize == 227
    assert model.mlpconv1.conv.W.shape == (96, 3, 11, 11) and model.mlpconv1.conv.stride == (4, 4)
    assert model.mlpconv4.cccp2.W.shape == (20, 1024, 1, 1)


# --- the task and the command line ----------------------------------------------------------------

@pytest.fixture
def tiny_style(monkeypatch):
    """The quick style sizes shrunk to seconds, so the real CLI path runs in a test."""
    from course.tasks.style import QUICK

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    return replace(QUICK, image_size=24, insize=20, widths=(8, 8, 8, 8), train_per_class=3, test_per_class=1,
                   epochs=1, batch_size=20, snapshot_every=2)


def test_cli_trains_resumes_and_evaluates_a_list_file(tiny_style, tmp_path, capsys):
    from course.__main__ import main
    from course.metrics import accuracy
    from course.models import load_model, predict
    from course.tasks.style import load_data

    out = tmp_path / "run"
    assert main(["train", "style", "--out", str(out), "--source", "offline", *size_arguments(tiny_style)]) == 0
    assert (out / "model.npz").exists() and (out / "log.json").exists()
    first = (out / "log.json").read_text()
    assert main(["train", "style", "--out", str(out), "--source", "offline", *size_arguments(tiny_style)]) == 0  # done
    assert (out / "log.json").read_text() == first

    x, t = load_data(tiny_style, source="offline", verbose=False).test
    save_image_list(tmp_path / "held_out" / "test.txt", x, t)
    images, labels = load_image_list(tmp_path / "held_out" / "test.txt", x.shape[-1])
    numpy.testing.assert_array_equal(images[:], x)  # PNG is lossless, and tile_and_crop keeps S x S as it is
    numpy.testing.assert_array_equal(labels, t)
    capsys.readouterr()
    assert main(["evaluate", "style", "--model", str(out / "model.npz"), "--data", str(tmp_path / "held_out"),
                 "--device", "@numpy"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    expected = accuracy(predict(load_model(out / "model.npz"), x), t)
    assert last == f"accuracy {expected:.4f}"


def test_a_model_is_loaded_with_the_sizes_it_was_trained_with(tiny_style, tmp_path):
    from course.models import load_model, save_model
    from course.tasks.style import build_nin

    save_model(build_nin(replace(tiny_style, image_size=28, insize=24)), tmp_path / "other.npz")
    save_model(build_nin(tiny_style), tmp_path / "tiny.npz")
    assert load_model(tmp_path / "other.npz").input.image_size == 28
    assert load_model(tmp_path / "tiny.npz").input.image_size == 24


def test_evaluate_refuses_a_model_of_another_lesson(tmp_path, capsys):
    from course.__main__ import main
    from course.models import MnistCNN, save_model

    save_model(MnistCNN(), tmp_path / "m.npz")
    (tmp_path / "test.txt").write_text("")
    assert main(["evaluate", "style", "--model", str(tmp_path / "m.npz"), "--data", str(tmp_path)]) == 2
    assert "holds MnistCNN, not NIN" in capsys.readouterr().err


def test_download_without_the_internet_is_a_clear_cli_error(tmp_data_dir, monkeypatch, capsys):
    from course.__main__ import main

    monkeypatch.setattr(flickr, "FLICKR_CSV_URLS", ("http://127.0.0.1:9/flickr_style.csv.gz",))
    assert main(["download", "style"]) == 2
    assert "offline" in capsys.readouterr().err


def test_value_histograms_draw_one_histogram_and_one_mean_line_per_set():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.viz import plot_value_histograms

    rng = numpy.random.default_rng(0)
    figure = plot_value_histograms({"raw": rng.uniform(0, 1, (5, 3, 4, 4)), "centred": rng.uniform(-0.5, 0.5, 80)},
                                   bins=10)
    ax = figure.axes[0]
    assert len(ax.patches) == 20  # 10 bars per set
    assert [text.get_text().split(" (")[0] for text in ax.get_legend().get_texts()] == ["raw", "centred"]
    assert len(ax.lines) == 3  # each set's mean, and zero
    plt.close(figure)
