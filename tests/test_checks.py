"""What every checker shares: the result it returns, the record a grader reads back, and the shared helpers."""
import dataclasses
import importlib
import inspect
import json
import pathlib
import pkgutil
import re

import numpy
import pytest

import course.checks
from course.checks import (CheckResult, ResultsFileWarning, Wrong, as_number, call_answer, checker, clear_results,
                           keep_numpy_random_state, read_results, require_function, results, whole_number)
from course.checks.lesson02 import check_accuracy
from course.checks.lesson03 import check_crop_count

VARIABLE = "COURSE_CHECKS_FILE"


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    """No results file unless a test names one, and an empty in-memory record."""
    monkeypatch.delenv(VARIABLE, raising=False)
    clear_results()
    yield
    clear_results()


@checker("a checker that breaks", lesson="99", exercise="breaks")
def check_that_breaks(answer) -> None:
    raise RuntimeError(f"the checker itself failed on {answer!r}")


# --- the result -----------------------------------------------------------------------------------

def test_a_right_answer_returns_a_truthy_result_and_prints_one_line(capsys):
    result = check_crop_count(1800)
    assert isinstance(result, CheckResult) and result and result.passed is True
    assert (result.lesson, result.exercise, result.title, result.message) == ("03", "crop_count",
                                                                              "crops of one image", "correct")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", result.time)
    assert capsys.readouterr().out == "✓ crops of one image: correct\n"


def test_a_wrong_answer_returns_a_falsy_result_with_the_hint(capsys):
    result = check_crop_count(900)
    assert not result and result.passed is False and bool(result) is False
    assert "mirrored" in result.message
    assert capsys.readouterr().out == f"✗ crops of one image: {result.message}\n"
    assert str(result) == f"✗ crops of one image: {result.message}"


def test_the_result_is_frozen_and_its_repr_is_informative():
    result = CheckResult("02", "accuracy", False, "divide by the number of examples", "your accuracy function")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = True
    text = repr(result)
    for part in ("CheckResult", "lesson='02'", "exercise='accuracy'", "passed=False", "divide by the number"):
        assert part in text
    assert not result and CheckResult("02", "accuracy", True, "correct")


def test_a_cell_ending_with_a_checker_shows_no_repr():
    from IPython.core.formatters import DisplayFormatter

    result = CheckResult("03", "crop_count", True, "correct", "crops of one image")
    assert result._ipython_display_() is None
    assert DisplayFormatter().format(result) == ({}, {})  # what IPython's displayhook shows: nothing
    assert DisplayFormatter().format(3)[0] == {"text/plain": "3"}  # while a plain value is shown


def test_a_notebook_shows_only_the_line_and_the_grader_reads_the_record_after_the_kernel_ends(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(VARIABLE, str(path))  # the kernel inherits it, as a grader's would
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from course.checks.lesson03 import check_crop_count\ncheck_crop_count(1800)"),
        nbformat.v4.new_code_cell("check_crop_count(900);"),
    ])
    root = pathlib.Path(__file__).resolve().parents[1]
    nbclient.NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(root)}}).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert [[output.output_type for output in cell] for cell in outputs] == [["stream"], ["stream"]]  # no repr
    assert outputs[0][0].text == "✓ crops of one image: correct\n"
    recorded = read_results(path)
    assert [(r.lesson, r.exercise, r.passed) for r in recorded] == [("03", "crop_count", True),
                                                                    ("03", "crop_count", False)]
    assert outputs[1][0].text == f"{recorded[1]}\n"


def test_an_answer_that_breaks_the_learners_function_is_recorded_as_failed(capsys):
    def broken(predicted, labels):
        raise ZeroDivisionError("oops")

    result = check_accuracy(broken)
    assert result.passed is False and "ZeroDivisionError: oops" in result.message
    assert results() == [result]


def test_a_checker_that_raises_is_recorded_as_failed_with_the_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(VARIABLE, str(tmp_path / "results.jsonl"))
    result = check_that_breaks(7)
    assert result.passed is False
    assert result.message == "checking your answer raised RuntimeError: the checker itself failed on 7"
    assert (result.lesson, result.exercise) == ("99", "breaks")
    assert read_results(tmp_path / "results.jsonl") == [result]
    assert capsys.readouterr().out.startswith("✗ a checker that breaks: checking your answer raised RuntimeError")


def test_a_checker_called_with_the_wrong_arguments_is_recorded_as_failed(capsys):
    result = check_crop_count()
    assert result.passed is False and "TypeError" in result.message


def test_lesson_and_exercise_come_from_the_module_and_the_name():
    @checker("anything")
    def check_something_new(answer) -> None:
        pass

    assert check_something_new.exercise == "something_new"
    assert check_something_new.lesson == __name__.rpartition(".")[2]  # not a lessonNN module: its own name
    assert (check_crop_count.lesson, check_crop_count.exercise, check_crop_count.title) == ("03", "crop_count",
                                                                                            "crops of one image")


# --- the record -----------------------------------------------------------------------------------

def test_results_are_kept_in_memory_in_order(capsys):
    first, second = check_crop_count(1800), check_crop_count(0)
    assert results() == [first, second]
    results().clear()  # a copy: the record itself is untouched
    assert len(results()) == 2
    clear_results()
    assert results() == []


def test_each_check_appends_one_json_line_that_read_results_reads_back(tmp_path, monkeypatch, capsys):
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(VARIABLE, str(path))
    first, second = check_crop_count(1800), check_crop_count(900)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    record = json.loads(lines[1])
    assert record == {"lesson": "03", "exercise": "crop_count", "title": "crops of one image", "passed": False,
                      "message": second.message, "time": second.time}
    assert json.loads(lines[0])["passed"] is True
    assert read_results(path) == [first, second] == results()
    check_crop_count(1800)  # a later run of the notebook appends; it never overwrites
    assert len(read_results(path)) == 3


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert check_crop_count(1800)
    assert list(tmp_path.iterdir()) == []
    assert len(results()) == 1


@pytest.mark.parametrize("where", ["missing-folder/results.jsonl", "."])
def test_an_unwritable_file_only_warns_once(tmp_path, monkeypatch, capsys, where):
    path = tmp_path / where
    monkeypatch.setenv(VARIABLE, str(path))
    assert check_crop_count(1800).passed is True
    assert check_crop_count(900).passed is False
    printed = capsys.readouterr()
    assert printed.out.count("\n") == 2 and printed.out.startswith("✓")  # the learner's lines are unchanged
    warning = printed.err.splitlines()
    assert len(warning) == 1 and warning[0].startswith("⚠") and str(path) in warning[0]
    assert len(results()) == 2  # still kept in memory


def test_read_results_skips_and_flags_malformed_lines(tmp_path):
    good = CheckResult("02", "accuracy", True, "correct", "your accuracy function", "2025-05-01T09:30:12+00:00")
    newer = dict(dataclasses.asdict(good), exercise="most_confused", attempt=3)  # an unknown key is fine
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join([
        good.to_json(),
        "",
        "not json at all",
        json.dumps({"lesson": "02", "exercise": "accuracy", "passed": True}),  # no message
        json.dumps({"lesson": "02", "exercise": "accuracy", "passed": "yes", "message": "correct"}),
        json.dumps(["a", "list"]),
        json.dumps(newer),
        good.to_json()[:30],  # cut short, e.g. a full disk
    ]) + "\n", encoding="utf-8")
    with pytest.warns(ResultsFileWarning) as caught:
        found = read_results(path)
    assert found == [good, dataclasses.replace(good, exercise="most_confused")]
    flagged = [str(w.message) for w in caught]
    assert len(flagged) == 5
    assert [re.search(r":(\d+): malformed", text).group(1) for text in flagged] == ["3", "4", "5", "6", "8"]
    assert "missing message" in flagged[1] and "passed should be a bool" in flagged[2]
    with pytest.raises(ValueError, match=r"results.jsonl:3: malformed"):
        read_results(path, strict=True)


def test_read_results_of_a_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "never-written.jsonl")


# --- every checker records ------------------------------------------------------------------------

def _lesson_modules():
    names = [info.name for info in pkgutil.iter_modules(course.checks.__path__) if info.name.startswith("lesson")]
    assert names, "no lesson checker modules found"
    return [importlib.import_module(f"course.checks.{name}") for name in sorted(names)]


def _public_functions(module):
    return [(name, value) for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")]


def test_every_public_checker_is_decorated_and_records_a_result(capsys):
    seen = set()
    for module in _lesson_modules():
        lesson = module.__name__.rpartition(".")[2].removeprefix("lesson")
        functions = _public_functions(module)
        assert functions, f"{module.__name__} has no checkers"
        for name, function in functions:
            where = f"{module.__name__}.{name}"
            assert name.startswith("check_"), f"{where}: a public function of a checker module should be a checker"
            assert (getattr(function, "lesson", None), getattr(function, "exercise", None)) == (
                lesson, name.removeprefix("check_")), f"{where} is not decorated with @checker"
            assert re.fullmatch(r"[a-z0-9_]+", function.exercise) and function.title, where
            assert (lesson, function.exercise) not in seen, f"{where}: two checkers share one gradebook column"
            seen.add((lesson, function.exercise))
            before = len(results())
            try:
                result = function()  # no answer at all: a checker reports that, it never raises
            except Exception as error:
                pytest.fail(f"{where} raised {type(error).__name__} instead of returning a result: "
                            f"is it decorated with @checker?")
            assert isinstance(result, CheckResult), f"{where} returned {result!r}"
            assert (result.lesson, result.exercise, result.passed) == (lesson, function.exercise, False), where
            assert results()[before:] == [result], f"{where} did not record its result"
    assert len(seen) >= 20


# --- the shared helpers ---------------------------------------------------------------------------

def _hint_of(function, *args, **kwargs) -> str:
    with pytest.raises(Wrong) as wrong:
        function(*args, **kwargs)
    return str(wrong.value)


def test_require_function():
    require_function(len, "check_x(my_x)")
    assert _hint_of(require_function, 0.75, "check_x(my_x)") == (
        "pass the function itself, e.g. check_x(my_x), not float")


def test_call_answer():
    assert call_answer(lambda a, b: a + b, 1, 2) == 3
    assert _hint_of(call_answer, lambda a: 1 / a, 0, case="zero", hint=". Hint: x") == (
        "on zero it raised ZeroDivisionError: division by zero. Hint: x")
    assert _hint_of(call_answer, lambda: [][1]).startswith("it raised IndexError")


@pytest.mark.parametrize("value, expected", [
    (3, 3.0), (0.25, 0.25), (numpy.float32(0.5), 0.5), (numpy.int64(4), 4.0), (numpy.array(2.5), 2.5),
    (numpy.array([1.5]), 1.5), (float("nan"), "nan"),
])
def test_as_number_accepts_one_number(value, expected):
    number = as_number(value, "hint")
    assert type(number) is float
    assert (numpy.isnan(number) if expected == "nan" else number == expected)


def test_as_number_accepts_a_variable():
    import chainer

    assert as_number(chainer.Variable(numpy.array(0.75, numpy.float32)), "hint") == 0.75


@pytest.mark.parametrize("value", [True, numpy.bool_(False), "0.5", None, [0.5], numpy.zeros(2), 1j,
                                   numpy.array(["a"])])
def test_as_number_rejects_what_is_not_one_number(value):
    assert _hint_of(as_number, value, "return one number") == "return one number"


@pytest.mark.parametrize("value, floats, expected", [
    (1800, True, 1800), (1800.0, True, 1800), (numpy.int64(7), False, 7), (numpy.float64(3.0), True, 3),
])
def test_whole_number_accepts(value, floats, expected):
    number = whole_number(value, floats=floats)
    assert type(number) is int and number == expected


@pytest.mark.parametrize("value, floats", [
    (True, True), (numpy.bool_(True), True), ("1800", True), (None, True), (1800.5, True), (float("nan"), True),
    (float("inf"), True), (1800.0, False), (numpy.array(3), True),
])
def test_whole_number_rejects(value, floats):
    assert _hint_of(whole_number, value, floats=floats) == f"answer with a whole number, not {value!r}"
    assert _hint_of(whole_number, value, "my hint", floats=floats) == "my hint"


def test_keep_numpy_random_state_even_when_the_block_raises():
    numpy.random.seed(5)
    expected = numpy.random.rand(3)
    numpy.random.seed(5)
    with keep_numpy_random_state():
        numpy.random.rand(100)
    with pytest.raises(KeyError), keep_numpy_random_state():
        numpy.random.rand(10)
        raise KeyError
    numpy.testing.assert_array_equal(numpy.random.rand(3), expected)
