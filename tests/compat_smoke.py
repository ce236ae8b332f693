"""Run by tests/test_compat.py under other Pythons / NumPys: import, train, serialize, Caffe, resize."""
import importlib.util
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import course  # noqa: E402  (first: applies the shims)
import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402
import numpy  # noqa: E402

from course.data.augment import random_shift  # noqa: E402
from course.data.logic import truth_table  # noqa: E402
from course.data.mnist import _images_to_float  # noqa: E402
from course.models import MLP, MnistCNN  # noqa: E402
from course.models import load_model, save_model  # noqa: E402

assert chainer.__version__ == "7.8.1"

# training: a CNN and an MLP learn (loss falls) on the CPU
course.set_seed(0)
images = _images_to_float(numpy.random.randint(0, 256, (64, 28, 28)).astype(numpy.uint8))
assert images.dtype == numpy.float32, images.dtype  # NEP 50 must not promote the preprocessing
assert random_shift(images, 2).dtype == numpy.float32
labels = (images.reshape(64, -1).mean(axis=1) > numpy.median(images.reshape(64, -1).mean(axis=1))).astype(numpy.int32)
for model in (MnistCNN(n_out=2), MLP(n_hidden=32, n_out=2)):
    classifier = chainer.links.Classifier(model)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(classifier)
    losses = []
    for _ in range(15):
        loss = classifier(images, labels)
        classifier.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.array))
    assert losses[-1] < losses[0], (type(model).__name__, losses)

# npz round trip
with tempfile.TemporaryDirectory() as folder:
    path = save_model(model, os.path.join(folder, "m.npz"))
    again = load_model(path)
    numpy.testing.assert_array_equal(again.fc3.W.array, model.fc3.W.array)

# F.resize_images (numpy.float) and F.as_strided (numpy.sctypes)
x = numpy.arange(16, dtype=numpy.float32).reshape(1, 1, 4, 4)
assert F.resize_images(x, (8, 8)).shape == (1, 1, 8, 8)
assert F.resize_images(x, (2, 2), mode="nearest").array[0, 0, 0, 0] == 0
assert F.as_strided(numpy.arange(6, dtype=numpy.float32), (2, 2), (1, 1)).shape == (2, 2)

# Caffe: protobuf >= 4 must still load a model through CaffeFunction
from chainer.links.caffe import CaffeFunction  # noqa: E402
from chainer.links.caffe.protobuf3 import caffe_pb2  # noqa: E402

net = caffe_pb2.NetParameter(name="tiny")
layer = net.layer.add(name="fc", type="InnerProduct", bottom=["data"], top=["fc"])
layer.inner_product_param.num_output = 2
weights = layer.blobs.add()
weights.shape.dim.extend([2, 3])
weights.data.extend([1, 0, 0, 0, 1, 0])
bias = layer.blobs.add()
bias.shape.dim.extend([2])
bias.data.extend([0.5, -0.5])
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "tiny.caffemodel")
    with open(path, "wb") as f:
        f.write(net.SerializeToString())
    (y,) = CaffeFunction(path)(inputs={"data": numpy.array([[1, 2, 3]], numpy.float32)}, outputs=["fc"])
numpy.testing.assert_allclose(y.array, [[1.5, 1.5]])

assert truth_table("xor")[0].dtype == numpy.float32
pkg_resources = "present" if importlib.util.find_spec("pkg_resources") else "absent"
print(f"compat ok: Python {sys.version.split()[0]}, NumPy {numpy.__version__}, pkg_resources {pkg_resources}")
