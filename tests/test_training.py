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
from course.errors import DataError
from course.metrics import accuracy
from course.models import MLP, MnistCNN, load_model, predict, save_model

REPO = Path(__file__).resolve().parents[1]


def test_train_classifier_learns_and_writes_log_and_model(small_digits, tmp_path):
    model = MLP(n_hidden=64)
    history = course.train_classifier(model, *small_digits, epochs=3, batch_size=50, out=tmp_path, progress=False)
    assert len(history.log) == 3
    assert history.values("main/loss")[-1] < history.values("main/loss")[0]
    assert history.last("validation/main/accuracy") > 0.6  # chance is 0.1
    log = json.loads((tmp_path / "log.json").read_text())
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    reloaded = load_model(tmp_path / "model.npz")  # rebuilt from model.json alone
    x = small_digits[1][0]
    numpy.testing.assert_array_equal(predict(reloaded, x), predict(model, x))


def test_without_out_training_writes_into_a_new_temporary_folder(small_digits):
    history = course.train_classifier(MLP(n_hidden=16), *small_digits, epochs=1, batch_size=50, progress=False)
    assert history.out.is_dir() and history.out.name.startswith("course-training-")
    assert (history.out / "model.npz").is_file() and (history.out / "log.json").is_file()


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
    assert sorted(os.listdir(tmp_path)) == ["model.json", "model.npz"]  # no temporary file left behind
    with numpy.load(path, allow_pickle=False) as npz:  # plain arrays: no pickle needed to read it
        assert "conv1/W" in npz.files


def test_loading_into_the_wrong_model_says_so(tmp_path):
    model = MLP(n_hidden=8)
    model(numpy.zeros((1, 784), numpy.float32))
    save_model(model, tmp_path / "mlp.npz")
    with pytest.raises(ValueError, match=r"mlp.npz does not fit MnistCNN.*another model"):
        load_model(tmp_path / "mlp.npz", MnistCNN())
    with pytest.raises(DataError, match="train first"):
        load_model(tmp_path / "absent.npz")
    with pytest.raises(DataError, match="holds MLP, not MnistCNN"):
        load_model(tmp_path / "mlp.npz", expected=MnistCNN)


def test_accuracy_helper():
    assert accuracy(numpy.array([[0.1, 0.9], [0.8, 0.2]]), numpy.array([1, 1])) == 0.5
    with pytest.raises(ValueError):
        accuracy(numpy.array([1, 0, 1]), numpy.array([1, 0]))


# --- the loop serves more than a classifier ---------------------------------------------------------

def test_the_converter_takes_unlabeled_batches_and_augments_only_the_inputs():
    from course.training import make_converter

    convert = make_converter(lambda x: x + 1)
    device = course.get_device("@numpy")
    images = numpy.zeros((3, 1, 2, 2), numpy.float32)
    x = convert(list(images), device)  # a GAN's batch: images only
    assert isinstance(x, numpy.ndarray) and x.shape == (3, 1, 2, 2) and (x == 1).all()
    x, t = convert([(image, numpy.int32(5)) for image in images], device)
    assert (x == 1).all() and t.tolist() == [5, 5, 5]


class _TwoPlayers(course.chainer.training.StandardUpdater):
    """A toy two-optimizer step in the shape of a GAN's: each link has its own optimizer and loss."""

    def __init__(self, iterator, optimizers, *, seed, device, converter=None):
        from course.training import SeededUpdater

        self._base = SeededUpdater  # only for its converter default
        super().__init__(iterator, optimizers, device=device, converter=converter or _unlabeled)

    def update_core(self):
        x = self.converter(self.get_iterator("main").next(), self.device)
        for name, target in (("gen", 1.0), ("dis", -1.0)):
            optimizer = self.get_optimizer("main" if name == "gen" else "dis")
            link = optimizer.target
            loss = course.chainer.functions.mean_squared_error(link(x), numpy.full((len(x), 1), target, numpy.float32))
            link.cleargrads()
            loss.backward()
            optimizer.update()
            course.chainer.report({"loss": loss}, link)


def _unlabeled(batch, device):
    return device.send(numpy.stack(batch))


def _two_linear_players():
    import chainer.links as L

    course.set_seed(0)
    generator, discriminator = L.Linear(4, 1), L.Linear(4, 1)
    optimizers = {}
    for name, link in (("main", generator), ("dis", discriminator)):
        optimizers[name] = course.chainer.optimizers.Adam(alpha=1e-2)
        optimizers[name].setup(link)
    return generator, discriminator, optimizers


def test_fit_runs_several_optimizers_on_unlabeled_data_and_saves_each_link(tmp_path):
    from course.training import fit

    generator, discriminator, optimizers = _two_linear_players()
    data = numpy.random.RandomState(0).standard_normal((40, 4)).astype(numpy.float32)
    history = fit(optimizers, data, {"generator": generator, "discriminator": discriminator}, epochs=2,
                  batch_size=10, out=tmp_path, seed=0, device=course.get_device("@numpy"), updater_class=_TwoPlayers,
                  progress=True, progress_keys=("main/loss", "dis/loss"))
    assert {"main/loss", "dis/loss"} <= history.keys() and len(history.log) == 2
    assert (tmp_path / "generator.npz").exists() and (tmp_path / "discriminator.npz").exists()
    with numpy.load(tmp_path / "discriminator.npz") as saved:
        numpy.testing.assert_array_equal(saved["W"], discriminator.W.array)


def test_a_nan_in_any_reported_loss_stops_training(tmp_path):
    from course.training import fit

    generator, discriminator, optimizers = _two_linear_players()
    data = numpy.full((40, 4), numpy.nan, numpy.float32)
    with pytest.raises(FloatingPointError, match=r"became nan at iteration 1 .*main/loss.*main 0.01, dis 0.01"):
        fit(optimizers, data, {}, epochs=1, batch_size=10, out=tmp_path, seed=0, device=course.get_device("@numpy"),
            updater_class=_TwoPlayers, progress=False)
    from course.training.extensions import is_loss

    assert is_loss("gen/loss") and is_loss("dis/loss") and is_loss("main/pixel_loss")
    assert not is_loss("main/accuracy") and not is_loss("main/lossy")


def test_history_plots_the_panels_it_is_given():
    from course.training import History, plot_history

    log = [{"epoch": 1, "gen/loss": 2.0, "dis/loss": 0.5}, {"epoch": 2, "gen/loss": 1.5, "dis/loss": 0.7}]
    panels = {"loss": (("gen/loss", "generator"), ("dis/loss", "discriminator")), "other": (("x", "absent"),)}
    figure = plot_history(log, panels=panels, title="GAN")
    assert [ax.get_title() for ax in figure.axes] == ["loss", "other"]
    assert [line.get_label() for line in figure.axes[0].lines] == ["generator", "discriminator"]
    assert not figure.axes[1].lines  # a key that was never logged is left out
    classifier = History([{"epoch": 1, "main/loss": 1.0, "validation/main/accuracy": 0.5}], None).plot()
    assert [ax.get_title() for ax in classifier.axes] == ["loss", "accuracy"]


def test_the_progress_bar_counts_examples_and_a_finished_run_shows_none(small_digits, tmp_path, capsys):
    course.train_classifier(MLP(n_hidden=16), *small_digits, epochs=1, batch_size=50, out=tmp_path, progress=True)
    first = capsys.readouterr().err
    assert "600/600" in first and "training" in first
    course.train_classifier(MLP(n_hidden=16), *small_digits, epochs=1, batch_size=50, out=tmp_path, progress=True)
    assert "%|" not in capsys.readouterr().err  # nothing left to train: no bar stuck at 0%
