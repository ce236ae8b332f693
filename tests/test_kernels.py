"""course.kernels: Chainer's convolution, deconvolution, batch normalisation and max pooling compute what
Chainer's own code computes.

Each test runs the same computation with the kernels installed and inside ``kernels.disabled()``
(Chainer's own code), forward, backward and double backward, and checks which calls took the fast
path. The shapes include those of Chainer's own tests (tests/chainer_tests/functions_tests/
connection_tests/test_convolution_2d.py and test_deconvolution_2d.py, normalization_tests/
test_batch_normalization.py and pooling_tests/test_max_pooling_2d.py).
"""
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import chainer
import chainer.functions as F
import chainer.links as L
import numpy
import pytest
from chainer import gradient_check
from chainer.functions.connection.convolution_2d import Convolution2DFunction
from chainer.functions.connection.deconvolution_2d import Deconvolution2DFunction
from chainer.functions.normalization.batch_normalization import (BatchNormalization, BatchNormalizationGrad,
                                                                GeneralBatchNormalizationImpl)
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND

from course import kernels
from course.kernels import batch_normalization
from course.models import MnistCNN

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def kernels_installed():
    """Every test starts with the kernels installed, as ``import course`` leaves them; then as before."""
    was_installed = kernels.installed()
    kernels.install()
    yield
    if not was_installed:
        kernels.uninstall()


def _derivatives(function, arrays, gy, ggs):
    """``function``'s output, first derivatives and second derivatives, and the nodes that made them.

    Returns ``(values, nodes)``: ``values`` are ``y``, the gradients of the inputs for the output
    gradient ``gy``, then (unless ``ggs`` is None) the gradients of ``sum(g * gg for g, gg in
    zip(gradients, ggs))`` for the inputs and ``gy`` (None where there is none); ``nodes`` are the
    creators of ``y`` and of the first-order gradients.
    """
    inputs = [chainer.Variable(a) for a in arrays]
    gy = chainer.Variable(gy)
    y = function(*inputs)
    grads = chainer.grad([y], inputs, grad_outputs=[gy], enable_double_backprop=True)
    values, nodes = [y.array] + [g.array for g in grads], [y.creator] + [g.creator for g in grads]
    if ggs is not None:
        second = chainer.grad([sum(F.sum(g * gg) for g, gg in zip(grads, ggs))], inputs + [gy])
        values += [None if g is None else g.array for g in second]
    return values, nodes


def _with_and_without(function, arrays, gy, ggs):
    """:func:`_derivatives` with the kernels, and with Chainer's own code."""
    ours = _derivatives(function, arrays, gy, ggs)
    with kernels.disabled():
        assert not kernels.installed()
        theirs = _derivatives(function, arrays, gy, ggs)
    assert kernels.installed()
    assert not any(kernels.used_fast_path(node) for node in theirs[1])
    return ours, theirs


def _from_course(node) -> bool:
    return type(node).__module__.startswith("course.kernels")


def _assert_close(ours, theirs, names, dtype):
    """Equal up to the rounding of sums taken in another order, which is relative to the largest term."""
    epsilon = numpy.finfo(dtype).eps
    for name, a, b in zip(names, ours, theirs, strict=True):
        if b is None:  # the bias enters linearly: no second derivative
            assert a is None, name
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, name
        scale = float(numpy.abs(b).max())  # a gradient for W sums N*H*W products
        numpy.testing.assert_allclose(a, b, rtol=100 * epsilon, atol=100 * epsilon * scale, err_msg=name)


# ---------------------------------------------------------------- convolution

# (N, C, H, W), (O, C / groups, kh, kw), keyword arguments, bias
CHAINER_CONV_CASES = [  # Chainer's TestConvolution2DFunction
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), True),
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), False),
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1, cover_all=True), True),
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1, cover_all=True), False),
]
FAST_CONV_CASES = CHAINER_CONV_CASES + [
    ((2, 1, 28, 28), (32, 1, 3, 3), dict(pad=1), True),  # lesson 2's first layer
    ((2, 32, 14, 14), (64, 32, 3, 3), dict(pad=1), True),  # and its second
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(), True),  # a batch of one
    ((3, 5, 9, 7), (6, 5, 3, 3), dict(), False),  # odd sizes
    ((2, 3, 11, 10), (4, 3, 5, 3), dict(stride=2, pad=(2, 1)), True),
    ((2, 2, 7, 9), (5, 2, 3, 2), dict(stride=3, pad=1), False),
    ((2, 2, 8, 9), (5, 2, 3, 2), dict(stride=3, pad=1, cover_all=True), True),  # windows past the padding
    ((2, 4, 8, 8), (3, 4, 1, 1), dict(stride=(1, 2)), True),  # 1x1 kernels
    ((2, 3, 5, 4), (2, 3, 5, 4), dict(), True),  # a kernel as large as the image: one output pixel
    ((2, 3, 5, 4), (2, 3, 5, 4), dict(pad=1), False),
    ((2, 1, 28, 28), (32, 1, 4, 4), dict(stride=2, pad=1), True),  # a DCGAN discriminator's layers
    ((2, 32, 14, 14), (64, 32, 4, 4), dict(stride=2, pad=1), True),
    ((2, 2, 9, 8), (3, 2, 4, 3), dict(stride=(3, 2), pad=(2, 0)), True),  # the phases of transposed()
    ((3, 4, 7, 7), (2, 4, 3, 3), dict(stride=2, pad=2, cover_all=True), False),
]
FALLBACK_CONV_CASES = [  # (N, C, H, W), (O, C / groups, kh, kw), keyword arguments, bias, x dtype, W dtype
    ((2, 6, 4, 3), (4, 3, 3, 3), dict(stride=2, pad=1, groups=2), True, "f", "f"),  # Chainer's, groups 2
    ((2, 6, 4, 3), (4, 3, 3, 3), dict(stride=2, pad=1, cover_all=True, groups=2), False, "f", "f"),
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=2, dilate=2), True, "f", "f"),  # its cuDNN-call test's
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), True, "e", "e"),  # float16
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), True, "f", "d"),  # mixed dtypes (Chainer has
    ((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), False, "e", "d"),  # no double backward for them)
]


