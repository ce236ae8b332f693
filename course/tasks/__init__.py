"""Each lesson's model trained end to end, shared by the notebooks and ``python -m course train NAME``.

Every lesson has one module here. It defines

- ``train(out, *, profile=None, device=None, source="auto", progress=True, live_plot=None)``, which
  trains with the profile's sizes, writes ``out/model.npz`` and ``out/log.json``, resumes from the
  snapshots in ``out``, and returns ``(model, history, data)``;
- ``METRIC``, the logged key whose last value ``train`` is judged by (e.g. validation accuracy);
- optionally ``evaluate(model_path, data, *, device=None) -> float`` and ``download() -> Path``.

Modules are imported only when a lesson is asked for, so one lesson's imports never slow another's.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from course.tasks.mnist import evaluate_mnist, mnist_augmenter, train_mnist

TASKS: dict[str, str] = {
    "mnist": "course.tasks.mnist",
    "style": "course.tasks.style",
    "faces": "course.tasks.faces",
    "ranknet": "course.tasks.ranknet",
    "classic": "course.tasks.classic",
}


def task(name: str) -> ModuleType:
    """The module of lesson task ``name`` (one of :data:`TASKS`)."""
    if name not in TASKS:
        raise KeyError(f"no task named {name!r}; the tasks are {', '.join(TASKS)}")
    return importlib.import_module(TASKS[name])


__all__ = ["TASKS", "evaluate_mnist", "mnist_augmenter", "task", "train_mnist"]
