"""Pictures a learner would rather look at than read: curves, image grids, confusion matrices, boundaries.

One run's curves are :meth:`course.History.plot` (:func:`course.training.plot_history`); the functions
here compare runs and show images, predictions, detections and rankings.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy


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


def _draw_confusion_matrix(ax, cm: numpy.ndarray, class_names: Sequence[str] | None, title: str,
                           top: float) -> None:
    """One confusion matrix on ``ax``: a heat map from 0 to ``top``, the counts written in the cells."""
    n = len(cm)
    names = class_names or [str(i) for i in range(n)]
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=top)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > top / 2 else "black")
    ax.set(xticks=range(n), yticks=range(n), xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title=title)


def plot_confusion_matrix(cm: numpy.ndarray, class_names: Sequence[str] | None = None, title: str = ""):
    """A confusion matrix as a heat map with the counts written in the cells."""
    n = len(cm)
    figure, ax = plt.subplots(figsize=(0.45 * n + 2, 0.45 * n + 1.5))
    _draw_confusion_matrix(ax, cm, class_names, title or "confusion matrix", numpy.max(cm))
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


def show_pictures(images: Sequence[numpy.ndarray], titles: Sequence[str] | None = None, *, size: float = 3.0):
    """Colour pictures of any sizes in one row: (H, W), (H, W, 3) or (H, W, 4), each with an optional title.

    RGBA pictures are drawn over a grey checkerboard, so transparent parts show as transparent.
    """
    figure, axes = plt.subplots(1, len(images), figsize=(size * len(images), size), squeeze=False)
    for i, (ax, image) in enumerate(zip(axes.flat, images)):
        image = numpy.asarray(image)
        if image.ndim == 3 and image.shape[2] == 4:
            rows, columns = numpy.indices(image.shape[:2]) // max(4, image.shape[1] // 24)
            ax.imshow((rows + columns) % 2, cmap="gray", vmin=-3, vmax=2)
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    figure.tight_layout()
    return figure


def plot_k_sweep(sweep, title: str = ""):
    """Cost and quality of k-means colour reduction against k (a :class:`course.imaging.KSweep`).

    Left: wall time per image, one line per image and their mean (the cost grows with k). Right: the
    distortion, the mean squared RGB distance from a pixel to its centre: the elbow plot.
    """
    figure, (time_ax, distortion_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for j, name in enumerate(sweep.names):
        time_ax.plot(sweep.ks, sweep.seconds[:, j] * 1000, marker="o", alpha=0.5, label=name)
        distortion_ax.plot(sweep.ks, sweep.distortion[:, j], marker="o", label=name)
    time_ax.plot(sweep.ks, sweep.mean_seconds() * 1000, color="black", linewidth=2, label="mean")
    time_ax.set(xlabel="k (colours)", ylabel="ms per image", title="time to cluster and paint")
    distortion_ax.set(xlabel="k (colours)", ylabel="mean squared RGB distance", title="distortion (elbow plot)")
    for ax in (time_ax, distortion_ax):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sweep.ks, [str(k) for k in sweep.ks])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_confusion_matrices(matrices, class_names: Sequence[str] | None = None, title: str = ""):
    """Several confusion matrices side by side, ``{name: cm}``, on one colour scale, counts in the cells."""
    figure, axes = plt.subplots(1, len(matrices), figsize=(4 * len(matrices), 4.2), squeeze=False,
                                layout="constrained")
    top = max(numpy.max(cm) for cm in matrices.values())
    for ax, (name, cm) in zip(axes.flat, matrices.items()):
        _draw_confusion_matrix(ax, cm, class_names, name, top)
    if title:
        figure.suptitle(title)
    return figure


def plot_accuracies(accuracies, *, chance: float | None = None, title: str = ""):
    """One bar per ``{name: accuracy}``, the percentage written on it, and a dashed line at ``chance``."""
    figure, ax = plt.subplots(figsize=(1.1 * len(accuracies) + 2, 3.2))
    bars = ax.bar(list(accuracies), list(accuracies.values()), color="tab:blue")
    ax.bar_label(bars, [f"{value:.1%}" for value in accuracies.values()], fontsize=8)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", label=f"chance ({chance:.0%})")
        ax.legend(fontsize=8, loc="lower right")
    ax.set(ylabel="accuracy", ylim=(0, 1.08), title=title)
    ax.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return figure


# --- ranking (lesson 5) ---------------------------------------------------------------------------

def plot_pair_loss(d_max: float = 6.0):
    """RankNet's loss of one pair against the score difference ``d = s_i - s_j``, for S_ij = 1, 0 and -1."""
    from course.losses import ranknet_loss

    d = numpy.linspace(-d_max, d_max, 241, dtype=numpy.float32)
    figure, ax = plt.subplots(figsize=(5, 3.2))
    for s_ij, label in ((1, "S = 1: i rated higher"), (0, "S = 0: rated equal"), (-1, "S = -1: j rated higher")):
        loss = ranknet_loss(d, numpy.zeros_like(d), numpy.full_like(d, s_ij), reduce="no").array
        ax.plot(d, loss, label=label)
    ax.set(xlabel="$s_i - s_j$", ylabel="loss", title="RankNet's loss of one pair", ylim=(0, d_max + 0.5))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_ranking_histories(histories, k: int = 10, title: str = ""):
    """Held-out NDCG@k (left) and fraction of pairs in the right order (right) per epoch, one line per run.

    ``histories`` maps a name to a :class:`course.History` (or its ``.log``). Training pair accuracy
    is drawn dashed in the same colour.
    """
    figure, (ndcg_ax, pair_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, history in histories.items():
        log = getattr(history, "log", history)
        epochs = [entry["epoch"] for entry in log]
        line, = ndcg_ax.plot(epochs, [entry.get(f"validation/main/ndcg@{k}") for entry in log], marker="o",
                             label=name)
        pair_ax.plot(epochs, [entry.get("validation/main/accuracy") for entry in log], marker="o",
                     color=line.get_color(), label=f"{name} held out")
        pair_ax.plot(epochs, [entry.get("main/accuracy") for entry in log], linestyle="--",
                     color=line.get_color(), label=f"{name} train")
    ndcg_ax.set(xlabel="epoch", ylabel=f"NDCG@{k}", title=f"held-out NDCG@{k}")
    pair_ax.set(xlabel="epoch", ylabel="fraction", title="pairs in the right order")
    for ax in (ndcg_ax, pair_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_top_and_bottom(images: numpy.ndarray, scores: numpy.ndarray, ratings: numpy.ndarray | None = None, *,
                        k: int = 10, size: float = 1.2):
    """The ``k`` highest-scored images (top row, best first) and the ``k`` lowest (bottom row, worst last).

    Each is titled with its place in the ranking and, if given, its rating in brackets.
    """
    scores = numpy.asarray(scores)
    if len(scores) != len(images) or (ratings is not None and len(ratings) != len(images)):
        raise ValueError(f"{len(images)} images, {len(scores)} scores"
                         f"{'' if ratings is None else f', {len(ratings)} ratings'}: give one of each per image")
    k = min(k, len(scores) // 2)
    order = numpy.argsort(-scores, kind="stable")
    shown = numpy.concatenate([order[:k], order[len(order) - k:]])
    places = list(range(1, k + 1)) + list(range(len(order) - k + 1, len(order) + 1))
    titles = [f"#{place}" + ("" if ratings is None else f" ({ratings[i]:g})") for place, i in zip(places, shown)]
    return show_images(images[shown], titles, columns=k, size=size)


def plot_scores_by_rating(scores: numpy.ndarray, ratings: numpy.ndarray, title: str = ""):
    """A box of the model's scores for each rating: a good ranker's boxes climb and barely overlap."""
    scores, ratings = numpy.asarray(scores), numpy.asarray(ratings)
    levels = numpy.unique(ratings)
    figure, ax = plt.subplots(figsize=(0.5 * len(levels) + 3, 3.2))
    ax.boxplot([scores[ratings == level] for level in levels], showfliers=False)
    ax.set_xticks(range(1, len(levels) + 1), [f"{level:g}" for level in levels])
    ax.set(xlabel="rating", ylabel="score", title=title or "scores by rating")
    ax.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return figure


# --- detection (lesson 4) -------------------------------------------------------------------------

def show_detections(images: Sequence[numpy.ndarray], truths: Sequence[numpy.ndarray] | None = None,
                    detections: dict | None = None, *, columns: int = 4, size: float = 3.2):
    """Grey images with their true boxes (green) and each detector's boxes (one colour per detector).

    ``truths`` holds one (K, 4) array of (x0, y0, x1, y1) per image; ``detections`` maps a detector's
    name to one :class:`course.detection.Detections` per image.
    """
    from matplotlib.patches import Rectangle

    detections = detections or {}
    colours = ["tab:red", "tab:cyan", "tab:orange", "tab:purple"]
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 0.8), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
        for x0, y0, x1, y1 in ([] if truths is None else truths[i]):
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=2.5))
        for colour, (name, found) in zip(colours, detections.items()):
            for x0, y0, x1, y1 in found[i].boxes:
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=colour, lw=1.2, ls="--"))
    handles = [plt.Line2D([], [], color="lime", lw=2.5, label="true face")] if truths is not None else []
    handles += [plt.Line2D([], [], color=c, ls="--", label=name) for c, name in zip(colours, detections)]
    if handles:
        figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    figure.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    return figure


def plot_precision_recall(curve: dict, points: dict | None = None, *, recall: str = "recall", title: str = ""):
    """A detector's precision-recall curve and other detectors as single points.

    ``curve`` maps a threshold to a :class:`course.detection.DetectionScore`; ``points`` maps a
    detector's name to its score. ``recall`` picks the attribute drawn on the x axis, e.g.
    ``"recall_tilted"``.
    """
    figure, ax = plt.subplots(figsize=(4.6, 3.6))
    thresholds = list(curve)
    xs = [getattr(curve[t], recall) for t in thresholds]
    ys = [curve[t].precision for t in thresholds]
    ax.plot(xs, ys, marker="o", color="tab:red", label="CNN (one point per threshold)")
    for t, x, y in zip(thresholds, xs, ys):
        ax.annotate(f"{t:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    for marker, (name, score) in zip("sD^v", (points or {}).items()):
        ax.plot(getattr(score, recall), score.precision, marker=marker, ls="", markersize=9, label=name)
    ax.set(xlabel=recall.replace("_", " "), ylabel="precision (all detections)", xlim=(-0.03, 1.03), ylim=(-0.03, 1.03),
           title=title or "precision and recall")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure
