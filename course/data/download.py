"""Checksummed, cached, atomic downloads (with pooch), and where data lives."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "COURSE_DATA_DIR"


class DataError(RuntimeError):
    """A data file is missing, truncated or corrupt; the message names the file and the fix."""


class DownloadError(DataError):
    """A download failed (offline, server gone, wrong checksum); the message says what to do."""


def data_dir() -> Path:
    """Where downloads are cached: ``$COURSE_DATA_DIR``, else the repository's ``datasets/`` folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2] / "datasets"


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(urls: list[str], sha256: str, destination: Path, *, timeout: float = 10.0) -> Path:
    """Download ``destination`` from the first of ``urls`` that answers, check it, and keep it.

    A file already there with the right checksum is used as it is. pooch writes to a temporary file
    and moves it into place only after the checksum matched, so an interrupted download never leaves a
    half file behind. Offline, this fails at once with a :class:`DownloadError` that says what to do.
    """
    import pooch
    import requests

    destination = Path(destination)
    if destination.exists() and sha256_of(destination) == sha256:
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256}",
                fname=destination.name,
                path=destination.parent,
                downloader=pooch.HTTPDownloader(progressbar=False, timeout=timeout),
            )
            return destination
        except requests.exceptions.ConnectionError as error:
            failures.append(f"{url}: no connection ({type(error).__name__})")
        except (requests.exceptions.RequestException, OSError) as error:
            failures.append(f"{url}: {error}")
        except ValueError as error:  # pooch's checksum mismatch
            failures.append(f"{url}: downloaded, but the checksum did not match ({error})")
    offline = all("no connection" in f for f in failures)
    advice = (
        "This machine seems to be offline. Connect to the internet and run the same command again, "
        f"or copy the file from a machine that has it to {destination}."
        if offline
        else f"Try again later, or copy a good copy of the file to {destination}."
    )
    raise DownloadError(
        f"Could not download {destination.name}.\n  " + "\n  ".join(failures) + f"\n{advice}"
    )
