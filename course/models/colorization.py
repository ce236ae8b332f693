"""Lesson 8's networks: line art in, colour out, and the networks that judge the colour.

- :class:`ColorAutoencoder`: the seed's first try. Stride-2 convolutions shrink the line art to a
  small stack of feature maps, stride-2 deconvolutions grow it back into an RGB image. Everything
  the output knows about where the lines were must pass through the bottom, a few pixels wide.
- :class:`UNet`: the same encoder and decoder, plus skip connections: each decoder level also reads
  the encoder's maps of the same size (concatenated), and the last layer reads the input itself, so
  the lines reach the output without passing through the bottom (Ronneberger et al., 2015).
- :class:`PatchDiscriminator`: pix2pix's D. It sees the line art and a colour image together and
  gives one logit per patch of the image (a map, not one number), so it judges local texture and
  colour, and the pixel loss takes care of the whole.
- :class:`Critic`: the same shape without batch normalisation, one score per image, for a WGAN.

Every model reads (N, in_channels, H, W): the line art (1 channel), plus 4 hint channels for the
hinted models (:func:`course.data.colorization.hint_channels`). H and W must be multiples of
``2 ** levels``. The generators end in a sigmoid: RGB in [0, 1].
"""
from __future__ import annotations

import chainer
import chainer.functions as F
import chainer.links as L

from course.models.saving import saveable

__all__ = ["ColorAutoencoder", "Critic", "PatchDiscriminator", "UNet"]


def _widths(base: int, levels: int) -> list[int]:
    if base < 1 or levels < 1:
        raise ValueError(f"base channels and levels must be at least 1, not {base} and {levels}")
    return [base * 2 ** i for i in range(levels + 1)]


def _check_side(x, levels: int) -> None:
    if x.shape[2] % 2 ** levels or x.shape[3] % 2 ** levels:
        raise ValueError(f"an image of {x.shape[3]}x{x.shape[2]} px cannot be halved {levels} times: crop it to a "
                         f"multiple of {2 ** levels}")


class _Encoder(chainer.Chain):
    """A 3x3 convolution at full size, then ``levels`` stride-2 4x4 convolutions doubling the channels; BN, ReLU."""

    def __init__(self, in_channels: int, base: int, levels: int):
        super().__init__()
        widths = _widths(base, levels)
        with self.init_scope():
            self.first = L.Convolution2D(in_channels, base, ksize=3, pad=1)
            self.downs = chainer.ChainList(*[L.Convolution2D(a, b, ksize=4, stride=2, pad=1)
                                             for a, b in zip(widths, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[1:]])

    def forward(self, x) -> list:
        """The maps at every size, the full-size ones first and the bottom last."""
        maps = [F.relu(self.first(x))]
        for down, norm in zip(self.downs, self.norms):
            maps.append(F.relu(norm(down(maps[-1]))))
        return maps


@saveable
class ColorAutoencoder(chainer.Chain):
    """Line art (N, in_channels, H, W) -> RGB (N, 3, H, W) in [0, 1], through a bottleneck and no skips.

    Encoder: :class:`_Encoder` (``base`` channels at full size, doubling at each of ``levels``
    halvings). Decoder: ``levels`` stride-2 4x4 deconvolutions back (BN, ReLU), a 3x3 convolution
    to RGB, sigmoid.
    """

    def __init__(self, in_channels: int = 1, base: int = 16, levels: int = 3):
        super().__init__()
        self.in_channels, self.levels = in_channels, levels
        widths = _widths(base, levels)[::-1]
        with self.init_scope():
            self.encoder = _Encoder(in_channels, base, levels)
            self.ups = chainer.ChainList(*[L.Deconvolution2D(a, b, ksize=4, stride=2, pad=1)
                                           for a, b in zip(widths, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[1:]])
            self.last = L.Convolution2D(base, 3, ksize=3, pad=1)

    def forward(self, x):
        _check_side(x, self.levels)
        h = self.encoder(x)[-1]  # only the bottom goes on
        for up, norm in zip(self.ups, self.norms):
            h = F.relu(norm(up(h)))
        return F.sigmoid(self.last(h))


@saveable
class UNet(chainer.Chain):
    """Line art (N, in_channels, H, W) -> RGB (N, 3, H, W) in [0, 1], with skips at every size.

    The autoencoder's encoder and decoder, but each deconvolution reads the decoder's maps
    concatenated with the encoder's maps of the same size, and the last 3x3 convolution reads the
    full-size maps, the encoder's full-size maps and the input itself.
    """

    def __init__(self, in_channels: int = 1, base: int = 16, levels: int = 3):
        super().__init__()
        self.in_channels, self.levels = in_channels, levels
        widths = _widths(base, levels)[::-1]  # bottom first
        ins = [widths[0]] + [2 * w for w in widths[1:-1]]  # the bottom alone, then decoder + skip
        with self.init_scope():
            self.encoder = _Encoder(in_channels, base, levels)
            self.ups = chainer.ChainList(*[L.Deconvolution2D(a, b, ksize=4, stride=2, pad=1)
                                           for a, b in zip(ins, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[1:]])
            self.last = L.Convolution2D(2 * base + in_channels, 3, ksize=3, pad=1)

    def forward(self, x):
        _check_side(x, self.levels)
        skips = self.encoder(x)
        h = skips.pop()
        for up, norm in zip(self.ups, self.norms):
            h = F.relu(norm(up(h)))
            h = F.concat([h, skips.pop()])  # the encoder's maps of this size
        return F.sigmoid(self.last(F.concat([h, x])))


@saveable
class PatchDiscriminator(chainer.Chain):
    """(line art, colour) -> a map of logits, one per patch: pix2pix's conditional D.

    ``forward(lines, colour)`` concatenates the two (``line_channels + 3`` channels), then ``levels``
    stride-2 4x4 convolutions ``base`` wide and doubling, LeakyReLU 0.2, BN on all but the first,
    and a 3x3 convolution to one logit per position: (N, 1, H / 2**levels, W / 2**levels). Each logit
    sees a patch of the image, so D judges whether each patch's colours look real for its lines.
    """

    batch_norm = True

    def __init__(self, line_channels: int = 1, base: int = 16, levels: int = 3):
        super().__init__()
        widths = [line_channels + 3] + _widths(base, levels - 1)
        with self.init_scope():
            self.downs = chainer.ChainList(*[L.Convolution2D(a, b, ksize=4, stride=2, pad=1)
                                             for a, b in zip(widths, widths[1:])])
            self.norms = chainer.ChainList(*[L.BatchNormalization(b) for b in widths[2:]] if self.batch_norm else [])
            self.last = L.Convolution2D(widths[-1], 1, ksize=3, pad=1)

    def forward(self, lines, colour):
        h = F.leaky_relu(self.downs[0](F.concat([lines, colour])), 0.2)
        for i, down in enumerate(self.downs[1:]):
            h = down(h)
            h = F.leaky_relu(self.norms[i](h) if self.batch_norm else h, 0.2)
        return self.last(h)


@saveable
class Critic(PatchDiscriminator):
    """A WGAN critic: :class:`PatchDiscriminator`'s shape without batch normalisation, one score per image (N, 1).

    The score is not a probability: the critic only makes real pairs score higher than generated
    ones, its weights clipped (:func:`course.losses.clip_weights`) so it cannot do so without bound.
    Batch normalisation is left out, so each image's score depends on that image alone, not on its batch.
    """

    batch_norm = False

    def forward(self, lines, colour):
        scores = super().forward(lines, colour)
        return F.mean(scores, axis=(1, 2, 3))[:, None]