def _conv_arrays(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype, seed=0, fortran=False):
    """Inputs, output gradient and second-order input gradients for one convolution."""
    rng = numpy.random.RandomState(seed)
    x = rng.uniform(-1, 1, x_shape).astype(x_dtype)
    W = rng.normal(0, numpy.sqrt(1 / numpy.prod(w_shape[1:])), w_shape).astype(w_dtype)
    arrays = [x, W] + ([rng.uniform(-1, 1, w_shape[0]).astype(x_dtype)] if bias else [])
    gy = rng.uniform(-1, 1, F.convolution_2d(*arrays, **kwargs).shape).astype(x_dtype)
    ggs = [rng.uniform(-1, 1, a.shape).astype(a.dtype) for a in arrays]
    if fortran:  # Chainer's tests run on non-contiguous arrays too
        arrays, gy, ggs = [numpy.asfortranarray(a) for a in arrays], numpy.asfortranarray(gy), ggs
    return arrays, gy, ggs


@pytest.mark.parametrize("x_shape, w_shape, kwargs, bias", FAST_CONV_CASES)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_convolution_takes_the_fast_path_and_matches_chainer(x_shape, w_shape, kwargs, bias, dtype):
    arrays, gy, ggs = _conv_arrays(x_shape, w_shape, kwargs, bias, dtype, dtype)
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.convolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert isinstance(nodes[0], Convolution2DFunction) and kernels.used_fast_path(nodes[0])
    assert all(_from_course(node) for node in nodes[1:3])  # gx and gW on the fast gradients
    assert ours[0].flags.c_contiguous and ours[1].flags.c_contiguous
    names = ["y", "gx", "gW", "gb"][:1 + len(arrays)] + ["ggx", "ggW", "ggb"][:len(arrays)] + ["ggy"]
    _assert_close(ours, theirs, names, dtype)  # the same products, summed in a possibly different order


@pytest.mark.parametrize("x_shape, w_shape, kwargs, bias, x_dtype, w_dtype", FALLBACK_CONV_CASES)
def test_convolution_falls_back_to_chainer(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype):
    arrays, gy, ggs = _conv_arrays(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype)
    ggs = ggs if x_dtype == w_dtype else None
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.convolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert not kernels.used_fast_path(nodes[0])
    assert not any(_from_course(node) for node in nodes)  # Chainer's backward for Chainer's forward
    for a, b in zip(ours, theirs, strict=True):
        numpy.testing.assert_array_equal(a, b)  # Chainer's own code both times


def test_convolution_on_non_contiguous_arrays():
    arrays, gy, ggs = _conv_arrays((2, 3, 4, 3), (2, 3, 3, 3), dict(stride=2, pad=1), True, "f", "f",
                                   fortran=True)
    (ours, nodes), (theirs, _) = _with_and_without(
        lambda *v: F.convolution_2d(*v, stride=2, pad=1), arrays, gy, ggs)
    assert kernels.used_fast_path(nodes[0])
    for a, b in zip(ours, theirs):
        if b is not None:
            numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_convolution_backward_of_a_broadcast_gradient():
    """Chainer's TestConvolution2DBackwardNoncontiguousGradOutputs: F.sum's gradient is a broadcast view."""
    x = numpy.ones((2, 3, 10, 10), numpy.float32)
    grads = []
    for context in (contextlib.nullcontext, kernels.disabled):
        W = chainer.Variable(numpy.ones((1, 3, 3, 3), numpy.float32))  # one output channel: important
        with context():
            y = F.convolution_2d(x, W)
            F.sum(y).backward()
        assert kernels.used_fast_path(y.creator) == (context is contextlib.nullcontext)
        grads.append(W.grad)
    numpy.testing.assert_array_equal(*grads)  # sums of ones: exact either way


def test_convolution_without_backprop():
    rng = numpy.random.RandomState(2)
    x, W, b = rng.standard_normal((2, 3, 10, 10)), rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    node = Convolution2DFunction(pad=1)
    with chainer.no_backprop_mode():
        y, = node.apply((x, W, b))
    assert kernels.used_fast_path(node)
    with kernels.disabled():
        numpy.testing.assert_allclose(y.array, F.convolution_2d(x, W, b, pad=1).array, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(stride=1, pad=1), dict(stride=2), dict(stride=2, pad=1, cover_all=True)])
def test_convolution_gradients_numerically(kwargs):
    rng = numpy.random.RandomState(1)
    x = rng.standard_normal((2, 3, 6, 5))
    W = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    gy = rng.standard_normal(F.convolution_2d(x, W, b, **kwargs).shape)
    ggx, ggW, ggb = (rng.standard_normal(a.shape) for a in (x, W, b))
    nodes = []

    def function(x, W, b):
        y = F.convolution_2d(x, W, b, **kwargs)
        nodes.append(y.creator)
        return y

    gradient_check.check_backward(function, (x, W, b), gy, dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    gradient_check.check_double_backward(function, (x, W, b), gy, (ggx, ggW, ggb),
                                         dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    assert nodes and all(kernels.used_fast_path(node) for node in nodes)


# ---------------------------------------------------------------- max pooling


def _pool_inputs():
    rng = numpy.random.RandomState(3)
    x = numpy.arange(2 * 3 * 4 * 4, dtype=numpy.float32).reshape(2, 3, 4, 4)  # Chainer's indices test
    rng.shuffle(x.ravel())
    yield "Chainer's 4x4", x
    yield "random", rng.standard_normal((3, 4, 8, 6)).astype(numpy.float32)
    yield "after ReLU (ties at 0)", numpy.maximum(rng.standard_normal((3, 4, 8, 8)), 0).astype(numpy.float32)
    yield "small integers (ties everywhere)", rng.randint(-2, 3, size=(2, 5, 6, 10)).astype(numpy.float32)
    yield "signed zeros", rng.choice([-0.0, 0.0], size=(2, 3, 4, 6)).astype(numpy.float32)
    yield "float64", rng.standard_normal((2, 3, 4, 4))
    yield "float16", rng.standard_normal((2, 3, 4, 6)).astype(numpy.float16)
    yield "one 2x2 image (batch of 1)", rng.standard_normal((1, 1, 2, 2)).astype(numpy.float32)
    yield "lesson 2, first layer", rng.standard_normal((2, 32, 28, 28)).astype(numpy.float32)
    yield "lesson 2, second layer", rng.standard_normal((2, 64, 14, 14)).astype(numpy.float32)
    yield "Fortran order", numpy.asfortranarray(rng.standard_normal((2, 3, 6, 4)).astype(numpy.float32))
    special = rng.standard_normal((2, 3, 4, 6)).astype(numpy.float32)
    special.ravel()[rng.choice(special.size, 20, replace=False)] = [numpy.nan] * 8 + [numpy.inf, -numpy.inf] * 6
    yield "NaN and infinities", special


def _bits(array):
    return array.view(numpy.dtype(f"i{array.itemsize}"))


def _assert_bit_for_bit(ours, theirs, names):
    for name, a, b in zip(names, ours, theirs, strict=True):
        if b is None:
            assert a is None, name
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, name
        nan = numpy.isnan(b)
        numpy.testing.assert_array_equal(numpy.isnan(a), nan, err_msg=name)
        numpy.testing.assert_array_equal(_bits(a)[~nan], _bits(b)[~nan], err_msg=name)  # zeros' signs too


POOL_NAMES = ["y", "gx", "ggx (none: piecewise linear)", "ggy"]


@pytest.mark.parametrize("name, x", list(_pool_inputs()), ids=[name for name, _ in _pool_inputs()])
@pytest.mark.parametrize("cover_all", [True, False])
def test_max_pooling_takes_the_fast_path_and_is_bit_for_bit_chainers(name, x, cover_all):
    rng = numpy.random.RandomState(4)
    n, c, h, w = x.shape
    gy = rng.standard_normal((n, c, h // 2, w // 2)).astype(x.dtype)
    if name == "NaN and infinities":  # in the gradients too
        gy.ravel()[:4] = [numpy.nan, numpy.inf, -numpy.inf, -0.0]
    ggx = rng.standard_normal(x.shape).astype(x.dtype)
    (ours, nodes), (theirs, _) = _with_and_without(
        lambda v: F.max_pooling_2d(v, 2, cover_all=cover_all), [x], gy, [ggx])
    assert isinstance(nodes[0], MaxPoolingND) and kernels.used_fast_path(nodes[0])
    assert _from_course(nodes[1])  # the fast gradient
    _assert_bit_for_bit(ours, theirs, POOL_NAMES)


FALLBACK_POOL_CASES = [  # x shape, F.max_pooling_2d's arguments after x
    ((2, 3, 4, 3), dict(ksize=3, stride=2, pad=1, cover_all=True)),  # Chainer's TestMaxPooling2D
    ((2, 3, 4, 3), dict(ksize=3, stride=2, pad=1, cover_all=False)),
    ((2, 3, 15, 15), dict(ksize=6, stride=6, pad=0)),  # Chainer's test_forward_cpu_wide
    ((2, 3, 7, 5), dict(ksize=2)),  # odd sizes
    ((2, 3, 8, 5), dict(ksize=2, cover_all=False)),
    ((2, 3, 4, 4), dict(ksize=2, stride=1)),
    ((2, 3, 4, 4), dict(ksize=2, pad=1)),
    ((2, 3, 4, 4), dict(ksize=(2, 1), stride=2)),
]


@pytest.mark.parametrize("x_shape, kwargs", FALLBACK_POOL_CASES)
def test_max_pooling_falls_back_to_chainer(x_shape, kwargs):
    rng = numpy.random.RandomState(5)
    x = rng.permutation(numpy.prod(x_shape)).reshape(x_shape).astype(numpy.float32)
    y_shape = F.max_pooling_2d(x, **kwargs).shape
    gy, ggx = (rng.standard_normal(shape).astype(numpy.float32) for shape in (y_shape, x_shape))
    (ours, nodes), (theirs, _) = _with_and_without(lambda v: F.max_pooling_2d(v, **kwargs), [x], gy, [ggx])
    assert not kernels.used_fast_path(nodes[0]) and not _from_course(nodes[1])
    _assert_bit_for_bit(ours, theirs, POOL_NAMES)


def test_max_pooling_with_indices_and_other_dimensions_fall_back():
    x = numpy.arange(2 * 3 * 4 * 4, dtype=numpy.float32).reshape(2, 3, 4, 4)
    numpy.random.RandomState(6).shuffle(x.ravel())
    y, indices = F.max_pooling_2d(x, 2, cover_all=False, return_indices=True)  # Chainer's indices test
    assert not kernels.used_fast_path(y.creator)
    expected = x.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4).argmax(axis=4)
    numpy.testing.assert_array_equal(indices, expected)
    for pool, shape in ((F.max_pooling_1d, (2, 3, 4)), (F.max_pooling_3d, (2, 3, 4, 4, 4))):
        assert not kernels.used_fast_path(pool(numpy.ones(shape, numpy.float32), 2).creator)


def test_max_pooling_gradients_numerically():
    rng = numpy.random.RandomState(7)
    x = rng.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6).astype(numpy.float64)  # no ties: differentiable
    gy = rng.standard_normal((2, 3, 2, 3))
    ggx = rng.standard_normal(x.shape)
    nodes = []

    def function(x):
        y = F.max_pooling_2d(x, 2)
        nodes.append(y.creator)
        return y

    gradient_check.check_backward(function, x, gy, dtype=numpy.float64, eps=0.1)
    gradient_check.check_double_backward(function, x, gy, ggx, dtype=numpy.float64, eps=0.1)
    assert nodes and all(kernels.used_fast_path(node) for node in nodes)


def test_max_pooling_backward_more_than_once():
    """As Chainer's test_backward_cpu_more_than_once: backward does not use up the node's state."""
    x = numpy.random.RandomState(8).standard_normal((2, 3, 4, 4)).astype(numpy.float32)
    gy = numpy.ones((2, 3, 2, 2), numpy.float32)
    node = MaxPoolingND(2, 2)
    y, = node.apply((x,))
    assert kernels.used_fast_path(node)
    first, second = (node.backward((0,), (chainer.Variable(gy),))[0].array for _ in range(2))
    numpy.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------- deconvolution

# (N, C_in, h, w), (C_in, C_out / groups, kh, kw), keyword arguments, bias
CHAINER_DECONV_CASES = [  # Chainer's TestDeconvolution2DFunction, groups 1 and dilation 1
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=stride, pad=1, outsize=outsize), bias)
    for stride, outsize in ((1, (4, 3)), (1, None), (2, (7, 5)), (2, None)) for bias in (False, True)
]
FAST_DECONV_CASES = CHAINER_DECONV_CASES + [
    ((2, 64, 7, 7), (64, 32, 4, 4), dict(stride=2, pad=1), True),  # a DCGAN generator's layers
    ((2, 32, 14, 14), (32, 1, 4, 4), dict(stride=2, pad=1), True),
    ((1, 3, 2, 2), (3, 4, 3, 3), dict(), False),  # a batch of one, no padding
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, pad=1, outsize=(8, 6)), True),  # outsize a pixel larger
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, pad=1, outsize=(6, 4)), False),  # cover_all in the gradient
    ((2, 2, 3, 5), (2, 3, 5, 2), dict(stride=(3, 2), pad=(2, 1)), True),
    ((3, 5, 4, 4), (5, 2, 1, 1), dict(stride=2), True),  # 1x1 kernels
]
FALLBACK_DECONV_CASES = [  # (N, C_in, h, w), (C_in, C_out / groups, kh, kw), arguments, bias, x dtype, W dtype
    ((2, 6, 4, 3), (6, 2, 3, 3), dict(stride=2, pad=1, groups=2), True, "f", "f"),  # Chainer's, groups 2
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, pad=1, dilate=2), False, "f", "f"),  # and dilation 2
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, pad=1), True, "e", "e"),  # float16
    ((2, 3, 4, 3), (3, 2, 3, 3), dict(stride=2, pad=1), True, "f", "d"),  # mixed dtypes
]


def _deconv_arrays(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype, seed=11, fortran=False):
    """Inputs, output gradient and second-order input gradients for one deconvolution."""
    rng = numpy.random.RandomState(seed)
    x = rng.uniform(-1, 1, x_shape).astype(x_dtype)
    W = rng.normal(0, numpy.sqrt(1 / numpy.prod(w_shape[1:])), w_shape).astype(w_dtype)
    groups = kwargs.get("groups", 1)
    arrays = [x, W] + ([rng.uniform(-1, 1, w_shape[1] * groups).astype(x_dtype)] if bias else [])
    gy = rng.uniform(-1, 1, F.deconvolution_2d(*arrays, **kwargs).shape).astype(x_dtype)
    ggs = [rng.uniform(-1, 1, a.shape).astype(a.dtype) for a in arrays]
    if fortran:  # as Chainer's test: Fortran order, and a strided bias
        arrays, gy = [numpy.asfortranarray(a) for a in arrays[:2]] + arrays[2:], numpy.asfortranarray(gy)
        if bias:
            strided = numpy.empty(2 * len(arrays[2]), dtype=x_dtype)
            strided[::2] = arrays[2]
            arrays[2] = strided[::2]
    return arrays, gy, ggs


@pytest.mark.parametrize("x_shape, w_shape, kwargs, bias", FAST_DECONV_CASES)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_deconvolution_takes_the_fast_path_and_matches_chainer(x_shape, w_shape, kwargs, bias, dtype):
    arrays, gy, ggs = _deconv_arrays(x_shape, w_shape, kwargs, bias, dtype, dtype)
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.deconvolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert isinstance(nodes[0], Deconvolution2DFunction) and kernels.used_fast_path(nodes[0])
    assert isinstance(nodes[1], Convolution2DFunction) and kernels.used_fast_path(nodes[1])  # gx: a convolution
    assert _from_course(nodes[2])  # gW on the fast gradient
    assert ours[0].flags.c_contiguous  # Chainer's output is a view into a padded image
    names = ["y", "gx", "gW", "gb"][:1 + len(arrays)] + ["ggx", "ggW", "ggb"][:len(arrays)] + ["ggy"]
    _assert_close(ours, theirs, names, dtype)


