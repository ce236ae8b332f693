"""Grade a class: run every student's notebooks, read back what the checkers recorded, write one CSV row per student.

``SUBMISSIONS`` holds one folder per student (the folder's name is the student's row) with their
notebooks, named as in the assignment (a notebook in a sub-folder is found too, if only one has the
name). Each notebook runs in a fresh temporary copy with :mod:`course.classroom.run_notebook`, inside
:mod:`course.classroom.sandbox`, its checkers recording to a ``COURSE_CHECKS_FILE`` of its own. The
columns are ``student``, one per exercise (``01/or_targets``: 1 if its last check passed, else 0),
``passed`` (how many) and ``problems``: what went wrong, e.g. ``missing``, ``not a notebook
(NotJSONError)``, ``timeout in cell 14``, ``kernel died in cell 3``, ``error in cell 5 (SyntaxError)``,
``not checked: xor_net`` (a notebook that ran to its end without calling that checker: deleted cells),
``output cut (too long)`` (more output than the limit; the rest was dropped, the grading goes on).
Cells are counted from 1, markdown cells included, as they appear in the student's notebook.
"""
from __future__ import annotations

import ast
import concurrent.futures
import csv
import dataclasses
import importlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from course.checks import CheckResult, ResultsFileWarning, read_results
from course.classroom.sandbox import clean_environment, namespaces_available, sandboxed
from course.errors import DataError, InputError
from course.files import atomic_write, check_writable_folder

__all__ = ["Gradebook", "Limits", "NotebookGrade", "assignment_notebooks", "exercises_of", "grade", "grade_notebook",
           "isolation_note"]

