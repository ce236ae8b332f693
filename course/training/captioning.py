"""Lesson 9's training: a caption model's masked loss as a link that reports it, through :func:`course.training.fit`.

The batches are tuples ``(features, targets)``: image features (N, F) and token ids (N, T) padded with
:data:`course.data.captions.PAD`, which ``make_converter`` stacks as it does images and labels.
"""
from __future__ import annotations

import os

import chainer
import numpy

from course.device import get_device
from course.models.captioning import Captioner
from course.seed import set_seed
from course.training.loop import History, fit

CAPTION_PANELS = {"loss (nats per token)": (("main/loss", "train"), ("validation/main/loss", "held out"))}
"""The caption model's log: the masked loss on the training batches and, when given, on held-out captions."""


class CaptionLoss(chainer.Chain):
    """Wraps a :class:`Captioner`: called with a batch ``(features, targets)``, returns and reports its masked loss."""

    def __init__(self, captioner: Captioner):
        super().__init__()
        with self.init_scope():
            self.captioner = captioner

    def forward(self, features, targets):
        loss = self.captioner.loss(features, targets)
        chainer.report({"loss": loss}, self)
        return loss


def mean_loss(captioner: Captioner, features: numpy.ndarray, targets: numpy.ndarray, *, batch_size: int = 500,
              device=None) -> float:
    """The masked loss over all of ``targets`` (nats per token, each token weighted alike), in test mode."""
    device = get_device(device)
    captioner.to_device(device)
    total, tokens = 0.0, 0
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        for start in range(0, len(targets), batch_size):
            t = targets[start:start + batch_size]
            n = int((t != -1).sum())
            loss = captioner.loss(device.send(features[start:start + batch_size]), device.send(t))
            total += float(loss.array) * n
            tokens += n
    return total / tokens


def train_captioner(captioner: Captioner, features: numpy.ndarray, targets: numpy.ndarray, *, epochs: int,
                    batch_size: int = 64, lr: float = 1e-3,
                    validation: tuple[numpy.ndarray, numpy.ndarray] | None = None,
                    out: str | os.PathLike | None = None, seed: int = 0, device=None, snapshot_every: int = 500,
                    progress: bool = True, live_plot: bool | None = None, title: str = "") -> History:
    """Train ``captioner`` on ``(features, targets)`` with teacher forcing, Adam(``lr``), through :func:`fit`.

    Writes ``out/model.npz``, the log and snapshots; the same ``out`` again resumes. ``validation``
    ``(features, targets)`` adds the held-out loss to the log.
    """
    device = get_device(device)
    set_seed(seed)
    link = CaptionLoss(captioner)
    link.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(link)
    evaluator = None
    if validation is not None:
        iterator = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(*validation), 500, repeat=False,
                                                    shuffle=False)
        evaluator = chainer.training.extensions.Evaluator(iterator, link, device=device)
    return fit(optimizer, (numpy.asarray(features, numpy.float32), numpy.asarray(targets, numpy.int32)),
               {"model": captioner}, epochs=epochs, batch_size=batch_size, out=out, seed=seed, device=device,
               evaluator=evaluator, snapshot_every=snapshot_every, progress=progress, progress_keys=("main/loss",),
               live_plot=live_plot, panels=CAPTION_PANELS, title=title)
