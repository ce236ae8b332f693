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
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_value_histograms(values, *, bins: int = 60, title: str = "", xlabel: str = "value"):
    """One histogram per entry of ``values`` (name -> array of any shape), overlaid, each with its mean marked."""
    figure, ax = plt.subplots(figsize=(6, 3))
    for name, array in values.items():
        array = numpy.asarray(array, dtype=numpy.float64).ravel()
        _, _, patches = ax.hist(array, bins=bins, alpha=0.5, label=f"{name} (mean {array.mean():.2f})")
        ax.axvline(array.mean(), color=patches[0].get_facecolor(), alpha=1, linestyle="--")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set(xlabel=xlabel, ylabel="count", title=title)
    ax.legend(fontsize=8)
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


def plot_colour_clusters(image: numpy.ndarray, reduction, *, points: int = 1500, seed: int = 0):
    """k-means colour reduction seen from inside: a sample of ``image``'s pixels as points in RGB space.

    Left, each point is drawn in its own colour; right, in the colour of its cluster's centre, with the
    ``k`` centres of ``reduction`` (a :class:`course.imaging.ColourReduction`) as large black-edged dots.
    """
    pixels = numpy.asarray(image)[..., :3].reshape(-1, 3)
    labels = numpy.asarray(reduction.labels).ravel()
    chosen = numpy.random.RandomState(seed).choice(len(pixels), min(points, len(pixels)), replace=False)
    palette = numpy.clip(numpy.asarray(reduction.centres), 0, 255) / 255
    figure = plt.figure(figsize=(9, 4.2))
    panels = ((pixels[chosen] / 255, "pixels in RGB space"),
              (palette[labels[chosen]], f"painted by their centre, k = {reduction.k}"))
    for column, (colours, title) in enumerate(panels):
        ax = figure.add_subplot(1, 2, column + 1, projection="3d")
        ax.scatter(*pixels[chosen].T, c=colours, s=4, depthshade=False)
        if column:
            ax.scatter(*(palette * 255).T, c=palette, s=160, edgecolors="black", linewidths=1.5, depthshade=False)
        ax.set(xlabel="R", ylabel="G", zlabel="B", xlim=(0, 255), ylim=(0, 255), zlim=(0, 255), title=title)
    figure.tight_layout()
    return figure


def plot_intervals(intervals, *, reference: float | None = None, title: str = "", xlabel: str = ""):
    """One row per ``{name: interval}`` (:class:`course.metrics.Interval`): the figure as a dot, its interval as a bar.

    ``reference``, when given, is drawn as a dashed line (e.g. 0 for differences): an interval that
    does not cross it shows the figure is on that side of it.
    """
    names = list(intervals)
    figure, ax = plt.subplots(figsize=(6.4, 0.5 * len(names) + 1.3))
    for row, name in enumerate(names):
        interval = intervals[name]
        ax.errorbar(interval.value, row, xerr=[[interval.value - interval.low], [interval.high - interval.value]],
                    fmt="o", color="tab:blue", capsize=4)
        ax.annotate(str(interval), (interval.high, row), textcoords="offset points", xytext=(6, -3), fontsize=8)
    if reference is not None:
        ax.axvline(reference, color="gray", linestyle="--")
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    low = min(min(i.low for i in intervals.values()), reference if reference is not None else numpy.inf)
    high = max(max(i.high for i in intervals.values()), reference if reference is not None else -numpy.inf)
    ax.set_xlim(low - 0.1 * (high - low), high + 0.45 * (high - low))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:.0%}"))
    ax.set(xlabel=xlabel, title=title)
    ax.grid(alpha=0.3, axis="x")
    figure.tight_layout()
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


def plot_dcg(ranked_ratings, k: int):
    """NDCG@k, drawn: each place's gain ``2^rating - 1`` and what is left of it after the discount ``log2(place + 2)``.

    ``ranked_ratings`` are the ratings in a model's order, best-scored first. Left: that order; right:
    the ideal order (ratings sorted, highest first). Only the first ``k`` places count; their
    discounted gains add up to DCG@k, and NDCG@k is the left sum over the right one.
    """
    ranked = numpy.asarray(ranked_ratings, dtype=numpy.float64)
    ideal = numpy.sort(ranked)[::-1]
    places = numpy.arange(len(ranked))
    discount = numpy.log2(places + 2)
    sums = [((2 ** r[:k] - 1) / discount[:k]).sum() for r in (ranked, ideal)]
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, ratings, name, dcg in zip(axes, (ranked, ideal), ("the model's order", "the ideal order"), sums):
        gain = 2 ** ratings - 1
        counted = places < k
        ax.bar(places, gain, color="lightgray", label="gain $2^{rating} - 1$")
        ax.bar(places[counted], (gain / discount)[counted], color="tab:blue", label="gain / $\\log_2(place + 2)$")
        ax.axvline(k - 0.5, color="black", linestyle="--", linewidth=1)
        ax.set_xticks(places, [f"{r:g}" for r in ratings])
        ax.set(xlabel="ratings, place by place", title=f"{name}: DCG@{k} = {dcg:.1f}")
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel("gain")
    axes[0].legend(fontsize=8)
    figure.suptitle(f"NDCG@{k} = {sums[0]:.1f} / {sums[1]:.1f} = {sums[0] / sums[1]:.3f}   "
                    f"(places right of the dashed line do not count)")
    figure.tight_layout()
    return figure


def plot_ranking_comparison(comparison, names: Sequence[str] | None = None, title: str = ""):
    """Each method's held-out figures over seeds (a :class:`course.training.ranking.RankingComparison`).

    One panel per figure (default: all of them): a dot per seed, and the mean with a bar of one
    standard deviation either side, so a difference can be read against the spread between seeds.
    """
    names = list(names or next(iter(comparison.figures.values())))
    methods = comparison.methods
    figure, axes = plt.subplots(1, len(names), figsize=(2.4 * len(names) + 1, 3.2), squeeze=False)
    offsets = numpy.linspace(-0.12, 0.12, len(comparison.seeds))
    for ax, name in zip(axes.flat, names):
        for x, method in enumerate(methods):
            values = comparison.figures[method][name]
            mean, spread = comparison.spread(method, name)
            line = ax.errorbar(x + 0.3, mean, yerr=spread, fmt="s", capsize=4, markersize=6)
            ax.plot(x + offsets, values, "o", color=line[0].get_color(), alpha=0.6, markersize=5)
        ax.set_xticks(range(len(methods)), methods)
        ax.set_xlim(-0.5, len(methods) - 0.3)
        ax.set(title=name)
        ax.grid(alpha=0.3, axis="y")
    figure.suptitle(title or f"held-out figures over {len(comparison.seeds)} seeds: dots, and mean ± standard "
                             f"deviation")
    figure.tight_layout()
    return figure


# --- detection (lesson 4) -------------------------------------------------------------------------

