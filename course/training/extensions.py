"""Trainer extensions the notebooks need: a progress bar, a live plot, and a NaN guard."""
from __future__ import annotations

import math
import sys

import chainer
from chainer.training import extension


def _as_float(value) -> float:
    if isinstance(value, chainer.Variable):
        value = value.array
    return float(value)


class StopOnNaN(extension.Extension):
    """Stop training with a clear message as soon as the training loss is NaN or infinite."""

    trigger = (1, "iteration")
    priority = extension.PRIORITY_WRITER + 1  # before anything records the broken value
    name = "StopOnNaN"

    def __call__(self, trainer):
        loss = trainer.observation.get("main/loss")
        if loss is None:
            return
        value = _as_float(loss)
        if not math.isfinite(value):
            updater = trainer.updater
            optimizer = updater.get_optimizer("main")
            lr = optimizer.alpha if hasattr(optimizer, "alpha") else getattr(optimizer, "lr", None)
            raise FloatingPointError(
                f"The training loss became {value} at iteration {updater.iteration} "
                f"(epoch {updater.epoch_detail:.2f}), so training stopped. Usually the learning rate "
                f"is too high{f' (it is {lr:g})' if lr is not None else ''}: lower it, or check the "
                f"inputs for NaN/inf. Snapshots in {trainer.out} hold the last good state."
            )


class ProgressBar(extension.Extension):
    """A tqdm.auto bar over all training images, showing images/second, loss and accuracy."""

    trigger = (1, "iteration")
    priority = extension.PRIORITY_READER
    name = "ProgressBar"

    def __init__(self, total_iterations: int, batch_size: int, keys=("main/loss", "main/accuracy")):
        self.total_iterations = total_iterations
        self.batch_size = batch_size
        self.keys = keys
        self._bar = None

    def initialize(self, trainer):
        from tqdm.auto import tqdm

        done = trainer.updater.iteration
        self._bar = tqdm(
            total=self.total_iterations * self.batch_size,
            initial=done * self.batch_size,
            unit="img",
            unit_scale=True,
            desc="resumed" if done else "training",
            dynamic_ncols=True,
        )

    def __call__(self, trainer):
        if self._bar is None:
            self.initialize(trainer)
        self._bar.update(self.batch_size)
        shown = {}
        for key in self.keys:
            if key in trainer.observation:
                shown[key.split("/")[-1]] = f"{_as_float(trainer.observation[key]):.4f}"
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
    """Redraw loss and accuracy curves in place in a notebook after every logged epoch."""

    trigger = (1, "epoch")
    priority = extension.PRIORITY_READER
    name = "LivePlot"

    def __init__(self, title: str = ""):
        self.title = title
        self._handle = None
        self._figure = None

    def __call__(self, trainer):
        from IPython.display import display

        from course.viz import plot_history

        log = trainer.get_extension("LogReport").log
        if not log:
            return
        import matplotlib.pyplot as plt

        if self._figure is not None:
            plt.close(self._figure)
        self._figure = plot_history(log, title=self.title)
        plt.close(self._figure)  # shown through the display handle only, not again at cell end
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)
