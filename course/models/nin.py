"""Network in Network (Lin, Chen and Yan, 2014), as in Chainer's ImageNet example, sized to the input.

The network is four *mlpconv* blocks. Each block is a k x k convolution followed by two 1 x 1
convolutions (a tiny fully connected network applied at every pixel), with ReLUs in between. The
first three blocks are each followed by a ReLU and 3 x 3 max pooling with stride 2; dropout comes
before the fourth. The fourth block's final 1 x 1 convolution has one channel per class, and global
average pooling turns each channel into that class's score: no fully connected layer at all.

In front sits :class:`ImageInput`: it subtracts the training set's mean image, crops ``insize x
insize`` (random and sometimes mirrored while training, the centre when testing) and scales by
1/255. Chainer's ImageNet example does the same steps in its dataset class, ``PreprocessedDataset``
in ``train_imagenet.py``, as it reads each image; here they are a layer, so the mean image is part
of the model and a saved model carries it.
"""
from __future__ import annotations

from typing import Sequence

import chainer
import chainer.functions as F
import chainer.initializers as I
import chainer.links as L
import numpy

from course.models.saving import saveable


class ImageInput(chainer.Link):
    """Mean subtraction, then cropping: uint8 or float (N, 3, S, S) images in, float32 (N, 3, insize, insize) out.

    ``mean`` is the (3, S, S) mean image of the training set on the 0-255 scale. While training
    (``chainer.config.train``), each image gets a random crop position and a coin-flip mirror,
    drawn from NumPy's global generator (which the course's updater re-seeds every iteration); when
    testing, every image is cut from the centre.
    """

    def __init__(self, mean: numpy.ndarray, insize: int):
        super().__init__()
        mean = numpy.asarray(mean, dtype=numpy.float32)
        if mean.ndim != 3 or mean.shape[1] != mean.shape[2]:
            raise ValueError(f"the mean image must be (channels, S, S), not {mean.shape}")
        if not 0 < insize <= mean.shape[1]:
            raise ValueError(f"insize={insize} must be between 1 and the image size {mean.shape[1]}")
        self.insize = int(insize)
        self.add_persistent("mean", mean)

    @property
    def image_size(self) -> int:
        """S, the side of the images this layer takes."""
        return self.mean.shape[1]

    def forward(self, x):
        x = chainer.as_array(x)
        if x.shape[1:] != self.mean.shape:
            raise ValueError(f"expected images of shape (N, {', '.join(map(str, self.mean.shape))}), got {x.shape}: "
                             f"prepare them with tile_and_crop(image, {self.image_size})")
        h = (x.astype(numpy.float32) - self.mean) * numpy.float32(1 / 255)
        n, s, c = len(h), self.image_size, self.insize
        if chainer.config.train:
            dy = numpy.random.randint(0, s - c + 1, size=n)
            dx = numpy.random.randint(0, s - c + 1, size=n)
            mirror = numpy.random.rand(n) < 0.5
        else:
            dy = dx = numpy.full(n, (s - c) // 2)
            mirror = numpy.zeros(n, bool)
        if s == c and not mirror.any():
            return h
        rows = dy[:, None] + numpy.arange(c)
        cols = dx[:, None] + numpy.arange(c)
        cols = numpy.where(mirror[:, None], cols[:, ::-1], cols)
        xp = chainer.backend.get_array_module(h)
        return h[xp.arange(n)[:, None, None, None], xp.arange(h.shape[1])[None, :, None, None],
                 xp.asarray(rows)[:, None, :, None], xp.asarray(cols)[:, None, None, :]]


class MLPConv(chainer.Chain):
    """One mlpconv block: a ``ksize`` convolution then two 1 x 1 convolutions, ReLU between them.

    No ReLU after the last convolution (the network adds it where it wants one), as in
    ``L.MLPConvolution2D``.
    """

    def __init__(self, in_channels: int, widths: Sequence[int], ksize: int, stride: int = 1, pad: int = 0):
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"an mlpconv block has three convolutions, so three widths, not {tuple(widths)}")
        init = I.HeNormal()
        with self.init_scope():
            self.conv = L.Convolution2D(in_channels, widths[0], ksize, stride=stride, pad=pad, initialW=init)
            self.cccp1 = L.Convolution2D(widths[0], widths[1], 1, initialW=init)
            self.cccp2 = L.Convolution2D(widths[1], widths[2], 1, initialW=init)

    def forward(self, x):
        h = F.relu(self.conv(x))
        h = F.relu(self.cccp1(h))
        return self.cccp2(h)


@saveable
class NIN(chainer.Chain):
    """Network in Network for ``image_size`` images cropped to ``insize``, ``n_classes`` scores out.

    ``widths`` are the channels of the four blocks (Chainer's example: 96, 256, 384, 1024) and
    ``ksizes`` their first convolutions' sizes (11, 5, 3, 3); the first has stride ``first_stride``
    (4). ``mean`` is the training set's mean image (3, image_size, image_size); zeros when omitted,
    e.g. before loading a saved model into it.
    """

    def __init__(self, n_classes: int = 20, *, image_size: int = 256, insize: int = 227,
                 widths: Sequence[int] = (96, 256, 384, 1024), ksizes: Sequence[int] = (11, 5, 3, 3),
                 first_stride: int = 4, dropout: float = 0.5, mean: numpy.ndarray | None = None):
        super().__init__()
        if len(widths) != 4 or len(ksizes) != 4:
            raise ValueError(f"NIN has four blocks: give four widths and four ksizes, not {widths} and {ksizes}")
        if mean is None:
            mean = numpy.zeros((3, image_size, image_size), numpy.float32)
        self.dropout = dropout
        w, k = list(widths), list(ksizes)
        with self.init_scope():
            self.input = ImageInput(mean, insize)
            self.mlpconv1 = MLPConv(3, (w[0],) * 3, k[0], stride=first_stride)
            self.mlpconv2 = MLPConv(w[0], (w[1],) * 3, k[1], pad=k[1] // 2)
            self.mlpconv3 = MLPConv(w[1], (w[2],) * 3, k[2], pad=k[2] // 2)
            self.mlpconv4 = MLPConv(w[2], (w[3], w[3], n_classes), k[3], pad=k[3] // 2)

    def forward(self, x):
        return self._layers(x)[-1][1]

    def _layers(self, x) -> list[tuple[str, chainer.Variable]]:
        """(description, output) of every stage, in order; the last output is the class scores."""
        stages = [("mean subtracted, centre/random crop", self.input(x))]
        for name in ("mlpconv1", "mlpconv2", "mlpconv3"):
            block = getattr(self, name)
            h = F.relu(block(stages[-1][1]))
            stride = f" stride {block.conv.stride[0]}" if block.conv.stride[0] > 1 else ""
            stages.append((f"{name}: {block.conv.ksize}x{block.conv.ksize} conv{stride}, 1x1, 1x1", h))
            stages.append(("3x3 max pooling, stride 2", F.max_pooling_2d(h, 3, stride=2)))
        block = self.mlpconv4
        stages.append((f"dropout, mlpconv4: {block.conv.ksize}x{block.conv.ksize} conv, 1x1, 1x1 to one map per class",
                       block(F.dropout(stages[-1][1], self.dropout))))
        stages.append(("global average pooling: the class scores", F.mean(stages[-1][1], axis=(2, 3))))
        return stages

    def summary(self) -> str:
        """One line per stage with the shape of one image's output, e.g. ``(96, 13, 13)``."""
        x = self.xp.zeros((1,) + self.input.mean.shape, numpy.float32)
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            stages = self._layers(x)
        lines = [f"{'input':<66} {(3, self.input.image_size, self.input.image_size)}"]
        lines += [f"{text:<66} {tuple(h.shape[1:])}" for text, h in stages]
        return "\n".join(lines)
