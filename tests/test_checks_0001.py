"""Lessons 0 and 1's checkers: True for right answers, False with a hint for wrong ones and for answers that raise."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy
import pytest

import course
from course import device as device_module
from course import profiles
from course.checks.lesson00 import check_mnist_batch_size, check_on_device
from course.checks.lesson01 import check_linear_two_layers, check_or_targets, check_xor_net
from course.data.logic import truth_table
from course.models.logic import OneLayerNet, TwoLayerNet, rows_right
from course.training import train_row_by_row


def _passed(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✓"), printed
    return printed


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


@pytest.fixture
def on_numpy(monkeypatch):
    """Pin the course device to NumPy, so the answers below are on a known device."""
    device_module._resolve.cache_clear()
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    yield
    device_module._resolve.cache_clear()


# --- lesson 00: check_on_device -------------------------------------------------------------------

def test_on_device_accepts_an_array_sent_to_the_course_device(on_numpy, capsys):
    assert check_on_device(course.to_device(numpy.arange(3, dtype=numpy.float32))).passed is True
    _passed(capsys)


@pytest.mark.parametrize("answer, hint", [
    (None, "float32 NumPy array"),
    ([1.0, 2.0], "list"),
    (chainer.Variable(numpy.zeros(2, dtype=numpy.float32)), ".array"),
    ("1, 2", "not an array"),
    (numpy.zeros(0, dtype=numpy.float32), "empty"),
])
def test_on_device_rejects_wrong_answers_with_a_hint(on_numpy, capsys, answer, hint):
    assert check_on_device(answer).passed is False
    assert hint in _hint(capsys)


def test_on_device_says_where_the_array_is_when_the_device_differs(on_numpy, monkeypatch, capsys):
    class Elsewhere:
        def __eq__(self, other):
            return False

        def __str__(self):
            return "@cupy:0"

    monkeypatch.setattr("course.checks.lesson00.get_device", lambda: Elsewhere())
    assert check_on_device(numpy.ones(2, dtype=numpy.float32)).passed is False
    assert "lives on @numpy, but the course device is @cupy:0" in _hint(capsys)


# --- lesson 00: check_mnist_batch_size ------------------------------------------------------------

@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_batch_size_accepts_the_active_profiles_value(monkeypatch, capsys, profile):
    monkeypatch.setenv("COURSE_PROFILE", profile)
    assert check_mnist_batch_size(course.sizes("mnist").batch_size).passed is True
    assert check_mnist_batch_size(numpy.int64(course.sizes("mnist").batch_size)).passed is True
    _passed(capsys)


def test_batch_size_names_the_other_profile(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert check_mnist_batch_size(course.sizes("mnist", "full").batch_size).passed is False
    assert "'full' profile" in _hint(capsys)


@pytest.mark.parametrize("answer, hint", [
    (None, 'course.sizes(...)'),
    (course.sizes("mnist", "quick"), '.batch_size'),
    ("50", "whole number"),
    (True, "whole number"),
    (7, "not lesson 2's batch size in any profile"),
])
def test_batch_size_rejects_wrong_answers_with_a_hint(monkeypatch, capsys, answer, hint):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert check_mnist_batch_size(answer).passed is False
    assert hint in _hint(capsys)


# --- lesson 01: check_or_targets ------------------------------------------------------------------

@pytest.mark.parametrize("answer", [[0, 1, 1, 1], (0, 1, 1, 1), numpy.array([0, 1, 1, 1], dtype=numpy.int32),
                                    numpy.array([[0], [1], [1], [1]], dtype=numpy.float32)])
def test_or_targets_accepts_the_or_table(capsys, answer):
    assert check_or_targets(answer).passed is True
    _passed(capsys)


@pytest.mark.parametrize("answer, hint", [
    (None, "in that order"),
    ([0, 1, 1], "4 rows, you gave 3"),
    ([0, 1, 2, 1], "0 or 1"),
    ([0, 0, 0, 1], "truth table of AND"),
    ([0, 1, 1, 0], "truth table of XOR"),
    ([1, 1, 1, 1], "wrong on row(s) (0, 0)"),
    (["a", "b", "c", "d"], "0 or 1"),
])
def test_or_targets_rejects_wrong_answers_with_a_hint(capsys, answer, hint):
    assert check_or_targets(answer).passed is False
    assert hint in _hint(capsys)


def test_or_targets_reports_an_answer_that_raises(capsys):
    class Broken:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("boom")

    assert check_or_targets(Broken()).passed is False
    assert "raised RuntimeError: boom" in _hint(capsys)


# --- lesson 01: check_linear_two_layers ----------------------------------------------------------

class LinearNet(chainer.Chain):
    """The exercise's answer: TwoLayerNet without the sigmoid."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, 2)
            self.fc2 = L.Linear(2, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def _set(net, W1, b1, W2, b2):
    net.fc1.W.array[...], net.fc1.b.array[...] = W1, b1
    net.fc2.W.array[...], net.fc2.b.array[...] = W2, b2
    return net


def _and_net():
    """Layers set by hand so that W2 W1 = [[0, 0], [1, 1]] and W2 b1 + b2 = [1.5, 0]: AND, as in the lesson.

    W1 is not symmetric, so the transposed and the swapped products are other matrices.
    """
    return _set(LinearNet(), [[1, 1], [0, 1]], [1, -1], [[0, 0], [1, 0]], [1.5, -1])


AND_W, AND_B = numpy.array([[0.0, 0.0], [1.0, 1.0]]), numpy.array([1.5, 0.0])


def _xor_net():
    """What training a linear net on XOR ends in: no weight on the input, the same answer on every row."""
    return _set(LinearNet(), [[0.3, -0.2], [0.1, 0.4]], [0, 0], [[0, 0], [0, 0]], [0, 0.05])


class ReluNet(LinearNet):
    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def test_linear_two_layers_accepts_the_hand_set_nets_and_the_product(capsys):
    assert check_linear_two_layers(_xor_net(), _and_net(), AND_W, AND_B).passed is True
    assert check_linear_two_layers(_xor_net(), _and_net(), AND_W.tolist(), AND_B.tolist()).passed is True
    _passed(capsys)


def test_linear_two_layers_accepts_nets_trained_as_the_exercise_says(capsys):
    nets = {}
    for gate in ("xor", "and"):
        course.set_seed(0)
        nets[gate] = LinearNet()
        x, t = truth_table(gate, repeats=100)  # 400 rows: enough for both to end where they can
        train_row_by_row(nets[gate], x, t, F.softmax_cross_entropy,
                         chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.9))
    net = nets["and"]
    W = net.fc2.W.array @ net.fc1.W.array
    b = net.fc2.W.array @ net.fc1.b.array + net.fc2.b.array
    assert check_linear_two_layers(nets["xor"], net, W, b).passed is True


