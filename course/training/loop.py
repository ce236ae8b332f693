"""Run training with Chainer's Trainer: logging, validation, snapshots, resume, progress, live plot."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import chainer
import chainer.links as L
import numpy
from chainer.training import Trainer, extensions

from course.device import get_device
from course.files import check_writable_folder
from course.models.saving import save_model
from course.seed import set_seed
from course.training import distributed
from course.training.extensions import LivePlot, ProgressBar, StopOnNaN, in_notebook
from course.training.plots import CLASSIFIER_PANELS, Panels, plot_history
from course.training.updater import SeededUpdater, make_converter

SNAPSHOT_PATTERN = "snapshot_iter_{.updater.iteration}"


@dataclass
class History:
    """What a training run logged: one dict per epoch (``epoch``, ``main/loss``, ``validation/main/accuracy``...)."""

    log: list[dict]
    out: Path

    def last(self, key: str) -> float:
        """The last logged value of ``key``."""
        values = self.values(key)
        if not values:
            raise KeyError(f"nothing was logged under {key!r}; logged keys: {sorted(self.keys())}")
        return values[-1]

    def values(self, key: str) -> list[float]:
        """Every logged value of ``key``, in order."""
        return [entry[key] for entry in self.log if key in entry]

    def keys(self) -> set[str]:
        """All keys that appear in the log."""
        return {key for entry in self.log for key in entry}

    def plot(self, title: str = "", *, panels: Panels = CLASSIFIER_PANELS):
        """The logged curves, one panel per entry of ``panels`` (see :func:`course.training.plot_history`)."""
        return plot_history(self.log, panels=panels, title=title)


class _EveryOrAtEnd:
    """Fire every ``n`` iterations and on the last one, so the final state is always snapshotted."""

    def __init__(self, n: int, epochs: int):
        self.n, self.epochs = n, epochs

    def __call__(self, trainer) -> bool:
        updater = trainer.updater
        return updater.iteration % self.n == 0 or updater.epoch_detail >= self.epochs


def run_trainer(
    updater: chainer.training.Updater,
    *,
    epochs: int,
    out: str | os.PathLike,
    examples_per_epoch: int,
    evaluator: chainer.training.Extension | None = None,
    snapshot_every: int = 500,
    progress: bool = True,
    progress_keys: Sequence[str] = ("main/loss", "main/accuracy"),
    live_plot: bool | None = None,
    panels: Panels = CLASSIFIER_PANELS,
    extra_extensions: Sequence[chainer.training.Extension] = (),
    title: str = "",
    communicator=None,
) -> History:
    """Run ``updater`` for ``epochs`` under a Trainer writing to ``out``, resuming if ``out`` has snapshots.

    Writes ``out/log.json`` (one entry per epoch) and ``out/snapshot_iter_N`` (the whole trainer state:
    models, optimizers, iterator, log) every ``snapshot_every`` iterations and at the end. Running again
    with the same ``out`` continues from the newest snapshot; a finished run returns at once. The
    progress bar shows ``progress_keys``; the live plot (default: inside a notebook) draws ``panels``
    (see :func:`course.training.plot_history`). Every reported training loss is watched for NaN.

    With a ChainerMN ``communicator`` (see :mod:`course.training.distributed`) the reported training
    values are averaged over the processes, each prints a line per epoch, and only rank 0 writes the
    log and snapshots and shows the progress bar and plot; every process resumes from rank 0's snapshot.
    """
    root = communicator is None or communicator.rank == 0
    trainer = Trainer(updater, (epochs, "epoch"), out=str(out))
    if communicator is not None:
        trainer.extend(distributed.ProcessProgress(communicator))
        trainer.extend(distributed.MeanOverProcesses(communicator))
    trainer.extend(StopOnNaN())
    if evaluator is not None:
        trainer.extend(evaluator, name="validation", trigger=(1, "epoch"))
    trainer.extend(distributed.log_report(communicator, trigger=(1, "epoch"), filename="log.json"), name="LogReport")
    trainer.extend(
        extensions.snapshot(filename=SNAPSHOT_PATTERN, autoload=True, n_retains=2),
        trigger=_EveryOrAtEnd(snapshot_every, epochs) if root else distributed.never,
    )
    if progress and root:
        trainer.extend(ProgressBar(epochs, examples_per_epoch, progress_keys))
    if live_plot is None:
        live_plot = in_notebook()
    if live_plot and root:
        trainer.extend(LivePlot(title, panels))
    for extension in extra_extensions:
        trainer.extend(extension)
    trainer.run()
    return History(list(trainer.get_extension("LogReport").log), Path(out))


def check_training_set(train: tuple[numpy.ndarray, numpy.ndarray], batch_size: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``train`` as ``(x, t)``, or a ValueError when they differ in length or hold less than one batch."""
    x, t = train
    if len(x) != len(t):
        raise ValueError(f"train has {len(x)} images but {len(t)} labels; they must match one to one.")
    if len(x) < batch_size:
        raise ValueError(f"train has {len(x)} examples, fewer than batch_size={batch_size}; lower batch_size.")
    return x, t


