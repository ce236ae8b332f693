"""One training step, repeatable: every iteration's randomness is a function of (seed, iteration).

The course's updaters all live here. :class:`SeededUpdater` is Chainer's ``StandardUpdater`` with
that reseeding; the others subclass it the way Chainer's examples subclass ``StandardUpdater``
(override ``update_core``), so the trainer, snapshots and extensions stay the same for every model.
"""
from __future__ import annotations

from typing import Callable

import chainer
import chainer.functions as F
import numpy
from chainer.training import StandardUpdater

from course.losses import clip_weights, discriminator_loss, non_saturating_generator_loss


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


class GANUpdater(SeededUpdater):
    """One step of a GAN, in the shape of Chainer's ``examples/dcgan/updater.py``: D (or a critic), then G.

    ``optimizers`` is ``{"gen": ..., "dis": ...}``, each set up on its network. Each iteration
    updates the discriminator ``n_critic`` times, each time on a new batch of real images from the
    iterator and a new batch of fakes, then the generator once on the last of those batches. The
    losses are the named functions of :mod:`course.losses`: ``discriminator_loss`` (D's, or
    ``critic_loss`` for a WGAN) and ``generator_loss`` (G's: ``minimax_generator_loss``,
    ``non_saturating_generator_loss``, ``log_ratio_generator_loss``, ``wasserstein_generator_loss``).
    With ``clip``, D's weights are clipped into ``[-clip, clip]`` after each of its updates (WGAN).
    Reports ``dis/loss``, ``gen/loss`` and, where :meth:`generator_extra_loss` adds one (lessons 7
    and 8: a pixel or content loss), ``gen/adversarial_loss`` and ``gen/extra_loss``.

    The unconditional GAN of lesson 6 needs nothing more: ``make_z(n, xp)`` draws the generator's
    inputs (from the global generator, which :class:`SeededUpdater` reseeds every iteration, so a
    resumed run draws the same z). A conditional GAN (super-resolution, colourisation) overrides
    :meth:`real_images`, :meth:`generate` and :meth:`discriminate`, as Chainer's examples override
    ``update_core``.
    """

    def __init__(self, iterator, optimizers, *, seed: int, device, converter=None, make_z=None,
                 generator_loss: Callable = non_saturating_generator_loss,
                 discriminator_loss: Callable = discriminator_loss, n_critic: int = 1, clip: float | None = None):
        if set(optimizers) != {"gen", "dis"}:
            raise ValueError(f"a GAN needs the optimizers 'gen' and 'dis', not {sorted(optimizers)}")
        if n_critic < 1:
            raise ValueError(f"n_critic is how many D steps come before each G step: at least 1, not {n_critic}")
        super().__init__(iterator, optimizers, seed=seed, device=device, converter=converter)
        self.make_z = make_z
        self.generator_loss, self.discriminator_loss = generator_loss, discriminator_loss
        self.n_critic, self.clip = n_critic, clip

    @property
    def generator(self) -> chainer.Link:
        return self.get_optimizer("gen").target

    @property
    def discriminator(self) -> chainer.Link:
        return self.get_optimizer("dis").target

    def real_images(self, batch):
        """The real images of a converted batch (for a conditional GAN, the target half of each pair)."""
        return batch

    def generate(self, batch):
        """The generator's output for this batch: here ``G(z)`` for fresh z, one per real image."""
        if self.make_z is None:
            raise ValueError("an unconditional GAN needs make_z(n, xp) to draw the generator's inputs")
        n = len(self.real_images(batch))
        return self.generator(self.make_z(n, self.device.xp))

    def discriminate(self, batch, images):
        """D's logits (or critic scores) for ``images``; a conditional D also sees the batch's input."""
        return self.discriminator(images)

    def generator_extra_loss(self, batch, fake):
        """A loss added to G's adversarial loss (None here; e.g. pixel MSE or L1 in lessons 7 and 8)."""
        return None

    def update_core(self):
        iterator = self.get_iterator("main")
        dis_optimizer, gen_optimizer = self.get_optimizer("dis"), self.get_optimizer("gen")
        for _ in range(self.n_critic):
            batch = self._convert(iterator.next())
            fake = chainer.as_variable(self.generate(batch))
            real_logits = self.discriminate(batch, self.real_images(batch))
            fake_logits = self.discriminate(batch, fake.array)  # D's step does not reach G
            dis_loss = self.discriminator_loss(real_logits, fake_logits)
            self.discriminator.cleargrads()
            dis_loss.backward()
            dis_optimizer.update()
            if self.clip is not None:
                clip_weights(self.discriminator, self.clip)
        adversarial = self.generator_loss(self.discriminate(batch, fake))
        extra = self.generator_extra_loss(batch, fake)
        gen_loss = adversarial if extra is None else adversarial + extra
        self.generator.cleargrads()
        self.discriminator.cleargrads()  # G's loss passes through D, whose gradients are discarded
        gen_loss.backward()
        gen_optimizer.update()
        chainer.report({"loss": dis_loss}, self.discriminator)
        chainer.report({"loss": gen_loss}, self.generator)
        if extra is not None:
            chainer.report({"adversarial_loss": adversarial, "extra_loss": extra}, self.generator)
        if self.auto_new_epoch and iterator.is_new_epoch:
            for optimizer in (dis_optimizer, gen_optimizer):
                optimizer.new_epoch(auto=True)

    def _convert(self, batch):
        return chainer.dataset.convert._call_converter(self.converter, batch, self.input_device)


class VectorizerUpdater(SeededUpdater):
    """One step of the seed's Vectorizer: fresh pairs ``(z, G(z))``, and V learns to give back z (MSE).

    ``optimizer`` is set up on the Vectorizer. Every step draws new z with ``make_z(n, xp)`` (from
    the global generator, reseeded every iteration, so a resumed run draws the same pairs), renders
    them with the fixed ``generator`` (test mode, no gradient), passes the images through ``augment``
    (e.g. :func:`course.data.generative.random_margins`, so V also copes with images framed a little
    differently from G's) and updates V on ``mean((V(x) - z)^2)``, reported as ``main/loss``. The
    iterator only sets the pace: each of its batches is one step's number of pairs, and its epochs
    are the run's.
    """

    def __init__(self, iterator, optimizer, *, seed: int, device, converter=None, generator: chainer.Link,
                 make_z: Callable, augment: Callable | None = None):
        super().__init__(iterator, optimizer, seed=seed, device=device, converter=converter)
        self.generator, self.make_z, self.augment = generator, make_z, augment

    def update_core(self):
        iterator, optimizer = self.get_iterator("main"), self.get_optimizer("main")
        z = self.make_z(len(iterator.next()), self.device.xp)
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            images = self.generator(z).array
        if self.augment is not None:
            images = self.augment(images)
        vectorizer = optimizer.target
        loss = F.mean_squared_error(vectorizer(images), z)
        vectorizer.cleargrads()
        loss.backward()
        optimizer.update()
        chainer.report({"loss": loss}, vectorizer)
        if self.auto_new_epoch and iterator.is_new_epoch:
            optimizer.new_epoch(auto=True)