@pytest.mark.parametrize("nets, hint", [
    (lambda: (None, _and_net()), "build a LinearTwoLayerNet"),
    (lambda: (_xor_net(), "model"), "not a str"),
    (lambda: (OneLayerNet(), _and_net()), "the XOR net has 1 linear layer"),
    (lambda: (_xor_net(), _set(TwoLayerNet(), numpy.eye(2), [0, 0], AND_W, AND_B)), "still bends: it applies Sigmoid"),
    (lambda: (_set(ReluNet(), numpy.eye(2), [0, 0], [[0, 0], [0, 0]], [0, 0.05]), _and_net()), "ReLU"),
    (lambda: (_and_net(), _and_net()), "not been trained on XOR"),
    (lambda: (LinearNet(), _and_net()), "not been trained on XOR"),
    (lambda: (_xor_net(), _xor_net()), "the AND net gets 1/4 rows of AND right"),
])
def test_linear_two_layers_rejects_wrong_nets_with_a_hint(capsys, nets, hint):
    course.set_seed(3)  # an untrained net's answers differ from row to row
    xor_net, and_net = nets()
    assert check_linear_two_layers(xor_net, and_net, AND_W, AND_B).passed is False
    assert hint in _hint(capsys)


W1, B1, W2, B2 = (numpy.array(v, dtype=numpy.float64) for v in ([[1, 1], [0, 1]], [1, -1], [[0, 0], [1, 0]], [1.5, -1]))


@pytest.mark.parametrize("W, b, hint", [
    (None, None, "now give W"),
    (AND_W, None, "now give W"),
    (AND_W.ravel(), AND_B, "W has shape (4,)"),
    (AND_W, AND_B[:1], "b has shape (1,)"),
    (AND_W.T, AND_B, "transposed"),
    (W1 @ W2, AND_B, "wrong order"),
    (AND_W, B2, "misses part of the first layer's bias"),
    (AND_W, B1 + B2, "misses part of the first layer's bias"),
    (AND_W, AND_B + 1, "b is not those of the AND net"),
    (AND_W + 1, AND_B + 1, "W and b are not those"),
])
def test_linear_two_layers_rejects_a_wrong_single_layer_with_a_hint(capsys, W, b, hint):
    assert check_linear_two_layers(_xor_net(), _and_net(), W, b).passed is False
    assert hint in _hint(capsys)