def show_detections(images: Sequence[numpy.ndarray], truths: Sequence[numpy.ndarray] | None = None,
                    detections: dict | None = None, *, nonfaces: Sequence[numpy.ndarray] | None = None,
                    columns: int = 4, size: float = 3.2):
    """Grey images with their true boxes (green) and each detector's boxes (one colour per detector).

    ``truths`` holds one (K, 4) array of (x0, y0, x1, y1) per image; ``detections`` maps a detector's
    name to one :class:`course.detection.Detections` per image; ``nonfaces``, when given, one (M, 4)
    array per image of the pasted non-faces (dotted yellow).
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
        for x0, y0, x1, y1 in ([] if nonfaces is None else nonfaces[i]):
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="yellow", lw=1.5, ls=":"))
        for x0, y0, x1, y1 in ([] if truths is None else truths[i]):
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=2.5))
        for colour, (name, found) in zip(colours, detections.items()):
            for x0, y0, x1, y1 in found[i].boxes:
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=colour, lw=1.2, ls="--"))
    handles = [plt.Line2D([], [], color="lime", lw=2.5, label="true face")] if truths is not None else []
    if nonfaces is not None:
        handles.append(plt.Line2D([], [], color="yellow", lw=1.5, ls=":", label="pasted non-face"))
    handles += [plt.Line2D([], [], color=c, ls="--", label=name) for c, name in zip(colours, detections)]
    if handles:
        figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    figure.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    return figure


def show_iou(pairs: Sequence[tuple[Sequence[float], Sequence[float]]], *, threshold: float = 0.5, size: float = 2.8):
    """Pairs of boxes (x0, y0, x1, y1), one panel each: their union shaded grey, their intersection green.

    Each title gives the IoU (intersection area over union area) and whether it reaches ``threshold``.
    """
    from matplotlib.patches import Patch, Rectangle

    from course.metrics import box_iou

    figure, axes = plt.subplots(1, len(pairs), figsize=(size * len(pairs), size), squeeze=False)
    for ax, (a, b) in zip(axes[0], pairs):
        for (x0, y0, x1, y1), colour in ((a, "tab:blue"), (b, "tab:orange")):
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.85", edgecolor=colour, lw=2))
        width = min(a[2], b[2]) - max(a[0], b[0])
        height = min(a[3], b[3]) - max(a[1], b[1])
        if width > 0 and height > 0:
            ax.add_patch(Rectangle((max(a[0], b[0]), max(a[1], b[1])), width, height, facecolor="tab:green", alpha=0.6))
        iou = box_iou(a, b)
        corners = numpy.array([a, b], float)
        margin = 0.1 * (corners[:, 2:] - corners[:, :2]).max()
        ax.set(xlim=(corners[:, 0].min() - margin, corners[:, 2].max() + margin),
               ylim=(corners[:, 3].max() + margin, corners[:, 1].min() - margin), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"IoU {iou:.2f}: {'a match' if iou >= threshold else 'no match'}", fontsize=9)
    handles = [Patch(facecolor="0.85", edgecolor="tab:blue", lw=2, label="true box"),
               Patch(facecolor="0.85", edgecolor="tab:orange", lw=2, label="window"),
               Patch(facecolor="tab:green", alpha=0.6, label="intersection (union: all that is shaded)")]
    figure.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    return figure


def plot_batch_norm(effect, title: str = ""):
    """Per channel of a convolution, its outputs' mean and standard deviation (bars) before and after batch
    normalisation in train and test mode: ``effect`` is a :class:`course.tasks.faces.BatchNormEffect`."""
    figure, ax = plt.subplots(figsize=(6.4, 3.4))
    channels = numpy.arange(len(effect.before))
    for offset, (name, stats, colour) in zip((-0.25, 0, 0.25), (
            ("before bn1", effect.before, "0.5"), ("after bn1, train mode (the batch's statistics)", effect.train_mode,
                                                   "tab:blue"),
            ("after bn1, test mode (running averages)", effect.test_mode, "tab:orange"))):
        ax.errorbar(channels + offset, stats[:, 0], yerr=stats[:, 1], fmt="o", color=colour, capsize=3, label=name)
    ax.plot(channels, effect.beta, "k_", markersize=14, label="β (learned shift)")
    ax.set(xlabel="channel of conv1", ylabel="mean ± standard deviation", xticks=channels,
           title=title or "what batch normalisation does to each channel")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return figure


def plot_precision_recall(curve: dict, points: dict | None = None, *, recall: str | Sequence[str] = "recall",
                          intervals: bool = True, title: str = ""):
    """A detector's precision-recall curve and other detectors as single points, one panel per kind of recall.

    ``curve`` maps a threshold to a :class:`course.detection.DetectionScore`; ``points`` maps a
    detector's name to its score, drawn with error bars for the 95% bootstrap intervals of its
    precision and recall over scenes (``intervals``). ``recall`` names the attribute on the x axis,
    e.g. ``"recall_tilted"``, or several, e.g. ``("recall_upright", "recall_tilted")``.
    """
    kinds = [recall] if isinstance(recall, str) else list(recall)
    figure, axes = plt.subplots(1, len(kinds), figsize=(4.6 * len(kinds), 3.8), squeeze=False)
    thresholds = list(curve)
    for ax, kind in zip(axes[0], kinds):
        xs = [getattr(curve[t], kind) for t in thresholds]
        ys = [curve[t].precision for t in thresholds]
        ax.plot(xs, ys, marker=".", color="tab:red", alpha=0.6, label="CNN (one point per threshold)")
        for t, x, y in zip(thresholds, xs, ys):
            ax.annotate(f"{t:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=6, color="tab:red")
        for marker, (name, score) in zip("*sD^v", (points or {}).items()):
            x, y = getattr(score, kind), score.precision
            if intervals:
                px, py = score.interval(kind), score.interval("precision")
                ax.errorbar(x, y, xerr=[[x - px.low], [px.high - x]], yerr=[[y - py.low], [py.high - y]], fmt=marker,
                            markersize=9, capsize=3, label=name)
            else:
                ax.plot(x, y, marker=marker, ls="", markersize=9, label=name)
        ax.set(xlabel=kind.replace("_", " "), ylabel="precision (all detections)", xlim=(-0.03, 1.03),
               ylim=(-0.03, 1.03), title=title or "precision and recall")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure


# --- generative models (lesson 6) -----------------------------------------------------------------

def plot_generator_losses():
    """The generator's losses against D(G(z)) (left) and how hard each pushes G (right): why G's loss is changed.

    Computed with :mod:`course.losses` on logits ``y`` (``D = sigmoid(y)``); the push is the gradient
    of the loss with respect to ``y``, the signal that reaches the generator through D.
    """
    import chainer

    from course.losses import log_ratio_generator_loss, minimax_generator_loss, non_saturating_generator_loss

    d = numpy.linspace(0.002, 0.998, 300)
    logits = numpy.log(d / (1 - d)).astype(numpy.float32)
    figure, (loss_ax, push_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, loss in (("minimax: log(1 - D)", minimax_generator_loss),
                       ("non-saturating: -log D", non_saturating_generator_loss),
                       ("log-ratio: -log(D / (1 - D))", log_ratio_generator_loss)):
        y = chainer.Variable(logits.copy())
        value = loss(y)
        value.backward()
        per_point = [float(loss(logits[i:i + 1]).array) for i in range(0, len(logits), 10)]
        line, = loss_ax.plot(d[::10], per_point, label=name)
        push_ax.plot(d, numpy.abs(y.grad) * len(d), color=line.get_color(), label=name)
    loss_ax.set(xlabel="D(G(z)): how real D finds a sample", ylabel="G's loss", title="the generator's loss")
    push_ax.set(xlabel="D(G(z))", ylabel="|d loss / d logit|", title="how hard it pushes G", ylim=(0, 1.1))
    push_ax.axvspan(0, 0.1, color="grey", alpha=0.15)
    push_ax.annotate("early training:\nD rejects the samples", (0.11, 0.5), fontsize=8)
    for ax in (loss_ax, push_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def show_sample_grids(folder, count: int = 4, *, size: float = 3.0):
    """``count`` of the sample grids a GAN wrote while training (``folder/iter_N.png``), evenly spaced, the last too."""
    from pathlib import Path

    from course.images import read_image

    grids = sorted(Path(folder).glob("iter_*.png"), key=lambda path: int(path.stem.split("_")[1]))
    if not grids:
        raise ValueError(f"{folder} holds no sample grids (iter_N.png): train the GAN first")
    picked = [grids[round(i)] for i in numpy.linspace(0, len(grids) - 1, min(count, len(grids)))]
    return show_pictures([read_image(path) for path in picked],
                         [f"iteration {path.stem.split('_')[1]}" for path in picked], size=size)


def plot_class_shares(coverages, *, min_share: float | None = None, title: str = ""):
    """Each class's share of several sets of samples, ``{name: Coverage}``, as grouped bars; dashed: ``min_share``."""
    figure, ax = plt.subplots(figsize=(8, 3))
    n = len(coverages)
    for i, (name, coverage) in enumerate(coverages.items()):
        classes = numpy.arange(len(coverage.shares))
        ax.bar(classes + (i - (n - 1) / 2) * 0.8 / n, coverage.shares, width=0.8 / n, label=name)
    if min_share is not None:
        ax.axhline(min_share, color="black", linestyle="--", linewidth=1, label=f"{min_share:.0%}")
    ax.set(xticks=classes, xlabel="class the judge sees", ylabel="share of the samples", title=title or "which digits")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=n + 1)
    figure.tight_layout()
    return figure


