"""Lesson 6's networks: a DCGAN (generator and discriminator) and the Vectorizer that maps images back to z.

The generator ``G`` turns a vector ``z`` (uniform in [-1, 1]) into an image: a linear layer shapes
``z`` into a small stack of feature maps, then stride-2 deconvolutions double the side and halve
the channels until the image has its size, and ``tanh`` puts every pixel in [-1, 1]. The
discriminator ``D`` mirrors it: stride-2 convolutions halve the side and double the channels (no
pooling), LeakyReLU, and one logit per image ("real"). Batch normalisation sits after every layer
except D's first and G's last, as the DCGAN paper prescribes.

The :class:`Vectorizer` (the seed's name) is shaped like D but ends in ``z_size`` numbers: trained
on pairs ``(z, G(z))``, it finds the ``z`` from which G draws a given image. With it, real images
can be moved about in G's latent space: :func:`interpolate` between two of them, linearly
(:func:`lerp`) or along a great circle (:func:`slerp`).
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.models.saving import saveable

WEIGHTS = chainer.initializers.Normal(0.02)
"""The DCGAN paper's initial weights: normal with standard deviation 0.02."""


def _check_levels(size: int, levels: int) -> int:
    """The side at the bottom of ``levels`` halvings of ``size`` (which must divide evenly)."""
    if levels < 1 or size % 2 ** levels:
        raise ValueError(f"an image of {size} px cannot be halved {levels} times evenly: choose a size that "
                         f"2**levels divides (e.g. 28 with 2 levels, 64 with 4)")
    return size // 2 ** levels


