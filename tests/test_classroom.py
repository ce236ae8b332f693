"""Classroom tools: the student copy, grading a generated class (every kind of bad submission), validate, CI."""
import csv
import math
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest

from course.__main__ import main
from course.classroom import exercises_of, grade
from course.classroom.grade import Limits
from course.classroom.release import strip_markers
from course.classroom.sandbox import namespaces_available
from course.errors import InputError

REPO = Path(__file__).resolve().parents[1]
NDCG = (3 + 7 / math.log2(3)) / (7 + 3 / math.log2(3) + 1 / 2)  # NDCG@3 of ratings 2, 3, 0, 1 (lesson 5)
LIMITS = Limits(cell_timeout=10, notebook_timeout=60, output_limit=200_000)  # a busy CI machine: cells take 1-3 s
COLUMNS = ["student", "05/ndcg", "05/tie_minimum", "01/or_targets", "passed", "problems"]


def _notebook(*cells: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells = [nbformat.v4.new_markdown_cell("# A small quiz")] + [nbformat.v4.new_code_cell(c) for c in cells]
    return notebook


IMPORTS = ("from course.checks.lesson05 import check_ndcg, check_tie_minimum\n"
           "from course.checks.lesson01 import check_or_targets")


def _quiz(ndcg="None", tie="None", gate="None", *, before_ndcg="", extra=()) -> nbformat.NotebookNode:
    """The assignment: cell 2 imports three real checkers, cells 3-5 are one exercise each (cell 1 is markdown)."""
    return _notebook(IMPORTS, f"{before_ndcg}ndcg = {ndcg}  # NDCG@3 of 2, 3, 0, 1\ncheck_ndcg(ndcg)",
                     f"tie = {tie}  # (d, loss) where a tie's loss is lowest\ncheck_tie_minimum(tie)",
                     f"or_targets = {gate}\ncheck_or_targets(or_targets)", *extra)


RIGHT = {"ndcg": repr(NDCG), "tie": "(0.0, math.log(2))", "gate": "[0, 1, 1, 1]"}


def _write(folder: Path, notebook) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "quiz.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of twelve, graded once: (CSV rows by student, the gradebook, the folders)."""
    root = tmp_path_factory.mktemp("class")
    assignment, class_ = root / "assignment", root / "submissions"
    _write(assignment, _quiz())
    _write(class_ / "alice", _quiz(**RIGHT, before_ndcg="import math\n"))                  # all right
    _write(class_ / "bob", _quiz(ndcg="0.5", tie="(0.0, 0.0)", gate="[0, 1, 1, 1]"))       # two wrong
    (class_ / "carol").mkdir()
    shutil.copy(assignment / "quiz.ipynb", class_ / "carol")                               # untouched
    _write(class_ / "dave", _quiz(ndcg="None\nwhile True:\n    pass", gate="[0, 1, 1, 1]"))  # infinite loop, cell 3
    _write(class_ / "erin", _quiz(ndcg=RIGHT["ndcg"], tie="None\nimport os\nos.kill(os.getpid(), 9)"))  # crash, cell 4
    _write(class_ / "frank", _quiz(ndcg="= 1", tie="(0.0, 0.6931471805599453)", gate="[0, 1, 1, 1]"))  # syntax error
    (class_ / "gina").mkdir()
    (class_ / "gina" / "quiz.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')              # corrupt
    (class_ / "hank").mkdir()
    (class_ / "hank" / "notes.txt").write_text("I could not do it")                                   # missing
    for copy in ("a", "b"):
        _write(class_ / "kim" / copy, _quiz())                                                   # two copies
    deleted = _quiz(ndcg=RIGHT["ndcg"], gate="[0, 1, 1, 1]")
    del deleted.cells[3]  # the tie exercise's cell
    _write(class_ / "ivan", deleted)
    _write(class_ / "judy" / "week 1", _quiz(ndcg=RIGHT["ndcg"], tie="(0.0, 0.6931471805599453)",   # huge output,
                                           gate="[0, 1, 1, 1]", before_ndcg="for i in range(20000):\n"  # in a sub-folder
                                                                            "    print('y' * 100)\n"))
    outside, listener = root / "outside.txt", socket.create_server(("127.0.0.1", 0))
    grader_file, port = class_ / "mallory" / "quiz.ipynb", listener.getsockname()[1]
    probe = textwrap.dedent(f"""\
        import math, os, socket, urllib.request
        clean = "GRADER_SECRET" not in os.environ and os.environ["COURSE_PROFILE"] == "quick"
        wrote = []
        for path in ({str(outside)!r}, {str(grader_file)!r}):
            try:
                open(path, "w").write("escaped")
                wrote.append(path)
            except OSError:
                pass
        reached = []
        for url in ("http://127.0.0.1:{port}/", "https://pypi.org/"):
            try:
                urllib.request.urlopen(url, timeout=3)
                reached.append(url)
            except OSError:
                pass
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
            reached.append("socket")
        except OSError:
            pass
        """)
    _write(class_ / "mallory", _quiz(ndcg=f"{RIGHT['ndcg']} if clean else 0",  # each exercise passes if kept from one
                                     tie="(0.0, math.log(2)) if not wrote else None",
                                     gate="[0, 1, 1, 1] if not reached else None", before_ndcg=probe))
    submitted = grader_file.read_bytes()
    connections = []

    def accept():
        try:
            connections.append(listener.accept())
        except OSError:  # closed after grading: nobody came
            pass

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("GRADER_SECRET", "not for students")
    try:
        book = grade(class_, root / "grades.csv", assignment=assignment, limits=LIMITS, jobs=2, keep=root / "kept",
                     progress=False)
    finally:
        monkeypatch.undo()
        listener.close()
    with open(root / "grades.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return {"rows": rows, "book": book, "root": root, "outside": outside, "grader_file": grader_file,
            "submitted": submitted, "connections": connections, "header": (root / "grades.csv").read_text().split("\n")[0]}


def _passed(row) -> tuple:
    return tuple(int(row[column]) for column in COLUMNS[1:5])


def test_the_csv_has_a_row_per_student_and_a_column_per_exercise(graded):
    assert graded["header"].split(",") == COLUMNS
    assert list(graded["rows"]) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan", "judy",
                                    "kim", "mallory"]


def test_right_wrong_and_untouched_answers(graded):
    rows = graded["rows"]
    assert (_passed(rows["alice"]), rows["alice"]["problems"]) == ((1, 1, 1, 3), "")
    assert (_passed(rows["bob"]), rows["bob"]["problems"]) == ((0, 0, 1, 1), "")
    assert (_passed(rows["carol"]), rows["carol"]["problems"]) == ((0, 0, 0, 0), "")


def test_each_bad_submission_says_what_went_wrong_and_keeps_what_it_checked(graded):
    rows = graded["rows"]
    assert (_passed(rows["dave"]), rows["dave"]["problems"]) == ((0, 0, 0, 0), "timeout in cell 3")
    times = graded["book"].times  # the loop was stopped by the cell limit, and every notebook kept its limit
    assert LIMITS.cell_timeout <= times["dave"] < LIMITS.notebook_timeout
    assert max(times.values()) < LIMITS.notebook_timeout
    assert (_passed(rows["erin"]), rows["erin"]["problems"]) == ((1, 0, 0, 1), "kernel died in cell 4")
    assert (_passed(rows["frank"]), rows["frank"]["problems"]) == ((0, 1, 1, 2),
                                                                   "error in cell 3 (SyntaxError); not checked: ndcg")
    assert _passed(rows["gina"]) == (0, 0, 0, 0) and rows["gina"]["problems"].startswith("not a notebook (")
    assert (_passed(rows["hank"]), rows["hank"]["problems"]) == ((0, 0, 0, 0), "missing")
    assert (_passed(rows["ivan"]), rows["ivan"]["problems"]) == ((1, 0, 1, 2), "not checked: tie_minimum")
    assert (_passed(rows["judy"]), rows["judy"]["problems"]) == ((1, 1, 1, 3), "output cut (too long)")
    assert rows["kim"]["problems"] == "2 notebooks of that name (a/quiz.ipynb, b/quiz.ipynb): hand in one"


def test_huge_output_is_cut_in_the_executed_copy(graded):
    kept = graded["root"] / "kept" / "judy" / "quiz.ipynb"
    assert kept.stat().st_size < 2 * LIMITS.output_limit
    assert "dropped by the grader" in kept.read_text()


def test_a_submission_runs_in_a_clean_environment_without_network_or_writes_outside(graded):
    mallory = graded["rows"]["mallory"]
    assert mallory["05/ndcg"] == "1", "the kernel saw the grader's environment, or not the quick profile"
    if not namespaces_available():
        pytest.skip("no user namespaces here: writes outside the copy and raw sockets are not prevented")
    assert (_passed(mallory), mallory["problems"]) == ((1, 1, 1, 3), "")
    assert not graded["outside"].exists() and graded["grader_file"].read_bytes() == graded["submitted"]
    assert not graded["connections"]


def test_the_summary_counts_passes_and_lists_problems(graded):
    summary = graded["book"].summary()
    rows = graded["rows"].values()
    assert summary.splitlines()[1:4] == [f"{column:<14}  {sum(int(row[column]) for row in rows)} of 12"
                                         for column in COLUMNS[1:4]]
    assert summary.splitlines()[1] == "05/ndcg         5 of 12"
    assert "12 students graded" in summary and "dave" in summary and "timeout in cell 3" in summary
    assert "alice" not in summary


def test_exercises_are_read_from_the_checkers_a_notebook_imports(tmp_path):
    _write(tmp_path, _quiz())
    assert exercises_of(tmp_path / "quiz.ipynb") == [("05", "ndcg"), ("05", "tie_minimum"), ("01", "or_targets")]
    assert exercises_of(REPO / "notebooks" / "01_first_neural_net.ipynb") == [
        ("01", "linear_two_layers"), ("01", "or_targets"), ("01", "xor_net")]


def _solution_cells() -> dict[str, set[str]]:
    """Per lesson, the code of its worked solutions that the lesson itself does not have."""
    found = {}
    for solution in sorted((REPO / "solutions").glob("*.ipynb")):
        lesson = {c.source for c in nbformat.read(REPO / "notebooks" / solution.name, 4).cells}
        found[solution.name] = {c.source for c in nbformat.read(solution, 4).cells
                                if c.cell_type == "code" and c.source not in lesson and c.source.strip()}
    return found


def test_the_release_has_every_lesson_open_and_no_solution(tmp_path, capsys):
    out = tmp_path / "class"
    assert main(["release", "--out", str(out)]) == 0
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in out.glob("*.ipynb")) == lessons
    assert (out / "chainer_and_pytorch.md").is_file() and "Handing in" in (out / "README.md").read_text()
    assert "01_first_neural_net.ipynb`: Lesson 1: A first neural net" in (out / "README.md").read_text()
    solutions = _solution_cells()
    assert all(solutions.values()), "every solutions notebook has worked cells of its own"
    for name in lessons:
        released, lesson = nbformat.read(out / name, 4), nbformat.read(REPO / "notebooks" / name, 4)
        code = [c for c in released.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        # The cells are the lesson's own, which `make test` runs unsolved with nbval: so the copy passes
        # its asserts as it is, and no exercise is solved in it.
        assert [c.source for c in released.cells] == [c.source for c in lesson.cells], name
        assert not solutions.get(name, set()) & {c.source for c in code}, name
    assert main(["release", "--out", str(out)]) == 2  # not empty: nothing stale goes out
    assert main(["release", "--out", str(tmp_path / "s"), "--notebooks", str(REPO / "solutions")]) == 2
    assert "holds the worked solutions" in capsys.readouterr().err


def test_nbgrader_markers_become_placeholders_and_hidden_tests_go():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
              "### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint(f)\n")
    assert strip_markers(source, "q") == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                          "print(f)\n")
    with pytest.raises(InputError, match="q: ### BEGIN SOLUTION is never closed"):
        strip_markers("### BEGIN SOLUTION\nx = 1\n", "q")


