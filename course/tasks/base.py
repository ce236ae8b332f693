"""The contract every lesson's task keeps, so the command line, the notebooks and the tests treat them alike.

A task module (``course/tasks/mnist.py``...) defines its sizes as a frozen dataclass, ``QUICK`` and
``FULL = replace(QUICK, ...)`` (only what changes between the profiles; a setting that never changes
is a constant or a default argument, not a size), its notebook's pass bars as another dataclass,
and a ``train(out, *, sizes=None, profile=None, device=None, source="auto", progress=True,
live_plot=None)`` that returns ``(model, history, data)``. It ends with ``TASK = Task(...)``.
"""
from __future__ import annotations

import ast
import dataclasses
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

from course.errors import InputError
from course.profiles import PROFILES, active_profile

Sizes = TypeVar("Sizes")


@dataclass(frozen=True)
class Task:
    """One lesson's model, trained and judged the same way from a notebook, the command line or a test.

    ``train(out, *, sizes=None, profile=None, ...)`` trains and writes ``out/model.npz``; ``metric``
    is the logged key its result is judged by. ``evaluate(model_path, data, *, device=None)``, when
    there is one, returns ``{metric name: value}`` for a saved model on test data (``evaluate_data``
    says what ``data`` is). ``download()``, when there is one, fetches the full data. ``sources`` are
    the names ``--source`` takes; ``source_folder``, when not None, says what a folder given as
    ``--source`` must hold. ``sizes`` and ``bars`` map each profile to its sizes and its notebook's
    pass bars.
    """

    name: str
    lesson: str
    help: str
    data: str
    train: Callable[..., tuple]
    metric: str
    sizes: Mapping[str, Any]
    bars: Mapping[str, Any] | None = None
    sources: tuple[str, ...] = ("auto",)
    source_folder: str | None = None
    evaluate: Callable[..., Mapping[str, float]] | None = None
    evaluate_data: str | None = None
    download: Callable[[], Path] | None = None

    def __post_init__(self):
        if set(self.sizes) != set(PROFILES) or (self.bars is not None and set(self.bars) != set(PROFILES)):
            raise ValueError(f"task {self.name}: sizes and bars need one entry per profile ({', '.join(PROFILES)})")

    def sizes_for(self, profile: str | None = None):
        """The sizes of ``profile`` (default: the active profile)."""
        return self.sizes[active_profile(profile)]

    def bars_for(self, profile: str | None = None):
        """The notebook's pass bars under ``profile`` (default: the active profile)."""
        if self.bars is None:
            raise InputError(f"the {self.name} task has no pass bars")
        return self.bars[active_profile(profile)]

    def check_source(self, source: str | os.PathLike) -> None:
        """Raise :class:`course.errors.InputError` unless ``source`` is one of :attr:`sources` or an allowed folder."""
        if str(source) in self.sources:
            return
        if self.source_folder is not None:
            if Path(source).is_dir():
                return
            raise InputError(f"--source {str(source)!r} is neither one of {', '.join(self.sources)} nor a folder "
                             f"({self.source_folder})")
        raise InputError(f"--source {str(source)!r} is not a source of {self.name}: use one of {', '.join(self.sources)}")


def pick_sizes(table: Mapping[str, Sizes], sizes: Sizes | None, profile: str | None) -> Sizes:
    """``sizes`` when given (it must be of the table's type), else the sizes of ``profile`` in ``table``."""
    if sizes is None:
        return table[active_profile(profile)]
    kind = type(next(iter(table.values())))
    if not isinstance(sizes, kind):
        raise InputError(f"sizes must be a {kind.__module__}.{kind.__name__}, e.g. dataclasses.replace(QUICK, "
                         f"epochs=1), not {type(sizes).__name__}")
    return sizes


def _allowed(annotation) -> tuple[type, ...]:
    """The runtime types a field annotated ``annotation`` accepts: ``int | None`` -> (int, NoneType)."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    return tuple(typing.get_origin(option) or option for option in options)


def _parse(name: str, annotation, text: str) -> Any:
    """``text`` (a Python literal, or a bare word) as a value for the field ``name`` of type ``annotation``."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text  # a bare word, e.g. a layer name
    if isinstance(value, list):
        value = tuple(value)
    allowed = _allowed(annotation)
    if isinstance(value, int) and not isinstance(value, bool) and float in allowed and int not in allowed:
        value = float(value)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        kinds = " or ".join("None" if kind is type(None) else kind.__name__ for kind in allowed)
        raise InputError(f"--size {name}={text}: {name} takes {kinds}")
    return value


def override_sizes(sizes: Sizes, assignments: Sequence[str]) -> Sizes:
    """``sizes`` with ``NAME=VALUE`` assignments applied (``--size epochs=1``), values checked against the fields."""
    hints = typing.get_type_hints(type(sizes))
    fields = [f.name for f in dataclasses.fields(sizes)]
    changes = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or name not in fields:
            raise InputError(f"--size {assignment!r}: give NAME=VALUE with NAME one of {', '.join(fields)}")
        changes[name] = _parse(name, hints[name], text.strip())
    return dataclasses.replace(sizes, **changes)
