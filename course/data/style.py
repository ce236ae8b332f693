"""Lesson 3's data: Flickr Style (20 photographic styles), and an offline style set made of real photos.

Sources, in the order ``load_style("auto")`` tries them:

1. ``flickr``: Flickr Style (Karayev et al., "Recognizing Image Style", 2014), the images listed in
   Caffe's ``examples/finetune_flickr_style/flickr_style.csv.gz``, put in ``datasets/flickr_style/``
   by :func:`download_flickr_style` (``python -m course download style``) as ``images/`` plus the
   list files ``train.txt`` and ``test.txt`` (one ``path label`` per line, as Caffe's
   ``assemble_data.py`` writes them). Any folder with such list files works.
2. ``offline``: 20 *synthetic* looks, one per Flickr Style class, applied with random strength to
   random crops of the real photographs that scikit-image and matplotlib ship. The photos are
   split between training and validation by photo, never by crop, so validation measures the
   look on photos the network has never seen.

Images are uint8 ``(N, 3, S, S)`` RGB arrays (or, for Flickr, a dataset that reads them from disk
one at a time). Every image is made ``S x S`` the seed's way, :func:`tile_and_crop`: no scaling,
copies side by side when it is too small, the centre when it is too big.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import numpy

from course.data.download import DataError, DownloadError, data_dir, sha256_of
from course.data.looks import LOOKS, N_STYLES, STYLE_NAMES, Look, apply_look, luminance  # noqa: F401  (re-exported)
from course.data.photos import load_photo  # noqa: F401  (re-exported)

SOURCES = ("auto", "flickr", "offline")
_DOWNLOAD_HINT = "Run `python -m course download style` (needs the internet), or use source='offline'."


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


def to_chw(image: numpy.ndarray) -> numpy.ndarray:
    """(H, W, 3) -> (3, H, W), the layout Chainer's convolutions take."""
    return numpy.ascontiguousarray(image.transpose(2, 0, 1))


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
        raise DataError(f"{list_file} does not exist. {_DOWNLOAD_HINT}")
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
                        f"Download them again ({_DOWNLOAD_HINT.split('(')[0].strip()}) or delete their lines.")
    if not entries:
        raise DataError(f"{list_file} lists no images. {_DOWNLOAD_HINT}")
    return entries


def write_image_list(list_file: str | os.PathLike, entries: Iterable[tuple[str | os.PathLike, int]]) -> Path:
    """Write ``path label`` lines, paths relative to the list file's folder where possible."""
    list_file = Path(list_file)
    list_file.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for path, label in entries:
        path = Path(path)
        try:
            path = path.relative_to(list_file.parent)
        except ValueError:
            pass
        lines.append(f"{path.as_posix()} {int(label)}\n")
    list_file.write_text("".join(lines), encoding="utf-8")
    return list_file


def save_image_list(list_file: str | os.PathLike, images: numpy.ndarray, labels: Sequence[int]) -> Path:
    """Write uint8 (N, 3, H, W) RGB ``images`` as PNG files in ``images/`` beside ``list_file``, and list them."""
    import cv2

    list_file = Path(list_file)
    folder = list_file.parent / "images"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (image, label) in enumerate(zip(images, labels)):
        path = folder / f"{i:05d}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(numpy.ascontiguousarray(image.transpose(1, 2, 0)),
                                                   cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
        entries.append((path, label))
    return write_image_list(list_file, entries)


