"""Training a colouriser: a pixel loss alone (:func:`train_colorizer`), or against a discriminator (:func:`train_pix2pix`).

The pixel-loss models (the autoencoder, the U-Net, the hinted U-Net) train on the course's loop
(:func:`course.training.fit`) through :class:`ColourLoss`, which also samples the colour hints of a
hinted model from each batch's originals. The adversarial ones run on the GAN loop
(:func:`course.training.train_gan`) with :class:`ColorizationUpdater`, a conditional GAN in the
shape of lesson 7's ``SRGANUpdater``: G reads the line art, D sees (line art, colour) pairs, and
G's loss adds ``l1_weight`` times the L1 loss to the adversarial one. The same updater runs the
WGAN: the critic's loss, the Wasserstein generator loss, ``n_critic`` critic steps per G step,
clipped weights and RMSprop, as in the WGAN paper (:func:`train_wgan`).
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import chainer
import chainer.functions as F
import numpy

from course.data.colorization import sample_hints
from course.device import get_device
from course.losses import critic_loss, discriminator_loss, non_saturating_generator_loss, pixel_l1, \
    wasserstein_generator_loss
from course.seed import set_seed
from course.training.gan import train_gan
from course.training.loop import History, fit
from course.training.updater import GANUpdater

COLOUR_PANELS = {"pixel loss": (("main/loss", "training"),)}
"""The live plot of a pixel-loss model."""
PIX2PIX_PANELS = {
    "adversarial": (("dis/loss", "discriminator"), ("gen/adversarial_loss", "generator")),
    "weighted L1": (("gen/extra_loss", "generator"),),
}
"""The live plot of GAN + L1 (and of the WGAN: the critic's loss is then its estimate of the distance, negated)."""
PIX2PIX_BETA1 = 0.5
"""Adam's beta1 for G and D in GAN + L1 (pix2pix's and the DCGAN paper's)."""
WGAN_LR = 5e-5
"""RMSprop's learning rate for the WGAN's critic and generator (the WGAN paper's)."""
WGAN_CLIP = 0.01
"""The WGAN paper's clipping limit for the critic's weights."""
WGAN_CRITIC_STEPS = 5
"""The WGAN paper's critic steps per generator step."""


def with_hints(lines, colour, max_hints: int):
    """``lines`` (N, 1, H, W) with hint channels sampled from ``colour`` (:func:`sample_hints`) appended: (N, 5, H, W).

    Sampling draws from NumPy's global generator, which the updaters reseed every iteration.
    """
    xp = chainer.backend.get_array_module(lines)
    hints = sample_hints(chainer.backend.CpuDevice().send(chainer.as_array(colour)), max_hints)
    return F.concat([lines, xp.asarray(hints)])


class ColourLoss(chainer.Chain):
    """``model(lines, colour)``: ``loss(generator(input), colour)``, reported as ``loss``.

    The input is the line art, plus hint channels sampled from ``colour`` when ``max_hints`` is
    not None (a hinted model: from 0 to ``max_hints`` hints an image, see :func:`with_hints`).
    """

    def __init__(self, generator: chainer.Link, loss: Callable = pixel_l1, max_hints: int | None = None):
        super().__init__()
        self.loss, self.max_hints = loss, max_hints
        with self.init_scope():
            self.generator = generator

    def forward(self, lines, colour):
        x = lines if self.max_hints is None else with_hints(lines, colour, self.max_hints)
        loss = self.loss(self.generator(x), colour)
        chainer.report({"loss": loss}, self)
        return loss


def train_colorizer(generator: chainer.Link, train: tuple[numpy.ndarray, numpy.ndarray], *, epochs: int,
                    loss: Callable = pixel_l1, max_hints: int | None = None, batch_size: int = 16,
                    lr: float = 1e-3, out: str | os.PathLike | None = None, seed: int = 0, device=None,
                    snapshot_every: int = 500, progress: bool = True, live_plot: bool | None = None,
                    title: str = "") -> History:
    """Train ``generator`` on ``train`` = (line art, colour) crops with a pixel ``loss`` and Adam(``lr``).

    ``max_hints`` (None: no hints) makes it a hinted model (see :class:`ColourLoss`). Writes
    ``out/model.npz`` (the generator) and snapshots; the same ``out`` again resumes. Same ``seed``,
    data and device: the same weights.
    """
    device = get_device(device)
    set_seed(seed)
    model = ColourLoss(generator, loss, max_hints)
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(model)
    return fit(optimizer, train, {"model": generator}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, snapshot_every=snapshot_every, progress=progress, live_plot=live_plot,
               panels=COLOUR_PANELS, title=title)


class ColorizationUpdater(GANUpdater):
    """:class:`GANUpdater` for (line art, colour) batches: a conditional GAN, pix2pix's way.

    G reads the line art; D's real images are the originals, and D sees every image together with
    its line art (``discriminator(lines, colour)``); G's loss adds ``l1_weight * pixel_l1(G(lines),
    colour)`` to the adversarial loss (``gen/extra_loss``).
    """

    def __init__(self, iterator, optimizers, *, l1_weight: float, **kwargs):
        super().__init__(iterator, optimizers, **kwargs)
        self.l1_weight = l1_weight

    def real_images(self, batch):
        return batch[1]

    def generate(self, batch):
        return self.generator(batch[0])

    def discriminate(self, batch, images):
        return self.discriminator(batch[0], images)

    def generator_extra_loss(self, batch, fake):
        return self.l1_weight * pixel_l1(fake, batch[1]) if self.l1_weight else None


def _fixed_inputs(train, samples: int):
    fixed = numpy.asarray(train[0][:samples])

    def fixed_inputs(n, xp=numpy):  # what the sample grid feeds G: the same line art every time
        return xp.asarray(fixed[:n])

    return fixed_inputs


def train_pix2pix(generator: chainer.Link, discriminator: chainer.Link, train: tuple[numpy.ndarray, numpy.ndarray],
                  *, epochs: int, l1_weight: float, generator_loss: Callable = non_saturating_generator_loss,
                  batch_size: int = 16, lr: float = 2e-4, samples: int = 8, out: str | os.PathLike | None = None,
                  seed: int = 0, device=None, snapshot_every: int = 500, progress: bool = True,
                  live_plot: bool | None = None, title: str = "") -> History:
    """GAN + L1: ``generator`` against the conditional ``discriminator`` on ``train`` = (line art, colour) crops.

    Adam with ``lr`` and beta1 0.5 for both (pix2pix's), D's the original GAN loss, G's
    ``generator_loss`` (default non-saturating; ``course.losses.log_ratio_generator_loss`` is the
    seed's alternative) plus ``l1_weight`` times L1. The sample grid shows G's colours for the first
    ``samples`` line-art crops. Writes ``out/generator.npz`` and ``out/discriminator.npz``; resumes.
    """
    updater = functools.partial(ColorizationUpdater, l1_weight=l1_weight)
    return train_gan(generator, discriminator, train, epochs=epochs, make_z=_fixed_inputs(train, samples),
                     batch_size=batch_size, lr=lr, beta1=PIX2PIX_BETA1, generator_loss=generator_loss,
                     discriminator_loss=discriminator_loss, updater_class=updater, samples=samples,
                     sample_every=max(1, snapshot_every // 5), to_image=lambda y: y, out=out, seed=seed,
                     device=device, snapshot_every=snapshot_every, progress=progress, live_plot=live_plot, title=title)


def train_wgan(generator: chainer.Link, critic: chainer.Link, train: tuple[numpy.ndarray, numpy.ndarray], *,
               epochs: int, l1_weight: float, lr: float = WGAN_LR, n_critic: int = WGAN_CRITIC_STEPS,
               clip: float = WGAN_CLIP, batch_size: int = 16, samples: int = 8, out: str | os.PathLike | None = None,
               seed: int = 0, device=None, snapshot_every: int = 500, progress: bool = True,
               live_plot: bool | None = None, title: str = "") -> History:
    """WGAN + L1, as the seed tried it: ``critic`` scores (line art, colour) pairs, its weights clipped to ``clip``.

    The WGAN paper's recipe: the critic's loss ``E[f(fake)] - E[f(real)]``, ``n_critic`` critic
    steps (each on a new batch) per generator step, the Wasserstein generator loss ``-E[f(fake)]``
    (plus ``l1_weight`` times L1), RMSprop with ``lr`` for both (no momentum: the paper found Adam
    unstable here). Every iteration reads ``n_critic`` batches, so an epoch has ``n_critic`` times
    fewer generator steps than GAN + L1's. Writes ``out/generator.npz`` and ``out/discriminator.npz``.
    """
    optimizers = {name: chainer.optimizers.RMSprop(lr=lr) for name in ("gen", "dis")}
    updater = functools.partial(ColorizationUpdater, l1_weight=l1_weight)
    return train_gan(generator, critic, train, epochs=epochs, make_z=_fixed_inputs(train, samples),
                     batch_size=batch_size, optimizers=optimizers, generator_loss=wasserstein_generator_loss,
                     discriminator_loss=critic_loss, n_critic=n_critic, clip=clip, updater_class=updater,
                     samples=samples, sample_every=max(1, snapshot_every // 5), to_image=lambda y: y, out=out,
                     seed=seed, device=device, snapshot_every=snapshot_every, progress=progress,
                     live_plot=live_plot, title=title)