def show_image_rows(rows, *, size: float = 0.9, titles: Sequence[str] | None = None):
    """Rows of images, each row named on its left: ``{name: images (N, C, H, W) in [0, 1]}``.

    For pictures side by side: an image and its regeneration, the steps of a morph, averages.
    ``titles`` (one per column) go above the first row.
    """
    columns = max(len(images) for images in rows.values())
    figure, axes = plt.subplots(len(rows), columns, figsize=(columns * size + 1.2, len(rows) * size * 1.1),
                                squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        images = numpy.asarray(images)
        for c, ax in enumerate(axes[r]):
            ax.set(xticks=[], yticks=[])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                image = images[c, 0] if images.shape[1] == 1 else images[c].transpose(1, 2, 0)
                ax.imshow(numpy.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
            if r == 0 and titles is not None and c < len(titles):
                ax.set_title(titles[c], fontsize=8)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    figure.tight_layout()
    return figure


def plot_morph_probabilities(probabilities: numpy.ndarray, title: str = ""):
    """The judge's P(B) along each morph from A (t = 0) to B (t = 1): one line per pair, solid where it crosses 0.5."""
    probabilities = numpy.asarray(probabilities)
    t = numpy.linspace(0, 1, probabilities.shape[1])
    crossed = (probabilities[:, 0] < 0.5) & (probabilities[:, -1] > 0.5)
    figure, ax = plt.subplots(figsize=(5, 3.2))
    for p, ok in zip(probabilities, crossed):
        ax.plot(t, p, color="tab:blue" if ok else "tab:grey", alpha=0.8 if ok else 0.5,
                linestyle="-" if ok else "--", linewidth=1.2)
    ax.axhline(0.5, color="black", linewidth=0.8)
    ax.set(xlabel="t (0: image A, 1: image B)", ylabel="judge's P(B's digit)", ylim=(-0.03, 1.03),
           title=title or f"{int(crossed.sum())} of {len(probabilities)} morphs cross from A to B")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure
