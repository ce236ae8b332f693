"""The seed's Vectorizer on the course's loop: learn to map a generator's images back to their z.

:func:`train_vectorizer` runs :class:`course.training.updater.VectorizerUpdater` under
:func:`course.training.fit`, so it logs to ``out/log.json``, snapshots and resumes, shows a progress
bar and, in a notebook, a live plot, like every other training of the course. There is no data set:
every step draws new pairs ``(z, G(z))``, so V never sees the same image twice and cannot memorise.
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import chainer
import numpy

from course.data.generative import random_margins
from course.device import get_device
from course.seed import set_seed
from course.training.loop import History, fit
from course.training.updater import VectorizerUpdater

VECTORIZER_PANELS = {"z error": (("main/loss", "mean squared error of V(G(z)) against z"),)}
"""The live plot of a Vectorizer: its loss, in z's units."""


def train_vectorizer(
    vectorizer: chainer.Link,
    generator: chainer.Link,
    *,
    epochs: int,
    pairs_per_epoch: int,
    make_z: Callable,
    batch_size: int = 64,
    lr: float = 1e-3,
    margin: float = 0.0,
    out: str | os.PathLike,
    seed: int = 0,
    device=None,
    snapshot_every: int = 500,
    progress: bool = True,
    live_plot: bool | None = None,
    title: str = "",
) -> History:
    """Train ``vectorizer`` so that ``vectorizer(generator(z))`` gives back ``z``, on fresh pairs.

    Each epoch is ``pairs_per_epoch`` pairs, ``batch_size`` a step; ``make_z(n, xp)`` draws z as
    the generator was trained on (e.g. :func:`course.training.uniform_z`). With ``margin`` (pixels),
    every image is reframed by :func:`course.data.generative.random_margins` first, the seed's
    augmentation, so V also copes with real images that are not framed exactly as G draws them.
    Adam with ``lr`` (the seed's 1e-3). The generator stays as it is. Writes ``out/vectorizer.npz``
    (with its ``.json``); running again with the same ``out`` resumes. Same seed, same generator, same
    device: same weights.
    """
    device = get_device(device)
    set_seed(seed)
    for link in (generator, vectorizer):
        link.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(vectorizer)
    augment = functools.partial(random_margins, max_margin=margin) if margin > 0 else None
    updater = functools.partial(VectorizerUpdater, generator=generator, make_z=make_z, augment=augment)
    pace = numpy.arange(pairs_per_epoch, dtype=numpy.int32)  # one entry per pair: only its length matters
    return fit(optimizer, pace, {"vectorizer": vectorizer}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, updater_class=updater, snapshot_every=snapshot_every, progress=progress,
               progress_keys=("main/loss",), live_plot=live_plot, panels=VECTORIZER_PANELS, title=title)
