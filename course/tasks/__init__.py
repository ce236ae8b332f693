"""Each lesson's model trained end to end, shared by the notebooks and ``python -m course train NAME``.

Every lesson that trains a model has one module here, ending with ``TASK = Task(...)`` (see
:mod:`course.tasks.base`). Modules are imported only when a task is asked for, so one lesson's
imports never slow another's, and ``python -m course --help`` imports them only to print the list.
"""
from __future__ import annotations

import importlib

from course.errors import InputError
from course.tasks.base import Task

TASKS: dict[str, str] = {
    "mnist": "course.tasks.mnist",
    "style": "course.tasks.style",
    "faces": "course.tasks.faces",
    "ranknet": "course.tasks.ranknet",
    "dcgan": "course.tasks.dcgan",
    "superres": "course.tasks.superres",
    "colorize": "course.tasks.colorize",
    "bokete": "course.tasks.bokete",
    "classic": "course.tasks.classic",
}
"""Task name -> the module that defines its ``TASK``, in lesson order."""


def task(name: str) -> Task:
    """The :class:`Task` called ``name`` (one of :data:`TASKS`)."""
    if name not in TASKS:
        raise InputError(f"no task named {name!r}; the tasks are {', '.join(TASKS)}")
    return importlib.import_module(TASKS[name]).TASK


def all_tasks() -> list[Task]:
    """Every task, in lesson order (imports them all)."""
    return [task(name) for name in TASKS]


def sizes(name: str, profile: str | None = None):
    """The sizes of task ``name`` under ``profile`` (default: the active profile), a frozen dataclass."""
    return task(name).sizes_for(profile)


def bars(name: str, profile: str | None = None):
    """The pass bars of task ``name``'s notebook under ``profile`` (default: the active profile)."""
    return task(name).bars_for(profile)


__all__ = ["TASKS", "Task", "all_tasks", "bars", "sizes", "task"]
