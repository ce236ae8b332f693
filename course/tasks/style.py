"""Lesson 3: Network in Network on image styles, trained and evaluated as ``python -m course train|evaluate style`` does.

Without the download: 20 synthetic looks on crops of 19 real photos (14 train / 5 held out,
``*_per_class`` images of each look); with it (full), Flickr Style. Images are ``image_size`` tiles,
random ``insize`` crops; ``widths`` and ``ksizes`` are the four mlpconv blocks'. The full sizes are
Chainer's ImageNet NIN and the seed's 256-pixel tiles and 227 crops.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy

from course.data.flickr import download_flickr_style
from course.data.style import N_STYLES, SOURCES, StyleData, compute_mean, load_image_list, load_style
from course.files import check_writable_folder
from course.metrics import accuracy
from course.models import NIN, load_model, predict
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier

FLICKR_IMAGES = 80_000
"""How many Flickr Style photos the download tries (the seed's 80,000, shuffled with :data:`FLICKR_SEED`)."""
FLICKR_SEED = 831486


@dataclass(frozen=True)
class Sizes:
    """Lesson 3's sizes: the network's input and widths, the offline set's size, and training."""

    image_size: int
    insize: int
    widths: tuple[int, int, int, int]
    ksizes: tuple[int, int, int, int]
    first_stride: int
    train_per_class: int
    test_per_class: int
    epochs: int
    batch_size: int
    lr: float
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """The held-out accuracy the notebook asks for: three times chance (1/20)."""

    min_accuracy: float


QUICK = Sizes(image_size=48, insize=40, widths=(24, 48, 64, 96), ksizes=(5, 3, 3, 3), first_stride=2,
              train_per_class=60, test_per_class=20, epochs=10, batch_size=50, lr=2e-3, snapshot_every=100)
FULL = replace(QUICK, image_size=256, insize=227, widths=(96, 256, 384, 1024), ksizes=(11, 5, 3, 3), first_stride=4,
               train_per_class=200, test_per_class=50, epochs=15, batch_size=64, lr=1e-3, snapshot_every=1000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_accuracy=0.15), "full": Bars(min_accuracy=0.15)}


def build_nin(sizes: Sizes | None = None, *, profile: str | None = None, mean: numpy.ndarray | None = None) -> NIN:
    """The NIN of ``sizes`` (default: the profile's): image and crop sizes, widths, kernel sizes; mean image ``mean``."""
    size = pick_sizes(SIZES, sizes, profile)
    return NIN(N_STYLES, image_size=size.image_size, insize=size.insize, widths=size.widths,
               ksizes=size.ksizes, first_stride=size.first_stride, mean=mean)


def load_data(sizes: Sizes | None = None, *, profile: str | None = None, source: str = "auto",
              verbose: bool = True) -> StyleData:
    """The lesson's data at ``sizes`` (default: the profile's; see :func:`course.data.style.load_style`)."""
    size = pick_sizes(SIZES, sizes, profile)
    return load_style(source, image_size=size.image_size, train_per_class=size.train_per_class,
                      test_per_class=size.test_per_class, seed=0, verbose=verbose)


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[NIN, History, StyleData]:
    """Train lesson 3's NIN with ``sizes`` (default: the profile's); writes ``out/model.npz`` and ``out/log.json``.

    The mean image is computed on the training images only and travels inside the model. Run again
    with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = pick_sizes(SIZES, sizes, profile)
    check_writable_folder(out)
    data = load_data(size, source=source)
    mean = compute_mean(data.train[0], progress=progress)
    set_seed(0)
    model = build_nin(size, mean=mean)
    history = train_classifier(
        model, data.train, data.test,
        epochs=size.epochs, batch_size=size.batch_size, lr=size.lr, out=out, device=device,
        snapshot_every=size.snapshot_every, progress=progress, live_plot=live_plot,
        title="Network in Network on image styles",
    )
    return model, history, data


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> dict[str, float]:
    """Accuracy of the NIN at ``model_path`` on a ``path label`` list file (or a folder with ``test.txt``)."""
    model = load_model(model_path, expected=NIN)
    list_file = Path(data)
    if list_file.is_dir():
        list_file = list_file / "test.txt"
    images, labels = load_image_list(list_file, model.input.image_size)
    return {"accuracy": accuracy(predict(model, images, batch_size=200, device=device), labels)}


def download() -> Path:
    """Download Flickr Style as the full profile uses it (the seed's 80,000 photos)."""
    return download_flickr_style(FLICKR_IMAGES, seed=FLICKR_SEED)


TASK = Task(
    name="style", lesson="03", help="lesson 3: Network in Network classifying 20 photographic styles",
    data="Flickr Style in datasets/flickr_style (download style), else 20 synthetic looks on the shipped photos",
    train=train, metric="validation/main/accuracy", sizes=SIZES, bars=BARS, sources=SOURCES,
    evaluate=evaluate, evaluate_data="a `path label` list file, or a folder with test.txt",
    download=download,
)