def classification_evaluator(model: chainer.Link, validation: tuple[numpy.ndarray, numpy.ndarray],
                             device: chainer.backend.Device, batch_size: int = 500) -> extensions.Evaluator:
    """Chainer's Evaluator over ``validation`` ``(images, labels)``, in order, ``batch_size`` at a time."""
    iterator = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(*validation), batch_size,
                                                repeat=False, shuffle=False)
    return extensions.Evaluator(iterator, model, converter=make_converter(), device=device)


def as_dataset(train) -> tuple[object, int]:
    """A dataset for Chainer's iterators and its length: ``(x, t, ...)`` arrays as a TupleDataset, one array as itself."""
    if isinstance(train, tuple):
        return chainer.datasets.TupleDataset(*train), len(train[0])
    return train, len(train)


def fit(
    optimizers: chainer.Optimizer | Mapping[str, chainer.Optimizer],
    train,
    save: Mapping[str, chainer.Link],
    *,
    epochs: int,
    batch_size: int,
    out: str | os.PathLike | None,
    seed: int,
    device: chainer.backend.Device,
    converter=None,
    evaluator: chainer.training.Extension | None = None,
    updater_class: Callable[..., SeededUpdater] = SeededUpdater,
    snapshot_every: int = 500,
    progress: bool = True,
    progress_keys: Sequence[str] = ("main/loss", "main/accuracy"),
    live_plot: bool | None = None,
    panels: Panels = CLASSIFIER_PANELS,
    title: str = "",
    extra_extensions: Sequence[chainer.training.Extension] = (),
    shuffle: bool = True,
    communicator=None,
) -> History:
    """The wiring every lesson's training shares: shuffled batches of ``train`` -> ``updater_class`` -> :func:`run_trainer`.

    ``optimizers`` is one optimizer, or a mapping of names to optimizers (``"main"`` among them, e.g.
    ``{"main": generator_optimizer, "dis": discriminator_optimizer}``), each set up on a model already
    on ``device``; call :func:`course.set_seed` (``seed``) just before, so the first shuffle is
    reproducible. ``train`` is a tuple of arrays ``(x, t, ...)`` or one array of unlabeled examples.
    ``updater_class`` is :class:`SeededUpdater` or a subclass (with its own options bound by
    ``functools.partial``). When training ends, each link of ``save`` is written to ``out/NAME.npz``
    (e.g. ``{"model": predictor}`` -> ``out/model.npz``); ``out=None`` is a new temporary folder.
    ``shuffle=False`` takes the batches in the order of ``train``, every epoch.

    With a ChainerMN ``communicator``, this is one of N processes training data parallel (see
    :mod:`course.training.distributed`): all pass the same arguments; each trains on its share of
    ``train``, ``batch_size`` examples a step, the optimizers average the gradients over the
    processes, ``evaluator`` (over this process's share) reports the mean over all, and only rank 0
    writes to ``out``, which must be the same folder for all.
    """
    if communicator is not None and out is None:
        raise ValueError("data-parallel training needs an out folder that every process names, not out=None")
    out = check_writable_folder(out) if out is not None else Path(tempfile.mkdtemp(prefix="course-training-"))
    dataset, size = as_dataset(train)
    if communicator is not None:
        distributed.check_share(size, batch_size, communicator)
        dataset = distributed.scatter(dataset, communicator, seed=seed)
        optimizers = distributed.multi_node_optimizers(optimizers, communicator)
        converter = distributed.per_process_converter(converter or make_converter(), communicator)
        if evaluator is not None:
            evaluator = distributed.multi_node_evaluator(evaluator, communicator)
    iterator = chainer.iterators.SerialIterator(dataset, batch_size, shuffle=shuffle)
    updater = updater_class(iterator, optimizers, seed=seed, device=device, converter=converter)
    history = run_trainer(
        updater, epochs=epochs, out=out, examples_per_epoch=size, evaluator=evaluator,
        snapshot_every=snapshot_every, progress=progress,
        progress_keys=progress_keys, live_plot=live_plot, panels=panels, title=title,
        extra_extensions=extra_extensions, communicator=communicator,
    )
    if communicator is None or communicator.rank == 0:
        for name, link in save.items():
            save_model(link, out / f"{name}.npz")
    return history