def test_a_released_copy_round_trips_through_grade(tmp_path, capsys):
    lessons = tmp_path / "lessons"
    marked = _quiz(gate="None", extra=())
    marked.cells[4].source = "### BEGIN SOLUTION\nor_targets = [0, 1, 1, 1]\n### END SOLUTION\ncheck_or_targets(or_targets)"
    marked.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="an old output")]
    _write(lessons, marked)
    assert main(["release", "--out", str(tmp_path / "out"), "--notebooks", str(lessons)]) == 0
    for student in ("ann", "ben"):
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(tmp_path / "out" / "quiz.ipynb", tmp_path / "class" / student)
    solved = nbformat.read(tmp_path / "class" / "ben" / "quiz.ipynb", 4)
    assert solved.cells[4].source == "# YOUR CODE HERE\nraise NotImplementedError()\ncheck_or_targets(or_targets)"
    assert not solved.cells[2].outputs
    solved.cells[4].source = solved.cells[4].source.replace("raise NotImplementedError()", "or_targets = [0, 1, 1, 1]")
    nbformat.write(solved, tmp_path / "class" / "ben" / "quiz.ipynb")
    capsys.readouterr()
    assert main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "grades.csv"), "--assignment",
                 str(tmp_path / "out"), "--cell-timeout", "20", "--notebook-timeout", "60", "--jobs", "2"]) == 0
    grades = (tmp_path / "grades.csv").read_text().splitlines()
    assert grades == ["student,05/ndcg,05/tie_minimum,01/or_targets,passed,problems",
                      'ann,0,0,0,0,error in cell 5 (NotImplementedError); not checked: or_targets', "ben,0,0,1,1,"]
    printed = capsys.readouterr().out
    assert "01/or_targets" in printed and "1 of 2" in printed and f"grades written to {tmp_path / 'grades.csv'}" in printed


def test_grading_a_folder_without_students_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "has no student folders" in capsys.readouterr().err


def test_validate_reports_each_notebook(tmp_path, capsys):
    nbformat.write(_notebook("assert 1 + 1 == 2"), tmp_path / "good.ipynb")
    nbformat.write(_notebook("x = 1", "assert x == 2, 'x should be 2'"), tmp_path / "bad.ipynb")
    assert main(["validate", str(tmp_path / "good.ipynb"), str(tmp_path / "bad.ipynb")]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"ok     {tmp_path / 'good.ipynb'}")
    assert printed[1].startswith(f"FAILED {tmp_path / 'bad.ipynb'}")
    assert printed[2].strip() == "cell 3: AssertionError: x should be 2" and printed[-1] == "1 of 2 notebooks passed"


def test_the_ci_workflow_is_valid_and_runs_the_course_and_grading():
    workflow = REPO / ".github" / "workflows" / "course.yml"
    linted = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", str(workflow)], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = workflow.read_text()
    assert "make test" in text and "python -m course grade" in text and "actions/upload-artifact" in text


def test_the_workflow_linter_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: make test\n")  # no runs-on
    linted = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", str(broken)], capture_output=True, text=True)
    assert linted.returncode == 1 and "runs-on" in linted.stdout
