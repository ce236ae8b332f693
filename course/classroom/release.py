"""The student copy: the lesson notebooks without outputs, exercises open, no worked solutions, and a README.

The lessons in ``notebooks/`` are already written for students (each exercise is a placeholder and a
checker call); the worked solutions live apart, in ``solutions/``, and are never copied. A release
takes every notebook of the folder (``notebooks/`` by default), drops outputs, execution counts and
saved widget state, and, for instructors who mark up their own notebooks the nbgrader way, replaces
what lies between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` with ``# YOUR CODE HERE`` and
``raise NotImplementedError()``, and drops what lies between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``. The markdown pages beside the notebooks (``*.md``) are copied too.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat

from course.errors import DataError, InputError
from course.files import atomic_write, check_writable_folder

__all__ = ["REPOSITORY", "release", "student_copy", "strip_markers"]

REPOSITORY = Path(__file__).resolve().parents[2]  #: the course's checkout (notebooks/, solutions/)

_MARKERS = {"SOLUTION": "", "HIDDEN TESTS": None}  # what each block becomes: a placeholder, or nothing
_MARKER = re.compile(r"^(\s*)### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def strip_markers(source: str, where: str) -> str:
    """``source`` with nbgrader's solution blocks turned into placeholders and hidden test blocks removed."""
    kept, open_block = [], None
    for line in source.splitlines(keepends=True):
        match = _MARKER.match(line.rstrip("\n"))
        if match is None:
            if open_block is None:
                kept.append(line)
            continue
        indent, edge, kind = match.groups()
        if edge == "BEGIN":
            if open_block is not None:
                raise InputError(f"{where}: ### BEGIN {kind} inside an open ### BEGIN {open_block}; close it first")
            open_block = kind
            if kind == "SOLUTION":
                kept.append(f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n")
        elif open_block != kind:
            raise InputError(f"{where}: ### END {kind} without its ### BEGIN {kind}")
        else:
            open_block = None
    if open_block is not None:
        raise InputError(f"{where}: ### BEGIN {open_block} is never closed with ### END {open_block}")
    return "".join(kept)


def student_copy(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` as students get it; :class:`DataError` if it is not a notebook."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:
        raise DataError(f"{path} is not a readable notebook ({type(error).__name__}: {error})") from None
    notebook.metadata.pop("widgets", None)
    for number, cell in enumerate(notebook.cells, start=1):
        cell.source = strip_markers(cell.source, f"{path.name}, cell {number}")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            for key in ("execution", "collapsed", "scrolled"):
                cell.metadata.pop(key, None)
    return notebook


def _title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if heading:
                return heading.group(1).strip()
    return fallback


_README = """# {course}: your notebooks

These are the lessons, one notebook each, to run from top to bottom in JupyterLab. Each lesson ends
with exercises: replace the placeholder (`None`, `# your code here`) with your answer and run the
cell. Its check prints one line: ✓ when your answer is right, ✗ with a hint when it is not. Run it
again as often as you like.

{lessons}

## Before the first lesson

The notebooks need the `course` package and its pinned environment. In the course's repository run
`make lab` (it creates `.venv`, installs everything and opens JupyterLab), or install the same
environment the way your instructor says, then open this folder: `jupyter lab --notebook-dir=.`.
Start with the setup notebook. No GPU is needed: on a CPU each lesson runs its quick profile.

## Handing in

Hand in the notebooks themselves, under the names they have here, saved after your last run. Your
instructor runs each one again from the top in a fresh kernel, in the quick profile, offline, with a
time limit per cell: a notebook that only works when its cells are run out of order, that downloads
something, or that waits for input will not pass. Your checks are read from that run, not from the
outputs saved in your file.
"""


def release(out: str | os.PathLike, source: str | os.PathLike | None = None, *,
            course: str = "Deep learning with Chainer") -> list[Path]:
    """Write the student copy of ``source`` (default: the course's ``notebooks/``) into the new or empty ``out``.

    Returns the files written: the notebooks, the markdown pages beside them, and ``README.md``.
    """
    source = Path(source) if source is not None else REPOSITORY / "notebooks"
    out = Path(out)
    if not source.is_dir():
        raise DataError(f"{source} is not a folder of notebooks: give the folder with the lessons")
    if source.resolve() == (REPOSITORY / "solutions").resolve():
        raise InputError(f"{source} holds the worked solutions: release the lessons (notebooks/), not solutions/")
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise DataError(f"{source} has no notebooks (*.ipynb)")
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise InputError(f"--out {out} is inside the lessons' folder {source}: give a folder outside it")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"--out {out} is not empty: give a new or empty folder, so that nothing stale goes out")
    check_writable_folder(out)
    copies = {path.name: student_copy(path) for path in notebooks}  # every notebook checked before one is written
    written = []
    for name, notebook in copies.items():
        with atomic_write(out / name, "w") as file:
            nbformat.write(notebook, file)
        written.append(out / name)
    for page in sorted(path for path in source.glob("*.md") if path.name != "README.md"):  # ours below
        shutil.copyfile(page, out / page.name)
        written.append(out / page.name)
    lessons = "\n".join(f"- `{name}`: {_title(notebook, name)}" for name, notebook in copies.items())
    with atomic_write(out / "README.md", "w") as file:
        file.write(_README.format(course=course, lessons=lessons))
    written.append(out / "README.md")
    return written
