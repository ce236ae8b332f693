"""Lesson 1's training loop, written out: one example at a time, no Trainer.

Every step is the five lines a Chainer user writes by hand: forward, loss, ``cleargrads``,
``backward``, ``update``. Later lessons hand the same steps to Chainer's ``Trainer`` (see
:mod:`course.training.loop`); this is the loop to read first.
"""
from __future__ import annotations

from typing import Callable

import chainer
import numpy

from course.device import get_device


def train_row_by_row(
    model: chainer.Link,
    x: numpy.ndarray,
    t: numpy.ndarray,
    loss_fn: Callable[[chainer.Variable, numpy.ndarray], chainer.Variable],
    optimizer: chainer.Optimizer,
    *,
    record_every: int = 100,
    device: chainer.backend.Device | str | None = None,
) -> list[float]:
    """Train ``model`` on the rows of ``(x, t)`` in order, one row per update; return the loss curve.

    ``loss_fn(y, t)`` is e.g. ``F.softmax_cross_entropy`` (``t`` int32 class indices) or
    ``F.mean_squared_error`` (``t`` float32, same shape as ``y``). ``optimizer`` is set up on
    ``model`` here if it is not set up yet. The model is moved to ``device`` (default
    :func:`course.get_device`) and left there.

    The returned list holds the mean loss over each block of ``record_every`` consecutive rows
    (a last, shorter block included), so 4,000 rows with ``record_every=100`` give 40 numbers.
    """
    if len(x) != len(t):
        raise ValueError(f"x has {len(x)} rows but t has {len(t)}; they must match one to one.")
    if record_every < 1:
        raise ValueError(f"record_every must be at least 1, not {record_every}")
    device = get_device(device)
    model.to_device(device)
    if optimizer.target is None:
        optimizer.setup(model)
    elif optimizer.target is not model:
        raise ValueError("the optimizer is set up on another model; make a new optimizer for this one.")
    x, t = device.send(x), device.send(t)

    curve: list[float] = []
    block: list[float] = []
    for i in range(len(x)):
        y = model(x[i : i + 1])  # forward: a batch of one row
        loss = loss_fn(y, t[i : i + 1])  # how wrong this row's output is
        model.cleargrads()  # forget the previous row's gradients
        loss.backward()  # gradients of the loss with respect to every parameter
        optimizer.update()  # move each parameter a little against its gradient
        block.append(float(loss.array))
        if len(block) == record_every:
            curve.append(sum(block) / len(block))
            block = []
    if block:
        curve.append(sum(block) / len(block))
    return curve


def plot_loss_curves(curves: dict[str, list[float]], *, rows_per_point: int = 100, title: str = "",
                     ax=None, log_scale: bool = False):
    """Loss curves from :func:`train_row_by_row`, one line per name, against the number of rows seen.

    ``rows_per_point`` is the ``record_every`` the curves were recorded with.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    for name, curve in curves.items():
        rows = [rows_per_point * (i + 1) for i in range(len(curve))]
        ax.plot(rows, curve, label=name)
    ax.set(xlabel="rows seen (updates)", ylabel=f"loss (mean of {rows_per_point} rows)", title=title)
    if log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax
