"""One training step, repeatable: every iteration's randomness is a function of (seed, iteration).

The course's updaters all live here. :class:`SeededUpdater` is Chainer's ``StandardUpdater`` with
that reseeding; the others subclass it the way Chainer's examples subclass ``StandardUpdater``
(override ``update_core``), so the trainer, snapshots and extensions stay the same for every model.
"""
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
    """A Chainer converter: stack a batch, ``augment`` its inputs on the CPU, send everything to the device.

    A batch of ``(x, t, ...)`` tuples becomes a tuple of arrays (``augment`` applies to ``x`` only);
    a batch of single arrays (unlabeled data, e.g. images for a GAN) becomes one array.
    """

    @chainer.dataset.converter()
    def convert(batch, device):
        arrays = chainer.dataset.concat_examples(batch)
        if not isinstance(arrays, tuple):
            return device.send(augment(arrays) if augment is not None else arrays)
        x, *rest = arrays
        if augment is not None:
            x = augment(x)
        return tuple(device.send(a) for a in (x, *rest))

    return convert


class SeededUpdater(StandardUpdater):
    """``StandardUpdater`` that calls :func:`reseed` before each step.

    ``optimizer`` is one optimizer or a mapping of names to optimizers (``"main"`` among them), as
    for ``StandardUpdater``. Subclasses override ``update_core`` as usual; the reseeding stays.
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


class DecayingUpdater(SeededUpdater):
    """:class:`SeededUpdater` whose learning rate is ``lr * lr_decay ** epoch`` at every step.

    The rate is a function of the epoch alone, which snapshots restore, so a resumed run steps with
    exactly the rates of an uninterrupted one. (Chainer's ``ExponentialShift`` keeps a counter of its
    own that autoload restores only after the first rate was set.)
    """

    def __init__(self, iterator, optimizer, *, lr: float, lr_decay: float, **kwargs):
        super().__init__(iterator, optimizer, **kwargs)
        self.lr, self.lr_decay = lr, lr_decay

    def update_core(self):
        self.get_optimizer("main").lr = self.lr * self.lr_decay ** self.epoch
        super().update_core()
