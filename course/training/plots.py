"""Curves of a training log, for any model: which keys go in which panel is an argument."""
from __future__ import annotations

from typing import Mapping, Sequence

Panels = Mapping[str, Sequence[tuple[str, str]]]

CLASSIFIER_PANELS: Panels = {
    "loss": (("main/loss", "train"), ("validation/main/loss", "validation")),
    "accuracy": (("main/accuracy", "train"), ("validation/main/accuracy", "validation")),
}
"""A classifier's log: loss and accuracy, each for the training batches and the held-out data."""


def plot_history(log: Sequence[dict], *, panels: Panels = CLASSIFIER_PANELS, title: str = ""):
    """One panel per entry of ``panels`` (title -> ``(key, label)`` pairs), each key's values per epoch.

    ``log`` is Chainer's ``LogReport`` log (``out/log.json``): one dict per epoch. Keys that were never
    logged are left out; a panel with none of its keys shows empty. For a GAN, e.g.
    ``panels={"loss": (("gen/loss", "generator"), ("dis/loss", "discriminator"))}``.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2), squeeze=False)
    epochs = [entry["epoch"] for entry in log]
    for ax, (name, lines) in zip(axes.flat, panels.items()):
        for key, label in lines:
            values = [entry.get(key) for entry in log]
            if any(v is not None for v in values):
                ax.plot(epochs, values, marker="o", label=label)
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