def test_deconvolution_at_the_size_of_chainers_cudnn_determinism_test():
    kwargs = dict(stride=2, pad=1)
    arrays, gy, ggs = _deconv_arrays((2, 64, 32, 128), (64, 64, 3, 3), kwargs, True, "f", "f")
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.deconvolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert ours[0].shape == (2, 64, 63, 255) and kernels.used_fast_path(nodes[0])
    _assert_close(ours, theirs, ["y", "gx", "gW", "gb", "ggx", "ggW", "ggb", "ggy"], numpy.float32)


@pytest.mark.parametrize("bias", [False, True])
def test_deconvolution_on_non_contiguous_arrays(bias):
    kwargs = dict(stride=2, pad=1, outsize=(7, 5))
    arrays, gy, ggs = _deconv_arrays((2, 3, 4, 3), (3, 2, 3, 3), kwargs, bias, "f", "f", fortran=True)
    assert not arrays[0].flags.c_contiguous and not arrays[1].flags.c_contiguous
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.deconvolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert kernels.used_fast_path(nodes[0])
    names = ["y", "gx", "gW", "gb"][:1 + len(arrays)] + ["ggx", "ggW", "ggb"][:len(arrays)] + ["ggy"]
    _assert_close(ours, theirs, names, numpy.float32)


@pytest.mark.parametrize("x_shape, w_shape, kwargs, bias, x_dtype, w_dtype", FALLBACK_DECONV_CASES)
def test_deconvolution_falls_back_to_chainer(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype):
    arrays, gy, ggs = _deconv_arrays(x_shape, w_shape, kwargs, bias, x_dtype, w_dtype)
    ggs = ggs if x_dtype == w_dtype else None  # Chainer has no double backward for mixed dtypes
    (ours, nodes), (theirs, _) = _with_and_without(lambda *v: F.deconvolution_2d(*v, **kwargs), arrays, gy, ggs)
    assert not kernels.used_fast_path(nodes[0])
    assert not any(_from_course(node) for node in nodes)  # Chainer's backward for Chainer's forward
    for a, b in zip(ours, theirs, strict=True):
        numpy.testing.assert_array_equal(a, b)  # Chainer's own code both times


def test_deconvolution_without_backprop_and_its_error_for_an_empty_output():
    rng = numpy.random.RandomState(12)
    x, W, b = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((4, 3, 4, 4)), rng.standard_normal(3)
    node = Deconvolution2DFunction(stride=2, pad=1)
    with chainer.no_backprop_mode():
        y, = node.apply((x, W, b))
    assert kernels.used_fast_path(node)
    with kernels.disabled():
        numpy.testing.assert_allclose(y.array, F.deconvolution_2d(x, W, b, stride=2, pad=1).array,
                                      rtol=1e-12, atol=1e-12)
    for context in (contextlib.nullcontext, kernels.disabled):  # Chainer's own error, either way
        with context(), pytest.raises(RuntimeError, match="must be positive"):
            F.deconvolution_2d(numpy.ones((1, 1, 1, 1)), numpy.ones((1, 1, 1, 1)), pad=1)


