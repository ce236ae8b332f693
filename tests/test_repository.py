"""The repository's own promises: environments in sync, notebooks clean and self-checking."""
import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_environment_yml_matches_requirements():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.txt" in pip, "conda must install the same pins as pip"
    pins = _requirements()
    conda_pins = dict(re.match(r"([A-Za-z0-9_.-]+)(.*)", d).groups() for d in conda)
    assert conda_pins["chainer"] == "=" + pins["chainer"], "conda's prebuilt Chainer must be the pinned one"
    assert conda_pins["setuptools"] == "<81"
    for name, spec in conda_pins.items():
        if name in pins and spec:
            assert spec.lstrip("=") == pins[name], f"{name}: environment.yml says {spec}, requirements.txt {pins[name]}"
    makefile = (REPO / "Makefile").read_text()
    assert f"chainer=={pins['chainer']}" in makefile
    assert conda_pins["python"] == "=3.11"


def _notebooks():
    return sorted((REPO / "notebooks").glob("*.ipynb")) + sorted((REPO / "solutions").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs_and_assert_their_results():
    assert _notebooks(), "no notebooks found"
    for path in _notebooks():
        notebook = json.loads(path.read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), f"{path.name} has outputs"
        assert any("assert" in "".join(c["source"]) for c in code), f"{path.name} checks nothing"


def test_every_lesson_with_exercises_has_solutions_that_assert_the_checkers():
    for lesson in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        source = lesson.read_text()
        if "course.checks" not in source:
            continue
        solution = REPO / "solutions" / lesson.name
        assert solution.exists(), f"{lesson.name} has exercises but no solutions/{lesson.name}"
        assert re.search(r"assert \w+(\.\w+)*\(", solution.read_text()), f"solutions/{lesson.name} asserts no checker"


def test_every_lesson_opens_with_what_an_instructor_needs():
    for lesson in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        first = "".join(json.loads(lesson.read_text())["cells"][0]["source"])
        for label in ("**You will learn**", "**Before this**", "**Class time**"):
            assert label in first, f"{lesson.name}: its first cell has no {label} row"
        assert re.search(r"\*\*Class time\*\* \| about \d+ minutes", first), f"{lesson.name}: class time in minutes"


def test_the_course_has_a_licence_and_a_page_for_pytorch_users():
    licence = (REPO / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence
    page = REPO / "notebooks" / "chainer_and_pytorch.md"
    assert "| `L.Convolution2D(" in page.read_text()
    assert page.name in (REPO / "notebooks" / "00_setup.ipynb").read_text()
    assert page.name in (REPO / "README.md").read_text()