MAX_NOTEBOOK_BYTES = 50 << 20  #: a submitted file larger than this is not run


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one notebook may use: seconds per cell and in all, bytes of output kept, memory, bytes per file."""

    cell_timeout: float = 300
    notebook_timeout: float = 1200
    output_limit: int = 16 << 20  # lesson 1, figures included, keeps 0.4 MB
    memory_limit: int = 8 << 30
    file_limit: int = 1 << 30


@dataclasses.dataclass
class NotebookGrade:
    """How one student's notebook went: ``problem`` (None if every cell ran), cells that raised, check results."""

    problem: str | None
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    results: list[CheckResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    output_cut: bool = False  #: it printed more than the output limit (the rest was dropped)


def _code_of(cell_source: str) -> ast.Module | None:
    """The cell parsed as Python, IPython's ``%magic`` and ``!shell`` lines blanked; None if it does not parse."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def exercises_of(notebook: str | os.PathLike) -> list[tuple[str, str]]:
    """``(lesson, exercise)`` of every checker the notebook imports from ``course.checks``, in order."""
    found = []
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = _code_of("".join(cell["source"]))
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course.checks."):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    check = getattr(module, alias.name, None)
                    exercise = (getattr(check, "lesson", None), getattr(check, "exercise", None))
                    if None not in exercise and exercise not in found:
                        found.append(exercise)
    return found


def _find(student: Path, name: str) -> Path | NotebookGrade:
    """The student's notebook called ``name``: in their folder, else the only one of that name beneath it.

    Where there is none, or several, the :class:`NotebookGrade` that says so.
    """
    if (student / name).is_file():
        return student / name
    candidates = sorted(path for path in student.rglob(name) if path.is_file())
    if len(candidates) > 1:
        where = ", ".join(str(path.relative_to(student)) for path in candidates)
        return NotebookGrade(f"{len(candidates)} notebooks of that name ({where}): hand in one")
    return candidates[0] if candidates else NotebookGrade("missing")


_RUNNING: set[subprocess.Popen] = set()  # workers now running, killed if grading is stopped (Ctrl-C)
_RUNNING_LOCK = threading.Lock()


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def grade_notebook(source: Path, limits: Limits, keep: Path | None = None) -> NotebookGrade:
    """Run one submitted notebook in a temporary copy (see the module docstring); ``keep``: write the executed copy there."""
    if source.stat().st_size > MAX_NOTEBOOK_BYTES:
        return NotebookGrade(f"not a notebook (over {MAX_NOTEBOOK_BYTES >> 20} MB)")
    with tempfile.TemporaryDirectory(prefix="course-grade-") as folder:
        copy = Path(folder) / "copy"
        copy.mkdir()
        notebook = copy / source.name
        shutil.copyfile(source, notebook)
        environment = clean_environment(copy)
        checks, status = copy / ".home" / "checks.jsonl", copy / ".home" / "status.json"
        environment["COURSE_CHECKS_FILE"] = str(checks)
        command = sandboxed([sys.executable, "-m", "course.classroom.run_notebook", notebook.name,
                             "--status", str(status), "--cell-timeout", str(limits.cell_timeout),
                             "--notebook-timeout", str(limits.notebook_timeout), "--output-limit",
                             str(limits.output_limit), "--memory-limit", str(limits.memory_limit),
                             "--file-limit", str(limits.file_limit)], copy)
        start = time.monotonic()
        with open(Path(folder) / "worker.log", "wb") as log:
            process = subprocess.Popen(command, cwd=copy, env=environment, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            with _RUNNING_LOCK:
                _RUNNING.add(process)
            try:
                process.wait(timeout=limits.notebook_timeout + 120)  # its own limit, plus kernel start and shut-down
            except subprocess.TimeoutExpired:
                _kill(process)
                return NotebookGrade(f"notebook time limit ({limits.notebook_timeout:g} s) reached",
                                     results=_results(checks), seconds=time.monotonic() - start)
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process)
        try:
            outcome = json.loads(status.read_text(encoding="utf-8"))
            problem, errors = outcome["problem"], [(int(cell), str(name)) for cell, name in outcome["errors"]]
            cut = bool(outcome["output_cut"])
        except (OSError, ValueError, KeyError, TypeError):  # the worker died, or the submission overwrote its status
            tail = (Path(folder) / "worker.log").read_bytes()[-300:].decode("utf-8", "replace").strip().splitlines()
            problem, errors = f"grader could not run it ({tail[-1] if tail else f'exit status {process.returncode}'})", []
            cut = False
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, keep / source.name)
        return NotebookGrade(problem, errors, _results(checks), time.monotonic() - start, cut)


def _results(checks: Path) -> list[CheckResult]:
    if not checks.is_file():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsFileWarning)  # a line cut short by a killed kernel: skipped
        return read_results(checks)


@dataclasses.dataclass
class Gradebook:
    """The grades of a class: one row per student (``lesson/exercise`` column -> 0 or 1, ``passed``, ``problems``)."""

    expected: dict[str, list[tuple[str, str]]]  #: notebook name -> its exercises (lesson, exercise)
    rows: dict[str, dict] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0  #: wall time of the whole grading
    times: dict[str, float] = dataclasses.field(default_factory=dict)  #: student -> seconds their notebooks ran

    @property
    def exercises(self) -> list[tuple[str, str]]:
        """Every exercise of every notebook, in order."""
        return [exercise for found in self.expected.values() for exercise in found]

    @property
    def columns(self) -> list[str]:
        """The exercise columns of the CSV, e.g. ``01/or_targets``."""
        return [f"{lesson}/{exercise}" for lesson, exercise in self.exercises]

    def add(self, student: str, graded: dict[str, NotebookGrade]) -> None:
        """Record one student's notebooks as their row."""
        latest = {}
        for notebook in graded.values():
            for result in notebook.results:
                latest[(result.lesson, result.exercise)] = result.passed  # the last check of an exercise counts
        row = {column: int(latest.get(exercise, False)) for column, exercise in zip(self.columns, self.exercises)}
        row["passed"] = sum(row.values())
        problems = []
        for name, notebook in graded.items():
            said = [notebook.problem] if notebook.problem else []
            if notebook.errors:
                cell, error = notebook.errors[0]
                more = len(notebook.errors) - 1
                said.append(f"error in cell {cell} ({error})" + (f" and {more} more" if more else ""))
            if notebook.output_cut:
                said.append("output cut (too long)")
            if not notebook.problem:
                unchecked = [exercise for lesson, exercise in self.expected[name]
                             if (lesson, exercise) not in latest]
                if unchecked:
                    said.append("not checked: " + ", ".join(unchecked))
            prefix = f"{Path(name).stem}: " if len(graded) > 1 else ""
            problems += [prefix + line for line in said]
        row["problems"] = "; ".join(problems)
        self.rows[student] = row
        self.times[student] = sum(notebook.seconds for notebook in graded.values())

    def csv_text(self) -> str:
        """The CSV: ``student``, the exercise columns, ``passed``, ``problems``."""
        text = io.StringIO()
        writer = csv.DictWriter(text, ["student", *self.columns, "passed", "problems"], lineterminator="\n")
        writer.writeheader()
        for student, row in self.rows.items():
            writer.writerow({"student": student, **row})
        return text.getvalue()

    def summary(self) -> str:
        """A table for the terminal: how many students passed each exercise, then every student with a problem."""
        width = max([len(column) for column in self.columns] + [8])
        lines = [f"{'exercise':<{width}}  passed", *(f"{column:<{width}}  {sum(r[column] for r in self.rows.values())}"
                                                      f" of {len(self.rows)}" for column in self.columns)]
        troubled = {student: row["problems"] for student, row in self.rows.items() if row["problems"]}
        slowest = max(self.times, key=self.times.get, default=None)
        lines.append(f"\n{len(self.rows)} students graded in {self.seconds:.0f} s"
                     + (f" (longest: {slowest}, {self.times[slowest]:.0f} s)" if slowest else "")
                     + f"; {len(troubled)} with problems" + (":" if troubled else ""))
        name_width = max([len(student) for student in troubled] + [7])
        lines += [f"  {student:<{name_width}}  {problems}" for student, problems in troubled.items()]
        return "\n".join(lines)


def _students(submissions: Path) -> list[Path]:
    if not submissions.is_dir():
        raise DataError(f"{submissions} is not a folder: give a folder with one folder per student")
    students = sorted(path for path in submissions.iterdir() if path.is_dir() and not path.name.startswith("."))
    if not students:
        raise DataError(f"{submissions} has no student folders: put each student's notebooks in a folder named "
                        f"after the student")
    return students


def assignment_notebooks(assignment: Path, names: list[str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """The notebooks to grade (``names``, else every notebook of ``assignment`` with a checker) and their exercises."""
    if not assignment.is_dir():
        raise DataError(f"--assignment {assignment} is not a folder: give the folder of the notebooks handed out")
    paths = [assignment / name for name in names] if names else sorted(assignment.glob("*.ipynb"))
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path} does not exist: --notebook takes the name of a notebook in {assignment}")
    found = {path.name: exercises_of(path) for path in paths}
    found = {name: exercises for name, exercises in found.items() if exercises or names}
    if not found:
        raise InputError(f"no notebook in {assignment} calls a checker from course.checks: nothing to grade")
    return found


def grade(submissions: str | os.PathLike, out: str | os.PathLike, *, assignment: str | os.PathLike,
          notebooks: list[str] | None = None, limits: Limits = Limits(), jobs: int | None = None,
          keep: str | os.PathLike | None = None, progress: bool = True) -> Gradebook:
    """Grade every student folder of ``submissions`` on the ``assignment``'s notebooks; write the CSV to ``out``.

    ``jobs`` notebooks run at a time (default: one per CPU core); ``keep``: a folder to keep each
    executed notebook in (``KEEP/student/name.ipynb``), for feedback. Returns the :class:`Gradebook`.
    """
    from tqdm.auto import tqdm

    students = _students(Path(submissions))
    expected = assignment_notebooks(Path(assignment), notebooks)
    if Path(out).is_dir():
        raise DataError(f"--out {out} is a folder: give the CSV file to write, e.g. {Path(out) / 'grades.csv'}")
    check_writable_folder(Path(out).resolve().parent)  # before the long run, not after it
    book = Gradebook(expected)
    namespaces_available()  # probe once, before the threads
    start = time.monotonic()
    graded: dict[str, dict[str, NotebookGrade]] = {student.name: {} for student in students}
    bar = tqdm(total=len(students), unit="student", desc="grading", disable=not progress)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {}
        for student in students:
            for name in expected:
                path = _find(student, name)
                if isinstance(path, NotebookGrade):
                    graded[student.name][name] = path
                    continue
                target = Path(keep) / student.name if keep is not None else None
                futures[pool.submit(grade_notebook, path, limits, target)] = (student.name, name)
        for student in students:  # students with nothing to run are done already
            if not any(who == student.name for who, _ in futures.values()):
                bar.update()
        try:
            for future in concurrent.futures.as_completed(futures):
                student, name = futures[future]
                graded[student][name] = future.result()
                if len(graded[student]) == len(expected):
                    bar.update()
        except BaseException:  # Ctrl-C, or a bug: start nothing more, and end the notebooks running now
            pool.shutdown(wait=False, cancel_futures=True)
            with _RUNNING_LOCK:
                for process in list(_RUNNING):
                    _kill(process)
            raise
    bar.close()
    for student in students:
        book.add(student.name, {name: graded[student.name][name] for name in expected})
    book.seconds = time.monotonic() - start
    with atomic_write(out, "w") as file:
        file.write(book.csv_text())
    return book


def isolation_note() -> str:
    """One line for the summary: how the notebooks were kept apart (see :mod:`course.classroom.sandbox`)."""
    if namespaces_available():
        return "isolation: namespaces (no network, read-only file system outside each copy)"
    return ("isolation: environment and limits only (namespaces unavailable here): downloads fail, but a submission "
            "runs with your user's rights; see course/classroom/sandbox.py")

