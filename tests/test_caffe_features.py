"""A learner's own Caffe model as the image features of lesson 9 (course.models.caffe), on a model file the test writes."""
from __future__ import annotations

import numpy
import pytest

import course  # noqa: F401 (first: Chainer's Caffe reader on today's protobuf)
from chainer.links.caffe.protobuf3 import caffe_pb2
from course.errors import DataError
from course.models.caffe import IMAGENET_BGR_MEAN, CaffeFeatures

RNG = numpy.random.RandomState(0)
W = RNG.randn(4, 3 * 2 * 2).astype(numpy.float32)  # fc7: 12 inputs (3 channels of 2x2) -> 4 features
B = RNG.randn(4).astype(numpy.float32)


@pytest.fixture
def model_path(tmp_path):
    net = caffe_pb2.NetParameter(name="tiny")
    layer = net.layer.add(name="fc7", type="InnerProduct", bottom=["data"], top=["fc7"])
    layer.inner_product_param.num_output = 4
    weights = layer.blobs.add()
    weights.shape.dim.extend(W.shape)
    weights.data.extend(W.ravel().tolist())
    bias = layer.blobs.add()
    bias.shape.dim.extend(B.shape)
    bias.data.extend(B.tolist())
    relu = net.layer.add(name="relu7", type="ReLU", bottom=["fc7"], top=["relu7"])
    assert relu.name == "relu7"
    path = tmp_path / "tiny.caffemodel"
    path.write_bytes(net.SerializeToString())
    return path


def test_the_input_is_bgr_on_the_0_255_scale_without_the_mean(model_path):
    image = numpy.zeros((2, 2, 3), numpy.uint8)
    image[..., 0] = 200  # red
    prepared = CaffeFeatures(model_path, "fc7", insize=2).prepare([image])
    assert prepared.shape == (1, 3, 2, 2) and prepared.dtype == numpy.float32
    numpy.testing.assert_allclose(prepared[0, :, 0, 0], [0 - IMAGENET_BGR_MEAN[0], 0 - IMAGENET_BGR_MEAN[1],
                                                         200 - IMAGENET_BGR_MEAN[2]], rtol=1e-6)


def test_features_are_the_named_layers_output(model_path):
    images = [RNG.randint(0, 256, (5, 7, 3)).astype(numpy.uint8) for _ in range(3)]  # any size: resized to 2x2
    extractor = CaffeFeatures(model_path, "fc7", insize=2)
    expected = extractor.prepare(images).reshape(3, -1) @ W.T + B
    numpy.testing.assert_allclose(extractor.features(images, device="@numpy"), expected, rtol=1e-5, atol=1e-4)
    relu = CaffeFeatures(model_path, "relu7", insize=2).features(images, device="@numpy")
    numpy.testing.assert_allclose(relu, numpy.maximum(expected, 0), rtol=1e-5, atol=1e-4)


def test_bad_paths_and_layers_are_named(model_path, tmp_path):
    with pytest.raises(DataError, match="has no layer output 'fc6'; it has: fc7, relu7"):
        CaffeFeatures(model_path, "fc6")
    with pytest.raises(DataError, match="is not a file"):
        CaffeFeatures(tmp_path / "missing.caffemodel", "fc7")
    junk = tmp_path / "junk.caffemodel"
    junk.write_bytes(b"\xff\xfe not a protobuf message \x00" * 10)
    with pytest.raises(DataError, match="Caffe model"):
        CaffeFeatures(junk, "fc7")
