"""Exercise checkers: each tells the learner in one line whether an answer is right, never stopping the notebook.

A checker is written as a function that raises :class:`Wrong` with a hint when the answer is wrong;
the :func:`checker` decorator turns it into one that prints ``✓ title: correct`` or
``✗ title: <hint>`` and returns a :class:`CheckResult`, truthy exactly when the answer passed
(solutions notebooks ``assert`` it). An answer that makes the check raise is reported and recorded
as not passed; it never stops the notebook.

Every result is also recorded, for a grader to read after the notebook's kernel has ended:

* in memory, for this process: :func:`results`;
* when the environment variable ``COURSE_CHECKS_FILE`` names a file, as one JSON line appended to it
  per check, e.g.::

    {"lesson": "02", "exercise": "accuracy", "title": "your accuracy function", "passed": false,
     "message": "it returns the fraction wrong (the error rate); accuracy is the fraction right",
     "time": "2025-05-01T09:30:12+00:00"}

  (one line in the file). :func:`read_results` reads such a file back. ``lesson`` comes from the
  checker's module (``course.checks.lesson02`` -> ``"02"``) and ``exercise`` from its name
  (``check_accuracy`` -> ``"accuracy"``): stable identifiers a gradebook can use as column names.
  A file that cannot be written costs the learner one warning line, never the check.

The helpers below (:func:`require_function`, :func:`call_answer`, :func:`as_number`,
:func:`whole_number`, :func:`keep_numpy_random_state`) are what the lesson checkers share.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import math
import numbers
import os
import re
import sys
import warnings
from typing import Any, Callable, Iterator

import numpy

__all__ = [
    "CheckResult", "ResultsFileWarning", "Wrong", "as_number", "call_answer", "checker", "clear_results",
    "keep_numpy_random_state", "read_results", "require_function", "results", "whole_number",
]

RESULTS_FILE_VARIABLE = "COURSE_CHECKS_FILE"


class Wrong(Exception):
    """Raised inside a checker: the answer is wrong, and the message is the hint to show."""


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """What one check found: truthy exactly when the answer passed."""

    lesson: str  #: "02" for course.checks.lesson02
    exercise: str  #: "accuracy" for check_accuracy
    passed: bool
    message: str  #: "correct", or the hint the learner was shown
    title: str = ""  #: the checker's title, as printed
    time: str = ""  #: when it was checked, ISO 8601 in UTC

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        """The line the learner saw, e.g. ``✓ your accuracy function: correct``."""
        return f"{'✓' if self.passed else '✗'} {self.title or self.exercise}: {self.message}"

    def _ipython_display_(self) -> None:
        """Show nothing: the checker has already printed its line (a cell may end with the call)."""

    def to_json(self) -> str:
        """One line of JSON, without the newline."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, fields: dict) -> CheckResult:
        """The result a :meth:`to_json` line holds; :class:`ValueError` saying what is missing or mistyped."""
        if not isinstance(fields, dict):
            raise ValueError(f"expected a JSON object, got {type(fields).__name__}")
        kinds = {"lesson": str, "exercise": str, "passed": bool, "message": str, "title": str, "time": str}
        required = ("lesson", "exercise", "passed", "message")
        missing = [name for name in required if name not in fields]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        for name, kind in kinds.items():
            if name in fields and not isinstance(fields[name], kind):
                raise ValueError(f"{name} should be a {kind.__name__}, not {fields[name]!r}")
        return cls(**{name: fields[name] for name in kinds if name in fields})  # unknown keys: newer writers


class ResultsFileWarning(UserWarning):
    """A line of a results file that :func:`read_results` skipped."""


_RESULTS: list[CheckResult] = []
_WARNED: set[str] = set()  # files this process has already failed to write (and said so once)


def results() -> list[CheckResult]:
    """The results of every check run in this process so far, oldest first."""
    return list(_RESULTS)


def clear_results() -> None:
    """Forget the results kept in memory (the results file is left alone)."""
    _RESULTS.clear()


def _record(result: CheckResult) -> None:
    """Keep ``result`` in memory and, when ``COURSE_CHECKS_FILE`` is set, append it there as one JSON line."""
    _RESULTS.append(result)
    path = os.environ.get(RESULTS_FILE_VARIABLE)
    if not path:
        return
    try:
        line = (result.to_json() + "\n").encode("utf-8")
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)  # one unbuffered write per line: lines of parallel kernels never mix
        finally:
            os.close(descriptor)
    except Exception as error:  # never let the record break the learner's notebook
        if path not in _WARNED:
            _WARNED.add(path)
            print(f"⚠ this check could not be recorded in {path} ({type(error).__name__}: {error}); "
                  f"your answer was still checked", file=sys.stderr)


