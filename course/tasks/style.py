"""Lesson 3: Network in Network on image styles, trained and evaluated as ``python -m course train|evaluate style`` does."""
from __future__ import annotations

import os
from pathlib import Path

import numpy

from course.data.style import (
    N_STYLES,
    StyleData,
    compute_mean,
    download_flickr_style,
    load_image_list,
    load_style,
)
from course.metrics import accuracy, predict
from course.models.nin import NIN
from course.profiles import PROFILES, sizes
from course.seed import set_seed
from course.training import History, load_model, train_classifier


def build_nin(profile: str | None = None, mean: numpy.ndarray | None = None) -> NIN:
    """The NIN of ``profile`` (its image and crop sizes, widths, kernel sizes), with the mean image ``mean``."""
    size = sizes("style", profile)
    return NIN(N_STYLES, image_size=size["image_size"], insize=size["insize"], widths=size["widths"],
               ksizes=size["ksizes"], first_stride=size["first_stride"], mean=mean)


def load_data(profile: str | None = None, source: str = "auto", *, verbose: bool = True) -> StyleData:
    """The lesson's data at the sizes of ``profile`` (see :func:`course.data.style.load_style`)."""
    size = sizes("style", profile)
    return load_style(source, image_size=size["image_size"], train_per_class=size["train_per_class"],
                      test_per_class=size["test_per_class"], seed=0, verbose=verbose)


def train_style(out: str | os.PathLike, *, profile: str | None = None, device=None, source: str = "auto",
                progress: bool = True, live_plot: bool | None = None) -> tuple[NIN, History, StyleData]:
    """Train lesson 3's NIN with the profile's sizes; writes ``out/model.npz`` and ``out/log.json``.

    The mean image is computed on the training images only and travels inside the model. Run again
    with the same ``out`` and it resumes from the newest snapshot there.
    """
    size = sizes("style", profile)
    data = load_data(profile, source)
    mean = compute_mean(data.train[0], progress=progress)
    set_seed(0)
    model = build_nin(profile, mean)
    history = train_classifier(
        model, data.train, data.test,
        epochs=size["epochs"], batch_size=size["batch_size"], lr=size["lr"], out=out, device=device,
        snapshot_every=size["snapshot_every"], progress=progress, live_plot=live_plot,
        title="Network in Network on image styles",
    )
    return model, history, data


def load_style_model(model_path: str | os.PathLike) -> NIN:
    """A NIN saved by :func:`train_style` under any profile: the profile whose shapes fit the file."""
    model_path = Path(model_path)
    for profile in PROFILES:
        try:
            return load_model(build_nin(profile), model_path)
        except ValueError:
            continue
    raise ValueError(f"{model_path} is not a lesson 3 NIN of any profile ({', '.join(PROFILES)}): "
                     f"train it with `python -m course train style --out DIR`.")


def evaluate_style(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> float:
    """Accuracy of the NIN at ``model_path`` on a ``path label`` list file (or a folder with ``test.txt``)."""
    model = load_style_model(model_path)
    list_file = Path(data)
    if list_file.is_dir():
        list_file = list_file / "test.txt"
    images, labels = load_image_list(list_file, model.input.image_size)
    return accuracy(predict(model, images, batch_size=200, device=device), labels)


def download() -> Path:
    """Download Flickr Style as the full profile uses it (the seed's 80,000 photos)."""
    size = sizes("style", "full")
    return download_flickr_style(size["flickr_images"], seed=size["flickr_seed"])


METRIC = "validation/main/accuracy"
EVALUATE_METRIC = "accuracy"
train = train_style
evaluate = evaluate_style
