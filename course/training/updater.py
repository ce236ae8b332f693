"""One training step, repeatable: every iteration's randomness is a function of (seed, iteration)."""
from __future__ import annotations

from typing import Callable

import chainer
import numpy
from chainer.training import StandardUpdater


def reseed(seed: int, iteration: int, device: chainer.backend.Device | None = None) -> None:
    """Seed NumPy's (and on a GPU, CuPy's) global generator from ``seed`` and ``iteration``.

    Shuffling, dropout masks and augmentation all draw from these generators, so a run resumed from
    a snapshot replays exactly the numbers the uninterrupted run would have drawn.
    """
    value = (seed * 1_000_003 + iteration) % 2**32
    numpy.random.seed(value)
    if device is not None and device.xp is not numpy:
        device.xp.random.seed(value)


def make_converter(augment: Callable[[numpy.ndarray], numpy.ndarray] | None = None):
    """A Chainer converter that stacks a batch, applies ``augment`` to the images on the CPU, and sends both to the device."""

    @chainer.dataset.converter()
    def convert(batch, device):
        x, t = chainer.dataset.concat_examples(batch)
        if augment is not None:
            x = augment(x)
        return device.send(x), device.send(t)

    return convert


class SeededUpdater(StandardUpdater):
    """``StandardUpdater`` that calls :func:`reseed` before each step.

    GAN lessons subclass it and override ``update_core`` as usual; the reseeding stays.
    """

    def __init__(self, iterator, optimizer, *, seed: int, device, converter=None, loss_func=None):
        super().__init__(
            iterator,
            optimizer,
            converter=converter or make_converter(),
            device=device,
            loss_func=loss_func,
        )
        self.seed = seed

    def update(self):
        reseed(self.seed, self.iteration, self.device)
        super().update()
