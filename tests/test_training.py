import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest

import course
from course.metrics import accuracy, predict
from course.models import MLP, MnistCNN
from course.training import load_model, save_model

REPO = Path(__file__).resolve().parents[1]


def test_train_classifier_learns_and_writes_log_and_model(small_digits, tmp_path):
    model = MLP(n_hidden=64)
    history = course.train_classifier(model, *small_digits, epochs=3, batch_size=50, out=tmp_path, progress=False)
    assert len(history.log) == 3
    assert history.values("main/loss")[-1] < history.values("main/loss")[0]
    assert history.last("validation/main/accuracy") > 0.6  # chance is 0.1
    log = json.loads((tmp_path / "log.json").read_text())
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    reloaded = load_model(MLP(n_hidden=64), tmp_path / "model.npz")
    x = small_digits[1][0]
    numpy.testing.assert_array_equal(predict(reloaded, x), predict(model, x))


def _weights(path):
    with numpy.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def _run_job(out):
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "resume_job.py"), str(out)], cwd=REPO)


def test_sigkill_then_resume_gives_the_same_weights(tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert _run_job(straight).wait(timeout=300) == 0

    job = _run_job(interrupted)
    deadline = time.time() + 240
    while not list(interrupted.glob("snapshot_iter_*")) or len(list(interrupted.glob("snapshot_iter_*"))) < 2:
        assert job.poll() is None, "the job ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.02)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not (interrupted / "model.npz").exists(), "killed too late: the run had already finished"
    killed_at = max(int(p.name.rsplit("_", 1)[1]) for p in interrupted.glob("snapshot_iter_*"))
    assert killed_at < 200  # 4 epochs x 50 iterations

    assert _run_job(interrupted).wait(timeout=300) == 0
    a, b = _weights(straight / "model.npz"), _weights(interrupted / "model.npz")
    assert a.keys() == b.keys()
    for key in a:
        numpy.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert json.loads((straight / "log.json").read_text())[-1]["main/loss"] == json.loads(
        (interrupted / "log.json").read_text())[-1]["main/loss"]


def test_running_again_on_a_finished_run_resumes_and_does_nothing(small_digits, tmp_path):
    first = course.train_classifier(MLP(n_hidden=32), *small_digits, epochs=2, batch_size=50, out=tmp_path, progress=False)
    before = (tmp_path / "log.json").read_text()
    again = course.train_classifier(MLP(n_hidden=32), *small_digits, epochs=2, batch_size=50, out=tmp_path, progress=False)
    assert (tmp_path / "log.json").read_text() == before
    assert again.log == first.log


def test_nan_loss_stops_with_a_clear_message(small_digits, tmp_path):
    (x, t), validation = small_digits
    broken = x.copy()
    broken[:] = numpy.nan
    with pytest.raises(FloatingPointError, match=r"training loss became nan at iteration 1.*learning rate"):
        course.train_classifier(MLP(n_hidden=16), (broken, t), validation, epochs=1, batch_size=50, out=tmp_path, progress=False)


def test_mismatched_inputs_are_refused(small_digits, tmp_path):
    (x, t), _ = small_digits
    with pytest.raises(ValueError, match="600 images but 599 labels"):
        course.train_classifier(MLP(), (x, t[:-1]), epochs=1, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="fewer than batch_size"):
        course.train_classifier(MLP(), (x[:10], t[:10]), epochs=1, batch_size=50, out=tmp_path, progress=False)


def test_save_is_npz_and_atomic(tmp_path):
    model = MnistCNN()
    model(numpy.zeros((1, 1, 28, 28), numpy.float32))
    path = save_model(model, tmp_path / "model.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    with numpy.load(path, allow_pickle=False) as npz:  # plain arrays: no pickle needed to read it
        assert "conv1/W" in npz.files


def test_loading_into_the_wrong_model_says_so(tmp_path):
    model = MLP(n_hidden=8)
    model(numpy.zeros((1, 784), numpy.float32))
    save_model(model, tmp_path / "mlp.npz")
    with pytest.raises(ValueError, match=r"mlp.npz does not fit MnistCNN.*another model"):
        load_model(MnistCNN(), tmp_path / "mlp.npz")
    with pytest.raises(FileNotFoundError, match="train first"):
        load_model(MnistCNN(), tmp_path / "absent.npz")


def test_accuracy_helper():
    assert accuracy(numpy.array([[0.1, 0.9], [0.8, 0.2]]), numpy.array([1, 1])) == 0.5
    with pytest.raises(ValueError):
        accuracy(numpy.array([1, 0, 1]), numpy.array([1, 0]))
