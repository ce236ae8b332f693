"""Checksummed, cached, atomic downloads (with pooch), and where data lives.

:func:`fetch` is the one way the course downloads a data file. :func:`classify_failure` is how
every download (also lesson 3's bulk photo download) tells "this machine is offline" (fail at once,
say what to do) from "that server failed" (try the next mirror, skip that photo).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from course.files import DataError, atomic_write, sha256_of

__all__ = ["DataError", "DownloadError", "Failure", "classify_failure", "data_dir", "fetch", "recorded_sha256",
           "sha256_of"]

ENV_VAR = "COURSE_DATA_DIR"


class DownloadError(DataError):
    """A download failed (offline, server gone, wrong checksum); the message says what to do."""


def data_dir() -> Path:
    """Where downloads are cached: ``$COURSE_DATA_DIR``, else the repository's ``datasets/`` folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2] / "datasets"


class Failure(NamedTuple):
    """Why one URL gave nothing: ``offline`` when no connection could be made at all, and a line to show."""

    url: str
    offline: bool
    reason: str


def classify_failure(url: str, error: BaseException) -> Failure:
    """Sort an error of downloading ``url``: no connection (offline) or a failure of that server or file.

    ``requests``' ``ConnectionError`` (refused, no route, unknown host, no network) means offline;
    anything else (an HTTP error status, a timeout after connecting, a bad checksum) is the server's.
    """
    import requests

    if isinstance(error, requests.exceptions.ConnectionError):
        return Failure(url, True, f"{url}: no connection ({type(error).__name__})")
    if isinstance(error, ValueError) and not isinstance(error, requests.exceptions.RequestException):
        return Failure(url, False, f"{url}: downloaded, but the checksum did not match ({error})")
    return Failure(url, False, f"{url}: {error}")


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 that :func:`fetch` recorded beside ``path`` (in ``<name>.sha256``) when it arrived, if any."""
    record = _record_path(Path(path))
    if not record.is_file():
        return None
    fields = record.read_text(encoding="utf-8").split()
    return fields[0] if fields else ""


def fetch(urls: Sequence[str], sha256: str | None, destination: str | os.PathLike, *, timeout: float = 10.0,
          check: Callable[[Path], object] | None = None, again: str = "the same command",
          copy_from: str = "a machine that has it") -> Path:
    """Download ``destination`` from the first of ``urls`` that answers, check it, and keep it.

    With a published ``sha256``, a file already there with that checksum is used as it is, and a
    download must have it. For a file with no published checksum pass ``sha256=None``: what arrives
    is kept and its SHA-256 recorded in ``<name>.sha256`` beside it (readers can verify it with
    :func:`recorded_sha256`); a file already there is used as it is unless it no longer matches its
    record, in which case it is downloaded again.

    ``check(path)``, if given, validates a fresh download; a :class:`DataError` from it discards that
    file and the next URL is tried. pooch writes to a temporary file and moves it into place only
    when complete (and, with ``sha256``, only after the checksum matched), so an interrupted download
    never leaves a half file behind. Offline, this fails at once with a :class:`DownloadError` that
    says to run ``again`` once connected, or to copy the file from ``copy_from``.
    """
    import pooch

    destination = Path(destination)
    if sha256 is None:
        if destination.is_file():
            recorded = recorded_sha256(destination)
            if recorded is None or recorded == sha256_of(destination):
                return destination
            destination.unlink()  # changed since it arrived: pooch keeps a file it has no hash for, so remove it
        _record_path(destination).unlink(missing_ok=True)  # a record without its file is stale
    elif destination.is_file() and sha256_of(destination) == sha256:
        return destination
    # (a file there with the wrong checksum: pooch downloads again and replaces it only when the new one matches)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            pooch.retrieve(
                url,
                known_hash=None if sha256 is None else f"sha256:{sha256}",
                fname=destination.name,
                path=destination.parent,
                downloader=pooch.HTTPDownloader(progressbar=False, timeout=timeout),
            )
        except (OSError, ValueError) as error:  # requests' errors are OSErrors; pooch's checksum mismatch a ValueError
            failures.append(classify_failure(url, error))
            continue
        if check is not None:
            try:
                check(destination)
            except DataError as error:
                destination.unlink(missing_ok=True)
                failures.append(Failure(url, False, f"{url}: downloaded, but it is not the expected file ({error})"))
                continue
        if sha256 is None:
            with atomic_write(_record_path(destination), "w") as f:
                f.write(f"{sha256_of(destination)}  {destination.name}\n")
        return destination
    offline = bool(failures) and all(f.offline for f in failures)
    advice = (
        f"This machine seems to be offline. Connect to the internet and run {again} again, "
        f"or copy the file from {copy_from} to {destination}."
        if offline
        else f"Try again later, or copy a good copy of the file from {copy_from} to {destination}."
    )
    raise DownloadError(
        f"Could not download {destination.name}.\n  " + "\n  ".join(f.reason for f in failures) + f"\n{advice}"
    )
