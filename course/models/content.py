"""Fixed networks whose feature maps SRGAN's content loss compares (:func:`course.losses.content_loss`).

The paper compares VGG19's feature maps, a network trained on ImageNet's 1.2 million photos. That
needs weights downloaded from the internet, which the course does not assume, so offline the
lesson uses a network the course trains itself: **lesson 2's MNIST CNN**, trained on handwritten
digits. Its first layers respond to strokes and edges, which photos have too, but it has never
seen a photograph: it is a stand-in for VGG, weaker and much smaller, and the lesson says so.

With your own VGG16 weights (Chainer's ``VGG16Layers`` npz file, or the Caffe model it converts
from), :func:`load_vgg16_features` gives the real thing, through
``chainer.links.VGG16Layers(pretrained_model=PATH)``.

Each extractor maps images (N, C, H, W) in [0, 1], C = 1 (Y) or 3 (RGB), to a feature map, stays
fixed (its parameters are never updated: the generator's optimizer does not hold them), and runs in
test mode.
"""
from __future__ import annotations

import os
from pathlib import Path

import chainer
import chainer.functions as F
import numpy

from course.errors import DataError
from course.models.mnist import MnistCNN

VGG_MEAN_BGR = numpy.array([103.939, 116.779, 123.68], numpy.float32)
"""The mean pixel VGG was trained with (BGR, 0-255), subtracted from every input."""


def _grey(x):
    """Images (N, 1 or 3, H, W) as one channel: Y-like grey (0.299 R + 0.587 G + 0.114 B) for RGB."""
    if x.shape[1] == 1:
        return x
    weights = chainer.backend.get_array_module(x).asarray(numpy.array([0.299, 0.587, 0.114], numpy.float32))
    return F.sum(x * F.broadcast_to(weights.reshape(1, 3, 1, 1), x.shape), axis=1, keepdims=True)


class DigitFeatures:
    """Lesson 2's CNN as the content loss's feature network: its ``layer`` (``conv1`` or ``conv2``) of grey images.

    ``conv1`` is 32 maps at half the side (3x3 filters, max-pooled, ReLU), ``conv2`` 64 at a quarter.
    The CNN must be trained (on digits, :func:`course.training.train_classifier`) and is used as it is.
    """

    LAYERS = ("conv1", "conv2")

    def __init__(self, cnn: MnistCNN, layer: str = "conv1"):
        if layer not in self.LAYERS:
            raise ValueError(f"the content loss uses a convolutional layer, {' or '.join(self.LAYERS)}, not {layer!r}")
        self.cnn, self.layer = cnn, layer

    def __call__(self, x):
        with chainer.using_config("train", False):
            return self.cnn.activations(_grey(x), last=self.layer)[self.layer]


class VGG16Features:
    """VGG16's feature map ``layer`` (e.g. ``conv2_2``, ``conv5_3``) of images in [0, 1], as VGG expects them.

    ``vgg`` is a ``chainer.links.VGG16Layers``. Inputs are scaled to 0-255, grey repeated into three
    channels, RGB turned to BGR, and VGG's mean pixel subtracted (what ``VGG16Layers.prepare`` does
    to one image, here on a whole batch, differentiably).
    """

    def __init__(self, vgg: chainer.Link, layer: str = "conv2_2"):
        if layer not in vgg.available_layers:
            raise ValueError(f"VGG16 has no layer {layer!r}; its layers are {', '.join(vgg.available_layers)}")
        self.vgg, self.layer = vgg, layer

    def __call__(self, x):
        if x.shape[1] == 1:
            x = F.concat([x, x, x], axis=1)
        bgr = x[:, ::-1] * 255 - self.vgg.xp.asarray(VGG_MEAN_BGR).reshape(1, 3, 1, 1)
        with chainer.using_config("train", False):
            return self.vgg.forward(bgr, layers=[self.layer])[self.layer]


def load_vgg16_features(path: str | os.PathLike, layer: str = "conv2_2") -> VGG16Features:
    """:class:`VGG16Features` with the weights in ``path``: ``chainer.links.VGG16Layers(pretrained_model=path)``.

    ``path`` is Chainer's VGG16 npz (what ``VGG16Layers`` writes after converting the Caffe model
    ``VGG_ILSVRC_16_layers.caffemodel``, e.g. ``chainer.links.VGG16Layers.convert_caffemodel_to_npz``).
    Nothing is downloaded: a missing or unreadable file is a :class:`DataError` saying what to give.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist: give the path of your VGG16 weights as Chainer's npz (convert the "
                        f"Caffe model with chainer.links.VGG16Layers.convert_caffemodel_to_npz(caffemodel, npz))")
    import zipfile

    import chainer.links as L

    try:
        vgg = L.VGG16Layers(pretrained_model=str(path))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} is not VGG16's weights as Chainer's VGG16Layers saves them ({error})") from None
    return VGG16Features(vgg, layer)
