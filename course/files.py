"""Files the course reads and writes: one atomic write, one checksum, one error for a bad file.

Everything the course writes (models, logs of ratings, IDX files, downloads) goes through
:func:`atomic_write`, so a crash or a full disk mid-write leaves the previous file, never half of
a new one. A file or folder that is missing, unreadable or not what was expected raises
:class:`DataError`, whose message names it and says what to do; the command line prints that one
line and exits with status 2.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from course.errors import DataError

__all__ = ["DataError", "atomic_write", "check_writable_folder", "sha256_of"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success rename it to ``path``.

    ``mode`` is ``"wb"`` (bytes) or ``"w"`` (UTF-8 text). The parent folder is created. If the
    block raises, the temporary file is removed and ``path`` is left as it was::

        with atomic_write(out / "ratings.txt", "w") as f:
            f.write(text)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes whole files: mode 'wb' or 'w', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_writable_folder(folder: str | os.PathLike) -> Path:
    """``folder``, created if needed, after proving a file can be written in it; else :class:`DataError`.

    Call it before long work whose results go there, so a bad ``--out`` fails at once, not after training.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder: give --out a folder (it is created if missing).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"  # one per process: data-parallel processes check the same folder
        with atomic_write(probe, "wb"):
            pass
        probe.unlink()
    except OSError as error:
        raise DataError(f"cannot write in {folder} ({error.strerror or error}): choose a folder you can write to.") from None
    return folder