def train_classifier(
    predictor: chainer.Link,
    train: tuple[numpy.ndarray, numpy.ndarray],
    validation: tuple[numpy.ndarray, numpy.ndarray] | None = None,
    *,
    epochs: int,
    batch_size: int = 100,
    lr: float = 1e-3,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    device: chainer.backend.Device | str | None = None,
    augment: Callable[[numpy.ndarray], numpy.ndarray] | None = None,
    optimizer: chainer.Optimizer | None = None,
    snapshot_every: int = 500,
    progress: bool = True,
    live_plot: bool | None = None,
    title: str = "",
    shuffle: bool = True,
    communicator=None,
) -> History:
    """Train ``predictor`` (images -> class scores) with softmax cross-entropy and Adam (or ``optimizer``).

    This is Chainer's own recipe, wired once: ``L.Classifier`` around the predictor, a
    ``SerialIterator`` over ``train``, an updater, a ``Trainer`` with an ``Evaluator`` on
    ``validation`` and a ``LogReport``. On top it adds a progress bar, a live plot in notebooks,
    snapshots and resume, a NaN guard, and ``out/model.npz``.

    ``train`` and ``validation`` are ``(images, labels)`` arrays. The model is trained in place on
    ``device`` (default :func:`course.get_device`), saved to ``out/model.npz``, and left on that device.
    Same ``seed``, same data, same device: same weights, also across a kill and resume. Layers draw
    their initial weights when they are built, so call :func:`course.set_seed` before building
    ``predictor`` too. ``optimizer``, when given, is a Chainer optimizer not set up yet (e.g.
    ``chainer.optimizers.SGD(lr=0.01)``) that replaces ``Adam(alpha=lr)``. ``shuffle=False`` keeps
    the order of ``train``. With a ChainerMN ``communicator`` (every process calling this alike),
    :func:`fit` trains data parallel, ``batch_size`` per process, and ``validation`` is shared out too.
    """
    if communicator is not None:
        distributed.check_share(len(train[0]), batch_size, communicator)
    check_training_set(train, batch_size)
    if optimizer is not None and optimizer.target is not None:
        raise ValueError("the optimizer is set up on a model already; pass a new one, e.g. chainer.optimizers.SGD()")
    device = get_device(device)
    set_seed(seed)
    model = L.Classifier(predictor)
    model.to_device(device)
    if optimizer is None:
        optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(model)
    evaluator = None
    if validation is not None:
        if communicator is not None:
            validation = distributed.scatter_arrays(validation, communicator)
        evaluator = classification_evaluator(model, validation, device, max(batch_size, 500))
    return fit(optimizer, train, {"model": predictor}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, converter=make_converter(augment), evaluator=evaluator, snapshot_every=snapshot_every,
               progress=progress, live_plot=live_plot, title=title, shuffle=shuffle, communicator=communicator)
