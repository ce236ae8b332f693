"""Lesson 7's networks: SRResNet, the generator of SRGAN, and the pixel shuffle it enlarges images with.

SRResNet (Ledig et al., 2017, and the seed's Chainer re-implementation) works at the *low*
resolution until its very end:

1. a first convolution and its activation;
2. ``blocks`` residual blocks, each conv - BN - activation - conv - BN, plus the block's input;
3. a convolution and BN, plus the output of step 1 (the global skip);
4. ``log2(scale)`` x2 upsampling blocks: a convolution to 4x the channels, then a pixel shuffle
   (``F.depth2space``: each group of 4 channels becomes a 2x2 patch of pixels), then the activation;
5. a last convolution to the image's channels.

The paper uses 16 blocks of 64 channels and PReLU; the seed 5 blocks and ReLU. With
``bicubic_skip`` (the default), the network's output is *added to* the bicubic enlargement of its
input (:func:`course.data.resampling.bicubic_upscale`), and the last convolution starts at zero, so an
untrained network is exactly bicubic and training learns only what bicubic misses. On a CPU budget
this mattered most: without it a small network stayed below bicubic (see the lesson).

:class:`DeconvolutionUpsampler` is the alternative to step 4 that the lesson compares: a stride-2
transposed convolution per x2 step.
"""
from __future__ import annotations

import math

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from course.models.saving import saveable
from course.data.resampling import bicubic_upscale

ACTIVATIONS = ("relu", "prelu")


def pixel_shuffle(x, r: int):
    """``F.depth2space`` written out: (N, C*r*r, H, W) -> (N, C, H*r, W*r), a reshape and two transposes.

    Channel ``(dy * r + dx) * C + c`` of input pixel (y, x) becomes channel ``c`` of output pixel
    ``(y * r + dy, x * r + dx)``. No number is computed, only moved, so it is as cheap as a copy, and
    gradients flow back through it unchanged. Works on arrays and Variables.
    """
    n, channels, height, width = x.shape
    if channels % (r * r):
        raise ValueError(f"{channels} channels cannot be shuffled into {r}x{r} pixels: give a multiple of {r * r}")
    c = channels // (r * r)
    h = F.reshape(F.transpose(x, (0, 2, 3, 1)), (n, height, width, r, r, c))  # split channels into (dy, dx, c)
    h = F.transpose(h, (0, 1, 3, 2, 4, 5))  # (n, y, dy, x, dx, c)
    return F.transpose(F.reshape(h, (n, height * r, width * r, c)), (0, 3, 1, 2))


def _upsampling_steps(scale: int) -> int:
    steps = int(round(math.log2(scale))) if scale >= 2 else 0
    if scale < 2 or 2 ** steps != scale:
        raise ValueError(f"the scale must be a power of 2 (2, 4, 8), not {scale}")
    return steps


class _Activation(chainer.Chain):
    """ReLU, or PReLU with one learned slope per channel (the paper's)."""

    def __init__(self, kind: str, channels: int):
        super().__init__()
        if kind not in ACTIVATIONS:
            raise ValueError(f"activation is one of {', '.join(ACTIVATIONS)}, not {kind!r}")
        self.kind = kind
        if kind == "prelu":
            with self.init_scope():
                self.prelu = L.PReLU((channels,), init=0.25)

    def forward(self, x):
        return self.prelu(x) if self.kind == "prelu" else F.relu(x)


def _normalised(h, norm):
    return h if norm is None else norm(h)


class ResidualBlock(chainer.Chain):
    """conv - BN - activation - conv - BN, plus the input: ``x + F(x)``, with 3x3 convolutions of ``channels``.

    Without ``batch_norm``: conv - activation - conv, plus the input (EDSR's block).
    """

    def __init__(self, channels: int, activation: str = "relu", batch_norm: bool = True):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(channels, channels, 3, pad=1, nobias=batch_norm)
            self.bn1 = L.BatchNormalization(channels) if batch_norm else None
            self.act = _Activation(activation, channels)
            self.conv2 = L.Convolution2D(channels, channels, 3, pad=1, nobias=batch_norm)
            self.bn2 = L.BatchNormalization(channels) if batch_norm else None

    def forward(self, x):
        return x + _normalised(self.conv2(self.act(_normalised(self.conv1(x), self.bn1))), self.bn2)


class ShuffleUpsampler(chainer.Chain):
    """One x2 step of SRResNet: a 3x3 convolution to 4x the channels, :func:`pixel_shuffle` by 2, the activation."""

    def __init__(self, channels: int, activation: str = "relu"):
        super().__init__()
        with self.init_scope():
            self.conv = L.Convolution2D(channels, 4 * channels, 3, pad=1)
            self.act = _Activation(activation, channels)

    def forward(self, x):
        return self.act(F.depth2space(self.conv(x), 2))


