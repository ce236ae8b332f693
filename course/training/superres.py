"""Training a super-resolution generator: pixel MSE first, then content + adversarial loss (SRGAN's schedule).

:func:`train_superres` is the first stage: the generator alone, pixel MSE against the original
patch, Adam with a cosine-shaped learning rate (:class:`CosineUpdater`). :func:`train_srgan` is the
second: the same generator against a discriminator on the course's GAN loop
(:class:`course.training.GANUpdater`, through :func:`course.training.train_gan`), where
:class:`SRGANUpdater` feeds D the original patches as the real images, G the low-resolution patches
as its inputs, and adds the content (and optionally pixel) loss to G's adversarial loss. Lesson 8's
colourisation reuses the same overrides.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from typing import Callable

import chainer
import numpy

from course.device import get_device
from course.losses import content_loss, non_saturating_generator_loss, pixel_mse
from course.seed import set_seed
from course.training.gan import train_gan
from course.training.loop import History, fit
from course.training.updater import GANUpdater, SeededUpdater

SR_PANELS = {"pixel loss (MSE)": (("main/loss", "training"),), "PSNR of the patches (dB)": (("main/psnr", "training"),)}
"""The live plot of the MSE stage."""


def cosine_rate(lr: float, progress: float) -> float:
    """A rate falling from ``lr`` at ``progress`` 0 to 0 at 1 along half a cosine: ``lr (1 + cos(pi p)) / 2``."""
    return lr * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0))) / 2


class CosineUpdater(SeededUpdater):
    """:class:`SeededUpdater` whose learning rate follows :func:`cosine_rate` over ``epochs``.

    The rate is a function of ``epoch_detail`` alone, which snapshots restore, so a resumed run
    steps with the rates of an uninterrupted one.
    """

    def __init__(self, iterator, optimizer, *, lr: float, epochs: float, **kwargs):
        super().__init__(iterator, optimizer, **kwargs)
        self.lr, self.epochs = lr, epochs

    def update_core(self):
        self.get_optimizer("main").alpha = cosine_rate(self.lr, self.epoch_detail / self.epochs)
        super().update_core()


class PixelLoss(chainer.Chain):
    """``model(lr, hr)`` = the pixel MSE of ``generator(lr)`` against ``hr``; reports ``loss`` and ``psnr``.

    ``psnr`` is the batch's PSNR in dB on the values the model sees (Y / 255 or RGB in [0, 1]),
    with no border cropped: a training curve, not the lesson's measurement.
    """

    def __init__(self, generator: chainer.Link):
        super().__init__()
        with self.init_scope():
            self.generator = generator

    def forward(self, lr, hr):
        loss = pixel_mse(self.generator(lr), hr)
        mse = float(loss.array)
        chainer.report({"loss": loss, "psnr": 10 * math.log10(1 / mse) if mse > 0 else float("inf")}, self)
        return loss


def train_superres(generator: chainer.Link, train: tuple[numpy.ndarray, numpy.ndarray], *, epochs: int,
                   batch_size: int = 16, lr: float = 1e-3, out: str | os.PathLike | None = None, seed: int = 0,
                   device=None, snapshot_every: int = 500, progress: bool = True, live_plot: bool | None = None,
                   title: str = "") -> History:
    """Train ``generator`` on ``train`` = (low-resolution, original) patches with pixel MSE and Adam (cosine rate).

    Writes ``out/model.npz`` (the generator) and snapshots; running again with the same ``out``
    resumes. Same ``seed``, data and device: the same weights.
    """
    device = get_device(device)
    set_seed(seed)
    model = PixelLoss(generator)
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=lr)
    optimizer.setup(model)
    updater = functools.partial(CosineUpdater, lr=lr, epochs=epochs)
    return fit(optimizer, train, {"model": generator}, epochs=epochs, batch_size=batch_size, out=out, seed=seed,
               device=device, updater_class=updater, snapshot_every=snapshot_every, progress=progress,
               progress_keys=("main/loss", "main/psnr"), live_plot=live_plot, panels=SR_PANELS, title=title)


@dataclass(frozen=True)
class SRGANWeights:
    """G's loss in the adversarial stage: ``content * content loss + pixel * MSE + adversarial * GAN loss``."""

    content: float
    pixel: float
    adversarial: float


