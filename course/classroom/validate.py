"""Run notebooks the way the course's CI does (nbval, quick profile, one maths thread) and report per notebook.

For a teacher checking a lesson they changed: every cell must run, and the lesson's own ``assert``
cells must hold (``--nbval-lax``: saved outputs are not compared). Each notebook runs in its own
pytest process, so one that hangs or crashes is reported and the next one still runs.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from course.errors import DataError

__all__ = ["Validation", "validate"]


@dataclasses.dataclass(frozen=True)
class Validation:
    """One notebook's result: ``ok``, how long it took, and the failing cells (``Cell 14 - AssertionError: ...``)."""

    notebook: Path
    ok: bool
    seconds: float
    failures: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = f"{'ok' if self.ok else 'FAILED':<6} {self.notebook}  ({self.seconds:.0f} s)"
        return "\n".join([head, *(f"       {failure}" for failure in self.failures)])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SECTION = re.compile(r"^_+ \S+::Cell (\d+) _+$", re.MULTILINE)


def _failures(path: Path, output: str) -> tuple[str, ...]:
    """``cell N: Error: message`` for each cell nbval failed; N counts every cell from 1 (nbval: code cells from 0)."""
    code_cells = [number for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"], start=1)
                  if cell["cell_type"] == "code"]
    sections = _SECTION.split(output.split("short test summary info")[0])
    found = []
    for code_index, text in zip(sections[1::2], sections[2::2]):
        errors = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)\b.*)$", text, re.MULTILINE)
        cell = code_cells[int(code_index)] if int(code_index) < len(code_cells) else f"code cell {code_index}"
        found.append(f"cell {cell}: {errors[-1] if errors else 'failed'}")
    return tuple(found)


def validate(notebooks: list[str | os.PathLike], *, cell_timeout: float = 300, report=print) -> list[Validation]:
    """Run each notebook with nbval in the quick profile; ``report`` each :class:`Validation` as it is done."""
    paths = [Path(path) for path in notebooks]
    for path in paths:
        if not path.is_file() or path.suffix != ".ipynb":
            raise DataError(f"{path} is not a notebook file (*.ipynb): give the notebooks to validate")
    environment = {**os.environ, "COURSE_PROFILE": "quick", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1"}
    done = []
    for path in paths:
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                              f"--nbval-cell-timeout={cell_timeout:g}", "-p", "no:cacheprovider", "-q", "-rf",
                              "--no-header", str(path.resolve())], capture_output=True, text=True, env=environment,
                             cwd=path.resolve().parent, stdin=subprocess.DEVNULL)
        failures = _failures(path, _ANSI.sub("", run.stdout))
        if run.returncode and not failures:  # not a cell failing: pytest itself could not run it
            failures = tuple((run.stdout + run.stderr).strip().splitlines()[-3:])
        done.append(Validation(path, run.returncode == 0, time.monotonic() - start, failures))
        report(done[-1])
    return done
