"""Pictures a learner would rather look at than read: curves, image grids, confusion matrices, boundaries."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy


def plot_history(log: Sequence[dict], title: str = ""):
    """Loss (left) and accuracy (right) per epoch, training and validation, from a Chainer log."""
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = [entry["epoch"] for entry in log]
    for key, label in (("main/loss", "train"), ("validation/main/loss", "validation")):
        values = [entry.get(key) for entry in log]
        if any(v is not None for v in values):
            loss_ax.plot(epochs, values, marker="o", label=label)
    for key, label in (("main/accuracy", "train"), ("validation/main/accuracy", "validation")):
        values = [entry.get(key) for entry in log]
        if any(v is not None for v in values):
            acc_ax.plot(epochs, values, marker="o", label=label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_images(images: numpy.ndarray, titles: Sequence[str] | None = None, *, columns: int = 10,
                size: float = 1.2, cmap: str = "gray"):
    """A grid of images ((N, 1, H, W), (N, H, W) or (N, 3, H, W)), each with an optional title."""
    images = numpy.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(cm: numpy.ndarray, class_names: Sequence[str] | None = None, title: str = ""):
    """A confusion matrix as a heat map with the counts written in the cells."""
    n = len(cm)
    names = class_names or [str(i) for i in range(n)]
    figure, ax = plt.subplots(figsize=(0.45 * n + 2, 0.45 * n + 1.5))
    ax.imshow(cm, cmap="Blues")
    threshold = cm.max() / 2
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    ax.set(xticks=range(n), yticks=range(n), xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    figure.tight_layout()
    return figure


def plot_decision_boundary(predict: Callable[[numpy.ndarray], numpy.ndarray], x: numpy.ndarray,
                           t: numpy.ndarray, *, ax=None, title: str = "", resolution: int = 101):
    """Shade the plane by ``predict`` (points (M, 2) -> a value per point) and mark the points ``x``.

    ``predict`` returns the probability of class 1 (or a regression output): the 0.5 contour is the
    decision boundary.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    grid = numpy.linspace(-0.5, 1.5, resolution, dtype=numpy.float32)
    gx, gy = numpy.meshgrid(grid, grid)
    values = numpy.asarray(predict(numpy.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(gx.shape)
    ax.contourf(gx, gy, values, levels=numpy.linspace(min(0, values.min()), max(1, values.max()), 21),
                cmap="coolwarm", alpha=0.6)
    ax.contour(gx, gy, values, levels=[0.5], colors="black", linewidths=1.5)
    t = numpy.asarray(t).ravel()
    ax.scatter(x[:, 0], x[:, 1], c=t, cmap="coolwarm", edgecolors="black", s=120, vmin=0, vmax=1)
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", ylabel="$x_2$", title=title)
    ax.set_aspect("equal")
    return ax


def show_predictions(images: numpy.ndarray, predicted: numpy.ndarray, labels: numpy.ndarray, *,
                     columns: int = 10, size: float = 1.2):
    """A grid of images titled ``true → predicted``: green where right, red where wrong."""
    from course.metrics import as_classes

    predicted = as_classes(predicted)
    labels = numpy.asarray(labels)
    titles = [f"{t} → {p}" for t, p in zip(labels, predicted)]
    figure = show_images(images, titles, columns=columns, size=size)
    for ax, t, p in zip(figure.axes, labels, predicted):
        ax.title.set_color("tab:green" if t == p else "tab:red")
    return figure


def plot_histories(histories, title: str = ""):
    """Several runs side by side: validation loss (left) and accuracy (right) per epoch.

    ``histories`` maps a name to a :class:`course.History` (or to its ``.log``, a list of dicts).
    Training loss is drawn dashed in the same colour, so over-fitting shows as the two lines parting.
    """
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, history in histories.items():
        log = getattr(history, "log", history)
        epochs = [entry["epoch"] for entry in log]
        line, = loss_ax.plot(epochs, [entry.get("validation/main/loss") for entry in log], marker="o",
                             label=f"{name} validation")
        loss_ax.plot(epochs, [entry.get("main/loss") for entry in log], linestyle="--", color=line.get_color(),
                     label=f"{name} train")
        acc_ax.plot(epochs, [entry.get("validation/main/accuracy") for entry in log], marker="o",
                    color=line.get_color(), label=name)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss (dashed: training)")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="held-out accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
