"""Flickr Style (Karayev et al., "Recognizing Image Style", 2014): Caffe's csv of photos and the download.

:func:`download_flickr_style` (``python -m course download style``) does what Caffe's
``examples/finetune_flickr_style/assemble_data.py`` does: it fetches Caffe's
``flickr_style.csv.gz`` (photo URL, style label 0-19, train/test split), downloads a seeded
sample of the photos into ``datasets/flickr_style/images/`` and writes the list files ``train.txt``
and ``test.txt`` for the photos that arrived. :func:`course.data.style.load_style` reads them.

The csv goes through :func:`course.data.download.fetch` (Caffe publishes no checksum for it, so the
SHA-256 of what arrived is recorded beside it and checked on every read); the photos are fetched
one by one with the same offline-or-server-failure rule, skipping photos Flickr no longer has.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy

from course.data.download import DownloadError, classify_failure, fetch, recorded_sha256
from course.data.looks import N_STYLES
from course.data.style import DOWNLOAD_HINT, flickr_style_dir, write_image_list
from course.files import DataError, atomic_write, sha256_of
from course.images import decode_rgb, read_rgb

_CAFFE_CSV = "examples/finetune_flickr_style/flickr_style.csv.gz"
FLICKR_CSV_URLS = (
    # The version this lesson was written against (Caffe commit a14cacf), then whatever master has.
    f"https://raw.githubusercontent.com/BVLC/caffe/a14cacff34ac5672f65db90d37310b331eb51242/{_CAFFE_CSV}",
    f"https://raw.githubusercontent.com/BVLC/caffe/master/{_CAFFE_CSV}",
)
CSV_COLUMNS = ("image_url", "label", "_split")  # what Caffe's assemble_data.py uses (index_col=0)
# Flickr answers a deleted photo with this placeholder image (SHA-1 from Caffe's assemble_data.py).
MISSING_IMAGE_SHA1 = "6a92790b1c2a301c6e7ddef645dca1f53ea97ac2"
_AGAIN = "`python -m course download style`"


class FlickrPhoto(NamedTuple):
    """One row of Caffe's flickr_style.csv: the photo's id, URL, style label and split."""

    image_id: str
    url: str
    label: int
    split: str


def read_flickr_csv(path: str | os.PathLike) -> list[FlickrPhoto]:
    """Read Caffe's ``flickr_style.csv.gz`` (or the plain csv): the first column is the photo's id.

    The columns ``image_url``, ``label`` (0-19, Caffe's order) and ``_split`` (``train``/``test``)
    must be there; other columns are ignored. If a ``.sha256`` file recorded at download time lies
    beside it, the csv must still have that hash. Anything else is a :class:`DataError`.
    """
    path = Path(path)
    fix = f"Delete {path} and run {_AGAIN} again."
    if not path.is_file():
        raise DataError(f"{path} does not exist. {DOWNLOAD_HINT}")
    recorded = recorded_sha256(path)
    if recorded is not None and recorded != sha256_of(path):
        raise DataError(f"{path} changed since it was downloaded (its SHA-256 differs from {path.name}.sha256). {fix}")
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


def download_csv(directory: str | os.PathLike, timeout: float = 15.0) -> Path:
    """Caffe's ``flickr_style.csv.gz`` in ``directory``, downloaded unless there (its SHA-256 recorded beside it)."""
    return fetch(FLICKR_CSV_URLS, None, Path(directory) / "flickr_style.csv.gz", timeout=timeout,
                 check=read_flickr_csv, again=_AGAIN, copy_from=f"a Caffe checkout ({_CAFFE_CSV})")


def _fetch_image(url: str, destination: Path, timeout: float) -> str:
    """Download one photo unless a readable copy is there: ``ok``, ``gone`` (dead URL) or ``offline``."""
    import requests

    try:
        read_rgb(destination)
        return "ok"  # downloaded before: resume
    except DataError:
        pass
    try:
        response = requests.get(url, timeout=timeout)
    except requests.exceptions.RequestException as error:
        return "offline" if classify_failure(url, error).offline else "gone"
    content = response.content
    if (response.status_code != 200 or "unavailable" in response.url or not content
            or hashlib.sha1(content).hexdigest() == MISSING_IMAGE_SHA1):
        return "gone"
    try:
        decode_rgb(content, url)
    except DataError:
        return "gone"
    with atomic_write(destination, "wb") as f:
        f.write(content)
    return "ok"


def download_flickr_style(n_images: int | None = 80_000, *, seed: int = 831486,
                          directory: str | os.PathLike | None = None, workers: int = 16,
                          timeout: float = 15.0) -> Path:
    """Download Flickr Style into ``directory`` (default :func:`course.data.style.flickr_style_dir`) as Caffe does.

    Fetches Caffe's csv, shuffles its rows with ``seed`` and keeps ``n_images`` of them (None: all;
    the seed's blog used 80,000 and seed 831486), downloads those photos into ``images/`` with
    ``workers`` threads (skipping photos already there, and dead URLs: many Flickr photos are gone),
    then writes ``train.txt`` and ``test.txt`` for the photos that arrived. Re-running resumes.
    """
    from tqdm.auto import tqdm

    directory = Path(directory) if directory else flickr_style_dir()
    photos = read_flickr_csv(download_csv(directory, timeout))
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
                            f"Connect and run {_AGAIN} again (it resumes).")
    for split in ("train", "test"):
        write_image_list(directory / f"{split}.txt",
                         [(target, photo.label) for photo, target, result in zip(chosen, targets, results)
                          if result == "ok" and photo.split == split])
    print(f"Flickr Style: {results.count('ok')} of {len(chosen)} photos present, "
          f"{results.count('gone')} gone from Flickr, {results.count('offline')} not reached. "
          f"csv SHA-256 recorded in {directory / 'flickr_style.csv.gz.sha256'}")
    return directory
