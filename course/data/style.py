"""Lesson 3's data: Flickr Style (20 photographic styles), and an offline style set made of real photos.

Sources, in the order ``load_style("auto")`` tries them:

1. ``flickr``: Flickr Style (Karayev et al., "Recognizing Image Style", 2014), the images listed in
   Caffe's ``examples/finetune_flickr_style/flickr_style.csv.gz``, put in ``datasets/flickr_style/``
   by :func:`course.data.flickr.download_flickr_style` (``python -m course download style``) as
   ``images/`` plus the list files ``train.txt`` and ``test.txt`` (one ``path label`` per line, as
   Caffe's ``assemble_data.py`` writes them). Any folder with such list files works.
2. ``offline``: 20 *synthetic* looks, one per Flickr Style class, applied with random strength to
   random crops of the real photographs that scikit-image and matplotlib ship. The photos are
   split between training and validation by photo, never by crop, so validation measures the
   look on photos the network has never seen.

Images are uint8 ``(N, 3, S, S)`` RGB arrays (or, for Flickr, a dataset that reads them from disk
one at a time). Every image is made ``S x S`` the seed's way, :func:`tile_and_crop`: no scaling,
copies side by side when it is too small, the centre when it is too big. Reading, resizing and the
HWC -> CHW layout come from :mod:`course.images`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import numpy

from course.data.download import data_dir
from course.data.looks import LOOKS, N_STYLES, STYLE_NAMES, Look, apply_look, luminance  # noqa: F401  (re-exported)
from course.data.photos import load_photo  # noqa: F401  (re-exported)
from course.files import DataError, atomic_write
from course.images import read_rgb, resize, shrink, to_chw, to_hwc, write_image

SOURCES = ("auto", "flickr", "offline")
DOWNLOAD_HINT = "Run `python -m course download style` (needs the internet), or use source='offline'."
_LIST_IMAGE_FIX = "Delete it and download again, or remove its line from the list file."


# ==================================================================================================
# The seed's preprocessing: tile, then crop
# ==================================================================================================

def tile_and_crop(image: numpy.ndarray, size: int) -> numpy.ndarray:
    """Make ``image`` (H, W) or (H, W, C) exactly ``size x size`` without scaling it.

    A side shorter than ``size`` is first repeated (copies of the image side by side) until it is
    long enough; then the central ``size x size`` window is cut out. Pixels keep their size, so a
    style's grain, blur and texture survive, which resizing would smooth away.
    """
    image = numpy.asarray(image)
    if isinstance(size, bool) or not isinstance(size, (int, numpy.integer)) or size < 1:
        raise ValueError(f"size must be a positive whole number of pixels, not {size!r}")
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got an array of shape {image.shape}")
    h, w = image.shape[:2]
    reps = (math.ceil(size / h), math.ceil(size / w)) + (1,) * (image.ndim - 2)
    tiled = numpy.tile(image, reps) if reps[:2] != (1, 1) else image
    top = (tiled.shape[0] - size) // 2
    left = (tiled.shape[1] - size) // 2
    return numpy.ascontiguousarray(tiled[top:top + size, left:left + size])


def compute_mean(images: Sequence[numpy.ndarray], *, batch_size: int = 500, progress: bool = True) -> numpy.ndarray:
    """The mean image, float32 (C, H, W): the average of ``images`` pixel by pixel.

    ``images`` is an (N, C, H, W) array or a dataset that reads images from disk (then a progress
    bar shows, as the seed's ``compute_mean.py`` printed one). Compute it on the training images
    only: the held-out images must stay unseen.
    """
    n = len(images)
    if n == 0:
        raise ValueError("cannot average zero images")
    total = None
    starts = range(0, n, batch_size)
    if progress and not isinstance(images, numpy.ndarray):
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="mean image", unit="batch")
    for start in starts:
        chunk = numpy.asarray(images[start:start + batch_size], dtype=numpy.float64).sum(axis=0)
        total = chunk if total is None else total + chunk
    return (total / n).astype(numpy.float32)


# ==================================================================================================
# List files ("path label" per line) and the images they name
# ==================================================================================================

class ImageEntry(NamedTuple):
    """One line of a list file: an image file and its style label."""

    path: Path
    label: int


def read_image_list(list_file: str | os.PathLike, *, n_classes: int = N_STYLES) -> list[ImageEntry]:
    """Read a Caffe/Chainer image list: one ``path label`` per line, blank lines ignored.

    Relative paths are relative to the list file's folder. The path may contain spaces (the label
    is the last field). Every file must exist and every label be in ``0 .. n_classes - 1``;
    otherwise a :class:`DataError` names the line and the fix.
    """
    list_file = Path(list_file)
    if not list_file.is_file():
        raise DataError(f"{list_file} does not exist. {DOWNLOAD_HINT}")
    entries, missing = [], []
    with open(list_file, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            fields = line.rsplit(maxsplit=1)
            if len(fields) != 2:
                raise DataError(f"{list_file}, line {number}: {line!r} is not `path label` "
                                f"(an image path, a space, then a class number 0-{n_classes - 1}).")
            name, label_text = fields
            try:
                label = int(label_text)
            except ValueError:
                raise DataError(f"{list_file}, line {number}: the label {label_text!r} is not a whole number; "
                                f"each line is `path label` with a class number 0-{n_classes - 1}.") from None
            if not 0 <= label < n_classes:
                raise DataError(f"{list_file}, line {number}: label {label} is outside 0-{n_classes - 1} "
                                f"(there are {n_classes} styles). Fix or delete that line.")
            path = Path(name) if os.path.isabs(name) else list_file.parent / name
            if not path.is_file():
                missing.append(path)
            entries.append(ImageEntry(path, label))
    if missing:
        shown = ", ".join(str(p) for p in missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise DataError(f"{list_file} names {len(missing)} image file(s) that do not exist: {shown}. "
                        f"Download them again ({DOWNLOAD_HINT.split('(')[0].strip()}) or delete their lines.")
    if not entries:
        raise DataError(f"{list_file} lists no images. {DOWNLOAD_HINT}")
    return entries


def write_image_list(list_file: str | os.PathLike, entries: Iterable[tuple[str | os.PathLike, int]]) -> Path:
    """Write ``path label`` lines (atomically), paths relative to the list file's folder where possible."""
    list_file = Path(list_file)
    lines = []
    for path, label in entries:
        path = Path(path)
        try:
            path = path.relative_to(list_file.parent)
        except ValueError:
            pass
        lines.append(f"{path.as_posix()} {int(label)}\n")
    with atomic_write(list_file, "w") as f:
        f.write("".join(lines))
    return list_file


