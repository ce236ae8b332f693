"""The two profiles every lesson has: ``quick`` (CI, a laptop) and ``full`` (a GPU, full data).

``quick`` is what CI runs: about a minute a notebook on two CPU cores, on the data that ships with the
installed packages. ``full`` is the real lesson: full data when it is there, GPU-sized epochs. The
code path is the same; only the sizes change. Each lesson's sizes are a frozen dataclass next to its
task (e.g. ``course.tasks.mnist.QUICK`` and ``FULL``); :func:`course.sizes` picks one by profile.

``$COURSE_PROFILE`` chooses the profile; unset, it is ``full`` on a usable GPU and ``quick`` elsewhere.
"""
from __future__ import annotations

import os

from course.errors import InputError

ENV_VAR = "COURSE_PROFILE"
PROFILES = ("quick", "full")


def check_profile(profile: str) -> str:
    """``profile`` if it is one of :data:`PROFILES`, else an :class:`course.errors.InputError` saying which are."""
    if profile not in PROFILES:
        raise InputError(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    return profile


def active_profile(profile: str | None = None) -> str:
    """``profile`` if given, else ``$COURSE_PROFILE`` if set, else ``full`` on a usable GPU and ``quick`` elsewhere."""
    if profile:
        return check_profile(profile)
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if name:
        if name not in PROFILES:
            raise InputError(
                f"{ENV_VAR}={name!r} is not a profile; use one of {', '.join(PROFILES)} "
                f"(or unset it to choose automatically)."
            )
        return name
    from course.device import get_device

    return "quick" if get_device().xp.__name__ == "numpy" else "full"
