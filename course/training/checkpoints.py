"""Saving and loading models as npz (Chainer's serializers; never pickle), atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import chainer


def save_model(model: chainer.Link, path: str | os.PathLike) -> Path:
    """Write ``model``'s parameters and persistent values to ``path`` (npz) atomically.

    The file is written under a temporary name in the same folder and renamed into place, so a crash
    mid-write leaves the previous file intact rather than a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(handle)
    try:
        chainer.serializers.save_npz(temporary, model, compression=True)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def load_model(model: chainer.Link, path: str | os.PathLike) -> chainer.Link:
    """Load ``path`` (written by :func:`save_model`) into ``model`` and return it.

    Raises ``FileNotFoundError`` or ``ValueError`` with the file name and the likely fix when the file is
    missing or was saved from a different architecture.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train first (e.g. `python -m course train mnist --out DIR`).")
    try:
        chainer.serializers.load_npz(str(path), model)
    except (KeyError, ValueError) as error:
        raise ValueError(
            f"{path} does not fit {type(model).__name__} ({error}): it was saved from another model. "
            f"Build the same model class that was trained, or retrain."
        ) from None
    return model
