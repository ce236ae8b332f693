"""Trainer extensions the notebooks need: a NaN guard, a progress bar, a live plot and sample grids, for any model.

None of them assumes a classifier: :class:`StopOnNaN` watches every reported loss (``main/loss``,
``gen/loss``, ``dis/loss``...), and :class:`ProgressBar` and :class:`LivePlot` show the keys they
are given.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Mapping, Sequence

import chainer
import numpy
from chainer.training import extension

from course.images import tile, write_image
from course.training.plots import CLASSIFIER_PANELS, plot_history


def _as_float(value) -> float:
    if isinstance(value, chainer.Variable):
        value = value.array
    return float(value)


def is_loss(key: str) -> bool:
    """True for a reported loss: a key whose last part is ``loss`` or ends in ``_loss`` (``gen/loss``, ``main/pixel_loss``)."""
    name = key.rsplit("/", 1)[-1]
    return name == "loss" or name.endswith("_loss")


def _learning_rate(optimizer: chainer.Optimizer) -> float | None:
    return getattr(optimizer, "alpha", None) if hasattr(optimizer, "alpha") else getattr(optimizer, "lr", None)


class StopOnNaN(extension.Extension):
    """Stop training with a clear message as soon as any reported training loss is NaN or infinite."""

    trigger = (1, "iteration")
    priority = extension.PRIORITY_WRITER + 1  # before anything records the broken value
    name = "StopOnNaN"

    def __call__(self, trainer):
        for key, value in trainer.observation.items():
            if not is_loss(key) or key.startswith("validation/"):
                continue
            value = _as_float(value)
            if math.isfinite(value):
                continue
            updater = trainer.updater
            rates = {name: _learning_rate(opt) for name, opt in updater.get_all_optimizers().items()}
            rates = ", ".join(f"{name} {rate:g}" for name, rate in rates.items() if rate is not None)
            raise FloatingPointError(
                f"The training loss became {value} at iteration {updater.iteration} "
                f"(epoch {updater.epoch_detail:.2f}; {key}), so training stopped. Usually the learning rate "
                f"is too high{f' (it is {rates})' if rates else ''}: lower it, or check the "
                f"inputs for NaN/inf. Snapshots in {trainer.out} hold the last good state."
            )


def _short(key: str) -> str:
    """A reported key as the progress bar shows it: ``main/loss`` -> ``loss``, ``gen/loss`` stays."""
    return key[len("main/"):] if key.startswith("main/") else key


class ProgressBar(extension.Extension):
    """A tqdm.auto bar over all training examples, showing examples/second, the epoch and the latest ``keys``.

    Progress is read from the updater's ``epoch_detail``, so it is right for any updater, also one
    that draws several batches a step (a WGAN's critic steps). The bar starts at the first step
    (after a resumed run's snapshot is loaded), so a finished run resumed again shows no bar at all.
    """

    trigger = (1, "iteration")
    priority = extension.PRIORITY_READER
    name = "ProgressBar"

    def __init__(self, epochs: float, examples_per_epoch: int, keys: Sequence[str] = ("main/loss", "main/accuracy"),
                 unit: str = "img"):
        self.epochs, self.examples_per_epoch = epochs, examples_per_epoch
        self.keys, self.unit = tuple(keys), unit
        self._bar = None

    def _done(self, trainer) -> int:
        return min(round(trainer.updater.epoch_detail * self.examples_per_epoch), self._bar.total)

    def _start(self, trainer):
        from tqdm.auto import tqdm

        resumed = trainer.updater.iteration > 1  # this call comes after the first step
        self._bar = tqdm(total=round(self.epochs * self.examples_per_epoch), unit=self.unit, unit_scale=True,
                         desc="resumed" if resumed else "training", dynamic_ncols=True)

    def __call__(self, trainer):
        if self._bar is None:
            self._start(trainer)
        self._bar.update(self._done(trainer) - self._bar.n)
        shown = {_short(key): f"{_as_float(trainer.observation[key]):.4f}"
                 for key in self.keys if key in trainer.observation}
        shown["epoch"] = f"{trainer.updater.epoch_detail:.2f}"
        self._bar.set_postfix(shown, refresh=False)

    def finalize(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a live plot can be shown), False in a terminal or script."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and type(shell).__name__ == "ZMQInteractiveShell"


class LivePlot(extension.Extension):
    """Redraw the logged curves in place in a notebook after every logged epoch.

    ``panels`` maps a panel's title to the ``(key, label)`` pairs drawn in it (default: a
    classifier's loss and accuracy, training and validation); see :func:`course.training.plot_history`.
    """

    trigger = (1, "epoch")
    priority = extension.PRIORITY_READER
    name = "LivePlot"

    def __init__(self, title: str = "", panels: Mapping[str, Sequence[tuple[str, str]]] = CLASSIFIER_PANELS):
        self.title, self.panels = title, panels
        self._handle = None
        self._figure = None

    def __call__(self, trainer):
        import matplotlib.pyplot as plt
        from IPython.display import display

        log = trainer.get_extension("LogReport").log
        if not log:
            return
        if self._figure is not None:
            plt.close(self._figure)
        self._figure = plot_history(log, panels=self.panels, title=self.title)
        plt.close(self._figure)  # shown through the display handle only, not again at cell end
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)


class SampleGrid(extension.Extension):
    """Every ``every`` iterations, the generator's images for one fixed batch of inputs, as a grid.

    Writes ``out/samples/iter_N.png`` and, in a notebook, shows the newest grid in place, so samples
    can be watched while training runs. ``z`` is kept in the trainer's snapshots, so a resumed run
    goes on drawing the same faces or digits. ``to_image`` maps the generator's output to images
    (N, C, H, W) in [0, 1] (default: a tanh output in [-1, 1]).
    """

    priority = extension.PRIORITY_READER
    name = "SampleGrid"

    def __init__(self, generator: chainer.Link, z, *, every: int = 100, columns: int = 10,
                 to_image=lambda y: (y + 1) / 2, folder: str = "samples", live: bool | None = None):
        if every < 1:
            raise ValueError(f"every must be a positive number of iterations, not {every}")
        self.trigger = (every, "iteration")
        self.generator, self.z, self.columns, self.to_image = generator, z, columns, to_image
        self.folder, self.live = folder, in_notebook() if live is None else live
        self._handle = None

    def render(self):
        """The grid for ``z`` now: an HWC float picture in [0, 1] (grey for one channel)."""
        device = self.generator.device
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            y = self.generator(device.send(self.z)).array
        images = numpy.clip(chainer.backend.CpuDevice().send(self.to_image(y)), 0, 1)
        return tile(images, self.columns)

    def __call__(self, trainer):
        path = write_image(Path(trainer.out) / self.folder / f"iter_{trainer.updater.iteration}.png", self.render())
        if self.live:
            from IPython.display import Image, display

            picture = Image(data=path.read_bytes(), format="png")
            if self._handle is None:
                self._handle = display(picture, display_id=True)
            else:
                self._handle.update(picture)

    def serialize(self, serializer):
        self.z = serializer("z", self.z)