@saveable
class Generator(chainer.Chain):
    """z (N, z_size) -> images (N, out_channels, size, size) in [-1, 1].

    Linear -> ``channels`` maps of side ``size / 2**levels`` -> BN, ReLU -> ``levels`` stride-2
    deconvolutions (4x4), each doubling the side and halving the channels (BN, ReLU after all but the
    last) -> tanh. 28x28 digits: ``channels=64, levels=2`` (7 -> 14 -> 28); 64x64 images:
    ``channels=512, levels=4`` (4 -> 8 -> 16 -> 32 -> 64), the DCGAN paper's generator.
    """

    def __init__(self, z_size: int = 100, size: int = 28, channels: int = 64, levels: int = 2,
                 out_channels: int = 1):
        super().__init__()
        self.z_size, self.size, self.channels, self.out_channels = z_size, size, channels, out_channels
        self.bottom = _check_levels(size, levels)
        widths = [channels // 2 ** i for i in range(levels)] + [out_channels]
        with self.init_scope():
            self.fc = L.Linear(z_size, channels * self.bottom ** 2, initialW=WEIGHTS)
            self.bn = L.BatchNormalization(channels)
            self.ups = chainer.ChainList(*[L.Deconvolution2D(a, b, ksize=4, stride=2, pad=1, initialW=WEIGHTS)
                                           for a, b in zip(widths, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[1:-1]])

    def forward(self, z):
        h = self.fc(z).reshape(len(z), self.channels, self.bottom, self.bottom)
        h = F.relu(self.bn(h))
        for up, norm in zip(self.ups[:-1], self.norms):
            h = F.relu(norm(up(h)))
        return F.tanh(self.ups[-1](h))


@saveable
class Discriminator(chainer.Chain):
    """images (N, in_channels, size, size) -> one logit each, (N, 1): how real each image looks.

    ``levels`` stride-2 convolutions (4x4), ``channels`` wide and doubling, each halving the side,
    with LeakyReLU (slope 0.2) and BN on all but the first; then a linear layer to ``n_out`` numbers
    (1 here: the logit ``y``, with ``D(x) = sigmoid(y)``).
    """

    def __init__(self, size: int = 28, channels: int = 32, levels: int = 2, in_channels: int = 1, n_out: int = 1):
        super().__init__()
        bottom = _check_levels(size, levels)
        widths = [in_channels] + [channels * 2 ** i for i in range(levels)]
        with self.init_scope():
            self.downs = chainer.ChainList(*[L.Convolution2D(a, b, ksize=4, stride=2, pad=1, initialW=WEIGHTS)
                                             for a, b in zip(widths, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[2:]])
            self.fc = L.Linear(widths[-1] * bottom ** 2, n_out, initialW=WEIGHTS)

    def forward(self, x):
        h = F.leaky_relu(self.downs[0](x), 0.2)  # no BN on the first layer
        for down, norm in zip(self.downs[1:], self.norms):
            h = F.leaky_relu(norm(down(h)), 0.2)
        return self.fc(h)


@saveable
class Vectorizer(Discriminator):
    """images -> z (N, z_size): D's shape with a z-sized linear output, trained so that ``G(V(x))`` is ``x``.

    Train it with :func:`course.training.vectorizer.train_vectorizer` on fresh pairs ``(z, G(z))``.
    """

    def __init__(self, z_size: int = 100, size: int = 28, channels: int = 32, levels: int = 2,
                 in_channels: int = 1):
        super().__init__(size, channels, levels, in_channels, n_out=z_size)
        self.z_size = z_size


# --- moving in the latent space -----------------------------------------------------------------

def _fractions(t) -> numpy.ndarray:
    """``t`` as a float64 column (K, 1), so that K fractions meet one pair of vectors (D,)."""
    return numpy.asarray(t, dtype=numpy.float64).reshape(-1, 1)


def lerp(a, b, t) -> numpy.ndarray:
    """The points ``(1 - t) a + t b`` on the straight line from vector ``a`` (t = 0) to ``b`` (t = 1).

    ``a`` and ``b`` are vectors (D,); ``t`` is one fraction or several (K,). Returns float32 (K, D).
    """
    a, b = numpy.asarray(a, numpy.float64), numpy.asarray(b, numpy.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"interpolate between two vectors of the same length, not shapes {a.shape} and {b.shape}")
    t = _fractions(t)
    return ((1 - t) * a + t * b).astype(numpy.float32)


def slerp(a, b, t) -> numpy.ndarray:
    """Spherical interpolation: the points from ``a`` (t = 0) to ``b`` (t = 1) along a great circle.

    With ``omega`` the angle between ``a`` and ``b``, the point is
    ``sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b``: the angle grows evenly with
    ``t``, and between two vectors of one length the length stays the same, where the straight line
    (:func:`lerp`) cuts inside, towards 0. Where ``a`` and ``b`` point (almost) the same way, or one
    is zero, this is :func:`lerp`. Returns float32 (K, D), as :func:`lerp`.
    """
    a64, b64 = numpy.asarray(a, numpy.float64), numpy.asarray(b, numpy.float64)
    straight = lerp(a64, b64, t)  # also checks the shapes
    norms = numpy.linalg.norm(a64) * numpy.linalg.norm(b64)
    if norms == 0:
        return straight
    omega = numpy.arccos(numpy.clip(a64 @ b64 / norms, -1, 1))
    if numpy.sin(omega) < 1e-6:
        return straight
    t = _fractions(t)
    return ((numpy.sin((1 - t) * omega) * a64 + numpy.sin(t * omega) * b64) / numpy.sin(omega)).astype(numpy.float32)


def interpolate(a, b, steps: int, *, spherical: bool = False) -> numpy.ndarray:
    """``steps`` points from ``a`` to ``b``, both ends included (t = 0, 1/(steps-1), ..., 1): (steps, D).

    Linear by default (:func:`lerp`), along a great circle with ``spherical`` (:func:`slerp`).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, numpy.integer)) or steps < 2:
        raise ValueError(f"steps is how many points, both ends included: a whole number >= 2, not {steps!r}")
    return (slerp if spherical else lerp)(a, b, numpy.linspace(0, 1, steps))
