"""course.kernels: Chainer's convolution and max pooling compute what Chainer's own code computes.

Each test runs the same computation with the kernels installed and inside ``kernels.disabled()``
(Chainer's own code), forward, backward and double backward, and checks which calls took the fast
path. The shapes include those of Chainer's own tests (tests/chainer_tests/functions_tests/
connection_tests/test_convolution_2d.py and pooling_tests/test_max_pooling_2d.py).
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
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND

from course import kernels
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
    assert ours[0].flags.c_contiguous
    epsilon = numpy.finfo(dtype).eps
    names = ["y", "gx", "gW", "gb"][:1 + len(arrays)] + ["ggx", "ggW", "ggb"][:len(arrays)] + ["ggy"]
    for name, a, b in zip(names, ours, theirs, strict=True):
        if b is None:  # the bias enters linearly: no second derivative
            assert a is None, name
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, name
        # The same products, summed in a possibly different order: equal up to rounding, which is
        # relative to the largest term (a gradient for W sums N*H*W products).
        scale = float(numpy.abs(b).max())
        numpy.testing.assert_allclose(a, b, rtol=100 * epsilon, atol=100 * epsilon * scale, err_msg=name)


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


# ---------------------------------------------------------------- the switch


def _chainer_methods():
    return {(cls, name): cls.__dict__[name] for cls in (Convolution2DFunction, MaxPoolingND)
            for name in ("forward_cpu", "backward")}


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
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND
from course import kernels

assert not kernels.installed()
y = F.max_pooling_2d(F.convolution_2d(numpy.ones((1, 1, 4, 4)), numpy.ones((1, 1, 3, 3)), pad=1), 2)
assert not kernels.used_fast_path(y.creator) and not kernels.used_fast_path(y.creator.inputs[0].creator)
classes = (Convolution2DFunction, MaxPoolingND)
for cls in classes:
    for name in ("forward_cpu", "backward"):
        method = cls.__dict__[name]
        assert method.__module__ == cls.__module__ and method.__qualname__ == cls.__name__ + "." + name
before = {cls: dict(cls.__dict__) for cls in classes}
kernels.install()
assert any(cls.__dict__[name] is not before[cls][name] for cls in classes for name in before[cls])
kernels.uninstall()
after = {cls: dict(cls.__dict__) for cls in classes}
assert all(before[cls].keys() == after[cls].keys() for cls in classes)
assert all(after[cls][name] is value for cls in classes for name, value in before[cls].items())
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