def read_results(path: str | os.PathLike, *, strict: bool = False) -> list[CheckResult]:
    """The results recorded in ``path`` (a ``COURSE_CHECKS_FILE``), in the order they were checked.

    Blank lines are skipped. A malformed line (not JSON, or missing or mistyped fields, e.g. cut short)
    is skipped with a :class:`ResultsFileWarning` naming the file and line, or, with ``strict=True``,
    raises :class:`ValueError`. A missing file raises :class:`FileNotFoundError`.
    """
    found = []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                found.append(CheckResult.from_dict(json.loads(line)))
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                problem = f"{os.fspath(path)}:{number}: malformed check result ({error}): {line.strip()[:80]!r}"
                if strict:
                    raise ValueError(problem) from None
                warnings.warn(problem, ResultsFileWarning, stacklevel=2)
    return found


def _lesson_of(module: str) -> str:
    name = module.rpartition(".")[2]
    match = re.fullmatch(r"lesson(\w+)", name)
    return match.group(1) if match else name


def checker(title: str, *, lesson: str | None = None,
            exercise: str | None = None) -> Callable[[Callable[..., None]], Callable[..., CheckResult]]:
    """Decorate a function that raises :class:`Wrong` on a wrong answer; see the module docstring.

    ``lesson`` and ``exercise`` default to the module's (``lesson02`` -> ``"02"``) and the function's
    name without ``check_``. The checker gets them as attributes, with ``title``.
    """

    def decorate(check: Callable[..., None]) -> Callable[..., CheckResult]:
        lesson_id = lesson if lesson is not None else _lesson_of(check.__module__)
        exercise_id = exercise if exercise is not None else check.__name__.removeprefix("check_")

        @functools.wraps(check)
        def run(*args, **kwargs) -> CheckResult:
            try:
                check(*args, **kwargs)
            except Wrong as wrong:
                passed, message = False, str(wrong)
            except Exception as error:  # the learner's code broke: report it, don't stop the notebook
                passed, message = False, f"checking your answer raised {type(error).__name__}: {error}"
            else:
                passed, message = True, "correct"
            result = CheckResult(lesson_id, exercise_id, passed, message, title,
                                 datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
            print(result)
            _record(result)
            return result

        run.lesson, run.exercise, run.title = lesson_id, exercise_id, title
        return run

    return decorate


# --- what the lesson checkers share -------------------------------------------------------------------


def require_function(answer: Any, example: str) -> None:
    """:class:`Wrong` unless ``answer`` is callable: the learner passed a value, or called their function."""
    if not callable(answer):
        raise Wrong(f"pass the function itself, e.g. {example}, not {type(answer).__name__}")


def call_answer(function: Callable, *args, case: str = "", hint: str = ""):
    """``function(*args)``; if the learner's function raises, :class:`Wrong` naming the case and the error.

    The hint reads ``on <case> it raised <Error>: <message><hint>`` (without ``on <case>`` when no case is
    named), so ``hint`` starts with its own punctuation, e.g. ``". Each label picks one row"``.
    """
    try:
        return function(*args)
    except Exception as error:
        where = f"on {case} " if case else ""
        raise Wrong(f"{where}it raised {type(error).__name__}: {error}{hint}") from None


def as_number(answer: Any, hint: str) -> float:
    """``answer`` as one float, or :class:`Wrong` with ``hint``.

    A Python or NumPy number, a one-element NumPy or CuPy array, or a ``chainer.Variable`` holding one
    is a number; a bool, a string, a list or a bigger array is not. NaN and infinity are numbers here:
    the checker says what is wrong with them where that matters.
    """
    value = getattr(answer, "array", answer)  # a chainer.Variable
    if isinstance(value, (bool, numpy.bool_, str, bytes)):
        raise Wrong(hint)
    if isinstance(value, numbers.Real):
        return float(value)
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        if getattr(value, "size", None) == 1 and numpy.dtype(dtype).kind in "iuf":
            return float(value.item())
        raise Wrong(hint)
    try:
        return float(value)  # e.g. a decimal.Decimal
    except (TypeError, ValueError):
        raise Wrong(hint) from None


def whole_number(answer: Any, hint: str | None = None, *, floats: bool = True) -> int:
    """``answer`` as an int when it is a whole number, or :class:`Wrong` with ``hint``.

    An int or NumPy integer is one; with ``floats`` so is a float with nothing after the point (``1800.0``);
    a bool never is. The default hint is ``answer with a whole number, not <answer>``.
    """
    if not isinstance(answer, (bool, numpy.bool_)):
        if isinstance(answer, numbers.Integral):
            return int(answer)
        if floats and isinstance(answer, numbers.Real) and math.isfinite(answer) and float(answer).is_integer():
            return int(answer)
    raise Wrong(hint if hint is not None else f"answer with a whole number, not {answer!r}")


@contextlib.contextmanager
def keep_numpy_random_state() -> Iterator[None]:
    """Run the block (e.g. building a model to compare with) without moving NumPy's global random state,
    so checking an answer never changes what the learner's next random numbers are."""
    state = numpy.random.get_state()
    try:
        yield
    finally:
        numpy.random.set_state(state)
