"""The course's GAN loop: the losses against their formulas, the step, samples, NaN, kill and resume."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import chainer
import numpy
import pytest

import course  # noqa: F401  (shims first)
from course import losses
from course.training import GANUpdater
from gan_job import Generator, points, run

REPO = Path(__file__).resolve().parents[1]
LOGITS = numpy.array([-30.0, -2.0, -0.1, 0.0, 0.7, 3.0, 30.0], numpy.float32)


def _sigmoid(y):
    return 1 / (1 + numpy.exp(-y.astype(numpy.float64)))


def _value(variable):
    return float(variable.array)


def test_the_losses_are_their_formulas():
    real, fake = LOGITS, LOGITS[::-1] * 0.5
    d_real, d_fake = _sigmoid(real), _sigmoid(fake)
    expected = {
        "discriminator": -numpy.log(d_real).mean() - numpy.log(1 - d_fake).mean(),
        "minimax": numpy.log(1 - d_fake).mean(),
        "non-saturating": -numpy.log(d_fake).mean(),
        "log-ratio": -numpy.log(d_fake / (1 - d_fake)).mean(),
        "critic": fake.mean() - real.mean(),
        "wasserstein": -fake.mean(),
    }
    got = {
        "discriminator": _value(losses.discriminator_loss(real, fake)),
        "minimax": _value(losses.minimax_generator_loss(fake)),
        "non-saturating": _value(losses.non_saturating_generator_loss(fake)),
        "log-ratio": _value(losses.log_ratio_generator_loss(fake)),
        "critic": _value(losses.critic_loss(real, fake)),
        "wasserstein": _value(losses.wasserstein_generator_loss(fake)),
    }
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-5), name
    assert set(losses.GENERATOR_LOSSES) == {"minimax", "non-saturating", "log-ratio", "wasserstein"}


def test_the_discriminator_loss_is_2_log_2_where_d_cannot_tell():
    zeros = numpy.zeros(8, numpy.float32)
    assert _value(losses.discriminator_loss(zeros, zeros)) == pytest.approx(2 * numpy.log(2))


def _gradient(loss_function, logit):
    y = chainer.Variable(numpy.array([logit], numpy.float32))
    loss_function(y).backward()
    return float(y.grad[0])


def test_why_the_generator_needs_another_loss_when_d_rejects_its_samples():
    rejected = -8.0  # D(G(z)) = 0.0003: early training
    assert abs(_gradient(losses.minimax_generator_loss, rejected)) < 1e-3  # vanishes
    assert _gradient(losses.non_saturating_generator_loss, rejected) == pytest.approx(-1, abs=1e-3)  # strong
    for logit in (-8.0, 0.0, 8.0):  # the log-ratio update pushes the same whatever D says
        assert _gradient(losses.log_ratio_generator_loss, logit) == pytest.approx(-1)
    with numpy.errstate(over="ignore"):  # Chainer's softplus gradient overflows exp() on the way to 0 or 1
        for logit in (-100.0, 100.0):  # softplus keeps every loss finite at extreme logits
            for loss in (losses.minimax_generator_loss, losses.non_saturating_generator_loss):
                assert numpy.isfinite(_gradient(loss, logit))


def test_clip_weights_bounds_every_parameter():
    import chainer.links as L

    link = L.Linear(3, 4)
    link.W.array[...] = numpy.linspace(-1, 1, 12).reshape(4, 3)
    losses.clip_weights(link, 0.01)
    assert numpy.abs(link.W.array).max() == pytest.approx(0.01) and numpy.abs(link.b.array).max() <= 0.01
    with pytest.raises(ValueError, match="positive"):
        losses.clip_weights(link, 0)


def test_a_gan_learns_where_the_data_is_and_writes_its_samples(tmp_path):
    generator, _, history = run(tmp_path, epochs=12)
    z = numpy.random.RandomState(1).uniform(-1, 1, (500, 4)).astype(numpy.float32)
    with chainer.using_config("train", False):
        samples = generator(z).array
    course.set_seed(3)
    untrained = Generator()  # as run() builds it, before training
    with chainer.using_config("train", False):
        before = untrained(z).array
    target = points().mean(axis=0)
    assert numpy.linalg.norm(samples.mean(axis=0) - target) < 0.3 * numpy.linalg.norm(before.mean(axis=0) - target)
    assert {"dis/loss", "gen/loss"} <= history.keys()
    log = json.loads((tmp_path / "log.json").read_text())
    assert len(log) == 12
    grids = sorted(int(p.stem.split("_")[1]) for p in (tmp_path / "samples").glob("iter_*.png"))
    assert grids == list(range(16, 12 * 16 + 1, 16))  # every 16 iterations (512 points / 32 a batch)
    for name in ("generator", "discriminator"):
        assert (tmp_path / f"{name}.npz").exists()


def test_n_critic_steps_draw_that_many_batches_and_clip_bounds_the_critic(tmp_path):
    _, discriminator, history = run(tmp_path, epochs=3, generator_loss=losses.wasserstein_generator_loss,
                                    discriminator_loss=losses.critic_loss, n_critic=4, clip=0.05,
                                    optimizers={"gen": chainer.optimizers.RMSprop(lr=5e-3),
                                                "dis": chainer.optimizers.RMSprop(lr=5e-3)})
    assert max(numpy.abs(p.array).max() for p in discriminator.params()) <= 0.05 + 1e-7
    log = json.loads((tmp_path / "log.json").read_text())
    assert log[-1]["iteration"] == 3 * 16 // 4  # each step took 4 batches of the 16 an epoch holds


def test_a_generator_that_diverges_stops_with_the_loss_named(tmp_path):
    class Broken(chainer.Chain):
        def forward(self, z):
            return z[:, :2] * numpy.float32("nan")

    from course.training import train_gan, uniform_z

    from gan_job import Discriminator

    with pytest.raises(FloatingPointError, match=r"became nan at iteration 1 .*(dis|gen)/loss"):
        train_gan(Broken(), Discriminator(), points(), epochs=1, make_z=uniform_z(4), batch_size=32, out=tmp_path,
                  device="@numpy", progress=False, live_plot=False)


def test_the_updater_refuses_a_wrong_setup():
    iterator = chainer.iterators.SerialIterator(points(), 8)
    adam = chainer.optimizers.Adam()
    with pytest.raises(ValueError, match="optimizers 'gen' and 'dis'"):
        GANUpdater(iterator, {"main": adam}, seed=0, device=course.get_device("@numpy"))
    with pytest.raises(ValueError, match="at least 1"):
        GANUpdater(iterator, {"gen": adam, "dis": adam}, seed=0, device=course.get_device("@numpy"), n_critic=0)


def _weights(path):
    with numpy.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def _job(out):
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "gan_job.py"), str(out)], cwd=REPO / "tests")


def test_sigkill_then_resume_gives_the_same_weights_and_samples(tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert _job(straight).wait(timeout=300) == 0
    job = _job(interrupted)
    deadline = time.time() + 240
    while len(list(interrupted.glob("snapshot_iter_*"))) < 2:
        assert job.poll() is None, "the job ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.01)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not (interrupted / "generator.npz").exists(), "killed too late: the run had already finished"
    assert _job(interrupted).wait(timeout=300) == 0
    for name in ("generator", "discriminator"):
        a, b = _weights(straight / f"{name}.npz"), _weights(interrupted / f"{name}.npz")
        assert a.keys() == b.keys()
        for key in a:
            numpy.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}/{key}")
    last = sorted((straight / "samples").glob("iter_*.png"))[-1].name
    assert (straight / "samples" / last).read_bytes() == (interrupted / "samples" / last).read_bytes()
