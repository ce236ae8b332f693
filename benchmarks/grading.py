"""How long ``python -m course grade`` takes for a class, and what each kind of submission produced.

Usage::

    python benchmarks/grading.py small [--students N] [--jobs J]
    python benchmarks/grading.py lesson [--students N] [--jobs J] [--notebook 01_first_neural_net.ipynb]

``small`` grades N students (default 5) on one generated notebook of three real checkers (lesson 5's
NDCG and tie, lesson 1's OR table): the cost of a kernel per notebook. ``lesson`` grades N students
(default 3) on a real lesson in the quick profile: the first hands in the released copy untouched,
the others the lesson with its worked solutions appended. Both print the summary table, the CSV, the
wall time and the time per notebook. A measurement, not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import nbformat

from course.classroom import Limits, grade, release
from course.classroom.grade import isolation_note
from course.classroom.release import REPOSITORY

_NDCG = (3 + 7 / math.log2(3)) / (7 + 3 / math.log2(3) + 1 / 2)


def _quiz(ndcg: str, tie: str, gate: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Quiz"), *map(nbformat.v4.new_code_cell, [
        "import math\nfrom course.checks.lesson05 import check_ndcg, check_tie_minimum\n"
        "from course.checks.lesson01 import check_or_targets",
        f"check_ndcg({ndcg})", f"check_tie_minimum({tie})", f"check_or_targets({gate})"])]
    return notebook


def small_class(root: Path, students: int) -> Path:
    """The assignment folder; ``root/class`` gets ``students`` folders, right and wrong answers in turn."""
    (root / "assignment").mkdir()
    nbformat.write(_quiz("None", "None", "None"), root / "assignment" / "quiz.ipynb")
    for number in range(students):
        folder = root / "class" / f"student{number:02d}"
        folder.mkdir(parents=True)
        answers = (repr(_NDCG), "(0.0, math.log(2))", "[0, 1, 1, 1]") if number % 2 == 0 else ("0.5", "(1, 1)", "None")
        nbformat.write(_quiz(*answers), folder / "quiz.ipynb")
    return root / "assignment"


def lesson_class(root: Path, students: int, name: str) -> Path:
    """The released copy as the assignment; student00 hands it in untouched, the others with the solutions appended."""
    release(root / "assignment")
    solved = nbformat.read(root / "assignment" / name, 4)
    solved.cells += [nbformat.v4.new_code_cell(cell.source) for cell in
                     nbformat.read(REPOSITORY / "solutions" / name, 4).cells if cell.cell_type == "code"]
    for number in range(students):
        folder = root / "class" / f"student{number:02d}"
        folder.mkdir(parents=True)
        nbformat.write(solved if number else nbformat.read(root / "assignment" / name, 4), folder / name)
    return root / "assignment"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["small", "lesson"])
    parser.add_argument("--students", type=int)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--notebook", default="01_first_neural_net.ipynb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
        root = Path(folder)
        if args.what == "small":
            students, notebooks = args.students or 5, None
            assignment = small_class(root, students)
        else:
            students, notebooks = args.students or 3, [args.notebook]
            assignment = lesson_class(root, students, args.notebook)
        start = time.perf_counter()
        book = grade(root / "class", root / "grades.csv", assignment=assignment, notebooks=notebooks,
                     limits=Limits(), jobs=args.jobs)
        seconds = time.perf_counter() - start
        print(book.summary())
        print(isolation_note())
        print((root / "grades.csv").read_text())
        print(f"{students} students x 1 notebook, {args.jobs} at a time: {seconds:.1f} s wall, "
              f"{seconds * args.jobs / students:.1f} s per notebook (wall x jobs / students)")


if __name__ == "__main__":
    main()