class DeconvolutionUpsampler(chainer.Chain):
    """The alternative x2 step: a transposed convolution (``ksize`` x ``ksize``, stride 2), then the activation.

    A shuffle step's 3x3 convolution to 4x the channels has 36 weights per pair of channels; a 6x6
    transposed convolution (the default) has as many: the same budget. (It is in fact the same family
    of functions: a stride-2 transposed convolution whose kernel side is even is a convolution with
    half the side to 4x the channels, shuffled.) With an odd side, e.g. 3, the kernel does not divide
    by the stride: some output pixels receive more of the kernel than their neighbours, and a
    checkerboard appears even where the input is flat (:func:`checkerboard`).
    """

    def __init__(self, channels: int, activation: str = "relu", ksize: int = 6):
        super().__init__()
        self.ksize, self.pad = ksize, (ksize - 1) // 2
        with self.init_scope():
            self.deconv = L.Deconvolution2D(channels, channels, ksize, stride=2, pad=self.pad)
            self.act = _Activation(activation, channels)

    def forward(self, x):
        height, width = x.shape[2:]
        y = F.deconvolution_2d(x, self.deconv.W, self.deconv.b, stride=2, pad=self.pad,
                               outsize=(2 * height, 2 * width))
        return self.act(y)


@saveable
class SRResNet(chainer.Chain):
    """Low-resolution images (N, C, h, w) in [0, 1] -> (N, C, h*scale, w*scale): SRResNet (see the module docstring).

    ``in_channels``: 1 for the Y channel alone, 3 for RGB. ``channels`` wide, ``blocks`` residual
    blocks, ``activation`` ``"relu"`` (the seed) or ``"prelu"`` (the paper), ``upsampler``
    ``"shuffle"`` (the paper's) or ``"deconvolution"``. ``kernel`` is the side of the first and last
    convolutions (the paper: 9; 3 is cheaper and enough on a CPU budget). With ``bicubic_skip`` the
    network adds its output to the bicubic enlargement of the input, and its last convolution
    starts at zero. ``batch_norm=False`` drops every BN, as EDSR (Lim et al., 2017) did: on small
    batches of small patches BN's batch statistics are noisy, and in a CPU-minute a network with BN
    learned almost nothing (see the lesson).
    """

    def __init__(self, channels: int = 64, blocks: int = 16, scale: int = 4, in_channels: int = 3,
                 activation: str = "prelu", upsampler: str = "shuffle", kernel: int = 9, bicubic_skip: bool = True,
                 batch_norm: bool = True):
        super().__init__()
        steps = _upsampling_steps(scale)
        if upsampler not in ("shuffle", "deconvolution"):
            raise ValueError(f"upsampler is 'shuffle' or 'deconvolution', not {upsampler!r}")
        if kernel % 2 == 0:
            raise ValueError(f"the first and last convolutions need an odd kernel side, not {kernel}")
        self.channels, self.blocks, self.scale, self.in_channels = channels, blocks, scale, in_channels
        self.bicubic_skip, self.batch_norm, self.upsampler = bicubic_skip, batch_norm, upsampler
        make_up = ShuffleUpsampler if upsampler == "shuffle" else DeconvolutionUpsampler
        last_weights = chainer.initializers.Zero() if bicubic_skip else None
        with self.init_scope():
            self.head = L.Convolution2D(in_channels, channels, kernel, pad=kernel // 2)
            self.head_act = _Activation(activation, channels)
            self.body = chainer.ChainList(*[ResidualBlock(channels, activation, batch_norm) for _ in range(blocks)])
            self.body_conv = L.Convolution2D(channels, channels, 3, pad=1, nobias=batch_norm)
            self.body_bn = L.BatchNormalization(channels) if batch_norm else None
            self.ups = chainer.ChainList(*[make_up(channels, activation) for _ in range(steps)])
            self.tail = L.Convolution2D(channels, in_channels, kernel, pad=kernel // 2, initialW=last_weights)

    def forward(self, x):
        h = self.head_act(self.head(x))
        skip = h
        for block in self.body:
            h = block(h)
        h = _normalised(self.body_conv(h), self.body_bn) + skip
        for up in self.ups:
            h = up(h)
        y = self.tail(h)
        if self.bicubic_skip:
            y = y + bicubic_upscale(chainer.as_array(x), self.scale)
        return y


def checkerboard(upsampler: chainer.Link, channels: int, size: int = 8) -> numpy.ndarray:
    """What ``upsampler`` (a x2 step) makes of a flat input: the mean output (2*size, 2*size) of ones in every channel.

    A flat input has no structure, so any pattern in the output is the upsampler's own. A stride-2
    deconvolution whose kernel the stride does not divide gives a period-2 pattern (the
    checkerboard); a pixel shuffle's phases differ too when untrained, but each has a full 3x3
    convolution behind it, and training can make them agree.
    """
    x = numpy.ones((1, channels, size, size), numpy.float32)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        y = upsampler(x).array
    return numpy.asarray(y).mean(axis=(0, 1))
