"""Lesson 11: data-parallel training with ChainerMN over MPI (mpich + mpi4py from PyPI), in 2 processes.

Every run has a timeout and runs in its own session, so a failure cannot leave processes waiting.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chainer
import numpy
import pytest

import course
from course.__main__ import main
from course.errors import InputError
from course.tasks import multi_process
from course.training import distributed

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
SMALL = dict(processes=2, batch_size=20, examples=160, epochs=2, validation=100)  # 4 steps an epoch, 8 in all
CLI_SIZES = ["--profile", "quick", "--size", "train_limit=400", "--size", "batch_size=20", "--size", "cnn_epochs=1",
             "--size", "snapshot_every=3"]  # 10 steps per process, a snapshot every 3


def _log(folder):
    return json.loads((Path(folder) / "log.json").read_text())


@pytest.fixture(scope="module")
def sgd_runs(tmp_path_factory):
    """The same 8 SGD steps: 2 processes with batch 20 each, then 1 process with batch 40."""
    two, one = tmp_path_factory.mktemp("two"), tmp_path_factory.mktemp("one")
    output = multi_process.launch_equivalence(two, optimizer="sgd", lr=0.05, timeout=TIMEOUT, **SMALL)
    return two, one, output, multi_process.equivalence_run(one, optimizer="sgd", lr=0.05, **SMALL)


def test_two_processes_with_batch_b_take_the_steps_of_one_process_with_batch_2b(sgd_runs):
    two, one, output, alone = sgd_runs
    together = multi_process.weights(two / "model.npz")
    assert multi_process.largest_difference(together, alone) < 1e-5
    course.set_seed(0)
    initial = {name: p.array for name, p in course.models.MnistCNN(dropout=0.0).namedparams()}
    assert multi_process.largest_difference(together, initial) > 1e-3  # 8 steps moved them far more than that
    for a, b in zip(_log(two), _log(one), strict=True):  # the logged means: global batch and all validation digits
        for key in ("main/loss", "main/accuracy", "validation/main/loss", "validation/main/accuracy"):
            assert a[key] == pytest.approx(b[key], abs=1e-5), key
    assert [entry["iteration"] for entry in _log(two)] == [4, 8]
    # Each process printed its line per epoch: its own losses differ, its weights do not.
    lines = [line for line in output.splitlines() if line.startswith("process ")]
    assert len(lines) == 4 and {line.split(":")[0] for line in lines} == {"process 0 of 2", "process 1 of 2"}
    for epoch in (1, 2):
        fingerprints = {line.rsplit("weights ", 1)[1] for line in lines if f"epoch {epoch}," in line}
        assert len(fingerprints) == 1, lines


def test_only_the_first_process_writes(sgd_runs):
    two, one = sgd_runs[:2]
    names = lambda folder: sorted(p.name for p in folder.iterdir())  # noqa: E731
    assert names(two) == names(one) == ["log.json", "model.json", "model.npz", "snapshot_iter_8"]


class OneProcessAs:
    """A communicator for one process that takes itself for rank ``rank`` (an allreduce over itself is the identity)."""

    size = 1

    def __init__(self, rank):
        self.rank, self.mpi_comm = rank, self

    def allreduce(self, value):
        return value


def test_a_process_other_than_rank_0_keeps_its_log_but_writes_nothing(small_digits, tmp_path, capsys):
    for rank in (0, 1):
        model = chainer.links.Classifier(course.models.MLP(n_hidden=8))
        iterator = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(*small_digits[0]), 100)
        updater = course.training.SeededUpdater(iterator, chainer.optimizers.Adam().setup(model), seed=0,
                                                device=chainer.get_device("@numpy"))
        history = course.training.run_trainer(updater, epochs=2, out=tmp_path / str(rank), examples_per_epoch=600,
                                              snapshot_every=4, progress=False, live_plot=False,
                                              communicator=OneProcessAs(rank))
        assert [entry["epoch"] for entry in history.log] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "0").iterdir()) == ["log.json", "snapshot_iter_12", "snapshot_iter_8"]
    assert not list((tmp_path / "1").iterdir())
    assert capsys.readouterr().out.count("process 1 of 1: epoch") == 2


def test_the_order_of_the_batches_matters_so_the_check_can_fail(sgd_runs, tmp_path):
    """One process fed the digits in their own order (not batch k of every share, step by step) ends elsewhere."""
    unordered = multi_process.equivalence_run(tmp_path, optimizer="sgd", lr=0.05, line_up=False, **SMALL)
    assert multi_process.largest_difference(multi_process.weights(sgd_runs[0] / "model.npz"), unordered) > 1e-4


def test_the_same_with_adam(tmp_path):
    two = tmp_path / "two"
    multi_process.launch_equivalence(two, optimizer="adam", lr=1e-3, timeout=TIMEOUT, **SMALL)
    alone = multi_process.equivalence_run(tmp_path / "one", optimizer="adam", lr=1e-3, **SMALL)
    assert multi_process.largest_difference(multi_process.weights(two / "model.npz"), alone) < 1e-5


def test_the_allreduce_leaves_the_mean_gradient_in_every_process(tmp_path):
    output, result = multi_process.launch_allreduce_demo(tmp_path / "allreduce.json", batch_size=8, timeout=TIMEOUT)
    own = [numpy.array(g) for g in result["gradients"]]
    assert len(own) == 2 and numpy.abs(own[0] - own[1]).max() > 1e-4  # different digits, different gradients
    numpy.testing.assert_allclose(result["mean"], (own[0] + own[1]) / 2, atol=1e-7)
    numpy.testing.assert_allclose(result["mean"], multi_process.one_process_gradient(8, 2), atol=1e-6)
    assert sum(line.startswith("process ") for line in output.splitlines()) == 2


def test_shard_indices_follow_chainermn_s_rule():
    assert [s.tolist() for s in distributed.shard_indices(10, 4, shuffle=False)] == [[0, 1, 2], [2, 3, 4],
                                                                                     [5, 6, 7], [7, 8, 9]]
    shards = distributed.shard_indices(8, 2, seed=3)
    assert sorted(numpy.concatenate(shards).tolist()) == list(range(8))
    order = distributed.global_batch_order(8, 2, 2, seed=3)
    assert order.tolist() == [*shards[0][:2], *shards[1][:2], *shards[0][2:], *shards[1][2:]]


def test_each_process_draws_its_own_dropout_and_augmentation_after_the_same_batch():
    """The batch is drawn alike in every process (rank 0's snapshot resumes them all); what follows is not."""

    class Process:  # the one thing per_process_converter asks of a communicator
        def __init__(self, rank):
            self.rank = rank

    draws = []
    for rank in (0, 1, 0):
        course.training.reseed(7, 3)  # what SeededUpdater does before every step, alike in every process
        convert = distributed.per_process_converter(course.training.make_converter(), Process(rank))
        batch = convert([numpy.zeros(2, numpy.float32)], chainer.get_device("@numpy"))
        draws.append(float(numpy.random.rand()))  # as dropout would draw next
    assert batch.shape == (1, 2)
    assert draws[0] == draws[2] != draws[1]


def _cli(*arguments, **kwargs):
    return subprocess.run([sys.executable, "-m", "course", "train", "mnist", *arguments], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def _snapshots(folder):
    return sorted(int(p.name.rsplit("_", 1)[1]) for p in folder.glob("snapshot_iter_*"))


def test_cli_trains_in_processes_and_resumes_after_every_process_is_killed(tmp_path):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    result = _cli("--processes", "2", "--out", str(straight), *CLI_SIZES)
    assert result.returncode == 0, result.stderr
    assert "validation accuracy" in result.stdout and f"model written to {straight / 'model.npz'}" in result.stdout
    assert result.stdout.count("validation accuracy") == 1  # rank 0 alone reports
    assert sum(line.startswith("process 1 of 2: epoch 1,") for line in result.stdout.splitlines()) == 1

    command = [distributed.find_mpiexec(), "-n", "2", sys.executable, "-m", "course", "train", "mnist",
               "--out", str(interrupted), *CLI_SIZES]
    job = subprocess.Popen(command, cwd=REPO, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.time() + TIMEOUT
    while len(_snapshots(interrupted)) < 2:
        assert job.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.01)
    os.killpg(job.pid, signal.SIGKILL)  # mpiexec; MPI then ends both processes
    job.wait(timeout=TIMEOUT)
    assert not (interrupted / "model.npz").exists(), "killed too late: the run had already finished"
    assert max(_snapshots(interrupted)) < 10

    resumed = _cli("--processes", "2", "--out", str(interrupted), *CLI_SIZES)
    assert resumed.returncode == 0, resumed.stderr
    a, b = multi_process.weights(straight / "model.npz"), multi_process.weights(interrupted / "model.npz")
    assert a.keys() == b.keys()
    for key in a:
        numpy.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert _log(straight)[-1]["main/loss"] == _log(interrupted)[-1]["main/loss"]


@pytest.mark.parametrize("how", ["kill", "raise"])
def test_a_process_that_dies_ends_every_process_and_leaves_no_model(tmp_path, how):
    result = distributed.launch([str(REPO / "tests" / "distributed_job.py"), str(tmp_path), how], 2,
                                timeout=TIMEOUT, capture=True, env=ENV)
    assert result.returncode != 0
    assert not (tmp_path / "model.npz").exists()
    if how == "raise":
        assert "RuntimeError: process 1 failed on purpose" in result.stdout
        assert "Uncaught exception on rank 1" in result.stdout  # and MPI_Abort ended process 0


def test_a_run_past_its_timeout_is_killed_with_every_process():
    marker = f"course-test-{os.getpid()}-{time.time_ns()}"
    with pytest.raises(TimeoutError, match="ran past 2 s and was killed"):
        distributed.launch(["-c", f"import time; time.sleep(60)  # {marker}"], 2, timeout=2, capture=True, env=ENV)
    time.sleep(0.5)  # MPI's proxy ends the processes once mpiexec is gone
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in left


def test_more_processes_than_examples_is_one_error_line(tmp_path):
    result = _cli("--processes", "2", "--out", str(tmp_path), "--profile", "quick", "--size", "train_limit=60",
                  "--size", "batch_size=50")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: train has 60 examples: 2 processes get 30 each, fewer than batch_size=50; use fewer processes, "
        "a smaller batch or more examples (at least 100)"]
    assert not list(tmp_path.iterdir())


def test_missing_mpi_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MPIEXEC", str(tmp_path / "no-mpiexec"))
    assert main(["train", "mnist", "--processes", "2", "--out", str(tmp_path / "out")]) == 2
    assert "is not an executable mpiexec" in capsys.readouterr().err

    monkeypatch.delenv("COURSE_MPIEXEC")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(InputError, match="no mpiexec found .* pip install mpi4py==4.1.2 mpich==5.0.2"):
        distributed.find_mpiexec()

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if mpi4py were not installed
    with pytest.raises(InputError, match="needs MPI and mpi4py .*pip install mpi4py"):
        distributed.create_communicator()


def test_processes_that_died_are_one_error_line_saying_how_to_resume(tmp_path, monkeypatch, capsys):
    dying = tmp_path / "mpiexec"
    dying.write_text("#!/bin/sh\nexit 9\n")  # as mpiexec ends when a process was killed
    dying.chmod(0o755)
    monkeypatch.setenv("COURSE_MPIEXEC", str(dying))
    assert main(["train", "mnist", "--processes", "2", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the 2 processes stopped with exit status 9: one of them failed or was killed (see above). The "
        f"newest snapshot in {tmp_path / 'out'} is kept: run the same command to resume")
    monkeypatch.setenv("PMI_SIZE", "2")  # as in a process that mpiexec started
    assert main(["train", "mnist", "--processes", "2", "--out", str(tmp_path / "out")]) == 2
    assert "--processes starts mpiexec itself" in capsys.readouterr().err


def test_a_task_that_does_not_train_data_parallel_says_which_do(tmp_path, capsys):
    assert main(["train", "style", "--processes", "2", "--out", str(tmp_path)]) == 2
    assert "error: style does not train data parallel; these do: mnist" in capsys.readouterr().err
    assert main(["train", "mnist", "--processes", "0", "--out", str(tmp_path)]) == 2
    assert "--processes must be at least 1" in capsys.readouterr().err


def test_one_process_without_mpi_never_imports_it():
    code = ("import sys, numpy, course; from course.models import MLP; "
            "x = numpy.random.rand(40, 1, 28, 28).astype(numpy.float32); "
            "t = (numpy.arange(40) % 10).astype(numpy.int32); "
            "course.train_classifier(MLP(n_hidden=8), (x, t), epochs=1, batch_size=20, progress=False); "
            "print(sorted(m for m in ('mpi4py', 'chainermn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_compat_lets_chainermn_convert_gradient_dtypes_on_numpy_2():
    """``unpack_params`` (the GPU communicators' float16 <-> float32 step) fails on NumPy 2 without the shim."""
    code = """
import importlib.util, numpy, course, chainer
from chainermn.communicators import _memory_utility as patched
assert patched.unpack_params is course.compat._unpack_params
spec = importlib.util.spec_from_file_location("original", patched.__file__)
original = importlib.util.module_from_spec(spec); spec.loader.exec_module(original)

class Buffer:  # stands in for ChainerMN's DeviceMemory: float32 gradients 0, 1, 2 as bytes
    data = numpy.arange(3, dtype=numpy.float32).view(numpy.uint8)
    def to_device(self, array, size, offset, stream=None):
        array.view(numpy.uint8).ravel()[:size] = self.data[offset:offset + size]

def parameter():
    p = chainer.Parameter(numpy.ones(3, numpy.float16)); p.grad = numpy.ones(3, numpy.float16); return p

p = parameter()
patched.unpack_params([p], "grad", Buffer(), numpy.float32, False)
print(p.grad.tolist(), p.grad.dtype)
try:
    original.unpack_params([parameter()], "grad", Buffer(), numpy.float32, False)
except ValueError as error:
    print("original:", error)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[0.0, 1.0, 2.0] float16"
    assert lines[1].startswith("original: Unable to avoid copy")