PAPER_WEIGHTS = SRGANWeights(content=1.0, pixel=0.0, adversarial=1e-3)
"""SRGAN's: the VGG content loss plus 1e-3 times the adversarial loss (pixels in [0, 1])."""
SEED_WEIGHTS = SRGANWeights(content=0.0, pixel=1e-4 * 255 ** 2, adversarial=1e-5)
"""The seed's: 1e-4 times the pixel MSE on 0-255 values (so 6.5 times it on [0, 1]) plus 1e-5 times the GAN loss."""


class SRGANUpdater(GANUpdater):
    """:class:`GANUpdater` for a conditional GAN on ``(input, target)`` batches: D sees targets and G's outputs.

    G's inputs are the batch's low-resolution patches, D's real images its originals, and G's loss
    adds ``weights.content * content_loss(features, ...)`` and ``weights.pixel * pixel_mse(...)`` to the
    adversarial loss (which ``generator_loss`` already weighs: see :func:`train_srgan`).
    """

    def __init__(self, iterator, optimizers, *, features: Callable | None, weights: SRGANWeights, **kwargs):
        super().__init__(iterator, optimizers, **kwargs)
        self.features, self.weights = features, weights

    def real_images(self, batch):
        return batch[1]

    def generate(self, batch):
        return self.generator(batch[0])

    def generator_extra_loss(self, batch, fake):
        target = batch[1]
        loss = 0
        if self.weights.content:
            loss = loss + self.weights.content * content_loss(self.features, fake, target)
        if self.weights.pixel:
            loss = loss + self.weights.pixel * pixel_mse(fake, target)
        return loss if isinstance(loss, chainer.Variable) else None


def weighted(loss: Callable, weight: float) -> Callable:
    """``loss`` times ``weight``: a generator loss for :class:`GANUpdater` with the adversarial term's weight."""

    def weighted_loss(logits):
        return weight * loss(logits)

    return weighted_loss


def train_srgan(generator: chainer.Link, discriminator: chainer.Link, train: tuple[numpy.ndarray, numpy.ndarray], *,
                epochs: int, features: Callable | None, weights: SRGANWeights = PAPER_WEIGHTS,
                batch_size: int = 16, lr: float = 1e-4, samples: int = 8, out: str | os.PathLike | None = None,
                seed: int = 0, device=None, snapshot_every: int = 500, progress: bool = True,
                live_plot: bool | None = None, title: str = "") -> History:
    """The adversarial stage: ``generator`` (MSE-pretrained) against ``discriminator`` on ``train`` = (lr, hr) patches.

    Adam with ``lr`` and beta1 0.9 for both (the paper's), G's loss weighted by ``weights``, D's the
    original GAN loss. The sample grid shows G's outputs for the first ``samples`` low-resolution
    patches. Writes ``out/generator.npz`` and ``out/discriminator.npz``; resumes like every run.
    """
    fixed = numpy.asarray(train[0][:samples])

    def fixed_inputs(n, xp=numpy):  # what the sample grid feeds G: the same patches every time
        return xp.asarray(fixed[:n])

    updater = functools.partial(SRGANUpdater, features=features, weights=weights)
    return train_gan(generator, discriminator, train, epochs=epochs, make_z=fixed_inputs, batch_size=batch_size,
                     lr=lr, beta1=0.9, generator_loss=weighted(non_saturating_generator_loss, weights.adversarial),
                     updater_class=updater, samples=len(fixed), sample_every=max(1, snapshot_every // 5),
                     to_image=lambda y: y[:, :3], out=out, seed=seed, device=device, snapshot_every=snapshot_every,
                     progress=progress, live_plot=live_plot, title=title)
