"""course.functions computes what the Chainer functions it replaces compute, forward and backward."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy
import pytest
from chainer import gradient_check

from course.functions import Convolution2D, convolution_2d, max_pooling_2x2
from course.models import MnistCNN


def _forward_backward(function, arrays, gy_seed=1):
    """Outputs and input gradients of ``function(*variables)`` for a random output gradient."""
    variables = [chainer.Variable(a.copy()) for a in arrays]
    y = function(*variables)
    y.grad = numpy.random.RandomState(gy_seed).standard_normal(y.shape).astype(y.dtype)
    y.backward()
    return [y.array] + [v.grad for v in variables]


# ---------------------------------------------------------------- convolution


CONV_CASES = [
    # (N, C, H, W), (O, kh, kw), stride, pad, bias
    ((4, 1, 28, 28), (32, 3, 3), 1, 1, True),  # lesson 2's first layer
    ((4, 32, 14, 14), (64, 3, 3), 1, 1, True),  # and its second
    ((3, 5, 9, 7), (6, 3, 3), 1, 0, False),
    ((2, 3, 11, 10), (4, 5, 3), 2, (2, 1), True),
    ((2, 4, 8, 8), (3, 1, 1), (1, 2), 0, True),
    ((2, 2, 7, 9), (5, 3, 2), 3, 1, False),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad, bias", CONV_CASES)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_convolution_matches_chainer(x_shape, w_shape, stride, pad, bias, dtype):
    rng = numpy.random.RandomState(0)
    o, kh, kw = w_shape
    arrays = [rng.standard_normal(x_shape).astype(dtype),
              (rng.standard_normal((o, x_shape[1], kh, kw)) * 0.3).astype(dtype)]
    if bias:
        arrays.append(rng.standard_normal(o).astype(dtype))
    ours = _forward_backward(lambda *v: convolution_2d(*v, stride=stride, pad=pad), arrays)
    theirs = _forward_backward(lambda *v: F.convolution_2d(*v, stride=stride, pad=pad), arrays)
    assert ours[0].flags.c_contiguous
    epsilon = numpy.finfo(dtype).eps
    for name, a, b in zip(["y", "gx", "gW", "gb"], ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, name
        # The same products, summed in a possibly different order: equal up to rounding, which is
        # relative to the largest term (a gradient for W sums N*H*W products).
        scale = float(numpy.abs(b).max())
        numpy.testing.assert_allclose(a, b, rtol=100 * epsilon, atol=100 * epsilon * scale, err_msg=name)


@pytest.mark.parametrize("stride, pad", [(1, 1), (2, 0)])
def test_convolution_gradients_numerically(stride, pad):
    rng = numpy.random.RandomState(1)
    x = rng.standard_normal((2, 3, 6, 5))
    W = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    gy = rng.standard_normal(F.convolution_2d(x, W, b, stride, pad).shape)
    ggx, ggW, ggb = (rng.standard_normal(a.shape) for a in (x, W, b))

    def function(x, W, b):
        return convolution_2d(x, W, b, stride=stride, pad=pad)

    gradient_check.check_backward(function, (x, W, b), gy, dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    gradient_check.check_double_backward(function, (x, W, b), gy, (ggx, ggW, ggb),
                                         dtype=numpy.float64, atol=1e-6, rtol=1e-6)


def test_convolution_link_is_a_drop_in_for_l_convolution2d(tmp_path):
    standard = L.Convolution2D(3, 8, ksize=3, pad=1)
    ours = Convolution2D(3, 8, ksize=3, pad=1)
    assert sorted(name for name, _ in ours.namedparams()) == sorted(name for name, _ in standard.namedparams())
    chainer.serializers.save_npz(tmp_path / "standard.npz", standard)
    chainer.serializers.load_npz(tmp_path / "standard.npz", ours)  # the saved files are interchangeable
    x = numpy.random.RandomState(2).standard_normal((2, 3, 10, 10)).astype(numpy.float32)
    numpy.testing.assert_allclose(ours(x).array, standard(x).array, rtol=1e-5, atol=1e-6)
    # what the fast path does not cover (here: dilation) goes to Chainer's own function
    dilated, reference = Convolution2D(3, 4, ksize=3, dilate=2), L.Convolution2D(3, 4, ksize=3, dilate=2)
    reference.copyparams(dilated)
    numpy.testing.assert_array_equal(dilated(x).array, reference(x).array)


# ---------------------------------------------------------------- 2x2 max pooling


def _pool_inputs():
    rng = numpy.random.RandomState(3)
    yield "random", rng.standard_normal((3, 4, 8, 6)).astype(numpy.float32)
    yield "after ReLU (ties at 0)", numpy.maximum(rng.standard_normal((3, 4, 8, 8)), 0).astype(numpy.float32)
    yield "small integers (ties everywhere)", rng.randint(-2, 3, size=(2, 5, 6, 10)).astype(numpy.float32)
    yield "float64", rng.standard_normal((2, 3, 4, 4))
    yield "lesson 2 size", numpy.maximum(rng.standard_normal((2, 32, 28, 28)), 0).astype(numpy.float32)


@pytest.mark.parametrize("name, x", list(_pool_inputs()), ids=[name for name, _ in _pool_inputs()])
def test_max_pooling_is_bit_for_bit_chainers(name, x):
    ours = _forward_backward(max_pooling_2x2, [x])
    theirs = _forward_backward(lambda v: F.max_pooling_2d(v, 2), [x])
    bits = numpy.dtype(f"i{x.itemsize}")
    for label, a, b in zip(["y", "gx"], ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, label
        numpy.testing.assert_array_equal(a.view(bits), b.view(bits), err_msg=label)  # zeros' signs too


def test_max_pooling_gradients_numerically():
    rng = numpy.random.RandomState(4)
    x = rng.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6).astype(numpy.float64)  # no ties: differentiable
    gy = rng.standard_normal((2, 3, 2, 3))
    ggx = rng.standard_normal(x.shape)
    gradient_check.check_backward(max_pooling_2x2, x, gy, dtype=numpy.float64, eps=0.1)
    gradient_check.check_double_backward(max_pooling_2x2, x, gy, ggx, dtype=numpy.float64, eps=0.1)


def test_max_pooling_falls_back_on_odd_sizes():
    x = numpy.random.RandomState(5).standard_normal((2, 3, 7, 5)).astype(numpy.float32)
    ours = _forward_backward(max_pooling_2x2, [x])
    theirs = _forward_backward(lambda v: F.max_pooling_2d(v, 2), [x])
    assert ours[0].shape == (2, 3, 4, 3)
    for a, b in zip(ours, theirs):
        numpy.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- the lesson's CNN


class _ReferenceCNN(chainer.Chain):
    """MnistCNN written with Chainer's own layers and the textbook conv - ReLU - pool order."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(1, 32, ksize=3, pad=1)
            self.conv2 = L.Convolution2D(32, 64, ksize=3, pad=1)
            self.fc3 = L.Linear(64 * 7 * 7, 128)
            self.fc4 = L.Linear(128, 10)

    def forward(self, x):
        h = F.max_pooling_2d(F.relu(self.conv1(x)), 2)
        h = F.max_pooling_2d(F.relu(self.conv2(h)), 2)
        return self.fc4(F.dropout(F.relu(self.fc3(h)), 0.3))


def test_mnist_cnn_computes_what_the_standard_layers_compute():
    rng = numpy.random.RandomState(6)
    x = rng.uniform(0, 1, (8, 1, 28, 28)).astype(numpy.float32)
    t = rng.randint(0, 10, 8).astype(numpy.int32)
    ours, reference = L.Classifier(MnistCNN()), L.Classifier(_ReferenceCNN())
    ours(x[:1], t[:1])  # initialise any lazy parameters before copying
    reference.copyparams(ours)
    results = []
    for model in (ours, reference):
        numpy.random.seed(7)  # the same dropout mask
        loss = model(x, t)
        model.cleargrads()
        loss.backward()
        results.append((loss.array, {name: p.grad for name, p in model.namedparams()}))
    numpy.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for name, grad in results[1][1].items():
        numpy.testing.assert_allclose(results[0][1][name], grad, rtol=1e-4, atol=1e-6, err_msg=name)