# --- lesson 01: check_xor_net ---------------------------------------------------------------------

class TanhXor(chainer.Chain):
    """A tanh net with hand-set weights: hidden = (x1 OR x2, x1 AND x2), output = first and not second."""

    def __init__(self, n_out=2):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, 2)
            self.fc2 = L.Linear(2, n_out)
        self.fc1.W.array[...] = [[10, 10], [10, 10]]
        self.fc1.b.array[...] = [-5, -15]
        if n_out == 2:
            self.fc2.W.array[...] = [[-5, 5], [5, -5]]  # score 1 - score 0 = 10 h1 - 10 h2 - 5
            self.fc2.b.array[...] = [2.5, -2.5]
        else:
            self.fc2.W.array[...] = [[0.5, -0.5]]
            self.fc2.b.array[...] = [0]

    def forward(self, x):
        return self.fc2(F.tanh(self.fc1(x)))


@pytest.mark.parametrize("n_out", [2, 1])
def test_xor_net_accepts_a_net_that_computes_xor(capsys, n_out):
    assert check_xor_net(TanhXor(n_out)).passed is True
    _passed(capsys)


class TanhNet(chainer.Chain):
    """The exercise's answer: TwoLayerNet with tanh, from Chainer's random start."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc1 = L.Linear(2, 2)
            self.fc2 = L.Linear(2, 2)

    def forward(self, x):
        return self.fc2(F.tanh(self.fc1(x)))


def test_xor_net_accepts_a_trained_tanh_net():
    from course.data.logic import truth_table
    from course.training import train_row_by_row

    course.set_seed(1)  # seed 0 gets stuck with tanh, as the lesson warns can happen
    net = TanhNet()
    x, t = truth_table("xor", repeats=250)
    train_row_by_row(net, x, t, F.softmax_cross_entropy, chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.9))
    assert check_xor_net(net).passed is True


class WrongShape(chainer.Chain):
    def forward(self, x):
        return F.concat([x, x], axis=1)  # 4 outputs


class Exploded(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc = L.Linear(2, 2, initialW=numpy.full((2, 2), numpy.nan, dtype=numpy.float32))

    def forward(self, x):
        return self.fc(x)


class Raises(chainer.Chain):
    def forward(self, x):
        raise KeyError("no forward yet")


@pytest.mark.parametrize("answer, hint", [
    (None, "build your network"),
    ("model", "not a str"),
    (OneLayerNet(), "cannot compute XOR"),
    (WrongShape(), "shape (4, 4)"),
    (Exploded(), "NaN"),
])
def test_xor_net_rejects_wrong_answers_with_a_hint(capsys, answer, hint):
    assert check_xor_net(answer).passed is False
    assert hint in _hint(capsys)


def test_xor_net_counts_the_rows_an_untrained_net_gets_right(capsys):
    net = TanhNet()
    net.fc2.W.array[...] = 0
    net.fc2.b.array[...] = [1, 0]  # always class 0: right on (0, 0) and (1, 1)
    assert check_xor_net(net).passed is False
    assert "2/4 rows right (wrong on (0, 1), (1, 0))" in _hint(capsys)


def test_xor_net_rejects_the_lessons_sigmoid_net_even_when_it_computes_xor(capsys):
    net = _set(TwoLayerNet(), [[20, 20], [20, 20]], [-10, -30], [[-20, 20], [20, -20]], [10, -10])
    assert rows_right(net, "xor") == 4
    assert check_xor_net(net).passed is False
    assert "F.sigmoid" in _hint(capsys)


def test_xor_net_rejects_a_relu_net_that_computes_xor(capsys):
    net = _set(ReluNet(), [[1, 1], [1, 1]], [0, -1], [[0, 0], [1, -2]], [0.5, 0])
    assert rows_right(net, "xor") == 4
    assert check_xor_net(net).passed is False
    hint = _hint(capsys)
    assert "asks for F.tanh" in hint and "ReLU" in hint


def test_xor_net_reports_a_model_that_raises(capsys):
    assert check_xor_net(Raises()).passed is False
    assert "raised KeyError" in _hint(capsys)
