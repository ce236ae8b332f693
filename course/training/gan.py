"""GANs on the course's loop: :class:`GANUpdater` for the step, :func:`train_gan` for the wiring.

The loop is the same as for a classifier (Chainer's Trainer through :func:`course.training.fit`):
log.json, snapshots and resume, the NaN guard, a progress bar (here with both losses), a live plot
in notebooks. Two things are a GAN's own: the step (:class:`GANUpdater`: D, then G, each with its
optimizer) and the samples a person watches while it trains (:class:`SampleGrid`).
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import chainer
import numpy

from course.device import get_device
from course.losses import discriminator_loss, non_saturating_generator_loss
from course.seed import set_seed
from course.training.extensions import SampleGrid
from course.training.loop import History, fit
from course.training.updater import GANUpdater

GAN_PANELS = {
    "loss": (("dis/loss", "discriminator"), ("gen/loss", "generator")),
}
"""The live plot of a GAN: both losses in one panel."""


def uniform_z(size: int):
    """``make_z`` for z uniform in [-1, 1]^size (the DCGAN paper's), drawn from the device's global generator."""

    def make_z(n: int, xp=numpy):
        return xp.random.uniform(-1, 1, (n, size)).astype(numpy.float32)

    return make_z


def train_gan(
    generator: chainer.Link,
    discriminator: chainer.Link,
    images: numpy.ndarray,
    *,
    epochs: int,
    make_z: Callable,
    batch_size: int = 64,
    lr: float = 2e-4,
    beta1: float = 0.5,
    optimizers: dict[str, chainer.Optimizer] | None = None,
    generator_loss: Callable = non_saturating_generator_loss,
    discriminator_loss: Callable = discriminator_loss,
    n_critic: int = 1,
    clip: float | None = None,
    updater_class: Callable[..., GANUpdater] = GANUpdater,
    sample_every: int = 100,
    samples: int = 50,
    to_image: Callable = lambda y: (y + 1) / 2,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    device=None,
    snapshot_every: int = 500,
    progress: bool = True,
    live_plot: bool | None = None,
    title: str = "",
) -> History:
    """Train ``generator`` against ``discriminator`` on ``images`` (an array, or ``(inputs, targets)``).

    By default both networks get Adam with ``lr`` and ``beta1`` (the DCGAN paper: 2e-4 and 0.5);
    ``optimizers`` (``{"gen": ..., "dis": ...}``, not set up yet) replaces them, e.g. RMSprop for
    a WGAN. The losses, ``n_critic`` and ``clip`` are those of :class:`GANUpdater`; a conditional GAN
    passes its own ``updater_class`` (a subclass). Every ``sample_every`` iterations the generator's
    images for ``samples`` fixed inputs go to ``out/samples/iter_N.png`` (and live in a notebook);
    ``to_image`` maps its output to images (N, C, H, W) in [0, 1] (default: from tanh's [-1, 1]).
    Writes ``out/generator.npz`` and ``out/discriminator.npz`` (with their ``.json``) at the end;
    running again with the same ``out`` resumes from the newest snapshot. Same ``seed``, same data,
    same device: same weights, across a kill and resume too.
    """
    device = get_device(device)
    set_seed(seed)
    optimizers = optimizers or {name: chainer.optimizers.Adam(alpha=lr, beta1=beta1) for name in ("gen", "dis")}
    for name, link in (("gen", generator), ("dis", discriminator)):
        link.to_device(device)
        optimizers[name].setup(link)
    fixed_z = make_z(samples, numpy)
    set_seed(seed)  # the same shuffle whatever the sample grid drew
    grid = SampleGrid(generator, fixed_z, every=sample_every, to_image=to_image, live=live_plot)
    updater = functools.partial(updater_class, make_z=make_z, generator_loss=generator_loss,
                                discriminator_loss=discriminator_loss, n_critic=n_critic, clip=clip)
    return fit(optimizers, images, {"generator": generator, "discriminator": discriminator}, epochs=epochs,
               batch_size=batch_size, out=out, seed=seed, device=device, updater_class=updater,
               snapshot_every=snapshot_every, progress=progress, progress_keys=("dis/loss", "gen/loss"),
               live_plot=live_plot, panels=GAN_PANELS, title=title, extra_extensions=[grid])