def read_image(path: str | os.PathLike, size: int) -> numpy.ndarray:
    """Read an image file (JPEG, PNG, ...) as uint8 RGB (3, size, size) with :func:`tile_and_crop`."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(f"{path} cannot be read as an image (truncated, empty or not an image file). "
                        f"Delete it and download again, or remove its line from the list file.")
    return to_chw(tile_and_crop(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), size))


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
            return read_image(self.entries[index].path, self.size)
        positions = range(len(self))[index] if isinstance(index, slice) else numpy.asarray(index).ravel()
        images = [read_image(self.entries[i].path, self.size) for i in positions]
        return numpy.stack(images) if images else numpy.zeros((0, 3, self.size, self.size), numpy.uint8)


def load_image_list(list_file: str | os.PathLike, size: int) -> tuple[ImageListDataset, numpy.ndarray]:
    """``(images, labels)`` of a list file: images read lazily at ``size x size``, labels int32."""
    dataset = ImageListDataset(read_image_list(list_file), size)
    return dataset, dataset.labels


# ==================================================================================================
# Flickr Style: Caffe's csv of Flickr URLs, the download, and the list files
# ==================================================================================================

_CAFFE_CSV = "examples/finetune_flickr_style/flickr_style.csv.gz"
FLICKR_CSV_URLS = (
    # The version this lesson was written against (Caffe commit a14cacf), then whatever master has.
    f"https://raw.githubusercontent.com/BVLC/caffe/a14cacff34ac5672f65db90d37310b331eb51242/{_CAFFE_CSV}",
    f"https://raw.githubusercontent.com/BVLC/caffe/master/{_CAFFE_CSV}",
)
CSV_COLUMNS = ("image_url", "label", "_split")  # what Caffe's assemble_data.py uses (index_col=0)
# Flickr answers a deleted photo with this placeholder image (SHA-1 from Caffe's assemble_data.py).
MISSING_IMAGE_SHA1 = "6a92790b1c2a301c6e7ddef645dca1f53ea97ac2"


class FlickrPhoto(NamedTuple):
    """One row of Caffe's flickr_style.csv: the photo's id, URL, style label and split."""

    image_id: str
    url: str
    label: int
    split: str


def flickr_style_dir() -> Path:
    """Where Flickr Style lives: ``<data_dir>/flickr_style`` (csv, ``images/``, ``train.txt``, ``test.txt``)."""
    return data_dir() / "flickr_style"


def flickr_style_present(directory: str | os.PathLike | None = None) -> bool:
    """True when ``directory`` (default :func:`flickr_style_dir`) has both ``train.txt`` and ``test.txt``."""
    directory = Path(directory) if directory else flickr_style_dir()
    return (directory / "train.txt").is_file() and (directory / "test.txt").is_file()


def read_flickr_csv(path: str | os.PathLike) -> list[FlickrPhoto]:
    """Read Caffe's ``flickr_style.csv.gz`` (or the plain csv): the first column is the photo's id.

    The columns ``image_url``, ``label`` (0-19, Caffe's order) and ``_split`` (``train``/``test``)
    must be there; other columns are ignored. If a ``.sha256`` file recorded at download time lies
    beside it, the csv must still have that hash. Anything else is a :class:`DataError`.
    """
    path = Path(path)
    fix = f"Delete {path} and run `python -m course download style` again."
    if not path.is_file():
        raise DataError(f"{path} does not exist. {_DOWNLOAD_HINT}")
    recorded = path.with_name(path.name + ".sha256")
    if recorded.is_file() and recorded.read_text().split()[0] != sha256_of(path):
        raise DataError(f"{path} changed since it was downloaded (its SHA-256 differs from {recorded.name}). {fix}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"{path} is not a readable gzip file ({error}). {fix}") from None
    try:
        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} is not a csv text file ({error}). {fix}") from None
    if not header:
        raise DataError(f"{path} is empty. {fix}")
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path} has no column(s) {', '.join(missing)}; its header is {header}. "
                        f"Expected Caffe's flickr_style.csv with {', '.join(CSV_COLUMNS)}. {fix}")
    url_at, label_at, split_at = (header.index(c) for c in CSV_COLUMNS)
    photos = []
    for number, row in enumerate(reader, 2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{path}, line {number}: {len(row)} fields where the header has {len(header)}. {fix}")
        try:
            label = int(float(row[label_at]))
        except ValueError:
            raise DataError(f"{path}, line {number}: label {row[label_at]!r} is not a number. {fix}") from None
        if not 0 <= label < N_STYLES:
            raise DataError(f"{path}, line {number}: label {label} is outside 0-{N_STYLES - 1}. {fix}")
        if row[split_at] not in ("train", "test"):
            raise DataError(f"{path}, line {number}: _split is {row[split_at]!r}, not train or test. {fix}")
        if not row[url_at].startswith(("http://", "https://")):
            raise DataError(f"{path}, line {number}: image_url {row[url_at]!r} is not a URL. {fix}")
        photos.append(FlickrPhoto(row[0], row[url_at], label, row[split_at]))
    if not photos:
        raise DataError(f"{path} lists no photos. {fix}")
    return photos


def _download_csv(destination: Path, timeout: float) -> Path:
    """Fetch Caffe's csv (no published checksum: record the SHA-256 of what arrived beside it)."""
    import pooch
    import requests

    if destination.is_file():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in FLICKR_CSV_URLS:
        try:
            pooch.retrieve(url, known_hash=None, fname=destination.name, path=destination.parent,
                           downloader=pooch.HTTPDownloader(progressbar=False, timeout=timeout))
            break
        except requests.exceptions.ConnectionError as error:
            failures.append(f"{url}: no connection ({type(error).__name__})")
        except (requests.exceptions.RequestException, OSError) as error:
            failures.append(f"{url}: {error}")
    else:
        offline = all("no connection" in f for f in failures)
        advice = ("This machine seems to be offline: connect and run `python -m course download style` again, "
                  f"or copy flickr_style.csv.gz from a Caffe checkout to {destination}."
                  if offline else f"Try again later, or copy flickr_style.csv.gz from a Caffe checkout to {destination}.")
        raise DownloadError("Could not download flickr_style.csv.gz.\n  " + "\n  ".join(failures) + f"\n{advice}")
    try:
        read_flickr_csv(destination)
    except DataError:
        destination.unlink()
        raise
    destination.with_name(destination.name + ".sha256").write_text(f"{sha256_of(destination)}  {destination.name}\n")
    return destination


def _fetch_image(url: str, destination: Path, timeout: float) -> str:
    """Download one photo unless a readable copy is there: ``ok``, ``gone`` (dead URL) or ``offline``."""
    import cv2
    import requests

    if destination.is_file() and cv2.imread(str(destination)) is not None:
        return "ok"
    try:
        response = requests.get(url, timeout=timeout)
    except requests.exceptions.ConnectionError:
        return "offline"
    except requests.exceptions.RequestException:
        return "gone"
    content = response.content
    if (response.status_code != 200 or "unavailable" in response.url or not content
            or hashlib.sha1(content).hexdigest() == MISSING_IMAGE_SHA1
            or cv2.imdecode(numpy.frombuffer(content, numpy.uint8), cv2.IMREAD_COLOR) is None):
        return "gone"
    temporary = destination.with_name(f".{destination.name}.part")
    temporary.write_bytes(content)
    os.replace(temporary, destination)
    return "ok"


def download_flickr_style(n_images: int | None = 80_000, *, seed: int = 831486,
                          directory: str | os.PathLike | None = None, workers: int = 16,
                          timeout: float = 15.0) -> Path:
    """Download Flickr Style into ``directory`` (default :func:`flickr_style_dir`) the way Caffe does.

    Fetches Caffe's csv, shuffles its rows with ``seed`` and keeps ``n_images`` of them (None: all;
    the seed's blog used 80,000 and seed 831486), downloads those photos into ``images/`` with
    ``workers`` threads (skipping photos already there, and dead URLs: many Flickr photos are gone),
    then writes ``train.txt`` and ``test.txt`` for the photos that arrived. Re-running resumes.
    """
    from tqdm.auto import tqdm

    directory = Path(directory) if directory else flickr_style_dir()
    photos = read_flickr_csv(_download_csv(directory / "flickr_style.csv.gz", timeout))
    order = numpy.random.RandomState(seed).permutation(len(photos))
    chosen = [photos[i] for i in order[:n_images]]
    images = directory / "images"
    images.mkdir(parents=True, exist_ok=True)
    targets = [images / photo.url.split("/")[-1] for photo in chosen]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(tqdm(pool.map(lambda pair: _fetch_image(pair[0].url, pair[1], timeout), zip(chosen, targets)),
                            total=len(chosen), desc="Flickr photos", unit="img"))
    if results and results.count("ok") == 0 and "offline" in results:
        raise DownloadError(f"None of the {len(chosen)} photos could be downloaded: this machine seems to be offline. "
                            f"Connect and run `python -m course download style` again (it resumes).")
    for split in ("train", "test"):
        write_image_list(directory / f"{split}.txt",
                         [(target, photo.label) for photo, target, result in zip(chosen, targets, results)
                          if result == "ok" and photo.split == split])
    print(f"Flickr Style: {results.count('ok')} of {len(chosen)} photos present, "
          f"{results.count('gone')} gone from Flickr, {results.count('offline')} not reached. "
          f"csv SHA-256 recorded in {directory / 'flickr_style.csv.gz.sha256'}")
    return directory


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
    """A random square crop (45-100% of the short side) of ``photo``, resized to ``size``, maybe mirrored."""
    import cv2

    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.45, 1.0))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    view = cv2.resize(photo[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA)
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
    import cv2

    photos = {}
    for name in names:
        photo = load_photo(name)
        scale = min(1.0, 4 * size / min(photo.shape[:2]))
        if scale < 1:
            photo = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA)
        photos[name] = photo
    return photos


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
        raise DataError(f"{directory} is empty or missing: there is no Flickr Style there. {_DOWNLOAD_HINT}")
    if not flickr_style_present(directory):
        raise DataError(f"{directory} has no train.txt and test.txt (one `path label` per line). {_DOWNLOAD_HINT}")
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
