"""A learner's own Caffe model as a feature extractor, through Chainer's ``CaffeFunction``.

The seed took its image features from a Caffe model trained on ImageNet (the output of a fully
connected layer such as ``fc7``). :class:`CaffeFeatures` loads any ``.caffemodel`` file from a local
path (``course.compat`` makes Chainer's Caffe reader work with today's protobuf) and gives, for a
batch of RGB images, the flattened output of one named layer, prepared the way Caffe's ImageNet
models expect their input: resized to the network's side, channels in BGR order, the per-channel
mean subtracted, on the 0-255 scale.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import chainer
import chainer.functions as F
import numpy

from course.errors import DataError
from course.images import as_float, resize, to_rgb
from course.models.core import predict

IMAGENET_BGR_MEAN = (104.0, 117.0, 123.0)
"""The per-channel mean (B, G, R) that Caffe's ImageNet models (CaffeNet, VGG, GoogLeNet) subtract."""


class CaffeFeatures(chainer.Chain):
    """The output of ``layer`` of the Caffe model at ``path``, flattened to (N, features), for batches of images.

    ``insize`` is the side the network takes (224 for VGG16 and GoogLeNet, 227 for CaffeNet);
    ``mean`` the (B, G, R) mean it subtracts; ``input_blob`` the name of its input (``data``).
    A missing or unreadable file, or a layer the model does not have, raises :class:`DataError`.
    """

    def __init__(self, path: str | os.PathLike, layer: str, *, insize: int = 224,
                 mean: Sequence[float] = IMAGENET_BGR_MEAN, input_blob: str = "data"):
        super().__init__()
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path} is not a file: give the path of a .caffemodel file (e.g. VGG_ILSVRC_16_layers"
                            ".caffemodel, downloaded once)")
        from chainer.links.caffe import CaffeFunction

        try:
            function = CaffeFunction(str(path))
        except Exception as error:  # protobuf raises its own DecodeError for a file that is no model
            raise DataError(f"{path} cannot be read as a Caffe model ({type(error).__name__}: {error}): give a "
                            ".caffemodel file (the weights, not the .prototxt)") from None
        blobs = [top for _, _, tops in function.layers for top in tops]
        if not blobs:
            raise DataError(f"{path} holds no layer that Chainer's CaffeFunction can run: is it a .caffemodel file?")
        if layer not in blobs:
            raise DataError(f"{path} has no layer output {layer!r}; it has: {', '.join(blobs)}")
        with self.init_scope():
            self.function = function
        self.layer, self.insize, self.input_blob = layer, insize, input_blob
        self.mean = numpy.asarray(mean, numpy.float32).reshape(1, 3, 1, 1)

    def prepare(self, images: Sequence[numpy.ndarray]) -> numpy.ndarray:
        """RGB (or grey) images of any size and dtype as the network's input batch (N, 3, insize, insize), BGR, mean off."""
        batch = numpy.stack([resize(as_float(to_rgb(image)), (self.insize, self.insize)) for image in images])
        bgr = batch[..., ::-1].transpose(0, 3, 1, 2) * numpy.float32(255)
        return numpy.ascontiguousarray(bgr - self.mean, dtype=numpy.float32)

    def forward(self, x):
        """The flattened output of the layer for a prepared batch ``x`` (N, 3, insize, insize)."""
        (h,) = self.function(inputs={self.input_blob: x}, outputs=[self.layer])
        return F.reshape(h, (h.shape[0], -1))

    def features(self, images: Sequence[numpy.ndarray], *, batch_size: int = 32, device=None) -> numpy.ndarray:
        """(N, features) float32 for ``images``, batch by batch, in test mode, on ``device``."""
        return predict(self, self.prepare(images), batch_size=batch_size, device=device)