def save_image_list(list_file: str | os.PathLike, images: numpy.ndarray, labels: Sequence[int]) -> Path:
    """Write uint8 (N, 3, H, W) RGB ``images`` as PNG files in ``images/`` beside ``list_file``, and list them."""
    folder = Path(list_file).parent / "images"
    entries = [(write_image(folder / f"{i:05d}.png", to_hwc(image)), label)
               for i, (image, label) in enumerate(zip(images, labels))]
    return write_image_list(list_file, entries)


def read_list_image(path: str | os.PathLike, size: int) -> numpy.ndarray:
    """A listed image file (JPEG, PNG, ...) as uint8 RGB (3, size, size), made ``size x size`` by :func:`tile_and_crop`.

    It is read by :func:`course.images.read_rgb`; a file that cannot be read is a :class:`DataError` naming it.
    """
    return to_chw(tile_and_crop(read_rgb(path, fix=_LIST_IMAGE_FIX), size))


class ImageListDataset:
    """The images of a list file, read from disk when asked for: ``dataset[i]`` is uint8 (3, S, S).

    Indexing with a slice or an index array gives a stacked (N, 3, S, S) array, so the dataset can
    stand in for an image array in ``train_classifier``, ``predict`` and ``viz.show_images``.
    """

    def __init__(self, entries: Sequence[ImageEntry], size: int):
        self.entries = list(entries)
        self.size = size

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def labels(self) -> numpy.ndarray:
        """The labels, int32, in list order."""
        return numpy.array([e.label for e in self.entries], dtype=numpy.int32)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(N, 3, S, S), as if it were an array."""
        return (len(self), 3, self.size, self.size)

    def __getitem__(self, index):
        if isinstance(index, (int, numpy.integer)):
            return read_list_image(self.entries[index].path, self.size)
        positions = range(len(self))[index] if isinstance(index, slice) else numpy.asarray(index).ravel()
        images = [read_list_image(self.entries[i].path, self.size) for i in positions]
        return numpy.stack(images) if images else numpy.zeros((0, 3, self.size, self.size), numpy.uint8)


def load_image_list(list_file: str | os.PathLike, size: int) -> tuple[ImageListDataset, numpy.ndarray]:
    """``(images, labels)`` of a list file: images read lazily at ``size x size``, labels int32."""
    dataset = ImageListDataset(read_image_list(list_file), size)
    return dataset, dataset.labels


# Where Flickr Style's list files live (Caffe's csv and the download are in course.data.flickr).

def flickr_style_dir() -> Path:
    """Where Flickr Style lives: ``<data_dir>/flickr_style`` (csv, ``images/``, ``train.txt``, ``test.txt``)."""
    return data_dir() / "flickr_style"


def flickr_style_present(directory: str | os.PathLike | None = None) -> bool:
    """True when ``directory`` (default :func:`flickr_style_dir`) has both ``train.txt`` and ``test.txt``."""
    directory = Path(directory) if directory else flickr_style_dir()
    return (directory / "train.txt").is_file() and (directory / "test.txt").is_file()


# ==================================================================================================
# The offline style set: the looks on random crops of real photos, split by photo
# ==================================================================================================

# The shipped real photos (course.data.photos) the offline set is cut from.
PHOTO_NAMES = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "motorcycle", "camera", "moon", "brick", "grass", "gravel", "coins", "clock", "page", "text",
    "grace_hopper", "present",
)
# Held out for validation: three colour photos and two grey ones, unlike any training photo in content.
VALIDATION_PHOTOS = ("chelsea", "rocket", "grace_hopper", "coins", "grass")


def _random_view(photo: numpy.ndarray, size: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """A random square crop (45-100% of the short side) of ``photo``, resized to ``size``, maybe mirrored.

    The crop is always resized with ``INTER_AREA``, also when it is smaller than ``size``: that is
    how this set was made from the start, so it is kept (the offline set stays the same).
    """
    import cv2

    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.45, 1.0))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    view = resize(photo[top:top + side, left:left + side], size, interpolation=cv2.INTER_AREA)
    return view[:, ::-1] if rng.random() < 0.5 else view


def make_style_set(photos: dict[str, numpy.ndarray], per_class: int, size: int, *, seed: int = 0,
                   progress: bool = False) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """``per_class`` images of each look: random views of ``photos``, each look at a random strength.

    Returns ``(images uint8 (N, 3, size, size), labels int32, photo name of each image)``, shuffled.
    The photos take turns, so every photo appears in every class about equally often.
    """
    if not photos:
        raise ValueError("make_style_set needs at least one photo")
    rng = numpy.random.default_rng(seed)
    names = list(photos)
    count = per_class * N_STYLES
    images = numpy.empty((count, 3, size, size), numpy.uint8)
    labels = numpy.repeat(numpy.arange(N_STYLES, dtype=numpy.int32), per_class)
    sources = numpy.array([names[(i % per_class + label) % len(names)] for i, label in enumerate(labels)])
    looks = list(LOOKS.values())
    indices: Iterable[int] = range(count)
    if progress:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc="styling photos", unit="img")
    for i in indices:
        view = _random_view(photos[sources[i]], size, rng)
        images[i] = to_chw(apply_look(looks[labels[i]], view, rng.uniform(0.5, 1.0), rng))
    order = rng.permutation(count)
    return images[order], labels[order], sources[order]


def _working_photos(names: Sequence[str], size: int) -> dict[str, numpy.ndarray]:
    """The photos, shrunk (never enlarged) so the short side is at most 4 x ``size``: crops stay cheap."""
    return {name: shrink(load_photo(name), 4 * size, side="shorter") for name in names}


# ==================================================================================================
# One entry point
# ==================================================================================================

@dataclass(frozen=True)
class StyleData:
    """Training and held-out images with labels, the photo each image came from, and where it all came from.

    Images are uint8 (N, 3, S, S) arrays, or :class:`ImageListDataset` for Flickr (read from disk).
    """

    train: tuple[numpy.ndarray | ImageListDataset, numpy.ndarray]
    test: tuple[numpy.ndarray | ImageListDataset, numpy.ndarray]
    train_photos: numpy.ndarray
    test_photos: numpy.ndarray
    source: str
    description: str
    class_names: tuple[str, ...] = STYLE_NAMES


def load_flickr_style(directory: str | os.PathLike | None = None, *, image_size: int = 256) -> StyleData:
    """Flickr Style from ``train.txt`` and ``test.txt`` in ``directory`` (default :func:`flickr_style_dir`)."""
    directory = Path(directory) if directory else flickr_style_dir()
    if not directory.is_dir() or not any(directory.iterdir()):
        raise DataError(f"{directory} is empty or missing: there is no Flickr Style there. {DOWNLOAD_HINT}")
    if not flickr_style_present(directory):
        raise DataError(f"{directory} has no train.txt and test.txt (one `path label` per line). {DOWNLOAD_HINT}")
    train = load_image_list(directory / "train.txt", image_size)
    test = load_image_list(directory / "test.txt", image_size)
    paths = [numpy.array([str(e.path) for e in d.entries]) for d in (train[0], test[0])]
    return StyleData(train, test, paths[0], paths[1], "flickr",
                     f"Flickr Style from {directory}: {len(train[1]):,} train / {len(test[1]):,} test photos, "
                     f"tiled and cropped to {image_size}x{image_size}")


def load_offline_style(*, image_size: int = 64, train_per_class: int = 60, test_per_class: int = 20,
                       seed: int = 0, progress: bool = False) -> StyleData:
    """The offline style set: the 20 looks on crops of the shipped photos, validation photos held out."""
    train_names = [n for n in PHOTO_NAMES if n not in VALIDATION_PHOTOS]
    train = make_style_set(_working_photos(train_names, image_size), train_per_class, image_size, seed=seed,
                           progress=progress)
    test = make_style_set(_working_photos(VALIDATION_PHOTOS, image_size), test_per_class, image_size,
                          seed=seed + 1, progress=progress)
    return StyleData(train[:2], test[:2], train[2], test[2], "offline",
                     f"synthetic looks on real photos: {len(train[1]):,} train images from {len(train_names)} photos, "
                     f"{len(test[1]):,} held-out images from {len(VALIDATION_PHOTOS)} other photos, "
                     f"{image_size}x{image_size}")


def load_style(source: str = "auto", *, image_size: int = 64, train_per_class: int = 60, test_per_class: int = 20,
               seed: int = 0, verbose: bool = True) -> StyleData:
    """Lesson 3's data from ``source`` (see the module docstring); ``auto`` takes Flickr Style if downloaded.

    ``image_size`` is the side S of every image; ``train_per_class``, ``test_per_class`` and ``seed``
    size the offline set. With ``verbose`` the source used is printed.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown style source {source!r}; choose one of {', '.join(SOURCES)}")
    if source == "auto":
        source = "flickr" if flickr_style_present() else "offline"
    if source == "flickr":
        data = load_flickr_style(image_size=image_size)
    else:
        data = load_offline_style(image_size=image_size, train_per_class=train_per_class,
                                  test_per_class=test_per_class, seed=seed, progress=verbose and image_size > 128)
    if verbose:
        print(f"style source: {data.description}")
    return data