@pytest.mark.parametrize("kwargs", [dict(stride=1, pad=1), dict(stride=2), dict(stride=2, pad=1, outsize=(6, 4))])
def test_deconvolution_gradients_numerically(kwargs):
    rng = numpy.random.RandomState(13)
    x = rng.standard_normal((2, 3, 4, 3))
    W = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(2)
    gy = rng.standard_normal(F.deconvolution_2d(x, W, b, **kwargs).shape)
    ggx, ggW, ggb = (rng.standard_normal(a.shape) for a in (x, W, b))
    nodes = []

    def function(x, W, b):
        y = F.deconvolution_2d(x, W, b, **kwargs)
        nodes.append(y.creator)
        return y * y  # nonlinear, as in Chainer's double backward test

    gradient_check.check_backward(function, (x, W, b), gy, dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    gradient_check.check_double_backward(function, (x, W, b), gy, (ggx, ggW, ggb),
                                         dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    assert nodes and all(kernels.used_fast_path(node) for node in nodes)


# ---------------------------------------------------------------- batch normalisation

# x shape, the shape of gamma and beta, axis (None: Chainer's default, every axis but gamma's)
CHAINER_BN_CASES = [  # Chainer's TestBatchNormalization: (5,) + param_shape + (2,) * ndim, and its axes
    ((5,) + param_shape + (2,) * ndim, param_shape, None) for param_shape in ((3,), (3, 4), (3, 2, 3))
    for ndim in (0, 1, 2)
] + [((5, 4, 3, 2), (4,), (0, 2, 3)), ((5, 4), (4,), 0), ((5, 4, 3), (3,), (0, 1))]
FAST_BN_CASES = CHAINER_BN_CASES + [
    ((64, 64, 7, 7), (64,), None),  # a DCGAN's layers
    ((64, 32, 14, 14), (32,), None),
    ((10, 8, 24, 24), (8,), None),  # lesson 4's first one
    ((1, 3, 2, 2), (3,), None),  # a batch of one image
]


def _bn_arrays(x_shape, param_shape, dtype, gamma_dtype=None, seed=14, fortran=False):
    """``[x, gamma, beta]``, the output gradient, second-order gradients and running averages."""
    rng = numpy.random.RandomState(seed)
    gamma_dtype = gamma_dtype or dtype
    x = (rng.uniform(-1, 1, x_shape) * 3 + 1).astype(dtype)
    gamma = rng.uniform(.5, 1, param_shape).astype(gamma_dtype)
    beta = rng.uniform(-1, 1, param_shape).astype(gamma_dtype)
    gy = rng.uniform(-1, 1, x_shape).astype(dtype)
    ggs = [rng.uniform(-1, 1, a.shape).astype(a.dtype) for a in (x, gamma, beta)]
    running = [rng.uniform(-1, 1, param_shape).astype(gamma_dtype), rng.uniform(.5, 1, param_shape).astype(gamma_dtype)]
    arrays = [x, gamma, beta]
    if fortran:  # as Chainer's test
        arrays, gy, running = ([numpy.asfortranarray(a) for a in arrays], numpy.asfortranarray(gy),
                               [numpy.asfortranarray(a) for a in running])
    return arrays, gy, ggs, running


def _bn_with_and_without(arrays, gy, ggs, running, **kwargs):
    """:func:`_with_and_without` for ``F.batch_normalization``, on copies of the running averages.

    Returns ``(ours, nodes), (theirs, _)`` as it does, each value list followed by the updated
    running averages (when there are any).
    """
    results = []
    for context in (contextlib.nullcontext, kernels.disabled):
        averages = [a.copy(order="K") for a in running]
        with context():
            values, nodes = _derivatives(lambda *v: F.batch_normalization(
                *v, running_mean=averages[0] if averages else None, running_var=averages[1] if averages else None,
                **kwargs), arrays, gy, ggs)
        results.append((values + averages, nodes))
    assert not any(kernels.used_fast_path(node) for node in results[1][1])
    return results


BN_NAMES = ["y", "gx", "ggamma", "gbeta", "ggx", "gggamma", "ggbeta", "ggy"]


@pytest.fixture
def fast_bn_backward(monkeypatch):
    """A list that gets one entry for each gradient computed on the fast kernel."""
    calls = []
    original = batch_normalization._backward
    monkeypatch.setattr(batch_normalization, "_backward", lambda *a: calls.append(1) or original(*a))
    return calls


@pytest.mark.parametrize("x_shape, param_shape, axis", FAST_BN_CASES)
@pytest.mark.parametrize("eps", [2e-5, 5e-1])
@pytest.mark.parametrize("fortran", [False, True])
@pytest.mark.parametrize("running", [False, True])
def test_batch_normalization_takes_the_fast_path_and_is_bit_for_bit_chainers(
        x_shape, param_shape, axis, eps, fortran, running, fast_bn_backward):
    arrays, gy, ggs, averages = _bn_arrays(x_shape, param_shape, numpy.float32, fortran=fortran)
    (ours, nodes), (theirs, _) = _bn_with_and_without(arrays, gy, ggs, averages if running else [],
                                                       eps=eps, decay=0.9, axis=axis)
    assert isinstance(nodes[0], BatchNormalization) and kernels.used_fast_path(nodes[0])
    assert isinstance(nodes[1], BatchNormalizationGrad) and fast_bn_backward == [1]
    _assert_bit_for_bit(ours, theirs, BN_NAMES + ["running mean", "running var"][:2 * running])


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_batch_normalization_in_both_dtypes_and_the_link(dtype, fast_bn_backward):
    arrays, gy, ggs, averages = _bn_arrays((5, 3, 2), (3,), dtype)
    (ours, nodes), (theirs, _) = _bn_with_and_without(arrays, gy, ggs, averages)
    assert kernels.used_fast_path(nodes[0]) and fast_bn_backward == [1]
    _assert_bit_for_bit(ours, theirs, BN_NAMES + ["running mean", "running var"])
    x = arrays[0]
    links = L.BatchNormalization(3, dtype=dtype), L.BatchNormalization(3, dtype=dtype)
    outputs, fast = [], []
    for link, context in zip(links, (contextlib.nullcontext, kernels.disabled)):
        with context():
            train = link(x)  # training: batch statistics, running averages updated
            with chainer.using_config("train", False):
                test = link(x)  # test mode: FixedBatchNormalization, Chainer's own
        outputs.append([train.array, test.array, link.avg_mean, link.avg_var])
        fast.append((kernels.used_fast_path(train.creator), kernels.used_fast_path(test.creator)))
    assert fast == [(True, False), (False, False)]
    _assert_bit_for_bit(*outputs, ["train", "test", "avg_mean", "avg_var"])


FALLBACK_BN_CASES = [  # x dtype, gamma and beta dtype
    ("e", "e"),  # float16 (Chainer's test has it)
    ("e", "f"),  # mixed dtypes
    ("f", "d"),
]


@pytest.mark.parametrize("x_dtype, gamma_dtype", FALLBACK_BN_CASES)
def test_batch_normalization_falls_back_to_chainer(x_dtype, gamma_dtype, fast_bn_backward):
    arrays, gy, ggs, averages = _bn_arrays((5, 3, 2), (3,), x_dtype, gamma_dtype)
    (ours, nodes), (theirs, _) = _bn_with_and_without(arrays, gy, None, averages)
    assert not kernels.used_fast_path(nodes[0]) and fast_bn_backward == []
    _assert_bit_for_bit(ours, theirs, BN_NAMES[:4] + ["running mean", "running var"])


def test_batch_normalization_falls_back_for_another_implementation(fast_bn_backward):
    """A subclass of Chainer's implementation (e.g. one that averages over processes) keeps its own code."""

    class Averaged(GeneralBatchNormalizationImpl):
        def get_mean_and_var(self, axis, gamma, x, xp, interm_dtype):
            mean, var = super().get_mean_and_var(axis, gamma, x, xp, interm_dtype)
            return mean + 1, var

    (x, gamma, beta), gy, _, _ = _bn_arrays((5, 3, 2), (3,), numpy.float32)
    results = []
    for context in (contextlib.nullcontext, kernels.disabled):
        node = BatchNormalization(impl_selector=lambda function, inputs: Averaged())
        with context():
            y, = node.apply((x, gamma, beta))
            grads = node.backward((0, 1, 2), (chainer.Variable(gy),))
        assert not kernels.used_fast_path(node)
        results.append([y.array] + [g.array for g in grads])
    assert fast_bn_backward == []
    _assert_bit_for_bit(*results, BN_NAMES[:4])
    assert not numpy.allclose(results[0][0], F.batch_normalization(x, gamma, beta).array)  # its own mean


def test_batch_normalization_backward_more_than_once_and_without_backprop(fast_bn_backward):
    (x, gamma, beta), gy, _, _ = _bn_arrays((4, 3, 5), (3,), numpy.float32)
    node = BatchNormalization()
    node.apply((x, gamma, beta))
    assert kernels.used_fast_path(node)
    first, second = ([g.array for g in node.backward((0, 1, 2), (chainer.Variable(gy),))] for _ in range(2))
    for a, b in zip(first, second):
        numpy.testing.assert_array_equal(a, b)
    assert fast_bn_backward == [1, 1]
    with chainer.no_backprop_mode():
        y = F.batch_normalization(x, gamma, beta)
    with kernels.disabled():
        numpy.testing.assert_array_equal(y.array, F.batch_normalization(x, gamma, beta).array)


def test_batch_normalization_gradients_numerically(fast_bn_backward):
    (x, gamma, beta), gy, ggs, _ = _bn_arrays((5, 3, 2, 2), (3,), numpy.float64)
    nodes = []

    def function(x, gamma, beta):
        y = F.batch_normalization(x, gamma, beta)
        nodes.append(y.creator)
        return y * y  # nonlinear in beta, as in Chainer's double backward test

    gradient_check.check_backward(function, (x, gamma, beta), gy, dtype=numpy.float64, atol=1e-6, rtol=1e-6)
    gradient_check.check_double_backward(function, (x, gamma, beta), gy, ggs, dtype=numpy.float64,
                                         atol=1e-6, rtol=1e-6)
    assert nodes and all(kernels.used_fast_path(node) for node in nodes) and fast_bn_backward


# ---------------------------------------------------------------- the switch


PATCHED = {  # the classes the kernels go beneath, and the methods they replace
    Convolution2DFunction: ("forward_cpu", "backward"),
    Deconvolution2DFunction: ("forward_cpu", "backward"),
    GeneralBatchNormalizationImpl: ("forward", "backward"),
    MaxPoolingND: ("forward_cpu", "backward"),
}


def _chainer_methods():
    return {(cls, name): cls.__dict__[name] for cls, names in PATCHED.items() for name in names}


def test_install_is_idempotent_and_uninstall_restores_chainer_exactly():
    patched = _chainer_methods()
    kernels.install()
    assert _chainer_methods() == patched  # the same functions: installing twice changes nothing
    kernels.uninstall()
    assert not kernels.installed()
    for (cls, name), method in _chainer_methods().items():
        assert method.__module__ == cls.__module__ and method.__qualname__ == f"{cls.__name__}.{name}"
    kernels.uninstall()  # uninstalling twice changes nothing either
    assert not kernels.installed()
    with kernels.disabled():  # nor does disabling what is not installed
        assert not kernels.installed()
    assert not kernels.installed()
    kernels.install()
    assert kernels.installed()
    assert all(method.__module__.startswith("course.kernels") for method in _chainer_methods().values())


def test_the_environment_variable(monkeypatch):
    kernels.uninstall()
    monkeypatch.setenv("COURSE_FAST_KERNELS", "0")
    kernels.install_unless_disabled()
    assert not kernels.installed()
    for value in ("1", "", "no"):
        monkeypatch.setenv("COURSE_FAST_KERNELS", value)
        kernels.install_unless_disabled()
        assert kernels.installed()
        kernels.uninstall()
    monkeypatch.delenv("COURSE_FAST_KERNELS")
    kernels.install_unless_disabled()
    assert kernels.installed()


CHECK_UNTOUCHED = """
import course
import chainer.functions as F
import numpy
from chainer.functions.connection.convolution_2d import Convolution2DFunction
from chainer.functions.connection.deconvolution_2d import Deconvolution2DFunction
from chainer.functions.normalization.batch_normalization import GeneralBatchNormalizationImpl
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND
from course import kernels

assert not kernels.installed()
x = numpy.ones((2, 1, 4, 4))
h = F.max_pooling_2d(F.convolution_2d(x, numpy.ones((1, 1, 3, 3)), pad=1), 2)
h = F.deconvolution_2d(h, numpy.ones((1, 1, 4, 4)), stride=2, pad=1)
h = F.batch_normalization(h, numpy.ones(1), numpy.zeros(1))
nodes = [h.creator]
while nodes[-1].inputs[0].creator is not None:
    nodes.append(nodes[-1].inputs[0].creator)
assert [type(node).__name__ for node in nodes] == ["BatchNormalization", "Deconvolution2DFunction", "MaxPoolingND",
                                                   "Convolution2DFunction"]
assert not any(kernels.used_fast_path(node) for node in nodes)
patched = {Convolution2DFunction: ("forward_cpu", "backward"), Deconvolution2DFunction: ("forward_cpu", "backward"),
           GeneralBatchNormalizationImpl: ("forward", "backward"), MaxPoolingND: ("forward_cpu", "backward")}
for cls, names in patched.items():
    for name in names:
        method = cls.__dict__[name]
        assert method.__module__ == cls.__module__ and method.__qualname__ == cls.__name__ + "." + name
before = {cls: dict(cls.__dict__) for cls in patched}
kernels.install()
assert all(cls.__dict__[name] is not before[cls][name] for cls, names in patched.items() for name in names)
kernels.uninstall()
after = {cls: dict(cls.__dict__) for cls in patched}
assert all(before[cls].keys() == after[cls].keys() for cls in patched)
assert all(after[cls][name] is value for cls in patched for name, value in before[cls].items())
print("untouched")
"""


def test_course_fast_kernels_0_leaves_chainer_untouched():
    env = dict(os.environ, COURSE_FAST_KERNELS="0")
    result = subprocess.run([sys.executable, "-c", CHECK_UNTOUCHED], capture_output=True, text=True,
                            cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "untouched"


# ---------------------------------------------------------------- the lesson's CNN


def test_a_mnist_cnn_training_step_gives_the_same_weights_with_and_without_the_kernels():
    rng = numpy.random.RandomState(9)
    x = rng.uniform(0, 1, (8, 1, 28, 28)).astype(numpy.float32)
    t = rng.randint(0, 10, 8).astype(numpy.int32)
    models = L.Classifier(MnistCNN()), L.Classifier(MnistCNN())
    models[1].copyparams(models[0])
    results = []
    for model, context in zip(models, (contextlib.nullcontext, kernels.disabled)):
        optimizer = chainer.optimizers.MomentumSGD(lr=0.1)  # Adam's first step would be ~sign(gradient)
        optimizer.setup(model)
        numpy.random.seed(10)  # the same dropout mask
        with context():
            loss = model(x, t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
        fast = {(type(node).__name__, kernels.used_fast_path(node)) for node in _graph(loss)
                if isinstance(node, (Convolution2DFunction, MaxPoolingND))}
        on = context is contextlib.nullcontext
        assert fast == {("Convolution2DFunction", on), ("MaxPoolingND", on)}  # all four layers
        results.append((loss.array, {name: (p.grad, p.array) for name, p in model.namedparams()}))
    numpy.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for name, (grad, weights) in results[1][1].items():
        numpy.testing.assert_allclose(results[0][1][name][0], grad, rtol=1e-4, atol=1e-6, err_msg=name)
        numpy.testing.assert_allclose(results[0][1][name][1], weights, rtol=1e-5, atol=1e-7, err_msg=name)


def _graph(variable):
    """The function nodes that made ``variable``."""
    seen, todo = {}, [variable.creator_node]
    while todo:
        node = todo.pop()
        if node is not None and id(node) not in seen:
            seen[id(node)] = node
            todo.extend(x.creator_node for x in node.inputs)
    return seen.values()


class _Generator(chainer.Chain):
    """A small DCGAN generator in the shape of lesson 6's: Linear, BN, ReLU, two stride-2 deconvolutions, tanh."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc = L.Linear(8, 16 * 7 * 7)
            self.bn0 = L.BatchNormalization(16)
            self.up1 = L.Deconvolution2D(16, 8, ksize=4, stride=2, pad=1)
            self.bn1 = L.BatchNormalization(8)
            self.up2 = L.Deconvolution2D(8, 1, ksize=4, stride=2, pad=1)

    def forward(self, z):
        h = F.relu(self.bn0(F.reshape(self.fc(z), (-1, 16, 7, 7))))
        return F.tanh(self.up2(F.relu(self.bn1(self.up1(h)))))


class _Discriminator(chainer.Chain):
    """Its discriminator: two stride-2 convolutions, BN on the second, LeakyReLU, one logit."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.down1 = L.Convolution2D(1, 8, ksize=4, stride=2, pad=1)
            self.down2 = L.Convolution2D(8, 16, ksize=4, stride=2, pad=1)
            self.bn2 = L.BatchNormalization(16)
            self.fc = L.Linear(16 * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.down1(x), 0.2)
        return self.fc(F.leaky_relu(self.bn2(self.down2(h)), 0.2))


def test_a_dcgan_training_step_gives_the_same_weights_with_and_without_the_kernels():
    rng = numpy.random.RandomState(15)
    real = rng.uniform(-1, 1, (8, 1, 28, 28)).astype(numpy.float32)
    z = rng.uniform(-1, 1, (8, 8)).astype(numpy.float32)
    numpy.random.seed(16)
    networks = [(_Generator(), _Discriminator()), (_Generator(), _Discriminator())]
    for ours, theirs in zip(*networks):
        theirs.copyparams(ours)
    results = []
    for (generator, discriminator), context in zip(networks, (contextlib.nullcontext, kernels.disabled)):
        optimizers = [chainer.optimizers.MomentumSGD(lr=0.1) for _ in range(2)]
        optimizers[0].setup(generator)
        optimizers[1].setup(discriminator)
        with context():  # one step of course.training.GANUpdater: D on real and fake, then G through D
            fake = generator(z)
            dis_loss = F.mean(F.softplus(-discriminator(real))) + F.mean(F.softplus(discriminator(fake.array)))
            discriminator.cleargrads()
            dis_loss.backward()
            optimizers[1].update()
            gen_loss = F.mean(F.softplus(-discriminator(fake)))
            generator.cleargrads()
            discriminator.cleargrads()
            gen_loss.backward()
            optimizers[0].update()
        kinds = (Convolution2DFunction, Deconvolution2DFunction, BatchNormalization)
        fast = {(type(node).__name__, kernels.used_fast_path(node)) for node in _graph(gen_loss)
                if isinstance(node, kinds)}
        on = context is contextlib.nullcontext
        assert fast == {("Convolution2DFunction", on), ("Deconvolution2DFunction", on), ("BatchNormalization", on)}
        params = {f"{side}{name}": (p.grad, p.array) for side, network in zip("GD", (generator, discriminator))
                  for name, p in network.namedparams()}
        results.append(([dis_loss.array, gen_loss.array], params))
    numpy.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for name, (grad, weights) in results[1][1].items():
        numpy.testing.assert_allclose(results[0][1][name][0], grad, rtol=1e-4, atol=1e-6, err_msg=name)
        numpy.testing.assert_allclose(results[0][1][name][1], weights, rtol=1e-5, atol=1e-7, err_msg=name)
